"""Covers of the shipped model's tracks for the ten genres and the seed's four hybrids, as one
picture for the README: ``python demos/gallery.py --out docs/covers.png``.

Each cover is drawn from a generated track (20 s, seed 0) and its style, exactly as
``mmgan generate`` would draw it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

HYBRIDS = [("baroque", "idm"), ("jazz", "metal"), ("folk", "ambient"), ("hiphop", "symphonic")]


def main(argv: list[str] | None = None) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    from mmgan.art.typography import font_path
    from mmgan.bundle import write_bundle
    from mmgan.data.composers import GENRES
    from mmgan.generate.pipeline import Pipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/covers.png"))
    parser.add_argument("--model", default=None)
    parser.add_argument("--thumb", type=int, default=220)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    pipe = Pipeline.from_pretrained(args.model)
    jobs = [(g, lambda g=g, **k: pipe(f"a {g} track", **k)) for g in GENRES]
    jobs += [(f"{a} × {b}", lambda a=a, b=b, **k: pipe.blend(a, b, 0.5, **k)) for a, b in HYBRIDS]
    cols, t = 7, args.thumb
    rows = -(-len(jobs) // cols)
    sheet = Image.new("RGB", (cols * t, rows * (t + 24)), (20, 20, 20))
    font = ImageFont.truetype(str(font_path(bold=False)), 14)
    draw = ImageDraw.Draw(sheet)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, make) in enumerate(jobs):
            r = make(seconds=args.seconds, seed=0, describe=False)
            b = write_bundle(r, Path(tmp) / str(i), space=pipe.space, cover_size=512)
            cover = Image.open(b.files["cover.png"]).convert("RGB").resize((t, t), Image.LANCZOS)
            x, y = (i % cols) * t, (i // cols) * (t + 24)
            sheet.paste(cover, (x, y))
            draw.text((x + t / 2, y + t + 4), label, font=font, fill=(230, 230, 230), anchor="mt")
            print(f"{label}: {b.title}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    return args.out


if __name__ == "__main__":
    main()

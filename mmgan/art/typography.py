"""A short title from the style's genres, set legibly on the cover.

Titles come from fixed word lists — an adjective from the leading genre family and a noun
from the second (or the same) family, picked by the seed — so a hybrid of techno and
baroque may be called "Neon Counterpoint", and the same inputs always give the same title.
The font is DejaVu Sans Bold, which ships with matplotlib (Latin, Greek and Cyrillic). The
title sits on a translucent band whose brightness is the opposite of the text's, with an
outline, so it reads on any background.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["ADJECTIVES", "NOUNS", "font_path", "set_title", "title_for"]

ADJECTIVES: dict[str, list[str]] = {
    "metal": ["Iron", "Molten", "Shattered", "Black", "Thunderous", "Serrated"],
    "ambient": ["Drifting", "Distant", "Pale", "Weightless", "Misty", "Slow"],
    "techno": ["Neon", "Electric", "Pulse", "Chrome", "Nocturnal", "Synthetic"],
    "jazz": ["Velvet", "Smoky", "Blue", "Amber", "Midnight", "Swinging"],
    "baroque": ["Gilded", "Ornate", "Courtly", "Golden", "Mirrored", "Candlelit"],
    "folk": ["Wooden", "Homespun", "Meadow", "Wandering", "Earthen", "Hollow"],
    "hiphop": ["Concrete", "Bold", "Block", "Heavy", "Golden", "Loud"],
    "symphonic": ["Grand", "Radiant", "Imperial", "Soaring", "Vast", "Triumphant"],
    "idm": ["Glitched", "Fractured", "Binary", "Granular", "Recursive", "Quantised"],
    "reggae": ["Sunlit", "Island", "Easy", "Rising", "Rootsy", "Warm"],
}
NOUNS: dict[str, list[str]] = {
    "metal": ["Forge", "Storm", "Anvil", "Abyss", "Blade", "Riff"],
    "ambient": ["Horizon", "Haze", "Tide", "Fog", "Stillness", "Drift"],
    "techno": ["Grid", "Circuit", "Warehouse", "Signal", "Machine", "Loop"],
    "jazz": ["Standard", "Lounge", "Changes", "Brushes", "Quarter", "Nightcap"],
    "baroque": ["Counterpoint", "Fugue", "Cadenza", "Chamber", "Minuet", "Canon"],
    "folk": ["Hearth", "Ballad", "Valley", "Reel", "Harvest", "Road"],
    "hiphop": ["Cipher", "Block", "Breakbeat", "Crate", "Verse", "Corner"],
    "symphonic": ["Overture", "Anthem", "Cathedral", "Procession", "Dawn", "Empire"],
    "idm": ["Artefact", "Algorithm", "Lattice", "Error", "Fragment", "Module"],
    "reggae": ["Riddim", "Sunrise", "Shore", "Skank", "Harbour", "Echo"],
}


def font_path(bold: bool = True) -> Path:
    """DejaVu Sans (Bold) from matplotlib's bundled fonts."""
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    if not path.is_file():
        raise FileNotFoundError(f"matplotlib's {name} is missing at {path}; reinstall matplotlib")
    return path


def title_for(genre_weights: dict[str, float], seed: int = 0) -> str:
    """``"<Adjective> <Noun>"``: adjective from the leading family, noun from the second."""
    items = sorted(genre_weights.items(), key=lambda kv: -kv[1])
    if not items or any(g not in ADJECTIVES for g, _ in items):
        raise ValueError(f"genre_weights must name genres of {sorted(ADJECTIVES)}, got {items}")
    first = items[0][0]
    second = items[1][0] if len(items) > 1 else first
    rng = np.random.default_rng([int(seed), zlib.crc32(f"{first}|{second}".encode())])
    adjective = ADJECTIVES[first][rng.integers(len(ADJECTIVES[first]))]
    noun = NOUNS[second][rng.integers(len(NOUNS[second]))]
    if noun.lower() == adjective.lower():
        noun = NOUNS[second][(NOUNS[second].index(noun) + 1) % len(NOUNS[second])]
    return f"{adjective} {noun}"


def _luminance(rgb) -> float:
    r, g, b = (c / 255 for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def set_title(image: Image.Image, title: str, subtitle: str | None = None) -> Image.Image:
    """A copy of ``image`` with ``title`` (and a smaller ``subtitle``) on a band near the top.

    The text colour is black or white by the band area's mean luminance; the band is a
    translucent panel of the opposite brightness; the font shrinks until the line fits 86 %
    of the width (long titles are cut with an ellipsis at 60 characters).
    """
    title = " ".join(str(title).split())[:60] or "Untitled"
    if len(str(title)) == 60:
        title = title[:57] + "..."
    img = image.convert("RGB").copy()
    w, h = img.size
    top, band_h = int(h * 0.06), int(h * 0.16)
    region = np.asarray(img.crop((0, top, w, top + band_h)), dtype=np.float32)
    dark_bg = _luminance(region.reshape(-1, 3).mean(axis=0)) < 0.5
    text_rgb = (250, 250, 250) if dark_bg else (12, 12, 12)
    band_rgb = (0, 0, 0) if dark_bg else (255, 255, 255)
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    d.rectangle([0, top, w, top + band_h], fill=band_rgb + (110,))
    size = int(band_h * 0.55)
    path = str(font_path())
    font = ImageFont.truetype(path, size)
    while size > 10 and d.textlength(title, font=font) > 0.86 * w:
        size = int(size * 0.9)
        font = ImageFont.truetype(path, size)
    stroke = max(1, size // 18)
    y = top + (band_h - size) // 2 - (size // 6 if subtitle else 0)
    d.text((w / 2, y), title, font=font, fill=text_rgb + (255,), anchor="mt",
           stroke_width=stroke, stroke_fill=band_rgb + (255,))  # fmt: skip
    if subtitle:
        small = ImageFont.truetype(str(font_path(bold=False)), max(10, size // 3))
        sub = " ".join(str(subtitle).split())[:80]
        d.text((w / 2, y + size * 1.1), sub, font=small, fill=text_rgb + (230,), anchor="mt")
    return Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")

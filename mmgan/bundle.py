"""The track bundle: what a musician takes away.

``write_bundle(result, out)`` writes into ``out/``::

    track.wav        the track (loudness-normalised)
    cover.png        the cover (procedural by default; diffusers when asked; none)
    metadata.json    prompt, normal form, seed, model id and version, style vector, nearest
                     descriptors, title, estimated bpm and key, sections, durations, the
                     cover's inputs, and the sha256 of every other file
    arrangement.mid  symbolic engine only: every track
    stems/*.mid      symbolic engine only: one file per track
    <title>.zip      with zip=True: all of the above

Every file is written atomically (temporary file + rename), so a full disk or a crash leaves
what was there before. Names derived from user text are sanitised (:func:`safe_name`) and
every path is checked to stay inside ``out``.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmgan.utils import atomic_path, atomic_write_text, ensure_writable_dir, jsonable

__all__ = ["COVERS", "Bundle", "safe_name", "sha256_file", "write_bundle"]

COVERS = ("procedural", "diffusion", "none")


@dataclass
class Bundle:
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)  # name in the bundle -> path
    title: str = ""
    zip_path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def safe_name(text: str, fallback: str = "mmgan-track", limit: int = 60) -> str:
    """A file-name stem from user text: letters and digits of any script, ``-`` and ``_``;
    no dots, slashes or control characters; at most ``limit`` characters."""
    text = unicodedata.normalize("NFKC", str(text))
    text = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-_")
    text = re.sub(r"-{2,}", "-", text)[:limit].strip("-_")
    return text or fallback


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _inside(folder: Path, path: Path) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise ValueError(f"refusing to write {path}: outside the output folder {folder}")
    return path


def write_bundle(
    result,
    out: str | Path,
    *,
    space=None,
    cover: str = "procedural",
    zip: bool = False,  # noqa: A002 - the CLI flag's name
    cover_size: int = 1024,
    diffusion_model: str | Path | None = None,
) -> Bundle:
    """Write ``result`` (a :class:`~mmgan.generate.pipeline.GenerationResult`) as a bundle.

    Args:
        space: the style space (for the cover's genre mix and descriptors); needed unless
            ``cover="none"``.
        cover: ``"procedural"`` (offline default), ``"diffusion"`` (a local diffusers
            pipeline, :mod:`mmgan.art.diffusion`) or ``"none"``.
        zip: also write ``<title>.zip`` holding every file.

    Raises:
        ValueError: an unknown cover engine, or a path outside ``out``.
        PermissionError: ``out`` cannot be written.
        FileNotFoundError: ``cover="diffusion"`` without local weights (says how to get them).
    """
    import time

    from mmgan.art.procedural import audio_features, cover_inputs, render_cover
    from mmgan.art.typography import set_title, title_for

    if cover not in COVERS:
        raise ValueError(f"cover must be one of {COVERS}, got {cover!r}")
    if cover != "none" and space is None:
        raise ValueError("write_bundle needs the style space to draw a cover (space=...)")
    if cover == "diffusion":  # fail before writing anything when there are no weights
        from mmgan.art.diffusion import resolve_model

        resolve_model(diffusion_model)
    t0 = time.perf_counter()
    folder = ensure_writable_dir(out)
    meta = dict(result.metadata)
    seed = int(meta.get("seed", 0))
    feats = audio_features(result.audio, result.sample_rate)
    meta["estimated"] = {"bpm": round(float(feats["tempo"]), 1), "key": feats["key"]}
    meta["durations"] = {"seconds": round(len(result.audio) / result.sample_rate, 3)}
    t1 = time.perf_counter()
    bundle = Bundle(folder=folder)
    inputs = None
    if space is not None:
        inputs = cover_inputs(result.style, space, seed=seed)
        for key, value in feats.items():
            setattr(inputs, key, value)
        bundle.title = title_for(inputs.genre_weights, seed)
    else:
        bundle.title = safe_name(meta.get("prompt") or "mmgan track", limit=40)
    meta["title"] = bundle.title
    # the track (and MIDI) through the result's own writer, then the cover
    result.save(folder)
    bundle.files["track.wav"] = folder / "track.wav"
    if result.score is not None:
        bundle.files["arrangement.mid"] = folder / "arrangement.mid"
        for part in result.score.parts:
            bundle.files[f"stems/{part.role}.mid"] = folder / "stems" / f"{part.role}.mid"
    t2 = time.perf_counter()
    if cover != "none":
        subtitle = meta.get("expression") or meta.get("prompt") or ""
        if cover == "procedural":
            image = render_cover(inputs, size=cover_size)
        else:
            from mmgan.art.diffusion import diffusion_cover

            image = diffusion_cover(
                diffusion_model,
                meta.get("prompt") or "",
                inputs,
                seed=seed,
                init=render_cover(inputs, 512),
            )
        image = set_title(image, bundle.title, subtitle)
        path = _inside(folder, folder / "cover.png")
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG")
        bundle.files["cover.png"] = path
        meta["cover"] = {"engine": cover, "size": list(image.size), "inputs": inputs.to_dict()}
    t3 = time.perf_counter()
    meta["files"] = {name: sha256_file(p) for name, p in sorted(bundle.files.items())}
    text = json.dumps(jsonable(meta), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(_inside(folder, folder / "metadata.json"), text)
    bundle.files["metadata.json"] = folder / "metadata.json"
    bundle.metadata = meta
    if zip:
        bundle.zip_path = _inside(folder, folder / f"{safe_name(bundle.title)}.zip")
        with (
            atomic_path(bundle.zip_path) as tmp,
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf,
        ):
            for name, path in sorted(bundle.files.items()):
                zf.write(path, arcname=name)
    bundle.timings = {
        "analysis_s": t1 - t0,
        "audio_s": t2 - t1,
        "cover_s": t3 - t2,
        "metadata_zip_s": time.perf_counter() - t3,
    }
    return bundle

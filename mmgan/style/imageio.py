"""Robust image loading: any file or PIL image a user might hand us -> a bounded RGB image.

:func:`load_image` accepts a path, raw bytes, a ``PIL.Image`` or a numpy array and returns an
RGB ``PIL.Image`` whose longer side is at most ``max_side`` pixels, with EXIF orientation
applied. Every failure (missing file, not an image, truncated data, over Pillow's
decompression-bomb limit, an empty image) raises :class:`ImageError` with a message that says
what was wrong and what to do, never an exception from deep inside Pillow or numpy.

Mode handling: transparent images (RGBA, LA, PA, P with a transparency key) are composited over
mid grey (128, 128, 128) so transparency skews neither brightness nor darkness; 16/32-bit
integer and float images (I;16, I, F) are scaled to 8 bits by their value range; CMYK, YCbCr,
L and 1 are converted by Pillow.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageError", "load_image", "MAX_SIDE"]

MAX_SIDE = 1024
BACKGROUND = (128, 128, 128)


class ImageError(ValueError):
    """An image could not be read or used; the message says why and what to do."""


def load_image(source: Any, max_side: int = MAX_SIDE) -> Image.Image:
    """Read ``source`` as an RGB image whose longer side is at most ``max_side`` pixels.

    Args:
        source: a path (str or ``os.PathLike``), encoded ``bytes``, a ``PIL.Image.Image``, or a
            numpy array ``[H, W]``, ``[H, W, 3]`` or ``[H, W, 4]`` (uint8, or float in [0, 1]).
        max_side: larger images are downscaled (aspect ratio kept) to this size.

    Returns:
        A new RGB ``PIL.Image.Image`` (the caller's image is never modified).

    Raises:
        FileNotFoundError: the path does not exist.
        ImageError: anything else that makes the input unusable.
    """
    if isinstance(source, Image.Image):
        image = source
        _check_size(image, "the image")
        return _finish(image, "the image", max_side)
    if isinstance(source, np.ndarray):
        return _finish(_from_array(source), "the array", max_side)
    if isinstance(source, (bytes, bytearray)):
        return _open_and_finish(io.BytesIO(bytes(source)), "the image bytes", max_side)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"no image file at {str(path)!r}")
        if path.is_dir():
            raise ImageError(f"{str(path)!r} is a folder; give an image file (PNG, JPEG, ...)")
        return _open_and_finish(path, repr(str(path)), max_side)
    raise ImageError(
        f"cannot read an image from a {type(source).__name__}; give a file path, bytes, a "
        "PIL.Image or a numpy array"
    )


def _open_and_finish(fp: Any, name: str, max_side: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns between 1x and 2x its limit; we check the size ourselves below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fp) as opened:
                _check_size(opened, name)
                if opened.format == "JPEG" and max(opened.size) > 2 * max_side:
                    opened.draft("RGB", (max_side, max_side))  # decode at reduced scale
                opened.load()
                return _finish(opened, name, max_side)
    except UnidentifiedImageError as err:
        raise ImageError(
            f"{name} is not an image Pillow can read (is it a PNG, JPEG, WebP, GIF, BMP or "
            "TIFF file?)"
        ) from err
    except Image.DecompressionBombError as err:
        raise ImageError(_bomb_message(name, err)) from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        if isinstance(err, ImageError):
            raise
        raise ImageError(
            f"{name} could not be decoded ({err}); the file is probably truncated or "
            "corrupt: re-export or re-download it"
        ) from err


def _check_size(image: Image.Image, name: str) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageError(f"{name} is empty ({width}x{height} pixels)")
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise ImageError(_bomb_message(name, f"{width}x{height} = {width * height} pixels"))


def _bomb_message(name: str, detail: object) -> str:
    return (
        f"{name} is larger than Pillow's decompression-bomb limit of "
        f"{Image.MAX_IMAGE_PIXELS} pixels ({detail}); downscale it before use (it may also be "
        "a malicious file)"
    )


def _finish(image: Image.Image, name: str, max_side: int) -> Image.Image:
    """Orientation, mode -> RGB, downscale. Always returns a new image."""
    try:
        image = ImageOps.exif_transpose(image) or image
    except (OSError, ValueError, SyntaxError, KeyError, TypeError) as err:
        # Unreadable EXIF: keep the stored orientation rather than refuse the picture.
        warnings.warn(f"{name}: ignoring unreadable EXIF orientation ({err})", stacklevel=3)
    rgb = _to_rgb(image, name)
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb if rgb is not image else rgb.copy()


def _to_rgb(image: Image.Image, name: str) -> Image.Image:
    mode = image.mode
    try:
        if mode == "RGB":
            return image
        if mode in ("I", "F") or mode.startswith("I;"):
            return _from_array(np.asarray(image))
        if mode == "P" and "transparency" in image.info:
            image, mode = image.convert("RGBA"), "RGBA"
        if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
            return Image.alpha_composite(background, rgba).convert("RGB")
        return image.convert("RGB")
    except (ValueError, OSError) as err:
        raise ImageError(
            f"{name} has pixel mode {mode!r}, which cannot be converted to RGB"
        ) from err


def _from_array(array: np.ndarray) -> Image.Image:
    """``[H, W]`` / ``[H, W, 1|3|4]`` array of any numeric dtype -> RGB image (8-bit)."""
    arr = np.asarray(array)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ImageError(f"an image array must be [H, W], [H, W, 3] or [H, W, 4]; got {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ImageError(f"the image array is empty ({arr.shape})")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ImageError(f"an image array must be numeric, got dtype {arr.dtype}")
    values = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if arr.dtype != np.uint8:
        top = float(values.max()) if values.size else 0.0
        if arr.dtype == bool or (np.issubdtype(arr.dtype, np.floating) and top <= 1.0):
            values = values * 255.0
        elif top > 255.0:
            values = values * (255.0 / (65535.0 if top <= 65535.0 else top))
    pixels = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    if pixels.ndim == 2:
        return Image.fromarray(pixels).convert("RGB")
    image = Image.fromarray(pixels, "RGBA" if pixels.shape[-1] == 4 else "RGB")
    return _to_rgb(image, "the array")

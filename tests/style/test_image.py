"""The image path: robust loading, the colour/texture fallback, and open_clip zero-shot."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from mmgan.data.tags import MOODS
from mmgan.style.image import (
    MOOD_RULES,
    fallback_scores,
    image_descriptor_weights,
    image_statistics,
)
from mmgan.style.imageio import ImageError, load_image

VOCAB = [
    *MOODS,
    *(f"{e} energy" for e in ("low", "medium", "high")),
    *(f"{t} texture" for t in ("sparse", "medium", "dense")),
    "jazz",
    "techno",
]
DARKISH = {"dark", "melancholic", "calm", "mysterious", "relaxed", "low energy"}
BRIGHTISH = {"bright", "uplifting", "energetic", "joyful", "warm", "playful", "high energy"}


def dark_picture() -> Image.Image:
    """A murky, desaturated, smooth grey-blue scene."""
    rng = np.random.default_rng(0)
    base = np.array([38, 40, 46], dtype=np.float32)
    pixels = base + rng.normal(0, 3, size=(96, 128, 1))
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def bright_picture() -> Image.Image:
    """Saturated yellow / red / magenta stripes with white bars: bright, busy, contrasty."""
    pixels = np.zeros((96, 128, 3), dtype=np.uint8)
    pixels[:, :48] = (255, 220, 0)
    pixels[:, 48:88] = (240, 30, 40)
    pixels[:, 88:] = (255, 40, 200)
    pixels[::6] = (255, 255, 255)
    pixels[3::6, ::5] = (20, 10, 0)
    return Image.fromarray(pixels)


def png_bytes(image: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **kwargs)
    return buf.getvalue()


def jpeg_bytes(image: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, **kwargs)
    return buf.getvalue()


# --- fallback -------------------------------------------------------------------------------


def test_rules_cover_exactly_the_corpus_moods():
    assert set(MOOD_RULES) == set(MOODS)
    scores = fallback_scores(image_statistics(bright_picture()))
    assert set(scores) == set(VOCAB) - {"jazz", "techno"}
    assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_statistics_move_in_the_expected_directions():
    dark, bright = image_statistics(dark_picture()), image_statistics(bright_picture())
    assert dark.brightness < 0.25 < 0.6 < bright.brightness
    assert dark.saturation < 0.3 < 0.7 < bright.saturation
    assert dark.contrast < 0.2 < 0.5 < bright.contrast
    assert dark.edge_density < 0.1 < 0.5 < bright.edge_density
    assert dark.warmth < 0.5 < bright.warmth
    assert dark.hues == () and {h for h, _ in bright.hues} <= {"yellow", "red", "magenta"}
    assert len(bright.hues) == 3


def test_dark_and_bright_pictures_map_to_opposite_mixes():
    dark, dark_info = image_descriptor_weights(dark_picture(), VOCAB)
    bright, bright_info = image_descriptor_weights(bright_picture(), VOCAB)
    for weights, info in ((dark, dark_info), (bright, bright_info)):
        assert info["path"] == "fallback" and info["model"] is None
        assert set(info["stats"]) >= {"brightness", "saturation", "warmth", "contrast"}
        assert len(weights) == 5 and abs(sum(weights.values()) - 1) < 1e-9
        assert list(weights.values()) == sorted(weights.values(), reverse=True)
        assert set(weights) <= set(VOCAB) - {"jazz", "techno"}
    assert "low energy" in dark and "sparse texture" in dark
    assert "high energy" in bright and "dense texture" in bright
    assert sum(w for d, w in dark.items() if d in DARKISH) > 0.5
    assert sum(w for d, w in bright.items() if d in BRIGHTISH) > 0.5
    assert not set(dark) & BRIGHTISH and not set(bright) & DARKISH
    assert {"dark", "melancholic"} <= set(dark)


def test_only_descriptors_given_are_emitted():
    weights, info = image_descriptor_weights(dark_picture(), ["bright", "dark", "jazz"], k=3)
    assert set(weights) == {"bright", "dark"} and weights["dark"] > weights["bright"]
    assert set(info["scores"]) == {"bright", "dark"}


def test_descriptors_the_fallback_cannot_score_are_an_error():
    with pytest.raises(ValueError, match="colour fallback"):
        image_descriptor_weights(dark_picture(), ["jazz", "techno"])
    with pytest.raises(ValueError, match="empty"):
        image_descriptor_weights(dark_picture(), [])
    with pytest.raises(ValueError, match="k must be"):
        image_descriptor_weights(dark_picture(), VOCAB, k=0)


# --- open_clip ------------------------------------------------------------------------------


def test_open_clip_zero_shot_path(tiny_open_clip):
    from mmgan.style.text import load_open_clip

    clip = load_open_clip(f"openclip:{tiny_open_clip['folder']}")
    weights, info = image_descriptor_weights(bright_picture(), VOCAB, clip=clip, k=4)
    assert info["path"] == "open_clip" and info["model"] == clip.id
    assert len(weights) == 4 and abs(sum(weights.values()) - 1) < 1e-9
    assert set(weights) <= set(VOCAB)
    assert abs(sum(info["scores"].values()) - 1) < 1e-5  # softmax over every descriptor
    assert set(info["scores"]) == set(VOCAB)
    top = sorted(info["scores"], key=info["scores"].get, reverse=True)[:4]
    assert list(weights) == top
    # A spec string loads the same cached model; results are deterministic.
    again, _ = image_descriptor_weights(bright_picture(), VOCAB, clip=str(tiny_open_clip["folder"]))
    assert list(again)[:4] == list(weights)
    other, _ = image_descriptor_weights(dark_picture(), VOCAB, clip=clip, k=4)
    assert other != weights


# --- robust loading -------------------------------------------------------------------------


def _modes() -> dict[str, Image.Image]:
    rgb = bright_picture().resize((40, 30))
    p_transparent = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    p_transparent.info["transparency"] = 0
    i16 = Image.fromarray(np.full((30, 40), 65535, dtype=np.uint16))
    return {
        "CMYK": rgb.convert("CMYK"),
        "LA": rgb.convert("LA"),
        "P": rgb.convert("P"),
        "P+transparency": p_transparent,
        "I;16": i16 if i16.mode.startswith("I;16") else i16.convert("I;16"),
        "I": rgb.convert("I"),
        "F": rgb.convert("F"),
        "RGBA": rgb.convert("RGBA"),
        "1": rgb.convert("1"),
        "L": rgb.convert("L"),
    }


@pytest.mark.parametrize("mode", list(_modes()))
def test_every_mode_loads_as_rgb(mode, tmp_path):
    image = _modes()[mode]
    loaded = load_image(image)
    assert loaded.mode == "RGB" and loaded.size == (40, 30)
    assert loaded is not image
    if mode not in ("F",):  # Pillow cannot write float PNGs; all the others round-trip a file
        fmt = "JPEG" if mode == "CMYK" else ("TIFF" if mode == "I" else "PNG")
        path = tmp_path / f"x.{fmt.lower()}"
        image.save(path, fmt)
        assert load_image(path).size == (40, 30)
    weights, _ = image_descriptor_weights(image, VOCAB)
    assert abs(sum(weights.values()) - 1) < 1e-9


def test_mode_conversions_keep_values():
    modes = _modes()
    assert np.asarray(load_image(modes["I;16"]))[0, 0].tolist() == [255, 255, 255]
    clear = Image.new("LA", (4, 4), (255, 0))  # fully transparent white -> the grey background
    assert np.asarray(load_image(clear))[0, 0].tolist() == [128, 128, 128]
    solid = Image.new("RGBA", (4, 4), (250, 10, 10, 255))
    assert np.asarray(load_image(solid))[0, 0].tolist() == [250, 10, 10]


def test_exif_rotation_is_applied(tmp_path):
    wide = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    wide.save(path, "JPEG", exif=exif.tobytes())
    assert Image.open(path).size == (40, 20)
    assert load_image(path).size == (20, 40)


def test_one_pixel_image():
    one = Image.new("RGB", (1, 1), (10, 200, 30))
    assert load_image(png_bytes(one)).size == (1, 1)
    weights, info = image_descriptor_weights(one, VOCAB)
    assert abs(sum(weights.values()) - 1) < 1e-9 and info["stats"]["edge_density"] == 0.0


def test_huge_images_are_downscaled(tmp_path):
    big = Image.new("RGB", (3000, 1200), (90, 90, 200))
    assert load_image(big).size == (1024, 410)
    path = tmp_path / "big.jpg"
    Image.new("RGB", (2600, 2200), (90, 90, 200)).save(path, "JPEG")
    assert max(load_image(path).size) == 1024
    assert max(load_image(path, max_side=64).size) == 64


@pytest.mark.parametrize("encode", [png_bytes, jpeg_bytes], ids=["png", "jpeg"])
def test_truncated_files_are_clear_errors(encode, tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8))
    data = encode(noisy)
    path = tmp_path / "cut.img"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt"):
        load_image(path)
    with pytest.raises(ImageError):
        image_descriptor_weights(path, VOCAB)
    with pytest.raises(ImageError):
        load_image(data[:12])  # only a header fragment


@pytest.mark.parametrize("side", [40, 100], ids=["warning-zone", "error-zone"])
def test_decompression_bombs_are_refused(side, tmp_path, monkeypatch):
    data = png_bytes(Image.new("RGB", (side, side)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40x40 is 1.6x, 100x100 is 10x
    with pytest.raises(ImageError, match="decompression-bomb limit of 1000"):
        load_image(data)
    with pytest.raises(ImageError, match="decompression-bomb"):
        load_image(Image.new("RGB", (side, side)))


def test_not_images_are_clear_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture at all")
    with pytest.raises(ImageError, match="not an image"):
        load_image(text)
    with pytest.raises(FileNotFoundError, match="no image file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)
    with pytest.raises(ImageError, match="cannot read an image from a int"):
        load_image(3)
    with pytest.raises(ImageError, match="empty"):
        load_image(Image.new("RGB", (0, 0)))
    with pytest.raises(ImageError, match="must be"):
        load_image(np.zeros((4, 4, 2)))


def test_arrays_are_accepted():
    assert load_image(np.ones((8, 6, 3))).getpixel((0, 0)) == (255, 255, 255)
    assert load_image(np.full((8, 6), 65535, np.uint16)).getpixel((0, 0)) == (255, 255, 255)
    nan = np.full((8, 6, 3), np.nan)
    assert load_image(nan).getpixel((0, 0)) == (0, 0, 0)

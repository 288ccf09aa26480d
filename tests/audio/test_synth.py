import numpy as np
import pytest

from mmgan.audio.analysis import estimate_tempo, key_agrees, tempo_agrees
from mmgan.audio.synth import INSTRUMENTS, get_instrument, instrument, render_score
from mmgan.audio.synth.effects import apply_chain, build_chain
from mmgan.audio.synth.soundfont import SoundFontRenderer, find_soundfont
from mmgan.data.score import Note, Part, Score

SR = 22050


def drum_score(bpm=120.0, kit="kit.909", beats=16):
    s = Score(bpm=bpm, beats_per_bar=4, key="C", mode="major", length_beats=beats)
    d = s.part("drums", "drums", kit)
    for b in range(beats):
        d.add(b, 0.25, 36, 0.9)
        d.add(b + 0.5, 0.1, 42, 0.5)
    return s


def test_every_instrument_renders_finite_nonsilent_audio():
    rng = np.random.default_rng(0)
    for name, spec in INSTRUMENTS.items():
        if spec.line:
            y = spec.fn([(0.0, 0.5, 48, 0.8), (0.5, 0.5, 55, 0.8)], SR, SR, rng)
            assert y.shape == (SR,), name
        else:
            pitch = 38 if spec.is_drum else 60
            y = np.asarray(spec.fn(pitch, 0.5, 0.8, SR, rng))
        assert np.all(np.isfinite(y)), name
        assert np.sqrt(np.mean(y**2)) > 1e-3, f"{name} is silent"


def test_render_is_deterministic_and_kick_lands_on_beats():
    s = drum_score()
    a = render_score(s, seconds=4.0, rng=np.random.default_rng(1))
    b = render_score(s, seconds=4.0, rng=np.random.default_rng(1))
    assert a.shape == (4 * SR,) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.max(np.abs(a)) <= 0.89 + 1e-6
    assert tempo_agrees(estimate_tempo(a, SR), 120.0)


def test_part_effects_change_the_sound():
    s = drum_score()
    dry = render_score(s, seconds=2.0, target_lufs=None)
    s.parts[0].effects = [("lowpass", {"cutoff_frequency_hz": 300.0})]
    wet = render_score(s, seconds=2.0, target_lufs=None)
    spec = lambda y: np.abs(np.fft.rfft(y))  # noqa: E731
    hi = slice(len(spec(dry)) // 4, None)
    assert spec(wet)[hi].sum() < 0.2 * spec(dry)[hi].sum()


def test_unknown_names_give_clear_errors():
    with pytest.raises(KeyError, match="unknown instrument 'kazoo'"):
        get_instrument("kazoo")
    with pytest.raises(ValueError, match="unknown effect 'flanger9000'"):
        build_chain([("flanger9000", {})])
    with pytest.raises(ValueError, match="bad parameters for effect 'reverb'"):
        build_chain([("reverb", {"size": 3})])
    with pytest.raises(ValueError, match="role must be one of"):
        Part("x", "vocals", "kit.909")
    with pytest.raises(ValueError, match="duration must be > 0"):
        Note(0, 0, 60)
    with pytest.raises(ValueError, match="registered twice"):
        instrument("kit.909", program=0)(lambda *a, **k: None)


def test_nan_from_an_instrument_is_caught():
    @instrument("test.nan", program=0)
    def bad(pitch, duration, velocity, sr, rng, **params):
        return np.full(100, np.nan)

    try:
        s = Score(bpm=120, beats_per_bar=4, key="C", mode="major", length_beats=4)
        s.part("x", "lead", "test.nan").add(0, 1, 60)
        with pytest.raises(FloatingPointError, match="test.nan"):
            render_score(s, seconds=1.0)
    finally:
        INSTRUMENTS.pop("test.nan")


def test_apply_chain_keeps_length():
    x = np.random.default_rng(0).standard_normal(SR) * 0.1
    y = apply_chain(x, [("reverb", {"room_size": 0.8}), ("compressor", {"threshold_db": -20})], SR)
    assert y.shape == x.shape


def test_key_agreement_helper():
    assert key_agrees("C# minor", "Db minor")
    assert not key_agrees("C major", "A minor")
    assert key_agrees("A minor", "C major", relative_ok=True)


@pytest.mark.skipif(
    find_soundfont() is None, reason="no GM SoundFont (make setup installs one as root)"
)
def test_soundfont_renderer_plays_notes():
    s = drum_score(kit="kit.acoustic", beats=8)
    s.part("piano", "harmony", next(n for n, v in INSTRUMENTS.items() if not v.is_drum)).add(
        0, 2, 60
    )
    y = render_score(s, seconds=4.0, soundfont=find_soundfont())
    assert np.sqrt(np.mean(y**2)) > 1e-3
    assert tempo_agrees(estimate_tempo(y, SR), 120.0)


def test_soundfont_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="fluid-soundfont-gm"):
        SoundFontRenderer(tmp_path / "none.sf2", SR)
    (tmp_path / "bad.sf2").write_bytes(b"not a soundfont")
    with pytest.raises((ValueError, ImportError)):
        SoundFontRenderer(tmp_path / "bad.sf2", SR)

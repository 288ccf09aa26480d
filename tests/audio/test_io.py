import numpy as np
import pytest
import soundfile as sf

from mmgan.audio.io import (
    AudioError,
    load_audio,
    loudness,
    loudness_normalize,
    peak_normalize,
    resample,
    save_wav,
    to_mono,
)

SR = 22050


def tone(seconds=1.0, sr=SR, freq=440.0, amp=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_wav_round_trip(tmp_path):
    x = tone()
    save_wav(tmp_path / "a.wav", x, SR)
    y, sr = load_audio(tmp_path / "a.wav", sr=None)
    assert sr == SR and y.shape == x.shape and np.max(np.abs(y - x)) < 1e-3


@pytest.mark.parametrize("fmt, ext", [("FLAC", "flac"), ("OGG", "ogg"), ("MP3", "mp3")])
def test_load_common_formats_resample_and_mix(tmp_path, fmt, ext):
    stereo = np.stack([tone(freq=440), tone(freq=660)], axis=1)  # [T, 2]
    path = tmp_path / f"x.{ext}"
    sf.write(path, stereo, 44100 if fmt != "OGG" else 44100, format=fmt)
    y, sr = load_audio(path, sr=SR)
    assert sr == SR and y.ndim == 1
    assert abs(len(y) - SR * len(stereo) / 44100) < 0.05 * SR  # mp3 adds a little padding
    both, _ = load_audio(path, sr=None, mono=False)
    assert both.shape[0] == 2


def test_offset_and_duration(tmp_path):
    save_wav(tmp_path / "a.wav", tone(2.0), SR)
    y, _ = load_audio(tmp_path / "a.wav", offset=0.5, duration=1.0)
    assert len(y) == SR


def test_bad_files_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="audio file not found"):
        load_audio(tmp_path / "missing.wav")
    (tmp_path / "junk.wav").write_bytes(b"RIFF" + bytes(range(200)))
    with pytest.raises(AudioError, match="cannot decode audio"):
        load_audio(tmp_path / "junk.wav")
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(tmp_path / "empty.wav")


def test_mono_and_resample():
    st = np.stack([np.ones(10), -np.ones(10)])
    assert np.allclose(to_mono(st), 0)
    with pytest.raises(AudioError):
        to_mono(np.zeros((2, 2, 2)))
    y = resample(tone(1.0, 44100), 44100, SR)
    assert len(y) == SR


def test_loudness_normalize_hits_target_and_respects_ceiling():
    x = tone(3.0, amp=0.05)
    y = loudness_normalize(x, SR, target_lufs=-20.0)
    assert abs(loudness(y, SR) - (-20.0)) < 0.1
    loud = loudness_normalize(x, SR, target_lufs=0.0, peak_ceiling=0.5)
    assert np.max(np.abs(loud)) <= 0.5 + 1e-6


def test_silence_and_nan_are_refused(tmp_path):
    with pytest.raises(AudioError, match="silent"):
        loudness_normalize(np.zeros(SR), SR)
    with pytest.raises(AudioError, match="silent"):
        peak_normalize(np.zeros(SR))
    bad = tone()
    bad[10] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        save_wav(tmp_path / "nan.wav", bad, SR)
    assert not (tmp_path / "nan.wav").exists()


def test_atomic_write_keeps_previous_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "keep.wav"
    save_wav(path, tone(), SR)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf, "write", boom)
    with pytest.raises(OSError, match="No space left"):
        save_wav(path, tone(freq=880), SR)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]  # no temp file left behind

"""Embedders: the style and judge adapters, CLAP and VGGish loaded from real-format files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmgan.eval import embedders
from mmgan.eval.embedders import EMBEDDER_SPECS, get_embedder
from mmgan.eval.vggish import VGGish, vggish_examples

torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """One BLAS thread: on two shared CI cores OpenBLAS's second thread only spins."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


SR = 22050


def _clips(seconds=(1.5, 2.5), sr=SR, seed=0) -> list[np.ndarray]:
    """Noise bursts with a pitched tone: audible, different from each other."""
    rng = np.random.default_rng(seed)
    out = []
    for i, s in enumerate(seconds):
        t = np.arange(int(s * sr)) / sr
        tone = 0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t)
        out.append((tone + 0.05 * rng.normal(size=t.shape)).astype(np.float32))
    return out


def test_style_embedder_matches_the_style_model():
    from mmgan.style.audio_encoder import StyleModel

    emb = get_embedder("style")
    assert emb.name == "style" and emb.dim == 384
    waves = _clips()
    out = emb.embed(waves, SR)
    assert out.shape == (2, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    model = StyleModel.from_pretrained("mmgan/pretrained/style")
    np.testing.assert_allclose(out[1], model.embed_waveform(waves[1], SR)[0].numpy(), atol=1e-6)
    np.testing.assert_array_equal(out, emb.embed(waves, SR))  # deterministic
    stereo = np.stack([waves[0], waves[0]])  # [C, T] is mixed to mono
    np.testing.assert_allclose(emb.embed([stereo], SR)[0], out[0], atol=1e-6)
    assert emb.embed([], SR).shape == (0, 384)
    same_len = np.stack([waves[0], waves[0]])  # an [N, T] array is N clips
    assert emb.embed(same_len, SR).shape == (2, 384)
    assert get_embedder("style:mmgan/pretrained/style").name == "style:mmgan/pretrained/style"


def test_judge_embedder_uses_the_judges_embedding(tmp_path):
    from mmgan.eval.classifier import GenreJudge

    torch.manual_seed(0)
    judge = GenreJudge(
        genres=["jazz", "metal"], tags=["fast", "slow"], width=16, attention_dim=8,
        embedding_dim=12, window_frames=32,
    )  # fmt: skip
    judge.save_pretrained(tmp_path / "judge")
    emb = get_embedder(f"judge:{tmp_path / 'judge'}")
    assert emb.dim == 12 and emb.name.startswith("judge:")
    waves = _clips()
    out = emb.embed(waves, SR)
    assert out.shape == (2, 12) and out.dtype == np.float32
    expected = GenreJudge.from_pretrained(tmp_path / "judge").embed(waves, SR)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert not np.allclose(out[0], out[1])


def test_clap_embedder_loads_a_saved_checkpoint(tiny_clap_dir):
    from transformers import ClapFeatureExtractor, ClapModel

    from mmgan.audio.io import resample

    emb = get_embedder(f"clap:{tiny_clap_dir}")
    assert emb.dim == 16 and emb.sample_rate == 48000 and emb.window == 96000
    waves = _clips(seconds=(1.0, 5.0))  # the second clip spans three 2 s windows
    out = emb.embed(waves, SR)
    assert out.shape == (2, 16) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(out, emb.embed(waves, SR))
    # the short clip by hand, through transformers' own calls
    model = ClapModel.from_pretrained(tiny_clap_dir).eval()
    fe = ClapFeatureExtractor.from_pretrained(tiny_clap_dir)
    x = resample(waves[0], SR, 48000)
    inputs = fe([x], sampling_rate=48000, truncation="rand_trunc", return_tensors="pt")
    with torch.no_grad():
        ref = model.get_audio_features(**inputs)
    ref = ref if isinstance(ref, torch.Tensor) else ref.pooler_output
    ref = torch.nn.functional.normalize(ref, dim=-1)[0].numpy()
    np.testing.assert_allclose(out[0], ref, atol=1e-5)


def test_clap_missing_weights_say_what_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="huggingface-cli download laion/clap-htsat"):
        get_embedder(f"clap:{tmp_path / 'nowhere'}")
    with pytest.raises(FileNotFoundError, match="local-dir"):
        get_embedder("clap:someone/not-in-the-cache")


@pytest.fixture(scope="module")
def vggish_files(tmp_path_factory):
    """A randomly initialised VGGish state dict saved as torchvggish does (``torch.save`` of
    the state dict; float16 to halve the 290 MB) and as ``.safetensors``."""
    from safetensors.torch import save_file

    torch.manual_seed(0)
    state = {k: v.half().contiguous() for k, v in VGGish().state_dict().items()}
    root = tmp_path_factory.mktemp("vggish")
    torch.save(state, root / "vggish-10086976.pth")
    (root / "st").mkdir()
    save_file(state, root / "st" / "vggish.safetensors")
    return root


def test_vggish_embedder_loads_the_torchvggish_state_dict(vggish_files):
    emb = get_embedder(f"vggish:{vggish_files / 'vggish-10086976.pth'}")
    assert emb.dim == 128
    waves = _clips(seconds=(2.0, 0.5))  # the short clip is padded to one 0.96 s patch
    out = emb.embed(waves, SR)
    assert out.shape == (2, 128) and out.dtype == np.float32
    assert np.all(out >= 0) and not np.allclose(out[0], out[1])  # torchvggish's final ReLU
    # by hand: patches -> the network -> mean over patches
    model = VGGish.from_file(vggish_files / "vggish-10086976.pth")
    with torch.no_grad():
        ref = model(torch.from_numpy(vggish_examples(waves[0], SR))[:, None]).mean(dim=0)
    np.testing.assert_allclose(out[0], ref.numpy(), rtol=1e-5, atol=1e-6)
    # the same weights from a folder holding a .safetensors file
    same = get_embedder(f"vggish:{vggish_files / 'st'}").embed(waves, SR)
    np.testing.assert_allclose(same, out, rtol=1e-5, atol=1e-6)


def test_vggish_pca_postprocessing(vggish_files, tmp_path):
    model = VGGish.from_file(vggish_files / "vggish-10086976.pth")
    x = torch.from_numpy(vggish_examples(_clips(seconds=(1.0,))[0], SR))[:, None]
    with torch.no_grad():
        raw = model(x)
    rng = np.random.default_rng(0)
    matrix, means = rng.normal(size=(128, 128)), rng.normal(size=128)
    np.savez(tmp_path / "pca.npz", pca_eigen_vectors=matrix, pca_means=means[:, None])
    model.load_pca(tmp_path / "pca.npz")
    with torch.no_grad():
        out = model(x)
    expected = (raw.double().numpy() - means) @ matrix.T
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_vggish_examples_known_answer():
    """3 s at 16 kHz: 298 frames of 25 ms every 10 ms -> three 96-frame patches; a 1 kHz tone
    peaks in the HTK-mel band centred nearest 1 kHz."""
    sr = 16000
    t = np.arange(3 * sr) / sr
    patches = vggish_examples(0.5 * np.sin(2 * np.pi * 1000 * t), sr)
    assert patches.shape == (3, 96, 64) and patches.dtype == np.float32
    mel = lambda f: 1127.0 * np.log1p(f / 700.0)  # noqa: E731
    centres = np.linspace(mel(125.0), mel(7500.0), 66)[1:-1]
    assert patches.mean(axis=(0, 1)).argmax() == np.abs(centres - mel(1000.0)).argmin()
    silence = vggish_examples(np.zeros(sr), sr)
    np.testing.assert_allclose(silence, np.log(0.01), rtol=1e-6)  # log(0 + 0.01)


def test_vggish_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="vggish-10086976.pth"):
        get_embedder(f"vggish:{tmp_path / 'missing.pth'}")
    torch.save({"features.0.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not a VGGish state dict"):
        get_embedder(f"vggish:{tmp_path / 'other.pth'}")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="unreadable"):
        get_embedder(f"vggish:{tmp_path / 'junk.pth'}")


def test_unknown_spec_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid: style") as err:
        get_embedder("openl3")
    assert all(spec in str(err.value) for spec in EMBEDDER_SPECS)
    with pytest.raises(ValueError, match="valid"):
        get_embedder("clap")  # needs a path


def test_bad_waves_raise():
    emb = get_embedder("style")
    wave = _clips()[0]
    with pytest.raises(ValueError, match="list of clips"):
        emb.embed(wave, SR)
    bad = wave.copy()
    bad[10] = np.nan
    with pytest.raises(ValueError, match="clip 1 contains NaN"):
        emb.embed([wave, bad], SR)
    with pytest.raises(ValueError, match="sample_rate"):
        emb.embed([wave], 0)
    with pytest.raises(ValueError, match="no samples"):
        emb.embed([np.zeros(0, np.float32)], SR)
    with pytest.raises(ValueError, match="clip 0: audio is silent"):
        emb.embed([np.zeros(SR, np.float32)], SR)


def test_embedders_still_exports_vggish():
    assert embedders.VGGish is VGGish and embedders.vggish_examples is vggish_examples

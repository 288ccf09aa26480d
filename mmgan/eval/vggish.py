"""VGGish (Hershey et al. 2017) in ``harritaylor/torchvggish``'s layout, and its input features.

:func:`vggish_examples` turns a clip into 0.96 s log-mel patches at 16 kHz; :class:`VGGish`
maps each patch to a 128-d embedding. Weights load from torchvggish's state-dict file
``vggish-10086976.pth`` (or a ``.safetensors`` of the same keys, or a folder holding one);
nothing is downloaded at run time. :class:`mmgan.eval.embedders.VGGishEmbedder` wraps this
as an ``Embedder`` (``"vggish:PATH"``).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mmgan.audio.io import resample
from mmgan.weights import CheckpointError

__all__ = ["VGGISH_PCA_URL", "VGGISH_SR", "VGGISH_URL", "VGGish", "vggish_examples"]

_TORCHVGGISH = "https://github.com/harritaylor/torchvggish/releases/download/v0.1/"
VGGISH_URL = _TORCHVGGISH + "vggish-10086976.pth"
VGGISH_PCA_URL = _TORCHVGGISH + "vggish_pca_params-970ea276.pth"
VGGISH_SR, _PATCH, _BANDS = 16000, 96, 64  # 16 kHz; 96 frames (0.96 s) x 64 mel bands


def _vggish_mel_matrix(n_bins: int = 257) -> np.ndarray:
    """VGGish's HTK-mel triangles ``[n_bins, 64]`` from 125 to 7500 Hz (DC bin unused)."""

    def hz_to_mel(f):
        return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)

    bins = hz_to_mel(np.linspace(0.0, VGGISH_SR / 2, n_bins))[:, None]  # [n_bins, 1]
    edges = np.linspace(hz_to_mel(125.0), hz_to_mel(7500.0), _BANDS + 2)
    lower = (bins - edges[:-2]) / (edges[1:-1] - edges[:-2])
    upper = (edges[2:] - bins) / (edges[2:] - edges[1:-1])
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights[0] = 0.0
    return weights


def vggish_examples(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """VGGish input (``vggish_input.waveform_to_examples``): mono ``[T]`` -> ``[K, 96, 64]``.

    16 kHz; 25 ms periodic-Hann frames every 10 ms, 512-point FFT magnitude, 64 HTK-mel
    bands 125-7500 Hz, ``log(mel + 0.01)``; non-overlapping 96-frame patches. A clip shorter
    than one patch is zero-padded to one.
    """
    x = resample(np.asarray(wave, dtype=np.float32), int(sample_rate), VGGISH_SR)
    win, hop = 400, 160
    need = win + (_PATCH - 1) * hop
    if len(x) < need:
        x = np.pad(x, (0, need - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), win)[::hop]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)  # periodic Hann
    spec = np.abs(np.fft.rfft(frames * window, 512))  # [frames, 257]
    logmel = np.log(spec @ _vggish_mel_matrix(spec.shape[1]) + 0.01)  # [frames, 64]
    k = 1 + (len(logmel) - _PATCH) // _PATCH
    return logmel[: k * _PATCH].reshape(k, _PATCH, _BANDS).astype(np.float32)


class VGGish(nn.Module):
    """VGGish in torchvggish's layout: log-mel patches ``[B, 1, 96, 64]`` -> ``[B, 128]``.

    ::

        conv3x3 64, maxpool 2                   # [B, 64, 48, 32]
        conv3x3 128, maxpool 2                  # [B, 128, 24, 16]
        conv3x3 256 (x2), maxpool 2             # [B, 256, 12, 8]
        conv3x3 512 (x2), maxpool 2             # [B, 512, 6, 4]
        channels last, flatten                  # [B, 12288]
        fc 4096, fc 4096, fc 128 (ReLU after each, as torchvggish)
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c_in, int(v), 3, padding=1), nn.ReLU(inplace=True)]
                c_in = int(v)
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(
            nn.Linear(512 * 6 * 4, 4096),
            nn.ReLU(True),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Linear(4096, 128),
            nn.ReLU(True),
        )
        self.pca: tuple[torch.Tensor, torch.Tensor] | None = None  # (matrix [128, 128], means)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, _PATCH, _BANDS):
            raise ValueError(f"expected patches [B, 1, 96, 64], got {tuple(x.shape)}")
        x = self.features(x).permute(0, 2, 3, 1).flatten(1)  # [B, 6 * 4 * 512]
        emb = self.embeddings(x)  # [B, 128]
        if self.pca is not None:
            emb = (emb - self.pca[1]) @ self.pca[0].T
        return emb

    @classmethod
    def from_file(cls, path: str | Path) -> VGGish:
        """Load torchvggish's state dict (``.pth``, ``weights_only``) or a ``.safetensors``."""
        file = _find_weights(Path(path).expanduser(), ("vggish-10086976.pth", "*.safetensors"))
        if file is None:
            raise FileNotFoundError(
                f"no VGGish weights at {str(path)!r}. Download {VGGISH_URL} (e.g. to "
                "models/vggish/vggish-10086976.pth) and use 'vggish:models/vggish/"
                "vggish-10086976.pth'; nothing is downloaded at run time"
            )
        model = cls()
        state = _load_tensors(file)
        own = model.state_dict()
        missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        shapes = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
        if missing or extra or shapes:
            raise CheckpointError(
                f"{file} is not a VGGish state dict (missing {missing[:4]}, unexpected "
                f"{extra[:4]}, wrong shapes {shapes[:4]}); use torchvggish's vggish-10086976.pth"
            )
        model.load_state_dict({k: v.float() for k, v in state.items()})
        return model.eval()

    def load_pca(self, path: str | Path) -> None:
        """AudioSet PCA (``pca_eigen_vectors [128, 128]``, ``pca_means [128]``): ``.pth``,
        ``.safetensors`` or the TF release's ``vggish_pca_params.npz``."""
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"no VGGish PCA file {str(path)!r}; download {VGGISH_PCA_URL}")
        if file.suffix == ".npz":
            with np.load(file, allow_pickle=False) as z:
                params = {k: torch.from_numpy(z[k]) for k in z.files}
        else:
            params = _load_tensors(file)
        try:
            matrix = params["pca_eigen_vectors"].float().reshape(128, 128)
            means = params["pca_means"].float().reshape(128)
        except (KeyError, RuntimeError) as err:
            raise CheckpointError(
                f"{file}: expected pca_eigen_vectors [128, 128] and pca_means [128] ({err})"
            ) from err
        self.pca = (matrix, means)


def _find_weights(path: Path, names: tuple[str, ...]) -> Path | None:
    if path.is_file():
        return path
    if path.is_dir():
        for pattern in names:
            found = sorted(path.glob(pattern))
            if found:
                return found[0]
    return None


def _load_tensors(file: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        if file.suffix == ".safetensors":
            return load_file(str(file))
        state = torch.load(file, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, SafetensorError, RuntimeError, OSError, EOFError) as err:
        raise CheckpointError(
            f"{file}: unreadable as a tensor file ({type(err).__name__}: {err}); weights load "
            "with weights_only=True, so convert a file of pickled objects to .safetensors"
        ) from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{file}: expected a dict of tensors (a state dict)")
    return state

"""Long-form tracks: sections, energy shaping and genre morphs as a style per time step.

The generator is fully convolutional in time (:mod:`mmgan.models.specgan`), so a whole
track — 5 s or 5 minutes — comes out of one batched pass with no segments to stitch. What
makes it a *piece* rather than a loop is the style track ``s(t)`` given to it here:

- **sections** (tracks of 12 s or more): intro, development, climax, outro, with an
  energy curve that moves the style along the space's "high energy"/"dense texture" minus
  "low energy"/"sparse texture" direction (``depth`` sets how far), eased over ~2 s;
- **morphs**: genre A to genre B along the track (``slerp`` by a smoothstep curve);
- a short fade-in and a fade-out over the outro's last seconds (applied to the audio).

    >>> plan = plan_sections(60.0)
    >>> [s.name for s in plan]
    ['intro', 'development', 'climax', 'outro']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mmgan.generate.latent import morph_curve, style_track

__all__ = [
    "SECTION_SHAPE",
    "Section",
    "energy_curve",
    "fade",
    "plan_sections",
    "shaped_style",
]

# (name, share of the track, energy at its start, energy at its end); energy in [-1, 1]
SECTION_SHAPE = (
    ("intro", 0.12, -0.7, -0.2),
    ("development", 0.38, -0.1, 0.3),
    ("climax", 0.30, 0.8, 0.8),
    ("outro", 0.20, 0.3, -0.8),
)
MIN_SECTIONED_S = 12.0


@dataclass(frozen=True)
class Section:
    name: str
    start_s: float
    end_s: float
    energy_start: float
    energy_end: float

    def to_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def plan_sections(seconds: float, sections: bool = True) -> list[Section]:
    """Sections of a ``seconds``-long track (one flat ``"main"`` section when it is shorter
    than 12 s or ``sections`` is off)."""
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    if not sections or seconds < MIN_SECTIONED_S:
        return [Section("main", 0.0, float(seconds), 0.0, 0.0)]
    out, t = [], 0.0
    for name, share, e0, e1 in SECTION_SHAPE:
        end = seconds if name == "outro" else t + share * seconds
        out.append(Section(name, t, float(end), e0, e1))
        t = end
    return out


def energy_curve(plan: list[Section], times_s: np.ndarray, ease_s: float = 2.0) -> np.ndarray:
    """Energy at each time: linear within a section, eased across section boundaries."""
    e = np.zeros(len(times_s))
    for sec in plan:
        inside = (times_s >= sec.start_s) & (times_s < sec.end_s)
        frac = (times_s[inside] - sec.start_s) / max(sec.end_s - sec.start_s, 1e-9)
        e[inside] = sec.energy_start + (sec.energy_end - sec.energy_start) * frac
    e[times_s >= plan[-1].end_s] = plan[-1].energy_end
    if len(times_s) > 1 and ease_s > 0:
        dt = float(times_s[1] - times_s[0])
        k = max(1, int(round(ease_s / dt)))
        kernel = np.hanning(2 * k + 1)
        kernel /= kernel.sum()
        e = np.convolve(np.pad(e, k, mode="edge"), kernel, mode="valid")
    return e


def shaped_style(
    style: torch.Tensor,
    steps: int,
    step_s: float,
    plan: list[Section],
    *,
    energy_axis: torch.Tensor | None = None,
    depth: float = 0.3,
    morph_to: torch.Tensor | None = None,
    morph_shape: str = "smooth",
) -> torch.Tensor:
    """The style at each of ``steps`` coarse steps ``[D, steps]`` (unit columns).

    Args:
        style: ``[D]`` the track's style (genre A of a morph).
        step_s: seconds per coarse step.
        energy_axis: ``[D]`` unit direction of "more energy" (``None``: no shaping).
        morph_to: ``[D]`` genre B: the track morphs from ``style`` to it.
    """
    if morph_to is not None:
        track = style_track(style, morph_to, morph_curve(steps, shape=morph_shape))
    else:
        track = F.normalize(style.float(), dim=-1)[:, None].expand(-1, steps)
    if energy_axis is None or depth == 0 or len(plan) == 1:
        return track.contiguous()
    times = (np.arange(steps) + 0.5) * step_s
    e = torch.as_tensor(energy_curve(plan, times), dtype=torch.float32)  # [steps]
    return F.normalize(track + depth * energy_axis[:, None] * e[None], dim=0)


def fade(audio: np.ndarray, sr: int, plan: list[Section], fade_in_s: float = 0.3) -> np.ndarray:
    """A short fade-in, and with an outro a fade-out over its last half (at most 6 s)."""
    x = np.asarray(audio, dtype=np.float32).copy()
    n_in = min(len(x), int(fade_in_s * sr))
    if n_in > 0:
        x[:n_in] *= np.linspace(0.0, 1.0, n_in, dtype=np.float32)
    if plan[-1].name == "outro":
        n_out = min(len(x), int(min(6.0, 0.5 * (plan[-1].end_s - plan[-1].start_s)) * sr))
        if n_out > 0:
            x[-n_out:] *= np.linspace(1.0, 0.0, n_out, dtype=np.float32) ** 2
    return x

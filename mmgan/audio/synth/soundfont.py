"""Optional General MIDI SoundFont rendering through ``tinysoundfont``.

Used when ``--soundfont PATH`` is given or a GM SoundFont is found at a standard
location (``find_soundfont``). The built-in numpy synths never need it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STANDARD_LOCATIONS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
)


def find_soundfont() -> Path | None:
    """The first General MIDI SoundFont at a standard system location, or ``None``."""
    for loc in STANDARD_LOCATIONS:
        if Path(loc).is_file():
            return Path(loc)
    return None


class SoundFontRenderer:
    """Render note lists with one SoundFont. ``render_notes`` matches the synth voices' output."""

    def __init__(self, path: str | Path, sr: int):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"SoundFont not found: {path}. On Debian/Ubuntu `apt-get install "
                "fluid-soundfont-gm` installs /usr/share/sounds/sf2/FluidR3_GM.sf2."
            )
        try:
            import tinysoundfont
        except ImportError as err:
            raise ImportError(
                "SoundFont rendering needs tinysoundfont: `pip install --no-deps tinysoundfont`"
            ) from err
        self.path = path
        self.sr = sr
        self._tsf = tinysoundfont
        self._synth = tinysoundfont.Synth(samplerate=sr)
        try:
            self.sfid = self._synth.sfload(str(path))
        except Exception as err:  # tinysoundfont raises a bare Exception on bad files
            raise ValueError(f"{path}: not a readable SoundFont (.sf2): {err}") from err

    def render_notes(self, notes, n: int, program: int, is_drum: bool) -> np.ndarray:
        """``notes``: ``(start_s, dur_s, pitch, velocity)``; returns mono ``[n]``."""
        synth = self._synth
        chan = 9 if is_drum else 0
        synth.notes_off()
        synth.program_select(
            chan, self.sfid, 128 if is_drum else 0, 0 if is_drum else program, is_drums=is_drum
        )
        events = []
        for start, dur, pitch, vel in notes:
            events.append((start, 1, pitch, vel))
            events.append((start + dur, 0, pitch, vel))
        events.sort(key=lambda e: (e[0], e[1]))
        out = np.zeros(n, dtype=np.float32)
        pos = 0
        for t, on, pitch, vel in events:
            target = min(n, int(round(t * self.sr)))
            if target > pos:
                out[pos:target] = self._generate(target - pos)
                pos = target
            if on:
                synth.noteon(chan, int(pitch), max(1, int(vel * 127)))
            else:
                synth.noteoff(chan, int(pitch))
        if pos < n:
            out[pos:] = self._generate(n - pos)
        synth.notes_off()
        return out.astype(np.float64)

    def _generate(self, frames: int) -> np.ndarray:
        buf = np.frombuffer(self._synth.generate(frames), dtype=np.float32)
        return buf.reshape(-1, 2).mean(axis=1)[:frames]

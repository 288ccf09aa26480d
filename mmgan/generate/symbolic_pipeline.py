"""The symbolic engine's pipeline: style -> beats -> piano-roll -> arranged score -> audio + MIDI.

    >>> pipe = Pipeline.from_pretrained(engine="symbolic")
    >>> r = pipe("jazz at 140 BPM", seconds=30, seed=1)
    >>> r.save("out/")          # track.wav, metadata.json, arrangement.mid, stems/<track>.mid

Same inputs, blends, morphs and sections as the spectrogram engine (:class:`Pipeline`); what
differs is time and sound. The generator works in beats, so the tempo comes first: a tempo
written in the prompt ("at 140 BPM"), else the tempo the training corpus pairs with this
style (a ridge regression stored with the model). Sound comes from :mod:`mmgan.generate.symbolic`:
the style's nearest genres (zero-shot over the training genres) lend their instruments,
effects and mix, which is what makes the built-in synth sound like the genre. The key comes
last: ``pipe(..., key="A")`` moves the piece to that tonic (the mode stays the generator's);
by default a model with a key head moves it to a tonic drawn from the style's keys, as the
corpus spreads them (:class:`~mmgan.generate.symbolic.KeyHead`). ``metadata["key"]`` says
which key the notes read as.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from mmgan.generate import compose
from mmgan.generate.pipeline import TARGET_LUFS, GenerationResult, Pipeline, _check
from mmgan.generate.symbolic import (
    FigureHead,
    GrooveHead,
    KeyHead,
    PresenceHead,
    RestHead,
    ShareHead,
    VoiceHead,
    arrange,
    cap_voices,
    check_line_floors,
    decode_rows,
    figure_lines,
    key_shifts,
    parse_tonic,
    piece_floors,
    quantise_drums,
    rest_bars,
    role_plan,
    tidy_rows,
    transpose_rows,
)
from mmgan.models.pianoroll import STEPS_PER_BEAT

__all__ = ["SymbolicPipeline"]

TEMPO_RANGE = (50.0, 200.0)  # what the tempo head may answer (a prompt may say 20-400)


class SymbolicPipeline(Pipeline):
    """A trained :class:`~mmgan.models.pianoroll.PianoRollGenerator` + its style space.

    ``quantise`` (default True): snap drum hits to the style's groove when the model has a
    groove head, and pitched notes to the style's onset grid when it has a figure head
    (:func:`~mmgan.generate.symbolic.quantise_drums`); False plays the generator's notes
    where it put them. ``rests`` (default True): with a rest head, each
    track rests in as many bars as the style's tracks do
    (:func:`~mmgan.generate.symbolic.rest_bars`); False lets the generator's own
    probabilities decide. ``voices`` (default True): with a voice head, each pitched track
    sounds at most as many notes at once as the style's tracks do
    (:func:`~mmgan.generate.symbolic.cap_voices`: a lead line one note at a time).
    ``presence`` (0 to 1, default 0): with a presence head (and ``rests``), the share of the
    pieces the head would leave a track out of that are left without it altogether, as the
    style's arrangements often are (:class:`~mmgan.generate.symbolic.PresenceHead`: half of
    techno's clips have no lead); the rest of that share rests in bars, spread over the
    other pieces, so a track rests in as many bars on average at any setting. 0 keeps each
    piece's whole line-up. Measured on the shipped v7 (`benchmarks/symbolic.py`, seeds
    0-5): at 0, 8 / 8 / 8 / 8 / 8 / 7 genres within the corpus's symbolic metrics and
    techno's diversity 0.52 / 0.51 / 0.57 / 0.61 / 0.56 / 0.50 of the corpus's; at 1,
    7 / 9 / 9 / 8 / 7 / 6 genres and 0.69-0.83 (a whole-piece draw moves a genre's
    empty-bar rate by its whole tolerance over 32 pieces). At 1 the pieces are what the
    corpus's 6-s clips are, each composed whole with or without a part; the corpus has no
    longer piece to say whether a part would stay out of a whole minute.
    ``figures`` (default True): with a figure head and a voice head, held notes are broken
    into notes of the style's length — a one-voice line's pitches drawn from the
    generator's probabilities, a chord struck again as the style's are
    (:func:`~mmgan.generate.symbolic.figure_lines`)."""

    def __init__(self, generator, space, config: dict[str, Any], name: str):
        super().__init__(generator, space, config, name)
        head = config.get("tempo_head") or {}
        self.tempo_weight = torch.tensor(head.get("weight") or [0.0] * space.dim)
        self.tempo_bias = float(head.get("bias", math.log(120.0)))
        self.genres = [str(g) for g in config.get("genres") or []]
        try:
            self.line_floors = check_line_floors(config.get("line_floors"), generator.layout)
            self.share_head = ShareHead.from_config(config.get("share_head"), space.dim)
            self.groove_head = GrooveHead.from_config(config.get("groove_head"), space.dim)
            self.rest_head = RestHead.from_config(config.get("rest_head"), space.dim)
            self.presence_head = PresenceHead.from_config(config.get("presence_head"), space.dim)
            self.voice_head = VoiceHead.from_config(config.get("voice_head"), space.dim)
            self.figure_head = FigureHead.from_config(config.get("figure_head"), space.dim)
            self.key_head = KeyHead.from_config(config.get("key_head"), space.dim)
        except ValueError as err:
            raise ValueError(f"model {name!r}, config.json: {err}") from err
        self.quantise = True
        self.rests = True
        self.voices = True
        self.figures = True
        self.presence = 0.0
        generator.binarize = False  # the pipeline decodes the probabilities itself (features)

    @property
    def segment_seconds(self) -> float:
        """0: one pass at any length (no chunk joins to check)."""
        return 0.0

    @property
    def anchor_seconds(self) -> float:
        """0: the anchors sit every ``z_every`` beats, so their spacing in seconds depends on
        the tempo (no fixed grid to report)."""
        return 0.0

    # -- tempo and instrumentation -------------------------------------------------------------

    def tempo(self, style: torch.Tensor, prompt: str | None = None) -> float:
        """BPM: written in ``prompt`` ("at 92 BPM"), else the tempo head's answer for ``style``."""
        from mmgan.style.music_terms import parse_bpm

        written = parse_bpm(prompt) if isinstance(prompt, str) else None
        if written is not None:
            return float(written)
        log_bpm = float(self.tempo_weight @ style.float().flatten()) + self.tempo_bias
        return float(np.clip(math.exp(log_bpm), *TEMPO_RANGE))

    def genre_mix(self, style: torch.Tensor, top: int = 2) -> list[tuple[str, float]]:
        """The ``top`` training genres nearest ``style`` with their zero-shot probabilities."""
        if not self.genres:
            raise ValueError(f"model {self.name!r} lists no genres in its config.json")
        p = self.space.zero_shot(style.float().reshape(1, -1), self.genres)[0]
        order = np.argsort(-np.asarray(p))[:top]
        return [(self.genres[i], float(p[i])) for i in order]

    def render_rolls(
        self,
        rolls: np.ndarray,
        style: torch.Tensor,
        *,
        bpm: float,
        seconds: float,
        seed: int,
        instruments: Mapping[str, str] | None = None,
    ):
        """``(audio [samples] float32 at -16 LUFS, score)`` of on/off ``rolls [R, steps]``."""
        from mmgan.audio.synth import render_score

        score = arrange(rolls, self.genre_mix(style), bpm=bpm, seed=seed, instruments=instruments)
        rng = np.random.default_rng([int(seed), 41])
        audio = render_score(score, sr=self.sample_rate, seconds=seconds, rng=rng, target_lufs=None)
        return audio, score

    # -- generation ----------------------------------------------------------------------------

    min_note_steps = 2  # pitched notes shorter than this are dropped (tidy_rows)

    def features(
        self,
        style: torch.Tensor,
        *,
        seed: int,
        steps: int,
        truncation: float = 1.0,
        tidy: bool = True,
        key=None,
    ) -> torch.Tensor:
        """On/off rows ``[n, R, steps * 12]`` (0./1.) for style ``[n, D(, steps)]``: the
        generator's note probabilities decoded with line floors
        (:func:`~mmgan.generate.symbolic.decode_rows`) — each piece's own, at which its
        tracks sound as often as the model's share head expects for its style
        (:func:`~mmgan.generate.symbolic.piece_floors`), or for a model without one its
        fixed ``line_floors``; with ``tidy``, pitched notes shorter than
        :attr:`min_note_steps` are dropped (:func:`~mmgan.generate.symbolic.tidy_rows`), as
        every path to the user does. With a rest head and :attr:`rests`, each track first
        rests in the bars the head asks for (:func:`~mmgan.generate.symbolic.rest_bars`,
        the count drawn from ``seed``; with a presence head, :attr:`presence` of its
        absences as whole pieces without the track, drawn from ``seed``, the others as that
        many more bars; a bar no other track plays in keeps it); with a voice head and :attr:`voices`, each pitched
        track keeps its most likely notes up to the style's count at every step
        (:func:`~mmgan.generate.symbolic.cap_voices`), and with a figure head and
        :attr:`figures`, its held notes move at the style's pace
        (:func:`~mmgan.generate.symbolic.figure_lines`). Then, with :attr:`quantise`, drum
        hits are snapped to the groove head's grid and pitched notes to the figure head's
        onset grid (:func:`~mmgan.generate.symbolic.quantise_drums`; the voice caps hold
        after it). Last, every piece is moved to the tonic ``key`` names (``"A"``, ``"F#
        minor"``: the mode stays the generator's), or with a key head to one drawn from
        ``seed`` among the style's keys (:meth:`_in_key`)."""
        probs = super().features(style, seed=seed, steps=steps, truncation=truncation).numpy()
        floors = self.line_floors
        shares = self.share_head(style) if self.share_head is not None else None
        if shares is not None:
            floors = piece_floors(probs, shares, self.g.layout)
        rows = decode_rows(probs, self.g.layout, floors)
        if self.rest_head is not None and self.rests:
            rests = self.rest_head(style)
            draws = np.random.default_rng([int(seed) % 2**63, 0x2E57]).random(
                (len(probs), len(rests))
            )
            if self.presence_head is not None:
                rests = self._with_absences(style, rests, seed, len(probs))
            heard = tidy_rows(rows, self.g.layout, self.min_note_steps)  # what will sound
            probs = rest_bars(probs, rests, draws, self.g.layout, played=heard)
            if shares is not None:  # the rest of the piece makes up the share of steps
                floors = piece_floors(probs, shares, self.g.layout)
            rows = decode_rows(probs, self.g.layout, floors)
        figures = self.figure_head(style) if self.figure_head is not None else None
        caps = self.voice_head(style) if self.voice_head is not None and self.voices else None
        if caps is not None:
            rows = cap_voices(rows, probs, caps, self.g.layout)
            if figures is not None and self.figures:
                seeds = [int(seed) * 7919 + i for i in range(len(rows))]
                rows = figure_lines(rows, probs, figures, caps, seeds, self.g.layout)
        if self.groove_head is not None and self.quantise:
            rows = quantise_drums(rows, self.groove_head(style), self.g.layout)
        if figures is not None and self.quantise:  # pitched notes onto the style's grid
            for track, fig in figures.items():
                rows = quantise_drums(rows, fig["onsets"], self.g.layout, track=track)
            if caps is not None:  # (two notes moved onto one another: the likelier stays)
                rows = cap_voices(rows, probs, caps, self.g.layout)
        rows = self._in_key(rows, style, seed, key)
        if tidy:
            rows = tidy_rows(rows, self.g.layout, self.min_note_steps)
        return torch.from_numpy(rows).float()

    def _in_key(self, rows: np.ndarray, style, seed: int, key) -> np.ndarray:
        """Each piece moved to the tonic ``key`` asks for (:func:`parse_tonic`), else to one
        drawn from the key head's shares for its style (:func:`key_shifts`; unchanged for a
        model without one)."""
        tonic = parse_tonic(key)
        if tonic is not None:
            tonics = np.zeros((len(rows), 12))
            tonics[:, tonic] = 1.0
        elif self.key_head is not None:
            tonics = self.key_head(style)
        else:
            return rows
        seeds = [int(seed) * 7919 + i for i in range(len(rows))]
        heard = tidy_rows(rows, self.g.layout, self.min_note_steps)  # the key of what sounds
        shifts = key_shifts(heard, tonics, seeds, self.g.layout)
        return np.stack(
            [transpose_rows(r, k, self.g.layout) for r, k in zip(rows, shifts, strict=True)]
        )

    @property
    def presence(self) -> float:
        """Share of the presence head's absences made whole pieces (class doc), in [0, 1]."""
        return self._presence

    @presence.setter
    def presence(self, value) -> None:
        try:
            lam = float(value)
        except (TypeError, ValueError):
            lam = math.nan
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"presence must be in [0, 1] (or a bool), got {value!r}")
        self._presence = lam

    def _with_absences(self, style, rests: dict, seed: int, n: int) -> dict:
        """The rest shares ``{track: [n]}`` with the presence head's absences ``x``: a
        :attr:`presence` share ``lam`` of them are whole pieces without the track (drawn
        from ``seed``: all its bars rest), the rest are spread over the other pieces' bars,
        so a track rests in ``x + (1 - x) * share`` of the bars on average whatever
        ``lam``."""
        lam = self.presence
        out = self.presence_head(style)
        left = np.random.default_rng([int(seed) % 2**63, 0xAB5]).random((n, len(rests)))
        mixed = {}
        for j, (track, share) in enumerate(rests.items()):
            if track not in out:
                mixed[track] = share
                continue
            x = out[track]
            mean = x + (1.0 - x) * share
            kept = (mean - lam * x) / np.maximum(1.0 - lam * x, 1e-9)
            mixed[track] = np.where(left[:, j] < lam * x, 1.0, np.clip(kept, 0.0, 1.0))
        return mixed

    @staticmethod
    def beats_for(seconds: float, bpm: float) -> int:
        """Whole beats covering ``seconds`` at ``bpm``, plus one."""
        return int(math.ceil(seconds * bpm / 60.0)) + 1

    def generate(self, style: torch.Tensor, *, seed: int, seconds: float) -> np.ndarray:
        """The evaluation interface: ``[n, D]`` -> ``[n, round(seconds * sr)]`` float32
        (each row at its own tempo-head tempo, with its genres' instruments)."""
        from mmgan.audio.io import loudness_normalize

        _check(seconds, self.eval_truncation, seed)
        styles = torch.nn.functional.normalize(torch.as_tensor(style).float(), dim=-1)
        out = []
        for i, s in enumerate(styles):
            bpm = self.tempo(s)
            steps = self.beats_for(seconds, bpm)
            lat_seed = int(seed) * 1009 + i  # row i of the batch, independent of n
            rolls = self.features(s[None], seed=lat_seed, steps=steps, truncation=1.0)[0]
            wave, _ = self.render_rolls(rolls.numpy(), s, bpm=bpm, seconds=seconds, seed=lat_seed)
            out.append(loudness_normalize(wave, self.sample_rate, TARGET_LUFS))
        return np.stack(out).astype(np.float32)

    def __call__(
        self,
        prompt: str | None = None,
        image: Any = None,
        audio: Any = None,
        style: Any = None,
        seconds: float = 20.0,
        seed: int = 0,
        truncation: float = 0.7,
        *,
        audio_sr: int | None = None,
        weights: dict[str, float] | None = None,
        sections: bool = True,
        section_depth: float = 0.3,
        morph_to: str | None = None,
        n_iter: int | None = None,
        describe: bool = True,
        renderer: str | None = None,
        bpm: float | None = None,
        instruments: Mapping[str, str] | None = None,
        key: str | int | None = None,
    ) -> GenerationResult:
        """A track of ``seconds`` plus its MIDI (see the module docstring). ``bpm`` overrides
        the tempo; ``key`` the tonic (``"A"``, ``"Bb minor"``; the mode is the generator's;
        default: drawn from the style's keys); ``instruments`` maps tracks to instruments
        (``{"lead": "sax"}``); ``n_iter`` and ``renderer`` are accepted for interface parity (the synth renders
        the MIDI; there is no mel to invert)."""
        import time

        from mmgan.audio.io import loudness_normalize

        del n_iter, renderer
        _check(seconds, truncation, seed)
        parse_tonic(key)  # a bad key is an error before any work
        t0 = time.perf_counter()
        s, info = self.style_of(prompt, image, audio, audio_sr, style, weights)
        tempo = float(bpm) if bpm is not None else self.tempo(s, prompt)
        if not math.isfinite(tempo) or not 20 <= tempo <= 400:
            raise ValueError(f"bpm must be in [20, 400], got {bpm}")
        steps = self.beats_for(seconds, tempo)
        plan, track = self.style_track(
            s, info, seconds, steps, 60.0 / tempo, sections, section_depth, morph_to
        )
        t1 = time.perf_counter()
        rolls = self.features(track[None], seed=seed, steps=steps, truncation=truncation, key=key)[
            0
        ]
        rolls = rolls.numpy() > 0.5
        t2 = time.perf_counter()
        mix_style = torch.nn.functional.normalize(track.mean(dim=1), dim=0)
        wave, score = self.render_rolls(
            rolls, mix_style, bpm=tempo, seconds=seconds, seed=seed, instruments=instruments
        )
        wave = compose.fade(wave, self.sample_rate, plan)
        wave = loudness_normalize(wave, self.sample_rate, TARGET_LUFS).astype(np.float32)
        t3 = time.perf_counter()
        meta = self._metadata(prompt, s, info, seconds, seed, truncation, plan)
        genres = self.genre_mix(mix_style)
        meta.update(
            engine="symbolic",
            bpm=round(tempo, 2),
            key=_key_of(score),
            steps_per_beat=STEPS_PER_BEAT,
            genres=[[g, round(w, 4)] for g, w in genres],
            arrangement={
                p.role: {"genre": role_plan(genres)[p.role], "instrument": p.instrument}
                for p in score.parts
            },
            notes={p.role: len(p.notes) for p in score.parts},
        )
        if describe:
            meta["predicted_tags"] = self.heard_as(wave)
        timings = {
            "style_s": t1 - t0,
            "generator_s": t2 - t1,
            "render_s": t3 - t2,  # arrangement, synth, fades, loudness
            "describe_s": time.perf_counter() - t3,
        }
        return GenerationResult(
            wave,
            self.sample_rate,
            s.numpy(),
            meta,
            None,
            timings,
            track.numpy(),
            score=score,
            rolls=rolls,
        )


def _key_of(score) -> str | None:
    """``"A minor"``: the key :func:`~mmgan.generate.symbolic.arrange` read from the notes
    (None when no pitched track plays)."""
    return f"{score.key} {score.mode}" if any(p.role != "drums" for p in score.parts) else None

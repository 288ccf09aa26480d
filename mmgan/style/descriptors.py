"""The descriptor vocabulary: named points of the style space that ``describe`` reports.

Two sources, in a stable order:

* the corpus tag vocabulary (:func:`mmgan.data.tags.vocabulary`), grouped as
  genre / mood / energy / tempo / mode / texture / instrument / descriptor;
* words users type that the built-in corpus lacks: common genre names
  ("shoegaze", "drum and bass"), extra moods, energy and tempo words,
  instruments, textures, and general musical words ("monotonous",
  "jazz harmony", "syncopated") in the group ``style``.

A :class:`DescriptorBank` holds one L2-normalised vector per descriptor,
made with any text encoder ``encode(list[str]) -> Tensor[B, D]``:

>>> bank = DescriptorBank.from_encoder(default_descriptors(), encode)  # doctest: +SKIP
>>> bank.nearest(style_vector, k=5)                                    # doctest: +SKIP
[('techno', 0.61), ('jazz harmony', 0.58), ...]
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

#: Descriptor groups, in the order :func:`default_descriptors` lists them.
GROUPS: tuple[str, ...] = (
    "genre",
    "mood",
    "energy",
    "tempo",
    "mode",
    "texture",
    "instrument",
    "descriptor",
    "style",
)

#: Template chosen for descriptor embeddings with MiniLM (measured; see tests/style).
DEFAULT_TEMPLATE = "{} music"


def _words(text: str) -> tuple[str, ...]:
    """Comma-separated names -> a tuple; line breaks inside a name count as one space."""
    return tuple(" ".join(w.split()) for w in text.split(",") if w.strip())


EXTRA_GENRES: tuple[str, ...] = _words(
    """
    rock, pop, punk, post-punk, grunge, indie rock, post-rock, shoegaze, progressive rock, black
    metal, death metal, doom metal, blues, country, bluegrass, soul, funk, disco, r&b, gospel,
    k-pop, bebop, free jazz, jazz fusion, bossa nova, samba, salsa, tango, flamenco, cumbia,
    reggaeton, afrobeat, dancehall, ska, dub, house, deep house, trance, drum and bass, jungle,
    dubstep, grime, trap, drill, breakbeat, electro, industrial, synthwave, vaporwave, chiptune,
    trip-hop, lo-fi hip-hop, downtempo, new age, classical, opera, choral music, minimalism,
    noise music, celtic music, indian classical music, gamelan
"""
)

EXTRA_MOODS: tuple[str, ...] = _words(
    """
    happy, sad, angry, romantic, peaceful, spooky, somber, triumphant, sentimental, lonely,
    chill, funky, psychedelic
"""
)

EXTRA_ENERGY: tuple[str, ...] = _words(
    """
    intense, mellow, laid-back, explosive, gentle
"""
)

EXTRA_TEMPO: tuple[str, ...] = _words(
    """
    upbeat, driving, slow-paced, breakneck
"""
)

EXTRA_TEXTURES: tuple[str, ...] = _words(
    """
    lo-fi, hi-fi, distorted, lush, airy, muddy, crisp, noisy, reverberant, dry
"""
)

EXTRA_INSTRUMENTS: tuple[str, ...] = _words(
    """
    guitar, piano, drums, synthesizer, strings, bass guitar, vocals, choir, harp, accordion,
    harmonica, sitar, tabla, marimba, steel drums, bagpipes, ukulele, turntables
"""
)

STYLE_WORDS: tuple[str, ...] = _words(
    """
    monotonous, repetitive, varied, simple harmony, complex harmony, jazz harmony, dissonant,
    consonant, virtuosic, improvised, acoustic, electronic, orchestral, minimal, maximal,
    groovy, danceable, swing, syncopated, polyrhythmic, odd time signature, straight rhythm,
    melodic, atmospheric, cinematic, experimental, catchy, instrumental, heavy, soft, loud,
    quiet
"""
)


@dataclass(frozen=True)
class Descriptor:
    """One named point of the style space.

    Attributes:
        name: what ``describe`` prints, e.g. ``"walking bass"``.
        group: one of :data:`GROUPS`.
        source: ``"corpus"`` (a tag of the built-in corpus) or ``"extra"``.
    """

    name: str
    group: str
    source: str = "extra"


def corpus_descriptors() -> list[Descriptor]:
    """The corpus tag vocabulary, grouped, in the order of :func:`mmgan.data.tags.vocabulary`."""
    from mmgan.audio.synth import INSTRUMENTS
    from mmgan.data.composers import GENRES
    from mmgan.data.composers.base import ENERGIES, TEXTURES
    from mmgan.data.tags import MODE_TAGS, MOODS, TEMPO_CLASSES, descriptor_vocabulary

    groups: list[tuple[str, Sequence[str]]] = [
        ("genre", list(GENRES)),
        ("mood", list(MOODS)),
        ("energy", [f"{e} energy" for e in ENERGIES]),
        ("tempo", [f"{t} tempo" for t in TEMPO_CLASSES]),
        ("mode", list(MODE_TAGS)),
        ("texture", [f"{t} texture" for t in TEXTURES]),
        ("instrument", sorted({spec.label for spec in INSTRUMENTS.values()})),
        ("descriptor", sorted({d for ds in descriptor_vocabulary().values() for d in ds})),
    ]
    return _dedupe(Descriptor(n, g, "corpus") for g, names in groups for n in names)


def extra_descriptors() -> list[Descriptor]:
    """Words users type that the corpus lacks (genre names, moods, instruments, style words)."""
    groups: list[tuple[str, Sequence[str]]] = [
        ("genre", EXTRA_GENRES),
        ("mood", EXTRA_MOODS),
        ("energy", EXTRA_ENERGY),
        ("tempo", EXTRA_TEMPO),
        ("texture", EXTRA_TEXTURES),
        ("instrument", EXTRA_INSTRUMENTS),
        ("style", STYLE_WORDS),
    ]
    return _dedupe(Descriptor(n, g, "extra") for g, names in groups for n in names)


def default_descriptors() -> list[Descriptor]:
    """Corpus vocabulary then extras; deduplicated (case-insensitive, first wins), stable order."""
    return _dedupe([*corpus_descriptors(), *extra_descriptors()])


def _dedupe(descriptors) -> list[Descriptor]:
    seen: set[str] = set()
    out: list[Descriptor] = []
    for d in descriptors:
        key = d.name.casefold()
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


class DescriptorBank:
    """Descriptor names with one L2-normalised vector each.

    Args:
        names: N distinct descriptor names.
        vectors: ``Tensor[N, D]``; rows are L2-normalised on the way in.
        groups: N group names (default: ``"descriptor"`` for all).
    """

    def __init__(
        self,
        names: Sequence[str],
        vectors: torch.Tensor,
        groups: Sequence[str] | None = None,
    ) -> None:
        names = list(names)
        vectors = torch.as_tensor(vectors, dtype=torch.float32).detach().cpu()
        if vectors.ndim != 2 or vectors.shape[0] != len(names):
            raise ValueError(
                f"vectors must be [N, D] with N = len(names) = {len(names)}, "
                f"got shape {tuple(vectors.shape)}"
            )
        if not names:
            raise ValueError("a DescriptorBank needs at least one descriptor")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate descriptor names: {dupes}")
        groups = list(groups) if groups is not None else ["descriptor"] * len(names)
        if len(groups) != len(names):
            raise ValueError(f"got {len(groups)} groups for {len(names)} names")
        norms = vectors.norm(dim=1, keepdim=True)
        if not torch.isfinite(vectors).all() or bool((norms < 1e-8).any()):
            bad = [names[i] for i in torch.nonzero(~(norms[:, 0] >= 1e-8)).flatten().tolist()]
            raise ValueError(f"descriptor vectors must be finite and non-zero; bad: {bad[:10]}")
        self._names = names
        self._groups = groups
        self._index = {n: i for i, n in enumerate(names)}
        self.vectors = vectors / norms  # [N, D]

    @classmethod
    def from_encoder(
        cls,
        descriptors: Sequence[Descriptor | str] | None,
        encode: Callable[[list[str]], torch.Tensor],
        template: str | Mapping[str, str] = DEFAULT_TEMPLATE,
    ) -> DescriptorBank:
        """Embed every descriptor once with ``encode`` (one call).

        Args:
            descriptors: Descriptors or plain names (group ``"descriptor"``);
                ``None`` means :func:`default_descriptors`.
            encode: ``list[str] -> Tensor[N, D]``, e.g. ``TextEncoder.encode``.
            template: a format string with one ``{}`` such as ``"{} music"``,
                or a mapping group -> template (missing groups use ``"{}"``).
        """
        if descriptors is None:
            descriptors = default_descriptors()
        items = [
            d if isinstance(d, Descriptor) else Descriptor(str(d), "descriptor")
            for d in descriptors
        ]
        templates = template if isinstance(template, Mapping) else {}
        for t in [template] if isinstance(template, str) else list(templates.values()):
            if t.count("{}") != 1:
                raise ValueError(f"a template needs exactly one '{{}}', got {t!r}")

        def fill(d: Descriptor) -> str:
            t = template if isinstance(template, str) else templates.get(d.group, "{}")
            return t.format(d.name)

        vectors = torch.as_tensor(encode([fill(d) for d in items]))
        if vectors.ndim != 2 or vectors.shape[0] != len(items):
            raise ValueError(
                f"encode returned shape {tuple(vectors.shape)} for {len(items)} texts; "
                "expected [N, D]"
            )
        return cls([d.name for d in items], vectors, [d.group for d in items])

    @property
    def names(self) -> list[str]:
        """Descriptor names, in bank order."""
        return list(self._names)

    @property
    def groups(self) -> list[str]:
        """The group of each descriptor, parallel to :attr:`names`."""
        return list(self._groups)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def group_of(self, name: str) -> str:
        return self._groups[self._lookup(name)]

    def vector(self, name: str) -> torch.Tensor:
        """The ``Tensor[D]`` of one descriptor; unknown name -> KeyError with suggestions."""
        return self.vectors[self._lookup(name)].clone()

    def _lookup(self, name: str) -> int:
        if name in self._index:
            return self._index[name]
        folded = {n.casefold(): i for n, i in self._index.items()}
        close = difflib.get_close_matches(str(name).casefold(), list(folded), n=5, cutoff=0.6)
        hint = ", ".join(repr(self._names[folded[c]]) for c in close)
        raise KeyError(
            f"unknown descriptor {name!r}; "
            + (f"did you mean: {hint}?" if hint else f"the bank has {len(self)} names, see .names")
        )

    def nearest(
        self,
        s: torch.Tensor,
        k: int = 5,
        groups: Sequence[str] | None = None,
    ) -> list[tuple[str, float]] | list[list[tuple[str, float]]]:
        """The ``k`` descriptors with the highest cosine similarity to ``s``.

        Args:
            s: ``Tensor[D]`` -> one list; ``Tensor[B, D]`` -> a list of B lists.
            k: how many (capped at the number of candidates).
            groups: only descriptors of these groups (default: all).

        Returns:
            ``[(name, cosine), ...]`` sorted by decreasing cosine (ties: bank order).
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        s = torch.as_tensor(s, dtype=torch.float32).detach().cpu()
        single = s.ndim == 1
        batch = s[None] if single else s
        if batch.ndim != 2 or batch.shape[1] != self.dim:
            raise ValueError(f"s must be [D] or [B, D] with D = {self.dim}, got {tuple(s.shape)}")
        candidates = torch.arange(len(self))
        if groups is not None:
            wanted = set(groups)
            unknown = sorted(wanted - set(self._groups))
            if unknown:
                raise ValueError(
                    f"unknown groups {unknown}; this bank has {sorted(set(self._groups))}"
                )
            candidates = torch.tensor([i for i, g in enumerate(self._groups) if g in wanted])
        batch = batch / batch.norm(dim=1, keepdim=True).clamp_min(1e-12)
        scores = batch @ self.vectors[candidates].T  # [B, M]
        k = min(k, len(candidates))
        out = []
        for row in scores:
            # stable sort: equal scores keep bank order
            order = torch.sort(row, descending=True, stable=True).indices[:k]
            out.append([(self._names[int(candidates[j])], float(row[j])) for j in order])
        return out[0] if single else out


def slider_vector(weights: Mapping[str, float], bank: DescriptorBank) -> torch.Tensor:
    """A style vector from descriptor sliders: ``normalize(sum_i w_i * bank.vector(name_i))``.

    Args:
        weights: descriptor name -> weight; negative weights push away.
        bank: where the names are looked up (unknown name -> KeyError with suggestions).

    Returns:
        ``Tensor[D]``, L2-normalised.

    Raises:
        ValueError: no weights, a non-finite weight, every weight zero, or sliders that
            cancel out to (almost) the zero vector.
    """
    if not weights:
        raise ValueError("no slider weights given: pass e.g. {'dark': 0.8, 'calm': 0.5}")
    bad = {n: w for n, w in weights.items() if not math.isfinite(float(w))}
    if bad:
        raise ValueError(f"slider weights must be finite numbers, got {bad}")
    if all(float(w) == 0.0 for w in weights.values()):
        raise ValueError("every slider weight is zero: move at least one slider")
    total = torch.zeros(bank.dim)
    for name, w in weights.items():
        total = total + float(w) * bank.vector(name)
    norm = float(total.norm())
    scale = sum(abs(float(w)) for w in weights.values())
    if norm < 1e-6 * scale:
        raise ValueError(f"the sliders {dict(weights)} cancel out to the zero vector")
    return total / norm

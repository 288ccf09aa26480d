"""The corpus tag vocabulary and the tags of one clip.

Every clip carries: genre, 1-3 moods, energy, tempo class, key and mode,
instruments (labels of the synth instruments that play), texture, and
genre-specific descriptors ("walking bass", "blast beats"), plus numeric bpm.
``flat_tags`` turns them into the multi-hot vocabulary the models train on.
"""

from __future__ import annotations

from typing import Any

from mmgan.data.composers.base import ENERGIES, TEXTURES, Composition
from mmgan.data.theory import mode_family, tempo_class

MOODS: tuple[str, ...] = (
    "dark",
    "bright",
    "melancholic",
    "uplifting",
    "aggressive",
    "calm",
    "dreamy",
    "playful",
    "tense",
    "epic",
    "warm",
    "mysterious",
    "nostalgic",
    "hypnotic",
    "energetic",
    "relaxed",
    "majestic",
    "gritty",
    "ethereal",
    "joyful",
)
TEMPO_CLASSES: tuple[str, ...] = ("slow", "moderate", "fast", "very fast")
MODE_TAGS: tuple[str, ...] = ("major", "minor")


def descriptor_vocabulary() -> dict[str, tuple[str, ...]]:
    """Genre -> the descriptors its composer may emit (declared on each composer class)."""
    from mmgan.data.composers import COMPOSERS

    return {g: tuple(getattr(c, "descriptors", ())) for g, c in COMPOSERS.items()}


def vocabulary() -> list[str]:
    """Every flat tag a clip can carry, in a fixed order (the multi-hot index)."""
    from mmgan.audio.synth import INSTRUMENTS
    from mmgan.data.composers import GENRES

    descriptors = sorted({d for ds in descriptor_vocabulary().values() for d in ds})
    instruments = sorted({spec.label for spec in INSTRUMENTS.values()})
    groups = (
        list(GENRES),
        list(MOODS),
        [f"{e} energy" for e in ENERGIES],
        [f"{t} tempo" for t in TEMPO_CLASSES],
        list(MODE_TAGS),
        [f"{t} texture" for t in TEXTURES],
        instruments,
        descriptors,
    )
    out: list[str] = []
    for group in groups:
        for tag in group:
            if tag not in out:
                out.append(tag)
    return out


def clip_tags(genre: str, comp: Composition) -> dict[str, Any]:
    """Structured tags of a composed clip (validated against the vocabulary)."""
    from mmgan.audio.synth import get_instrument
    from mmgan.data.composers import COMPOSERS

    score = comp.score
    bad = [m for m in comp.moods if m not in MOODS]
    if bad:
        raise ValueError(f"{genre}: unknown moods {bad}; valid: {MOODS}")
    if comp.energy not in ENERGIES:
        raise ValueError(f"{genre}: energy must be one of {ENERGIES}, got {comp.energy!r}")
    if comp.texture not in TEXTURES:
        raise ValueError(f"{genre}: texture must be one of {TEXTURES}, got {comp.texture!r}")
    allowed = set(getattr(COMPOSERS[genre], "descriptors", ()))
    bad = [d for d in comp.descriptors if d not in allowed]
    if bad:
        raise ValueError(f"{genre}: descriptors {bad} not declared on the composer class")
    instruments: list[str] = []
    for part in score.parts:
        if not part.notes:
            continue
        label = get_instrument(part.instrument).label
        if label not in instruments:
            instruments.append(label)
    family = mode_family(score.mode)
    return {
        "genre": genre,
        "moods": list(dict.fromkeys(comp.moods)),
        "energy": comp.energy,
        "tempo": tempo_class(score.bpm),
        "bpm": round(float(score.bpm), 2),
        "key": f"{score.key} {family}",
        "mode": family,
        "scale": score.mode,
        "meter": "{}/{}".format(*score.time_signature),
        "instruments": instruments,
        "texture": comp.texture,
        "descriptors": list(dict.fromkeys(comp.descriptors)),
    }


def flat_tags(tags: dict[str, Any]) -> list[str]:
    """The clip's tags as vocabulary strings (see :func:`vocabulary`)."""
    out = [tags["genre"], *tags["moods"], f"{tags['energy']} energy", f"{tags['tempo']} tempo"]
    out += [tags["mode"], f"{tags['texture']} texture", *tags["instruments"], *tags["descriptors"]]
    return list(dict.fromkeys(out))

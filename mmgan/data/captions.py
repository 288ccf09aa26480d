"""Natural-language captions from tags, from several templates (seeded)."""

from __future__ import annotations

from typing import Any

import numpy as np

_ENERGY_WORDS = {
    "low": ("laid-back", "gentle", "unhurried", "quiet"),
    "medium": ("steady", "flowing", "mid-energy", "groovy"),
    "high": ("driving", "intense", "high-energy", "relentless"),
}

_TEMPLATES = (
    "a {mood}, {energy} {label} track at {bpm} BPM in {key} with {desc}",
    "{Label} in {key}, {tempo} tempo ({bpm} BPM): {desc}; {moods}, {texture} texture",
    "{mood} {label} with {desc}, played on {instruments}, around {bpm} BPM",
    "instrumental {label}: {desc}. Mood: {moods}. Key of {key}, {bpm} BPM",
    "a {texture}, {mood} piece of {label} featuring {instruments} — {desc}",
    "{energy} {label} in {meter}, {key}, with {instruments}; it sounds {moods}",
)


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def make_caption(tags: dict[str, Any], label: str, rng: np.random.Generator) -> str:
    """One caption for a clip; the template and word choices depend on ``rng``."""
    descs = list(tags["descriptors"])
    rng.shuffle(descs)
    instruments = list(tags["instruments"])
    rng.shuffle(instruments)
    moods = list(tags["moods"])
    fields = {
        "mood": moods[0] if moods else "moody",
        "moods": _join(moods),
        "energy": str(rng.choice(_ENERGY_WORDS[tags["energy"]])),
        "label": label,
        "Label": label[:1].upper() + label[1:],
        "bpm": int(round(tags["bpm"])),
        "key": tags["key"],
        "tempo": tags["tempo"],
        "texture": tags["texture"],
        "meter": tags["meter"],
        "desc": _join(descs[: 2 + int(rng.integers(0, 2))]) or "a distinctive groove",
        "instruments": _join(instruments[:3]),
    }
    template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
    text = template.format(**fields)
    return text[:1].upper() + text[1:]

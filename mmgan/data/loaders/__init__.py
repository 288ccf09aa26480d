"""Real data sets in their own layouts, mapped to one record type.

``load_records(root)`` detects the layout (or takes ``layout=``) and returns
``(records, summary)``: one :class:`AudioRecord` per usable clip and a
:class:`LoadSummary` that counts what was loaded and what was skipped, and why.

Layouts (``root`` is the folder you pass), one module each:

- ``gtzan``: ``genres/<genre>/<genre>.000NN.wav`` (also ``genres_original/``, ``.au``)
- ``fma``: ``fma_metadata/tracks.csv`` (+ ``genres.csv``) and ``fma_<subset>/NNN/NNNNNN.mp3``
- ``mtg_jamendo``: ``[data/]autotagging*.tsv``, optional ``[data/]splits/split-0/*-train.tsv``
  etc., audio under ``audio/`` (or ``raw_30s/audio/``) at each row's ``PATH``
- ``musiccaps``: ``musiccaps-public.csv``, audio ``audio/<ytid>.wav`` (or .mp3/.flac)
- ``folder``: audio plus ``metadata.jsonl`` / ``metadata.csv`` (``file_name``, ``tags``,
  optional ``caption``, ``genre``, ``split``) — Hugging Face's *audiofolder* layout

``registry.REGISTRY`` maps each name to its :class:`Layout` (detector + loader).
A missing, corrupt or unsupported audio file, or a malformed metadata row, is skipped
with a :class:`DataWarning` and counted in the summary; it never aborts the load.
"""

from mmgan.data.loaders.common import (
    AUDIO_EXTENSIONS,
    BAD_ROW,
    CORRUPT,
    MISSING,
    SPLITS,
    UNSUPPORTED,
    AudioRecord,
    DataWarning,
    Layout,
    LoadSummary,
    check_audio,
    hash_split,
    normalise_split,
    normalise_tag,
    plain_caption,
)
from mmgan.data.loaders.fma import load_fma
from mmgan.data.loaders.folder import load_folder
from mmgan.data.loaders.gtzan import load_gtzan
from mmgan.data.loaders.mtg_jamendo import load_mtg_jamendo
from mmgan.data.loaders.musiccaps import load_musiccaps
from mmgan.data.loaders.registry import LAYOUTS, REGISTRY, detect_layout, load_records

__all__ = [
    "AUDIO_EXTENSIONS",
    "BAD_ROW",
    "CORRUPT",
    "LAYOUTS",
    "MISSING",
    "REGISTRY",
    "SPLITS",
    "UNSUPPORTED",
    "AudioRecord",
    "DataWarning",
    "Layout",
    "LoadSummary",
    "check_audio",
    "detect_layout",
    "hash_split",
    "load_fma",
    "load_folder",
    "load_gtzan",
    "load_mtg_jamendo",
    "load_musiccaps",
    "load_records",
    "normalise_split",
    "normalise_tag",
    "plain_caption",
]

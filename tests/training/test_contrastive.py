"""Contrastive trainer: loss, caption augmentation, a short run, resume, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mmgan.training.contrastive import (
    StyleModelConfig,
    StyleTrainConfig,
    StyleTrainer,
    augmented_captions,
    info_nce,
)


def _bag_of_words(texts: list[str]) -> torch.Tensor:
    """A cheap deterministic stand-in for the frozen text encoder: hashed word counts."""
    out = torch.zeros(len(texts), 384)
    for i, text in enumerate(texts):
        for word in text.lower().replace(",", " ").split():
            out[i, sum(map(ord, word)) * 7919 % 384] += 1.0
    return torch.nn.functional.normalize(out + 1e-3, dim=-1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from mmgan.data.corpus import build_corpus

    out = tmp_path_factory.mktemp("style_corpus")
    build_corpus(
        "tiny", out, genres=["jazz", "metal", "ambient"], clips_per_genre=3, progress=False
    )
    return out


def _cfg(**kw) -> StyleTrainConfig:
    base = dict(
        model=StyleModelConfig(channels=[8, 16], width=32, window_frames=64),
        steps=10,
        batch_size=3,
        lr=3e-3,
        warmup=1,
        eval_every=5,
        ckpt_every=5,
        captions_per_clip=2,
    )
    return StyleTrainConfig(**{**base, **kw})


def test_info_nce_prefers_matched_pairs():
    a = torch.nn.functional.normalize(torch.randn(6, 384), dim=-1)
    matched = info_nce(a, a, torch.tensor(10.0))
    shuffled = info_nce(a, a.roll(1, 0), torch.tensor(10.0))
    assert matched["loss"] < shuffled["loss"]
    assert matched["acc/a2t"] == 1.0 and shuffled["acc/a2t"] == 0.0


def test_augmented_captions_are_seeded_and_varied():
    row = {
        "genre": "jazz",
        "caption": "swing jazz at 120 BPM",
        "tags": ["jazz", "warm", "walking bass"],
        "moods": ["warm"],
        "energy": "low",
        "tempo": "moderate",
        "bpm": 120.0,
        "key": "F major",
        "meter": "4/4",
        "instruments": ["upright bass", "acoustic piano"],
        "texture": "sparse",
        "descriptors": ["walking bass", "swung ride cymbal"],
    }
    a = augmented_captions(row, 8, np.random.default_rng(0))
    assert a == augmented_captions(row, 8, np.random.default_rng(0))
    assert a[0] == "swing jazz at 120 BPM" and len(a) == 9 and len(set(a)) >= 6
    assert augmented_captions({"genre": "x", "caption": "c"}, 3, np.random.default_rng(0))[0] == "c"


def test_short_run_lowers_loss_checkpoints_and_resumes(corpus, tmp_path):
    torch.set_num_threads(2)
    run = tmp_path / "run"
    summary = StyleTrainer(_cfg(steps=20), corpus, run, text_fn=_bag_of_words, progress=False).fit()
    assert summary["step"] == 20
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, 21))
    assert "val/zero_shot_genre_acc" in lines[4] and "val/recall@10" in lines[9]
    first = np.mean([r["train/loss"] for r in lines[:4]])
    last = np.mean([r["train/loss"] for r in lines[-4:]])
    assert last < first
    assert (run / "state.pt").is_file() and (run / "model" / "model.safetensors").is_file()

    # interrupted after 10 steps, resumed to 20: the same weights as the straight run
    part = tmp_path / "part"
    StyleTrainer(_cfg(steps=20), corpus, part, text_fn=_bag_of_words, progress=False).fit(
        stop_at=10
    )
    resumed = StyleTrainer(
        _cfg(steps=20), corpus, part, resume=True, text_fn=_bag_of_words, progress=False
    )
    assert resumed.step == 10
    resumed.fit()
    straight = torch.load(run / "state.pt", weights_only=True)["model"]
    again = torch.load(part / "state.pt", weights_only=True)["model"]
    for key, value in straight.items():
        assert torch.allclose(value.float(), again[key].float(), atol=1e-5), key
    steps = [json.loads(x)["step"] for x in (part / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 21))


def test_resume_without_checkpoint_says_what_to_do(corpus, tmp_path):
    with pytest.raises(FileNotFoundError, match="without --resume"):
        StyleTrainer(_cfg(), corpus, tmp_path / "none", resume=True, text_fn=_bag_of_words)


def test_cli_train_style(corpus, tmp_path):
    from typer.testing import CliRunner

    from mmgan.cli import app

    out = tmp_path / "cli"
    args = [
        "train",
        "style",
        "--data",
        str(corpus),
        "--out",
        str(out),
        "--config",
        "configs/style-tiny.yaml",
        "--set",
        "steps=5",
        "--no-progress",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["step"] == 5
    assert (out / "model" / "config.json").is_file()
    bad = CliRunner().invoke(app, [*args[:-3], "--set", "stepz=5"])
    assert bad.exit_code == 2 and "unknown config key" in bad.output


def test_aux_tag_and_key_losses_train_the_chroma_model(corpus, tmp_path):
    torch.set_num_threads(2)
    model = StyleModelConfig(channels=[8, 16], width=32, window_frames=64, chroma=True, rhythm=True)
    cfg = _cfg(steps=6, model=model, aux_tags=1.0, aux_key=0.5, eval_every=3, ckpt_every=3)
    trainer = StyleTrainer(cfg, corpus, tmp_path / "run", text_fn=_bag_of_words, progress=False)
    assert trainer.train_set[0]["mel"].shape == (1, 92, 64)
    assert (trainer.key_idx >= 0).all()
    trainer.fit()
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all("train/aux_tags" in r and "train/aux_key" in r for r in lines)
    state = torch.load(tmp_path / "run" / "state.pt", weights_only=True)
    assert "aux_head.weight" in {f"aux_head.{k}" for k in state["aux_head"]}
    from mmgan.style.audio_encoder import StyleModel

    exported = StyleModel.from_pretrained(tmp_path / "run" / "model")
    assert exported.config["chroma"] and not any("aux" in k for k in exported.state_dict())


def test_stage_two_trains_only_the_text_side_with_music_terms(corpus, tmp_path):
    """init_from + freeze_audio: audio weights stay those of the stage-1 model bit for bit;
    the key/tempo terms (zero at the start) learn; the exported model needs the terms."""
    from mmgan.style.audio_encoder import StyleModel

    torch.set_num_threads(1)
    audio = dict(channels=[8, 16], width=32, window_frames=64, chroma=True, rhythm=True)
    StyleTrainer(
        _cfg(steps=3, model=StyleModelConfig(**audio)),
        corpus,
        tmp_path / "one",
        text_fn=_bag_of_words,
        progress=False,
    ).fit()
    cfg = _cfg(
        steps=8,
        model=StyleModelConfig(**audio, music_terms=True, style_space_id="test-v3"),
        init_from=str(tmp_path / "one" / "model"),
        freeze_audio=True,
        frozen_hop=16,
    )
    trainer = StyleTrainer(cfg, corpus, tmp_path / "two", text_fn=_bag_of_words, progress=False)
    assert trainer.audio_bank.shape[:2] == (len(trainer.train_set), trainer.audio_bank.shape[1])
    assert trainer.audio_bank.shape[1] > 1  # several windows per clip to draw from
    assert (trainer.bank_terms[0] < 24).any() and (trainer.bank_terms[1] > 0).any()
    trainer.fit()
    one = StyleModel.from_pretrained(tmp_path / "one" / "model")
    two = StyleModel.from_pretrained(tmp_path / "two" / "model")
    assert two.config["style_space_id"] == "test-v3" and two.config["music_terms"]
    for name, p in one.audio_encoder.state_dict().items():
        assert torch.equal(p, two.audio_encoder.state_dict()[name]), name
    assert two.key_embedding.weight.abs().sum() > 0  # learned from zero
    assert two.tempo_proj.weight.abs().sum() > 0
    t = torch.nn.functional.normalize(torch.randn(2, 384), dim=-1)
    with pytest.raises(ValueError, match="key and tempo"):
        two.project_text(t)
    a = two.project_text(t, two.text_terms(["jazz in D minor at 90 BPM"] * 2))
    b = two.project_text(t, two.text_terms(["jazz in F# major at 160 BPM"] * 2))
    assert not torch.allclose(a, b)


def test_init_from_a_model_of_other_shapes_is_refused(corpus, tmp_path):
    torch.set_num_threads(1)
    StyleTrainer(
        _cfg(steps=2), corpus, tmp_path / "one", text_fn=_bag_of_words, progress=False
    ).fit()
    bigger = StyleModelConfig(channels=[8, 32], width=32, window_frames=64)
    cfg = _cfg(model=bigger, init_from=str(tmp_path / "one" / "model"))
    with pytest.raises(ValueError, match="does not fit"):
        StyleTrainer(cfg, corpus, tmp_path / "two", text_fn=_bag_of_words, progress=False)

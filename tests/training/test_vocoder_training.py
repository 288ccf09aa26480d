"""Training the GAN vocoder: run files, exact resume, DDP replicas, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mmgan.config import load_config
from mmgan.training.vocoder import VocoderTrainConfig, VocoderTrainer

TINY = Path(__file__).resolve().parents[2] / "configs" / "vocoder-tiny.yaml"


def tiny_cfg(*overrides: str) -> VocoderTrainConfig:
    return load_config(VocoderTrainConfig, TINY, list(overrides))


def test_tiny_run_writes_a_loadable_model_samples_and_metrics(tiny_corpus, tmp_path):
    from mmgan.models.vocoder import Vocoder

    summary = VocoderTrainer(tiny_cfg(), tiny_corpus, tmp_path, progress=False).fit()
    assert summary["step"] == 6 and not summary["interrupted"]
    assert summary["val/mel_l1"] > 0
    for name in ("config.yaml", "state.pt", "summary.json", "metrics.jsonl"):
        assert (tmp_path / name).is_file(), name
    assert any((tmp_path / "tb").iterdir())
    for step in ("step_000003", "step_000006"):
        folder = tmp_path / "samples" / step
        assert {p.name for p in folder.iterdir()} == {
            "original.wav", "vocoder.wav", "griffinlim.wav", "spectrograms.png",
        }  # fmt: skip
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert "d/loss" not in rows[0] and "d/loss" in rows[2]  # discriminators join at step 2
    assert "val/mel_l1" in rows[2] and {"g/iaf", "g/gd", "g/amp"} <= set(rows[0])
    voc, cfg = Vocoder.from_pretrained(tmp_path / "model")
    assert cfg["trained_steps"] == 6
    audio = voc.synthesise(torch.randn(80, 30).numpy() - 5)
    assert audio.shape == (29 * 256,)


def test_pghi_run_trains_magnitudes_with_the_true_phase_then_through_pghi(tiny_corpus, tmp_path):
    from mmgan.models.vocoder import Vocoder

    cfg = tiny_cfg("generator.phase=pghi", "pghi_start=3")
    summary = VocoderTrainer(cfg, tiny_corpus, tmp_path, progress=False).fit()
    assert summary["step"] == 6 and summary["val/mel_l1"] > 0
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    # the phase error against each crop's own phase: none while it is given, PGHI's after
    assert all(r["g/iaf"] < 1e-6 for r in rows[:3]), [r["g/iaf"] for r in rows]
    assert all(r["g/iaf"] > 0.01 for r in rows[3:]), [r["g/iaf"] for r in rows]
    voc, config = Vocoder.from_pretrained(tmp_path / "model")
    assert voc.phase_mode == "pghi" and config["phase"] == "pghi"
    audio = voc.synthesise(torch.randn(80, 30).numpy() - 5)
    assert audio.shape == (29 * 256,) and bool(torch.isfinite(torch.from_numpy(audio)).all())


@pytest.mark.parametrize("phase", ["learned", "pghi", "direct"])
def test_resume_continues_exactly(tiny_corpus, tmp_path, phase):
    # pghi: through PGHI from step 2, so the resume lands past the switch
    overrides = (f"generator.phase={phase}", "pghi_start=2")
    straight = VocoderTrainer(tiny_cfg(*overrides), tiny_corpus, tmp_path / "a", progress=False)
    straight.fit()
    first = VocoderTrainer(tiny_cfg(*overrides), tiny_corpus, tmp_path / "b", progress=False)
    first.fit(stop_at=3)  # as if killed after step 3 (a checkpoint is written on the way out)
    resumed = VocoderTrainer(
        tiny_cfg(*overrides), tiny_corpus, tmp_path / "b", resume=True, progress=False
    )
    assert resumed.step == 3
    resumed.fit()
    for key, value in straight.g.state_dict().items():
        assert torch.allclose(value, resumed.g.state_dict()[key], atol=1e-6), key
    a = (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()
    b = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert len(a) == len(b) == 6
    for x, y in zip(a, b, strict=True):
        assert json.loads(x)["g/loss"] == pytest.approx(json.loads(y)["g/loss"], rel=1e-4)


def test_bad_settings_give_clear_errors(tiny_corpus, tmp_path):
    with pytest.raises(ValueError, match="multiple of 256"):
        VocoderTrainer(tiny_cfg("segment=2000"), tiny_corpus, tmp_path, progress=False)
    with pytest.raises(ValueError, match="unknown lambdas"):
        VocoderTrainer(tiny_cfg("lambdas.melx=1"), tiny_corpus, tmp_path, progress=False)
    with pytest.raises(ValueError, match="pghi_start must be >= 0"):
        VocoderTrainer(tiny_cfg("pghi_start=-1"), tiny_corpus, tmp_path, progress=False)
    with pytest.raises(ValueError, match="phase must be one of"):  # before any file is made
        VocoderTrainer(tiny_cfg("generator.phase=magic"), tiny_corpus, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(FileNotFoundError, match="without --resume"):
        VocoderTrainer(tiny_cfg(), tiny_corpus, tmp_path / "none", resume=True, progress=False)
    torch.save({"step": 3, "kind": "gan"}, tmp_path / "state.pt")
    with pytest.raises(ValueError, match="not a vocoder training state"):
        VocoderTrainer(tiny_cfg(), tiny_corpus, tmp_path, resume=True, progress=False)


def test_init_starts_from_a_saved_vocoder_and_refuses_another_network(tiny_corpus, tmp_path):
    from mmgan.models.vocoder import Vocoder

    first = tiny_cfg("generator.phase=direct", "steps=3")
    VocoderTrainer(first, tiny_corpus, tmp_path / "a", progress=False).fit()
    saved, _ = Vocoder.from_pretrained(tmp_path / "a" / "model")
    cfg = tiny_cfg("generator.phase=direct", f"init={tmp_path / 'a' / 'model'}")
    second = VocoderTrainer(cfg, tiny_corpus, tmp_path / "b", progress=False)
    for key, value in saved.state_dict().items():  # the weights start where run a ended
        assert torch.equal(value, second.g.state_dict()[key]), key
    second.fit(stop_at=2)
    _, config = Vocoder.from_pretrained(tmp_path / "b" / "model")
    assert config["trained_steps"] == 2 and config["init_steps"] == 3
    assert config["init"] == str(tmp_path / "a" / "model")
    resumed = VocoderTrainer(cfg, tiny_corpus, tmp_path / "b", resume=True, progress=False)
    resumed.fit(stop_at=4)  # the record of where the weights started survives a resume
    assert Vocoder.from_pretrained(tmp_path / "b" / "model")[1]["init_steps"] == 3
    fresh = VocoderTrainer(tiny_cfg("generator.phase=direct"), tiny_corpus, tmp_path / "c")
    assert not torch.equal(fresh.g.head.weight, saved.head.weight)  # without init: the seed's
    other = tiny_cfg("generator.phase=pghi", f"init={tmp_path / 'a' / 'model'}")
    with pytest.raises(ValueError, match=r"differs from this run's generator.*phase"):
        VocoderTrainer(other, tiny_corpus, tmp_path / "d", progress=False)
    assert not (tmp_path / "d").exists()  # refused before anything was written
    with pytest.raises(ValueError, match="is not a mmgan-vocoder model folder"):
        VocoderTrainer(tiny_cfg(f"init={tmp_path / 'none'}"), tiny_corpus, tmp_path / "e")


def test_cli_trains_and_reports(tiny_corpus, tmp_path):
    from typer.testing import CliRunner

    from mmgan.cli import app

    args = ["train", "vocoder", "--data", str(tiny_corpus), "--out", str(tmp_path / "run")]
    args += ["--config", str(TINY), "--set", "steps=2", "--no-progress"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.strip().splitlines()[-1])["step"] == 2
    res = CliRunner().invoke(app, [*args, "--set", "segment=100"])
    assert res.exit_code != 0 and "segment must be a multiple" in res.output


def test_ddp_two_cpu_processes_keep_identical_replicas(tiny_corpus, tmp_path):
    """torchrun --nproc_per_node 2 (gloo): generator and discriminators stay identical."""
    from ddp_worker import run_two_ranks

    run_two_ranks(TINY, tiny_corpus, tmp_path, "vocoder", port=29533)


@pytest.mark.parametrize("path", sorted(TINY.parent.glob("vocoder-*.yaml")), ids=lambda p: p.name)
def test_every_vocoder_config_loads_and_builds_its_generator(path):
    from mmgan.config import to_dict
    from mmgan.models.vocoder import Vocoder

    cfg = load_config(VocoderTrainConfig, path, [])  # unknown keys are refused here
    g = Vocoder(**to_dict(cfg.generator))
    assert cfg.segment % g.hop == 0 and g.num_parameters() > 0

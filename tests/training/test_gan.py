"""GAN training: augmentation, the two loss steps, a real tiny run (files, metrics,
samples), exact resume, checkpoint on SIGINT, and DistributedDataParallel on 2 CPU
processes (gloo) with identical replicas."""

from __future__ import annotations

import json
import os
import signal
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from mmgan.config import load_config, to_dict
from mmgan.training.gan import (
    GANTrainConfig,
    augment,
    build_models,
    d_step,
    g_step,
    hybrid_rows,
    step_generator,
    within_distance,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.yaml"


def tiny_cfg(**overrides) -> GANTrainConfig:
    cfg = load_config(GANTrainConfig, TINY)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


def test_configs_load():
    for name in (
        "tiny",
        "cpu-small",
        "cpu-small-vp",
        "cpu-small-v6",
        "cpu-small-v7",
        "cpu-small-mix",
        "gpu-base",
        "symbolic-tiny",
        "symbolic-small",
        "symbolic-small-v2",
        "symbolic-small-v3",
    ):
        cfg = load_config(GANTrainConfig, ROOT / "configs" / f"{name}.yaml")
        assert cfg.crop_frames % 8 == 0 and cfg.steps > 0
    vp = load_config(GANTrainConfig, ROOT / "configs" / "cpu-small-vp.yaml")
    assert vp.generator.latent_interp == "vp"  # the shipped v5 continues cpu-small with it
    assert vp.steps > load_config(GANTrainConfig, ROOT / "configs" / "cpu-small.yaml").steps
    v6 = load_config(GANTrainConfig, ROOT / "configs" / "cpu-small-v6.yaml")  # the shipped v6
    assert v6.steps > vp.steps and v6.lambdas["div_style"] > vp.lambdas["div_style"]
    assert (v6.generator, v6.discriminator) == (vp.generator, vp.discriminator)  # resumable
    v7 = load_config(GANTrainConfig, ROOT / "configs" / "cpu-small-v7.yaml")  # the shipped v7
    assert v7.steps > v6.steps and to_dict(replace(v7, steps=v6.steps)) == to_dict(v6)
    mix = load_config(GANTrainConfig, ROOT / "configs" / "cpu-small-mix.yaml")  # v7 + mixes
    assert mix.init_from == "mmgan/pretrained/gan" and mix.mix_p > 0 and mix.d_warmup > 0
    same = replace(mix, steps=v7.steps, init_from="", d_warmup=0, mix_p=0.0, lr_g=v7.lr_g)
    assert to_dict(same) == to_dict(v7)  # v7's recipe otherwise
    assert load_config(GANTrainConfig, ROOT / "configs" / "gpu-base.yaml").device == "cuda"
    sym = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-small.yaml")
    sym2 = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-small-v2.yaml")  # shipped
    assert sym2.steps > sym.steps and sym2.imle_candidates > sym.imle_candidates
    same = replace(sym2, steps=sym.steps, imle_candidates=sym.imle_candidates)
    assert to_dict(same) == to_dict(sym)  # resumes symbolic-small's run
    sym3 = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-small-v3.yaml")
    assert sym3.imle_refine > 0 and sym3.init_from.endswith("model")  # fine-tunes v2's export
    assert to_dict(replace(sym3, steps=sym2.steps, imle_refine=0, init_from="")) == to_dict(sym2)
    sym4a = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-small-v4a.yaml")
    sym4 = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-small-v4.yaml")  # shipped
    assert sym4a.imle_refine_noise and not sym4.imle_refine_noise
    assert sym4a.init_from == "runs/symbolic-v3/model"  # v3's export, then stage 1's
    assert sym4.init_from == "runs/symbolic-v4a/model"
    for stage in (sym4a, sym4):  # v3's recipe otherwise
        same = replace(stage, steps=sym3.steps, imle_refine_noise=False, init_from=sym3.init_from)
        assert to_dict(same) == to_dict(sym3)
    sym5 = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-small-v5.yaml")  # shipped
    assert sym5.init_from == "runs/symbolic-v4/model" and sym5.lambdas["imle"] == 25.0
    assert to_dict(replace(sym5, lambdas=sym4.lambdas, init_from=sym4.init_from)) == to_dict(sym4)


def test_augment_is_seeded_and_keeps_shape():
    x = torch.randn(6, 92, 64)
    assert torch.equal(augment(x, 0.0, torch.Generator().manual_seed(0)), x)
    a = augment(x, 1.0, torch.Generator().manual_seed(1))
    b = augment(x, 1.0, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)
    y = x.clone().requires_grad_(True)
    augment(y, 1.0, torch.Generator().manual_seed(2)).sum().backward()
    assert y.grad is not None and y.grad.abs().sum() > 0  # differentiable (DiffAugment)


def test_loss_steps_return_namespaced_scalars():
    cfg = tiny_cfg()
    torch.manual_seed(0)
    g, d = build_models(cfg, style_dim=16)
    real = torch.randn(4, 92, 64)
    style = torch.nn.functional.normalize(torch.randn(4, 16), dim=1)
    gen = step_generator(0, 0)
    lat = g.sample_latents(4, 8, generator=gen)
    loss, logs = d_step(d, g, real, style, lat, cfg, gen, r1=True)
    assert {"d/real", "d/fake", "d/match", "d/loss", "r1"} <= set(logs)
    assert torch.isfinite(loss)
    loss, logs = g_step(d, g, style, lat, cfg, gen, div_ref=1.0)
    assert {"g/adv", "g/div", "g/div_ratio", "g/loss"} <= set(logs)
    loss.backward()
    assert all(p.grad is not None for p in g.parameters() if p.requires_grad)


def test_style_diversity_term_acts_on_generic_pairs_only():
    cfg = tiny_cfg(style_batch=4)
    cfg.lambdas = {"adv": 1.0, "div": 0.0, "style": 0.5, "div_style": 1.0}
    torch.manual_seed(0)
    g, d = build_models(cfg, style_dim=16)
    proj = torch.randn(92 * 64, 16)

    def encoder(mel):  # a fixed stand-in for the frozen style encoder: [n, 1, 92, T] -> [n, 16]
        return mel.flatten(1) @ proj

    style = torch.nn.functional.normalize(torch.randn(4, 16), dim=1)
    gen = step_generator(0, 0)
    lat = g.sample_latents(4, 8, generator=gen)
    kw = dict(div_ref=1.0, encoder=encoder, style_ref=torch.full((4,), 0.3))
    _, logs = g_step(d, g, style, lat, cfg, gen, generic=torch.zeros(4, dtype=torch.bool), **kw)
    assert "g/style" in logs and "g/div_style" not in logs  # no bare-genre pair: no term
    loss, logs = g_step(d, g, style, lat, cfg, gen, generic=torch.ones(4, dtype=torch.bool), **kw)
    assert -1.0 <= logs["g/div_style"] < 0
    g.zero_grad()
    loss.backward()
    assert all(p.grad is not None for p in g.parameters() if p.requires_grad)


def test_genre_prob_conditions_rows_on_the_genre_name(tiny_corpus, tmp_path):
    from mmgan.training.gan_trainer import GANTrainer

    trainer = GANTrainer(
        tiny_cfg(genre_prob=1.0, batch_size=8), tiny_corpus, tmp_path / "r", progress=False
    )
    data = trainer.data_
    assert data.genre_styles.shape[:2] == (len(data.genres), 4)
    assert torch.isfinite(data.style_within).all() and (data.style_within > 0).all()
    _, style, _, extra = trainer.batch(0)
    assert extra["generic"].all()
    generic = data.genre_styles.reshape(-1, style.shape[1])
    nearest = (style @ generic.T).max(dim=1).values
    assert torch.allclose(nearest, torch.ones_like(nearest), atol=1e-5)  # each row is one
    assert extra["style_ref"].shape == (8,)


def test_hybrid_rows_mix_two_genres_only_in_the_checked_rows():
    style = torch.nn.functional.normalize(torch.randn(8, 16), dim=1)
    genre = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    mixed, mask = hybrid_rows(style, genre, 1.0, 4, torch.Generator().manual_seed(0))
    assert not mask[4:].any() and torch.equal(mixed[4:], style[4:])  # outside the n rows
    assert mask.any()
    assert torch.equal(mixed[~mask], style[~mask])
    cos_own = (mixed[mask] * style[mask]).sum(-1)
    assert (cos_own < 0.999).all()  # moved off its own style ...
    assert torch.allclose(mixed.norm(dim=1), torch.ones(8), atol=1e-5)  # ... on the sphere
    same = hybrid_rows(style, torch.zeros(8, dtype=torch.long), 1.0, 4, torch.Generator())
    assert not same[1].any()  # a partner of the same genre is no hybrid


def test_real_mixes_are_the_features_of_mixed_audio(tiny_corpus, tmp_path):
    from mmgan.audio.features import MelParams, log_mel
    from mmgan.audio.io import load_audio
    from mmgan.data.mixes import mix_audio
    from mmgan.training.gan_data import real_mixes
    from mmgan.training.gan_trainer import GANTrainer

    cfg = tiny_cfg(mix_p=1.0, text_prob=0.0, genre_prob=0.0, batch_size=8)
    trainer = GANTrainer(cfg, tiny_corpus, tmp_path / "r", progress=False)
    data, mixes = trainer.data_, trainer.mixes
    assert mixes.feats.shape == data.feats.shape and (tmp_path / "r" / "gan_mixes.pt").is_file()
    has = mixes.partner >= 0
    assert has.all() and (data.genre[mixes.partner] != data.genre).all()
    assert ((mixes.weight >= 0.25) & (mixes.weight <= 0.75)).all()
    i = 0  # clip 0's mix: the features of the mixed audio, padded like the clips'
    params = MelParams(chroma=True)
    x, _ = load_audio(data.paths[i], sr=params.sr, mono=True)
    y, _ = load_audio(data.paths[int(mixes.partner[i])], sr=params.sr, mono=True)
    want = log_mel(mix_audio(x, y, float(mixes.weight[i])), params.sr, params)
    n = min(want.shape[1], mixes.feats.shape[-1])
    np.testing.assert_allclose(mixes.feats[i, :, :n].float().numpy(), want[:, :n], atol=0.02)
    again = real_mixes(data, seed=cfg.seed, cache=tmp_path / "r" / "gan_mixes.pt")  # cached
    assert torch.equal(again.feats, mixes.feats) and torch.equal(again.partner, mixes.partner)
    other = real_mixes(data, seed=cfg.seed + 1, cache=None, progress=False)
    assert not torch.equal(other.partner, mixes.partner)
    with pytest.raises(ValueError, match="0 < lo <= hi < 1"):
        real_mixes(data, seed=0, weight_range=(0.0, 0.5))

    # every real row of a batch is now a mix, conditioned on the slerp of the two styles
    real, style, gen, extra = trainer.batch(3)
    assert extra["mixed"].all() and not extra["generic"].any()
    idx = torch.randint(0, len(data), (8,), generator=step_generator(cfg.seed, 3, 0))
    from mmgan.generate.latent import slerp

    own, partner = data.styles[idx, 0], data.styles[mixes.partner[idx], 0]
    want_style = slerp(own, partner, 1.0 - mixes.weight[idx][:, None])
    torch.testing.assert_close(style, want_style, atol=1e-5, rtol=1e-5)
    crops = trainer.g_ema.denormalise(real)  # each a window of its clip's mix
    frames = crops.shape[-1]
    for r in range(8):
        source = mixes.feats[idx[r]].float()
        hits = [
            s
            for s in range(source.shape[-1] - frames + 1)
            if torch.allclose(source[:, s : s + frames], crops[r], atol=1e-3)
        ]
        assert hits, r
    logs = trainer.train_step(0)
    assert logs["data/mixed"] == 1.0 and all(np.isfinite(v) for v in logs.values())
    nowhere = tmp_path / "no-corpus"  # both refused before any data loads
    with pytest.raises(ValueError, match="mix_p must be in"):
        GANTrainer(tiny_cfg(mix_p=1.5), nowhere, tmp_path / "x", progress=False)
    with pytest.raises(ValueError, match=r"mix_weight must be \[lo, hi\]"):
        GANTrainer(tiny_cfg(mix_p=0.5, mix_weight=[0.2, 0.5, 0.7]), nowhere, tmp_path / "y")


def test_d_warmup_trains_the_discriminator_alone_first(tiny_corpus, tmp_path):
    from mmgan.training.distributed import unwrap
    from mmgan.training.gan_trainer import GANTrainer

    def weights(m):
        return {k: v.detach().clone() for k, v in unwrap(m).state_dict().items()}

    trainer = GANTrainer(tiny_cfg(d_warmup=2, steps=4), tiny_corpus, tmp_path / "r", progress=False)
    g0, ema0, d0 = weights(trainer.g), weights(trainer.g_ema), weights(trainer.d)
    trainer.fit(stop_at=2)
    assert all(torch.equal(v, weights(trainer.g)[k]) for k, v in g0.items())
    assert all(torch.equal(v, weights(trainer.g_ema)[k]) for k, v in ema0.items())
    assert any(not torch.equal(v, weights(trainer.d)[k]) for k, v in d0.items())
    rows = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert rows and all("g/adv" not in r and r["data/d_warmup"] == 1.0 for r in rows)
    logs = trainer.train_step(2)  # past the warm-up: G trains again
    assert "g/adv" in logs and "data/d_warmup" not in logs
    assert any(not torch.equal(v, weights(trainer.g)[k]) for k, v in g0.items())
    nowhere = tmp_path / "no-corpus"  # refused before any data loads
    for bad in (-1, 4, 1.5, True):
        with pytest.raises(ValueError, match="d_warmup must be a whole number"):
            GANTrainer(tiny_cfg(d_warmup=bad, steps=4), nowhere, tmp_path / "x", progress=False)


def test_within_distance():
    x = torch.zeros(3, 2, 4)
    x[0] += 1
    assert within_distance(x) == pytest.approx((1 + 1 + 0) / 3)


def test_tiny_run_writes_everything(tiny_gan_run):
    run = tiny_gan_run
    for name in ("state.pt", "config.yaml", "metrics.jsonl", "summary.json", "model/config.json"):
        assert (run / name).is_file(), name
    assert list((run / "tb").iterdir())  # TensorBoard event file
    grid = run / "samples" / "step_000004"
    assert (grid / "grid.png").stat().st_size > 1000 and len(list(grid.glob("*.wav"))) == 10
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert {"d/loss", "g/adv", "g/div_ratio"} <= set(rows[0])
    assert "div/min" in rows[1] and "cond/style_acc" in rows[1]  # diversity tracked in training
    assert 0 <= rows[1]["sdiv/min"] <= rows[1]["sdiv/mean"]  # ... in the style embedding too
    assert 0 <= rows[1]["sdiv_audio/min"] <= rows[1]["sdiv_audio/mean"]  # ... and as rendered
    assert {f"sdiv_audio/{g}" for g in config_genres(run)} <= set(rows[1])
    assert any("g/div_style" in r for r in rows)  # tiny.yaml exercises the bare-genre pairs
    assert 0 <= rows[1]["hyb/min"] <= 0.5  # the seed's hybrid pairs probed at the midpoint
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["model_type"] == "mmgan-specgan" and config["trained_steps"] == 4
    assert config["style_space_id"] == "mmgan-style-minilm-v3"


def test_resume_equals_uninterrupted_run(tiny_corpus, tmp_path):
    from mmgan.training.gan_trainer import GANTrainer

    cfg = tiny_cfg(eval_every=0, sample_every=0, ckpt_every=0)
    full = GANTrainer(cfg, tiny_corpus, tmp_path / "a", progress=False)
    full.fit()
    part = GANTrainer(cfg, tiny_corpus, tmp_path / "b", progress=False)
    part.fit(stop_at=2)
    resumed = GANTrainer(cfg, tiny_corpus, tmp_path / "b", resume=True, progress=False)
    assert resumed.step == 2
    resumed.fit()
    for key, value in full.g_ema.state_dict().items():
        assert torch.allclose(value, resumed.g_ema.state_dict()[key], atol=1e-6), key
    losses = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    again = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["g/adv"] for r in losses] == pytest.approx([r["g/adv"] for r in again], abs=1e-5)


def test_sigint_checkpoints_and_stops(tiny_corpus, tmp_path, monkeypatch):
    from mmgan.training.gan_trainer import GANTrainer

    cfg = tiny_cfg(steps=50, eval_every=0, sample_every=0, ckpt_every=0)
    trainer = GANTrainer(cfg, tiny_corpus, tmp_path, progress=False)
    step = trainer.train_step

    def step_then_signal(k):
        out = step(k)
        if k == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(trainer, "train_step", step_then_signal)
    summary = trainer.fit()
    assert summary["interrupted"] and summary["step"] == 2
    from mmgan.training.checkpoint import load_state

    assert load_state(tmp_path / "state.pt")["step"] == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_bad_config_is_a_clear_error(tiny_corpus, tmp_path):
    from mmgan.training.gan_trainer import GANTrainer

    with pytest.raises(ValueError, match="multiple of 8"):
        GANTrainer(tiny_cfg(crop_frames=60), tiny_corpus, tmp_path, progress=False)
    with pytest.raises(FileNotFoundError):
        GANTrainer(tiny_cfg(), tiny_corpus, tmp_path / "x", resume=True, progress=False)


def test_ddp_two_cpu_processes_keep_identical_replicas(tiny_corpus, tmp_path):
    """torchrun --nproc_per_node 2 (gloo): both ranks train; weights stay identical."""
    from ddp_worker import run_two_ranks

    run_two_ranks(TINY, tiny_corpus, tmp_path, "gan", port=29531)


def test_mixed_precision_steps_on_cpu(tiny_corpus, tmp_path):
    """``amp`` (bfloat16 autocast, the GPU path) runs and gives finite losses on the CPU too."""
    from mmgan.training.gan_trainer import GANTrainer

    cfg = tiny_cfg(amp=True, steps=2, eval_every=0, sample_every=0)
    trainer = GANTrainer(cfg, tiny_corpus, tmp_path, progress=False)
    logs = trainer.train_step(0)
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())


def test_symbolic_family_trains_with_the_same_trainer(tiny_symbolic_run):
    run = tiny_symbolic_run
    grid = run / "samples" / "step_000004"
    assert (grid / "grid.png").stat().st_size > 1000 and len(list(grid.glob("*.mid"))) == 10
    import pretty_midi

    pitched = [  # decoded as the pipeline decodes: no pitched note under 2 steps (1/6 beat)
        n.end - n.start
        for path in grid.glob("*.mid")
        for inst in pretty_midi.PrettyMIDI(str(path)).instruments
        if not inst.is_drum
        for n in inst.notes
    ]
    assert pitched and min(pitched) > 1.5 / 12 * 0.5  # 120 BPM: a step 0.042 s (MIDI ticks round)
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"d/loss", "g/adv", "g/div_ratio"} <= set(rows[0])
    assert "div/min" in rows[1] and "sdiv/min" not in rows[1]  # no audio to embed
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["model_type"] == "mmgan-pianoroll" and config["family"] == "symbolic"
    head = config["tempo_head"]
    assert len(head["weight"]) == 384 and 3.5 < head["bias"] < 5.5  # log BPM ~ 33-245


def test_symbolic_family_refuses_audio_only_terms(tiny_corpus, tmp_path):
    from mmgan.training.gan_trainer import GANTrainer

    cfg = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-tiny.yaml")
    cfg.lambdas = {**cfg.lambdas, "style": 1.0}
    with pytest.raises(ValueError, match="no audio"):
        GANTrainer(cfg, tiny_corpus, tmp_path / "r", progress=False)
    cfg = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-tiny.yaml")
    cfg.crop_frames = 100
    with pytest.raises(ValueError, match="multiple of 12"):
        GANTrainer(cfg, tiny_corpus, tmp_path / "r", progress=False)


def test_imle_picks_the_nearest_of_the_candidates_and_trains(tiny_corpus, tmp_path):
    from mmgan.models.pianoroll import PianoRollGenerator
    from mmgan.training.gan import _note_bce, imle_latents
    from mmgan.training.gan_trainer import GANTrainer

    torch.manual_seed(0)
    g = PianoRollGenerator(style_dim=16, z_shared=4, z_shared_local=4, z_private=3)
    g = g.requires_grad_(False)
    cfg = GANTrainConfig(imle_candidates=5)
    real = torch.where(torch.rand(2, g.rows, 48) < 0.05, 1.0, -1.0)
    style = torch.nn.functional.normalize(torch.randn(2, 16), dim=1)
    near = imle_latents(g, real, style, cfg, torch.Generator().manual_seed(1))
    chosen = _note_bce(g.logits(style, near), real, cfg, reduce=False)
    every = g.sample_latents(10, 4, generator=torch.Generator().manual_seed(1))
    costs = _note_bce(
        g.logits(style.repeat_interleave(5, 0), every),
        real.repeat_interleave(5, 0),
        cfg,
        reduce=False,
    )
    assert torch.allclose(chosen, costs.view(2, 5).min(dim=1).values, atol=1e-5)

    run_cfg = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-tiny.yaml")
    run_cfg.lambdas = {**run_cfg.lambdas, "imle": 1.0}
    run_cfg.imle_batch, run_cfg.imle_candidates = 2, 3
    logs = GANTrainer(run_cfg, tiny_corpus, tmp_path / "imle", progress=False).train_step(0)
    assert logs["g/imle"] > 0 and 0 <= logs["g/recall"] <= 1 and 0 <= logs["g/precision"] <= 1
    spec = load_config(GANTrainConfig, ROOT / "configs" / "tiny.yaml")
    spec.lambdas = {**spec.lambdas, "imle": 1.0}
    with pytest.raises(ValueError, match="imle is for the symbolic family"):
        GANTrainer(spec, tiny_corpus, tmp_path / "x", progress=False)
    spec.lambdas = {"adv": 1.0, "imel": 5.0}  # a typo is not silently ignored
    with pytest.raises(ValueError, match=r"unknown loss term\(s\) in lambdas: \['imel'\]"):
        GANTrainer(spec, tiny_corpus, tmp_path / "y", progress=False)


def test_imle_refinement_moves_only_the_anchors_closer_and_keeps_their_norms():
    from mmgan.models.pianoroll import PianoRollGenerator
    from mmgan.training.gan import _note_bce, imle_latents, refine_anchors

    torch.manual_seed(0)
    g = PianoRollGenerator(style_dim=16, z_shared=4, z_shared_local=4, z_private=3)
    with torch.no_grad():  # FiLM starts at the identity: give the private codes a say
        for p in g.parameters():
            p.add_(0.05 * torch.randn_like(p))
    real = torch.where(torch.rand(2, g.rows, 48) < 0.05, 1.0, -1.0)
    style = torch.nn.functional.normalize(torch.randn(2, 16), dim=1)
    cfg = GANTrainConfig(imle_candidates=4, imle_refine=8, imle_refine_lr=0.2)
    lat = g.sample_latents(2, 4, generator=torch.Generator().manual_seed(3))
    out = refine_anchors(g, lat, real, style, cfg)
    before = _note_bce(g.logits(style, lat), real, cfg, reduce=False)
    after = _note_bce(g.logits(style, out), real, cfg, reduce=False)
    assert (after < before).all()  # nearer to its real roll, every row
    assert torch.equal(out.z_shared, lat.z_shared) and torch.equal(out.z_private, lat.z_private)
    assert all(torch.equal(a, b) for a, b in zip(out.noise, lat.noise, strict=True))
    assert not torch.allclose(out.anchors_shared, lat.anchors_shared)
    assert not torch.allclose(out.anchors_private, lat.anchors_private)
    for new, old in (
        (out.anchors_shared, lat.anchors_shared),
        (out.anchors_private, lat.anchors_private),
    ):
        assert torch.allclose(new.norm(dim=-2), old.norm(dim=-2), atol=1e-4)  # on the prior's shell
    assert not out.anchors_shared.requires_grad
    assert all(p.grad is None for p in g.parameters())  # the generator's weights untouched
    # imle_latents refines its pick when asked, and only then
    gen = torch.Generator().manual_seed(1)
    plain = imle_latents(g, real, style, GANTrainConfig(imle_candidates=4), gen)
    gen = torch.Generator().manual_seed(1)
    refined = imle_latents(g, real, style, cfg, gen)
    assert torch.equal(plain.z_shared, refined.z_shared)
    assert not torch.allclose(plain.anchors_private, refined.anchors_private)


def test_imle_refinement_of_the_noise_moves_each_channel_on_its_norm():
    from mmgan.models.pianoroll import PianoRollGenerator
    from mmgan.training.gan import _note_bce, refine_anchors

    torch.manual_seed(0)
    g = PianoRollGenerator(style_dim=16, z_shared=4, z_shared_local=4, z_private=3)
    with torch.no_grad():  # noise strengths start at 0: give the noise a say
        for p in g.parameters():
            p.add_(0.05 * torch.randn_like(p))
    real = torch.where(torch.rand(2, g.rows, 48) < 0.05, 1.0, -1.0)
    style = torch.nn.functional.normalize(torch.randn(2, 16), dim=1)
    lat = g.sample_latents(2, 4, generator=torch.Generator().manual_seed(3))
    anchors_only = GANTrainConfig(imle_refine=8, imle_refine_lr=0.2)
    both = GANTrainConfig(imle_refine=8, imle_refine_lr=0.2, imle_refine_noise=True)
    a, b = (
        refine_anchors(g, lat, real, style, anchors_only),
        refine_anchors(g, lat, real, style, both),
    )
    cost = [_note_bce(g.logits(style, x), real, both, reduce=False) for x in (lat, a, b)]
    assert (cost[2] < cost[0]).all()
    assert cost[2].sum() < cost[1].sum()  # the noise carries detail the anchors cannot
    assert torch.equal(b.z_shared, lat.z_shared) and torch.equal(b.z_private, lat.z_private)
    assert len(b.noise) == len(lat.noise)
    for new, old in zip(b.noise, lat.noise, strict=True):
        assert new.shape == old.shape and not torch.allclose(new, old)
        assert torch.allclose(new.norm(dim=-1), old.norm(dim=-1), atol=1e-4)  # per channel
        assert not new.requires_grad
    assert all(p.grad is None for p in g.parameters())


def test_init_from_starts_the_generator_from_a_model_and_refuses_another_shape(
    tiny_corpus, tmp_path
):
    from mmgan.models.pianoroll import PianoRollGenerator
    from mmgan.training.distributed import unwrap
    from mmgan.training.gan_trainer import GANTrainer
    from mmgan.weights import CheckpointError

    cfg = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-tiny.yaml")
    cfg.steps = 1
    first = GANTrainer(cfg, tiny_corpus, tmp_path / "a", progress=False)
    first.fit()
    model = tmp_path / "a" / "model"
    exported, _ = PianoRollGenerator.from_pretrained(model)
    cfg.init_from, cfg.seed = str(model), 7  # another seed: other fresh weights
    second = GANTrainer(cfg, tiny_corpus, tmp_path / "b", progress=False)
    for name, value in exported.state_dict().items():
        assert torch.equal(second.g_ema.state_dict()[name], value.float()), name
        assert torch.equal(unwrap(second.g).state_dict()[name], value.float()), name
    exported_steps = json.loads((model / "config.json").read_text())["trained_steps"]
    assert second.export_config()["init_from"] == str(model)  # provenance in config.json
    assert second.export_config()["init_trained_steps"] == exported_steps == 1
    cfg.piano.track_channels += 8
    with pytest.raises(CheckpointError, match="differs from this config's.*track_channels"):
        GANTrainer(cfg, tiny_corpus, tmp_path / "c", progress=False)
    cfg.piano.track_channels -= 8
    every, cfg.piano.z_every = cfg.piano.z_every, 1  # anchors every beat: denser latents,
    denser = GANTrainer(cfg, tiny_corpus, tmp_path / "f", progress=False)
    assert denser.g_ema.z_every == 1 and every != 1  # the same weights
    for name, value in exported.state_dict().items():
        assert torch.equal(denser.g_ema.state_dict()[name], value.float()), name
    cfg.piano.z_every = every
    cfg.init_from = str(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="init_from .*nowhere: no model folder"):
        GANTrainer(cfg, tmp_path / "no-corpus", tmp_path / "d", progress=False)  # before data
    cfg.init_from = str(ROOT / "mmgan" / "pretrained" / "gan")  # the spectrogram family's
    with pytest.raises(
        CheckpointError, match="model type is 'mmgan-specgan', expected 'mmgan-pianoroll'"
    ):
        GANTrainer(cfg, tmp_path / "no-corpus", tmp_path / "e", progress=False)  # before data


def config_genres(run) -> list[str]:
    return json.loads((run / "model" / "config.json").read_text())["genres"]


def test_rendered_diversity_skips_a_silent_generator(tiny_gan_run):
    # a collapsed generator that renders silence must not crash the monitor
    from mmgan.generate.pipeline import Pipeline
    from mmgan.training.gan_monitor import _rendered_embeddings

    pipe = Pipeline.from_pretrained(tiny_gan_run)
    silent = torch.full((2, pipe.g.rows, 64), -30.0)  # renders below the 1e-6 peak floor
    assert _rendered_embeddings(pipe.g, pipe.space, silent) is None
    loud = torch.randn(2, pipe.g.rows, 64) - 3.0
    emb = _rendered_embeddings(pipe.g, pipe.space, loud)
    assert emb.shape == (2, pipe.space.dim) and torch.isfinite(emb).all()


def test_gan_data_track_shares_and_share_head_recover_how_often_tracks_play():
    from mmgan.models.pianoroll import RollLayout
    from mmgan.training.gan_data import GANData

    layout, n, frames = RollLayout(), 40, 96
    g = torch.Generator().manual_seed(0)
    base = torch.randn(n, 1, 16, generator=g)  # a clip's audio and caption styles lie close
    styles = torch.nn.functional.normalize(base + 0.1 * torch.randn(n, 3, 16, generator=g), dim=-1)
    lead_share = (0.5 + 0.4 * styles[:, :, 0].mean(1)).clamp(0, 1)  # how often the lead plays
    feats = torch.zeros(n, layout.rows, frames, dtype=torch.float16)
    lengths = torch.full((n,), frames)
    lengths[0] = 48  # a short clip: its share counts its own steps only
    for i in range(n):
        on = int(round(float(lead_share[i]) * int(lengths[i])))
        feats[i, layout.slices["lead"].start + 3, :on] = 1.0
        feats[i, layout.slices["bass"].start, : int(lengths[i])] = 1.0  # the bass always plays
    data = GANData(
        feats,
        styles,
        torch.zeros(n, dtype=torch.long),
        ["x"],
        torch.zeros(layout.rows),
        torch.ones(layout.rows),
        styles[:1, :1],
        torch.ones(1),
        lengths=lengths,
    )
    shares = data.track_shares(layout)
    assert shares.shape == (n, 3) and torch.allclose(
        shares[:, 0], torch.ones(n, dtype=shares.dtype)
    )
    assert (shares[:, 1] == 0).all()
    on0 = round(float(lead_share[0]) * 48)
    assert shares[0, 2] == pytest.approx(on0 / 48)
    head = data.share_head(layout, ridge=1e-3)
    pred = head(styles[:, 0].numpy())
    assert np.corrcoef(pred["lead"], shares[:, 2].numpy())[0, 1] > 0.9
    assert pred["bass"] == pytest.approx(np.ones(n), abs=1e-6)
    with pytest.raises(ValueError, match="roll layout"):
        GANData(
            feats[:, :5],
            styles,
            data.genre,
            ["x"],
            data.mean,
            data.std,
            styles[:1, :1],
            torch.ones(1),
        ).track_shares(layout)


def two_genre_rolls(feats, names, seed: int, **extra):
    """A ``GANData`` over synthetic rolls ``feats [8, rows, F]``: clips 0-3 of genre
    ``names[0]``, 4-7 of ``names[1]``, each clip's three style vectors near its genre's
    centre. Returns ``(data, centres [2, 16])``."""
    from mmgan.training.gan_data import GANData

    n, rows = feats.shape[0], feats.shape[1]
    g = torch.Generator().manual_seed(seed)
    centres = torch.nn.functional.normalize(torch.randn(2, 16, generator=g), dim=-1)
    genre = torch.tensor([0] * (n // 2) + [1] * (n - n // 2))
    styles = torch.nn.functional.normalize(
        centres[genre][:, None] + 0.05 * torch.randn(n, 3, 16, generator=g), dim=-1
    )
    data = GANData(
        feats,
        styles,
        genre,
        list(names),
        torch.zeros(rows),
        torch.ones(rows),
        centres[:, None],
        torch.ones(2),
        **extra,
    )
    return data, centres


def test_gan_data_rests_and_grooves_per_genre_fit_the_rest_and_groove_heads():
    from mmgan.generate.symbolic import GrooveHead, RestHead
    from mmgan.models.pianoroll import RollLayout

    layout, n, frames, bar = RollLayout(), 8, 192, 48
    feats = torch.zeros(n, layout.rows, frames, dtype=torch.float16)
    kick, lead = layout.slices["drums"].start, layout.slices["lead"].start
    feats[:4, kick, ::12] = 1.0  # genre 0: kicks on every beat, a lead in bars 0 and 2
    feats[:4, kick, 6::12] = 1.0  # ... and on every off-beat (two-step hits: one onset each)
    feats[:4, kick, 7::12] = 1.0
    for b in (0, 2):
        feats[:4, lead, b * bar : b * bar + 12] = 1.0
    feats[4:, lead, :] = 1.0  # genre 1: no drums, a lead that never rests
    clip_steps = torch.full((n,), frames)
    clip_steps[3] = 2 * bar + bar // 2  # 2.5 bars written (its lead in bars 0 and 2), padded
    feats[3, :, clip_steps[3] :] = 0
    data, centres = two_genre_rolls(
        feats, ["rock", "pads"], 0, lengths=torch.full((n,), frames), clip_steps=clip_steps
    )
    rests = data.track_rests(layout)  # [N, 4]: drums, bass, harmony, lead
    assert rests.shape == (n, 4)
    assert rests[0].tolist() == [0.0, 1.0, 1.0, 0.5]  # lead in 2 of 4 bars
    assert rests[3, 3] == pytest.approx(1 / 3)  # 3 bars (the half bar counts), lead in 2
    assert rests[4].tolist() == [1.0, 1.0, 1.0, 0.0]
    shares, has = data.drum_grooves(layout)
    assert has.tolist() == [True] * 4 + [False] * 4
    assert shares[0, 0] == pytest.approx(0.5) and shares[0, 6] == pytest.approx(0.5)
    assert shares[0].sum() == pytest.approx(1) and (shares[4] == 0).all()
    head = data.rest_head(layout)
    assert isinstance(head, RestHead) and head.genres == ("rock", "pads")
    got = head(centres.numpy())
    assert got["lead"] == pytest.approx([(0.5 * 3 + 1 / 3) / 4, 0.0], abs=1e-3)
    assert got["drums"] == pytest.approx([0.0, 1.0], abs=1e-3)
    groove = data.groove_head(layout)
    assert isinstance(groove, GrooveHead)
    rows = groove(centres.numpy())
    assert rows[0, [0, 6]] == pytest.approx([0.5, 0.5], abs=1e-3)
    assert rows[1] == pytest.approx(np.full(12, 1 / 12), abs=1e-3)  # no drums: an even row
    silent, _ = two_genre_rolls(feats * 0, ["rock", "pads"], 0)
    assert silent.groove_head(layout) is None  # no drums: no groove to fit


def test_gan_data_presence_and_rests_over_playing_clips_fit_the_presence_head():
    from mmgan.generate.symbolic import PresenceHead
    from mmgan.models.pianoroll import RollLayout

    layout, n, frames, bar = RollLayout(), 8, 192, 48
    feats = torch.zeros(n, layout.rows, frames, dtype=torch.float16)
    kick, lead = layout.slices["drums"].start, layout.slices["lead"].start
    feats[:, kick, ::12] = 1.0  # drums everywhere
    feats[:2, lead, : 2 * bar] = 1.0  # genre 0: a lead in two clips (half their bars) ...
    feats[4:7, lead, :] = 1.0  # ... genre 1: a lead in three clips of four, every bar
    data, centres = two_genre_rolls(feats, ["techno", "jazz"], 3, lengths=torch.full((n,), frames))
    head = data.presence_head(layout)
    assert isinstance(head, PresenceHead) and head.tracks == layout.tracks
    assert head.table[:, 0].tolist() == [0.0, 0.0]  # drums always play
    assert head.table[:, 1].tolist() == [1.0, 1.0]  # no bass anywhere
    assert head.table[:, 3] == pytest.approx([0.5, 0.25])  # clips without a lead
    got = head(centres.numpy())
    assert got["lead"] == pytest.approx([0.5, 0.25], abs=1e-3)
    # the generator already leaves the lead out of a fifth of its pieces: only the rest
    g = np.zeros((2, 4))
    g[:, 3] = [0.2, 0.5]
    less = data.presence_head(layout, g)
    assert less.table[:, 3] == pytest.approx([(0.5 - 0.2) / 0.8, 0.0])
    with pytest.raises(ValueError, match="generator_absent must be"):
        data.presence_head(layout, np.zeros((2, 3)))
    # beside it, rests are counted over the clips that play the track (1 where none does)
    mean = data.rest_head(layout).table[:, 3]
    playing = data.rest_head(layout, playing_only=True).table
    assert mean == pytest.approx([0.75, 0.25]) and playing[:, 3] == pytest.approx([0.5, 0.0])
    assert playing[:, 1].tolist() == [1.0, 1.0]


def test_gan_data_voices_per_genre_fit_the_voice_head():
    from mmgan.generate.symbolic import VoiceHead
    from mmgan.models.pianoroll import RollLayout

    layout, n, frames = RollLayout(), 8, 96
    feats = torch.zeros(n, layout.rows, frames, dtype=torch.float16)
    harmony, lead = layout.slices["harmony"].start, layout.slices["lead"].start
    feats[:, lead, :48] = 1.0  # every clip: a one-note lead ...
    feats[:3, harmony : harmony + 3, :] = 1.0  # genre 0: three-note chords in 3 clips,
    feats[3, harmony, :] = 1.0  # a single line in the fourth
    feats[4, lead + 4, :12] = 1.0  # genre 1: no harmony; one clip's lead plays two at once
    feats[5, lead + 4, 60:] = 1.0  # ... and another's only in the padding (not counted)
    lengths = torch.full((n,), frames)
    lengths[5] = 48
    data, centres = two_genre_rolls(feats, ["chords", "lines"], 1, lengths=lengths)
    voices = data.track_voices(layout)  # [N, 3]: bass, harmony, lead
    assert voices[:, 0].tolist() == [0.0] * n  # no bass anywhere
    assert voices[:, 1].tolist() == [3.0, 3.0, 3.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert voices[:, 2].tolist() == [1.0] * 4 + [2.0, 1.0, 1.0, 1.0]
    head = data.voice_head(layout)
    assert isinstance(head, VoiceHead) and head.genres == ("chords", "lines")
    # the 0.9 quantile over the clips playing the track (1 where none does)
    assert head.table[0].tolist() == [1.0, 3.0, 1.0]  # four-clip [1, 3, 3, 3] -> 3
    assert head.table[1].tolist() == pytest.approx([1.0, 1.0, 1.7])  # [1, 1, 1, 2] -> 1.7
    caps = head(centres.numpy())
    assert caps["harmony"].tolist() == [3, 1] and caps["lead"].tolist() == [1, 2]


def test_gan_data_figures_per_genre_fit_the_figure_head():
    from mmgan.generate.symbolic import FigureHead
    from mmgan.models.pianoroll import RollLayout

    layout, n, frames = RollLayout(), 8, 96
    feats = torch.zeros(n, layout.rows, frames, dtype=torch.float16)
    bass, lead = layout.slices["bass"].start, layout.slices["lead"].start
    for a in range(0, 48, 3):  # genre 0: a lead of 3-step notes on sixteenths, up and down
        feats[:4, lead + (a // 3) % 2, a : a + 3] = 1.0
    for a in range(0, frames, 12):  # genre 1: a bass of 6-step notes on the beat, one pitch,
        feats[4:, bass, a : a + 5] = 1.0  # each struck again after a one-step gap
    feats[4:, bass + 7, 0:5] = 1.0  # ... with a second note at the first (not a sequence)
    feats[7, bass, 60:] = 0.0  # ... one clip's bass only in its padding from step 60
    lengths = torch.full((n,), frames)
    lengths[7] = 60
    data, centres = two_genre_rolls(feats, ["baroque", "metal"], 2, lengths=lengths)
    figures, plays = data.track_figures(layout)  # [N, 3, 14]: bass, harmony, lead
    assert plays[:, 0].tolist() == [False] * 4 + [True] * 4 and not plays[:, 1].any()
    assert figures[0, 2, 0] == 3.0 and figures[0, 2, 1] == 0.0  # length, repeat share
    assert figures[0, 2, 2:].tolist() == [1 / 4, 0, 0] * 4  # onsets on the sixteenths
    assert figures[4, 0, 0] == 5.0 and figures[4, 0, 1] == 1.0  # the gap: 5 steps, again
    assert figures[4, 0, 2] == 1.0
    assert figures[7, 0, 0] == 5.0 and figures[7, 0, 2:].sum() == pytest.approx(1.0)
    head = data.figure_head(layout)
    assert isinstance(head, FigureHead) and head.genres == ("baroque", "metal")
    got = head(centres.numpy())
    assert got["lead"]["length"] == pytest.approx([3.0, 0.0], abs=1e-3)  # 0: none plays it
    assert got["bass"]["repeat"] == pytest.approx([0.0, 1.0], abs=1e-3)
    assert got["lead"]["onsets"][0, ::3] == pytest.approx([0.25] * 4, abs=1e-3)
    with pytest.raises(ValueError, match="not a roll layout"):
        two_genre_rolls(feats[:, :10], ["a", "b"], 2)[0].track_figures(layout)


def _key_row(layout, track: str, pitch: int) -> int:
    return layout.slices[track].start + layout.pitches[track].index(pitch)


def _cadence_rows(layout, tonic: int, steps: int):
    """I - IV - V - I in major on ``tonic``: bass roots and harmony triads."""
    rows = np.zeros((layout.rows, steps), dtype=bool)
    for k, root in enumerate((0, 5, 7, 0)):
        a, b = k * steps // 4, (k + 1) * steps // 4
        rows[_key_row(layout, "bass", 36 + (tonic + root) % 12), a:b] = True
        for third in (0, 4, 7):
            rows[_key_row(layout, "harmony", 60 + (tonic + root + third) % 12), a:b] = True
    return rows


def test_gan_data_fits_the_key_head_from_each_clips_rolls():
    from mmgan.models.pianoroll import RollLayout

    layout = RollLayout()
    n, frames = 8, 96
    feats = torch.zeros(n, layout.rows, frames, dtype=torch.float16)
    for i in range(4):  # genre 0: in E; genre 1: in C and in G; one clip drums only
        feats[i] = torch.from_numpy(_cadence_rows(layout, 4, frames)).half()
    for i in range(4, 7):
        feats[i] = torch.from_numpy(_cadence_rows(layout, 0 if i < 6 else 7, frames)).half()
    feats[7, _key_row(layout, "drums", 36), ::12] = 1.0
    data, centres = two_genre_rolls(feats, ["metal", "folk"], 2)
    tonics, has = data.clip_tonics(layout)
    assert has.tolist() == [True] * 7 + [False]
    assert tonics.argmax(1)[:7].tolist() == [4] * 4 + [0, 0, 7]
    head = data.key_head(layout)
    got = head(centres.numpy())
    assert got[0, 4] == pytest.approx(1.0, abs=1e-3)
    assert got[1, [0, 7]] == pytest.approx([2 / 3, 1 / 3], abs=1e-3)  # the drums-only clip: out
    with pytest.raises(ValueError, match="not a roll layout"):
        two_genre_rolls(feats[:, :10], ["a", "b"], 2)[0].clip_tonics(layout)


def test_bad_step_counts_and_a_resume_without_checkpoint_fail_before_loading_data(tmp_path):
    from mmgan.training.gan_trainer import GANTrainer

    nowhere = tmp_path / "no-corpus"  # never read: the checks come first
    for key, value in (("steps", 0), ("steps", -5), ("imle_candidates", 0), ("imle_batch", 0)):
        cfg = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-tiny.yaml")
        setattr(cfg, key, value)
        with pytest.raises(ValueError, match=f"{key} must be whole numbers >= 1"):
            GANTrainer(cfg, nowhere, tmp_path / "r", progress=False)
    for key, value in (
        ("imle_refine", -1),
        ("imle_refine", 1.5),
        ("imle_refine_lr", 0.0),
        ("imle_refine_noise", "yes"),
    ):
        cfg = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-tiny.yaml")
        setattr(cfg, key, value)
        with pytest.raises(ValueError, match="imle_refine must be a whole number >= 0"):
            GANTrainer(cfg, nowhere, tmp_path / "r", progress=False)
    cfg = load_config(GANTrainConfig, ROOT / "configs" / "symbolic-tiny.yaml")
    with pytest.raises(FileNotFoundError, match="no training checkpoint"):
        GANTrainer(cfg, nowhere, tmp_path / "r", resume=True, progress=False)


def test_symbolic_training_warns_of_rolls_built_before_restrike_gaps(tiny_corpus, tmp_path):
    import shutil
    from types import SimpleNamespace

    from mmgan.audio.midi import load_pianoroll
    from mmgan.data.corpus import read_metadata
    from mmgan.training.captions import row_id
    from mmgan.training.gan_data import _rolls

    data = shutil.copytree(tiny_corpus, tmp_path / "corpus")
    rows = {row_id(r): r for r in read_metadata(data)}
    ds = SimpleNamespace(items=[SimpleNamespace(id=k) for k in list(rows)[:3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a corpus built now: no warning
        rolls, lengths = _rolls(data, rows, ds, 96)
    assert rolls.shape[0] == 3 and (lengths > 0).all()
    path = data / rows[ds.items[1].id]["pianoroll_file"]
    old = {k: v for k, v in load_pianoroll(path).items() if k != "restrike_gaps"}
    np.savez_compressed(path, **old)  # as written before the gaps
    with pytest.warns(UserWarning, match=r"1 of 3 piano-rolls .* rebuild the corpus"):
        again, _ = _rolls(data, rows, ds, 96)
    assert torch.equal(again, rolls)

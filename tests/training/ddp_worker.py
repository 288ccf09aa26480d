"""Run by test_gan.py and test_vocoder_training.py under torchrun: a few tiny-config steps;
each rank saves its weights so the test can compare replicas.
Usage: ddp_worker.py CONFIG DATA OUT [gan|vocoder]

The tests call :func:`run_two_ranks`, which runs this file and checks the replicas."""

import os
import subprocess
import sys
from pathlib import Path

import torch

from mmgan.config import load_config
from mmgan.training.distributed import unwrap
from mmgan.training.gan import GANTrainConfig
from mmgan.training.gan_trainer import GANTrainer


def main() -> None:
    config, data, out = sys.argv[1:4]
    if sys.argv[4:] == ["vocoder"]:
        from mmgan.training.vocoder import VocoderTrainConfig, VocoderTrainer

        over = ["steps=3", "disc_start=1", "val_every=0", "sample_every=0"]
        cfg = load_config(VocoderTrainConfig, config, over)
        trainer = VocoderTrainer(cfg, data, Path(out) / "run", progress=False)
    else:
        cfg = load_config(GANTrainConfig, config, ["steps=3", "eval_every=0", "sample_every=0"])
        trainer = GANTrainer(cfg, data, Path(out) / "run", progress=False)
    rank, world = trainer.dist.rank, trainer.dist.world
    g_init = {k: v.clone() for k, v in unwrap(trainer.g).state_dict().items()}
    first = trainer.batch(0)
    real_sum = float((first[0] if isinstance(first, tuple) else first).sum())
    trainer.fit()
    state = {
        "world": world,
        "g": unwrap(trainer.g).state_dict(),
        "d": unwrap(trainer.d).state_dict(),
        "g_init": g_init,
        "real_sum": real_sum,
    }
    torch.save(state, Path(out) / f"rank{rank}.pt")


def run_two_ranks(config, data, out, kind: str, port: int) -> None:
    """``torchrun --nproc_per_node 2`` (gloo) on this file; then assert that both ranks
    trained (weights moved), on different data, and hold identical weights."""
    env = os.environ | {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    cmd += ["--master_port", str(port), __file__, str(config), str(data), str(out), kind]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    r0, r1 = (torch.load(Path(out) / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    changed = False
    for key in r0["g"]:
        assert torch.equal(r0["g"][key], r1["g"][key]), key
        changed |= not torch.equal(r0["g"][key], r0["g_init"][key])
    for key in r0["d"]:
        assert torch.equal(r0["d"][key], r1["d"][key]), key
    assert changed  # the replicas trained
    assert r0["real_sum"] != r1["real_sum"]  # ... on different data


if __name__ == "__main__":
    main()

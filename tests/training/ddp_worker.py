"""Run by test_gan.py under torchrun: a few tiny-config GAN steps; each rank saves its
weights so the test can compare replicas. Usage: ddp_worker.py CONFIG DATA OUT"""

import sys
from pathlib import Path

import torch

from mmgan.config import load_config
from mmgan.training.distributed import unwrap
from mmgan.training.gan import GANTrainConfig
from mmgan.training.gan_trainer import GANTrainer


def main() -> None:
    config, data, out = sys.argv[1:4]
    cfg = load_config(GANTrainConfig, config, ["steps=3", "eval_every=0", "sample_every=0"])
    trainer = GANTrainer(cfg, data, Path(out) / "run", progress=False)
    rank, world = trainer.dist.rank, trainer.dist.world
    g_init = {k: v.clone() for k, v in unwrap(trainer.g).state_dict().items()}
    real_sum = float(trainer.batch(0)[0].sum())
    trainer.fit()
    state = {
        "world": world,
        "g": unwrap(trainer.g).state_dict(),
        "d": unwrap(trainer.d).state_dict(),
        "g_init": g_init,
        "real_sum": real_sum,
    }
    torch.save(state, Path(out) / f"rank{rank}.pt")


if __name__ == "__main__":
    main()

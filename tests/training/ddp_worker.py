"""Run by test_gan.py and test_vocoder_training.py under torchrun: a few tiny-config steps;
each rank saves its weights so the test can compare replicas.
Usage: ddp_worker.py CONFIG DATA OUT [gan|vocoder]"""

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


if __name__ == "__main__":
    main()

"""Shared fixtures: a tiny corpus built once per test session, a tiny CLAP checkpoint."""

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


@pytest.fixture(scope="session")
def tiny_gan_run(tiny_corpus, tmp_path_factory):
    """A GAN trained for a few steps on the tiny corpus with configs/tiny.yaml (a run folder:
    state.pt, model/, metrics.jsonl, samples/, tb/)."""
    from pathlib import Path

    from mmgan.config import load_config
    from mmgan.training.gan import GANTrainConfig
    from mmgan.training.gan_trainer import GANTrainer

    out = tmp_path_factory.mktemp("gan_run")
    cfg = load_config(GANTrainConfig, Path(__file__).parents[1] / "configs" / "tiny.yaml")
    GANTrainer(cfg, tiny_corpus, out, progress=False).fit()
    return out


@pytest.fixture(scope="session")
def tiny_vocoder_run(tiny_corpus, tmp_path_factory):
    """A GAN vocoder trained for a few steps with configs/vocoder-tiny.yaml (a run folder)."""
    from pathlib import Path

    from mmgan.config import load_config
    from mmgan.training.vocoder import VocoderTrainConfig, VocoderTrainer

    out = tmp_path_factory.mktemp("vocoder_run")
    cfg = load_config(
        VocoderTrainConfig, Path(__file__).parents[1] / "configs" / "vocoder-tiny.yaml"
    )
    VocoderTrainer(cfg, tiny_corpus, out, progress=False).fit()
    return out


@pytest.fixture(scope="session")
def tiny_symbolic_run(tiny_corpus, tmp_path_factory):
    """A piano-roll GAN trained for a few steps with configs/symbolic-tiny.yaml (a run folder)."""
    from pathlib import Path

    from mmgan.config import load_config
    from mmgan.training.gan import GANTrainConfig
    from mmgan.training.gan_trainer import GANTrainer

    out = tmp_path_factory.mktemp("symbolic_run")
    cfg = load_config(GANTrainConfig, Path(__file__).parents[1] / "configs" / "symbolic-tiny.yaml")
    GANTrainer(cfg, tiny_corpus, out, progress=False).fit()
    return out


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2 / RoBERTa byte-level alphabet (every byte -> a printable character)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = printable[:], 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars), strict=True))


@pytest.fixture(scope="session")
def tiny_clap_dir(tmp_path_factory):
    """A folder holding a tiny ``ClapModel`` (``save_pretrained``), a byte-level tokenizer and a
    ``ClapFeatureExtractor`` (16 mel bands, 2 s windows: fits the tiny audio tower)."""
    import torch
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, RobertaTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_clap")
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])}
    for ch in _bytes_to_unicode().values():
        vocab.setdefault(ch, len(vocab))
    tokenizer = RobertaTokenizerFast(vocab=vocab, merges=[], model_max_length=64)
    config = ClapConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "max_position_embeddings": 66,
            "projection_dim": 16,
        },
        audio_config={
            "hidden_size": 32,
            "depths": [1, 1],
            "num_attention_heads": [2, 2],
            "patch_embeds_hidden_size": 16,
            "spec_size": 64,
            "window_size": 4,
            "num_mel_bins": 16,
            "projection_dim": 16,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    ClapModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ClapFeatureExtractor(feature_size=16, max_length_s=2).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory):
    """A tiny randomly initialised Stable Diffusion pipeline (UNet, VAE, CLIP text encoder and
    a byte-level CLIP tokenizer) saved with ``save_pretrained``: the diffusion cover's loader
    reads it exactly as it would read SD-Turbo."""
    import json

    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny_sd")
    chars = list(_bytes_to_unicode().values())
    vocab = {t: i for i, t in enumerate(chars + [c + "</w>" for c in chars])}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=32
    )
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        norm_num_groups=4,
        attention_head_dim=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[8, 16],
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        norm_num_groups=4,
        sample_size=64,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(vocab),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=32,
            bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
        )
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    out = folder / "pipeline"
    pipe.save_pretrained(out)
    return out

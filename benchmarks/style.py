"""Style-space quality and speed: prints JSON.

    python benchmarks/style.py --model mmgan/pretrained/style --data data/small --split test

Zero-shot genre accuracy (prompt "a {genre} track"; whole-clip embedding = windowed
average), caption->audio recall@1/5/10 over the split (stored captions), for the given
model and for a random-init model of the same config (the baseline), plus encode_audio
time per clip (6 s of audio -> vector, including the log-mel).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> dict:
    import numpy as np
    import torch

    from mmgan.audio.io import load_audio
    from mmgan.data.dataset import MelDataset
    from mmgan.style.audio_encoder import StyleModel
    from mmgan.training.contrastive import evaluate, load_text_fn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mmgan/pretrained/style", help="model folder")
    parser.add_argument("--data", default="data/small", help="corpus folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timing-clips", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    model = StyleModel.from_pretrained(args.model)
    dataset = MelDataset.from_folder(
        args.data, args.split, segment_frames=None, random_crop=False, params=model.mel_params
    )
    text_fn = load_text_fn(model.config["text_encoder"])
    cache: dict = {}
    t0 = time.perf_counter()
    trained = evaluate(model, dataset, text_fn, cache)
    eval_s = time.perf_counter() - t0
    torch.manual_seed(0)
    baseline = evaluate(StyleModel(**model.config).eval(), dataset, text_fn, cache)

    waves = [load_audio(it.path, sr=None) for it in dataset.items[: args.timing_clips]]
    model.embed_waveform(*waves[0])  # warm-up
    t0 = time.perf_counter()
    for wave, sr in waves:
        model.embed_waveform(wave, sr)
    ms = 1000 * (time.perf_counter() - t0) / len(waves)
    weights = Path(args.model) / "model.safetensors"
    result = {
        "model": str(args.model),
        "data": str(args.data),
        "split": args.split,
        "clips": len(dataset),
        "genres": len(dataset.genres),
        "trained": trained,
        "random_init": baseline,
        "params": model.num_parameters(),
        "audio_encoder_params": model.num_parameters(audio_only=True),
        "weights_mb": round(weights.stat().st_size / 2**20, 2),
        "weights_dtype": json.loads((Path(args.model) / "config.json").read_text()).get("dtype"),
        "encode_audio_ms_per_clip": round(ms, 1),
        "clip_seconds": round(float(np.mean([w.shape[-1] / sr for w, sr in waves])), 2),
        "eval_seconds": round(eval_s, 1),
        "threads": args.threads,
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

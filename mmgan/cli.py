"""The ``mmgan`` command: thin wrappers over the library."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

app = typer.Typer(
    help="mmgan — new music genres with conditional GANs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
dataset_app = typer.Typer(
    help="Build, inspect and preview tag-annotated music corpora.", no_args_is_help=True
)
app.add_typer(dataset_app, name="dataset")


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.callback()
def _main() -> None:
    """mmgan — new music genres with conditional GANs."""


@app.command()
def version() -> None:
    """Print the mmgan version."""
    import mmgan

    typer.echo(mmgan.__version__)


@dataset_app.command("build")
def dataset_build(
    preset: str = typer.Option("tiny", help="tiny (tests, ~40 clips), small (2,000 clips), full"),
    out: Path = typer.Option(..., "--out", help="output folder (created; re-running resumes)"),
    seed: int = typer.Option(0, help="corpus seed; the same seed gives the same clips"),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), help="parallel worker processes"),
    soundfont: str | None = typer.Option(
        None,
        help="render with a General MIDI SoundFont (.sf2 path, or 'auto' for a standard "
        "system location) instead of the built-in synths",
    ),
    genre: list[str] | None = typer.Option(None, help="only these genres (repeatable)"),
) -> None:
    """Build the built-in procedural corpus (audiofolder layout) into OUT."""
    from mmgan.audio.synth.soundfont import STANDARD_LOCATIONS, find_soundfont
    from mmgan.data.corpus import build_corpus

    sf = soundfont
    if soundfont == "auto":
        found = find_soundfont()
        if found is None:
            _fail(f"--soundfont auto: no SoundFont at {', '.join(STANDARD_LOCATIONS)}")
        sf = str(found)
    try:
        summary = build_corpus(
            preset, out, seed=seed, workers=workers, soundfont=sf, genres=genre or None
        )
    except (ValueError, FileNotFoundError, PermissionError, RuntimeError) as err:
        _fail(str(err))
    typer.echo(
        f"{summary['clips']} clips in {out} ({summary['built_clips_this_run']} built in "
        f"{summary['build_seconds_this_run']} s); splits {summary['splits']}"
    )


@dataset_app.command("info")
def dataset_info(
    root: Path = typer.Argument(..., help="corpus folder (with metadata.jsonl)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    top_tags: int = typer.Option(25, help="how many of the most common tags to list"),
) -> None:
    """Clips and duration per genre, split and tag."""
    from mmgan.data.corpus import corpus_info

    try:
        info = corpus_info(root)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"{info['clips']} clips, {info['hours'] * 60:.1f} min, splits {info['splits']}")
    typer.echo(f"{'genre':<12} {'clips':>6} {'seconds':>9}")
    for g, v in info["genres"].items():
        typer.echo(f"{g:<12} {v['clips']:>6} {v['seconds']:>9.1f}")
    typer.echo("most common tags:")
    for tag, count in list(info["tags"].items())[:top_tags]:
        typer.echo(f"  {count:>5}  {tag}")


@dataset_app.command("preview")
def dataset_preview(
    root: Path = typer.Argument(..., help="corpus folder (with metadata.jsonl)"),
    out: Path = typer.Option(Path("grid.png"), "--out", help="PNG to write"),
    genre: str | None = typer.Option(None, help="only this genre (default: one row per genre)"),
    per_genre: int = typer.Option(3, help="clips per genre"),
) -> None:
    """Write a grid of log-mel spectrograms (rows: genres) to a PNG."""
    from mmgan.data.preview import preview_grid

    try:
        path = preview_grid(root, out, genre=genre, per_genre=per_genre)
    except (ValueError, FileNotFoundError, PermissionError) as err:
        _fail(str(err))
    typer.echo(f"wrote {path}")


train_app = typer.Typer(
    help="Train the style space, the evaluation judge and the GAN.", no_args_is_help=True
)
app.add_typer(train_app, name="train")


@train_app.command("style")
def train_style(
    data: Path = typer.Option(..., "--data", help="corpus folder (audiofolder layout)"),
    out: Path = typer.Option(..., "--out", help="run folder: state.pt, model/, metrics.jsonl"),
    config: Path | None = typer.Option(
        None, "--config", help="YAML delta, e.g. configs/style-small.yaml"
    ),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/state.pt"),
    set_: list[str] | None = typer.Option(None, "--set", help="override key=value (repeatable)"),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Train the audio encoder + text projection contrastively against frozen captions."""
    from mmgan.config import ConfigError, load_config
    from mmgan.training.contrastive import StyleTrainConfig, StyleTrainer

    overrides = list(set_ or []) + ([f"device={device}"] if device else [])
    try:
        cfg = load_config(StyleTrainConfig, config, overrides)
        summary = StyleTrainer(cfg, data, out, resume=resume, progress=progress).fit()
    except (ConfigError, ValueError, FileNotFoundError, RuntimeError) as err:
        _fail(str(err))
    typer.echo(json.dumps(summary))


@train_app.command("gan")
def train_gan(
    data: Path = typer.Option(..., "--data", help="corpus folder (audiofolder layout)"),
    out: Path = typer.Option(..., "--out", help="run folder: state.pt, model/, samples/, tb/"),
    config: Path | None = typer.Option(
        None, "--config", help="YAML delta: configs/tiny.yaml, cpu-small.yaml, gpu-base.yaml"
    ),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/state.pt"),
    init: Path | None = typer.Option(
        None, "--init", help="start the generator from this model folder (fine-tune it)"
    ),
    set_: list[str] | None = typer.Option(None, "--set", help="override key=value (repeatable)"),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Train the conditional GAN (either family; under torchrun: DistributedDataParallel)."""
    from mmgan.config import ConfigError, load_config
    from mmgan.training.gan import GANTrainConfig
    from mmgan.training.gan_trainer import GANTrainer

    overrides = list(set_ or []) + ([f"device={device}"] if device else [])
    overrides += [f"init_from={init}"] if init else []
    try:
        cfg = load_config(GANTrainConfig, config, overrides)
        summary = GANTrainer(cfg, data, out, resume=resume, progress=progress).fit()
    except (ConfigError, ValueError, FileNotFoundError, RuntimeError) as err:
        _fail(str(err))
    typer.echo(json.dumps(summary))


@train_app.command("vocoder")
def train_vocoder(
    data: Path = typer.Option(..., "--data", help="corpus folder (its train-split audio)"),
    out: Path = typer.Option(..., "--out", help="run folder: state.pt, model/, samples/, tb/"),
    config: Path | None = typer.Option(
        None, "--config", help="YAML delta: configs/vocoder-tiny.yaml, vocoder-small.yaml"
    ),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/state.pt"),
    set_: list[str] | None = typer.Option(None, "--set", help="override key=value (repeatable)"),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Train the GAN vocoder (log-mel -> audio; under torchrun: DistributedDataParallel)."""
    from mmgan.config import ConfigError, load_config
    from mmgan.training.vocoder import VocoderTrainConfig, VocoderTrainer

    overrides = list(set_ or []) + ([f"device={device}"] if device else [])
    try:
        cfg = load_config(VocoderTrainConfig, config, overrides)
        summary = VocoderTrainer(cfg, data, out, resume=resume, progress=progress).fit()
    except (ConfigError, ValueError, FileNotFoundError, RuntimeError) as err:
        _fail(str(err))
    typer.echo(json.dumps(summary))


@train_app.command("judge")
def train_judge(
    data: Path = typer.Option(..., "--data", help="corpus folder (audiofolder layout)"),
    out: Path = typer.Option(..., "--out", help="run folder: state.pt, model/, metrics.jsonl"),
    config: Path | None = typer.Option(
        None, "--config", help="YAML delta, e.g. configs/judge-small.yaml"
    ),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/state.pt"),
    set_: list[str] | None = typer.Option(None, "--set", help="override key=value (repeatable)"),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Train the independent genre + tag judge used by `mmgan eval` (real clips only)."""
    from mmgan.config import ConfigError
    from mmgan.training.judge import train_judge as run

    overrides = list(set_ or []) + ([f"device={device}"] if device else [])
    try:
        summary = run(config, data, out, overrides=overrides, resume=resume, progress=progress)
    except (ConfigError, ValueError, FileNotFoundError, RuntimeError) as err:
        _fail(str(err))
    typer.echo(json.dumps(summary))


@app.command("generate")
def generate(
    prompt: str | None = typer.Argument(
        None, help='genre description or expression, e.g. "techno - monotonous + jazz harmony"'
    ),
    image: Path | None = typer.Option(None, "--image", help="a picture to condition on"),
    audio: Path | None = typer.Option(None, "--audio", help="a reference clip to condition on"),
    seconds: float = typer.Option(20.0, "--seconds", help="track length, (0, 600]"),
    seed: int = typer.Option(0, "--seed", help="same prompt + seed + model = same track"),
    truncation: float = typer.Option(
        0.7, "--truncation", help="0 = the style's average sound, 1 = full variety"
    ),
    morph_to: str | None = typer.Option(None, "--morph-to", help="morph into this prompt"),
    model: str | None = typer.Option(
        None, "--model", help="model folder or training run (default: the shipped model)"
    ),
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="spectrogram (default) or symbolic (piano-roll GAN: also writes MIDI stems)",
    ),
    bpm: float | None = typer.Option(
        None, "--bpm", help="symbolic engine: tempo (default: from the prompt or the style)"
    ),
    key: str | None = typer.Option(
        None,
        "--key",
        help="symbolic engine: tonic, e.g. A or 'F# minor' (the mode stays the model's; "
        "default: drawn from the style's keys)",
    ),
    renderer: str | None = typer.Option(
        None,
        "--renderer",
        help="spectrogram engine: vocoder (default when shipped), pghi (pitch classes from the "
        "model's chroma rows, phase from the magnitude's gradients, 4 Griffin-Lim iterations; "
        "the default otherwise) or griffinlim (32 iterations from random phase)",
    ),
    vocoder: Path | None = typer.Option(
        None, "--vocoder", help="vocoder folder or training run (default: the shipped one)"
    ),
    cover: str = typer.Option(
        "procedural", "--cover", help="cover art: procedural (offline), diffusion or none"
    ),
    diffusion_model: str | None = typer.Option(
        None,
        "--diffusion-model",
        help="--cover diffusion: a local diffusers pipeline folder or a cached repo id",
    ),
    zip_: bool = typer.Option(False, "--zip", help="also write <title>.zip with every file"),
    out: Path = typer.Option(Path("out"), "--out", help="bundle folder: track, cover, metadata"),
) -> None:
    """Generate a track from a prompt, a picture and/or a reference clip; write its bundle."""
    from mmgan.bundle import write_bundle
    from mmgan.generate.pipeline import RENDERERS, Pipeline

    if prompt is None and image is None and audio is None:
        _fail("give a PROMPT, --image or --audio (or several)")
    for label, path in (("--image", image), ("--audio", audio)):
        if path is not None and not path.is_file():
            _fail(f"{label} {path}: no such file")
    if engine not in (None, "spectrogram", "symbolic"):
        _fail(f"--engine must be spectrogram or symbolic, got {engine!r}")
    if renderer not in (None, *RENDERERS):
        _fail(f"--renderer must be one of {', '.join(RENDERERS)}, got {renderer!r}")
    if cover not in ("procedural", "diffusion", "none"):
        _fail(f"--cover must be procedural, diffusion or none, got {cover!r}")
    if (renderer or vocoder) and engine == "symbolic":
        _fail("--renderer/--vocoder apply to the spectrogram engine (symbolic renders MIDI)")
    try:
        pipe = Pipeline.from_pretrained(model, engine=engine, renderer=renderer, vocoder=vocoder)
    except (ValueError, FileNotFoundError, RuntimeError, PermissionError, OSError) as err:
        _fail(str(err))
    extra = {}
    if bpm is not None:
        if not hasattr(pipe, "tempo"):
            _fail("--bpm needs the symbolic engine (--engine symbolic)")
        extra["bpm"] = bpm
    if key is not None:
        if not hasattr(pipe, "key_head"):
            _fail("--key needs the symbolic engine (--engine symbolic)")
        extra["key"] = key
    try:
        result = pipe(
            prompt,
            image=image,
            audio=audio,
            seconds=seconds,
            seed=seed,
            truncation=truncation,
            morph_to=morph_to,
            **extra,
        )
        bundle = write_bundle(
            result, out, space=pipe.space, cover=cover, zip=zip_, diffusion_model=diffusion_model
        )
    except (ValueError, FileNotFoundError, RuntimeError, PermissionError, OSError) as err:
        _fail(str(err))
    meta, folder = bundle.metadata, bundle.folder
    how = f", rendered by {meta['renderer']}" if meta.get("renderer") else ""
    typer.echo(f"wrote {folder / 'track.wav'} ({result.seconds:.1f} s{how}) and metadata.json")
    typer.echo(f"title: {bundle.title}" + (" | cover.png" if "cover.png" in bundle.files else ""))
    if bundle.zip_path is not None:
        typer.echo(f"zip: {bundle.zip_path}")
    if result.score is not None:
        stems = ", ".join(f"stems/{p.role}.mid" for p in result.score.parts)
        key_text = f", {meta['key']}" if meta.get("key") else ""
        typer.echo(f"MIDI: arrangement.mid, {stems} ({meta['bpm']:g} BPM{key_text})")
    if meta.get("expression"):
        typer.echo(f"style: {meta['expression']}")
    tags = ", ".join(name for name, _ in meta.get("predicted_tags", [])[:5])
    if tags:
        typer.echo(f"heard as: {tags}")


@app.command("demo", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def demo(ctx: typer.Context) -> None:
    """Serve the Gradio demo (options: --host, --port, --share, --model, --out)."""
    from mmgan.demo import main

    main(list(ctx.args))


@app.command("eval")
def eval_(
    data: Path = typer.Option(..., "--data", help="corpus folder: the real reference clips"),
    out: Path = typer.Option(Path("report.json"), "--out", help="JSON report to write"),
    model: str | None = typer.Option(
        None,
        "--model",
        help="model folder or name: real-baseline, copy-train, one-clip, noise "
        "(default: the shipped generator)",
    ),
    html: Path | None = typer.Option(None, "--html", help="also write an HTML report here"),
    n: int = typer.Option(8, "--n", help="clips generated per genre prompt"),
    seconds: float = typer.Option(6.0, help="seconds per generated clip"),
    seed: int = typer.Option(0, help="generation seed (same seed, same report)"),
    genre: list[str] | None = typer.Option(None, help="only these genres (repeatable)"),
    fast: bool = typer.Option(False, help="fewer samples and hybrid steps: a quick look"),
    judge: Path | None = typer.Option(
        None, "--judge", help="judge folder (default: the shipped mmgan/pretrained/judge)"
    ),
) -> None:
    """Score a generator against the real-vs-real baseline: JSON (+ HTML) report."""
    from mmgan.eval.report import eval_command

    try:
        report = eval_command(
            model=model,
            data=data,
            out=out,
            html=html,
            n=n,
            seconds=seconds,
            seed=seed,
            genres=genre or None,
            fast=fast,
            judge=judge,
        )
    except (ValueError, FileNotFoundError, RuntimeError, PermissionError) as err:
        _fail(str(err))
    typer.echo(f"wrote {out}" + (f" and {html}" if html else ""))
    rows = report.get("summary") or []
    if rows:
        typer.echo(f"{'metric':<34} {'model':>10} {'real':>10}")

    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))

    for row in rows:
        typer.echo(f"{row['metric']:<34} {fmt(row['model']):>10} {fmt(row['real']):>10}")


if __name__ == "__main__":
    app()

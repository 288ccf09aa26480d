"""The Gradio demo: create, blend, do arithmetic on and explore genres; take the bundle home.

    mmgan demo                      # or `make demo`; serves http://127.0.0.1:7860
    python demos/app.py --port 8000

``build_demo(pipeline)`` returns the ``gr.Blocks`` (tests drive it in a real browser);
``main()`` parses ``--host/--port/--share/--model`` and serves it. Four tabs:

- **Create**: prompt, optional picture and reference clip (only its first minute is read),
  sliders (tempo, energy, darkness, density) that add descriptor directions to the style,
  engine, length, seed and variations -> audio, spectrogram, cover, what the style encoder
  hears, and the bundle as a zip. The example row holds the seed article's four hybrids.
- **Blend**: two genres and a mix, or a morph from one to the other across the track.
- **Arithmetic**: an expression with its live normal form and nearest descriptors.
- **Explore**: a 2-D map of the genres and descriptors (PCA of their style vectors); click
  anywhere to generate the style at that point.

Every handler turns a bad input into a message in the page (``gr.Error``), never a stack
trace; long work reports progress; a queue limits concurrent generations; lengths are capped.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from mmgan.data.theory import NOTE_NAMES

__all__ = ["DemoState", "build_demo", "main"]

MAX_SECONDS = 120.0  # per track in the demo (the library allows 600)
STYLE_KEYS = "the style's keys"  # the key choice that lets the symbolic engine draw one
MAX_PROMPT = 500  # characters; longer prompts are cut, with a notice
REFERENCE_SECONDS = 60.0  # only this much of a reference clip is read
CONCURRENCY = 2  # generations at once; the rest wait in the queue
KEEP_BUNDLES = 200  # bundle folders kept under --out; older ones are removed
SLIDERS = {  # slider -> (descriptor at +1, descriptor at -1)
    "tempo": ("fast tempo", "slow tempo"),
    "energy": ("high energy", "low energy"),
    "darkness": ("dark", "bright"),
    "density": ("dense texture", "sparse texture"),
}
HYBRIDS = [
    ["baroque counterpoint with IDM glitches"],
    ["jazz metal with blast beats"],
    ["dreamy folk with ambient textures"],
    ["hip-hop beats with symphonic strings"],
]


@dataclass
class DemoState:
    """What the handlers share: the pipelines (by engine) and where bundles go."""

    pipelines: dict[str, Any]
    out: Path
    notices: list[str] = field(default_factory=list)

    @property
    def space(self):
        return next(iter(self.pipelines.values())).space

    def pipe(self, engine: str):
        if engine not in self.pipelines:
            raise _error(f"the {engine} engine has no model here; pick another engine")
        return self.pipelines[engine]


def _error(message: str) -> gr.Error:
    """A message shown in the page until the user closes it."""
    return gr.Error(message, duration=None)


# ------------------------------------------------------------------------------ inputs


def clean_prompt(prompt: str | None) -> tuple[str | None, list[str]]:
    """``(prompt or None, notices)``: whitespace folded, cut at :data:`MAX_PROMPT`."""
    notes = []
    text = " ".join(str(prompt or "").split())
    if len(text) > MAX_PROMPT:
        notes.append(
            f"the prompt was {len(text):,} characters; only the first {MAX_PROMPT} are used"
        )
        text = text[:MAX_PROMPT]
    return text or None, notes


def read_reference(path: str | None) -> tuple[np.ndarray | None, int | None, list[str]]:
    """The first :data:`REFERENCE_SECONDS` of a reference clip, with a notice if it was longer."""
    if not path:
        return None, None, []
    import soundfile as sf

    from mmgan.audio.io import AudioError, load_audio

    notes = []
    try:
        total = sf.info(path).duration
    except Exception:  # formats soundfile cannot read: load_audio tries the others
        total = None
    try:
        wave, sr = load_audio(path, sr=22050, duration=REFERENCE_SECONDS)
    except (AudioError, OSError, ValueError) as err:
        raise _error(f"the reference clip could not be read: {err}") from err
    if total is not None and total > REFERENCE_SECONDS:
        notes.append(
            f"the reference clip is {total / 60:.0f} min long; only its first "
            f"{REFERENCE_SECONDS:.0f} s were read"
        )
    if wave.size == 0 or float(np.abs(wave).max()) < 1e-4:
        raise _error("the reference clip is silent; drop in a clip with sound")
    return wave, sr, notes


def read_picture(path: str | None):
    if not path:
        return None
    from mmgan.style.imageio import ImageError, load_image

    try:
        return load_image(path)
    except (ImageError, OSError) as err:
        raise _error(f"the picture could not be used: {err}") from err


def slider_style(space, values: dict[str, float]):
    """``(style [D] or None, weight)``: descriptor directions for non-zero sliders."""
    mix = {}
    for name, v in values.items():
        if abs(float(v)) > 1e-3:
            pos, neg = SLIDERS[name]
            mix[pos if v > 0 else neg] = abs(float(v))
    if not mix:
        return None, 0.0
    return space.slider(mix)[0], 0.6 * max(mix.values())


# ------------------------------------------------------------------------------ outputs


def spectrogram_image(result):
    """The track's log-mel (spectrogram engine) or piano-roll (symbolic) as a PIL image."""
    from matplotlib import colormaps
    from PIL import Image

    if result.mel is not None:
        x = np.clip((np.asarray(result.mel) + 11.5) / 14.0, 0, 1)[::-1]
        cmap = colormaps["magma"]
    elif result.rolls is not None:
        x = (np.asarray(result.rolls) > 0).astype(np.float32)[::-1]
        cmap = colormaps["Greys"]
    else:
        return None
    rgb = (cmap(x)[..., :3] * 255).astype(np.uint8)
    return Image.fromarray(rgb).resize((1024, 256))


def _bundle(state: DemoState, pipe, result, cover: str = "procedural"):
    """Write the bundle into a new folder under ``state.out``, keeping the newest
    :data:`KEEP_BUNDLES` folders (a demo that runs for days must not fill the disk)."""
    import shutil

    from mmgan.bundle import write_bundle

    folder = Path(tempfile.mkdtemp(prefix="bundle-", dir=state.out))
    bundle = write_bundle(result, folder, space=pipe.space, cover=cover, zip=True)
    old = sorted(state.out.glob("bundle-*"), key=lambda p: p.stat().st_mtime)[:-KEEP_BUNDLES]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return bundle


def _run(fn, *args, **kwargs):
    """Call the library; its ValueErrors (bad seconds, malformed expressions, ...) become
    messages in the page."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        raise _error(str(err)) from err


# ------------------------------------------------------------------------------ handlers


def create(state: DemoState, prompt, picture, reference, tempo, energy, darkness, density,
           engine, seconds, seed, variations, progress=None, renderer=None,
           truncation=0.7, key=None):  # fmt: skip
    """The Create tab: returns (audio, spectrogram, cover, tags, zip, message, variations).

    ``renderer`` (advanced settings): ``"vocoder"``, ``"pghi"`` or ``"griffinlim"`` for the
    spectrogram engine, ``None`` = the pipeline's default; ``truncation`` in [0, 1];
    ``key``: a tonic (``"A"``) for the symbolic engine, ``None`` or :data:`STYLE_KEYS` = drawn
    from the style's keys (the spectrogram engine has no key to set: ignored).
    """
    progress = progress or (lambda *a, **k: None)
    text, notes = clean_prompt(prompt)
    if text is None and not picture and not reference:
        raise _error("Type a prompt, or add a picture or a reference clip.")
    seconds = float(np.clip(float(seconds or 20), 1.0, MAX_SECONDS))
    seed = int(seed or 0)
    pipe = state.pipe(engine)
    progress(0.05, desc="reading the inputs")
    image = read_picture(picture)
    wave, sr, more = read_reference(reference)
    notes += more
    style, w = slider_style(pipe.space, dict(tempo=tempo, energy=energy, darkness=darkness,
                                              density=density))  # fmt: skip
    kwargs = dict(prompt=text, image=image, audio=wave, audio_sr=sr, style=style,
                  weights={"style": w}, seconds=seconds, renderer=renderer or None,
                  truncation=float(np.clip(float(truncation), 0.0, 1.0)))  # fmt: skip
    if key and key != STYLE_KEYS and hasattr(pipe, "key_head"):
        kwargs["key"] = key
    n = int(np.clip(int(variations or 1), 1, 4))
    results = []
    for i in range(n):
        progress(0.1 + 0.6 * i / n, desc=f"generating {i + 1} of {n}")
        results.append(_run(pipe, seed=seed + i, **kwargs))
    progress(0.75, desc="drawing the cover and writing the bundle")
    bundle = _run(_bundle, state, pipe, results[0])
    r = results[0]
    tags = {name: float(v) for name, v in r.metadata.get("predicted_tags", [])[:8]}
    message = f"**{bundle.title}** — {r.metadata.get('expression') or 'picture/clip'} · seed {seed}"
    if r.metadata.get("renderer"):
        message += f" · rendered by {r.metadata['renderer']}"
    if r.metadata.get("key"):
        message += f" · {r.metadata['bpm']:g} BPM in {r.metadata['key']}"
    if notes:
        message += "\n\n" + "\n".join(f"> note: {x}" for x in notes)
    extra = [(x.sample_rate, x.audio) for x in results[1:]]
    extra += [None] * (3 - len(extra))
    progress(1.0)
    return ((r.sample_rate, r.audio), spectrogram_image(r), str(bundle.folder / "cover.png"),
            tags, str(bundle.zip_path), message, *extra)  # fmt: skip


def blend(state: DemoState, a, b, alpha, morph, seconds, seed, progress=None):
    """The Blend tab: a slerp hybrid, or a morph from A to B over the track."""
    progress = progress or (lambda *a, **k: None)
    a, _ = clean_prompt(a)
    b, _ = clean_prompt(b)
    if not a or not b:
        raise _error("Pick two genres (or type two descriptions) to blend.")
    seconds = float(np.clip(float(seconds or 20), 1.0, MAX_SECONDS))
    pipe = state.pipe("spectrogram")  # blends and morphs: the spectrogram engine
    progress(0.1, desc="generating")
    if morph:
        r = _run(pipe.morph, a, b, seconds=seconds, seed=int(seed or 0))
    else:
        r = _run(pipe.blend, a, b, float(alpha), seconds=seconds, seed=int(seed or 0))
    progress(0.8, desc="writing the bundle")
    bundle = _run(_bundle, state, pipe, r)
    tags = {name: float(v) for name, v in r.metadata.get("predicted_tags", [])[:8]}
    return (r.sample_rate, r.audio), spectrogram_image(r), str(bundle.zip_path), tags


def arithmetic_preview(state: DemoState, expression) -> str:
    """Live: the expression's normal form and nearest descriptors (or what is wrong)."""
    text, _ = clean_prompt(expression)
    if not text:
        return "*Type an expression, e.g.* `techno - monotonous + jazz harmony`"
    try:
        vec, normal = state.space.parse(text)
    except ValueError as err:
        return f"⚠️ {err}"
    near = ", ".join(f"{n} ({v:.2f})" for n, v in state.space.describe(vec, k=8))
    return f"**normal form:** {normal}\n\n**nearest:** {near}"


@dataclass
class GenreMap:
    """PCA of the genre and mood descriptors' style vectors, and the picture of it."""

    names: list[str]
    coords: np.ndarray  # [N, 2]
    mean: np.ndarray  # [D]
    axes: np.ndarray  # [2, D]
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of the plot area
    size: tuple[int, int] = (720, 560)

    def style_at(self, px: float, py: float) -> np.ndarray:
        """The unit style vector at pixel ``(px, py)`` of the picture."""
        x0, x1, y0, y1 = self.extent
        w, h = self.size
        x = x0 + (x1 - x0) * px / w
        y = y1 - (y1 - y0) * py / h
        v = self.mean + x * self.axes[0] + y * self.axes[1]
        return v / max(float(np.linalg.norm(v)), 1e-8)


def genre_map(space) -> tuple[GenreMap, Any]:
    from matplotlib.figure import Figure
    from PIL import Image

    from mmgan.data.composers import GENRES

    moods = ["dark", "bright", "calm", "aggressive", "dreamy", "epic", "melancholic", "energetic"]
    names = list(GENRES) + [m for m in moods if m in space.bank.names]
    vecs = np.stack([np.asarray(space.bank.vector(n), np.float32).reshape(-1) for n in names])
    mean = vecs.mean(axis=0)
    _, _, vt = np.linalg.svd(vecs - mean, full_matrices=False)
    coords = (vecs - mean) @ vt[:2].T
    pad = 0.15 * np.ptp(coords, axis=0)
    extent = (coords[:, 0].min() - pad[0], coords[:, 0].max() + pad[0],
              coords[:, 1].min() - pad[1], coords[:, 1].max() + pad[1])  # fmt: skip
    w, h = 720, 560
    fig = Figure(figsize=(w / 80, h / 80), dpi=80)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_facecolor("#101418")
    for i, n in enumerate(names):
        genre = n in GENRES
        ax.scatter(*coords[i], s=140 if genre else 50, c="#ffb000" if genre else "#5ad1ff")
        ax.annotate(n, coords[i], xytext=(6, 6), textcoords="offset points",
                    color="white" if genre else "#9ad8ff", fontsize=12 if genre else 9)  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
    return GenreMap(names, coords, mean, vt[:2], extent, (w, h)), image


# ------------------------------------------------------------------------------ the page


def build_demo(pipeline, symbolic=None, out: str | Path | None = None):
    """The demo as a ``gr.Blocks``: ``pipeline`` (spectrogram engine), optional ``symbolic``."""
    pipelines = {"spectrogram": pipeline}
    if symbolic is not None:
        pipelines["symbolic"] = symbolic
    folder = Path(out) if out else Path(tempfile.mkdtemp(prefix="mmgan-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    state = DemoState(pipelines, folder)
    gmap, map_image = genre_map(pipeline.space)
    engines = list(pipelines)

    # Gradio's own copies of served files: delete those older than an hour, every hour
    with gr.Blocks(title="mmgan — new genres with GANs", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            "# mmgan\nNew music genres from a conditional GAN. Describe a genre, drop in a "
            "picture or a clip, blend two genres or do arithmetic on them — and take the "
            "track, its cover and metadata home as a bundle."
        )
        with gr.Tab("Create"):
            with gr.Row():
                with gr.Column(scale=3):
                    prompt = gr.Textbox(label="Prompt", elem_id="prompt", lines=2,
                                        placeholder="dreamy folk with ambient textures")  # fmt: skip
                    with gr.Row():
                        # gr.File, not gr.Image/gr.Audio: those decode uploads before the
                        # handler runs and show a bare "Error" for a bad file; here the
                        # handler reads them and says what is wrong
                        picture = gr.File(label="Picture (optional)", file_types=["image"],
                                          type="filepath", elem_id="picture", height=120)  # fmt: skip
                        reference = gr.File(label="Reference clip (optional; first minute)",
                                            file_types=["audio"], type="filepath",
                                            elem_id="reference", height=120)  # fmt: skip
                    with gr.Row():
                        sliders = [gr.Slider(-1, 1, 0, step=0.1, label=name)
                                   for name in SLIDERS]  # fmt: skip
                    with gr.Row():
                        engine = gr.Radio(engines, value=engines[0], label="Engine")
                        seconds = gr.Slider(5, MAX_SECONDS, 20, step=1, label="Seconds")
                        seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                        variations = gr.Slider(1, 4, 1, step=1, label="Variations")
                    with gr.Accordion("Advanced settings", open=False):
                        with gr.Row():
                            renderers = ["pghi", "griffinlim"] + (
                                ["vocoder"] if pipeline.vocoder else [])  # fmt: skip
                            renderer = gr.Radio(renderers, value=pipeline.renderer,
                                                label="Renderer (spectrogram engine)")  # fmt: skip
                            truncation = gr.Slider(0, 1, 0.7, step=0.05,
                                                   label="Truncation (0 typical … 1 varied)")  # fmt: skip
                            key = gr.Dropdown([STYLE_KEYS, *NOTE_NAMES], value=STYLE_KEYS,
                                              label="Key (symbolic engine)")  # fmt: skip
                    go = gr.Button("Generate", variant="primary", elem_id="generate")
                    gr.Examples(HYBRIDS, inputs=[prompt], label="The seed article's hybrids")
                with gr.Column(scale=2):
                    message = gr.Markdown(elem_id="message")
                    audio = gr.Audio(label="Track", elem_id="track", interactive=False)
                    cover = gr.Image(label="Cover", elem_id="cover", interactive=False, height=320)
                    spec = gr.Image(label="Spectrogram / piano-roll", interactive=False)
                    tags = gr.Label(label="What the style encoder hears", num_top_classes=8)
                    download = gr.File(label="Bundle (zip)", elem_id="bundle")
                    with gr.Accordion("Variations", open=False):
                        extra = [gr.Audio(label=f"variation {i + 2}", interactive=False)
                                 for i in range(3)]  # fmt: skip

            def _create(p, pic, ref, t, e, d, den, eng, sec, s, var, ren, tr, k,
                        progress=gr.Progress()):  # fmt: skip
                return create(state, p, pic, ref, t, e, d, den, eng, sec, s, var, progress, ren, tr,
                              k)  # fmt: skip

            go.click(_create, [prompt, picture, reference, *sliders, engine, seconds, seed,
                               variations, renderer, truncation, key],
                     [audio, spec, cover, tags, download, message, *extra],
                     concurrency_limit=CONCURRENCY, api_name="create")  # fmt: skip

        with gr.Tab("Blend"):
            from mmgan.data.composers import GENRES

            with gr.Row():
                a = gr.Dropdown(
                    list(GENRES), value="jazz", label="Genre A", allow_custom_value=True
                )
                b = gr.Dropdown(
                    list(GENRES), value="metal", label="Genre B", allow_custom_value=True
                )
                alpha = gr.Slider(0, 1, 0.5, step=0.05, label="A ← mix → B")
                morph = gr.Checkbox(False, label="Morph from A to B across the track")
            with gr.Row():
                b_seconds = gr.Slider(5, MAX_SECONDS, 20, step=1, label="Seconds")
                b_seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                b_go = gr.Button("Blend", variant="primary")
            b_audio = gr.Audio(label="Hybrid", interactive=False)
            b_spec = gr.Image(label="Spectrogram", interactive=False)
            with gr.Row():
                b_tags = gr.Label(label="What the style encoder hears", num_top_classes=6)
                b_file = gr.File(label="Bundle (zip)")

            def _blend(a_, b_, al, mo, sec, s, progress=gr.Progress()):
                return blend(state, a_, b_, al, mo, sec, s, progress)

            b_go.click(_blend, [a, b, alpha, morph, b_seconds, b_seed],
                       [b_audio, b_spec, b_file, b_tags], concurrency_limit=CONCURRENCY,
                       api_name="blend")  # fmt: skip

        with gr.Tab("Arithmetic"):
            expr = gr.Textbox(label="Expression", value="techno - monotonous + jazz harmony",
                              elem_id="expression")  # fmt: skip
            preview = gr.Markdown(arithmetic_preview(state, "techno - monotonous + jazz harmony"),
                                  elem_id="normal-form")  # fmt: skip
            expr.change(lambda x: arithmetic_preview(state, x), expr, preview,
                        show_progress="hidden", api_name="normal_form")  # fmt: skip
            a_go = gr.Button("Generate this", variant="primary")
            a_audio = gr.Audio(label="Track", interactive=False)
            a_file = gr.File(label="Bundle (zip)")

            def _arith(x, progress=gr.Progress()):
                out = create(state, x, None, None, 0, 0, 0, 0, engines[0], 20, 0, 1, progress)
                return out[0], out[4]

            a_go.click(_arith, expr, [a_audio, a_file], concurrency_limit=CONCURRENCY,
                       api_name="arithmetic")  # fmt: skip

        with gr.Tab("Explore"):
            gr.Markdown("Genres (gold) and moods (blue) on the two main axes of the style "
                        "space. **Click anywhere** to hear the style at that point.")  # fmt: skip
            the_map = gr.Image(map_image, label="Style map", interactive=False, elem_id="map")
            e_msg = gr.Markdown(elem_id="explore-message")
            e_audio = gr.Audio(label="Track at the point", interactive=False,
                               elem_id="explore-track")  # fmt: skip

            def _explore(evt: gr.SelectData, progress=gr.Progress()):
                px, py = evt.index
                style = gmap.style_at(float(px), float(py))
                pipe = state.pipe(engines[0])
                progress(0.2, desc="generating")
                r = _run(pipe, style=style, seconds=15.0, seed=0)
                near = ", ".join(n for n, _ in pipe.space.describe(style[None], k=4))
                return f"at ({px}, {py}): nearest {near}", (r.sample_rate, r.audio)

            the_map.select(_explore, None, [e_msg, e_audio], concurrency_limit=CONCURRENCY,
                           api_name="explore")  # fmt: skip

    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    demo.mmgan_state = state
    return demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the mmgan Gradio demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link")
    parser.add_argument("--model", default=None, help="GAN folder or run (default: shipped)")
    parser.add_argument("--vocoder", default=None, help="vocoder folder or run (default: shipped)")
    parser.add_argument("--symbolic-model", default=None, help="piano-roll GAN (default: shipped)")
    parser.add_argument("--out", default=None, help="where bundles are written (default: temp)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    from mmgan.generate.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(args.model, vocoder=args.vocoder)
    symbolic = None
    try:
        symbolic = Pipeline.from_pretrained(
            args.symbolic_model, engine="symbolic", space=pipe.space
        )
    except FileNotFoundError:
        pass  # no symbolic model here (a trimmed install): only the spectrogram engine is offered
    demo = build_demo(pipe, symbolic, out=args.out)
    print(f"mmgan demo ready in {time.perf_counter() - t0:.1f} s: http://{args.host}:{args.port}")
    demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                show_error=False, allowed_paths=[str(demo.mmgan_state.out)])  # fmt: skip


if __name__ == "__main__":
    main()

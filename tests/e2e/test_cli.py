import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mmgan.cli import app
from mmgan.data.composers import GENRES

runner = CliRunner()


def test_help_lists_commands_with_descriptions():
    res = subprocess.run(
        [sys.executable, "-m", "mmgan.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "dataset" in res.stdout and "Build, inspect" in res.stdout
    res = runner.invoke(app, ["dataset", "--help"])
    for cmd in ("build", "info", "preview"):
        assert cmd in res.output


def test_build_info_preview(tmp_path):
    out = tmp_path / "c"
    res = runner.invoke(
        app,
        [
            "dataset",
            "build",
            "--preset",
            "tiny",
            "--out",
            str(out),
            "--workers",
            "1",
            "--genre",
            GENRES[0],
            "--genre",
            GENRES[1],
        ],
    )
    assert res.exit_code == 0, res.output
    assert "8 clips" in res.output
    res = runner.invoke(app, ["dataset", "info", str(out), "--json"])
    info = json.loads(res.output)
    assert info["clips"] == 8 and set(info["genres"]) == {GENRES[0], GENRES[1]}
    res = runner.invoke(app, ["dataset", "preview", str(out), "--out", str(tmp_path / "g.png")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_errors_are_clear_and_exit_2(tmp_path):
    res = runner.invoke(app, ["dataset", "build", "--preset", "huge", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "valid presets: tiny, small, full" in res.output
    res = runner.invoke(app, ["dataset", "build", "--out", str(tmp_path), "--genre", "polka"])
    assert res.exit_code == 2 and "valid genres" in res.output
    res = runner.invoke(app, ["dataset", "info", str(tmp_path)])
    assert res.exit_code == 2 and "no metadata.jsonl" in res.output
    res = runner.invoke(
        app, ["dataset", "build", "--out", str(tmp_path), "--soundfont", str(tmp_path / "none.sf2")]
    )
    assert res.exit_code == 2 and "SoundFont not found" in res.output


def test_eval_command_writes_json_and_html(tiny_corpus, tmp_path):
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    args = ["eval", "--model", "noise", "--data", str(tiny_corpus), "--out", str(out)]
    args += ["--html", str(html), "--n", "2", "--seconds", "2", "--fast"]
    res = runner.invoke(app, args + ["--genre", "jazz", "--genre", "techno"])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    assert report["config"]["model"] == "noise" and report["genres"] == ["jazz", "techno"]
    assert "conditioning accuracy (judge)" in res.output
    assert html.is_file() and "<audio" in html.read_text()
    # coloured noise is not jazz or techno: the judge must not be fooled
    assert report["model"]["judge"]["accuracy"] < report["real"]["judge"]["accuracy"]


def test_eval_errors_name_the_problem(tiny_corpus, tmp_path):
    res = runner.invoke(app, ["eval", "--data", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "metadata.jsonl" in res.output
    res = runner.invoke(app, ["eval", "--data", str(tiny_corpus), "--model", "wavenet9000"])
    assert res.exit_code == 2 and "real-baseline" in res.output


def test_train_judge_cli(tiny_corpus, tmp_path):
    run = tmp_path / "judge"
    args = ["train", "judge", "--data", str(tiny_corpus), "--out", str(run)]
    config = Path(__file__).parents[2] / "configs" / "judge-tiny.yaml"
    res = runner.invoke(app, args + ["--config", str(config), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert (run / "model" / "model.safetensors").is_file()
    res = runner.invoke(app, args + ["--set", "stepz=3"])
    assert res.exit_code == 2 and "stepz" in res.output


def test_train_gan_then_generate_cli(tiny_corpus, tmp_path):
    run = tmp_path / "run"
    res = runner.invoke(
        app,
        ["train", "gan", "--config", "configs/tiny.yaml", "--data", str(tiny_corpus)]
        + ["--out", str(run), "--set", "steps=2", "--set", "sample_every=0", "--no-progress"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.strip().splitlines()[-1])["step"] == 2
    tune = ["train", "gan", "--config", "configs/tiny.yaml", "--data", str(tiny_corpus)]
    tune += ["--set", "steps=1", "--set", "sample_every=0", "--no-progress"]
    res = runner.invoke(app, tune + ["--out", str(tmp_path / "ft"), "--init", str(run / "model")])
    assert res.exit_code == 0, res.output  # fine-tunes the run's export
    assert f"init_from: {run / 'model'}" in (tmp_path / "ft" / "config.yaml").read_text()
    res = runner.invoke(app, tune + ["--out", str(tmp_path / "ft2"), "--init", str(tmp_path)])
    assert res.exit_code == 2 and "no model folder" in res.output
    out = tmp_path / "track"
    args = ["generate", "jazz - swing + blast beats", "--model", str(run), "--seconds", "2"]
    res = runner.invoke(app, args + ["--seed", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "track.wav" in res.output and "jazz − swing + blast beats" in res.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 3 and meta["seconds"] == 2.0
    for bad, match in ((["--seconds", "0"], "seconds"), (["--truncation", "2"], "truncation")):
        res = runner.invoke(app, ["generate", "jazz", "--model", str(run)] + bad)
        assert res.exit_code == 2 and match in res.output
    res = runner.invoke(app, ["generate", "--model", str(run)])
    assert res.exit_code == 2 and "PROMPT" in res.output
    res = runner.invoke(app, ["generate", "jazz", "--image", str(tmp_path / "nope.png")])
    assert res.exit_code == 2 and "no such file" in res.output
    res = runner.invoke(app, ["generate", "jazz", "--model", str(tmp_path)])
    assert res.exit_code == 2 and "mmgan-specgan model folder" in res.output
    gl = tmp_path / "gl"
    res = runner.invoke(app, args + ["--renderer", "griffinlim", "--out", str(gl)])
    assert res.exit_code == 0 and "rendered by griffinlim" in res.output, res.output
    assert json.loads((gl / "metadata.json").read_text())["renderer"] == "griffinlim"
    res = runner.invoke(app, args + ["--renderer", "wavenet"])
    assert (
        res.exit_code == 2 and "--renderer must be one of vocoder, pghi, griffinlim" in res.output
    )
    res = runner.invoke(app, args + ["--vocoder", str(tmp_path / "none")])
    assert res.exit_code == 2 and "no vocoder at" in res.output
    zipped = tmp_path / "zipped"
    res = runner.invoke(app, args + ["--zip", "--cover", "procedural", "--out", str(zipped)])
    assert res.exit_code == 0 and "zip:" in res.output and "title:" in res.output, res.output
    assert (zipped / "cover.png").is_file() and len(list(zipped.glob("*.zip"))) == 1
    res = runner.invoke(app, args + ["--cover", "none", "--out", str(tmp_path / "bare")])
    assert res.exit_code == 0 and not (tmp_path / "bare" / "cover.png").exists()
    res = runner.invoke(app, args + ["--cover", "oil"])
    assert res.exit_code == 2 and "--cover must be" in res.output
    nowhere = ["--cover", "diffusion", "--diffusion-model", str(tmp_path / "no-sd")]
    res = runner.invoke(app, args + nowhere + ["--out", str(tmp_path / "sd")])
    assert res.exit_code == 2 and "huggingface-cli download" in res.output
    assert not (tmp_path / "sd").exists()  # nothing written before the error


def test_generate_symbolic_in_a_key_and_a_key_without_the_symbolic_engine(
    tiny_symbolic_run, tiny_gan_run, tmp_path
):
    out = tmp_path / "keyed"
    args = ["generate", "a jazz track", "--model", str(tiny_symbolic_run), "--seconds", "3"]
    res = runner.invoke(app, args + ["--key", "A", "--out", str(out)])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["key"].startswith("A ") and f"BPM, {meta['key']})" in res.output
    res = runner.invoke(app, args + ["--key", "H minor", "--out", str(tmp_path / "bad")])
    assert res.exit_code == 2 and "key" in res.output and not (tmp_path / "bad").exists()
    res = runner.invoke(app, ["generate", "jazz", "--model", str(tiny_gan_run), "--key", "A"])
    assert res.exit_code == 2 and "--key needs the symbolic engine" in res.output

import json
import subprocess
import sys

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

"""The HTML view of an evaluation report: one self-contained page, no network, no JavaScript.

Charts are matplotlib figures embedded as base64 PNG; sample clips are WAV files in a
``<stem>_audio/`` folder beside the page, linked relatively, so the folder can be moved
or zipped as a whole. Every text from the report is escaped; every file is written
atomically. See :func:`mmgan.eval.report.run_eval` for the report layout.
"""

from __future__ import annotations

import base64
import io
import math
import re
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from mmgan.utils import atomic_write_text

__all__ = ["render_html", "summary_rows", "write_html"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3} .note{color:#666;font-size:90%} img{max-width:100%}
.clips td{text-align:left} audio{height:32px;width:240px}
.players{display:flex;gap:1em;flex-wrap:wrap}
"""
MODEL_COLOUR, REAL_COLOUR = "#d95f02", "#1b9e77"


def summary_rows(model: dict[str, Any], real: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary table of a report: ``{"metric", "model", "real", "note"}`` rows."""

    def row(metric: str, a: Any, b: Any, note: str) -> dict[str, Any]:
        return {"metric": metric, "model": a, "real": b, "note": note}

    judge, clap = "the judge on real test clips", "real test clips vs their genre prompt"
    rows = [
        row(
            "conditioning accuracy (judge)",
            model["judge"]["accuracy"],
            real["judge"]["accuracy"],
            judge,
        ),
        row("CLAP-style score", model["clap"]["mean"], real["clap"]["mean"], clap),
    ]
    for name, f in model["fad"].items():
        r = real["fad"][name]
        note = f"{r['matched']['n']} train vs {f['n_test']} test clips (model: {f['n']})"
        rows.append(row(f"FAD vs test ({name})", f["fad"], r["matched"]["fad"], note))
        if f["fad_inf"] is not None or r["fad_inf"] is not None:
            note = f"all {r['n']} train vs test clips"
            rows.append(row(f"FAD∞ vs test ({name})", f["fad_inf"], r["fad_inf"], note))
    for name, d in model["diversity"].items():
        ref = real["diversity"][name]["mean_ratio"]
        rows.append(row(f"diversity ratio ({name})", d["mean_ratio"], ref, "train vs test clips"))
    copy = model["memorisation"]["copy_rate"], real["memorisation"]["copy_rate"]
    rows.append(row("copy rate vs train", *copy, "real test clips vs train"))
    if model["hybrid"]["pairs"]:
        share = float(np.mean([p["midpoint_share"] for p in model["hybrid"]["pairs"]]))
        rows.append(row("hybrid midpoint share", share, None, "no real hybrids exist"))
    if "mean_ratio" in model["seam"]:
        rows.append(row("seam flux ratio", model["seam"]["mean_ratio"], 1.0, "1: like any frame"))
    return rows


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return escape(str(x))
    if isinstance(x, float) and not math.isfinite(x):
        return "–"
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _table(header: list[str], rows: list[list[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{escape(cls)}"><tr>{head}</tr>{body}</table>'


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _figure(width: float = 8.0, height: float = 3.2):
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height))


def _bars(
    title: str, genres: list[str], model: list[Any], real: list[Any], ylabel: str, line=None
) -> str:
    """Grouped bars per genre: model vs the real reference (and a dashed line at ``line``)."""
    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(genres))
    as_num = [[np.nan if v is None else float(v) for v in vs] for vs in (model, real)]
    ax.bar(x - 0.2, as_num[0], 0.4, label="model", color=MODEL_COLOUR)
    ax.bar(x + 0.2, as_num[1], 0.4, label="real reference", color=REAL_COLOUR)
    if line is not None:
        ax.axhline(line, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(x, genres, rotation=30, ha="right")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return _png(fig)


def _confusions(blocks: list[tuple[str, dict[str, Any]]]) -> str:
    """Heat maps of confusion matrices (rows: target genre, columns: predicted genre)."""
    fig = _figure(5.0 * len(blocks), 4.4)
    for k, (title, conf) in enumerate(blocks):
        ax = fig.add_subplot(1, len(blocks), k + 1)
        m = np.asarray(conf["matrix"], dtype=float)
        rows, cols = conf["rows"], conf["columns"]
        ax.imshow(m, cmap="Blues", vmin=0.0, vmax=max(1.0, float(m.max(initial=0))))
        ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_xlabel("judge's genre")
        ax.set_ylabel("prompted / true genre")
        ax.set_title(title)
        for (i, j), v in np.ndenumerate(m):
            if v:
                colour = "white" if v > 0.6 * m.max() else "black"
                ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=6, color=colour)
    return _png(fig)


def _hybrid(pairs: list[dict[str, Any]]) -> str:
    """One panel per pair: the judge's mean P(A) and P(B) against alpha."""
    fig = _figure(4.0 * max(1, len(pairs)), 3.0)
    for k, p in enumerate(pairs):
        ax = fig.add_subplot(1, len(pairs), k + 1)
        ax.plot(p["alphas"], p["p_a"], "o-", label=f"P({p['a']})", color="#7570b3")
        ax.plot(p["alphas"], p["p_b"], "s-", label=f"P({p['b']})", color="#e7298a")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(f"alpha ({p['a']} -> {p['b']})")
        ax.set_title(f"{p['a']} / {p['b']}")
        ax.legend(fontsize=8)
    return _png(fig)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "clip"


def _write_audio(report: dict[str, Any], html_path: Path) -> dict[str, list[tuple[str, str]]]:
    """Write the report's sample clips as WAVs; ``{genre: [(label, relative url), ...]}``."""
    from mmgan.audio.io import save_wav

    folder = html_path.parent / f"{html_path.stem}_audio"
    out: dict[str, list[tuple[str, str]]] = {}
    for clip in report.get("_audio", []):
        name = f"{_slug(clip['genre'])}_{clip['kind']}_{clip['index']}.wav"
        save_wav(folder / name, clip["wave"], int(clip["sample_rate"]))
        label = f"{clip['kind']} {clip['index']}" + (
            f" (seed {clip['seed']})" if clip.get("seed") is not None else ""
        )
        out.setdefault(clip["genre"], []).append((label, quote(f"{folder.name}/{name}")))
    return out


def render_html(report: dict[str, Any], audio: dict[str, list[tuple[str, str]]]) -> str:
    """The page for ``report`` with players for ``audio`` (``{genre: [(label, url)]}``)."""
    cfg, model, real = report["config"], report["model"], report["real"]
    genres = report["genres"]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>mmgan eval: {escape(str(cfg['model']))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Evaluation of {escape(str(cfg['model']))}</h1>",
        f"<p class='note'>data {escape(str(cfg['data']))} · mmgan "
        f"{escape(str(cfg['mmgan_version']))} · seed {_fmt(cfg['seed'])} · "
        f"{_fmt(cfg['n_per_prompt'])} clips per prompt of {_fmt(cfg['seconds'])} s · real "
        f"reference: train split vs held-out {escape('+'.join(cfg['reference_splits']))}</p>",
        "<h2>Summary</h2>",
        _table(
            ["metric", "model", "real reference", "how the reference is made"],
            [[r["metric"], r["model"], r["real"], r["note"]] for r in report["summary"]],
        ),
    ]
    if report.get("notes"):
        parts.append(
            "<ul class='note'>" + "".join(f"<li>{escape(n)}</li>" for n in report["notes"])
        )
        parts.append("</ul>")
    parts.append("<h2>Per genre</h2>")
    cond, rcond = model["judge"], real["judge"]
    parts.append(
        _bars(
            "Conditioning accuracy (judge)",
            genres,
            [cond["per_genre"].get(g) for g in genres],
            [rcond["per_genre"].get(g) for g in genres],
            "accuracy",
        )
    )
    parts.append(
        _bars(
            "CLAP-style score (style space)",
            genres,
            [model["clap"]["per_genre"].get(g) for g in genres],
            [real["clap"]["per_genre"].get(g) for g in genres],
            "cosine(prompt, audio)",
        )
    )
    for name, div in model["diversity"].items():
        parts.append(
            _bars(
                f"Diversity ratio, {name} embedding (1 = as diverse as held-out real clips)",
                genres,
                [div["per_genre"][g]["ratio"] for g in genres],
                [real["diversity"][name]["per_genre"][g]["ratio"] for g in genres],
                "ratio",
                line=1.0,
            )
        )
    parts.append("<h2>Confusion matrices</h2>")
    parts.append(
        _confusions([("model", cond["confusion"]), ("real test clips", rcond["confusion"])])
    )
    parts.append("<h2>Fréchet audio distance vs the held-out real clips</h2>")
    header = ["embedder", "model", "real: train, same n", "real: all train", "model FAD∞"]
    header += ["real FAD∞", "n model", "n train (same n)", "n train (all)", "n held-out"]
    rows = []
    for name, f in model["fad"].items():
        r = real["fad"][name]
        rows.append([name, f["fad"], r["matched"]["fad"], r["fad"], f["fad_inf"], r["fad_inf"]])
        rows[-1] += [f["n"], r["matched"]["n"], r["n"], f["n_test"]]
    parts.append(_table(header, rows))
    hyb = model.get("hybrid", {})
    if hyb.get("pairs"):
        parts.append("<h2>Hybrid paths (slerp between two prompts)</h2>")
        parts.append(_hybrid(hyb["pairs"]))
        keys = ["spearman_a", "spearman_b", "midpoint_share", "midpoint_balance"]
        parts.append(
            _table(
                ["pair", *keys],
                [[f"{p['a']} / {p['b']}", *[p.get(k) for k in keys]] for p in hyb["pairs"]],
            )
        )
    seam = model.get("seam", {})
    parts.append("<h2>Seams on long tracks</h2>")
    if "skipped" in seam:
        parts.append(f"<p class='note'>skipped: {escape(str(seam['skipped']))}</p>")
    else:
        parts.append(
            _table(
                ["genre", "boundary flux", "other flux", "ratio"],
                [
                    [g, v["boundary_flux"], v["other_flux"], v["ratio"]]
                    for g, v in seam["per_genre"].items()
                ],
            )
        )
    sym = report.get("symbolic", {})
    if "genres" in sym:
        metrics = list(sym.get("metrics", {})) or sorted(next(iter(sym["genres"].values()), {}))
        parts.append("<h2>Symbolic reference (real test clips)</h2>")
        parts.append(
            _table(
                ["genre", *metrics],
                [[g, *[sym["genres"][g].get(m) for m in metrics]] for g in sym["genres"]],
            )
        )
    if audio:
        parts.append("<h2>Listen</h2><table class='clips'><tr><th>genre</th><th>clips</th></tr>")
        for genre, clips in audio.items():
            players = "".join(
                f"<div>{escape(label)}<br><audio controls preload='none' "
                f"src='{escape(url)}'></audio></div>"
                for label, url in clips
            )
            parts.append(f"<tr><td>{escape(genre)}</td><td class='players'>{players}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Configuration</h2>")
    parts.append(_table(["setting", "value"], [[k, str(v)] for k, v in cfg.items()]))
    parts.append("<h2>Timings (s)</h2>")
    parts.append(
        _table(["section", "seconds"], [[k, v] for k, v in report.get("timings", {}).items()])
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(report: dict[str, Any], html_path: str | Path) -> Path:
    """Write the page and its ``<stem>_audio/`` clips atomically. Returns ``html_path``."""
    html_path = Path(html_path)
    audio = _write_audio(report, html_path)
    atomic_write_text(html_path, render_html(report, audio))
    return html_path

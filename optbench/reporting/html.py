"""One self-contained HTML page per results folder: what was run, the tables, every figure.

``optbench report DIR`` writes ``DIR/report.html`` from what the folder holds (manifest.json,
runs.csv, any other CSV table such as a sweep's best.csv, every PNG and GIF); nothing is
recomputed. The page makes no outside request — figures are base64 data URIs, the CSS is
inline, there is no script and no web font — so it opens offline in any browser, survives being
mailed or attached to an issue, and prints with no figure split across pages. Every piece of
text taken from the folder is escaped.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optbench.errors import OptbenchError
from optbench.families import family_names, get_family
from optbench.plots import ends_a_line
from optbench.reporting.template import PAGE, STYLE
from optbench.results import (
    HISTORY_CSV,
    MANIFEST_JSON,
    RUNS_CSV,
    atomic_write_text,
    read_csv_or_error,
    read_manifest,
)

if TYPE_CHECKING:
    import pandas as pd

REPORT_HTML = "report.html"
RUNS_COLUMNS = ("run_id", "problem", "optimizer", "lr", "seed", "diverged", "diverged_step")
MAX_TABLE_ROWS = 300  # a longer table is cut (with a note): the CSV beside the page has it all

# What to look for in each figure, keyed by file-name stem. A stem with a suffix
# (``loss-beale``, one file per problem) takes the caption of the longest key it starts with.
CAPTIONS = {
    "trajectories": (
        "Each optimizer's path over the contours of f − f* (log-spaced levels), from the white "
        "start towards the gold star: look for zig-zags across narrow valleys, overshoot, and "
        "where each path ends (an X marks a run that diverged)."
    ),
    "loss": (
        "The gap to the minimum against step, on a log scale (bands span the seeds): a steeper "
        "fall is faster progress; the dashed line is the 1e-3 target; a line that stops diverged."
    ),
    "lr_sensitivity": (
        "Final gap (the final f where f* is unknown) against learning rate, on log scales: look "
        "for how wide each optimizer's range of good learning rates is, and where it starts to "
        "diverge (an × along the top)."
    ),
    "tuned_loss": (
        "Loss curves at each optimizer's best learning rate: the fair race, once every optimizer "
        "is tuned; bands show the spread over seeds."
    ),
    "trajectory_grid": (
        "Paths of every optimizer on every problem at its tuned learning rate: look for which "
        "landscapes break which method."
    ),
    "ecdf": (
        "The fraction of runs that reached the target within a given number of steps: a curve "
        "further up and to the left solves more runs sooner."
    ),
    "performance_profile": (
        "The fraction of problems each optimizer solves within a factor τ of the fastest one: "
        "high at τ = 1 means often the fastest; high on the right means robust."
    ),
    "accuracy": (
        "Test accuracy against epoch: look for the level each optimizer reaches, how soon, and "
        "whether the gap between optimizers opens or closes."
    ),
    "decision_boundary": (
        "The trained network's decision regions over the data points: smooth boundaries that "
        "follow the classes generalise; jagged islands around single points overfit."
    ),
    "weight_trajectory": (
        "The weights' path projected onto two directions: how far, and how straight, each "
        "optimizer travels through parameter space."
    ),
}
GENERIC_CAPTION = "A figure of this folder: its title, axes and legend say what is plotted."
ANIMATION_CAPTION = (
    "The paths animated: every optimizer moves together, the step counter is in the title, and "
    "the last picture holds before the loop restarts (printed, only its first frame shows)."
)
IMAGE_TYPES = {".png": "image/png", ".gif": "image/gif"}
TABLE_ORDER = ("best", "rank")  # best.csv first, then ranking tables, then the rest by name


def esc(value: Any) -> str:
    """Any value as escaped HTML text (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


def write_report(folder: str | os.PathLike) -> Path:
    """Write ``folder/report.html`` and return its path (see the module docstring)."""
    from optbench._version import __version__

    folder = Path(folder)
    if not folder.is_dir():
        raise OptbenchError(f"'{folder}' is not a folder")
    if not (folder / RUNS_CSV).is_file():
        raise OptbenchError(f"'{folder}' is not an optbench results folder (no {RUNS_CSV})")
    if not ends_a_line(folder / RUNS_CSV):
        raise OptbenchError(f"'{folder / RUNS_CSV}' ends in the middle of a line: a damaged "
                            "(truncated) file")  # fmt: skip
    runs = read_csv_or_error(folder / RUNS_CSV)
    missing = [c for c in RUNS_COLUMNS if c not in runs.columns]
    if missing:
        raise OptbenchError(f"'{folder / RUNS_CSV}' lacks the column(s) {', '.join(missing)}")
    manifest = read_manifest(folder)

    body = [
        _header(folder, runs, manifest),
        _setup_section(manifest),
        _results_section(folder, runs),
        _divergence_section(runs),
        _figures_section(folder),
        f"<footer>Written by optbench {esc(__version__)} from the files of this folder; "
        "every number here is in its CSV files.</footer>",
    ]
    page = PAGE.substitute(
        version=esc(__version__),
        title=esc(f"optbench report · {folder.resolve().name}"),
        style=STYLE,
        body="\n".join(body),
    )
    path = folder / REPORT_HTML
    try:
        atomic_write_text(path, page)
    except OSError as exc:  # a read-only folder, a full disk: one line, not a traceback
        raise OptbenchError(f"cannot write '{path}': {exc.strerror or exc}") from None
    return path


# ── sections ────────────────────────────────────────────────────────────────────────────────


def _header(folder: Path, runs: pd.DataFrame, manifest: Mapping[str, Any]) -> str:
    problems = ", ".join(dict.fromkeys(map(str, runs["problem"])))
    optimizers = ", ".join(dict.fromkeys(map(str, runs["optimizer"])))
    facts = [
        f"{len(runs)} run{'s' * (len(runs) != 1)} on {esc(problems)}",
        f"optimizers {esc(optimizers)}",
    ]
    if manifest.get("command"):
        facts.append(f"<code>optbench {esc(manifest['command'])}</code>")
    if manifest.get("started_utc"):
        facts.append(f"started {esc(manifest['started_utc'])}")
    links = {"setup": "What was run", "results": "Results", "divergences": "Divergences"}
    links["figures"] = "Figures"
    return (
        f"<header><h1>optbench report: <span class='mono'>{esc(folder.resolve().name)}</span>"
        f"</h1><p class='lede'>{' · '.join(facts)}</p><nav>"
        + "".join(f"<a href='#{anchor}'>{text}</a>" for anchor, text in links.items())
        + "</nav></header>"
    )


def _setup_section(manifest: Mapping[str, Any]) -> str:
    """The config (settings shared by all runs, then what differs) beside versions and machine."""
    if not manifest:
        return (
            "<section id='setup'><h2>What was run</h2><p class='note'>This folder has no "
            f"{MANIFEST_JSON}: settings, versions and machine are unknown.</p></section>"
        )
    settings = _settings(manifest.get("config") or {})
    seeds = manifest.get("seeds")
    versions = manifest.get("versions") or {}
    provenance = {
        "started (UTC)": manifest.get("started_utc"),
        "finished (UTC)": manifest.get("finished_utc"),
        "seeds": ", ".join(map(str, seeds)) if isinstance(seeds, list) else seeds,
        "git commit": manifest.get("git_commit") or "— (not run from a git checkout)",
        "versions": " · ".join(f"{k} {v}" for k, v in versions.items()),
        **(manifest.get("machine") or {}),
        "schema version": manifest.get("schema_version"),
    }
    known = {"config", "versions", "machine", "seeds", "git_commit", "started_utc"}
    known |= {"finished_utc", "schema_version", "command"}
    provenance.update({k: v for k, v in manifest.items() if k not in known})
    return (
        "<section id='setup'><h2>What was run</h2><div class='columns'>"
        f"<div><h3>Settings</h3>{settings}</div>"
        f"<div><h3>Versions, machine, time</h3>{_facts_table(provenance.items())}</div>"
        "</div></section>"
    )


def _settings(config: Mapping[str, Any]) -> str:
    """Settings every run shares as facts, then one line per optimizer with what differs.

    Each run's config is flattened (hyperparameters become keys of their own). A key with one
    value over all runs is shared; otherwise the optimizer's line gives ``name=value``, or
    ``name ∈ {a, b, …}`` where its runs differ, so a swept learning rate reads as one line. The
    run id and seed are left out: they differ for every run and are in the results table.
    """
    if isinstance(config.get("sweep"), Mapping):
        return _sweep_settings(config)
    runs = [_flatten(r) for r in config.get("runs", []) if isinstance(r, Mapping)]
    facts = {k: v for k, v in config.items() if k != "runs"}
    keys = list(dict.fromkeys(k for r in runs for k in r))
    differing = []
    for key in keys:
        if all(key in r for r in runs) and len({_text(r[key]) for r in runs}) == 1:
            facts[key] = runs[0][key]
        elif key != "optimizer":
            differing.append(key)
    out = _facts_table(facts.items())
    if runs and differing:
        lines = []
        for name in dict.fromkeys(r.get("optimizer") for r in runs):
            group = [r for r in runs if r.get("optimizer") == name]
            parts = []
            for key in differing:
                values = list(dict.fromkeys(_text(r[key]) for r in group if key in r))
                if len(values) == 1:
                    parts.append(f"{key}={values[0]}")
                elif values:
                    parts.append(f"{key} ∈ {{{', '.join(values)}}}")
            # no line break inside one setting: only between them
            lines.append((_text(name), " · ".join(p.replace(" ", "\u00a0") for p in parts)))
        out += "<h3>Per optimizer</h3>" + _table(["optimizer", "settings"], lines)
    return out


def _sweep_settings(config: Mapping[str, Any]) -> str:
    """A sweep's grid as facts (problems, seeds, noise …) and one line per optimizer saying
    which hyperparameters are axes, how many values and over what range."""
    sweep = config["sweep"]
    sha = str(config.get("sha256", ""))
    facts: dict[str, Any] = {"kind": config.get("kind"), "sha256": f"{sha[:16]}…" if sha else ""}
    for key, value in sweep.items():
        if key == "axes" or value in ((), [], None):
            continue
        if isinstance(value, list | tuple) and value and isinstance(value[0], list | tuple):
            value = ", ".join(f"{k}={_text(v)}" for k, v in value)  # pairs: starts, network
        elif isinstance(value, list | tuple):
            value = ", ".join(_text(v) for v in value)
        facts[key] = value
    lines = []
    for name, named_axes in sweep.get("axes", []):
        parts = []
        for hname, values in named_axes:
            if isinstance(values, Mapping):  # a long grid, recorded by its rule
                from optbench.config import parse_axis

                values = parse_axis(values, hname)
            numbers = [float(v) for v in values]
            if len(numbers) == 1:
                parts.append(f"{hname}={_text(numbers[0])}")
            else:
                span = f"{_text(min(numbers))} … {_text(max(numbers))}"
                parts.append(f"{hname}: {len(numbers)} values, {span}")
        lines.append((_text(name), " · ".join(parts) or "defaults"))
    out = _facts_table(facts.items())
    if lines:
        out += "<h3>Grid per optimizer</h3>" + _table(["optimizer", "axes"], lines)
    return out


BEST_COLUMNS = {
    "problem": "problem", "preset": "preset", "noise": "noise", "steps": "steps",
    "optimizer": "optimizer", "lr": "lr", "seeds": "seeds", "evaluated_on": "evaluated on",
    "compared_by": "compared by",
    "final_gap_median": "median gap", "final_gap_geomean": "geo-mean gap",
    "final_gap_geo_ci_low": "gap 95% CI low", "final_gap_geo_ci_high": "gap 95% CI high",
    "final_loss_median": "median final loss", "final_loss_ci_low": "loss 95% CI low",
    "final_loss_ci_high": "loss 95% CI high",
    "steps_to_1e-03_median": "steps to 1e-3", "diverged_fraction": "diverged",
}  # fmt: skip
"""best.csv has a column per hyperparameter of every optimizer; the page shows what to compare
(conditions that do not vary are dropped) and the CSV keeps everything."""


def _best_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns worth comparing; a cell setting that does not vary is said once, in the
    settings above, so it is dropped (blank network settings of surfaces included)."""
    from optbench.analysis import CELL

    keep = [c for c in BEST_COLUMNS if c in frame.columns]
    detail = ("hp_", "log10_gap_", "final_gap_mean", "final_gap_ci_", "final_loss_mean")  # CSV only
    keep += [c for c in frame.columns if c not in BEST_COLUMNS and not c.startswith(detail)]
    settings = set(CELL) - {"problem", "optimizer"}
    settings.add("compared_by")  # said by the headers unless problems differ in it
    keep = [c for c in keep if c not in settings or frame[c].nunique() > 1]
    return frame[keep].rename(columns=BEST_COLUMNS)


def _flatten(run: Mapping[str, Any]) -> dict[str, Any]:
    """A run config with its ``hp`` pairs as keys in place, without run id and seed."""
    flat: dict[str, Any] = {}
    for key, value in run.items():
        if key == "hp" and isinstance(value, list):
            flat.update(p for p in value if isinstance(p, list | tuple) and len(p) == 2)
        elif key not in ("run_id", "seed"):
            flat[key] = value
    return flat


def _results_section(folder: Path, runs: pd.DataFrame) -> str:
    """Tables the folder holds (best.csv, rankings, …) first, then every run's summary: one
    table per problem family, in the columns that family's module picks."""
    parts = ["<section id='results'><h2>Results</h2>"]
    for path in _extra_tables(folder):
        try:
            frame = read_csv_or_error(path)
            if path.name == "best.csv":
                frame = _best_view(frame)
            table = _frame_table(frame, path.name)
        except OptbenchError as exc:
            table = f"<p class='note'>{esc(exc)}</p>"
        parts.append(f"<h3>{esc(path.name)}</h3>{table}")
    by_family = list(runs.groupby(family_names(runs), sort=False))
    for family, rows in by_family:
        table = _frame_table(get_family(str(family)).summary(rows), RUNS_CSV)
        which = "run" if len(by_family) == 1 else f"{family} run"
        parts.append(f"<h3>Every {esc(which)} ({RUNS_CSV})</h3>{table}")
    parts.append("</section>")
    return "".join(parts)


def _extra_tables(folder: Path) -> list[Path]:
    """Every CSV of the folder except runs.csv and the (long) history.csv, best.csv first."""
    tables = [
        p
        for p in folder.glob("*.csv")
        if p.name not in (RUNS_CSV, HISTORY_CSV) and not p.name.startswith(".")
    ]

    def rank(path: Path) -> tuple[int, str]:
        hits = [i for i, word in enumerate(TABLE_ORDER) if word in path.stem.lower()]
        return (hits[0] if hits else len(TABLE_ORDER), path.name)

    return sorted(tables, key=rank)


def _divergence_section(runs: pd.DataFrame) -> str:
    diverged = runs[runs["diverged"].astype(bool)]
    head = "<section id='divergences'><h2>Divergences</h2>"
    if diverged.empty:
        return head + f"<p class='ok'>No run diverged (of {len(runs)}).</p></section>"
    columns = ["problem", "optimizer", "lr", "seed", "run_id", "diverged_step"]
    table = diverged[columns].rename(
        columns={"run_id": "run id", "diverged_step": "diverged at step"}
    )
    return (
        head + f"<p>{len(diverged)} of {len(runs)} runs diverged: the loss became non-finite or a "
        "parameter passed the bound. A diverged run stops there; its final numbers are those "
        "of that step.</p>" + _frame_table(table, RUNS_CSV, highlight=False) + "</section>"
    )


def _figures_section(folder: Path) -> str:
    images = sorted(
        (p for p in folder.iterdir() if p.suffix in IMAGE_TYPES and not p.name.startswith(".")),
        key=_figure_order,
    )
    head = "<section id='figures'><h2>Figures</h2>"
    if not images:
        return head + "<p class='note'>This folder has no figures.</p></section>"
    figures = []
    for path in images:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        caption = caption_for(path)
        figures.append(
            f"<figure><img src='data:{IMAGE_TYPES[path.suffix]};base64,{data}' "
            f"alt='{esc(path.name)}: {esc(caption)}'>"
            f"<figcaption><b>{esc(path.name)}</b> — {esc(caption)}</figcaption></figure>"
        )
    return head + "<div class='figures'>" + "\n".join(figures) + "</div></section>"


def caption_for(path: Path) -> str:
    """What to look for in the figure at ``path`` (a generic line for an unknown name)."""
    if path.suffix == ".gif":
        return ANIMATION_CAPTION
    key = _caption_key(path.stem)
    return CAPTIONS[key] if key else GENERIC_CAPTION


def _caption_key(stem: str) -> str | None:
    for key in sorted(CAPTIONS, key=len, reverse=True):
        if stem == key or stem.startswith((f"{key}-", f"{key}_")):
            return key
    return None


def _figure_order(path: Path) -> tuple[int, int, str]:
    """Figures in the order of the caption table (unknown ones last), each PNG before its GIF."""
    key = _caption_key(path.stem)
    position = list(CAPTIONS).index(key) if key else len(CAPTIONS)
    return (position, path.suffix == ".gif", path.name)


# ── tables and values ───────────────────────────────────────────────────────────────────────


def _frame_table(frame: pd.DataFrame, source: str, highlight: bool = True) -> str:
    """A frame as an HTML table (at most MAX_TABLE_ROWS rows; diverged rows tinted)."""
    shown = frame.head(MAX_TABLE_ROWS)
    numeric = [frame[c].dtype.kind in "iuf" for c in frame.columns]
    flags = None
    if highlight and "diverged" in frame.columns:
        flags = shown["diverged"].astype(str).str.lower().isin(["true", "1", "yes"]).tolist()
    rows = [tuple(_text(v) for v in row) for row in shown.itertuples(index=False)]
    table = _table(list(frame.columns), rows, numeric, flags)
    if len(frame) > MAX_TABLE_ROWS:
        table += (
            f"<p class='note'>The first {MAX_TABLE_ROWS} of {len(frame)} rows; "
            f"{esc(source)} has them all.</p>"
        )
    return table


def _table(
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Sequence[bool] | None = None,
    flags: Sequence[bool] | None = None,
) -> str:
    """Rows of already formatted text as an HTML table: headers, right-aligned numbers."""
    numeric = numeric or [False] * len(columns)
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f"<td class='num'>{esc(v)}</td>" if num else f"<td>{esc(v)}</td>"
            for v, num in zip(row, numeric, strict=True)
        )
        tint = " class='diverged'" if flags and flags[i] else ""
        body.append(f"<tr{tint}>{cells}</tr>")
    return (
        f"<div class='scroll'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _facts_table(items: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(_text(v))}</td></tr>" for k, v in items)
    return f"<table class='facts'><tbody>{rows}</tbody></table>"


def _text(value: Any) -> str:
    """One value as short readable text: 4 significant digits, whole numbers whole, — for none."""
    import pandas as pd

    if isinstance(value, list | tuple):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    if isinstance(value, Mapping):
        return json.dumps(value, default=str, separators=(", ", ": "))
    if value is None or pd.isna(value):
        return "—"
    if type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)

"""The explorer page: ``template.html`` with the packed paths, the contour and the settings
filled in, written atomically as one self-contained file.

The contour is drawn once here by the figure code every other surface figure uses
(``plots.surfaces.draw_surface``) and embedded as a PNG, so the page draws no surface itself;
its script only decodes the paths and draws them with SVG.
"""

from __future__ import annotations

import base64
import io
import json
from importlib import resources
from pathlib import Path

import numpy as np

from optbench.errors import OptbenchError
from optbench.explorer.encode import (
    ACCURACY_QUANTUM,
    LOSS_OFFSET,
    LOSS_QUANTUM,
    encode_paths,
    pack,
    path_streams,
    quantise_loss,
    theta_quantum,
)
from optbench.explorer.grid import SurfacePaths
from optbench.explorer.networks import CERTAINTY_LEVELS, NO_MODEL, NetworkPaths
from optbench.problems import get_problem

PLOT_WIDTH, PLOT_HEIGHT = 572, 420
"""The contour's plot area in the page's SVG units; the PNG is drawn at this aspect."""
TEMPLATE = "template.html"
PAYLOAD_MARK = "/*PAYLOAD*/"
META_MARK = "/*META*/"


def window_of(paths: SurfacePaths) -> tuple[tuple[float, float], tuple[float, float]]:
    """The surface's plotting window, widened to hold every start point."""
    (x0, x1), (y0, y1) = get_problem(paths.problem).window
    xs, ys = paths.starts[:, 0], paths.starts[:, 1]
    return (
        (min(x0, float(xs.min())), max(x1, float(xs.max()))),
        (min(y0, float(ys.min())), max(y1, float(ys.max()))),
    )


def contour_png(problem: str, window) -> str:
    """The surface's filled contours over ``window``, axes-free, as a data: URL."""
    import matplotlib.pyplot as plt

    from optbench.plots.surfaces import draw_surface

    dpi = 150
    fig = plt.figure(figsize=(PLOT_WIDTH / 100, PLOT_HEIGHT / 100), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    try:
        draw_surface(ax, get_problem(problem), window, colorbar=False)
        ax.set_axis_off()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def meta_of(paths: SurfacePaths, window, quantum: float, lengths: list[list]) -> dict:
    """What the page's script needs beside the packed paths: the grid, the window, the
    precisions, each optimizer's colour (the one every figure gives it)."""
    spec = get_problem(paths.problem)
    return {
        "family": "surface",
        "problem": paths.problem,
        "formula": spec.formula,
        "window": window,
        "fstar": spec.fstar,
        "quantum": quantum,
        "steps": paths.steps,
        "starts": paths.starts.tolist(),
        "firstStart": paths.first_start,
        **grid_meta(paths, lengths),
        "plot": [PLOT_WIDTH, PLOT_HEIGHT],
    }


def grid_meta(paths: SurfacePaths | NetworkPaths, lengths: list[list]) -> dict:
    """The sliders' grid, each optimizer's colour (the one every figure gives it), the
    packed streams and the loss precision: what both families' pages share."""
    from optbench.plots.style import color_for

    return {
        "lossQuantum": LOSS_QUANTUM,
        "lossOffset": LOSS_OFFSET,
        "nLr": paths.n_lr,
        "nSecond": paths.n_second,
        "optimizers": [
            {
                "name": name,
                "color": color_for(name),
                "lr": paths.lr[name],
                "second": None
                if paths.second[name] is None
                else {"name": paths.second[name][0], "values": paths.second[name][1]},
            }
            for name in paths.optimizers
        ],
        "streams": lengths,
        "nPaths": int(paths.counts.size),
    }


def network_meta(paths: NetworkPaths, lengths: list[list]) -> dict:
    """A network page's settings: epochs, the epochs with decision regions, the data points
    and the class colours of ``boundaries.png``."""
    from optbench.plots.networks import CLASS_COLORS

    spec = get_problem(paths.problem)
    return {
        "family": "network",
        "problem": paths.problem,
        "formula": getattr(spec, "summary", paths.problem),
        "steps": paths.epochs,
        "checkpoints": paths.checkpoints,
        "extent": paths.extent,
        "points": paths.points,
        "classes": paths.classes,
        "classColors": CLASS_COLORS,
        "regionSize": int(paths.regions.shape[-1]) if paths.regions.size else 0,
        "certaintyLevels": CERTAINTY_LEVELS,
        "noModel": NO_MODEL,
        "accuracyQuantum": ACCURACY_QUANTUM,
        **grid_meta(paths, lengths),
        "plot": [PLOT_WIDTH, PLOT_HEIGHT],
    }


def render_page(paths: SurfacePaths | NetworkPaths) -> str:
    """The whole page as text."""
    if isinstance(paths, NetworkPaths):
        streams = path_streams(
            paths.counts,
            paths.diverged,
            train_loss=quantise_loss(paths.train_loss),
            test_loss=quantise_loss(paths.test_loss),
            accuracy=np.round(paths.test_accuracy / ACCURACY_QUANTUM).astype(np.int64),
        )
        streams["regions"] = paths.regions.tobytes()
        payload, lengths = pack(streams)
        meta = network_meta(paths, lengths)
    else:
        window = window_of(paths)
        quantum = theta_quantum(window)
        payload, lengths = encode_paths(
            paths.counts, paths.diverged, paths.x, paths.y, _stored_loss(paths), quantum
        )
        meta = meta_of(paths, window, quantum, lengths)
        meta["contour"] = contour_png(paths.problem, window)
    template = resources.files("optbench.explorer").joinpath(TEMPLATE).read_text("utf-8")
    text = json.dumps(meta, separators=(",", ":")).replace("</", "<\\/")
    return (
        template.replace(META_MARK, text, 1)
        .replace(PAYLOAD_MARK, json.dumps(payload), 1)
        .replace("{{TITLE}}", f"optbench explore: {paths.problem}")
    )


def _stored_loss(paths: SurfacePaths):
    """The gap f − f* where f* is known (so a path near the minimum keeps its digits), else f."""
    fstar = get_problem(paths.problem).fstar
    return paths.loss if fstar is None else paths.loss - fstar


def write_page(text: str, path: Path) -> Path:
    """Write the page atomically (temporary file, then rename)."""
    from optbench.results import atomic_write_text

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as exc:
        raise OptbenchError(f"cannot write '{path}': {exc.strerror or exc}") from None
    return path

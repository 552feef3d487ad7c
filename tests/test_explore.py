"""The explorer without a browser: the grid is run's engine, the packing keeps its stated
precision, the budget refuses before computing, and bad input is one line and exit 2.
(The page itself is driven in Chromium by test_explore_browser.py.)"""

from __future__ import annotations

import base64
import gzip
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

import optbench
from optbench.cli import cli
from optbench.errors import OptbenchError
from optbench.explorer import build, grid, networks
from optbench.explorer.encode import (
    LOSS_QUANTUM,
    dequantise_loss,
    quantise_loss,
    theta_quantum,
    varints,
)

SMALL = {"problem": "bowl", "optimizers": "sgd,momentum", "lr": "0.1,3", "steps": 12,
         "starts": "2x2", "hp": {"momentum.momentum": "0,0.9"}}  # fmt: skip


def unvarint(data: bytes) -> list[int]:
    """Python twin of the page's decoder: zigzag LEB128."""
    out, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 127) << shift
        shift += 7
        if byte < 128:
            out.append(value >> 1 if value % 2 == 0 else -((value + 1) >> 1))
            value, shift = 0, 0
    return out


def read_page(text: str) -> tuple[dict, dict[str, np.ndarray | bytes]]:
    """The page's settings and its packed streams (integers, or bytes for regions)."""
    meta = json.loads(re.search(r"const META = (.*?);\n", text).group(1))
    payload = json.loads(re.search(r"const PAYLOAD = (.*?);\n", text).group(1))
    raw = gzip.decompress(base64.b64decode(payload))
    streams, at = {}, 0
    for name, length in meta["streams"]:
        chunk = raw[at : at + length]
        streams[name] = chunk if name == "regions" else np.array(unvarint(chunk), dtype=np.int64)
        at += length
    assert at == len(raw)
    return meta, streams


def undelta(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    out = values.copy()
    for a, n in zip(np.cumsum(counts) - counts, counts, strict=True):
        out[a : a + n] = np.cumsum(values[a : a + n])
    return out


def decode_page(text: str) -> tuple[dict, dict[str, np.ndarray]]:
    """A surface page's paths as the page decodes them."""
    meta, streams = read_page(text)
    counts = streams["counts"]
    return meta, {
        "counts": counts,
        "diverged": streams["diverged"] - 1,
        "x": undelta(streams["x"], counts) * meta["quantum"],
        "y": undelta(streams["y"], counts) * meta["quantum"],
        "loss": dequantise_loss(undelta(streams["loss"], counts)),
    }


def test_varints_round_trip_small_huge_and_negative():
    values = np.array([0, 1, -1, 63, -64, 64, 2**40, -(2**40), 10**12, -(10**12), 127, 128])
    assert unvarint(varints(values)) == values.tolist()
    assert len(varints(np.array([0, 1, -1, 63]))) == 4  # small differences: one byte each


def test_loss_codes_keep_the_stated_relative_precision():
    values = np.array([1e-300, 3.7e-17, 0.5, 1.0, 2.5e12, 1e300, -4.2, -1e-5])
    back = dequantise_loss(quantise_loss(values))
    assert np.all(np.abs(back - values) <= (10 ** (LOSS_QUANTUM / 2) - 1) * np.abs(values))
    assert dequantise_loss(quantise_loss(np.array([0.0])))[0] == pytest.approx(1e-300)
    assert np.isfinite(dequantise_loss(quantise_loss(np.array([1e308])))).all()  # clipped


def test_theta_quantum_is_a_power_of_ten_far_below_a_pixel():
    assert theta_quantum(((-10, 10), (-5, 5))) == pytest.approx(1e-3)
    assert theta_quantum(((-2, 2), (-1, 3))) == pytest.approx(1e-4)


def test_paths_are_runs_of_the_engine_and_the_page_holds_them(tmp_path):
    """Each path equals ``optbench.run`` bit for bit, and the page's packed copy equals it to
    the stated precision (decoded by a Python twin of the page's decoder)."""
    plan = grid.plan_explore(**SMALL)
    paths = grid.compute(plan)
    assert plan.n_paths == (2 + 2 * 2) * 5 == paths.counts.size  # sgd 2 lr, momentum 2 × 2
    page = optbench.explore(out=tmp_path / "p.html", **SMALL)
    meta, decoded = decode_page(page.read_text())
    assert [o["name"] for o in meta["optimizers"]] == ["sgd", "momentum"]
    assert meta["optimizers"][1]["second"] == {"name": "momentum", "values": [0.0, 0.9]}
    offsets = np.concatenate([[0], np.cumsum(paths.counts)])
    checked = 0
    for p, (o, lr_i, k, s) in enumerate(
        (o, i, k, s)
        for o, K in ((0, 1), (1, 2))
        for i in range(2)
        for k in range(K)
        for s in range(5)
    ):
        name = ["sgd", "momentum"][o]
        hp = {"momentum": [0.0, 0.9][k]} if o == 1 else {}
        start = tuple(plan.starts[s])
        run = optbench.run(
            [name], "bowl", lr=[0.1, 3.0][lr_i], hp=hp, start=start, steps=12, record_every=1,
            save=False, plots=False,
        )  # fmt: skip
        history = run.history.sort_values("step")
        finite = np.isfinite(history[["x", "y", "loss"]].to_numpy()).all(axis=1)
        n = int(finite.sum())
        a, b = offsets[p], offsets[p + 1]
        assert b - a == n == decoded["counts"][p]
        np.testing.assert_array_equal(paths.x[a:b], history["x"].to_numpy()[:n])
        np.testing.assert_array_equal(paths.loss[a:b], history["loss"].to_numpy()[:n])
        assert np.abs(decoded["x"][a:b] - paths.x[a:b]).max() <= meta["quantum"] / 2 + 1e-12
        assert np.abs(decoded["y"][a:b] - paths.y[a:b]).max() <= meta["quantum"] / 2 + 1e-12
        gap = history["loss"].to_numpy()[:n]  # bowl: f* = 0
        assert np.all(np.abs(decoded["loss"][a:b] - gap) <= 1.2e-4 * np.abs(gap) + 1e-300)
        diverged = bool(run.runs["diverged"].iloc[0])
        assert (decoded["diverged"][p] >= 0) == diverged
        checked += diverged
    assert checked > 0  # lr 3 diverges on bowl: recorded, drawn, never a crash


def test_default_page_is_under_its_budget_and_self_contained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["explore"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "results" / "explore-bowl.html"
    assert f"wrote {page.relative_to(tmp_path)}" in result.output
    assert page.stat().st_size < 3e6
    text = page.read_text()
    assert "default-src 'none'" in text
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", text)
    assert "fetch(" not in text and "<link" not in text
    meta, decoded = decode_page(text)
    assert decoded["counts"].size == meta["nPaths"]
    assert [o["name"] for o in meta["optimizers"]] == list(grid.DEFAULT_OPTIMIZERS)
    assert len(meta["starts"]) == 50 and meta["steps"] == 60 and meta["nLr"] == 15


def test_budget_refuses_before_computing_and_names_what_fits(tmp_path, monkeypatch):
    def never(plan):
        raise AssertionError("computed a grid that was over budget")

    monkeypatch.setattr(grid, "compute", never)
    args = ["explore", "--problem", "rosenbrock", "-o", "sgd,momentum,adam", "--lr", "1e-4..1:25",
            "--hp", "momentum=0,0.5,0.9,0.99", "--starts", "9x9", "--steps", "300",
            "--out", str(tmp_path / "r.html")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "budget is 3 MB" in line
    fits = re.search(r"--steps (\d+)", line)
    assert fits and "--starts" in line and "--max-mb" in line
    assert not (tmp_path / "r.html").exists()
    # the suggested number of steps does fit
    plan = grid.plan_explore(
        problem="rosenbrock", optimizers="sgd,momentum,adam", lr="1e-4..1:25",
        hp={"momentum": "0,0.5,0.9,0.99"}, starts="9x9", steps=int(fits.group(1)),
    )  # fmt: skip
    build.check_budget(plan, 3.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "nan"], "finite"),
        (["--lr", "-1"], "lr"),
        (["--steps", "0"], "steps"),
        (["--steps", "-3"], "steps"),
        (["--steps", "many"], "steps"),
        (["--starts", "0x3"], "1 to 40"),
        (["--starts", "abc"], "7x7"),
        (["--starts", "100x100"], "1 to 40"),
        (["-o", "adamm"], "did you mean 'adam'"),
        (["--problem", "bowll"], "did you mean 'bowl'"),
        (["-o", "adam", "--hp", "beta1=0.5,0.9", "--hp", "beta2=0.9,0.99"], "one slider"),
        (["-o", "momentum,adam", "--hp", "momentum=0,0.9", "--hp", "beta1=0,0.5,0.9"], "as many"),
        (["--max-mb", "0"], "max_mb"),
        (["--max-mb", "nan"], "max_mb"),
        (["--max-mb", "0.1"], "budget"),
        (["--out", "page.txt"], ".html"),
        (["--hp", "momentum"], "name=value"),
        (["-o", ""], "empty name"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["explore", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.strip().count("\n") == 0
    assert "Traceback" not in result.output
    assert not (tmp_path / "results").exists()


def test_a_run_folder_with_every_step_makes_a_page(tmp_path):
    folder = tmp_path / "run"
    optbench.run(["sgd", "adam"], "bowl", steps=15, record_every=1, out=folder)
    page = optbench.explore(folder)
    assert page == folder / "explore.html"
    meta, decoded = decode_page(page.read_text())
    history = optbench.load(folder).history
    first = history[history["run_id"] == optbench.load(folder).runs["run_id"].iloc[0]]
    assert decoded["counts"][0] == 16
    assert np.abs(decoded["x"][:16] - first["x"].to_numpy()).max() <= meta["quantum"] / 2 + 1e-12


def test_folders_that_cannot_make_a_page_are_one_line_errors(tmp_path):
    sparse = tmp_path / "sparse"
    optbench.run(["sgd"], "bowl", steps=20, record_every=5, out=sparse)
    with pytest.raises(OptbenchError, match="every step"):
        optbench.explore(sparse)
    runner = CliRunner()
    for args, message in [
        ([str(sparse), "--steps", "5"], "not both"),
        ([str(tmp_path / "nowhere")], "not a folder"),
        ([str(tmp_path)], "not an optbench run folder"),
    ]:
        result = runner.invoke(cli, ["explore", *args])
        assert result.exit_code == 2 and message in result.output, result.output
    seeds = tmp_path / "seeds"
    optbench.run(["sgd"], "bowl", steps=5, record_every=1, seed=[0, 1], noise=0.1, out=seeds)
    with pytest.raises(OptbenchError, match="differ in seed"):
        optbench.explore(seeds)


# --- networks ------------------------------------------------------------------------------

NET = {"problem": "spirals:n=200", "optimizers": "sgd,adam", "lr": "0.01,30", "epochs": 6,
       "bound": 20}  # fmt: skip


def test_network_curves_are_runs_of_the_engine_and_regions_mark_divergence(tmp_path):
    from optbench.explorer.encode import ACCURACY_QUANTUM
    from optbench.explorer.networks import NO_MODEL, checkpoints

    page = optbench.explore(out=tmp_path / "net.html", **NET)
    meta, streams = read_page(page.read_text())
    assert meta["family"] == "network" and meta["checkpoints"] == checkpoints(6) == [0, 1, 2, 3, 6]
    counts = streams["counts"]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    G = meta["regionSize"]
    regions = np.frombuffer(streams["regions"], dtype=np.uint8).reshape(4, 5, G, G)
    for p, (name, lr) in enumerate((n, lr) for n in ("sgd", "adam") for lr in (0.01, 30.0)):
        run = optbench.run(
            [name], "spirals:n=200", lr=lr, epochs=6, bound=20, save=False, plots=False
        )
        history = run.history.sort_values("epoch")
        loss = history["train_loss"].to_numpy()
        finite = np.isfinite(loss) & np.isfinite(history["test_accuracy"].to_numpy())
        n = int(finite.sum()) if finite.all() else int(np.argmin(finite))
        assert counts[p] == n
        a, b = offsets[p], offsets[p + 1]
        decoded = dequantise_loss(np.cumsum(streams["train_loss"][a:b]))
        assert np.all(np.abs(decoded - loss[:n]) <= 1.2e-4 * np.abs(loss[:n]))
        accuracy = np.cumsum(streams["accuracy"][a:b]) * ACCURACY_QUANTUM
        assert np.abs(accuracy - history["test_accuracy"].to_numpy()[:n]).max() <= 5.1e-5
        diverged = bool(run.runs["diverged"].iloc[0])
        assert (streams["diverged"][p] > 0) == diverged
        assert (regions[p, -1] == NO_MODEL).all() == diverged  # no model to draw after it
        assert (regions[p, 0] != NO_MODEL).all()  # epoch 0: the initial network
    assert (streams["diverged"] > 0).any()  # lr 30 passes |θ| = 20: shown, never a crash


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--problem", "spirals", "--starts", "3x3"], "networks train for --epochs"),
        (["--problem", "spirals", "--steps", "10"], "networks train for --epochs"),
        (["--epochs", "10"], "--epochs is for network problems"),
        (["--problem", "spirals", "--epochs", "0"], "epochs"),
        (
            ["--problem", "digits", "-o", "sgd,adam", "--lr", "1e-3..1:40", "--epochs", "20000"],
            "would fit: --epochs",
        ),
    ],
)
def test_network_bad_input_is_one_line_and_exit_2(args, message, tmp_path, monkeypatch):
    def never(plan):
        raise AssertionError("computed a grid it should have refused")

    monkeypatch.setattr(networks, "compute_network", never)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["explore", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and result.output.strip().count("\n") == 0


def test_grids_given_in_any_order_slide_in_ascending_order(tmp_path):
    """A slider runs from small to large whatever order the values were given in, and each
    position holds the paths of its own value."""
    page = optbench.explore(
        out=tmp_path / "d.html", optimizers="momentum", lr="0.3,0.01", hp={"momentum": "0.9,0"},
        steps=5, starts="1x1",
    )  # fmt: skip
    meta, decoded = decode_page(page.read_text())
    spec = meta["optimizers"][0]
    assert spec["lr"] == [0.01, 0.3] and spec["second"]["values"] == [0.0, 0.9]
    counts = decoded["counts"]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    for p, (lr, momentum) in enumerate([(0.01, 0.0), (0.01, 0.9), (0.3, 0.0), (0.3, 0.9)]):
        for s, start in enumerate(meta["starts"]):
            path = p * len(meta["starts"]) + s
            run = optbench.run(["momentum"], "bowl", lr=lr, hp={"momentum": momentum},
                               start=tuple(start), steps=5, save=False, plots=False)  # fmt: skip
            x = run.history.sort_values("step")["x"].to_numpy()
            a, b = offsets[path], offsets[path + 1]
            assert np.abs(decoded["x"][a:b] - x).max() <= meta["quantum"] / 2 + 1e-12

"""Hostile data, sizes and names (issue 11): memory counted before anything is allocated, data
sets and IDX files checked where they are read, optimizer names and imported modules checked
where they are registered; each refusal one line, never a traceback."""

from __future__ import annotations

import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
import optbench.chunks as chunks
from optbench.cli import cli
from optbench.config import SweepConfig

COMMITTED_BASELINE = Path(__file__).parents[1] / "benchmarks" / "baselines" / "smoke.csv"


def one_line_error(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


# ---------------------------------------------------------------- item 5: memory, from counts


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "-p", "spirals", "--epochs", "100000000"], "the histories take"),
        (["run", "-p", "spirals:n=1000000000000"], "the data sets take"),
        (["sweep", "-p", "spirals:n=1000000000000", "-o", "sgd"], "the data sets take"),
        (["run", "-p", "xor", "--hidden", "100000,100000"], "--hidden"),
    ],
)
def test_memory_is_counted_before_anything_is_made(args, fragment, tmp_path, monkeypatch):
    monkeypatch.setattr(chunks, "available_memory", lambda: 8 * 2**30)  # any machine's answer
    out = tmp_path / "out"
    line = one_line_error(*args, "--out", str(out))
    assert fragment in line and "~4.0 GiB is free" in line
    assert not out.exists()  # refused before the folder was made


@pytest.mark.parametrize(
    ("flag", "value"), [("--epochs", "1000000000000"), ("--batch-size", "1e30")]
)
def test_network_counts_past_their_bound_are_refused_as_typed(flag, value):
    assert f"={value} must be <= 1,000,000,000" in one_line_error("run", "-p", "xor", flag, value)


def test_tuned_reruns_count_in_the_memory_check(tmp_path, monkeypatch):
    settings = dict(
        optimizers=["sgd"], problems=["bowl"], lr=[0.1, 0.2], seeds=1, steps=1000,
        record_every=1, tune="lr",
    )  # fmt: skip
    # the grid (2 runs of 1,002 rows) fits in 1 MB; 1,000 reruns of the pick do not
    monkeypatch.setattr(chunks, "available_memory", lambda: 2 * 2**20)
    with pytest.raises(optbench.OptbenchError, match="--record-every"):
        optbench.sweep(out=tmp_path / "a", plots=False, final_seeds=1000, **settings)
    assert not (tmp_path / "a").exists()
    result = optbench.sweep(out=tmp_path / "b", plots=False, final_seeds=2, **settings)
    assert (result.runs["phase"] == "final").sum() == 2


# ---------------------------------------------------------------- items 7 and 11: data sets

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(">f4"): 0x0D}


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim])
    path.write_bytes(header + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())


def idx_folder(folder: Path, train_labels=None, train_images=None) -> Path:
    """Four small MNIST-like IDX files; ``train_labels`` / ``train_images`` replace the
    training ones."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = np.arange(40, dtype=np.uint8) % 4
    images = np.arange(40 * 784, dtype=np.uint8).reshape(40, 28, 28)
    parts = {
        "train-images-idx3-ubyte": images if train_images is None else train_images,
        "train-labels-idx1-ubyte": labels if train_labels is None else train_labels,
        "t10k-images-idx3-ubyte": images[:10],
        "t10k-labels-idx1-ubyte": labels[:10],
    }
    for name, array in parts.items():
        write_idx(folder / name, array)
    return folder


@pytest.mark.parametrize(
    ("labels", "images", "fragment"),
    [
        (np.full(40, np.nan, dtype=">f4"), None, "label nan is not a class"),
        (np.where(np.arange(40) == 7, 200, np.arange(40) % 4).astype(np.uint8), None,
         "label 200 is not a class"),
        (np.zeros(0, dtype=np.uint8), np.zeros((0, 28, 28), dtype=np.uint8), "hold no images"),
        (None, np.zeros((40, 20, 20), dtype=np.uint8), "are 20×20; mnist images are 28×28"),
        (np.zeros(30, dtype=np.uint8), None, "do not match"),
        (np.zeros(40, dtype=np.uint8), None, "holds one class (0)"),
    ],
)  # fmt: skip
def test_hostile_idx_files_are_one_line_errors(tmp_path, labels, images, fragment):
    folder = idx_folder(tmp_path / "idx", labels, images)
    line = one_line_error("run", "-p", "mnist", "-o", "sgd", "--epochs", "1",
                          "--data-dir", str(folder), "--out", str(tmp_path / "out"))  # fmt: skip
    assert fragment in line


def test_a_training_set_of_one_class_is_refused():
    with pytest.raises(optbench.OptbenchError, match="one class"):
        optbench.run("sgd", "spirals:n=10:test_fraction=0.9", epochs=2, save=False)


@pytest.fixture
def garbage_server():
    """A server on 127.0.0.1 that answers every request with a line that is not HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(4096)
                connection.sendall(b"SPAM SPAM SPAM\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    listener.close()


def test_a_server_sending_a_garbage_status_line_is_one_line(garbage_server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    line = one_line_error("data", "fetch", "mnist", "--url", garbage_server)
    assert "could not download" in line and "BadStatusLine" in line
    assert not list((tmp_path / "cache").rglob("*.gz"))  # nothing kept


def test_a_scheduler_that_is_not_an_address_is_one_line(tmp_path):
    pytest.importorskip("distributed")
    args = ["--steps", "5", "--executor", "dask", "--scheduler", "notaurl"]
    line = one_line_error("sweep", "-p", "bowl", "-o", "sgd", *args,
                          "--out", str(tmp_path / "out"))  # fmt: skip
    assert "--scheduler 'notaurl' is not a Dask scheduler address" in line
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- item 7: baselines


@pytest.mark.parametrize(
    ("column", "text", "fragment"),
    [
        ("final_gap", "tiny", "row 2: final_gap = 'tiny' is not a number"),
        ("lr", "fast", "row 2: lr = 'fast' is not a number"),
        ("diverged", "maybe", "row 2: diverged = 'maybe' is not true or false"),
    ],
)
def test_a_baseline_with_text_in_a_metric_is_one_line(tmp_path, column, text, fragment):
    frame = pd.read_csv(COMMITTED_BASELINE)
    frame[column] = frame[column].astype(object)
    frame.loc[0, column] = text
    frame.to_csv(tmp_path / "smoke.csv", index=False)
    scope = ["-o", "sgd", "--preset", "torch", "--out", str(tmp_path / "out")]
    line = one_line_error("bench", "--suite", "smoke", "--baseline", str(tmp_path / "smoke.csv"),
                          *scope)  # fmt: skip
    assert fragment in line


# ---------------------------------------------------------------- item 11: names and imports


@pytest.fixture
def clean_registry():
    from optbench.optimizers import registry

    before = dict(registry.all_optimizers())
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)


@pytest.mark.parametrize("name", ["a,b", "", "adam.v2", "-x", "two words", 3])
def test_optimizer_names_that_cannot_be_typed_are_refused(clean_registry, name):
    with pytest.raises(optbench.OptbenchError, match="letters, digits, _ and -"):

        @optbench.register_optimizer(name, {"lr": 0.1})
        def update(theta, grad, state, hp, t):
            theta -= hp[0] * grad

    assert name not in optbench.optimizers.all_optimizers()


def test_a_good_name_with_a_dash_is_registered(clean_registry):
    @optbench.register_optimizer("my-sgd_2", {"lr": 0.1})
    def update(theta, grad, state, hp, t):
        theta -= hp[0] * grad

    assert "my-sgd_2" in optbench.optimizers.all_optimizers()


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("import sys\nsys.exit(3)\n", "called sys.exit(3)"),
        ("import optbench\n@optbench.register_optimizer('a,b', {'lr': 0.1})\n"
         "def f(theta, grad, state, hp, t):\n    pass\n", "optimizer name 'a,b'"),
    ],
)  # fmt: skip
def test_an_imported_module_that_exits_or_misnames_is_one_line(
    clean_registry, tmp_path, source, fragment
):
    module = tmp_path / "user_module.py"
    module.write_text(source)
    line = one_line_error("bench", "--suite", "smoke", "--import", str(module), "-o", "sgd",
                          "--out", str(tmp_path / "out"))  # fmt: skip
    assert f"--import {module}" in line and fragment in line


# ---------------------------------------------------------------- item 11: seeds near 2^63

TOP = 2**63 - 1  # the largest seed: an int64 in the engine


def test_seeds_up_to_the_bound_are_taken_and_past_it_refused_naming_it():
    result = optbench.run("sgd", "bowl", seed=[TOP - 1, TOP], steps=3, save=False)
    assert list(result.runs["seed"]) == [TOP - 1, TOP]
    plan = SweepConfig.from_raw({"problems": "xor", "optimizers": "sgd", "seeds": [TOP - 1, TOP]})
    assert plan.seeds == (TOP - 1, TOP)
    line = one_line_error("run", "-p", "bowl", "--seed", str(TOP + 1))
    assert f"seeds={TOP + 1} must be <= {TOP:,}" in line


def test_fresh_seeds_counted_past_the_bound_name_it():
    line = one_line_error("sweep", "-p", "bowl", "-o", "sgd", "--lr", "0.1,0.2", "--tune", "lr",
                          "--seeds", f"{TOP - 1},{TOP}", "--dry-run")  # fmt: skip
    assert "final_seeds" in line and f"past the largest seed {TOP:,}" in line


@pytest.mark.parametrize(
    ("given", "label"),
    [
        ("spirals:data_seed=1234567:n=20", "spirals:n=20:data_seed=1234567"),
        ("rosenbrock:b=100.123456789", "rosenbrock:b=100.123456789"),
        ("spirals:noise=0.3:n=1000000", "spirals:n=1e+06:noise=0.3"),  # exact: as before
    ],
)
def test_a_problem_label_reads_back_as_the_very_parameters(given, label):
    from optbench.problems import get_problem

    spec = get_problem(given)
    assert spec.label == label and get_problem(spec.label).params == spec.params


def test_a_data_seed_past_exact_floats_is_refused_naming_the_bound():
    line = one_line_error("run", "-p", "spirals:data_seed=9007199254740993", "--epochs", "1")
    assert "data_seed" in line and "2^53 - 1" in line

"""Data sets and the download path: generators, the shipped digits, IDX files, fetch."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from optbench.datasets import DATA_FOLDER, generate, load_dataset, load_digits, read_idx, uniforms
from optbench.errors import OptbenchError
from optbench.fetch import IDX_FILES, fetch
from optbench.problems import get_problem
from optbench.rng import seed_state, uniform


def test_numpy_generator_twin_matches_the_jitted_one():
    from optbench._jit import jit

    @jit(cache=False)
    def draws(seed, stream, n):
        state = np.empty(1, dtype=np.uint64)
        state[0] = seed_state(seed, stream)
        out = np.empty(n)
        for i in range(n):
            out[i] = uniform(state)
        return out

    for seed in (0, 7, 2**40 + 3):
        assert np.array_equal(uniforms(seed, 10, 50), draws(seed, 10, 50))


@pytest.mark.parametrize("name", ["spirals", "moons", "circles", "blobs"])
def test_generated_sets_are_seeded_and_balanced(name):
    x, y = generate(name, 301, 0.1, 4)
    again, _ = generate(name, 301, 0.1, 4)
    other, _ = generate(name, 301, 0.1, 5)
    assert x.shape == (301, 2) and np.array_equal(x, again) and not np.array_equal(x, other)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1


def test_split_and_standardisation():
    data = load_dataset(get_problem("moons:n=500:test_fraction=0.3"))
    assert len(data.labels_test) == 150 and len(data.labels_train) == 350
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1, atol=1e-12)
    xor = load_dataset(get_problem("xor"))
    assert np.array_equal(xor.x_train, xor.x_test) and list(xor.labels_train) == [0, 1, 1, 0]


def test_shipped_digits():
    images, labels = load_digits()
    assert images.shape == (1797, 64) and images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert (DATA_FOLDER / "digits.npz").stat().st_size < 100_000
    assert "CC BY 4.0" in (DATA_FOLDER / "README.md").read_text()


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)


def fake_mnist(folder: Path, train: int = 300, test: int = 100) -> dict[str, str]:
    """Four IDX files of a learnable toy problem (the class is which quarter is bright)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part, n in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 4, size=n)
        images = rng.integers(0, 60, size=(n, 28, 28))
        for i, k in enumerate(labels):
            r, c = divmod(int(k), 2)
            images[i, 14 * r : 14 * r + 14, 14 * c : 14 * c + 14] += 180
        arrays[f"{part}-images-idx3-ubyte.gz"] = images
        arrays[f"{part}-labels-idx1-ubyte.gz"] = labels
    sums = {}
    for name, array in arrays.items():
        write_idx(folder / name, array)
        sums[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    return sums


def test_read_idx_round_trip_and_bad_files(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b", array)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)
    assert np.array_equal(read_idx(tmp_path / "b"), array)
    (tmp_path / "short").write_bytes((tmp_path / "b").read_bytes()[:-3])
    with pytest.raises(OptbenchError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "junk").write_bytes(b"hello world")
    with pytest.raises(OptbenchError, match="not an IDX file"):
        read_idx(tmp_path / "junk")


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving generated IDX files (no internet)."""
    served = tmp_path / "served"
    sums = fake_mnist(served)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", sums, served
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_downloads_verifies_and_caches(server, tmp_path, monkeypatch):
    url, sums, _ = server
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    got = []
    folder = fetch("mnist", url, checksums=sums, progress=got.append)
    assert sorted(got) == sorted(IDX_FILES)
    assert folder == tmp_path / "cache" / "datasets" / "mnist"
    again = []
    fetch("mnist", url, checksums=sums, progress=again.append)
    assert again == []  # verified files are kept, nothing downloaded twice
    data = load_dataset(get_problem("mnist"))
    assert data.x_train.shape == (300, 784) and data.classes == 4


def test_fetch_checksum_mismatch_keeps_nothing(server, tmp_path, monkeypatch):
    url, sums, _ = server
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    wrong = dict(sums, **{"t10k-images-idx3-ubyte.gz": "0" * 64})
    with pytest.raises(OptbenchError, match="checksum mismatch"):
        fetch("fashion-mnist", url, checksums=wrong)
    folder = tmp_path / "cache" / "datasets" / "fashion-mnist"
    assert not (folder / "t10k-images-idx3-ubyte.gz").exists()
    assert not list(folder.glob("*.part"))


def test_fetch_with_published_checksums_rejects_other_files(server, tmp_path, monkeypatch):
    url, _, _ = server
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPTBENCH_DATA_URL", url)
    with pytest.raises(OptbenchError, match="checksum mismatch"):
        fetch("mnist")


def test_unreachable_mirror_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(OptbenchError, match="could not download"):
        fetch("mnist", "http://127.0.0.1:9/", timeout=2)


def test_missing_idx_files_say_how_to_get_them(tmp_path):
    with pytest.raises(OptbenchError, match="optbench data fetch fashion-mnist"):
        load_dataset(get_problem("fashion-mnist"), tmp_path)

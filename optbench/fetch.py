"""Download MNIST and Fashion-MNIST once, verify every file's SHA-256, keep them in a cache.

``optbench data fetch NAME`` stores the four IDX archives of NAME in
``<cache>/datasets/NAME/``, where ``<cache>`` is ``$OPTBENCH_CACHE_DIR``, else
``$XDG_CACHE_HOME/optbench``, else ``~/.cache/optbench``. A file is written under a temporary
name and renamed only after its checksum matched, so the cache never holds a corrupt or partial
file. The download location can be overridden (``--url`` or ``$OPTBENCH_DATA_URL``) for a
mirror — or, in the tests, a local HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from optbench.errors import OptbenchError, unknown_name

URL_ENV = "OPTBENCH_DATA_URL"
CACHE_ENV = "OPTBENCH_CACHE_DIR"

IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@dataclass(frozen=True)
class Source:
    """Where a data set is published and the SHA-256 of each of its files."""

    url: str
    sha256: dict[str, str]
    citation: str


SOURCES = {
    "mnist": Source(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        {
            "train-images-idx3-ubyte.gz": (
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
            ),
            "train-labels-idx1-ubyte.gz": (
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
            ),
        },
        "Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits.",
    ),
    "fashion-mnist": Source(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        {
            "train-images-idx3-ubyte.gz": (
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
            ),
            "train-labels-idx1-ubyte.gz": (
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
            ),
        },
        "H. Xiao, K. Rasul, R. Vollgraf (2017), Fashion-MNIST, arXiv:1708.07747 (MIT licence).",
    ),
}


def cache_root() -> Path:
    """The per-user cache folder (not created here)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "optbench"


def dataset_cache(name: str) -> Path:
    return cache_root() / "datasets" / name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    name: str,
    url: str | None = None,
    *,
    checksums: dict[str, str] | None = None,
    timeout: float = 60.0,
    progress=None,
) -> Path:
    """Download the IDX files of ``name`` into the cache, verify them, return the folder.

    Files already present with the right checksum are kept, so a second fetch downloads nothing.
    ``url`` (else ``$OPTBENCH_DATA_URL``, else the publisher's) is the folder the four files are
    read from. ``checksums`` replaces the published SHA-256 values (for tests serving their own
    files). A mismatch is an error naming the file, and nothing is kept.
    """
    if name not in SOURCES:
        raise unknown_name("data set to fetch", name, SOURCES)
    source = SOURCES[name]
    base = url or os.environ.get(URL_ENV) or source.url
    if not base.endswith("/"):
        base += "/"
    expected = checksums or source.sha256
    folder = dataset_cache(name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptbenchError(f"cannot create cache folder '{folder}': {exc.strerror}") from None
    for filename in IDX_FILES:
        target = folder / filename
        if target.is_file() and sha256_of(target) == expected[filename]:
            continue
        _download(base + filename, target, expected[filename], timeout)
        if progress is not None:
            progress(filename)
    return folder


def _download(url: str, target: Path, sha256: str, timeout: float) -> None:
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                # HTTPException: a server that does not speak HTTP (e.g. a garbage status line)
                reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
                raise OptbenchError(f"could not download {url}: {reason}") from None
        if digest.hexdigest() != sha256:
            raise OptbenchError(
                f"checksum mismatch for {url}: got sha256 {digest.hexdigest()}, "
                f"expected {sha256}; nothing was kept"
            )
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)

"""First contact: a cold cache says it is compiling, a warm one says nothing; warmup compiles."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from optbench.cli import cli

ROOT = Path(__file__).resolve().parent.parent
NOTICE = "compiling the surface engine for this version of optbench — once, about"


def through_a_terminal(args: list[str], cache: Path) -> str:
    """Run ``optbench ARGS`` with its stdout and stderr on a pseudo-terminal; what it showed."""
    leader, follower = pty.openpty()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "optbench", *args], stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=300) == 0, shown.decode(errors="replace")
    os.close(leader)
    return shown.decode(errors="replace")


def test_a_cold_cache_says_it_compiles_and_a_warm_one_is_quiet(tmp_path):
    args = ["run", "-o", "sgd", "-p", "bowl", "--steps", "3", "--no-plots"]
    cold = through_a_terminal([*args, "--out", str(tmp_path / "a")], tmp_path / "cache")
    assert cold.count(NOTICE) == 1, cold
    warm = through_a_terminal([*args, "--out", str(tmp_path / "b")], tmp_path / "cache")
    assert "compiling" not in warm and "final gap" in warm, warm


def test_warmup_reports_each_engine_and_refuses_an_unknown_family():
    result = CliRunner().invoke(cli, ["warmup", "--family", "surface"])
    assert result.exit_code == 0, result.output
    assert "surface engine" in result.output and "optimizer kernels" in result.output
    assert "network engine" not in result.output
    result = CliRunner().invoke(cli, ["warmup", "--family", "surfac"])
    assert result.exit_code == 2 and "'surface'" in result.stderr

"""The whole-process references do the arithmetic of the commands they stand beside."""

import numpy as np
import pandas as pd

import optbench
from optbench.suites import least, perf


def test_least_run_ends_where_optbench_run_ends(tmp_path):
    least.least_run(tmp_path)
    path = pd.read_csv(tmp_path / "path.csv")
    assert len(path) == 10_001 and (tmp_path / "path.png").stat().st_size > 10_000
    result = optbench.run(optimizers=["adam"], out=tmp_path / "ours", plots=False)
    ours = result.runs.iloc[0]
    assert path["loss"].iloc[-1] == ours["final_loss"]
    assert (path["x"].iloc[-1], path["y"].iloc[-1]) == (ours["final_x"], ours["final_y"])


def test_least_sweep_ends_where_optbench_sweep_ends(tmp_path):
    least.least_sweep(tmp_path)
    finals = pd.read_csv(tmp_path / "finals.csv")
    assert len(finals) == 10_000
    picks = finals.iloc[[0, 4321, 9999]]
    assert picks["lr"].tolist() == [1e-4, 0.00197892640313, 0.1]
    result = optbench.sweep(
        optimizers=["adam"], problems=["rosenbrock"], start="-1.5,2",
        lr=[float(v) for v in picks["lr"]], steps=1000, out=tmp_path / "ours", plots=False,
    )  # fmt: skip
    ours = result.runs.sort_values("lr")["final_loss"].to_numpy()
    np.testing.assert_array_equal(ours, picks["final_loss"].to_numpy())


def test_process_suite_is_registered_and_quick_shrinks_the_sweep():
    assert "process" in perf.check_selection(2, None)
    assert "1e-4..1e-1:10000" in least.SWEEP_COMMAND

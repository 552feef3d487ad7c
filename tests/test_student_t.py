"""The t quantile best.csv's intervals use, against scipy.stats (imported here only)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from optbench.student_t import incomplete_beta, t_cdf, t_quantile


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 9, 19, 29, 99, 999])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.95, 0.975, 0.99, 0.999, 0.9999])
def test_quantile_matches_scipy(df, p):
    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-12)
    assert t_quantile(1 - p, df) == pytest.approx(stats.t.ppf(1 - p, df), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.51, 0.99999), st.floats(0.5, 500))
def test_quantile_inverts_the_cdf(p, df):
    t = t_quantile(p, df)
    assert t_cdf(t, df) == pytest.approx(p, rel=1e-13)
    assert t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), rel=1e-13)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.1, 50), st.floats(0.1, 50), st.one_of(st.just(0.0), st.floats(1e-300, 1)))
def test_incomplete_beta_matches_scipy(a, b, x):
    """Normal floats only: at a subnormal x (one significant bit) scipy's betainc is off by
    0.2 % where the series x^a / (a·B(a, b)) agrees with this one."""
    from scipy.special import betainc

    assert incomplete_beta(a, b, x) == pytest.approx(betainc(a, b, x), rel=1e-12, abs=1e-300)


def test_centre_and_bad_arguments():
    assert t_quantile(0.5, 3) == 0.0
    assert t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-13)
    for p, df in [(0, 3), (1, 3), (math.nan, 3), (0.9, 0), (0.9, -1), (0.9, math.nan)]:
        with pytest.raises(ValueError):
            t_quantile(p, df)

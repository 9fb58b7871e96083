"""Sampling of uncertain inputs: Latin hypercube strata, inverse CDFs by hand, repeatability."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing._workloads.distributions import (
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    central,
    latin_hypercube,
    p10_p90,
    quantile,
)
from pricing.errors import PricingError


@given(samples=st.integers(1, 300), dims=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_each_column_hits_every_stratum_once(samples: int, dims: int, seed: int) -> None:
    u = latin_hypercube(samples, dims, seed)
    assert u.shape == (samples, dims)
    assert ((u > 0) & (u < 1)).all()
    for j in range(dims):
        strata = np.sort(np.floor(u[:, j] * samples).astype(int))
        assert (strata == np.arange(samples)).all()


def test_same_seed_same_matrix_other_seed_other_matrix() -> None:
    assert (latin_hypercube(100, 3, 7) == latin_hypercube(100, 3, 7)).all()
    assert not (latin_hypercube(100, 3, 7) == latin_hypercube(100, 3, 8)).all()


def test_bad_sample_count() -> None:
    with pytest.raises(PricingError, match="at least 1"):
        latin_hypercube(0, 2, 1)


def test_uniform_and_triangular_quantiles_by_hand() -> None:
    u = Uniform(dist="uniform", low=10, high=30)
    assert quantile(u, np.array([0.0, 0.25, 1.0])).tolist() == [10, 15, 30]
    t = Triangular(dist="triangular", low=0, mode=2, high=4)  # symmetric: median 2
    # F(x) = x^2 / 8 on [0, 2]: F(1) = 1/8; on [2, 4]: 1 - (4 - x)^2 / 8: F(3) = 7/8
    got = quantile(t, np.array([1 / 8, 0.5, 7 / 8]))
    assert got == pytest.approx([1.0, 2.0, 3.0])
    assert central(t) == 2
    assert central(u) == 20


def test_normal_and_lognormal_quantiles() -> None:
    n = Normal(dist="normal", mean=100, sd=10)
    # z(0.975) = 1.959964 (standard normal table)
    assert quantile(n, np.array([0.5, 0.975])) == pytest.approx([100, 119.59964], abs=1e-4)
    clipped = Normal(dist="normal", mean=0, sd=1, low=0)
    assert quantile(clipped, np.array([0.1]))[0] == 0
    ln = LogNormal(dist="lognormal", median=50, sigma=0.5)
    assert quantile(ln, np.array([0.5]))[0] == pytest.approx(50)
    assert quantile(ln, np.array([0.975]))[0] == pytest.approx(50 * math.exp(0.5 * 1.959964))
    lo, hi = p10_p90(n)
    assert (lo, hi) == pytest.approx((100 - 12.815516, 100 + 12.815516), abs=1e-4)


def test_distribution_validation() -> None:
    with pytest.raises(ValueError, match="low <= mode <= high"):
        Triangular(dist="triangular", low=3, mode=1, high=4)
    with pytest.raises(ValueError, match="must not exceed"):
        Uniform(dist="uniform", low=3, high=1)

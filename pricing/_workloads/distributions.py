"""Uncertain inputs: distributions, seeded Latin hypercube sampling and sensitivity ranges.

Any numeric input of a workload may be a plain number or one of the distributions below,
written inline in TOML, e.g. ``base = { dist = "triangular", low = 8e4, mode = 1e5, high = 2e5 }``.
``{ dist = "sources" }`` stands for the range spanned by disagreeing sources of a price in
``data/``: a workload's ``prices = { dist = "sources" }`` asks the simulation to sample every
hosted and GPU price uniformly over that range (see :func:`pricing.simulate`).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from pricing._cards.fields import Strict
from pricing.errors import PricingError


class Uniform(Strict):
    """Every value in [low, high] equally likely."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low <= self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class Triangular(Strict):
    """Most likely ``mode``, never below ``low`` or above ``high``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self


class Normal(Strict):
    """Normal with ``mean`` and standard deviation ``sd``; optionally clipped to [low, high]."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)
    low: float | None = None
    high: float | None = None


class LogNormal(Strict):
    """Log-normal with ``median`` and log-space standard deviation ``sigma`` (always > 0)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)


class SourcesRange(Strict):
    """Uniform over the range spanned by the disagreeing sources of the catalog's prices.

    A workload takes it only as ``prices = { dist = "sources" }`` (every hosted price and GPU
    hourly price sampled between its cheapest and dearest source); its numbers are the
    team's own assumptions, which no source gives, so they have no such range.
    """

    dist: Literal["sources"]


Distribution = Annotated[
    Uniform | Triangular | Normal | LogNormal | SourcesRange, Field(discriminator="dist")
]
#: A numeric input: a plain number or a distribution.
Number = float | Distribution


# --------------------------------------------------------------------------- sampling


def latin_hypercube(samples: int, dims: int, seed: int | None) -> np.ndarray:
    """A seeded Latin hypercube in (0, 1)^dims: each column hits each of ``samples`` strata once.

    Returns an array of shape (samples, dims). The same seed gives the same matrix.
    """
    if samples < 1:
        raise PricingError(f"samples must be at least 1, got {samples}")
    rng = np.random.default_rng(seed)
    jitter = rng.random((samples, dims))
    strata = np.argsort(rng.random((samples, dims)), axis=0)
    return (strata + jitter) / samples


def quantile(dist: Uniform | Triangular | Normal | LogNormal, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of ``dist`` at probabilities ``u`` (vectorised)."""
    u = np.asarray(u, dtype=np.float64)
    if isinstance(dist, Uniform):
        return dist.low + u * (dist.high - dist.low)
    if isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        if b == a:
            return np.full_like(u, a)
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < split, left, right)
    from scipy.special import ndtri

    z = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    if isinstance(dist, Normal):
        x = dist.mean + dist.sd * z
        lo = -np.inf if dist.low is None else dist.low
        hi = np.inf if dist.high is None else dist.high
        return np.asarray(np.clip(x, lo, hi), dtype=np.float64)
    return np.asarray(dist.median * np.exp(dist.sigma * z), dtype=np.float64)


def central(x: float | Uniform | Triangular | Normal | LogNormal) -> float:
    """The value used for the base case: the number itself, or the distribution's centre.

    Mode of a triangular, mean of a uniform or normal (clipped into its bounds), median of a
    log-normal.
    """
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, Uniform):
        return (x.low + x.high) / 2
    if isinstance(x, Triangular):
        return x.mode
    if isinstance(x, Normal):
        lo = -np.inf if x.low is None else x.low
        hi = np.inf if x.high is None else x.high
        return float(min(max(x.mean, lo), hi))
    return x.median


def p10_p90(dist: Uniform | Triangular | Normal | LogNormal) -> tuple[float, float]:
    """The 10th and 90th percentiles, the low and high ends of a sensitivity (tornado) row."""
    lo, hi = quantile(dist, np.array([0.1, 0.9]))
    return float(lo), float(hi)

"""Uncertain inputs: distributions, seeded Latin hypercube sampling and sensitivity ranges.

Any numeric input of a workload may be a plain number or one of the distributions below,
written inline in TOML, e.g. ``base = { dist = "triangular", low = 8e4, mode = 1e5, high = 2e5 }``.
``{ dist = "sources" }`` stands for the range spanned by disagreeing sources of a price; the
engine resolves it from the catalog into a uniform distribution over that range.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pricing._schema import Strict


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
    """The range spanned by the catalog's disagreeing sources of this price (uniform)."""

    dist: Literal["sources"]


Distribution = Annotated[
    Uniform | Triangular | Normal | LogNormal | SourcesRange, Field(discriminator="dist")
]
#: A numeric input: a plain number or a distribution.
Number = float | Distribution

"""Argument checks of the queueing functions: clear errors naming the value and the unit."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from pricing.errors import PricingError

FloatArray = npt.NDArray[np.float64]


def whole(name: str, value: object, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise PricingError(f"{name} must be a whole number >= {least}; got {value!r}")
    return int(value)


def number(name: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PricingError(f"{name} must be a number; got {value!r}") from None


def finite_scalar(name: str, value: float, unit: str) -> float:
    v = number(name, value)
    if not math.isfinite(v) or v < 0:
        raise PricingError(f"{name} must be finite and >= 0 {unit}; got {value!r}")
    return v


def positive_scalar(name: str, value: float, unit: str) -> float:
    v = finite_scalar(name, value, unit)
    if v == 0:
        raise PricingError(f"{name} must be > 0 {unit}; got {value!r}")
    return v


def quantile_arg(q: float) -> float:
    v = number("q", q)
    if not 0 < v < 1:
        raise PricingError(f"q must be strictly between 0 and 1, e.g. 0.95 for p95; got {q!r}")
    return v


def finite_array(
    name: str, values: npt.ArrayLike, unit: str, *, positive: bool = False
) -> FloatArray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise PricingError(f"{name} must be numbers {unit}; got dtype {arr.dtype}")
    out = arr.astype(np.float64)
    bad = ~np.isfinite(out) | (out <= 0 if positive else out < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        need = "> 0" if positive else ">= 0"
        raise PricingError(
            f"{name} must be finite and {need} {unit}; got {float(out.flat[i])!r} at index {i}"
        )
    return out

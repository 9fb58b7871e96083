"""The search for the smallest fleet meeting a latency target, element-wise over arrays.

:func:`size_unique` gallops from a square-root-rule guess to a bracket and bisects it, with
the response-time tail of :mod:`pricing._queue.model`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pricing._queue.model import (
    FloatArray,
    bracketed_newton,
    hyperexponential,
    response_quantile,
    response_sf,
    service_sf,
)
from pricing.errors import PricingError

IntArray = npt.NDArray[np.int64]


def target_reachable(
    service_time_s: npt.ArrayLike, p95_target_s: npt.ArrayLike, *, q: float, service_scv: float
) -> npt.NDArray[np.bool_]:
    """Whether an idle GPU meets each target: P(S > target) < 1 - q (no target: always)."""
    s, target = np.broadcast_arrays(
        np.asarray(service_time_s, dtype=np.float64), np.asarray(p95_target_s, dtype=np.float64)
    )
    finite = np.isfinite(target)
    ok = np.ones(target.shape, dtype=bool)
    ok[finite] = service_sf(target[finite], s[finite], service_scv) < 1 - q
    return ok


def check_reachable(s: FloatArray, target: FloatArray, q: float, scv: float) -> None:
    """Raise unless an idle GPU meets every target: P(S > target) < 1 - q."""
    bad = ~target_reachable(s, target, q=q, service_scv=scv)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        alone = response_quantile(0.0, float(s[i]), 1, q, scv)
        raise PricingError(
            f"p95_target_s = {target[i]:g} s (index {i}) cannot be met: the service time alone "
            f"(mean {s[i]:g} s, scv {scv:g}) has a {q:g}-quantile of {alone:g} s even on an idle "
            "GPU; raise the target above it or make requests faster (fewer steps, smaller images)"
        )


@dataclass(frozen=True)
class SizingPolicy:
    """What every fleet of a :func:`size_unique` call must satisfy, besides its target.

    Attributes
    ----------
    q : float
        The response-time quantile held to the target, e.g. 0.95 [-].
    service_scv : float
        Squared coefficient of variation of the service time [-].
    max_utilisation : float
        Highest busy share a/c of each GPU, in (0, 1] [-].
    min_servers, max_servers : int
        Fewest and most GPUs of a fleet [GPU].
    """

    q: float
    service_scv: float
    max_utilisation: float
    min_servers: int
    max_servers: int


def size_unique(
    lam: FloatArray, s: FloatArray, target: FloatArray, policy: SizingPolicy
) -> IntArray:
    """Smallest c per element with P(R > target) <= 1 - q, a/c <= cap, a < c and c >= least."""
    floor_ = _least_servers(lam, s, policy)
    hi = floor_.copy()
    search = np.flatnonzero(np.isfinite(target))
    if len(search) == 0:
        return np.asarray(hi, dtype=np.int64)
    bracket = _Bracket(lam[search], s[search], target[search], floor_[search], policy)
    bracket.gallop()
    hi[search] = bracket.bisect()
    return np.asarray(hi, dtype=np.int64)


def _least_servers(lam: FloatArray, s: FloatArray, policy: SizingPolicy) -> FloatArray:
    """The fewest GPUs without a target: a/c <= cap, a < c and c >= least; raise above most."""
    cap, most = policy.max_utilisation, policy.max_servers
    a = lam * s
    util = np.maximum(np.ceil(a / cap), 1.0)
    util = np.where((util > 1) & (a / np.maximum(util - 1, 1.0) <= cap), util - 1, util)
    util = np.where(a / util > cap, util + 1, util)
    floor_: FloatArray = np.maximum(np.maximum(np.floor(a) + 1, util), float(policy.min_servers))
    if np.any(floor_ > most):
        i = int(np.argmax(floor_ > most))
        raise PricingError(
            f"max_servers = {most} GPUs are not enough: offered load λ·E[S] = {a[i]:g} Erlang "
            f"(λ = {lam[i]:g} requests/s, E[S] = {s[i]:g} s) needs at least {floor_[i]:.0f} at "
            f"max_utilisation = {cap:g}; raise max_servers"
        )
    return floor_


class _Bracket:
    """Per element, a fleet ``upper`` that meets the target and ``lower`` = one that does not.

    Starts from the square-root-rule guess, gallops (doubling steps) up from a guess that is
    too small and down from one that is large enough, then bisects to ``upper - lower = 1``.
    """

    def __init__(
        self,
        lam: FloatArray,
        s: FloatArray,
        target: FloatArray,
        floor_: FloatArray,
        policy: SizingPolicy,
    ) -> None:
        self.lam, self.s, self.target, self.floor_ = lam, s, target, floor_
        self.policy = policy
        q, scv, most = policy.q, policy.service_scv, policy.max_servers
        guess = np.clip(_guess(lam * s, s, target, q, scv), floor_, float(most))
        found = self.meets(np.arange(len(lam)), guess)
        # upper meets the target (nan: not known yet); lower does not (floor - 1 by definition)
        self.upper: FloatArray = np.where(found, guess, np.nan)
        self.lower: FloatArray = np.where(found, floor_ - 1, guess)
        self.descending = found & (guess > floor_)
        self.step = np.ones_like(guess)

    def meets(self, idx: npt.NDArray[np.intp], c: FloatArray) -> npt.NDArray[np.bool_]:
        """Whether ``c`` GPUs meet the target of elements ``idx``."""
        p = self.policy
        sf = response_sf(self.target[idx], self.lam[idx], self.s[idx], c, p.service_scv)
        return np.asarray(sf <= 1 - p.q)

    def gallop(self) -> None:
        """Widen the steps until every element has a known ``upper`` and stops descending."""
        while True:
            up = np.flatnonzero(np.isnan(self.upper))
            down = np.flatnonzero(self.descending)
            if len(up) == 0 and len(down) == 0:
                break
            if len(up):
                self._gallop_up(up)
            if len(down):
                self._gallop_down(down)

    def _gallop_up(self, up: npt.NDArray[np.intp]) -> None:
        upper, lower, step, most = self.upper, self.lower, self.step, self.policy.max_servers
        probe = np.minimum(lower[up] + step[up], float(most))
        stuck = probe <= lower[up]
        if stuck.any():
            j = up[np.argmax(stuck)]
            lam, s, target = self.lam, self.s, self.target
            raise PricingError(
                f"max_servers = {most} GPUs are not enough to meet the latency target "
                f"{target[j]:g} s at λ = {lam[j]:g} requests/s, E[S] = {s[j]:g} s "
                f"(offered load {lam[j] * s[j]:g} Erlang); raise max_servers or the target"
            )
        ok = self.meets(up, probe)
        upper[up[ok]] = probe[ok]
        lower[up[~ok]] = probe[~ok]
        step[up] *= 2

    def _gallop_down(self, down: npt.NDArray[np.intp]) -> None:
        upper, lower, step, floor_ = self.upper, self.lower, self.step, self.floor_
        probe = np.maximum(upper[down] - step[down], floor_[down])
        ok = self.meets(down, probe)
        upper[down[ok]] = probe[ok]
        lower[down[~ok]] = probe[~ok]
        self.descending[down[~ok]] = False
        self.descending[down[ok]] = probe[ok] > floor_[down[ok]]
        step[down] *= 2

    def bisect(self) -> FloatArray:
        """Halve every bracket wider than one GPU; the smallest fleet meeting the target."""
        upper, lower = self.upper, self.lower
        while True:
            open_ = np.flatnonzero(upper - lower > 1)
            if len(open_) == 0:
                break
            mid = np.floor((upper[open_] + lower[open_]) / 2)
            ok = self.meets(open_, mid)
            upper[open_[ok]] = mid[ok]
            lower[open_[~ok]] = mid[~ok]
        return upper


def _guess(a: FloatArray, s: FloatArray, target: FloatArray, q: float, scv: float) -> FloatArray:
    """A first fleet size from the Halfin-Whitt square-root rule c = a + β·√a.

    β solves alpha(β)·exp(-k·β) = 1 - q: alpha(β) = 1 / (1 + β·Φ(β)/φ(β)) is the heavy-traffic
    wait probability and exp(-k·β) the Kingman decay of the wait, k·β = 2(c - a)/((1 + scv)·E[S])
    times the slack target - E[S]. Only the speed of the search depends on it.
    """
    from scipy.special import ndtr

    # slack: the target less a service time halfway between the mean and an unloaded
    # request's q-quantile (an empirical middle: the wait and service quantiles do not add)
    if scv <= 1:
        sigma = math.sqrt(scv)
        alone = (1 - sigma - sigma * math.log(1 - q)) * s
    else:
        p, long, _ = hyperexponential(scv)
        alone = long * math.log(p / (1 - q)) * s
    alone = (s + alone) / 2
    k = 2 * np.sqrt(a) * np.maximum(target - alone, 0.0) / ((1 + scv) * s)

    def log_odds(beta: FloatArray, k: FloatArray) -> tuple[FloatArray, FloatArray]:
        mills = ndtr(beta) * math.sqrt(2 * math.pi) * np.exp(beta * beta / 2)
        grow = 1 + beta * mills
        return np.log(grow) + k * beta, (mills + beta * (1 + beta * mills)) / grow + k

    goal = np.full_like(a, -math.log(1 - q))
    zero = np.zeros_like(a)
    beta = bracketed_newton(log_odds, goal, zero, np.full_like(a, 10.0), zero, k, rtol=1e-3)
    return np.ceil(a + beta * np.sqrt(a))

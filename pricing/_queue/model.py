"""The M/G/c response-time model behind fleet sizing (the queue and its notation: see
:mod:`pricing._queue.mgc`).

Model
-----
Exponential service (``scv = 1``) is the M/M/c queue and is exact: an arrival waits with the
Erlang C probability C(c, a), and a positive wait is exponential with rate cμ - λ (μ = 1/E[S]).

Other service times use an approximation of the wait W: W = 0 with probability 1 - P, else
W = X₁ + X₂, two independent exponential phases, where

- P = C(c, a), the M/M/c value (the exact M/D/c value is a little lower, 0.70 against 0.71 at
  c = 2, rho = 0.8);
- E[W] = (scv + (1 - scv)(1 + g)/2)·E[W_M/M/c] for scv ≤ 1, with
  g = min(0.24, (1 - rho)(c - 1)(√(4 + 5c) - 2)/(16·rho·c)): Cosmetatos (1975) for M/D/c, as capped
  and interpolated in scv by Whitt (1993, "Approximations for the GI/G/m queue", eq. 2.17);
  E[W] = (1 + scv)/2·E[W_M/M/c] for scv > 1 (Allen-Cunneen);
- the slow phase has the tail's decay rate η, the root of λ(E[exp(ηS/c)] - 1) = η: the wait
  of c servers decays as that of one server c times as fast. This is exact for M/M/c and for
  M/D/c (there customer n is served by the server that served customer n - c, so W is the
  wait of an E_c/D/1 queue); the fast phase makes the mean E[W].

The response time R = W + S then adds the service time as its own distribution: deterministic
for scv = 0; (1 - √scv)·E[S] plus an exponential of mean √scv·E[S] for 0 < scv ≤ 1 (exponential
at 1, where the whole model reduces to the exact M/M/c one); for scv > 1 a two-phase
hyperexponential with the first three moments of the gamma distribution that
:func:`pricing._queue.simulation.simulate_queue` draws. The same shape gives E[exp(ηS/c)] above.

Accuracy, deterministic service, against the exact M/D/c waiting-time distribution (Franx
2001, "A simple solution for the M/D/c waiting time distribution", Oper. Res. Lett. 29):
quantiles q = 0.5-0.99 of R within 4.5 % for c = 1-100, rho = 0.2-0.95 (within 3.5 % at
rho ≥ 0.5 and q = 0.95). Scaling the M/M/c wait by (1 + scv)/2 alone (Kingman / Allen-Cunneen,
an exponential wait of rate 2(cμ - λ)) misses by up to 10 % (c = 1, rho = 0.3). Gamma service
with scv = 0.25-4: within 4 % of the exact M/G/1 (Pollaczek-Khinchine) and of
:func:`pricing._queue.simulation.simulate_queue`, against which the tests check the model.

Functions here take checked float arrays; :mod:`pricing._queue.mgc` checks its arguments first.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Rates closer than this (relative) use the derivative in the three-phase convolution.
_CLOSE = 1e-5


def erlang_c_values(c: FloatArray, a: FloatArray) -> FloatArray:
    """Erlang C probability C(c, a) [-] element-wise, 1 where a >= c (see ``erlang_c_array``)."""
    from scipy.special import gammaincc, gammaln

    out = np.ones(np.shape(a))
    out[(a == 0) & (c > 0)] = 0.0
    pos = (a > 0) & (a < c)
    cc, aa = c[pos], a[pos]
    erlang_b = np.exp(cc * np.log(aa) - aa - gammaln(cc + 1)) / gammaincc(cc + 1, aa)
    out[pos] = cc * erlang_b / (cc - aa * (1 - erlang_b))
    return out


def wait_model(
    lam: FloatArray, s: FloatArray, c: FloatArray, scv: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Wait probability, slow and fast phase rates [1/s] and mean wait [s], for a < c."""
    a = lam * s
    # A wait probability below 1e-300 (an arrival rate near the smallest float) is no wait:
    # its mean would underflow to 0 and its decay rate divide by it.
    p_wait = erlang_c_values(c, a)
    p_wait = np.where(p_wait < NEGLIGIBLE_WAIT, 0.0, p_wait)
    slow = np.ones_like(a)
    fast = np.full_like(a, np.inf)
    mean_wait = np.zeros_like(a)
    pos = p_wait > 0
    a, c, s, p = a[pos], c[pos], s[pos], p_wait[pos]
    mm_wait = p * s / (c - a)
    if scv == 1:
        mean_wait[pos] = mm_wait
        slow[pos] = (c - a) / s
        return p_wait, slow, fast, mean_wait
    rho = a / c
    if scv <= 1:
        g = np.minimum(0.24, (1 - rho) * (c - 1) * (np.sqrt(4 + 5 * c) - 2) / (16 * rho * c))
        mean = (scv + (1 - scv) * (1 + g) / 2) * mm_wait
    else:
        mean = (1 + scv) / 2 * mm_wait
    eta = c * _decay_root(a, c, scv) / s
    rate = np.maximum(eta, p / mean)
    inv_fast = np.maximum(mean / p - 1 / rate, 0.0)
    mean_wait[pos] = mean
    slow[pos] = rate
    fast[pos] = np.divide(1.0, inv_fast, out=np.full_like(rate, np.inf), where=inv_fast > 0)
    return p_wait, slow, fast, mean_wait


#: Wait probabilities below this are taken as 0 (see :func:`wait_model`).
NEGLIGIBLE_WAIT = 1e-300


def _decay_root(a: FloatArray, c: FloatArray, scv: float) -> FloatArray:
    """u > 0 with rho·(M(u) - 1) = u, M the moment generating function of S / E[S].

    Solved as κ(u) = log((M(u) - 1)/u) = log(1/rho): κ is increasing and convex (log-convex
    Laplace transform) and κ(u) >= (1 + scv)·u/2 (Jensen), so u <= 2·log(1/rho)/(1 + scv) and
    Newton's method, kept inside the bracket, converges.
    """
    from scipy.special import exprel

    # log(c/a), without overflow when a is below ~1e-300
    level = np.where(a > 1e-300, np.log1p((c - a) / np.maximum(a, 1e-300)), np.log(c) - np.log(a))
    if scv <= 1:
        sigma = math.sqrt(scv)
        omega = 1 - sigma
        pole = 1 / sigma if sigma > 0 else 700.0  # exprel overflows past 709

        def kappa(u: FloatArray) -> tuple[FloatArray, FloatArray]:
            z = omega * u
            e = exprel(z)
            slope = np.where(
                z < 1e-3, 0.5 + z / 3 + z * z / 8, (np.exp(z) - e) / np.maximum(z, 1e-3)
            )
            n = omega * e + sigma
            return np.log(n) - np.log1p(-sigma * u), omega**2 * slope / n + sigma / (1 - sigma * u)

    else:
        p, long, short = hyperexponential(scv)
        pole = 1 / long

        def kappa(u: FloatArray) -> tuple[FloatArray, FloatArray]:
            g1, g2 = p * long / (1 - u * long), (1 - p) * short / (1 - u * short)
            g = g1 + g2
            return np.log(g), (g1 * g1 / p + g2 * g2 / (1 - p)) / g

    hi = np.minimum(2 * level / (1 + scv), pole)
    start = np.where(hi < pole, hi, hi / 2)
    return bracketed_newton(kappa, level, np.zeros_like(level), hi, start, rtol=1e-13)


def _service_phases(s: FloatArray, scv: float) -> list[tuple[float, FloatArray, FloatArray]]:
    """The service time as (weight, shift [s], exponential rate [1/s]) branches."""
    if scv <= 1:
        sigma = math.sqrt(scv)
        rate = np.divide(1.0, sigma * s) if sigma > 0 else np.full_like(s, np.inf)
        return [(1.0, (1 - sigma) * s, rate)]
    p, long, short = hyperexponential(scv)
    zero = np.zeros_like(s)
    return [(p, zero, 1 / (long * s)), (1 - p, zero, 1 / (short * s))]


def hyperexponential(scv: float) -> tuple[float, float, float]:
    """Weight and means (in units of E[S]) of the two-phase hyperexponential, scv > 1.

    It has the first three moments of the gamma distribution with this scv (shape k = 1/scv):
    E[S²] = (1 + scv), E[S³] = (1 + scv)(1 + 2·scv). The two means are the roots of
    x² - A·x + B with A = 2(1 + scv)/3, B = (1 + scv)/6.
    """
    a = 2 * (1 + scv) / 3
    b = (1 + scv) / 6
    root = math.sqrt(a * a - 4 * b)
    long, short = (a + root) / 2, (a - root) / 2
    return (1 - short) / (long - short), long, short


def response_sf(
    t: FloatArray, lam: FloatArray, s: FloatArray, c: FloatArray, scv: float
) -> FloatArray:
    """P(R > t) for finite t >= 0 and a stable queue (λ·E[S] < c)."""
    p_wait, slow, fast, _ = wait_model(lam, s, c, scv)
    total = np.zeros(np.shape(t))
    for weight, shift, rate in _service_phases(s, scv):
        tau = t - shift
        pos = tau > 0
        span = np.where(pos, tau, 1.0)
        body = (1 - p_wait) * np.exp(-rate * span) + p_wait * hypoexp_sf(slow, fast, rate, span)
        at_shift = p_wait if scv == 0 else 1.0
        total += weight * np.where(pos, body, np.where(tau < 0, 1.0, at_shift))
    return total


def service_sf(t: FloatArray, s: FloatArray, scv: float) -> FloatArray:
    """P(S > t): what an idle GPU achieves."""
    total = np.zeros(np.shape(t))
    for weight, shift, rate in _service_phases(s, scv):
        tau = t - shift
        inside = np.exp(-rate * np.where(tau > 0, tau, 0.0)) if scv > 0 else np.zeros_like(tau)
        total += weight * np.where(tau < 0, 1.0, inside)
    return total


def hypoexp_sf(r_a: FloatArray, r_b: FloatArray, r_c: FloatArray, t: FloatArray) -> FloatArray:
    """P(E_a + E_b + E_c > t) for independent exponentials of rates r (inf: always 0), t > 0.

    With rates sorted r1 <= r2 <= r3: P(E1 + E2 > t) + r1·r2·h[r1, r2, r3], h[...] the second
    divided difference of r -> exp(-r·t), evaluated without cancellation.
    """
    from scipy.special import exprel

    low, high = np.minimum(r_a, r_b), np.maximum(r_a, r_b)
    r1, r2, r3 = np.minimum(low, r_c), np.maximum(low, np.minimum(high, r_c)), np.maximum(high, r_c)
    finite2 = np.isfinite(r2)
    x = np.where(finite2, (r2 - r1) * t, np.inf)
    two = np.exp(-r1 * t) * (1 + r1 * t * exprel(-x))
    finite3 = np.isfinite(r3)
    x = np.where(finite3, x, 0.0)
    y = np.where(finite3, (r3 - r1) * t, 1.0)
    close = y - x <= _CLOSE * np.maximum(1.0, x)
    gap = np.where(close, 1.0, y - x)
    quotient = (exprel(-x) - exprel(-y)) / gap
    m = np.where(close, (x + y) / 2, 1.0)
    derivative = np.where(
        m < 1e-3,
        0.5 - m / 3 + m * m / 8,
        (-np.expm1(-m) - m * np.exp(-m)) / np.maximum(m * m, 1e-6),
    )
    second = np.where(close, derivative, quotient)
    three = np.where(
        finite3, np.where(finite3, r1 * r2, 0.0) * t * t * np.exp(-r1 * t) * second, 0.0
    )
    total: FloatArray = two + three
    return total


def bracketed_newton(
    fun: Callable[..., tuple[FloatArray, FloatArray]],
    goal: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    x: FloatArray,
    *params: FloatArray,
    rtol: float,
) -> FloatArray:
    """x in [lo, hi] with fun(x, *params)[0] = goal, fun increasing with its slope second.

    Newton's method, falling back to bisection whenever a step would leave the bracket;
    converged elements drop out of the iteration.
    """
    x, lo, hi = x.copy(), lo.copy(), hi.copy()
    active = np.arange(x.size)
    for _ in range(100):
        xa, la, ha = x[active], lo[active], hi[active]
        value, slope = fun(xa, *(p[active] for p in params))
        f = value - goal[active]
        la = np.where(f < 0, xa, la)
        ha = np.where(f > 0, xa, ha)
        new = xa - f / slope
        new = np.where((new > la) & (new < ha), new, (la + ha) / 2)
        x[active], lo[active], hi[active] = new, la, ha
        active = active[(np.abs(new - xa) > rtol * new) & (f != 0)]
        if len(active) == 0:
            break
    return x


def quantile_root(
    excess: Callable[[float], float], service_s: float, *, deterministic: bool
) -> float:
    """The smallest t with excess(t) <= 0, for a non-increasing excess(t) = P(R > t) - (1 - q)."""
    from scipy.optimize import brentq

    # R >= E[S] for constant service, and P(R > t) is continuous above it
    lo = service_s if deterministic else 0.0
    if deterministic and excess(lo) <= 0:
        return lo
    hi = 2 * service_s
    while excess(hi) > 0:
        lo, hi = hi, 2 * hi
    return float(brentq(excess, lo, hi, xtol=1e-13 * hi, rtol=4 * np.finfo(float).eps))


def response_quantile(lam: float, s: float, c: int, q: float, scv: float) -> float:
    """The q-quantile of the response time of a stable queue (λ·E[S] < c) [s]."""
    lam_a, s_a, c_a = (np.array([v], dtype=np.float64) for v in (lam, s, c))

    def excess(t: float) -> float:
        return float(response_sf(np.array([t]), lam_a, s_a, c_a, scv)[0]) - (1.0 - q)

    return quantile_root(excess, s, deterministic=scv == 0.0)

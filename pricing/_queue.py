"""Queueing models that size a GPU fleet for a latency target, and a simulation to check them.

Requests arrive as a Poisson process at rate λ [requests/s]; each holds one GPU for a service
time S [s] with mean E[S] and squared coefficient of variation ``scv`` = Var[S] / E[S]²
(0: every request takes the same time, as for one resolution and step count; a resolution mix
makes it larger). ``c`` GPUs serve one queue first come, first served: the M/G/c queue. The
offered load is a = λ·E[S] [Erlang], the utilisation rho = a / c; the queue is stable for a < c.

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
:func:`simulate_queue` draws. The same shape gives E[exp(ηS/c)] above.

Accuracy, deterministic service, against the exact M/D/c waiting-time distribution (Franx
2001, "A simple solution for the M/D/c waiting time distribution", Oper. Res. Lett. 29):
quantiles q = 0.5-0.99 of R within 4.5 % for c = 1-100, rho = 0.2-0.95 (within 3.5 % at
rho ≥ 0.5 and q = 0.95). Scaling the M/M/c wait by (1 + scv)/2 alone (Kingman / Allen-Cunneen,
an exponential wait of rate 2(cμ - λ)) misses by up to 10 % (c = 1, rho = 0.3). Gamma service
with scv = 0.25-4: within 4 % of the exact M/G/1 (Pollaczek-Khinchine) and of
:func:`simulate_queue`, against which the tests check the model.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pricing.errors import PricingError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Rates closer than this (relative) use the derivative in the three-phase convolution.
_CLOSE = 1e-5


@dataclass(frozen=True)
class FleetSize:
    """The smallest fleet meeting a latency target, and how it behaves.

    Attributes
    ----------
    servers : int
        GPUs in the fleet [GPU].
    utilisation : float
        λ·E[S] / servers, the busy share of each GPU [-]; 0 without traffic.
    latency_s : float
        The ``quantile`` of the response time, wait plus service [s]; nan with no GPU.
    quantile : float
        Which quantile ``latency_s`` is, e.g. 0.95 [-].
    wait_probability : float
        Probability that a request waits for a GPU [-] (Erlang C; see the module notes).
    mean_wait_s : float
        Mean time a request waits for a GPU [s].
    """

    servers: int
    utilisation: float
    latency_s: float
    quantile: float
    wait_probability: float
    mean_wait_s: float


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in the M/M/c queue (Erlang C).

    Computed with the Erlang B recursion B(k) = a·B(k-1) / (k + a·B(k-1)), which stays stable
    for any number of servers, then C = c·B / (c - a·(1 - B)).

    Parameters
    ----------
    servers : int
        Number of servers c [GPU], at least 1.
    offered_load : float
        a = λ·E[S] [Erlang], at least 0.

    Returns
    -------
    float
        C(c, a) [-]; 1.0 when a >= c (every arrival waits, the queue grows without bound).
    """
    c = _whole("servers", servers, least=1)
    a = _finite_scalar("offered_load", offered_load, "[Erlang]")
    if a >= c:
        return 1.0
    if a == 0:
        return 0.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1.0 - b))


def erlang_c_array(servers: npt.ArrayLike, offered_load: npt.ArrayLike) -> FloatArray:
    """Erlang C, element-wise over broadcast arrays of servers and offered loads.

    Uses Erlang B = P(N = c) / P(N <= c) for N ~ Poisson(a), from the log-gamma function and
    the regularised incomplete gamma function, so the cost does not grow with c.

    Parameters
    ----------
    servers : array_like of int
        Number of servers c [GPU], whole numbers >= 1.
    offered_load : array_like of float
        a = λ·E[S] [Erlang], >= 0.

    Returns
    -------
    numpy.ndarray of float
        C(c, a) [-], 1.0 where a >= c.
    """
    c_in, a_in = np.broadcast_arrays(np.asarray(servers), np.asarray(offered_load))
    c = _finite_array("servers", c_in, "[GPU]")
    if np.any((c < 1) | (c != np.floor(c))):
        i = int(np.flatnonzero((c < 1) | (c != np.floor(c)))[0])
        raise PricingError(
            f"servers must be whole numbers >= 1; got {float(c.flat[i])!r} at index {i}"
        )
    a = _finite_array("offered_load", a_in, "[Erlang]")
    return _erlang_c(c, a)


def latency_quantile(
    arrival_rate: float,
    service_time_s: float,
    servers: int,
    *,
    q: float = 0.95,
    service_scv: float = 1.0,
) -> float:
    """The q-quantile of the response time (wait plus service) of an M/G/c queue.

    Exact for ``service_scv = 1`` (M/M/c); otherwise the approximation in the module notes.
    The quantile is the root of P(R > t) = 1 - q, found with Brent's method.

    Parameters
    ----------
    arrival_rate : float
        λ [requests/s], >= 0.
    service_time_s : float
        Mean service time E[S] of one request on one GPU [s], > 0.
    servers : int
        Number of GPUs c [GPU], >= 1.
    q : float
        Quantile, 0 < q < 1 [-].
    service_scv : float
        Squared coefficient of variation of the service time [-]: 0 deterministic, 1
        exponential.

    Returns
    -------
    float
        The quantile [s]; ``inf`` when λ·E[S] >= servers (unstable).
    """
    lam = _finite_scalar("arrival_rate", arrival_rate, "[requests/s]")
    s = _positive_scalar("service_time_s", service_time_s, "[s]")
    c = _whole("servers", servers, least=1)
    q = _quantile(q)
    scv = _finite_scalar("service_scv", service_scv, "[-]")
    if lam * s >= c:
        return math.inf
    lam_a, s_a, c_a = (np.array([v], dtype=np.float64) for v in (lam, s, c))

    def excess(t: float) -> float:
        return float(_response_sf(np.array([t]), lam_a, s_a, c_a, scv)[0]) - (1.0 - q)

    return _root(excess, s, deterministic=scv == 0.0)


def size_fleet(
    arrival_rate: float,
    service_time_s: float,
    p95_target_s: float,
    *,
    q: float = 0.95,
    service_scv: float = 0.0,
    max_utilisation: float = 1.0,
    min_servers: int = 1,
    max_servers: int = 100_000,
) -> FleetSize:
    """The smallest fleet whose q-quantile latency meets a target.

    Parameters
    ----------
    arrival_rate : float
        λ [requests/s], >= 0; 0 gives ``min_servers`` at utilisation 0.
    service_time_s : float
        Mean service time E[S] of one request on one GPU [s], > 0.
    p95_target_s : float
        Latency target for the q-quantile of wait plus service [s]; ``inf`` for none.
    q : float
        Quantile the target applies to [-], 0.95 for a p95 target.
    service_scv : float
        Squared coefficient of variation of the service time [-]; 0 (the default) when every
        request takes the same time.
    max_utilisation : float
        Cap on λ·E[S] / servers [-], in (0, 1].
    min_servers : int
        Fewest GPUs to return [GPU], >= 0.
    max_servers : int
        Most GPUs to consider [GPU]; more raises.

    Returns
    -------
    FleetSize
        The fleet, its utilisation, latency quantile, wait probability and mean wait.

    Raises
    ------
    PricingError
        Bad input; a target that the service time alone cannot meet; or a fleet larger than
        ``max_servers``.
    """
    lam = _finite_scalar("arrival_rate", arrival_rate, "[requests/s]")
    s = _positive_scalar("service_time_s", service_time_s, "[s]")
    servers = int(
        size_fleet_array(
            np.array([lam]),
            np.array([s]),
            p95_target_s,
            q=q,
            service_scv=service_scv,
            max_utilisation=max_utilisation,
            min_servers=min_servers,
            max_servers=max_servers,
        )[0]
    )
    if servers == 0:
        return FleetSize(0, 0.0, math.nan, q, 0.0, 0.0)
    p_wait, _, _, mean_wait = _wait_model(
        np.array([lam]), np.array([s]), np.array([float(servers)]), service_scv
    )
    return FleetSize(
        servers=servers,
        utilisation=lam * s / servers,
        latency_s=latency_quantile(lam, s, servers, q=q, service_scv=service_scv),
        quantile=q,
        wait_probability=float(p_wait[0]),
        mean_wait_s=float(mean_wait[0]),
    )


def size_fleet_array(
    arrival_rate: npt.ArrayLike,
    service_time_s: npt.ArrayLike,
    p95_target_s: npt.ArrayLike,
    *,
    q: float = 0.95,
    service_scv: float = 0.0,
    max_utilisation: float = 1.0,
    min_servers: int = 1,
    max_servers: int = 100_000,
) -> IntArray:
    """:func:`size_fleet`'s fleet size, element-wise over broadcast arrays.

    Repeated (rate, service time, target) triples are sized once. Each element is the same
    number :func:`size_fleet` gives for it.

    Parameters
    ----------
    arrival_rate : array_like of float
        λ [requests/s], >= 0.
    service_time_s : array_like of float
        Mean service time E[S] [s], > 0.
    p95_target_s : float or array_like of float
        Latency target for the q-quantile [s]; ``inf`` for none.
    q, service_scv, max_utilisation, min_servers, max_servers
        As in :func:`size_fleet`.

    Returns
    -------
    numpy.ndarray of int64
        GPUs [GPU], in the broadcast shape of the inputs.
    """
    lam_in, s_in, t_in = np.broadcast_arrays(
        np.asarray(arrival_rate), np.asarray(service_time_s), np.asarray(p95_target_s)
    )
    lam = _finite_array("arrival_rate", lam_in, "[requests/s]").ravel()
    s = _finite_array("service_time_s", s_in, "[s]", positive=True).ravel()
    target = np.asarray(t_in, dtype=np.float64).ravel()
    if np.any(np.isnan(target) | (target <= 0)):
        i = int(np.flatnonzero(np.isnan(target) | (target <= 0))[0])
        raise PricingError(
            f"p95_target_s must be > 0 [s] (inf for no target); got {float(target[i])!r} "
            f"at index {i}"
        )
    q = _quantile(q)
    scv = _finite_scalar("service_scv", service_scv, "[-]")
    cap = _number("max_utilisation", max_utilisation)
    if not 0 < cap <= 1:
        raise PricingError(f"max_utilisation must be in (0, 1]; got {max_utilisation!r}")
    least = _whole("min_servers", min_servers, least=0)
    most = _whole("max_servers", max_servers, least=max(least, 1))
    _check_reachable(s, target, q, scv)

    out = np.full(lam.shape, least, dtype=np.int64)
    busy = np.flatnonzero(lam > 0)
    if len(busy):
        keys = np.stack([lam[busy], s[busy], target[busy]])
        varying = keys[np.any(keys != keys[:, :1], axis=1)]
        order = np.lexsort(varying[::-1]) if len(varying) else np.arange(len(busy))
        ordered = keys[:, order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = np.any(ordered[:, 1:] != ordered[:, :-1], axis=0)
        group = np.cumsum(first) - 1
        unique = ordered[:, first]
        sizes = _size_unique(unique[0], unique[1], unique[2], q, scv, cap, least, most)
        out[busy[order]] = sizes[group]
    return out.reshape(lam_in.shape)


def simulate_queue(
    arrival_rate: float,
    servers: int,
    *,
    service_time_s: float,
    service_scv: float = 1.0,
    customers: int = 200_000,
    seed: int = 0,
    warmup: int = 10_000,
) -> FloatArray:
    """Response times of a simulated FCFS M/G/c queue, to check the analytic model.

    Poisson arrivals; service times exponential (``service_scv = 1``), constant (0) or gamma
    (other values) with mean ``service_time_s``. Each request takes the GPU that frees first
    (a heap of free times, O(n log c)). The queue starts empty; the first ``warmup`` requests
    are simulated and dropped.

    Parameters
    ----------
    arrival_rate : float
        λ [requests/s], > 0.
    servers : int
        GPUs c [GPU], >= 1, with λ·E[S] < c.
    service_time_s : float
        Mean service time E[S] [s], > 0.
    service_scv : float
        Squared coefficient of variation of the service time [-], >= 0.
    customers : int
        Response times to return, >= 1.
    seed : int
        Seed of the random generator; the same seed gives the same times.
    warmup : int
        Requests simulated before the returned ones, >= 0.

    Returns
    -------
    numpy.ndarray of float
        ``customers`` response times, wait plus service [s], in arrival order.
    """
    lam = _positive_scalar("arrival_rate", arrival_rate, "[requests/s]")
    c = _whole("servers", servers, least=1)
    s = _positive_scalar("service_time_s", service_time_s, "[s]")
    scv = _finite_scalar("service_scv", service_scv, "[-]")
    n_out = _whole("customers", customers, least=1)
    n_warm = _whole("warmup", warmup, least=0)
    if lam * s >= c:
        raise PricingError(
            f"the queue is unstable: offered load λ·E[S] = {lam * s:g} Erlang needs more than "
            f"{c} servers; use servers > {math.floor(lam * s)} or a lower arrival_rate"
        )
    rng = np.random.default_rng(seed)
    n = n_out + n_warm
    arrivals = np.cumsum(rng.exponential(1.0 / lam, n))
    if scv == 0:
        service = np.full(n, s)
    elif scv == 1:
        service = rng.exponential(s, n)
    else:
        service = rng.gamma(1.0 / scv, s * scv, n)
    free = [0.0] * c  # a valid heap: when each GPU is next free [s]
    response = np.empty(n)
    for i, (arrive, work) in enumerate(zip(arrivals.tolist(), service.tolist(), strict=True)):
        start = max(arrive, free[0])
        heapq.heapreplace(free, start + work)
        response[i] = start + work - arrive
    return response[n_warm:]


# --- the model ---------------------------------------------------------------------------


def _erlang_c(c: FloatArray, a: FloatArray) -> FloatArray:
    from scipy.special import gammaincc, gammaln

    out = np.ones(np.shape(a))
    out[(a == 0) & (c > 0)] = 0.0
    pos = (a > 0) & (a < c)
    cc, aa = c[pos], a[pos]
    erlang_b = np.exp(cc * np.log(aa) - aa - gammaln(cc + 1)) / gammaincc(cc + 1, aa)
    out[pos] = cc * erlang_b / (cc - aa * (1 - erlang_b))
    return out


def _wait_model(
    lam: FloatArray, s: FloatArray, c: FloatArray, scv: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Wait probability, slow and fast phase rates [1/s] and mean wait [s], for a < c."""
    a = lam * s
    p_wait = _erlang_c(c, a)
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
        p, long, short = _hyperexponential(scv)
        pole = 1 / long

        def kappa(u: FloatArray) -> tuple[FloatArray, FloatArray]:
            g1, g2 = p * long / (1 - u * long), (1 - p) * short / (1 - u * short)
            g = g1 + g2
            return np.log(g), (g1 * g1 / p + g2 * g2 / (1 - p)) / g

    hi = np.minimum(2 * level / (1 + scv), pole)
    start = np.where(hi < pole, hi, hi / 2)
    return _bracketed_newton(kappa, level, np.zeros_like(level), hi, start, rtol=1e-13)


def _service_phases(s: FloatArray, scv: float) -> list[tuple[float, FloatArray, FloatArray]]:
    """The service time as (weight, shift [s], exponential rate [1/s]) branches."""
    if scv <= 1:
        sigma = math.sqrt(scv)
        rate = np.divide(1.0, sigma * s) if sigma > 0 else np.full_like(s, np.inf)
        return [(1.0, (1 - sigma) * s, rate)]
    p, long, short = _hyperexponential(scv)
    zero = np.zeros_like(s)
    return [(p, zero, 1 / (long * s)), (1 - p, zero, 1 / (short * s))]


def _hyperexponential(scv: float) -> tuple[float, float, float]:
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


def _response_sf(
    t: FloatArray, lam: FloatArray, s: FloatArray, c: FloatArray, scv: float
) -> FloatArray:
    """P(R > t) for finite t >= 0 and a stable queue (λ·E[S] < c)."""
    p_wait, slow, fast, _ = _wait_model(lam, s, c, scv)
    total = np.zeros(np.shape(t))
    for weight, shift, rate in _service_phases(s, scv):
        tau = t - shift
        pos = tau > 0
        span = np.where(pos, tau, 1.0)
        body = (1 - p_wait) * np.exp(-rate * span) + p_wait * _hypoexp_sf(slow, fast, rate, span)
        at_shift = p_wait if scv == 0 else 1.0
        total += weight * np.where(pos, body, np.where(tau < 0, 1.0, at_shift))
    return total


def _service_sf(t: FloatArray, s: FloatArray, scv: float) -> FloatArray:
    """P(S > t): what an idle GPU achieves."""
    total = np.zeros(np.shape(t))
    for weight, shift, rate in _service_phases(s, scv):
        tau = t - shift
        inside = np.exp(-rate * np.where(tau > 0, tau, 0.0)) if scv > 0 else np.zeros_like(tau)
        total += weight * np.where(tau < 0, 1.0, inside)
    return total


def _hypoexp_sf(r_a: FloatArray, r_b: FloatArray, r_c: FloatArray, t: FloatArray) -> FloatArray:
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


# --- sizing ------------------------------------------------------------------------------


def target_reachable(
    service_time_s: npt.ArrayLike, p95_target_s: npt.ArrayLike, *, q: float, service_scv: float
) -> npt.NDArray[np.bool_]:
    """Whether an idle GPU meets each target: P(S > target) < 1 - q (no target: always)."""
    s, target = np.broadcast_arrays(
        np.asarray(service_time_s, dtype=np.float64), np.asarray(p95_target_s, dtype=np.float64)
    )
    finite = np.isfinite(target)
    ok = np.ones(target.shape, dtype=bool)
    ok[finite] = _service_sf(target[finite], s[finite], service_scv) < 1 - q
    return ok


def _check_reachable(s: FloatArray, target: FloatArray, q: float, scv: float) -> None:
    """Raise unless an idle GPU meets every target: P(S > target) < 1 - q."""
    bad = ~target_reachable(s, target, q=q, service_scv=scv)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        alone = latency_quantile(0.0, float(s[i]), 1, q=q, service_scv=scv)
        raise PricingError(
            f"p95_target_s = {target[i]:g} s (index {i}) cannot be met: the service time alone "
            f"(mean {s[i]:g} s, scv {scv:g}) has a {q:g}-quantile of {alone:g} s even on an idle "
            "GPU; raise the target above it or make requests faster (fewer steps, smaller images)"
        )


def _size_unique(
    lam: FloatArray,
    s: FloatArray,
    target: FloatArray,
    q: float,
    scv: float,
    cap: float,
    least: int,
    most: int,
) -> IntArray:
    """Smallest c per element with P(R > target) <= 1 - q, a/c <= cap, a < c and c >= least."""
    a = lam * s
    util = np.maximum(np.ceil(a / cap), 1.0)
    util = np.where((util > 1) & (a / np.maximum(util - 1, 1.0) <= cap), util - 1, util)
    util = np.where(a / util > cap, util + 1, util)
    floor_ = np.maximum(np.maximum(np.floor(a) + 1, util), float(least))
    if np.any(floor_ > most):
        i = int(np.argmax(floor_ > most))
        raise PricingError(
            f"max_servers = {most} GPUs are not enough: offered load λ·E[S] = {a[i]:g} Erlang "
            f"(λ = {lam[i]:g} requests/s, E[S] = {s[i]:g} s) needs at least {floor_[i]:.0f} at "
            f"max_utilisation = {cap:g}; raise max_servers"
        )
    hi = floor_.copy()
    search = np.flatnonzero(np.isfinite(target))
    if len(search) == 0:
        return np.asarray(hi, dtype=np.int64)
    lam, s, target, floor_ = lam[search], s[search], target[search], floor_[search]

    def meets(idx: npt.NDArray[np.intp], c: FloatArray) -> npt.NDArray[np.bool_]:
        sf = _response_sf(target[idx], lam[idx], s[idx], c, scv)
        return np.asarray(sf <= 1 - q)

    everyone = np.arange(len(search))
    guess = np.clip(_guess(lam * s, s, target, q, scv), floor_, float(most))
    found = meets(everyone, guess)
    upper = np.where(found, guess, np.nan)  # meets the target; nan: not known yet
    lower = np.where(found, floor_ - 1, guess)  # does not (floor - 1 by definition)
    descending = found & (guess > floor_)
    step = np.ones_like(guess)
    # gallop up from a guess that is too small, down from one that is large enough
    while True:
        up = np.flatnonzero(np.isnan(upper))
        down = np.flatnonzero(descending)
        if len(up) == 0 and len(down) == 0:
            break
        if len(up):
            probe = np.minimum(lower[up] + step[up], float(most))
            stuck = probe <= lower[up]
            if stuck.any():
                j = up[np.argmax(stuck)]
                raise PricingError(
                    f"max_servers = {most} GPUs are not enough to meet the latency target "
                    f"{target[j]:g} s at λ = {lam[j]:g} requests/s, E[S] = {s[j]:g} s "
                    f"(offered load {lam[j] * s[j]:g} Erlang); raise max_servers or the target"
                )
            ok = meets(up, probe)
            upper[up[ok]] = probe[ok]
            lower[up[~ok]] = probe[~ok]
            step[up] *= 2
        if len(down):
            probe = np.maximum(upper[down] - step[down], floor_[down])
            ok = meets(down, probe)
            upper[down[ok]] = probe[ok]
            lower[down[~ok]] = probe[~ok]
            descending[down[~ok]] = False
            descending[down[ok]] = probe[ok] > floor_[down[ok]]
            step[down] *= 2
    while True:
        open_ = np.flatnonzero(upper - lower > 1)
        if len(open_) == 0:
            break
        mid = np.floor((upper[open_] + lower[open_]) / 2)
        ok = meets(open_, mid)
        upper[open_[ok]] = mid[ok]
        lower[open_[~ok]] = mid[~ok]
    hi[search] = upper
    return np.asarray(hi, dtype=np.int64)


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
        p, long, _ = _hyperexponential(scv)
        alone = long * math.log(p / (1 - q)) * s
    alone = (s + alone) / 2
    k = 2 * np.sqrt(a) * np.maximum(target - alone, 0.0) / ((1 + scv) * s)

    def log_odds(beta: FloatArray, k: FloatArray) -> tuple[FloatArray, FloatArray]:
        mills = ndtr(beta) * math.sqrt(2 * math.pi) * np.exp(beta * beta / 2)
        grow = 1 + beta * mills
        return np.log(grow) + k * beta, (mills + beta * (1 + beta * mills)) / grow + k

    goal = np.full_like(a, -math.log(1 - q))
    zero = np.zeros_like(a)
    beta = _bracketed_newton(log_odds, goal, zero, np.full_like(a, 10.0), zero, k, rtol=1e-3)
    return np.ceil(a + beta * np.sqrt(a))


def _bracketed_newton(
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


def _root(excess: Callable[[float], float], service_s: float, *, deterministic: bool) -> float:
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


# --- argument checks ---------------------------------------------------------------------


def _whole(name: str, value: object, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise PricingError(f"{name} must be a whole number >= {least}; got {value!r}")
    return int(value)


def _number(name: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PricingError(f"{name} must be a number; got {value!r}") from None


def _finite_scalar(name: str, value: float, unit: str) -> float:
    v = _number(name, value)
    if not math.isfinite(v) or v < 0:
        raise PricingError(f"{name} must be finite and >= 0 {unit}; got {value!r}")
    return v


def _positive_scalar(name: str, value: float, unit: str) -> float:
    v = _finite_scalar(name, value, unit)
    if v == 0:
        raise PricingError(f"{name} must be > 0 {unit}; got {value!r}")
    return v


def _quantile(q: float) -> float:
    v = _number("q", q)
    if not 0 < v < 1:
        raise PricingError(f"q must be strictly between 0 and 1, e.g. 0.95 for p95; got {q!r}")
    return v


def _finite_array(
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

"""Queueing models that size a GPU fleet for a latency target, and a simulation to check them.

Requests arrive as a Poisson process at rate λ [requests/s]; each holds one GPU for a service
time S [s] with mean E[S] and squared coefficient of variation ``scv`` = Var[S] / E[S]²
(0: every request takes the same time, as for one resolution and step count; a resolution mix
makes it larger). ``c`` GPUs serve one queue first come, first served: the M/G/c queue. The
offered load is a = λ·E[S] [Erlang], the utilisation rho = a / c; the queue is stable for a < c.

The response-time model and its accuracy are described in :mod:`pricing._queue.model`; the
search for the smallest fleet is in :mod:`pricing._queue.sizing`; :func:`simulate_queue`
(:mod:`pricing._queue.simulation`) simulates the queue to check the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pricing._queue.args import (
    finite_array,
    finite_scalar,
    number,
    positive_scalar,
    quantile_arg,
    whole,
)
from pricing._queue.model import FloatArray, erlang_c_values, response_quantile, wait_model
from pricing._queue.sizing import IntArray, SizingPolicy, check_reachable, size_unique
from pricing.errors import PricingError


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
    c = whole("servers", servers, least=1)
    a = finite_scalar("offered_load", offered_load, "[Erlang]")
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
    c = finite_array("servers", c_in, "[GPU]")
    if np.any((c < 1) | (c != np.floor(c))):
        i = int(np.flatnonzero((c < 1) | (c != np.floor(c)))[0])
        raise PricingError(
            f"servers must be whole numbers >= 1; got {float(c.flat[i])!r} at index {i}"
        )
    a = finite_array("offered_load", a_in, "[Erlang]")
    return erlang_c_values(c, a)


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
    lam = finite_scalar("arrival_rate", arrival_rate, "[requests/s]")
    s = positive_scalar("service_time_s", service_time_s, "[s]")
    c = whole("servers", servers, least=1)
    q = quantile_arg(q)
    scv = finite_scalar("service_scv", service_scv, "[-]")
    if lam * s >= c:
        return math.inf
    return response_quantile(lam, s, c, q, scv)


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
    lam = finite_scalar("arrival_rate", arrival_rate, "[requests/s]")
    s = positive_scalar("service_time_s", service_time_s, "[s]")
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
    p_wait, _, _, mean_wait = wait_model(
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
    lam = finite_array("arrival_rate", lam_in, "[requests/s]").ravel()
    s = finite_array("service_time_s", s_in, "[s]", positive=True).ravel()
    target = np.asarray(t_in, dtype=np.float64).ravel()
    if np.any(np.isnan(target) | (target <= 0)):
        i = int(np.flatnonzero(np.isnan(target) | (target <= 0))[0])
        raise PricingError(
            f"p95_target_s must be > 0 [s] (inf for no target); got {float(target[i])!r} "
            f"at index {i}"
        )
    q = quantile_arg(q)
    scv = finite_scalar("service_scv", service_scv, "[-]")
    cap = number("max_utilisation", max_utilisation)
    if not 0 < cap <= 1:
        raise PricingError(f"max_utilisation must be in (0, 1]; got {max_utilisation!r}")
    least = whole("min_servers", min_servers, least=0)
    most = whole("max_servers", max_servers, least=max(least, 1))
    check_reachable(s, target, q, scv)

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
        policy = SizingPolicy(q, scv, cap, least, most)
        sizes = size_unique(unique[0], unique[1], unique[2], policy)
        out[busy[order]] = sizes[group]
    return out.reshape(lam_in.shape)

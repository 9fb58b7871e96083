"""A discrete-event simulation of the M/G/c queue, to check the analytic model against."""

from __future__ import annotations

import heapq
import math

import numpy as np
import numpy.typing as npt

from pricing._queue.args import finite_scalar, positive_scalar, whole
from pricing.errors import PricingError

FloatArray = npt.NDArray[np.float64]


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
    lam = positive_scalar("arrival_rate", arrival_rate, "[requests/s]")
    c = whole("servers", servers, least=1)
    s = positive_scalar("service_time_s", service_time_s, "[s]")
    scv = finite_scalar("service_scv", service_scv, "[-]")
    n_out = whole("customers", customers, least=1)
    n_warm = whole("warmup", warmup, least=0)
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

"""Queueing for GPU fleet sizing: Erlang C, response-time quantiles, fleet size, simulation.

Expected values come from the textbook formulas, typed in here (Erlang C by exact rational
arithmetic, the M/M/1 and M/D/1 response-time distributions), from hand calculation, or from
the discrete-event simulation, never from the functions under test.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import PricingError
from pricing._queue.mgc import (
    FleetSize,
    erlang_c,
    erlang_c_array,
    latency_quantile,
    size_fleet,
    size_fleet_array,
)
from pricing._queue.model import hypoexp_sf
from pricing._queue.simulation import simulate_queue


def erlang_c_by_formula(c: int, a: Fraction) -> Fraction:
    """C(c, a) = (a^c/c!)(c/(c-a)) / (sum_{k<c} a^k/k! + (a^c/c!)(c/(c-a))), exactly."""
    top = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


# --- Erlang C ------------------------------------------------------------------------------


@pytest.mark.parametrize("load", [0.1, 0.5, 0.9])
def test_erlang_c_one_server_is_the_utilisation(load: float) -> None:
    # M/M/1: an arrival waits exactly when the server is busy, probability rho = a
    assert erlang_c(1, load) == pytest.approx(load, rel=1e-12)


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [
        # (1/2)(2/1) / (1 + 1 + 1) = 1/3
        (2, 1.0, 1 / 3),
        # (8/6)(3/1) / (1 + 2 + 2 + 4) = 4/9
        (3, 2.0, 4 / 9),
    ],
)
def test_erlang_c_small_cases_by_hand(servers: int, load: float, expected: float) -> None:
    assert erlang_c(servers, load) == pytest.approx(expected, rel=1e-12)
    assert erlang_c_array(np.array([servers]), np.array([load]))[0] == pytest.approx(
        expected, rel=1e-12
    )


def test_erlang_c_textbook_example() -> None:
    # 120 customers/h, 3 min each, 10 assistants: a = 6 Erlang; "from the Erlang C curve, the
    # probability of waiting is about 0.10" (the textbook exercise's published answer)
    assert erlang_c(10, 6.0) == pytest.approx(0.10, abs=0.005)


@pytest.mark.parametrize(
    ("servers", "load"),
    [(11, Fraction(10)), (55, Fraction(48)), (100, Fraction(191, 2)), (7, Fraction(1, 3))],
)
def test_erlang_c_matches_the_formula_in_exact_arithmetic(servers: int, load: Fraction) -> None:
    # 55 agents at 48 Erlang: the classic 360 calls per half hour of 4 minutes each
    expected = float(erlang_c_by_formula(servers, load))
    assert erlang_c(servers, float(load)) == pytest.approx(expected, rel=1e-12)
    vector = erlang_c_array(np.array([servers]), np.array([float(load)]))
    assert vector[0] == pytest.approx(expected, rel=1e-10)


def test_erlang_c_edges() -> None:
    assert erlang_c(3, 0.0) == 0.0
    assert erlang_c(3, 3.0) == 1.0
    assert erlang_c(3, 7.5) == 1.0
    out = erlang_c_array(np.array([3, 3, 3]), np.array([0.0, 3.0, 7.5]))
    assert out.tolist() == [0.0, 1.0, 1.0]


def test_erlang_c_array_agrees_with_the_recursion_for_large_fleets() -> None:
    rng = np.random.default_rng(7)
    servers = rng.integers(1, 3000, 200)
    load = servers * rng.uniform(0.01, 0.999, 200)
    servers = np.append(servers, [100_000, 100_000])
    load = np.append(load, [99_500.0, 90_000.0])
    expected = [erlang_c(int(c), float(a)) for c, a in zip(servers, load, strict=True)]
    np.testing.assert_allclose(erlang_c_array(servers, load), expected, rtol=1e-9, atol=1e-300)


def test_erlang_c_array_broadcasts() -> None:
    out = erlang_c_array(np.array([[1], [2]]), np.array([0.5, 1.0]))
    assert out.shape == (2, 2)
    # C(2, 0.5) = (0.125)(2/1.5) / (1 + 0.5 + 1/6) = 1/10
    np.testing.assert_allclose(out, [[0.5, 1.0], [1 / 10, 1 / 3]], rtol=1e-12)


# --- response-time quantiles ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrival", "mean_s", "q"), [(0.5, 1.0, 0.95), (8.0, 0.1, 0.99), (1.0, 0.9, 0.5)]
)
def test_mm1_quantile_is_the_closed_form(arrival: float, mean_s: float, q: float) -> None:
    # M/M/1 response time is exponential with rate mu - lambda
    expected = -math.log(1 - q) / (1 / mean_s - arrival)
    got = latency_quantile(arrival, mean_s, 1, q=q, service_scv=1.0)
    assert got == pytest.approx(expected, rel=1e-9)


def md1_wait_cdf(t: float, arrival: float, service_s: float) -> float:
    """Erlang's M/D/1 waiting-time distribution.

    P(W <= t) = (1 - rho) sum_{k <= t/D} (lam (kD - t))^k / k! exp(-lam (kD - t)).
    """
    rho = arrival * service_s
    total = 0.0
    for k in range(math.floor(t / service_s) + 1):
        x = arrival * (k * service_s - t)
        total += x**k / math.factorial(k) * math.exp(-x)
    return (1 - rho) * total


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.9])
def test_md1_quantile_is_close_to_the_exact_distribution(rho: float) -> None:
    from scipy.optimize import brentq

    # one-second service: the p95 wait is below 25 s, where the alternating sum is still exact
    # to ~1e-6 in floating point
    service_s = 1.0
    arrival = rho / service_s
    wait = brentq(lambda t: md1_wait_cdf(t, arrival, service_s) - 0.95, 0.0, 25.0, xtol=1e-10)
    expected = service_s + wait
    got = latency_quantile(arrival, service_s, 1, q=0.95, service_scv=0.0)
    assert got == pytest.approx(expected, rel=0.01)


def test_quantile_edges() -> None:
    assert latency_quantile(2.0, 1.0, 2) == math.inf
    assert latency_quantile(0.0, 3.0, 1, service_scv=0.0) == 3.0
    assert latency_quantile(0.0, 3.0, 1, service_scv=1.0) == pytest.approx(3 * math.log(20))
    # few arrivals wait: the p95 of a constant service time is the service time
    assert latency_quantile(0.01, 3.0, 4, service_scv=0.0) == 3.0


@pytest.mark.parametrize(
    ("rates", "t", "expected"),
    [
        # one phase, two phases with rates 1 and 2: 2e^{-t} - e^{-2t}; three rates 1, 2, 3:
        # sum_i e^{-r_i t} prod_{j != i} r_j / (r_j - r_i) = 3e^{-t} - 3e^{-2t} + e^{-3t}
        ((1.0, math.inf, math.inf), 0.7, math.exp(-0.7)),
        ((2.0, 1.0, math.inf), 0.7, 2 * math.exp(-0.7) - math.exp(-1.4)),
        ((3.0, 1.0, 2.0), 0.7, 3 * math.exp(-0.7) - 3 * math.exp(-1.4) + math.exp(-2.1)),
        # equal rates: Erlang-3, e^{-rt}(1 + rt + (rt)^2/2)
        ((2.0, 2.0, 2.0), 1.3, math.exp(-2.6) * (1 + 2.6 + 2.6**2 / 2)),
        ((2.0, 2.0 * (1 + 1e-9), 2.0 * (1 - 1e-9)), 1.3, math.exp(-2.6) * (1 + 2.6 + 2.6**2 / 2)),
        # Erlang-2 of rate r = 2 then rate s = 5 (d = s - r): convolving the Erlang-2 density
        # r^2 y e^{-ry} with e^{-s(t-y)} gives e^{-rt}(1 + rt) + r^2 e^{-rt}(t/d - 1/d^2)
        # + r^2 e^{-st}/d^2
        (
            (2.0, 5.0, 2.0),
            0.4,
            math.exp(-0.8) * 1.8 + 4 * math.exp(-0.8) * (0.4 / 3 - 1 / 9) + 4 * math.exp(-2.0) / 9,
        ),
    ],
)
def test_three_phase_survival(rates: tuple[float, float, float], t: float, expected: float) -> None:
    r_a, r_b, r_c = (np.array([v]) for v in rates)
    got = hypoexp_sf(r_a, r_b, r_c, np.array([t]))[0]
    assert got == pytest.approx(expected, rel=1e-9)


# --- the analytic model against the simulation ------------------------------------------------


def simulated_p95(
    arrival: float, servers: int, service_s: float, scv: float, customers: int
) -> float:
    times = simulate_queue(
        arrival, servers, service_time_s=service_s, service_scv=scv, customers=customers, seed=1
    )
    return float(np.quantile(times, 0.95))


@pytest.mark.parametrize("scv", [0.0, 1.0])
@pytest.mark.parametrize(
    ("servers", "utilisation"),
    [(1, 0.5), (1, 0.8), (4, 0.5), (4, 0.8), (16, 0.5), (16, 0.8), (16, 0.9)],
)
def test_p95_matches_simulation(servers: int, utilisation: float, scv: float) -> None:
    service_s = 2.0
    arrival = utilisation * servers / service_s
    # the p95 of a busy queue converges slowly: more customers at 90 %
    customers = 1_000_000 if utilisation >= 0.9 else 200_000
    expected = simulated_p95(arrival, servers, service_s, scv, customers)
    got = latency_quantile(arrival, service_s, servers, service_scv=scv)
    assert got == pytest.approx(expected, rel=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("scv", [0.0, 1.0])
@pytest.mark.parametrize("servers", [1, 4])
def test_p95_matches_simulation_at_90_percent_on_small_fleets(servers: int, scv: float) -> None:
    # one or four GPUs at 90 %: waits are long and strongly correlated, so 4 million
    # customers are needed for a p95 estimate good to about 1 %
    service_s = 2.0
    arrival = 0.9 * servers / service_s
    expected = simulated_p95(arrival, servers, service_s, scv, 4_000_000)
    got = latency_quantile(arrival, service_s, servers, service_scv=scv)
    assert got == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize(
    ("servers", "utilisation", "scv"),
    [(2, 0.5, 0.5), (2, 0.8, 0.5), (8, 0.8, 0.5), (4, 0.5, 2.0), (16, 0.8, 2.0)],
)
def test_p95_matches_simulation_with_gamma_service(
    servers: int, utilisation: float, scv: float
) -> None:
    # the model's service shape (shifted exponential / hyperexponential) stands in for the
    # simulated gamma with the same mean and scv
    service_s = 2.0
    arrival = utilisation * servers / service_s
    expected = simulated_p95(arrival, servers, service_s, scv, 200_000)
    got = latency_quantile(arrival, service_s, servers, service_scv=scv)
    assert got == pytest.approx(expected, rel=0.05)


# --- fleet sizing ---------------------------------------------------------------------------


def test_size_fleet_by_hand_mm1() -> None:
    # M/M/1, lambda 0.5, E[S] 1 s: p95 = ln 20 / 0.5 = 5.99 s; two GPUs do better
    assert size_fleet(0.5, 1.0, 6.0, service_scv=1.0).servers == 1
    assert size_fleet(0.5, 1.0, 5.9, service_scv=1.0).servers == 2


def test_size_fleet_by_hand_constant_service() -> None:
    # a target equal to the service time is met when at most 5 % wait: one GPU at rho = 0.02
    # (C = 0.02); at rho = 0.1 one GPU has C = 0.1, two have C(2, 0.1) = 0.0048
    assert size_fleet(0.01, 2.0, 2.0).servers == 1
    assert size_fleet(0.1, 1.0, 1.0).servers == 2


@pytest.mark.parametrize(
    ("arrival", "service_s", "target", "scv"),
    [
        (0.3, 3.0, 4.0, 0.0),
        (2.0, 3.0, 3.5, 0.0),
        (40.0, 2.5, 3.0, 0.0),
        (40.0, 2.5, 30.0, 0.0),
        (700.0, 1.2, 1.5, 0.0),
        (5.0, 3.0, 12.0, 1.0),
        (5.0, 3.0, 9.0, 0.3),
        (5.0, 3.0, 14.0, 2.5),
    ],
)
def test_size_fleet_meets_the_target_and_one_less_does_not(
    arrival: float, service_s: float, target: float, scv: float
) -> None:
    fleet = size_fleet(arrival, service_s, target, service_scv=scv)
    c = fleet.servers
    assert fleet.latency_s <= target * (1 + 1e-9)
    assert fleet.latency_s == latency_quantile(arrival, service_s, c, service_scv=scv)
    assert fleet.utilisation == pytest.approx(arrival * service_s / c)
    assert latency_quantile(arrival, service_s, c - 1, service_scv=scv) > target


def test_fleet_size_reports_the_mmc_wait() -> None:
    fleet = size_fleet(1.0, 1.0, 4.0, service_scv=1.0)
    c = fleet.servers
    assert fleet.wait_probability == pytest.approx(erlang_c(c, 1.0), rel=1e-12)
    # E[W] = C / (c mu - lambda)
    assert fleet.mean_wait_s == pytest.approx(erlang_c(c, 1.0) / (c - 1.0), rel=1e-12)
    assert fleet.quantile == 0.95


def test_size_fleet_limits() -> None:
    # no traffic: the minimum, idle
    assert size_fleet(0.0, 2.0, 3.0, min_servers=3) == FleetSize(3, 0.0, 2.0, 0.95, 0.0, 0.0)
    empty = size_fleet(0.0, 2.0, 3.0, min_servers=0)
    assert (empty.servers, empty.utilisation) == (0, 0.0)
    # no latency target: just stable (a = 10 Erlang needs 11)
    assert size_fleet(5.0, 2.0, math.inf).servers == 11
    # a utilisation cap of 50 % needs 20, exactly at the cap
    assert size_fleet(5.0, 2.0, math.inf, max_utilisation=0.5).servers == 20
    assert size_fleet(5.0, 2.0, 100.0, min_servers=40).servers == 40


def test_size_fleet_array_shape_and_zeros() -> None:
    rate = np.array([[0.0, 1.0, 5.0], [5.0, 1.0, 0.0]])
    out = size_fleet_array(rate, 2.0, 3.0, min_servers=0)
    assert out.shape == (2, 3)
    assert out.dtype == np.int64
    assert out[0, 0] == out[1, 2] == 0
    assert out[0, 1] == out[1, 1] == size_fleet(1.0, 2.0, 3.0).servers
    assert out[0, 2] == out[1, 0] == size_fleet(5.0, 2.0, 3.0).servers


# --- properties -----------------------------------------------------------------------------

SCV = st.sampled_from([0.0, 0.2, 1.0, 3.0])
SERVICE = st.floats(0.05, 20.0)


@settings(max_examples=60, deadline=None)
@given(
    load=st.floats(0.01, 300.0), service_s=SERVICE, scv=SCV, q=st.sampled_from([0.5, 0.95, 0.99])
)
def test_more_gpus_never_worsen_the_latency(
    load: float, service_s: float, scv: float, q: float
) -> None:
    arrival = load / service_s
    first = math.floor(load) + 1
    latencies = [
        latency_quantile(arrival, service_s, c, q=q, service_scv=scv)
        for c in range(first, first + 12)
    ]
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(latencies))


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(0.0, 200.0),
    extra=st.floats(0.0, 50.0),
    service_s=SERVICE,
    slack=st.floats(1.05, 10.0),
    scv=SCV,
)
def test_fleet_size_grows_with_traffic(
    low: float, extra: float, service_s: float, slack: float, scv: float
) -> None:
    target = slack * latency_quantile(0.0, service_s, 1, service_scv=scv)
    sizes = size_fleet_array(
        np.array([low, low + extra]), service_s, target, service_scv=scv, max_servers=10**7
    )
    assert sizes[0] <= sizes[1]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.floats(0.0, 500.0), SERVICE, st.floats(1.05, 10.0)), min_size=1, max_size=8
    ),
    scv=SCV,
    cap=st.sampled_from([1.0, 0.8]),
    least=st.integers(0, 3),
)
def test_vectorised_equals_scalar(
    rows: list[tuple[float, float, float]], scv: float, cap: float, least: int
) -> None:
    rows = rows + rows[:1]  # a repeated row is sized once and scattered back
    rate = np.array([r[0] for r in rows])
    service = np.array([r[1] for r in rows])
    target = np.array([r[2] * latency_quantile(0.0, r[1], 1, service_scv=scv) for r in rows])
    kw: dict[str, Any] = {
        "service_scv": scv,
        "max_utilisation": cap,
        "min_servers": least,
        "max_servers": 10**7,
    }
    vector = size_fleet_array(rate, service, target, **kw)
    scalar = [
        size_fleet(float(r), float(s), float(t), **kw).servers
        for r, s, t in zip(rate, service, target, strict=True)
    ]
    assert vector.tolist() == scalar


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scv=st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_simulation_repeats_with_the_same_seed(seed: int, scv: float) -> None:
    kw: dict[str, Any] = {
        "service_time_s": 1.5,
        "service_scv": scv,
        "customers": 2_000,
        "warmup": 100,
    }
    first = simulate_queue(2.0, 4, seed=seed, **kw)
    assert np.array_equal(first, simulate_queue(2.0, 4, seed=seed, **kw))
    assert not np.array_equal(first, simulate_queue(2.0, 4, seed=seed + 1, **kw))
    assert first.shape == (2_000,)
    assert (first >= (1.5 * (1 - 1e-12) if scv == 0 else 0.0)).all()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_c(0, 1.0), "servers must be a whole number >= 1; got 0"),
        (lambda: erlang_c(True, 1.0), "servers must be a whole number"),
        (lambda: erlang_c(2, -1.0), "offered_load must be finite and >= 0"),
        (lambda: erlang_c(2, math.nan), "offered_load must be finite"),
        (lambda: erlang_c_array(np.array([1.5]), np.array([1.0])), "whole numbers >= 1; got 1.5"),
        (lambda: erlang_c_array(np.array([2]), np.array([1.0, -2.0])), "got -2.0 at index 1"),
        (lambda: latency_quantile(1.0, 0.0, 2), "service_time_s must be > 0"),
        (lambda: latency_quantile(1.0, 1.0, 2, q=1.0), "q must be strictly between 0 and 1"),
        (lambda: latency_quantile(1.0, 1.0, 2, q="p95"), "q must be a number; got 'p95'"),  # type: ignore[arg-type]
        (lambda: latency_quantile(1.0, 1.0, 2, service_scv=-0.5), "service_scv must be finite"),
        (lambda: size_fleet(-1.0, 1.0, 2.0), "arrival_rate must be finite and >= 0"),
        (lambda: size_fleet(1.0, math.nan, 2.0), "service_time_s must be finite"),
        (lambda: size_fleet(1.0, 1.0, math.nan), "p95_target_s must be > 0"),
        (
            lambda: size_fleet(1.0, 1.0, 2.0, max_utilisation=0.0),
            "max_utilisation must be in (0, 1]",
        ),
        (
            lambda: size_fleet(1.0, 1.0, 2.0, min_servers=-1),
            "min_servers must be a whole number >= 0",
        ),
        (
            lambda: size_fleet(1.0, 3.0, 2.5),
            "p95_target_s = 2.5 s (index 0) cannot be met: the service time alone",
        ),
        (
            # exponential service: an idle GPU's p95 is 3 ln 20 = 8.99 s
            lambda: size_fleet(1.0, 3.0, 8.9, service_scv=1.0),
            "has a 0.95-quantile of 8.98",
        ),
        (
            lambda: size_fleet(100.0, 1.0, 2.0, max_servers=50),
            "max_servers = 50 GPUs are not enough",
        ),
        (
            # constant service, a target just above it: at most 5 % may wait, and C(28, 20) =
            # 0.063 by the exact formula
            lambda: size_fleet(20.0, 1.0, 1.0 + 1e-9, max_servers=28),
            "max_servers = 28 GPUs are not enough to meet the latency target",
        ),
        (
            lambda: size_fleet_array(np.array([1.0, 2.0]), np.array([1.0, -1.0]), 3.0),
            "service_time_s must be finite and > 0 [s]; got -1.0 at index 1",
        ),
        (lambda: simulate_queue(2.0, 2, service_time_s=1.0), "the queue is unstable"),
        (lambda: simulate_queue(1.0, 2, service_time_s=1.0, customers=0), "customers must be"),
    ],
)
def test_bad_input_is_a_clear_error(call: object, message: str) -> None:
    with pytest.raises(PricingError) as info:
        call()  # type: ignore[operator]
    assert message in str(info.value)


def test_an_arrival_rate_near_the_smallest_float_needs_no_wait() -> None:
    # Found by hypothesis: 5e-324 requests/s made the mean wait underflow to 0 and the wait's
    # decay rate divide by it. Such a wait probability is no wait: one server, both paths.
    target = 2.0 * latency_quantile(0.0, 1.0, 1, service_scv=0.0)
    kw: dict[str, Any] = {"service_scv": 0.0, "max_utilisation": 1.0, "min_servers": 0}
    vector = size_fleet_array(np.array([5e-324]), np.array([1.0]), np.array([target]), **kw)
    assert vector.tolist() == [1]
    assert size_fleet(5e-324, 1.0, target, **kw).servers == 1

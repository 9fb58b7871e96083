"""The benchmark scripts run end to end on tiny inputs (their figures are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.slow
def test_price_requests_benchmark_runs() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH / "bench_price_requests.py"),
            "--rows",
            "5000",
            "--sample",
            "50",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    labels = ("price_requests", "without volume-priced", "quote() per-row loop", "genai-prices")
    for label in (*labels, "numpy"):
        assert label in out
    assert " 0 unpriced" in out  # every synthetic call has a price


@pytest.mark.slow
@pytest.mark.parametrize("flags", [[], ["--alternatives"]])
def test_replay_memory_benchmark_runs(flags: list[str]) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH / "bench_replay_memory.py"),
            "--rows",
            "20000",
            "--chunk",
            "7000",
            *flags,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert ("replay, alternatives" in out) == bool(flags)
    assert "peak" in out
    assert "rows read, priced, unpriced, quarantined, total = 20000 20000 0 0" in out


@pytest.mark.slow
def test_simulate_benchmark_runs() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH / "bench_simulate.py"),
            "--samples",
            "50",
            "--months",
            "6",
            "--loop",
            "1",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert "50 samples x 6 months" in out
    assert "per-sample Python loop" in out


@pytest.mark.slow
def test_cli_benchmark_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "bench_cli.py"), "--repeat", "1"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    for label in ('import polars" (floor)', "quote ... (warm cache)", "cold cache", "cards list"):
        assert label in out
    quote = next(line for line in out.splitlines() if line.startswith("pricing quote imports:"))
    assert not {"altair", "scipy", "ray", "httpx"} & set(quote.split()[3:])


@pytest.mark.slow
def test_replay_benchmark_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "bench_replay.py"), "--rows", "5000", "--repeat", "1"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    for label in ("scan-and-group floor", "replay, alternatives=False", "replay (alternatives)"):
        assert out.count(label) == 2  # the realistic and the synthetic log
    assert "x the floor's time" in out
    assert "plain: rows read, priced, unpriced = 5000 5000 0" in out

"""How fast ``replay`` prices a Parquet usage log, beside a scan-and-group floor in the same run.

    uv run python benchmarks/bench_replay.py [--rows 10000000] [--repeat 3] [--log realistic]

Writes each log of :mod:`logs` (``--log realistic``: drawn from the bundled catalog, 130
offers of skewed popularity over a quarter, model and provider columns, 300 accounts;
``--log synthetic``: the mix of per-image, per-MP, token, credit and tiered offers over three
months and 50 accounts; ``--log both``, the default) to Parquet, then times, interleaved, run
after run, and prints the medians:

1. ``replay(path, alternatives=False)``: the log priced as logged;
2. ``replay(path)``: the default, every call also re-priced on the other offers of its model;
3. the floor: what any replay must at least do: scan the Parquet file and sum ``count`` by
   account, offer and month (streaming).

Each replay is also checked to read, price and total the same on every run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from logs import catalog_draws, realistic_log, synthetic_catalog, synthetic_log, write_parquet

import pricing


def floor(path: Path) -> pl.DataFrame:
    """Scan the log and sum its images by account, offer and month: the least of a replay."""
    return (
        pl.scan_parquet(path)
        .group_by("account", "offer_id", pl.col("timestamp").dt.truncate("1mo").alias("month"))
        .agg(pl.col("count").sum())
        .collect(engine="streaming")
    )


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall seconds of one call, and what it returned."""
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def summary(r: pricing.Replay) -> tuple[object, ...]:
    """What must not change from run to run (or from one revision to the next)."""
    alt = r.alternatives
    alt_total = alt["cost"].sum() if alt.height else None
    total = tuple(sorted(r.total().items(), key=lambda kv: str(kv[0])))
    return (r.rows_read, r.rows_priced, r.rows_unpriced, total, alt.height, alt_total)


def bench(name: str, path: Path, cat: pricing.Catalog, repeat: int) -> None:
    """Time the two replays and the floor on the log at ``path``, interleaved; print."""
    n = pl.scan_parquet(path).select(pl.len()).collect().item()
    runs: dict[str, list[float]] = {"plain": [], "alternatives": [], "floor": []}
    seen: dict[str, set[tuple[object, ...]]] = {"plain": set(), "alternatives": set()}
    warm = path.with_name("warm.parquet")  # compile the catalog once (cached) before timing
    pl.scan_parquet(path).head(1000).sink_parquet(warm)
    pricing.replay(warm, catalog=cat)
    for _ in range(repeat):
        for what, fn in (
            ("floor", lambda: floor(path)),
            ("plain", lambda: pricing.replay(path, catalog=cat, alternatives=False)),
            ("alternatives", lambda: pricing.replay(path, catalog=cat)),
        ):
            seconds, result = timed(fn)
            runs[what].append(seconds)
            if isinstance(result, pricing.Replay):
                seen[what].add(summary(result))
            del result
    size = path.stat().st_size / 2**20
    print(f"{name} log, {n:,} rows ({size:,.1f} MiB of Parquet), median of {repeat}")
    floor_s = statistics.median(runs["floor"])
    for what, label in (
        ("floor", "scan-and-group floor   "),
        ("plain", "replay, alternatives=False"),
        ("alternatives", "replay (alternatives)  "),
    ):
        s = statistics.median(runs[what])
        spread = f"{min(runs[what]):.2f}-{max(runs[what]):.2f} s"
        ratio = "" if what == "floor" else f"  {s / floor_s:5.1f}x the floor's time"
        print(f"  {label:27} {n / s:>12,.0f} rows/s  ({s:.2f} s, {spread}){ratio}")
    for what, results in seen.items():
        (result,) = results  # the same on every run
        rows_read, priced, unpriced, total, alt_rows, alt_total = result
        print(
            f"  {what}: rows read, priced, unpriced = {rows_read} {priced} {unpriced}; total "
            f"{total}; alternatives {alt_rows} rows, cost {alt_total}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of each log")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (median kept)")
    parser.add_argument("--log", choices=["realistic", "synthetic", "both"], default="both")
    args = parser.parse_args()
    bundled = pricing.load_catalog()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        synthetic = synthetic_catalog(tmp)
        logs: list[tuple[str, pricing.Catalog, Callable[[int], pl.DataFrame]]] = []
        if args.log in ("realistic", "both"):
            draws = catalog_draws(bundled)
            logs.append(("realistic", bundled, lambda n: realistic_log(n, draws=draws)))
        if args.log in ("synthetic", "both"):
            logs.append(("synthetic", synthetic, synthetic_log))
        for name, cat, make in logs:
            print(f"writing a {name} log of {args.rows:,} rows ...", flush=True)
            path = write_parquet(make(args.rows), tmp / f"{name}.parquet")
            gc.collect()
            bench(name, path, cat, args.repeat)
            path.unlink()


if __name__ == "__main__":
    main()

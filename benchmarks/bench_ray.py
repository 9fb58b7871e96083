"""Rows per second of ``replay(engine="ray")`` with 1 and 2 workers, beside the local engine.

    uv run python benchmarks/bench_ray.py [--rows 2000000] [--alternatives]

Draws a realistic log (:func:`logs.realistic_log`: every priced offer of the bundled catalog
with a skewed popularity, subscription offers, 300 accounts, a quarter of timestamps), writes it
as a Hive-partitioned Parquet directory (``month=2026-04/part-0.parquet`` ...), then in this one
run replays it:

1. with the local engine (this process, streaming), the baseline;
2. on a local Ray cluster of 1 worker (``ray.init(num_cpus=1)``), then of 2 workers.

Each is timed ``--repeat`` times after a warm-up replay of a small slice (Ray's workers start
and compile the catalog once), and the best time counts. The totals of every run must be equal
to the cent. Printed: seconds, rows/s, rows/s per worker, and the ratios to the local engine
and of 2 workers to 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

# Ray's workers run this interpreter as it is, not a `uv run` copy of the project per worker.
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")

import polars as pl

import pricing

sys.path.insert(0, str(Path(__file__).parent))
from logs import realistic_log


def write_hive(log: pl.DataFrame, root: Path, files_per_month: int) -> Path:
    """``log`` as ``root/month=YYYY-MM/part-i.parquet``, each month in ``files_per_month``."""
    month = log["timestamp"].dt.strftime("%Y-%m")
    for key in sorted(set(month.to_list())):
        part = log.filter(month == key)
        folder = root / f"month={key}"
        folder.mkdir(parents=True)
        size = -(-part.height // files_per_month)
        for i in range(files_per_month):
            part.slice(i * size, size).write_parquet(folder / f"part-{i}.parquet")
    return root


def best(run: Callable[[], pricing.Replay], repeat: int) -> tuple[float, pricing.Replay]:
    """The fastest of ``repeat`` runs [s], and its replay."""
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    assert result is not None
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=4, help="Parquet files per month")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1,2", help="Ray cluster sizes, e.g. 1,2")
    parser.add_argument(
        "--alternatives", action="store_true", help="re-price on every offer of the model too"
    )
    args = parser.parse_args()
    import ray  # after RAY_ENABLE_UV_RUN_RUNTIME_ENV is set

    cat = pricing.load_catalog()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        log = realistic_log(args.rows, catalog=cat)
        root = write_hive(log, tmp / "usage", args.files)
        warm = write_hive(log.head(min(20_000, args.rows)), tmp / "warm", 1)
        files = len(list(root.rglob("*.parquet")))
        print(f"log: {args.rows:,} rows (realistic_log), {files} Parquet files, Hive by month")
        terms = {"catalog": cat, "alternatives": args.alternatives, "batch_rows": args.batch_rows}
        print(f"replay(alternatives={args.alternatives}, batch_rows={args.batch_rows:,})")

        replay = pricing.replay
        replay(warm, **terms)
        local_s, local = best(lambda: replay(root, **terms), args.repeat)
        rate = args.rows / local_s
        print(f"  local engine          {local_s:8.2f} s  {rate:12,.0f} rows/s")
        results: dict[str, tuple[float, dict[str, Decimal]]] = {"local": (local_s, local.total())}
        for workers in [int(w) for w in args.workers.split(",")]:
            ray.init(
                num_cpus=workers,
                object_store_memory=1024**3,
                include_dashboard=False,
                log_to_driver=False,
            )
            try:
                replay(str(warm), engine="ray", **terms)
                ray_s, on_ray = best(lambda: replay(str(root), engine="ray", **terms), args.repeat)
            finally:
                ray.shutdown()
            results[f"ray{workers}"] = (ray_s, on_ray.total())
            rate = args.rows / ray_s
            print(
                f"  ray, {workers} worker(s)      {ray_s:8.2f} s  {rate:12,.0f} rows/s  "
                f"{rate / workers:12,.0f} rows/s per worker  "
                f"{ray_s / local_s:5.2f}x the local engine's time"
            )
        if "ray1" in results and "ray2" in results:
            print(
                f"  2 workers / 1 worker: {results['ray1'][0] / results['ray2'][0]:.2f}x the speed"
            )
        totals = {name: total for name, (_, total) in results.items()}
        equal = len({tuple(sorted(t.items())) for t in totals.values()}) == 1
        print(f"  totals equal to the cent: {equal} {local.total()}")
        print(
            f"  rows read, priced, unpriced, quarantined: {local.rows_read} {local.rows_priced} "
            f"{local.rows_unpriced} {local.rows_quarantined}"
        )
        if not equal:
            raise SystemExit(f"totals differ: {totals}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

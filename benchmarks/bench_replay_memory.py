"""Peak memory of ``replay`` streaming a large Parquet log, beside reading it whole.

    uv run --group bench python benchmarks/bench_replay_memory.py [--rows 50000000]

Writes a log of :mod:`logs` to a temporary Parquet file (``--log synthetic``, the default: the
mix of per-image, per-MP, token, credit and tiered offers, three months, 50 accounts; ``--log
realistic``: drawn from the bundled catalog, 130 offers of skewed popularity over a quarter),
then measures in fresh subprocesses:

1. ``replay(log, alternatives=False)``: peak resident memory (ru_maxrss) and time (with
   ``--alternatives``: ``replay``'s default, every row re-priced on the other offers of its
   model too; with ``--focus GRANULARITY``: the FOCUS dataset built while pricing);
2. the baseline: ``polars.read_parquet`` of the same file, i.e. just holding the log in memory;
3. with ``--focus``, the other way to a FOCUS dataset: ``to_focus`` of the whole log priced
   in memory (``price_requests(log_requests(log).collect())``).

The tiered offer's rows are replayed a month at a time (running volumes need a whole month);
every other row is streamed in batches.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from logs import synthetic_catalog

#: Writes the log in parts (in a process of its own, so that this one stays small: a child's
#: peak memory counts its parent's at the fork).
WRITE = """
import sys
from pathlib import Path
import pricing
from logs import catalog_draws, realistic_log, synthetic_log
kind, rows, chunk, tmp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
draws = catalog_draws(pricing.load_catalog()) if kind == "realistic" else None
for i in range(0, rows, chunk):
    n = min(chunk, rows - i)
    log = realistic_log(n, seed=i, draws=draws) if draws is not None else synthetic_log(n, seed=i)
    log.write_parquet(tmp / f"part-{i}.parquet")
"""
REPLAY = """
import sys, pricing
cat = pricing.load_catalog(sys.argv[1])
focus = sys.argv[4] or None
r = pricing.replay(sys.argv[2], catalog=cat, alternatives=sys.argv[3] == "1", focus=focus)
print(r.rows_read, r.rows_priced, r.rows_unpriced, r.rows_quarantined, r.total())
if r.focus is not None:
    print("FOCUS", r.focus.height, r.focus["BilledCost"].sum())
"""
WHOLE_FOCUS = """
import sys, pricing
cat = pricing.load_catalog(sys.argv[1])
priced = pricing.price_requests(pricing.log_requests(sys.argv[2], catalog=cat).collect(), cat)
focus = pricing.to_focus(priced, granularity=sys.argv[4])
print("FOCUS", focus.height, focus["BilledCost"].sum())
"""
READ = """
import sys, polars as pl
print(pl.read_parquet(sys.argv[2]).height)
"""


def peak_of(code: str, *args: str) -> tuple[float, float, str]:
    """(peak RSS [MiB], seconds, stdout) of a fresh Python running ``code``."""
    probe = "\nimport resource\nprint('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code + probe, *args], check=True, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    lines = out.stdout.strip().splitlines()
    peak_kib = int(lines[-1].split()[1])  # ru_maxrss is in KiB on Linux
    return peak_kib / 1024, seconds, "\n".join(lines[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--chunk", type=int, default=5_000_000)
    parser.add_argument(
        "--alternatives",
        action="store_true",
        help="also re-price every row on the other offers of its model (replay's default)",
    )
    parser.add_argument(
        "--focus",
        choices=["row", "hour", "day", "month"],
        help="also build the FOCUS dataset at this granularity while replaying, and measure "
        "to_focus of the whole log priced in memory beside it",
    )
    parser.add_argument(
        "--log", choices=["synthetic", "realistic"], default="synthetic", help="which log"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cat = synthetic_catalog(Path(tmp))
        path = Path(tmp) / "log.parquet"
        print(f"writing a {args.rows:,}-row Parquet log ...", flush=True)
        subprocess.run(
            [sys.executable, "-c", WRITE, args.log, str(args.rows), str(args.chunk), tmp],
            check=True,
            cwd=Path(__file__).parent,
        )
        parts = sorted(Path(tmp).glob("part-*.parquet"), key=lambda p: int(p.stem[5:]))
        pl.scan_parquet(parts).sink_parquet(path)
        for part in parts:
            part.unlink()
        size = path.stat().st_size / 2**20
        print(f"log: {size:,.0f} MiB on disk")
        alternatives = "1" if args.alternatives else "0"
        run = (str(cat.root), str(path), alternatives, args.focus or "")
        replay_peak, replay_s, replay_out = peak_of(REPLAY, *run)
        read_peak, read_s, _ = peak_of(READ, *run)
        what = "replay, alternatives   " if args.alternatives else "replay (streaming)     "
        print(
            f"{what} peak {replay_peak:>8,.0f} MiB  {replay_s:6.1f} s  "
            f"{args.rows / replay_s:,.0f} rows/s"
        )
        print(f"read_parquet (baseline) peak {read_peak:>8,.0f} MiB  {read_s:6.1f} s")
        print(f"replay needs {replay_peak / read_peak:.2f}x the memory of holding the log")
        summary, *focus_out = replay_out.splitlines()
        print(f"replay result: rows read, priced, unpriced, quarantined, total = {summary}")
        if args.focus:
            whole_peak, whole_s, whole_out = peak_of(WHOLE_FOCUS, *run)
            print(
                f"to_focus of the log priced whole peak {whole_peak:>8,.0f} MiB  {whole_s:6.1f} s"
            )
            print(
                f"FOCUS ({args.focus}) rows, BilledCost: replay {focus_out[0][6:]}, whole "
                f"{whole_out[6:]}"
            )


if __name__ == "__main__":
    main()

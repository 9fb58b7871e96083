"""Time to build the default dashboard set, and ``import pricing`` time.

Run: ``uv run python benchmarks/bench_dashboard.py [--samples 1000] [--repeat 3]``

Prints, each beside a baseline measured in the same run:
- ``import pricing`` (charting imported lazily) against ``import pricing`` followed by
  importing altair and vl-convert eagerly (what an eager import would cost);
- building the default workload's dashboard (simulate + every chart + the page spec) against
  the simulation alone (the floor: charts on top of it are the overhead);
- exporting it (HTML, PNG, SVG, JSON) against writing the JSON specs only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _import_time(code: str, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        runs.append(time.perf_counter() - start)
    base = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - start)
    return min(runs) - statistics.median(base)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    lazy = _import_time("import pricing", args.repeat)
    eager = _import_time("import pricing, altair, vl_convert", args.repeat)
    print(f"import pricing:                   {lazy * 1000:8.0f} ms")
    print(f"  baseline, charting eager:        {eager * 1000:8.0f} ms")
    print(f"  ratio (eager / lazy):            {eager / lazy:8.2f}x")

    from pricing._charts.dashboard import build_dashboard, export_dashboard
    from pricing._plan.simulate import simulate

    build_dashboard(samples=10)  # warm caches (catalog, GPU data, bundle) for both sides
    sim_s = _best(lambda: simulate("ecommerce", samples=args.samples, seed=0), args.repeat)
    board = build_dashboard(samples=args.samples, seed=0)
    build_s = _best(lambda: build_dashboard(samples=args.samples, seed=0).spec(), args.repeat)
    print(f"build default dashboard:          {build_s:8.2f} s ({len(board.charts)} charts)")
    print(f"  baseline, simulation alone:      {sim_s:8.2f} s")
    print(f"  ratio (dashboard / simulation):  {build_s / sim_s:8.2f}x")

    with tempfile.TemporaryDirectory() as out:
        export_s = _best(lambda: export_dashboard(board, out), args.repeat)
        json_s = _best(lambda: export_dashboard(board, out, ["json"]), args.repeat)
    print(f"export html+png+svg+json:         {export_s:8.2f} s")
    print(f"  baseline, JSON specs only:       {json_s:8.2f} s")
    print(f"  ratio:                           {export_s / json_s:8.2f}x")


if __name__ == "__main__":
    main()

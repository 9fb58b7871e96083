"""How fast ``simulate`` samples a workload, beside a per-sample Python loop in the same run.

    uv run python benchmarks/bench_simulate.py [--samples 10000] [--months 36]

The workload is the bundled ``medium`` preset stretched to ``--months`` months, with its
volume, growth, latency target, utilisation cap and operations cost made uncertain, priced on
every hosted offer and every self-hosted set-up on H100 and L40S GPUs (well over 20 options).
Printed:

1. ``simulate(samples=N)``: all N samples at once (vectorised over samples x months);
2. the same samples one at a time: ``simulate()`` of the workload with each sample's values
   (``with_values``), timed on a few and scaled to N;
3. the ratio.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from pricing._plan.simulate import simulate
from pricing._workloads.distributions import latin_hypercube, quantile
from pricing._workloads.inputs import uncertain_inputs, with_values
from pricing._workloads.load import load_workload
from pricing._workloads.model import Workload

UNCERTAIN = {
    ("segments", 0, "volume", "base"): {
        "dist": "triangular",
        "low": 150_000,
        "mode": 250_000,
        "high": 400_000,
    },
    ("segments", 0, "volume", "growth"): {"dist": "uniform", "low": 0.0, "high": 0.05},
    ("segments", 0, "p95_latency_s"): {"dist": "triangular", "low": 20, "mode": 30, "high": 60},
    ("self_hosting", "max_utilisation"): {"dist": "uniform", "low": 0.6, "high": 0.9},
    ("self_hosting", "ops_hourly_rate"): {"dist": "normal", "mean": 100, "sd": 20, "low": 0},
}
GPUS = ["h100-sxm", "l40s"]


def bench_workload(months: int) -> Workload:
    data = load_workload("medium").model_dump()
    data["months"] = months
    for path, dist in UNCERTAIN.items():
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = dist
    return Workload.model_validate(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--loop", type=int, default=5, help="samples timed one at a time")
    args = parser.parse_args()
    wl = bench_workload(args.months)
    simulate(wl, gpus=GPUS)  # warm caches (catalog, GPU data, throughput)

    t0 = time.perf_counter()
    sim = simulate(wl, gpus=GPUS, samples=args.samples, seed=1)
    vec_s = time.perf_counter() - t0
    options = sim.options.height
    sampled = 0 if sim.bands is None else sim.bands["option"].n_unique()
    print(
        f"simulate, {args.samples:,} samples x {args.months} months x {options} options "
        f"({sampled} carried into sampling): {vec_s:.2f} s"
    )

    dims = uncertain_inputs(wl)
    u = latin_hypercube(args.loop, len(dims), 1)
    t0 = time.perf_counter()
    for row in u:
        values = {
            d.path: float(quantile(d.distribution, np.array([x]))[0])  # type: ignore[arg-type]
            for d, x in zip(dims, row, strict=True)
        }
        simulate(with_values(wl, values), gpus=GPUS)
    per_sample = (time.perf_counter() - t0) / args.loop
    loop_s = per_sample * args.samples
    print(
        f"per-sample Python loop: {per_sample * 1000:.0f} ms a sample -> {loop_s:,.0f} s for "
        f"{args.samples:,} samples; simulate is {loop_s / vec_s:,.0f}x faster"
    )


if __name__ == "__main__":
    main()

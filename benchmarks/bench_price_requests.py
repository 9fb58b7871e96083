"""How fast ``price_requests`` prices request logs, beside floors measured in the same run.

    uv run --group bench python benchmarks/bench_price_requests.py [--large] [--repeat 5]
        [--against REV]   # e.g. --against 488d518, the engine before issue 22

Two logs (:mod:`logs`), each written to Parquet and read back, as a user's log would be:

- *realistic*: drawn from the bundled catalog (130 offers priced in the quarter, skewed
  popularity with the top 10 holding 61% of rows, each model's usual sizes, 17% edits with
  input images, 4.5% rows on subscription offers, model and provider columns, timestamps over
  a quarter in which prices change);
- *synthetic*: the README's first mix of five hand-picked offers (per-image, per-MP, token,
  credit and a synthetic volume-tiered card), three months, 50 accounts.

At 1M rows, and 10M with ``--large`` (``--rows N`` for one size only). For each log and size,
timed ``--repeat`` times in turn, and the medians printed with the ratios:

1. ``price_requests`` (one call, eager) on the log; on the synthetic log also without the
   tiered offer's rows (only those follow the running volume);
2. the I/O floor: what any engine must do: take the input columns, code each row's offer (one
   Enum cast) and write the 12 output columns by one gather from a small table;
3. the numpy floor: only the final arithmetic, on arrays already joined to their prices;
4. with ``--against REV``: ``price_requests`` of revision REV (a temporary git worktree, run in
   a subprocess on the same Parquet file, its runs interleaved with these), and whether its
   ``cost``, ``list_cost``, ``reason`` and ``price_version`` columns equal these (nulls too).

Then, on a sample: a per-row Python loop over ``quote()`` (on each log), and genai-prices'
per-call ``calc_price`` loop on the synthetic log's token-priced rows, scaled to rows/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from logs import catalog_draws, realistic_log, synthetic_catalog, synthetic_log, write_parquet
from revisions import worktree

import pricing

#: The output columns compared with the other revision's.
COMPARED = ["cost", "list_cost", "reason", "price_version"]

#: A worker pricing one Parquet log with another revision of the code (on ``PYTHONPATH``):
#: ``run`` prints the seconds of one call, ``dump PATH`` writes the compared columns.
WORKER = """
import sys, time
import polars as pl, pricing
print(pricing.__file__, file=sys.stderr)
cat = pricing.load_catalog(sys.argv[1])
log = pl.read_parquet(sys.argv[2])
pricing.price_requests(log.head(1000), cat)
out = None
print("ready", flush=True)
for line in sys.stdin:
    cmd, _, arg = line.strip().partition(" ")
    if cmd == "run":
        out = None
        t0 = time.perf_counter()
        out = pricing.price_requests(log, cat)
        print(time.perf_counter() - t0, flush=True)
    elif cmd == "dump":
        out.select(sys.argv[3].split(",")).write_parquet(arg)
        print("done", flush=True)
    else:
        break
"""


@dataclass
class Timings:
    """Seconds of each timed thing, run after run."""

    runs: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.runs.setdefault(name, []).append(seconds)

    def median(self, name: str) -> float:
        return statistics.median(self.runs[name])

    def spread(self, name: str) -> str:
        runs = self.runs[name]
        return f"{min(runs):.3f}-{max(runs):.3f} s" if len(runs) > 1 else ""


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of one call (its result released after the clock stops)."""
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    del result
    return seconds


class Worker:
    """``price_requests`` of another revision, in a subprocess of its own."""

    def __init__(self, code: Path, catalog: Path, log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(code)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(catalog), str(log), ",".join(COMPARED)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=code,  # `python -c` looks in its working directory first
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the baseline worker stopped")
        return line.strip()

    def _send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def run(self) -> float:
        self._send("run")
        return float(self._line())

    def dump(self, path: Path) -> None:
        self._send(f"dump {path}")
        assert self._line() == "done"

    def close(self) -> None:
        self._send("quit")
        self.proc.wait(timeout=60)


def floor_table(priced: pl.DataFrame, offer_ids: list[str]) -> pl.DataFrame:
    """The 12 output columns, one row per offer id (and one for any other), in their types."""
    firsts = priced.group_by("offer_id").first()
    table = pl.DataFrame({"offer_id": [*offer_ids, None]}).join(
        firsts, on="offer_id", how="left", maintain_order="left"
    )
    return table.select(list(pricing.PRICED_COLUMNS))


def io_floor(log: pl.DataFrame, offer_ids: list[str], table: pl.DataFrame) -> pl.DataFrame:
    """The least any engine does: code each row's offer, gather 12 columns, add them."""
    code = log["offer_id"].cast(pl.Enum(offer_ids), strict=False).to_physical()
    out = table.gather(code.fill_null(len(offer_ids)))
    kept = [name for name in log.columns if name not in out.columns]
    return log.select(kept).hstack(out.get_columns())


def numpy_floor(log: pl.DataFrame) -> Callable[[], np.ndarray]:
    """The final arithmetic alone, on arrays already joined to their prices, written into
    arrays allocated once (so that it times the arithmetic, not the allocator)."""
    n = log.height
    rng = np.random.default_rng(1)
    count = log["count"].to_numpy().astype(np.float64)
    mp = (log["width"].to_numpy() * log["height"].to_numpy()) / 1e6
    img_price = rng.choice([0.0, 0.04], n)
    mp_first = rng.choice([0.0, 0.03], n)
    mp_price = rng.choice([0.0, 0.015], n)
    tok = rng.choice([0.0, 1056.0], n)
    credits = rng.choice([0.0, 6.5], n)
    cost, term = np.empty(n), np.empty(n)

    def arithmetic() -> np.ndarray:
        # count * (img + first + max(mp - 1, 0) * mp_price + tok * 40 / 1e6 + credits * 0.01)
        np.subtract(mp, 1.0, out=term)
        np.maximum(term, 0.0, out=term)
        np.multiply(term, mp_price, out=term)
        np.add(img_price, mp_first, out=cost)
        np.add(cost, term, out=cost)
        np.multiply(tok, 40.0 / 1e6, out=term)
        np.add(cost, term, out=cost)
        np.multiply(credits, 0.01, out=term)
        np.add(cost, term, out=cost)
        return np.multiply(cost, count, out=cost)

    return arithmetic


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>14,.0f} rows/s"


def bench_log(
    name: str,
    path: Path,
    cat: pricing.Catalog,
    args: argparse.Namespace,
    against: Path | None,
) -> pl.DataFrame:
    """Time ``price_requests`` on the log at ``path`` beside its floors; print; the log."""
    log = pl.read_parquet(path)
    n = log.height
    pricing.price_requests(log.head(1000), cat)  # compile the catalog once (cached)
    priced = pricing.price_requests(log, cat)
    unpriced = priced["cost"].is_null().sum()
    offer_ids = sorted(set(log["offer_id"].unique().to_list()))
    table = floor_table(priced, offer_ids)
    arithmetic = numpy_floor(log)
    flat = log.filter(pl.col("offer_id") != "benchtier/flux-2-pro")
    worker = Worker(against, cat.root, path) if against is not None else None
    t = Timings()
    for _ in range(args.repeat):
        priced = None  # type: ignore[assignment]
        t.add("engine", timed(lambda: pricing.price_requests(log, cat)))
        if worker is not None:
            t.add("against", worker.run())
        t.add("io", timed(lambda: io_floor(log, offer_ids, table)))
        t.add("numpy", timed(arithmetic))
        if flat.height < n:
            t.add("flat", timed(lambda: pricing.price_requests(flat, cat)))
    vec = t.median("engine")
    print(f"{name} log, {n:,} rows ({path.stat().st_size / 2**20:,.1f} MiB of Parquet)")
    print(
        f"  price_requests          {rate(n, vec)}  ({vec:.3f} s, median of {args.repeat}, "
        f"{t.spread('engine')}; {unpriced} unpriced)"
    )
    if "flat" in t.runs:
        flat_s = t.median("flat")
        print(
            f"    without volume-priced {rate(flat.height, flat_s)}  "
            f"({flat_s:.3f} s for {flat.height:,} rows)"
        )
    io_s, np_s = t.median("io"), t.median("numpy")
    print(
        f"  I/O floor               {rate(n, io_s)}  ({io_s:.3f} s) "
        f"-> price_requests takes {vec / io_s:,.1f}x the floor's time"
    )
    print(
        f"  numpy arithmetic floor  {rate(n, np_s)}  ({np_s:.3f} s) "
        f"-> price_requests takes {vec / np_s:,.1f}x the floor's time"
    )
    if worker is not None:
        old = t.median("against")
        print(
            f"  {args.against} (same run)  {rate(n, old)}  ({old:.3f} s, {t.spread('against')}) "
            f"-> price_requests is {old / vec:,.2f}x as fast"
        )
        print(f"  {same_columns(worker, log, cat, path.parent)}")
        worker.close()
    return log


def same_columns(worker: Worker, log: pl.DataFrame, cat: pricing.Catalog, tmp: Path) -> str:
    """Whether the other revision's compared columns equal this one's, bit for bit and null
    for null."""
    theirs_path = tmp / "theirs.parquet"
    worker.dump(theirs_path)
    theirs = pl.read_parquet(theirs_path)
    ours = pricing.price_requests(log, cat).select(COMPARED)
    theirs_path.unlink()
    differ = [name for name in COMPARED if not identical(ours[name], theirs[name])]
    if differ:
        return f"DIFFERENT from the other revision's: {', '.join(differ)}"
    return f"{', '.join(COMPARED)}: identical to the other revision's (bits and nulls)"


def identical(a: pl.Series, b: pl.Series) -> bool:
    """Same nulls, and the same values (texts as text, floats bit for bit)."""
    a, b = (s.cast(pl.String) if s.dtype == pl.Categorical else s for s in (a, b))
    if a.dtype != b.dtype or not a.is_null().equals(b.is_null()):
        return False
    if a.dtype.is_float():
        bits = [s.drop_nulls().to_numpy().view(np.uint64) for s in (a, b)]
        return bool(np.array_equal(bits[0], bits[1]))
    return a.equals(b, null_equal=True)


def quote_loop(log: pl.DataFrame, cat: pricing.Catalog, sample: int) -> float:
    """Rows/s of a per-row Python loop over ``quote()`` on the log's first ``sample`` rows."""
    rows = log.head(sample).to_dicts()
    t0 = time.perf_counter()
    for row in rows:
        off = cat.offer(row["offer_id"])
        req = pricing.ImageRequest(
            model=off.model,
            operation=row.get("operation") or "generate",
            width=row["width"],
            height=row["height"],
            count=row["count"],
            quality=row["quality"],
            input_images=row.get("input_images") or 0,
        )
        with suppress(pricing.PricingError):
            pricing.quote(req, off, as_of=row["timestamp"], catalog=cat)
    return len(rows) / (time.perf_counter() - t0)


def genai_loop(log: pl.DataFrame, sample: int) -> float:
    """Rows/s of genai-prices' ``calc_price`` on the synthetic log's token-priced rows."""
    from genai_prices import Usage, calc_price

    tokens = {(1024, 1024): 1056, (1024, 1536): 1584}  # gpt-image-1 medium output tokens
    rows = log.head(sample).to_dicts()
    token_rows = [r for r in rows if r["offer_id"] == "openai/gpt-image-1"] or rows[:1]
    t0 = time.perf_counter()
    for r in token_rows:
        out = tokens.get((r["width"], r["height"]), 1056) * r["count"]
        calc_price(Usage(output_tokens=out), "gpt-image-1", provider_id="openai")
    return len(token_rows) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="one log size (default: 1M, and 10M with --large)")
    parser.add_argument("--large", action="store_true", help="10M rows too (several minutes)")
    parser.add_argument("--sample", type=int, default=2_000, help="rows for the per-row loops")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each (median kept)")
    parser.add_argument(
        "--against", metavar="REV", help="also time this git revision (e.g. 488d518), interleaved"
    )
    args = parser.parse_args()
    sizes = [args.rows] if args.rows else [1_000_000, *([10_000_000] if args.large else [])]
    bundled = pricing.load_catalog()
    with tempfile.TemporaryDirectory() as tmp_dir, worktree(args.against) as against:
        tmp = Path(tmp_dir)
        synthetic = synthetic_catalog(tmp)
        draws = catalog_draws(bundled)
        logs: dict[str, pl.DataFrame] = {}
        for n in sizes:
            for name, cat, make in (
                ("realistic", bundled, lambda n: realistic_log(n, catalog=bundled, draws=draws)),
                ("synthetic", synthetic, synthetic_log),
            ):
                print(f"writing a {name} log of {n:,} rows ...", flush=True)
                path = write_parquet(make(n), tmp / f"{name}-{n}.parquet")
                logs[name] = bench_log(name, path, cat, args, against)
                path.unlink()
        for name, cat in (("realistic", bundled), ("synthetic", synthetic)):
            loop = quote_loop(logs[name], cat, args.sample)
            print(f"quote() per-row loop ({name} log) {loop:>10,.0f} rows/s")
        gp = genai_loop(logs["synthetic"], args.sample)
        print(f"genai-prices calc_price (synthetic token rows) {gp:>10,.0f} rows/s")


if __name__ == "__main__":
    main()

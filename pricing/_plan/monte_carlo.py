"""Monte Carlo bands and the sensitivity table of a simulation.

:func:`sample_inputs` turns a Latin hypercube into values of the workload's uncertain inputs
(and positions within the source ranges of disagreeing prices); :func:`monte_carlo` evaluates
every carried option under all samples at once and summarises them as P10/P50/P90 bands and
the probability that self-hosting is cheaper; :func:`sensitivity` moves one input at a time
to its P10 and P90.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl

from pricing._plan.inputs import Inputs
from pricing._plan.option_costs import SegmentRun, evaluate
from pricing._workloads.distributions import Normal, SourcesRange, p10_p90, quantile
from pricing._workloads.inputs import InputPath, UncertainInput
from pricing._workloads.model import Workload, central


def sample_inputs(dims: list[UncertainInput], spread: list[str], u: np.ndarray) -> Inputs:
    """Inputs of each row of ``u`` (samples, dims + spread): inputs first, then prices.

    Column ``len(dims) + k`` places each sample within the source range of price
    ``spread[k]`` (uniform between its cheapest and dearest source).
    """
    values = {}
    for j, d in enumerate(dims):
        dist = d.distribution
        if isinstance(dist, SourcesRange):  # pragma: no cover - uncertain_inputs leaves it out
            continue
        values[d.path] = quantile(dist, u[:, j])
        if isinstance(dist, Normal) and dist.low is None and _non_negative(d.path):
            values[d.path] = np.maximum(values[d.path], 0.0)
    prices = {key: u[:, len(dims) + k] for k, key in enumerate(spread)}
    return Inputs(len(u), values, prices)


def _non_negative(path: InputPath) -> bool:
    return path[-1] != "growth"


def monte_carlo(
    runs: list[SegmentRun],
    chosen: dict[int, set[str]],
    wl: Workload,
    inputs: Inputs,
    days: list[date],
) -> tuple[pl.DataFrame, pl.DataFrame, dict[tuple[str, str], np.ndarray]]:
    """(bands, self_hosting_cheaper, draws) of the options in ``chosen`` under ``inputs``.

    ``draws`` maps (segment, option) to its cost [currency] in each sample (rows) and month
    (columns), NaN where the option cannot serve: the samples themselves, so that a range of
    a sum (months of a horizon, segments of a plan) is the range of the summed samples."""
    band_frames = []
    prob_frames = []
    draws: dict[tuple[str, str], np.ndarray] = {}
    for run in runs:
        costs = evaluate(run, wl, inputs, chosen[run.index])
        best_hosted = np.full((inputs.samples, wl.months), np.inf)
        best_self = np.full((inputs.samples, wl.months), np.inf)
        for name, c in costs.items():
            total = np.where(c.feasible, c.total, np.nan)
            draws[run.segment.name, name] = total
            p10, p50, p90, mean = _band(total)
            band_frames.append(
                pl.DataFrame(
                    {
                        "segment": run.segment.name,
                        "option": name,
                        "kind": c.kind,
                        "month": days,
                        "p10": p10,
                        "p50": p50,
                        "p90": p90,
                        "mean": mean,
                    }
                )
            )
            filled = np.where(np.isnan(total), np.inf, total)
            if c.kind == "hosted":
                best_hosted = np.minimum(best_hosted, filled)
            else:
                best_self = np.minimum(best_self, filled)
        # null, not 0, in a month no sample has a self-hosted cost for: nothing was compared
        evaluated = np.isfinite(best_self).any(axis=0)
        probability = np.where(evaluated, (best_self < best_hosted).mean(axis=0), np.nan)
        prob_frames.append(
            pl.DataFrame({"segment": run.segment.name, "month": days, "probability": probability})
        )
    bands = pl.concat(band_frames).with_columns(pl.col("p10", "p50", "p90", "mean").fill_nan(None))
    prob = pl.concat(prob_frames).with_columns(pl.col("probability").fill_nan(None))
    return bands, prob, draws


_QUANTILES = np.array([0.1, 0.5, 0.9])


def _band(total: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """P10, P50, P90 and mean of each month (column) over the feasible samples (not NaN)."""
    missing = np.isnan(total)
    if missing.all():
        nothing = np.full(total.shape[1], np.nan)
        return nothing, nothing, nothing, nothing
    if not missing.any():  # the usual case: np.quantile is much faster than np.nanquantile
        p10, p50, p90 = np.quantile(total, _QUANTILES, axis=0)
        return p10, p50, p90, total.mean(axis=0)
    p10, p50, p90 = np.nanquantile(total, _QUANTILES, axis=0)
    return p10, p50, p90, np.nanmean(total, axis=0)


def sensitivity(
    runs: list[SegmentRun],
    chosen: dict[int, set[str]],
    wl: Workload,
    dims: list[UncertainInput],
    monthly: pl.DataFrame,
) -> pl.DataFrame:
    """Horizon cost with each input at its P10 and its P90, the others at their centres."""
    rows = 2 * len(dims)
    values: dict[InputPath, np.ndarray] = {}
    lows, highs = [], []
    for j, d in enumerate(dims):
        dist = d.distribution
        if isinstance(dist, SourcesRange):  # pragma: no cover - uncertain_inputs leaves it out
            lows.append(math.nan)
            highs.append(math.nan)
            continue
        column = np.full(rows, central(dist))
        lo, hi = p10_p90(dist)
        column[2 * j], column[2 * j + 1] = lo, hi
        values[d.path] = column
        lows.append(lo)
        highs.append(hi)
    inputs = Inputs(rows, values)
    # the base case's horizon cost, from the frame simulate() built (NaN if a month has none)
    horizons = monthly.group_by("segment", "option").agg(
        pl.when(pl.col("cost").null_count() > 0)
        .then(pl.lit(math.nan))
        .otherwise(pl.col("cost").sum())
        .alias("total")
    )
    base_totals = {(r["segment"], r["option"]): r["total"] for r in horizons.iter_rows(named=True)}
    frames = []
    for run in runs:
        costs = evaluate(run, wl, inputs, chosen[run.index])
        own = np.array([_concerns(d.path, run.index) for d in dims])
        for name, c in costs.items():
            total = np.where(c.feasible, c.total, np.nan).sum(axis=1)
            frames.append(
                pl.DataFrame(
                    {
                        "segment": run.segment.name,
                        "option": name,
                        "input": [d.label for d in dims],
                        "low": lows,
                        "high": highs,
                        "cost_at_low": total[0::2],
                        "cost_at_high": total[1::2],
                        "base_cost": base_totals[(run.segment.name, name)],
                    }
                ).filter(pl.Series(own))
            )
    out = pl.concat(frames).with_columns(pl.col("cost_at_low", "cost_at_high").fill_nan(None))
    swing = (pl.col("cost_at_high") - pl.col("cost_at_low")).abs()
    return out.with_columns(swing=swing).sort(
        "segment", "option", "swing", descending=[False, False, True]
    )


def _concerns(path: InputPath, segment: int) -> bool:
    """Whether an input can move a segment's cost: its own inputs and the shared ones."""
    return not (path[0] == "segments" and path[1] != segment)

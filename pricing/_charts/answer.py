"""The answer a dashboard's first screen gives: what the plan costs, with what, how sure.

Numbers only (the page writes them, :mod:`pricing._charts.page`): per segment the option
bought (the one cheapest in most months, :func:`pricing.plan_options`), its horizon cost and
P10-P90 range; the grand total across segments; the cost per month; and the unverified leads
in short. A range of a sum (a segment's horizon, the plan's total in a month or over the
horizon) is the P10 and P90 of the summed Monte Carlo samples (``Simulation.draws``), never
the sum of the parts' P10s and P90s: segments drawn independently do not all land at their
P90 in the same sample. A sample in which a planned option cannot serve is left out of the
range of any sum it is in (the ranges are over the samples the plan can serve).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from pricing._charts.labels import Labels
from pricing._plan.simulate import Simulation
from pricing._plan.summary import plan_options

#: The flags that exclude a price from an answer (DESIGN.md, "Evidence").
FLAGS = ("below-upstream", "free-tier", "undated", "stale", "unit-ambiguous", "retirement-undated")


@dataclass(frozen=True)
class SegmentAnswer:
    """One segment's plan: the option bought, its evidence, and its cost [currency]."""

    segment: str
    option: str
    label: str
    grade: str | None
    source: str | None
    first_month: float | None
    horizon: float | None
    p10: float | None
    p90: float | None


@dataclass(frozen=True)
class Lead:
    """An offer the evidence policy set aside, once however many segments it serves."""

    label: str
    offer_id: str
    grade: str
    figure: float | None  # [currency/image], or [currency/GPU-h] when ``per_gpu_hour``
    per_gpu_hour: bool
    why: str  # the grade and flags that excluded it, in short
    reason: str  # in full
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """The first screen's figures (see the module docstring)."""

    segments: tuple[SegmentAnswer, ...]
    total: float | None
    p10: float | None
    p90: float | None
    months: pl.DataFrame  # month, segment, cost, p10, p90 (the plan's option per segment)
    month_totals: pl.DataFrame  # month, p10, p90 of the plan's total in each month
    first: date
    last: date
    leads: tuple[Lead, ...]

    @property
    def count(self) -> int:
        """Months of the horizon."""
        return self.months["month"].n_unique()


def _sum(values: list[float | None]) -> float | None:
    """The sum, or None when any term is missing (a missing cost is never 0)."""
    return None if not values or any(v is None for v in values) else sum(v or 0.0 for v in values)


def answer(sim: Simulation, headline: pl.DataFrame, labels: Labels) -> Answer:
    """The answer of a simulation and its headline table (``Dashboard.headline``)."""
    plan = plan_options(sim)
    months = _months(sim, plan)
    names = dict(labels.options(sim.options).iter_rows())
    draws = plan_draws(sim, plan)
    band = {seg: _p10_p90(d.sum(axis=1)) for seg, d in draws.items()}
    together = None
    if draws and len(draws) == plan.height:  # every segment's plan was sampled
        together = np.sum(list(draws.values()), axis=0)
    segments = tuple(
        SegmentAnswer(
            segment=str(r["segment"]),
            option=str(r["option"]),
            label=str(names.get(r["option"], r["option"])),
            grade=r["grade"],
            source=None if r["source_id"] is None else labels.source(r["source_id"]),
            first_month=r["first_month"],
            horizon=r["horizon"],
            p10=band.get(r["segment"], (None, None))[0],
            p90=band.get(r["segment"], (None, None))[1],
        )
        for r in headline.iter_rows(named=True)
    )
    days = sim.monthly["month"]
    total_band = (None, None) if together is None else _p10_p90(together.sum(axis=1))
    return Answer(
        segments=segments,
        total=_sum([s.horizon for s in segments]),
        p10=total_band[0],
        p90=total_band[1],
        months=months,
        month_totals=_month_totals(days.unique().sort().to_list(), together),
        first=days.min(),  # type: ignore[arg-type]
        last=days.max(),  # type: ignore[arg-type]
        leads=leads(sim, labels),
    )


def plan_draws(sim: Simulation, plan: pl.DataFrame) -> dict[str, np.ndarray]:
    """segment -> the Monte Carlo samples (rows) by month (columns) of its planned option
    [currency], for the segments whose option was sampled."""
    out = {}
    for r in plan.iter_rows(named=True):
        d = sim.draws.get((r["segment"], r["option"]))
        if d is not None:
            out[str(r["segment"])] = np.asarray(d, dtype=np.float64)
    return out


def _p10_p90(values: np.ndarray) -> tuple[float | None, float | None]:
    """P10 and P90 of the samples that have a cost (not NaN); (None, None) if none has."""
    kept = values[np.isfinite(values)]
    if kept.size == 0:
        return None, None
    p10, p90 = np.quantile(kept, [0.1, 0.9])
    return float(p10), float(p90)


def _month_totals(days: list[date], together: np.ndarray | None) -> pl.DataFrame:
    """month, p10, p90 of the plan's total in each month (null without samples)."""
    bands = (
        [(None, None)] * len(days)
        if together is None
        else [_p10_p90(together[:, m]) for m in range(len(days))]
    )
    return pl.DataFrame(
        {"month": days, "p10": [b[0] for b in bands], "p90": [b[1] for b in bands]},
        schema={"month": pl.Date, "p10": pl.Float64, "p90": pl.Float64},
    )


def _months(sim: Simulation, plan: pl.DataFrame) -> pl.DataFrame:
    """month, segment, cost, p10, p90 of each segment's planned option (nulls stay null)."""
    keys = ["segment", "option"]
    costs = sim.monthly.join(plan, on=keys).select("month", "segment", "option", "cost")
    if sim.bands is None:
        return costs.with_columns(p10=pl.lit(None, pl.Float64), p90=pl.lit(None, pl.Float64))
    bands = sim.bands.select("segment", "option", "month", "p10", "p90")
    return costs.join(bands, on=[*keys, "month"], how="left").sort("month", "segment")


def short_reason(grade: str, reason: str) -> str:
    """Why a lead was excluded, in a few words: ``"claim; below-upstream, stale"``."""
    flags = [f for f in FLAGS if re.search(rf"(^|; ){re.escape(f)}:", reason)]
    said = [grade] if grade == "claim" or reason.startswith("graded") else []
    return "; ".join([*said, ", ".join(flags)] if flags else said) or grade


def leads(sim: Simulation, labels: Labels) -> tuple[Lead, ...]:
    """The unverified leads of a simulation, one per offer (cheapest first within hosted,
    then GPU offers), each with its label, figure and reasons."""
    if sim.leads.height == 0:
        return ()
    names = dict(labels.options(sim.leads).iter_rows())
    found: dict[str, Lead] = {}
    for r in sim.leads.iter_rows(named=True):
        key = str(r["offer_id"]) + "|" + str(r["model"])
        gpu = r["gpu_hour"] is not None
        seen = found.get(key)
        if seen is not None:
            segs = (*seen.segments, str(r["segment"]))
            found[key] = Lead(**{**seen.__dict__, "segments": segs})
            continue
        found[key] = Lead(
            label=str(names.get(r["option"], r["option"])),
            offer_id=str(r["offer_id"]),
            grade=str(r["grade"]),
            figure=r["gpu_hour"] if gpu else r["cost_per_image"],
            per_gpu_hour=gpu,
            why=short_reason(str(r["grade"]), str(r["reason"] or "")),
            reason=labels.words(str(r["reason"] or "")),
            segments=(str(r["segment"]),),
        )
    return tuple(sorted(found.values(), key=lambda d: (d.per_gpu_hour, d.figure or 0.0)))

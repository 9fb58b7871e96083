"""Simulate a workload on every hosted offer and self-hosted set-up, month by month.

``simulate(workload)`` answers the product's central question: for this mix of image work,
which options are cheapest each month, by how much, and how sure are we. Each segment of the
workload is priced on

* every hosted offer serving one of its acceptable models (exact ``quote()`` prices by month,
  see :mod:`pricing._hosted`), and
* every self-hosted set-up: an open-weights model on a GPU offer (or owned hardware) where a
  throughput profile exists and the model fits in memory, as a dedicated, autoscaled or
  serverless deployment (see :mod:`pricing._selfhosted`), plus licence, operations, storage
  and egress.

Every cost is computed as numpy arrays over (samples, months): the base case is one sample
with every uncertain input at its centre; a Monte Carlo run draws a seeded Latin hypercube
over every distribution in the workload (and, with ``price_spread=True``, over the range of
disagreeing sources of each hosted price) and evaluates all samples at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from pricing._catalog import Catalog, load_catalog, to_date
from pricing._hosted import HostedOption, Shape, hosted_options
from pricing._request import ImageRequest
from pricing._selfhosted import (
    HOURS_PER_MONTH,
    Fleet,
    GpuCost,
    autoscaled,
    dedicated,
    serverless,
)
from pricing._setups import Setup, self_host_data, setups
from pricing._uncertainty import Normal, SourcesRange, latin_hypercube, p10_p90, quantile
from pricing._workload import (
    InputPath,
    Segment,
    UncertainInput,
    Workload,
    central,
    load_workload,
    traffic_profile,
    uncertain_inputs,
)
from pricing.errors import PricingError

Mode = Literal["api", "dedicated", "autoscaled", "serverless", "owned"]
LINE_ITEMS = ("API usage", "GPU busy", "GPU idle", "licence", "operations", "storage", "egress")


# --------------------------------------------------------------------------- options


@dataclass
class _Inputs:
    """Values of the workload's uncertain inputs for each sample (others at their centre)."""

    samples: int
    values: dict[InputPath, np.ndarray] = field(default_factory=dict)

    def get(self, path: InputPath, given: Any) -> np.ndarray | float:
        if path in self.values:
            return self.values[path].reshape(-1, 1)
        return central(given)


def _segment_inputs(
    seg: Segment, index: int, months: int, inputs: _Inputs
) -> tuple[np.ndarray, np.ndarray | float]:
    """Images per month (samples, months) and the p95 target of segment ``index``."""
    base = ("segments", index, "volume")
    vol = seg.volume
    if vol.series is not None:
        cols = [
            np.broadcast_to(inputs.get((*base, "series", m), v), (inputs.samples, 1))
            for m, v in enumerate(vol.series)
        ]
        images = np.concatenate(cols, axis=1).astype(np.float64)
    else:
        b = inputs.get((*base, "base"), vol.base)
        g = inputs.get((*base, "growth"), vol.growth) if vol.growth is not None else 0.0
        m = np.arange(months, dtype=np.float64)[None, :]
        images = np.broadcast_to(b * (1 + np.asarray(g)) ** m, (inputs.samples, months))
    target: np.ndarray | float = (
        math.inf
        if seg.p95_latency_s is None
        else inputs.get(("segments", index, "p95_latency_s"), seg.p95_latency_s)
    )
    return np.maximum(images, 0.0), target


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`: tidy polars frames plus what produced them.

    Attributes
    ----------
    options : DataFrame
        One row per (segment, option): kind (hosted / self-hosted), mode, model, offer, GPU,
        provider, category, price version and source.
    monthly : DataFrame
        One row per (segment, option, month), base case: ``images``, ``cost`` [currency],
        ``cost_per_image`` and ``cost_per_image_busy`` (without idle GPU time) [currency/image],
        ``gpus`` (at the month's peak), ``utilisation``, ``keys_needed`` (hosted rate
        limits), ``feasible`` and ``reason`` (why an option cannot serve the month; its cost
        is then null, never 0).
    line_items : DataFrame
        (segment, option, month, item, cost): API usage, GPU busy, GPU idle, licence,
        operations, storage, egress.
    cheapest : DataFrame
        Per (segment, month): the cheapest feasible option, the cheapest hosted and the
        cheapest self-hosted one with their costs.
    bands : DataFrame or None
        With ``samples``: P10, P50, P90 and mean monthly cost per (segment, option, month).
    self_hosting_cheaper : DataFrame or None
        With ``samples``: per (segment, month), the probability that the cheapest
        self-hosted option costs less than the cheapest hosted one.
    sensitivity : DataFrame or None
        With uncertain inputs: per (segment, option, input), the horizon cost with the input
        at its P10 and at its P90, every other input at its centre (for tornado charts).
    """

    workload: str
    currency: str
    as_of: date
    seed: int | None
    samples: int
    options: pl.DataFrame
    monthly: pl.DataFrame
    line_items: pl.DataFrame
    cheapest: pl.DataFrame
    bands: pl.DataFrame | None = None
    self_hosting_cheaper: pl.DataFrame | None = None
    sensitivity: pl.DataFrame | None = None
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- simulate


def simulate(
    workload: Workload | str | Path,
    catalog: Catalog | None = None,
    *,
    gpus: Sequence[str] | None = None,
    modes: Sequence[Mode] = ("api", "dedicated", "autoscaled", "serverless", "owned"),
    samples: int = 0,
    seed: int | None = None,
    price_spread: bool = False,
    sample_options: int = 20,
    as_of: date | str | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Simulation:
    """Monthly cost of a workload on every hosted and self-hosted option.

    Parameters
    ----------
    workload : Workload, bundled name or path
        e.g. ``"ecommerce"`` or ``"my-workload.toml"``.
    catalog : Catalog, optional
        Hosted prices; default the bundled catalog.
    gpus : list of str, optional
        GPU type ids (``"h100-sxm"``) or GPU offer ids to consider for self-hosting; default
        the workload's ``self_hosting.gpus``, else every GPU with a throughput profile.
    modes : deployment modes to include.
    samples : int
        Monte Carlo samples (0 = base case only). Draws a seeded Latin hypercube over every
        distribution of the workload.
    seed : int, optional
        Seed of the sampling; the same seed repeats exactly. Stored in the result.
    price_spread : bool
        Also sample each hosted price uniformly between its cheapest and dearest source.
    sample_options : int
        Options per segment carried into sampling and sensitivity: the cheapest
        ``sample_options`` feasible ones of the base case (always including the cheapest
        hosted and the cheapest self-hosted).
    as_of : date, optional
        The day the catalog is read as of, recorded in the result (default today, UTC).
        Each month is priced with the price versions in force on its first day.
    """
    wl = workload if isinstance(workload, Workload) else load_workload(workload, catalog)
    cat = catalog if catalog is not None else load_catalog()
    day = to_date(as_of) if as_of is not None else to_date(None)
    if samples < 0:
        raise PricingError(f"samples must be 0 or more, got {samples}")
    report = progress or (lambda _label, _done: None)
    days = wl.month_starts()
    notes: list[str] = []
    _check_currency(wl)
    selfhost = self_host_data()
    uncertain = [u for u in uncertain_inputs(wl) if not isinstance(u.distribution, SourcesRange)]

    base = _Inputs(1)
    per_segment: list[_SegmentRun] = []
    for i, seg in enumerate(wl.segments):
        report(f"options for {seg.name}", i / max(len(wl.segments), 1) * 0.2)
        hosted = _hosted(seg, days, cat) if "api" in modes else []
        selfh = setups(wl, seg, selfhost, cat, gpus=gpus, modes=modes, notes=notes)
        per_segment.append(_SegmentRun(i, seg, hosted, selfh))

    option_rows: list[dict[str, Any]] = []
    monthly_rows: list[pl.DataFrame] = []
    item_rows: list[pl.DataFrame] = []
    for run in per_segment:
        costs = run.evaluate(wl, base)
        option_rows += run.option_rows(wl)
        monthly_rows.append(run.monthly_frame(wl, costs, days))
        item_rows.append(run.items_frame(costs, days))
    options = pl.DataFrame(option_rows, schema=OPTION_SCHEMA)
    monthly = pl.concat(monthly_rows) if monthly_rows else pl.DataFrame(schema=MONTHLY_SCHEMA)
    line_items = pl.concat(item_rows) if item_rows else pl.DataFrame(schema=ITEM_SCHEMA)
    cheapest = _cheapest(monthly)

    bands = prob = sens = None
    spreads = price_spread and samples > 0
    if samples > 0 or uncertain:
        chosen = {run.index: run.top(monthly, sample_options) for run in per_segment}
        dims = list(uncertain)
        if samples > 0:
            report("sampling", 0.3)
            u = latin_hypercube(samples, len(dims) + _spread_dims(per_segment, spreads), seed)
            inputs = _Inputs(samples, _sampled(dims, u))
            bands, prob = _monte_carlo(per_segment, chosen, wl, inputs, u[:, len(dims) :], days)
            report("sampling", 0.8)
        if dims:
            sens = _sensitivity(per_segment, chosen, wl, dims, monthly)
    if not uncertain and samples > 0:
        notes.append("the workload has no distributions: every sample of it is the base case")
    report("done", 1.0)
    return Simulation(
        workload=wl.name,
        currency=wl.currency,
        as_of=day,
        seed=seed,
        samples=samples,
        options=options,
        monthly=monthly,
        line_items=line_items,
        cheapest=cheapest,
        bands=bands,
        self_hosting_cheaper=prob,
        sensitivity=sens,
        notes=tuple(dict.fromkeys(notes)),
    )


def _check_currency(wl: Workload) -> None:
    if wl.currency != "USD":
        raise PricingError(
            f"workload {wl.name!r} is in {wl.currency}; simulations are in USD for now (every "
            'bundled price is in USD): set currency = "USD" and give its money inputs in USD'
        )


# --------------------------------------------------------------------------- per segment


@dataclass
class _SegmentRun:
    index: int
    segment: Segment
    hosted: list[HostedOption]
    selfhosted: list[Setup]

    @property
    def options(self) -> list[str]:
        return [o.option for o in self.hosted] + [o.option for o in self.selfhosted]

    def evaluate(
        self, wl: Workload, inputs: _Inputs, only: set[str] | None = None, spread: Any = None
    ) -> dict[str, _Costs]:
        return _evaluate(self, wl, inputs, only, spread)

    def option_rows(self, wl: Workload) -> list[dict[str, Any]]:
        rows = []
        for h in self.hosted:
            rows.append(
                {
                    "segment": self.segment.name,
                    "option": h.option,
                    "kind": "hosted",
                    "mode": "api",
                    "model": h.model,
                    "offer_id": h.offer_id,
                    "provider": h.provider,
                    "gpu": None,
                    "category": None,
                    "precision": None,
                    "source_id": next((s for s in h.source if s), None),
                }
            )
        for s in self.selfhosted:
            rows.append(
                {
                    "segment": self.segment.name,
                    "option": s.option,
                    "kind": "self-hosted",
                    "mode": s.mode,
                    "model": s.model,
                    "offer_id": s.offer_id,
                    "provider": s.provider,
                    "gpu": s.gpu,
                    "category": s.category,
                    "precision": s.precision,
                    "source_id": s.source,
                }
            )
        return rows

    def monthly_frame(
        self, wl: Workload, costs: dict[str, _Costs], days: list[date]
    ) -> pl.DataFrame:
        frames = []
        for name, c in costs.items():
            total = c.total[0]
            images = c.images[0]
            idle = c.items.get("GPU idle")
            busy_total = total - (idle[0] if idle is not None else 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                per_image = np.where(images > 0, total / images, np.nan)
                per_busy = np.where(images > 0, busy_total / images, np.nan)
            frames.append(
                pl.DataFrame(
                    {
                        "segment": [self.segment.name] * len(days),
                        "option": [name] * len(days),
                        "kind": [c.kind] * len(days),
                        "mode": [c.mode] * len(days),
                        "month": days,
                        "images": images,
                        "cost": total,
                        "cost_per_image": per_image,
                        "cost_per_image_busy": per_busy,
                        "gpus": c.gpus[0] if c.gpus is not None else [None] * len(days),
                        "utilisation": c.utilisation[0]
                        if c.utilisation is not None
                        else [None] * len(days),
                        "keys_needed": c.keys,
                        "feasible": c.feasible[0],
                        "reason": c.reasons,
                    },
                    schema=MONTHLY_SCHEMA,
                    strict=False,
                ).with_columns(
                    # an option that cannot serve the month has no cost (never 0)
                    [
                        pl.when(pl.col("feasible")).then(pl.col(n)).alias(n)
                        for n in ("cost", "cost_per_image", "cost_per_image_busy")
                    ]
                )
            )
        return pl.concat(frames) if frames else pl.DataFrame(schema=MONTHLY_SCHEMA)

    def items_frame(self, costs: dict[str, _Costs], days: list[date]) -> pl.DataFrame:
        frames = []
        for name, c in costs.items():
            for item, values in c.items.items():
                frames.append(
                    pl.DataFrame(
                        {
                            "segment": [self.segment.name] * len(days),
                            "option": [name] * len(days),
                            "month": days,
                            "item": [item] * len(days),
                            "cost": np.where(c.feasible[0], values[0], np.nan),
                        },
                        schema=ITEM_SCHEMA,
                    ).with_columns(pl.col("cost").fill_nan(None))
                )
        return pl.concat(frames) if frames else pl.DataFrame(schema=ITEM_SCHEMA)

    def top(self, monthly: pl.DataFrame, n: int) -> set[str]:
        """The ``n`` cheapest options over the horizon (feasible every month)."""
        mine = monthly.filter(pl.col("segment") == self.segment.name)
        totals = (
            mine.group_by("option", "kind")
            .agg(pl.col("cost").sum(), pl.col("feasible").all())
            .filter(pl.col("feasible"))
            .sort("cost", "option")
        )
        keep = set(totals["option"].head(n).to_list())
        for kind in ("hosted", "self-hosted"):
            best = totals.filter(pl.col("kind") == kind)["option"].head(1).to_list()
            keep.update(best)
        return keep


@dataclass
class _Costs:
    kind: str
    mode: str
    images: np.ndarray  # (samples, months)
    items: dict[str, np.ndarray]
    feasible: np.ndarray
    reasons: list[str | None]
    keys: list[int | None]
    gpus: np.ndarray | None = None
    utilisation: np.ndarray | None = None

    @property
    def total(self) -> np.ndarray:
        return np.asarray(sum(self.items.values()), dtype=np.float64)


def _evaluate(
    run: _SegmentRun,
    wl: Workload,
    inputs: _Inputs,
    only: set[str] | None,
    spread: np.ndarray | None,
) -> dict[str, _Costs]:
    """Cost arrays (samples, months) of every option of the segment under ``inputs``."""
    seg, i = run.segment, run.index
    months = wl.months
    images, target = _segment_inputs(seg, i, months, inputs)
    requests = images / seg.images_per_request
    traffic = wl.traffic_of(seg)
    traffic_path: InputPath = (
        ("segments", i, "traffic") if seg.traffic is not None else ("traffic",)
    )
    profile = traffic_profile(traffic)
    ptm = (
        inputs.get((*traffic_path, "peak_to_mean"), traffic.peak_to_mean)
        if traffic.peak_to_mean is not None
        else float(profile.max())
    )
    sh = wl.self_hosting
    out: dict[str, _Costs] = {}
    peak_rate = float(np.max(requests)) / (HOURS_PER_MONTH * 3600) * float(np.max(ptm))
    for k, h in enumerate(run.hosted):
        if only is not None and h.option not in only:
            continue
        unit_scale = None
        if spread is not None and k < spread.shape[1]:
            unit_scale = spread[:, k : k + 1]
        cost = h.costs(images)
        if unit_scale is not None:
            lo = images * h.low
            hi = images * h.high
            cost = lo + unit_scale * (hi - lo)
        feasible = np.broadcast_to(~np.isnan(h.unit), cost.shape)
        # a call stays in flight at most its p95 target (Little's law); with no target, a
        # minute, the usual client timeout of image APIs
        latency = central(seg.p95_latency_s) if seg.p95_latency_s is not None else 60.0
        keys = h.keys_needed(peak_rate, latency)
        out[h.option] = _Costs(
            kind="hosted",
            mode="api",
            images=images,
            items={"API usage": np.nan_to_num(cost)},
            feasible=feasible,
            reasons=list(h.reason),
            keys=[keys] * months,
        )
    if not run.selfhosted:
        return out
    util = inputs.get(("self_hosting", "max_utilisation"), sh.max_utilisation) if sh else 1.0
    fixed = _fixed_costs(wl, inputs)
    for s in run.selfhosted:
        if only is not None and s.option not in only:
            continue
        fleet = Fleet(service=s.service, p95_target_s=target, max_utilisation=util)
        gpu = _gpu_cost(s, wl, inputs, requests, ptm, profile, fleet)
        items = {"GPU busy": gpu.busy, "GPU idle": gpu.idle}
        reasons: list[str | None] = [None] * months
        feasible = gpu.feasible
        if s.licence is None:
            feasible = np.zeros_like(feasible)
            reasons = [s.licence_reason] * months
            items["licence"] = np.zeros_like(gpu.busy)
        else:
            items["licence"] = np.broadcast_to(_licence_cost(s, wl, inputs, images), gpu.busy.shape)
        for name, value in fixed.items():
            items[name] = np.broadcast_to(value, gpu.busy.shape)
        if not bool(gpu.feasible.all()):
            why = gpu.reason or (
                f"an idle GPU needs {s.service.quantile(0.95):.2f} s (p95 of the mix), over the "
                "latency target"
            )
            reasons = [
                r or (why if not bool(gpu.feasible[0, m]) else None) for m, r in enumerate(reasons)
            ]
        out[s.option] = _Costs(
            kind="self-hosted",
            mode=s.mode,
            images=images,
            items=items,
            feasible=feasible,
            reasons=reasons,
            keys=[None] * months,
            gpus=gpu.gpus,
            utilisation=gpu.utilisation,
        )
    return out


def _licence_cost(s: Setup, wl: Workload, inputs: _Inputs, images: np.ndarray) -> np.ndarray:
    """Monthly licence cost: fee + images beyond those included x overage price."""
    if s.licence == "free":
        return np.zeros_like(images)
    if s.licence == "workload":
        sh = wl.self_hosting
        terms = sh.licence if sh is not None else None
        if terms is None:  # pragma: no cover - Setup.licence says it is there
            raise PricingError("workload licence terms vanished")
        p = ("self_hosting", "licence")
        fee = inputs.get((*p, "monthly_fee"), terms.monthly_fee)
        included = inputs.get((*p, "included_images"), terms.included_images)
        over = inputs.get((*p, "overage_per_image"), terms.overage_per_image)
    else:
        t = s.licence_terms
        if t is None or t.monthly_fee is None:  # pragma: no cover - checked in _setups
            raise PricingError(f"no licence fee for {s.model}")
        fee = float(t.monthly_fee)
        included = float(t.included_images or 0)
        over = float(t.overage_per_image or 0)
    return np.asarray(fee + np.maximum(images - included, 0.0) * over, dtype=np.float64)


def _fixed_costs(wl: Workload, inputs: _Inputs) -> dict[str, np.ndarray | float]:
    """Operations, storage and egress per month, the same for every self-hosted option."""
    sh = wl.self_hosting
    if sh is None:
        return {}
    p = ("self_hosting",)

    def g(name: str) -> np.ndarray | float:
        return inputs.get((*p, name), getattr(sh, name))

    return {
        "operations": np.asarray(g("ops_hours_per_month") * np.asarray(g("ops_hourly_rate"))),
        "storage": np.asarray(g("storage_gb") * np.asarray(g("storage_per_gb_month"))),
        "egress": np.asarray(g("egress_gb_per_month") * np.asarray(g("egress_per_gb"))),
    }


def _gpu_cost(
    s: Setup,
    wl: Workload,
    inputs: _Inputs,
    requests: np.ndarray,
    ptm: np.ndarray | float,
    profile: np.ndarray,
    fleet: Fleet,
) -> GpuCost:
    sh = wl.self_hosting
    if s.mode in ("dedicated", "owned"):
        return dedicated(
            requests, ptm, fleet, gpu_hour=s.gpu_hour, gpus_per_instance=s.gpus_per_instance
        )
    if s.mode == "autoscaled":
        auto = sh.autoscale if sh is not None and sh.autoscale is not None else None
        return autoscaled(
            requests,
            profile,
            fleet,
            gpu_hour=s.gpu_hour,
            gpus_per_instance=s.gpus_per_instance,
            min_gpus=auto.min_gpus if auto is not None else 1,
            startup_s=central(auto.startup_s) if auto is not None else DEFAULT_STARTUP_S,
            granularity_s=s.granularity_s,
        )
    srv = sh.serverless if sh is not None and sh.serverless is not None else None
    return serverless(
        requests,
        profile,
        fleet,
        gpu_second=s.gpu_hour / 3600.0,
        cold_start_s=central(srv.cold_start_s) if srv is not None else DEFAULT_COLD_START_S,
        idle_s=central(srv.idle_s) if srv is not None else DEFAULT_IDLE_S,
    )


#: Defaults when the workload does not say (documented in the README and the workload schema).
DEFAULT_STARTUP_S = 120.0
DEFAULT_COLD_START_S = 15.0
DEFAULT_IDLE_S = 5.0  # RunPod serverless' default idle window (price-facts B2)


def _hosted(seg: Segment, days: list[date], cat: Catalog) -> list[HostedOption]:
    out = []
    for model in seg.models:
        shapes = [
            Shape(
                ImageRequest(
                    model=model,
                    operation=seg.operation,
                    width=r.width,
                    height=r.height,
                    count=seg.images_per_request,
                    quality=seg.quality,
                    steps=seg.steps,
                    input_images=seg.input_images,
                ),
                r.share,
            )
            for r in seg.resolutions
        ]
        out += hosted_options(shapes, [model], seg.operation, days, cat)
    return out


# --------------------------------------------------------------------------- frames

OPTION_SCHEMA: dict[str, Any] = {
    "segment": pl.String,
    "option": pl.String,
    "kind": pl.String,
    "mode": pl.String,
    "model": pl.String,
    "offer_id": pl.String,
    "provider": pl.String,
    "gpu": pl.String,
    "category": pl.String,
    "precision": pl.String,
    "source_id": pl.String,
}
MONTHLY_SCHEMA: dict[str, Any] = {
    "segment": pl.String,
    "option": pl.String,
    "kind": pl.String,
    "mode": pl.String,
    "month": pl.Date,
    "images": pl.Float64,
    "cost": pl.Float64,
    "cost_per_image": pl.Float64,
    "cost_per_image_busy": pl.Float64,
    "gpus": pl.Int64,
    "utilisation": pl.Float64,
    "keys_needed": pl.Int64,
    "feasible": pl.Boolean,
    "reason": pl.String,
}
ITEM_SCHEMA: dict[str, Any] = {
    "segment": pl.String,
    "option": pl.String,
    "month": pl.Date,
    "item": pl.String,
    "cost": pl.Float64,
}


def _cheapest(monthly: pl.DataFrame) -> pl.DataFrame:
    ok = monthly.filter(pl.col("feasible") & pl.col("cost").is_not_null())
    keys = ["segment", "month"]

    def best(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
        return (
            frame.sort("cost", "option")
            .group_by(keys, maintain_order=True)
            .first()
            .select(
                *keys,
                pl.col("option").alias(f"{prefix}option"),
                pl.col("cost").alias(f"{prefix}cost"),
            )
        )

    overall = best(ok, "")
    hosted = best(ok.filter(pl.col("kind") == "hosted"), "hosted_")
    selfh = best(ok.filter(pl.col("kind") == "self-hosted"), "self_hosted_")
    return overall.join(hosted, on=keys, how="left").join(selfh, on=keys, how="left").sort(keys)


# --------------------------------------------------------------------------- sampling


def _sampled(dims: list[UncertainInput], u: np.ndarray) -> dict[InputPath, np.ndarray]:
    values = {}
    for j, d in enumerate(dims):
        dist = d.distribution
        if isinstance(dist, SourcesRange):  # pragma: no cover - filtered out before
            continue
        values[d.path] = quantile(dist, u[:, j])
        if isinstance(dist, Normal) and dist.low is None and _non_negative(d.path):
            values[d.path] = np.maximum(values[d.path], 0.0)
    return values


def _non_negative(path: InputPath) -> bool:
    return path[-1] != "growth"


def _spread_dims(runs: list[_SegmentRun], spreads: bool) -> int:
    return max((len(r.hosted) for r in runs), default=0) if spreads else 0


def _monte_carlo(
    runs: list[_SegmentRun],
    chosen: dict[int, set[str]],
    wl: Workload,
    inputs: _Inputs,
    spread_u: np.ndarray,
    days: list[date],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    band_frames = []
    prob_frames = []
    qs = np.array([0.1, 0.5, 0.9])
    for run in runs:
        costs = run.evaluate(wl, inputs, chosen[run.index], spread_u if spread_u.size else None)
        best_hosted = np.full((inputs.samples, wl.months), np.inf)
        best_self = np.full((inputs.samples, wl.months), np.inf)
        for name, c in costs.items():
            total = np.where(c.feasible, c.total, np.nan)
            p10, p50, p90 = (
                np.nanquantile(total, qs, axis=0)
                if not np.isnan(total).all()
                else (np.full(wl.months, np.nan),) * 3
            )
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
                        "mean": np.nanmean(total, axis=0) if not np.isnan(total).all() else np.nan,
                    }
                )
            )
            filled = np.where(np.isnan(total), np.inf, total)
            if c.kind == "hosted":
                best_hosted = np.minimum(best_hosted, filled)
            else:
                best_self = np.minimum(best_self, filled)
        prob_frames.append(
            pl.DataFrame(
                {
                    "segment": run.segment.name,
                    "month": days,
                    "probability": (best_self < best_hosted).mean(axis=0),
                }
            )
        )
    bands = pl.concat(band_frames).with_columns(pl.col("p10", "p50", "p90", "mean").fill_nan(None))
    return bands, pl.concat(prob_frames)


def _sensitivity(
    runs: list[_SegmentRun],
    chosen: dict[int, set[str]],
    wl: Workload,
    dims: list[UncertainInput],
    monthly: pl.DataFrame,
) -> pl.DataFrame:
    """Horizon cost with each input at its P10 and its P90, the others at their centres."""
    rows = 2 * len(dims)
    values: dict[InputPath, np.ndarray] = {}
    for j, d in enumerate(dims):
        dist = d.distribution
        if isinstance(dist, SourcesRange):  # pragma: no cover - filtered out before
            continue
        column = np.full(rows, central(dist))
        lo, hi = p10_p90(dist)
        column[2 * j], column[2 * j + 1] = lo, hi
        values[d.path] = column
    inputs = _Inputs(rows, values)
    lows, highs = p10_p90_values(dims)
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
        costs = run.evaluate(wl, inputs, chosen[run.index])
        own = np.array([_concerns(d.path, run.index) for d in dims])
        for name, c in costs.items():
            total = np.where(c.feasible, c.total, np.nan).sum(axis=1)
            base_total = base_totals[(run.segment.name, name)]
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
                        "base_cost": base_total,
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


def p10_p90_values(dims: list[UncertainInput]) -> tuple[list[float], list[float]]:
    lows, highs = [], []
    for d in dims:
        dist = d.distribution
        if isinstance(dist, SourcesRange):  # pragma: no cover - filtered out before
            lows.append(math.nan)
            highs.append(math.nan)
            continue
        lo, hi = p10_p90(dist)
        lows.append(lo)
        highs.append(hi)
    return lows, highs

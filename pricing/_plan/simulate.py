"""Simulate a workload on every hosted offer and self-hosted set-up, month by month.

``simulate(workload)`` answers the product's central question: for this mix of image work,
which options are cheapest each month, by how much, and how sure are we. Each segment of the
workload is priced on

* every hosted offer serving one of its acceptable models (exact ``quote()`` prices by month,
  see :mod:`pricing._plan.hosted`), and
* every self-hosted set-up: an open-weights model on a GPU offer (or owned hardware) where a
  throughput profile exists and the model fits in memory, as a dedicated, autoscaled or
  serverless fleet, or a provider's per-second deployment (see :mod:`pricing._selfhost.gpu_cost`),
  plus licence, operations, storage and egress.

Every cost is computed as numpy arrays over (samples, months): the base case is one sample
with every uncertain input at its centre; a Monte Carlo run draws a seeded Latin hypercube
over every distribution in the workload (and, with ``price_spread=True`` or the workload's
``prices = { dist = "sources" }``, over the range of disagreeing sources of each hosted price
and GPU hourly price) and evaluates all samples at once.

Modules: :mod:`pricing._plan.option_costs` (the cost arrays of each option),
:mod:`pricing._plan.monte_carlo` (bands and sensitivity), :mod:`pricing._plan.frames`
(the tidy frames).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl

from pricing._base.dates import to_date
from pricing._base.progress import Progress
from pricing._cards.catalog import Catalog
from pricing._dataset import DataSet, load_data_set, pick_catalog
from pricing._evidence.grades import TrustPolicy
from pricing._evidence.trust import trusted
from pricing._fx.convert import Conversion
from pricing._plan.fleets import shared_fleets
from pricing._plan.frames import (
    ITEM_SCHEMA,
    MONTHLY_SCHEMA,
    OPTION_SCHEMA,
    SEGMENT_SCHEMA,
    cheapest,
    items_frame,
    monthly_frame,
    option_rows,
    segments_frame,
    top_options,
)
from pricing._plan.fx import FX_SCHEMA, FxPlan, fx_plan
from pricing._plan.hosted import (
    HostedOption,
    Shape,
    hosted_options,
    segment_request,
)
from pricing._plan.inputs import Inputs
from pricing._plan.leads import LEAD_SCHEMA, lead_frame
from pricing._plan.monte_carlo import monte_carlo, sample_inputs, sensitivity
from pricing._plan.notes import deployment_note, none_can_serve, sharing_note, why_no_self
from pricing._plan.option_costs import SegmentRun, evaluate
from pricing._selfhost.setups import DeploymentMode, GpuTrust, setups
from pricing._selfhost.terms import HOSTING_FIELDS, HostingTerms
from pricing._workloads.distributions import latin_hypercube
from pricing._workloads.inputs import uncertain_inputs
from pricing._workloads.load import load_workload
from pricing._workloads.model import Segment, Workload
from pricing.errors import PricingError

Mode = Literal["api", DeploymentMode]
NO_SELF_SCHEMA = {"segment": pl.String, "reason": pl.String}


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`: tidy polars frames plus what produced them.

    Attributes
    ----------
    options : DataFrame
        One row per (segment, option): kind (hosted / self-hosted), mode, model, offer, GPU,
        provider, category, price version and source; ``shared_with``: the other segments
        whose requests the option's fleet also serves (null: its own fleet).
    monthly : DataFrame
        One row per (segment, option, month), base case: ``images``, ``cost`` [currency],
        ``cost_per_image`` and ``cost_per_image_busy`` (without idle GPU time) [currency/image],
        ``gpus`` (at the month's peak), ``utilisation``, ``keys_needed`` (hosted rate
        limits), ``feasible`` and ``reason`` (why an option cannot serve the month; its cost
        is then null, never 0).
    line_items : DataFrame
        (segment, option, month, item, cost, allocation): API usage, GPU busy, GPU idle,
        GPU spare (redundancy), licence, operations, storage, egress. ``allocation`` says how
        a shared cost was split: a fleet shared with other segments (by busy GPU time), or
        the workload's fixed costs (by images); null for a cost the segment bears alone.
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
        A workload exchange rate given as a distribution is such an input (``fx: EURUSD``).
    currency : str
        ISO 4217 code of every figure; the frames of money also carry it in a ``currency``
        column.
    fx : DataFrame
        One row per (currency, month) converted into ``currency``: ``rate`` [to/from] of the
        base case, ``kind`` (published, user, planning), ``day`` of the ECB rate (null for
        yours and the workload's), ``source``, ``sampled`` (a workload distribution the Monte
        Carlo draws) and ``text`` (the rate in words). Empty when nothing was converted.
    conversions : tuple of Conversion
        The same conversions as objects (``describe()``, ``as_dict()``).
    evidence : str
        The trust policy the hosted prices were chosen under, in words.
    no_self_hosting : DataFrame
        segment, reason: the segments with no self-hosted option at all, and why (closed
        weights, no throughput profile for their sizes, no trusted GPU offer...). Their
        ``self_hosting_cheaper`` is null, never 0.
    leads : DataFrame
        Hosted offers of the workload's models that the trust policy left without a price,
        priced anyway as unverified leads (never an answer): segment, option, offer_id,
        provider, model, grade, flags, reason, month (the first month the offer can price),
        images, cost_per_image [currency/image] and cost [currency] for that month.
    segments : DataFrame
        What was resolved per segment: the main request (operation, width, height,
        images_per_request, input_images, quality, steps) and the hosting terms
        (p95_latency_s [s], peak_to_mean, max_utilisation, licence_per_month and
        ops_per_month [currency/month]), each uncertain input at its centre; money stated in
        another currency by the workload is converted at the first month's rate.
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
    segments: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SEGMENT_SCHEMA))
    evidence: str = ""
    leads: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LEAD_SCHEMA))
    no_self_hosting: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=NO_SELF_SCHEMA)
    )
    fx: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FX_SCHEMA))
    conversions: tuple[Conversion, ...] = ()
    #: the rates themselves, for a break-even beside the simulation (its first month's)
    rates: FxPlan | None = field(default=None, repr=False, compare=False)
    #: (segment, option) -> numpy array of its cost [currency] per sample (rows) and month
    #: (columns), NaN where it cannot serve, for the options sampled; {} without samples
    draws: Mapping[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)

    def self_hosting_reason(self, segment: str) -> str | None:
        """Why ``segment`` has no self-hosted option (None: it has at least one)."""
        rows = self.no_self_hosting.filter(pl.col("segment") == segment)
        return str(rows["reason"][0]) if rows.height else None

    def hosting_terms(self, segment: str) -> HostingTerms:
        """The hosting terms the simulation used for ``segment``."""
        rows = self.segments.filter(pl.col("segment") == segment)
        if rows.height == 0:
            known = ", ".join(self.segments["segment"].to_list())
            raise PricingError(f"no segment {segment!r} in the simulation; known: {known}")
        row = rows.row(0, named=True)
        return HostingTerms(**{k: row[k] for k in HOSTING_FIELDS})


# --------------------------------------------------------------------------- simulate


def simulate(
    workload: Workload | str | Path,
    catalog: Catalog | None = None,
    *,
    gpus: Sequence[str] | None = None,
    modes: Sequence[Mode] = (
        "api",
        "dedicated",
        "autoscaled",
        "serverless",
        "deployment",
        "owned",
    ),
    samples: int = 0,
    seed: int | None = None,
    price_spread: bool | None = None,
    sample_options: int = 20,
    as_of: date | str | None = None,
    progress: Progress | None = None,
    data: DataSet | None = None,
    evidence: TrustPolicy | str | None = None,
    currency: str | None = None,
    fx: Iterable[str] | Mapping[str, object] | None = None,
    max_fx_age_days: int = 7,
) -> Simulation:
    """Monthly cost of a workload on every hosted and self-hosted option, in one currency.

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
    price_spread : bool, optional
        Also sample prices where sources disagree: each hosted price [currency/image] and
        each GPU offer's hourly price [currency/GPU-h] uniformly between its cheapest and
        dearest source (one draw per offer, shared by the segments and deployment modes that
        use it). Default: as the workload's ``prices`` says (``{ dist = "sources" }`` = yes).
        The base case always uses each offer's preferred (hosted) or newest (GPU) figure.
    sample_options : int
        Options per segment carried into sampling and sensitivity: the cheapest
        ``sample_options`` feasible ones of the base case (always including the cheapest
        hosted and the cheapest self-hosted).
    as_of : date, optional
        The day the catalog is read as of, recorded in the result (default today, UTC).
        Each month is priced with the price versions in force on its first day.
    progress : callable, optional
        Called as ``progress(done, total, label)`` as the work advances; ``done`` of
        ``total = 100`` is the percentage finished [%], ``label`` the step under way.
    data : DataSet, optional
        The data set GPU offers, throughput, licences, workload names and (without
        ``catalog``) prices come from (default: the bundled ``data/``).
    evidence : TrustPolicy or str, optional
        Which hosted prices may set the answer (default: the workload's ``evidence``, else
        official, provider and third-party prices with no excluding flag). Offers left
        without a price are in ``leads``, priced anyway, with the reason.
    currency : str, optional
        ISO 4217 code of every figure of the result (default: the workload's ``currency``).
        Catalog prices (USD) and the workload's money inputs (its currency) are converted on
        the first day of each month: a rate in ``fx``, else the ECB reference rate of that
        day, else (a month after the data's last day) a planning rate, an assumption: the
        workload's ``fx`` table for the pair, else the latest ECB rate. The result's ``fx``
        and ``conversions`` state each rate, its day and source.
    fx : list of ``"EURUSD=1.08"`` or mapping, optional
        Your rates, used on every day instead of the ECB's (source ``user``).
    max_fx_age_days : int  [days]
        Oldest ECB rate accepted for a month within the data (7 bridges weekends).
    """
    cat = pick_catalog(catalog, data)
    selfhost = data if data is not None else load_data_set()
    wl = workload if isinstance(workload, Workload) else load_workload(workload, cat, data=data)
    day = to_date(as_of) if as_of is not None else to_date(None)
    if samples < 0:
        raise PricingError(f"samples must be 0 or more, got {samples}")
    report = _percent(progress)
    days = wl.month_starts()
    notes: list[str] = []
    rates = fx_plan(currency or wl.currency, days, fx=selfhost.fx, overrides=fx,
                    max_age_days=max_fx_age_days, workload=wl.fx)  # fmt: skip
    policy = TrustPolicy.parse(evidence if evidence is not None else wl.evidence)
    trust = trusted(cat, policy, day)
    gpu_trusts = {seg.name: GpuTrust(policy, day) for seg in wl.segments}
    no_self: dict[str, str] = {}
    runs = []
    for i, seg in enumerate(wl.segments):
        report(f"options for {seg.name}", i / max(len(wl.segments), 1) * 0.2)
        hosted = _hosted(seg, days, trust.catalog, policy, wl, notes) if "api" in modes else []
        trust_gpu = gpu_trusts[seg.name]
        selfh = setups(wl, seg, selfhost, cat, gpus=gpus, modes=modes, notes=notes, trust=trust_gpu)
        if not selfh:
            no_self[seg.name] = why_no_self(wl, seg, selfhost, cat, modes, gpus)
        runs.append(SegmentRun(i, seg, hosted, selfh, fx=rates))
    _share_fleets(runs)

    options, monthly, items = _base_case(runs, wl, days)
    no_self.update(none_can_serve(runs, monthly))
    notes += sharing_note(wl, runs) + deployment_note(wl, runs)
    leads = lead_frame(runs, trust, days, monthly, gpu_trusts, hosted="api" in modes, fx=rates)
    spread = price_spread if price_spread is not None else wl.prices is not None
    how = _Sampling(samples, seed, spread, sample_options)
    bands, prob, sens, draws = _uncertainty(runs, wl, days, monthly, how, notes, report)
    report("done", 1.0)
    return _result(
        rates,
        Simulation(
            workload=wl.name,
            currency=rates.target,
            as_of=day,
            seed=seed,
            samples=samples,
            options=options,
            monthly=monthly,
            line_items=items,
            cheapest=cheapest(monthly),
            bands=bands,
            self_hosting_cheaper=prob,
            sensitivity=sens,
            draws=draws,
            notes=tuple(notes),
            segments=segments_frame(wl, rates.base(wl.currency) if wl.self_hosting else 1.0),
            evidence=f"{policy.name} evidence policy: {policy.describe()}",
            leads=leads,
            no_self_hosting=pl.DataFrame(
                list(no_self.items()), schema=NO_SELF_SCHEMA, orient="row"
            ),
        ),
    )


def _share_fleets(runs: list[SegmentRun]) -> None:
    """Give each run the segments its self-hosted fleets are shared with."""
    shared = shared_fleets([(run.index, run.segment, run.selfhosted) for run in runs])
    for run in runs:
        run.shared = {s.option: shared[s.option] for s in run.selfhosted if s.option in shared}


def _result(rates: FxPlan, sim: Simulation) -> Simulation:
    """``sim`` with its currency in a ``currency`` column of every frame of money, the
    conversions it made, and a note for each workload rate no month used."""
    notes = list(sim.notes)
    for pair in rates.unused():
        notes.append(
            f"the workload's exchange rate {pair} was not used: no month needed a planning "
            "rate it gives (a --fx rate or a published ECB rate applied, or no amount is in "
            "those currencies)"
        )

    def tag(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(currency=pl.lit(sim.currency, pl.String))

    return replace(
        sim,
        monthly=tag(sim.monthly),
        line_items=tag(sim.line_items),
        cheapest=tag(sim.cheapest),
        bands=None if sim.bands is None else tag(sim.bands),
        sensitivity=None if sim.sensitivity is None else tag(sim.sensitivity),
        segments=tag(sim.segments),
        leads=tag(sim.leads),
        notes=tuple(dict.fromkeys(notes)),
        fx=rates.frame(),
        conversions=tuple(rates.conversions()),
        rates=rates,
    )


def _base_case(
    runs: list[SegmentRun], wl: Workload, days: list[date]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The options, monthly costs and line items of every segment, each input at its centre."""
    rows: list[dict[str, Any]] = []
    monthly_frames: list[pl.DataFrame] = []
    item_frames: list[pl.DataFrame] = []
    for run in runs:
        costs = evaluate(run, wl, Inputs(1))
        rows += option_rows(run)
        monthly_frames.append(monthly_frame(run, costs, days))
        item_frames.append(items_frame(run, costs, days))
    monthly = pl.concat(monthly_frames) if monthly_frames else pl.DataFrame(schema=MONTHLY_SCHEMA)
    items = pl.concat(item_frames) if item_frames else pl.DataFrame(schema=ITEM_SCHEMA)
    return pl.DataFrame(rows, schema=OPTION_SCHEMA), monthly, items


@dataclass(frozen=True)
class _Sampling:
    """How to sample: ``samples`` draws with ``seed``; ``spread`` also samples prices across
    their sources; ``options`` cheapest options per segment are carried into sampling."""

    samples: int
    seed: int | None
    spread: bool
    options: int


Bands = tuple[
    pl.DataFrame | None, pl.DataFrame | None, pl.DataFrame | None, dict[tuple[str, str], Any]
]


def _uncertainty(
    runs: list[SegmentRun],
    wl: Workload,
    days: list[date],
    monthly: pl.DataFrame,
    how: _Sampling,
    notes: list[str],
    report: Callable[[str, float], None],
) -> Bands:
    """Monte Carlo bands, P(self-hosting is cheaper) and sensitivities (each None if not
    asked for or not defined); appends to ``notes`` what sampling could not change."""
    dims = uncertain_inputs(wl)
    bands = prob = sens = None
    draws: dict[tuple[str, str], Any] = {}
    if how.samples > 0 or dims:
        chosen = {run.index: top_options(run, monthly, how.options) for run in runs}
        if how.samples > 0:
            report("sampling", 0.3)
            keys = _spread_keys(runs, chosen) if how.spread else []
            if how.spread and not keys:
                notes.append(
                    "no sampled option has disagreeing sources: price spreads change nothing"
                )
            u = latin_hypercube(how.samples, len(dims) + len(keys), how.seed)
            inputs = sample_inputs(dims, keys, u)
            bands, prob, draws = monte_carlo(runs, chosen, wl, inputs, days)
            report("sampling", 0.8)
        if dims:
            sens = sensitivity(runs, chosen, wl, dims, monthly)
    if not dims and how.samples > 0 and not how.spread:
        notes.append("the workload has no distributions: every sample of it is the base case")
    return bands, prob, sens, draws


def _spread_keys(runs: list[SegmentRun], chosen: dict[int, set[str]]) -> list[str]:
    """Prices sampled across their sources: one per offer, in a fixed (sorted) order."""
    keys: set[str] = set()
    for run in runs:
        keys |= run.spread_keys(chosen[run.index])
    return sorted(keys)


def _hosted(
    seg: Segment,
    days: list[date],
    cat: Catalog,
    policy: TrustPolicy,
    wl: Workload,
    notes: list[str],
) -> list[HostedOption]:
    """The segment's hosted options; hardware-time offers and (unless the workload allows
    them) subscriptions are left out, with a note naming them."""
    kinds = ("api", "subscription") if wl.subscriptions else ("api",)
    left: dict[str, list[str]] = {}
    for m in seg.models:
        for o in cat.offers(model=m, operation=seg.operation) if m in cat.models else []:
            if o.kind not in kinds:
                left.setdefault(o.kind, []).append(o.id)
    for kind, ids in sorted(left.items()):
        shown = ", ".join(sorted(ids)[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        why = (
            "they bill seconds of a named GPU, bought as a private deployment that also bills "
            "set-up and idle time; the same hardware is priced as deployment options through "
            "its GPU offers (e.g. deployment:replicate/1x-h100-sxm-deployment:<model>), with "
            "the workload's self_hosting.deployment terms"
            if kind == "hardware-time"
            else "a plan's images are made in its app; set `subscriptions = true` to include them"
        )
        notes.append(f"{seg.name}: {len(ids)} {kind} offer(s) left out of the hosted options "
                     f"({shown}): {why}")  # fmt: skip
    out = []
    for model in seg.models:
        shapes = [
            Shape(
                segment_request(seg, model, r),
                r.share,
            )
            for r in seg.resolutions
        ]
        out += hosted_options(shapes, [model], seg.operation, days, cat, policy, kinds=kinds)
    return out


def _percent(progress: Progress | None) -> Callable[[str, float], None]:
    """Report a fraction of the simulation as ``progress(percent, 100, label)``."""

    def report(label: str, fraction: float) -> None:
        if progress is not None:
            progress(round(fraction * 100), 100, label)

    return report

"""The workload file's model: segments, traffic, self-hosting assumptions and their numbers.

Numeric inputs a team is unsure about are typed ``Number``: a plain number or a distribution
(``pricing._workloads.distributions``), each checked against its allowed range (every value the
distribution can take must lie in it). :func:`central` gives the value of the base case.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from pricing._cards.fields import Currency, Id, Operation, Size, Strict
from pricing._evidence.grades import TrustPolicy
from pricing._gpus.offers import GpuCategory
from pricing._gpus.profiles import Precision
from pricing._workloads.distributions import (
    LogNormal,
    Normal,
    Number,
    SourcesRange,
    Triangular,
    Uniform,
)
from pricing._workloads.distributions import central as distribution_centre
from pricing._workloads.problems import DIST_KINDS, invalid, located
from pricing.errors import PricingError

# Why `{ dist = "sources" }` fits no workload number, and where it does fit.
_SOURCES_ONLY = (
    '{ dist = "sources" } only applies to prices in data/ (hosted and GPU prices, where '
    "disagreeing sources span a range); workload numbers are your own assumptions, which no "
    "source gives, so they have no range of sources to draw from"
)
_SOURCES_FIX = (
    f"give a number or a distribution ({DIST_KINDS}); to sample hosted and GPU prices over "
    'their sources, write `prices = { dist = "sources" }` at the top of the workload'
)


#: A key of a workload's `fx` table: two ISO 4217 codes, FROM then TO (``EURUSD``).
_FX_PAIR = re.compile(r"^[A-Z]{3}[A-Z]{3}$")


# --------------------------------------------------------------------------- numbers


def central(x: Number) -> float:
    """Base value of a number: itself, or the distribution's centre.

    See :func:`pricing._workloads.distributions.central`. ``{dist = "sources"}`` has no centre
    of its own: it only applies to the prices in ``data/`` (see ``Workload.prices``).
    """
    if isinstance(x, SourcesRange):
        raise PricingError(f"{_SOURCES_ONLY}; {_SOURCES_FIX}")
    return distribution_centre(x)


def _span(x: Number) -> tuple[float, float]:
    """Lowest and highest value a number can take (the centre where a tail is unbounded)."""
    if isinstance(x, Uniform | Triangular):
        return x.low, x.high
    if isinstance(x, Normal):
        mid = central(x)
        return (mid if x.low is None else x.low), (mid if x.high is None else x.high)
    if isinstance(x, LogNormal):
        if x.sigma == 0:
            return x.median, x.median
        return math.ulp(0.0), math.inf  # positive, unbounded above
    value = central(x)
    return value, value


def _bounded(low: float, high: float = math.inf, *, open_low: bool = False) -> AfterValidator:
    """Check that a number (or every value of its distribution) lies in the given range."""
    need = f"{'above' if open_low else 'at least'} {low:g}"
    if high < math.inf:
        need += f" and at most {high:g}"

    def check(x: Number) -> Number:
        if isinstance(x, SourcesRange):
            raise invalid(_SOURCES_ONLY, _SOURCES_FIX)
        lo, hi = _span(x)
        ok_low = lo > low if open_low else lo >= low
        if not (ok_low and hi <= high):
            got = f"{lo:g}" if lo == hi else f"values from {lo:g} to {hi:g}"
            raise invalid(f"must be {need} (got {got})", f"make it {need}")
        return x

    return AfterValidator(check)


NonNegative = Annotated[Number, _bounded(0)]
Positive = Annotated[Number, _bounded(0, open_low=True)]
Growth = Annotated[Number, _bounded(-1, open_low=True)]
Utilisation = Annotated[Number, _bounded(0, 1, open_low=True)]
PeakRatio = Annotated[Number, _bounded(1, 24)]


# --------------------------------------------------------------------------- models


class Traffic(Strict):
    """How requests spread over the week: an hourly curve with weekday factors, or a ratio."""

    hourly: list[float] | None = Field(
        default=None,
        min_length=24,
        max_length=24,
        description="relative request rate per UTC hour 0..23 [-]; need not sum to 1",
    )
    weekday: list[float] | None = Field(
        default=None,
        min_length=7,
        max_length=7,
        description="multiplier per weekday, Monday..Sunday [-]; default all 1",
    )
    peak_to_mean: PeakRatio | None = Field(
        default=None,
        description="peak hour's request rate / the month's mean rate [-]; instead of `hourly`",
    )

    @field_validator("hourly", "weekday")
    @classmethod
    def _weights(cls, values: list[float] | None) -> list[float] | None:
        if values is None:
            return values
        negative = [i for i, v in enumerate(values) if not v >= 0]
        if negative:
            raise invalid(
                f"weights must be >= 0; position(s) {negative} are not",
                "use 0 for hours or days without traffic",
            )
        if not sum(values) > 0:
            raise invalid("weights sum to 0", "give at least one positive weight")
        return values

    @model_validator(mode="after")
    def _one_shape(self) -> Traffic:
        if (self.hourly is None) == (self.peak_to_mean is None):
            raise invalid(
                "give either `hourly` (+ optional `weekday`) or `peak_to_mean`",
                "keep exactly one of `hourly` and `peak_to_mean`",
            )
        if self.weekday is not None and self.hourly is None:
            raise invalid("`weekday` needs `hourly`", "add `hourly` or remove `weekday`")
        return self


class Resolution(Strict):
    """One output size and the share of the segment's images made at it."""

    width: int = Field(gt=0, le=16384, description="[px]")
    height: int = Field(gt=0, le=16384, description="[px]")
    share: float = Field(gt=0, le=1, description="fraction of the segment's images [-]")


class Volume(Strict):
    """Images per month: ``base`` growing by ``growth`` each month, or an explicit ``series``."""

    base: NonNegative | None = Field(default=None, description="images in the first month [images]")
    growth: Growth | None = Field(
        default=None, description="compound growth per month [-], e.g. 0.03 = +3%/month"
    )
    series: list[NonNegative] | None = Field(
        default=None, min_length=1, description="images in each month, one per month [images]"
    )

    @model_validator(mode="after")
    def _one_form(self) -> Volume:
        if (self.base is None) == (self.series is None):
            raise invalid(
                "give either `base` (with optional `growth`) or `series`",
                "write volume = { base = 200000, growth = 0.03 } or volume = { series = [...] }",
            )
        if self.growth is not None and self.series is not None:
            raise invalid("`growth` applies to `base` only", "remove `growth` or use `base`")
        return self


class Segment(Strict):
    """One kind of request: operation, acceptable models, sizes, volume and latency target."""

    name: str = Field(min_length=1)
    operation: Operation
    models: list[Id] = Field(min_length=1, description="acceptable model ids (data/models.toml)")
    volume: Volume
    images_per_request: int = Field(default=1, gt=0, description="[images/request]")
    resolutions: list[Resolution] = Field(min_length=1)
    steps: int | None = Field(
        default=None, gt=0, description="sampling steps; None = each model's default"
    )
    model_steps: dict[Id, Annotated[int, Field(gt=0)]] = Field(
        default_factory=dict,
        description="sampling steps of particular models, replacing `steps` for them (e.g. "
        '{ "flux-2-dev" = 50 } beside distilled models run at 4); models the segment does not '
        "list are ignored",
    )
    input_images: int = Field(
        default=0,
        ge=0,
        description="reference images per request; an edit that states none is priced with "
        "one of the output's size",
    )
    input_size: Size | None = Field(
        default=None, description="WIDTHxHEIGHT of each reference image; default the output's"
    )
    quality: str | None = Field(
        default=None,
        description="quality level: an offer's own word or a neutral one (low, medium, high, max)",
    )
    p95_latency_s: Positive | None = Field(
        default=None, description="95th-percentile latency target [s]; None = no target"
    )
    traffic: Traffic | None = Field(default=None, description="replaces the workload's traffic")

    @field_validator("models")
    @classmethod
    def _unique_models(cls, models: list[str]) -> list[str]:
        twice = sorted({m for m in models if models.count(m) > 1})
        if twice:
            raise invalid(f"models listed twice: {twice}", "list each model once")
        return models

    def steps_for(self, model: str) -> int | None:
        """The steps ``model`` runs at in this segment (None: the model's default)."""
        return self.model_steps.get(model, self.steps)

    @field_validator("resolutions")
    @classmethod
    def _shares(cls, resolutions: list[Resolution]) -> list[Resolution]:
        total = math.fsum(r.share for r in resolutions)
        if abs(total - 1) > 1e-9:
            raise invalid(
                f"shares sum to {total:.10g}, not 1",
                "adjust the `share` values of the resolutions so they add up to 1",
            )
        sizes = [(r.width, r.height) for r in resolutions]
        twice = sorted({f"{w}x{h}" for w, h in sizes if sizes.count((w, h)) > 1})
        if twice:
            raise invalid(f"sizes listed twice: {twice}", "merge them into one entry")
        return resolutions


class Autoscale(Strict):
    """An autoscaled fleet follows the daily curve between ``min_gpus`` and ``max_gpus``."""

    min_gpus: int = Field(default=1, ge=0, description="[GPUs] kept running at all times")
    max_gpus: int | None = Field(default=None, gt=0, description="[GPUs]; None = no cap")
    startup_s: NonNegative = Field(
        default=120.0, description="time from scale-up decision to serving [s]"
    )


class Serverless(Strict):
    """Per-second serverless workers: billed for cold starts and idle time kept warm."""

    cold_start_s: NonNegative = Field(default=15.0, description="[s] per cold start")
    idle_s: NonNegative = Field(default=5.0, description="[s] billed idle after each request")


class Deployment(Strict):
    """A provider-managed deployment of your own model on per-second hardware (Replicate):
    every second an instance is online is billed, set-up and idle included."""

    min_instances: int = Field(
        default=0, ge=0, le=64, description="instances kept online at all times (0 = scale to zero)"
    )
    setup_s: NonNegative = Field(
        default=15.0, description="[s] billed set-up of each new instance (loading the weights)"
    )
    idle_s: NonNegative = Field(
        default=180.0,
        description="[s] an instance stays online, billed, after its last request before "
        "scaling down (Replicate: 'a few minutes')",
    )


class Licence(Strict):
    """The team's own licence terms for the model weights (in the workload's currency)."""

    monthly_fee: NonNegative = Field(default=0.0, description="[currency/month]")
    included_images: NonNegative = Field(default=0.0, description="[images/month] in the fee")
    overage_per_image: NonNegative = Field(default=0.0, description="[currency/image] beyond")


class SelfHosting(Strict):
    """The team's assumptions for serving open-weights models on its own GPUs."""

    gpus: list[Id] | None = Field(default=None, description="GPU type ids to consider; None = all")
    categories: list[GpuCategory] | None = Field(
        default=None, description="pricing categories to consider; None = all"
    )
    max_utilisation: Utilisation = Field(
        default=0.8, description="highest busy fraction a GPU is planned at [-]"
    )
    autoscale: Autoscale | None = None
    serverless: Serverless | None = None
    deployment: Deployment | None = None
    redundancy: int = Field(
        default=0,
        ge=0,
        le=16,
        description="spare instances every dedicated, autoscaled or owned fleet keeps running "
        "beyond what its traffic needs (1 = N+1), billed all month [instances]",
    )
    ops_hours_per_month: NonNegative = Field(default=0.0, description="[h/month] of engineers")
    ops_hourly_rate: NonNegative = Field(default=0.0, description="[currency/h]")
    storage_gb: NonNegative = Field(default=0.0, description="weights, images, caches [GB]")
    storage_per_gb_month: NonNegative = Field(default=0.0, description="[currency/GB/month]")
    egress_gb_per_month: NonNegative = Field(default=0.0, description="[GB/month]")
    egress_per_gb: NonNegative = Field(default=0.0, description="[currency/GB]")
    licence: Licence | None = None
    precisions: list[Precision] = Field(
        default_factory=list,
        description="quantised precisions the team accepts (e.g. fp8-compiled); by default "
        "only the published weights' lossless precisions are simulated",
    )
    owned_hosting_per_month: NonNegative | None = Field(
        default=None,
        description="rack space, power delivery and hosting per owned GPU [currency/month]; "
        "owned hardware is only simulated when this is given (no source states it)",
    )


class Workload(Strict):
    """``data/workloads/<name>.toml``: the image work a team will run, month by month."""

    name: str = Field(min_length=1)
    description: str | None = None
    currency: Currency = Field(
        default="USD",
        description="currency of the workload's money inputs (ISO 4217); simulations report in "
        "it unless asked for another, converting the catalog's prices (USD) at ECB rates",
    )
    start: date = Field(description="first month; the 1st of a month")
    months: int = Field(gt=0, le=120, description="horizon [months]")
    traffic: Traffic = Field(description="default traffic shape of the segments")
    segments: list[Segment] = Field(min_length=1)
    self_hosting: SelfHosting | None = None
    prices: SourcesRange | None = Field(
        default=None,
        description='{ dist = "sources" }: with samples, draw every hosted price and GPU hourly '
        "price uniformly between its cheapest and dearest source (as simulate(price_spread=True)"
        " does); absent: each price is its preferred source's figure",
    )

    evidence: str = Field(
        default="default",
        description="which prices may set this workload's answers: `default` (official, "
        "provider and third-party prices with no excluding flag), `official`, `provider`, "
        "`all`, or grades separated by commas (`official,third-party`; add `+flagged` to "
        "let flagged prices in). Excluded prices are listed as unverified leads.",
    )

    subscriptions: bool = Field(
        default=False,
        description="let subscription plans with no API (Midjourney) be options: a plan's "
        "images are made by hand in its app, not by your service",
    )

    fx: dict[str, Positive] = Field(
        default_factory=dict,
        description="planning exchange rates, FROMTO = units of TO per 1 FROM: EURUSD = 1.08 "
        '(1 EUR = 1.08 USD) or a distribution, e.g. EURUSD = { dist = "triangular", low = '
        "1.02, mode = 1.08, high = 1.15 }. Used for the months after the last published ECB "
        "rate instead of that latest rate (a rate given with --fx wins over both); a "
        "distribution is sampled in the Monte Carlo, one rate per sample",
    )

    @field_validator("fx")
    @classmethod
    def _fx_pairs(cls, fx: dict[str, Number]) -> dict[str, Number]:
        for pair, value in fx.items():
            if not _FX_PAIR.match(pair) or pair[:3] == pair[3:]:
                raise invalid(
                    f"exchange rate {pair!r} is not a pair of two ISO 4217 codes",
                    "write it as FROMTO = rate in capitals, e.g. EURUSD = 1.08 (1 EUR = 1.08 USD)",
                )
            if pair[3:] + pair[:3] in fx:
                raise invalid(
                    f"exchange rates {pair} and {pair[3:] + pair[:3]} are both given (one is "
                    "the inverse of the other)",
                    "keep one of them",
                )
            if isinstance(value, Normal) and value.low is None:
                raise invalid(
                    f"exchange rate {pair} is a normal distribution without `low`: it could "
                    "draw a rate of 0 or below",
                    "add low = <lowest rate>, above 0, or use a triangular or lognormal one",
                )
        return fx

    @field_validator("evidence")
    @classmethod
    def _known_policy(cls, evidence: str) -> str:
        try:
            TrustPolicy.parse(evidence)
        except PricingError as exc:
            raise invalid(str(exc), 'write evidence = "default" or remove it') from None
        return evidence

    @field_validator("prices", mode="before")
    @classmethod
    def _sources_only(cls, prices: object) -> object:
        if not (
            prices is None or isinstance(prices, SourcesRange) or prices == {"dist": "sources"}
        ):
            raise invalid(
                f'`prices` takes only {{ dist = "sources" }} (got {prices!r}): it says whether '
                "catalog prices are sampled across their sources, it is not a number",
                'write prices = { dist = "sources" }, or remove `prices` to use each price\'s '
                "preferred source",
            )
        return prices

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, start: date) -> date:
        if start.day != 1:
            raise invalid(
                f"{start} is not the 1st of a month",
                f"use {start.replace(day=1)} (months start on the 1st)",
            )
        return start

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        errors = []
        seen: dict[str, int] = {}
        for i, seg in enumerate(self.segments):
            if seg.name in seen:
                errors.append(
                    located(
                        ("segments", i, "name"),
                        seg.name,
                        f"segment name also used by segments[{seen[seg.name]}]",
                        "give each segment a unique name",
                    )
                )
            seen.setdefault(seg.name, i)
            series = seg.volume.series
            if series is not None and len(series) != self.months:
                errors.append(
                    located(
                        ("segments", i, "volume", "series"),
                        len(series),
                        f"series has {len(series)} value(s) but months = {self.months}",
                        f"give exactly {self.months} values, one per month",
                    )
                )
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def month_starts(self) -> list[date]:
        """First day of each month of the horizon."""
        first = self.start.year * 12 + self.start.month - 1
        return [date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(self.months)]

    def traffic_of(self, segment: Segment) -> Traffic:
        """The segment's own traffic shape, else the workload's."""
        return segment.traffic if segment.traffic is not None else self.traffic

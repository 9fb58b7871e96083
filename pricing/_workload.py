"""Workloads: what image work a team will run, month by month (``data/workloads/*.toml``).

A workload is a list of segments (one kind of request each: operation, acceptable models,
sizes, monthly volume, latency target), a traffic shape over the week, and optional
self-hosting assumptions. The engine prices it on hosted offers and on self-hosted GPUs.

Numeric inputs a team is unsure about are typed ``Number``: a plain number or a distribution
(``pricing._uncertainty``). :func:`uncertain_inputs` lists them; :func:`with_values` replaces
them with plain numbers for one scenario; :func:`central` gives the base value used by
:func:`monthly_demand`.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from pricing._gpus import GpuCategory
from pricing._loader import bundled_data_dir
from pricing._schema import OPERATIONS, Currency, Id, ImageModel, ModelsFile, Operation, Strict
from pricing._uncertainty import (
    Distribution,
    LogNormal,
    Normal,
    Number,
    SourcesRange,
    Triangular,
    Uniform,
)
from pricing.errors import PricingError

if TYPE_CHECKING:
    from pricing._catalog import Catalog

#: The bundled workload used when none is named.
DEFAULT_WORKLOAD = "ecommerce"
SCHEMA_LINE = "#:schema ../schema/workload.json"
#: Hour (UTC) of the daily peak of the curve built from a bare ``peak_to_mean`` ratio.
PEAK_HOUR_UTC = 15
_DIST_KINDS = "uniform, triangular, normal, lognormal"
_DIST_EXAMPLE = '{ dist = "triangular", low = <lowest>, mode = <likeliest>, high = <highest> }'


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class WorkloadProblem:
    """One thing wrong in a workload file: where (segment, field, line) and the fix."""

    file: str
    message: str
    fix: str
    segment: str | None = None
    segment_index: int | None = None  # 0-based position in ``segments``
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = [self.file if self.line is None else f"{self.file} line {self.line}"]
        if self.segment_index is not None:
            where.append(f"segment {self.segment!r} (segments[{self.segment_index}])")
        if self.field:
            where.append(f"field `{self.field}`")
        return f"{': '.join(where)}: {self.message} -> {self.fix}"


class WorkloadError(PricingError):
    """A workload file is invalid; ``problems`` lists every issue found."""

    def __init__(self, problems: list[WorkloadProblem]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the workload:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))

    @property
    def file(self) -> str:
        return self.problems[0].file

    @property
    def segment(self) -> str | None:
        return self.problems[0].segment

    @property
    def field(self) -> str | None:
        return self.problems[0].field


def _invalid(message: str, fix: str) -> PydanticCustomError:
    """A validation error that carries its fix to the problem list."""
    return PydanticCustomError("workload", "{message}", {"message": message, "fix": fix})


# --------------------------------------------------------------------------- numbers


def central(x: Number) -> float:
    """Base value of a number: itself, or the distribution's centre.

    Mode for triangular, mean for uniform and normal (kept within its clip bounds), median for
    lognormal. ``{dist = "sources"}`` has no centre of its own: it only applies to prices.
    """
    if isinstance(x, Triangular):
        return x.mode
    if isinstance(x, Uniform):
        return (x.low + x.high) / 2
    if isinstance(x, Normal):
        low = -math.inf if x.low is None else x.low
        high = math.inf if x.high is None else x.high
        return min(max(x.mean, low), high)
    if isinstance(x, LogNormal):
        return x.median
    if isinstance(x, SourcesRange):
        raise PricingError(
            '{dist = "sources"} only applies to prices in rate cards; give a workload input a '
            f"number or a distribution ({_DIST_KINDS})"
        )
    return float(x)


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
            raise _invalid(
                '{dist = "sources"} only applies to prices in rate cards',
                f"give a number or a distribution ({_DIST_KINDS})",
            )
        lo, hi = _span(x)
        ok_low = lo > low if open_low else lo >= low
        if not (ok_low and hi <= high):
            got = f"{lo:g}" if lo == hi else f"values from {lo:g} to {hi:g}"
            raise _invalid(f"must be {need} (got {got})", f"make it {need}")
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
            raise _invalid(
                f"weights must be >= 0; position(s) {negative} are not",
                "use 0 for hours or days without traffic",
            )
        if not sum(values) > 0:
            raise _invalid("weights sum to 0", "give at least one positive weight")
        return values

    @model_validator(mode="after")
    def _one_shape(self) -> Traffic:
        if (self.hourly is None) == (self.peak_to_mean is None):
            raise _invalid(
                "give either `hourly` (+ optional `weekday`) or `peak_to_mean`",
                "keep exactly one of `hourly` and `peak_to_mean`",
            )
        if self.weekday is not None and self.hourly is None:
            raise _invalid("`weekday` needs `hourly`", "add `hourly` or remove `weekday`")
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
            raise _invalid(
                "give either `base` (with optional `growth`) or `series`",
                "write volume = { base = 200000, growth = 0.03 } or volume = { series = [...] }",
            )
        if self.growth is not None and self.series is not None:
            raise _invalid("`growth` applies to `base` only", "remove `growth` or use `base`")
        return self


class Segment(Strict):
    """One kind of request: operation, acceptable models, sizes, volume and latency target."""

    name: str = Field(min_length=1)
    operation: Operation
    models: list[Id] = Field(min_length=1, description="acceptable model ids (data/models.toml)")
    volume: Volume
    images_per_request: int = Field(default=1, gt=0, description="[images/request]")
    resolutions: list[Resolution] = Field(min_length=1)
    steps: int | None = Field(default=None, gt=0, description="sampling steps; None = default")
    input_images: int = Field(default=0, ge=0, description="reference images per request")
    quality: str | None = Field(default=None, description='quality level, e.g. "medium"')
    p95_latency_s: Positive | None = Field(
        default=None, description="95th-percentile latency target [s]; None = no target"
    )
    traffic: Traffic | None = Field(default=None, description="replaces the workload's traffic")

    @field_validator("models")
    @classmethod
    def _unique_models(cls, models: list[str]) -> list[str]:
        twice = sorted({m for m in models if models.count(m) > 1})
        if twice:
            raise _invalid(f"models listed twice: {twice}", "list each model once")
        return models

    @field_validator("resolutions")
    @classmethod
    def _shares(cls, resolutions: list[Resolution]) -> list[Resolution]:
        total = math.fsum(r.share for r in resolutions)
        if abs(total - 1) > 1e-9:
            raise _invalid(
                f"shares sum to {total:.10g}, not 1",
                "adjust the `share` values of the resolutions so they add up to 1",
            )
        sizes = [(r.width, r.height) for r in resolutions]
        twice = sorted({f"{w}x{h}" for w, h in sizes if sizes.count((w, h)) > 1})
        if twice:
            raise _invalid(f"sizes listed twice: {twice}", "merge them into one entry")
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
    ops_hours_per_month: NonNegative = Field(default=0.0, description="[h/month] of engineers")
    ops_hourly_rate: NonNegative = Field(default=0.0, description="[currency/h]")
    storage_gb: NonNegative = Field(default=0.0, description="weights, images, caches [GB]")
    storage_per_gb_month: NonNegative = Field(default=0.0, description="[currency/GB/month]")
    egress_gb_per_month: NonNegative = Field(default=0.0, description="[GB/month]")
    egress_per_gb: NonNegative = Field(default=0.0, description="[currency/GB]")
    licence: Licence | None = None
    owned_hosting_per_month: NonNegative | None = Field(
        default=None,
        description="rack space, power delivery and hosting per owned GPU [currency/month]; "
        "owned hardware is only simulated when this is given (no source states it)",
    )


class Workload(Strict):
    """``data/workloads/<name>.toml``: the image work a team will run, month by month."""

    name: str = Field(min_length=1)
    description: str | None = None
    currency: Currency = Field(default="USD", description="currency of money inputs (ISO 4217)")
    start: date = Field(description="first month; the 1st of a month")
    months: int = Field(gt=0, le=120, description="horizon [months]")
    traffic: Traffic = Field(description="default traffic shape of the segments")
    segments: list[Segment] = Field(min_length=1)
    self_hosting: SelfHosting | None = None

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, start: date) -> date:
        if start.day != 1:
            raise _invalid(
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
                    _located(
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
                    _located(
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


def _located(loc: tuple[str | int, ...], value: Any, message: str, fix: str) -> InitErrorDetails:
    return InitErrorDetails(type=_invalid(message, fix), loc=loc, input=value)


# --------------------------------------------------------------------------- loading


def workloads_dir() -> Path:
    """The bundled ``data/workloads`` directory."""
    return bundled_data_dir() / "workloads"


def list_workloads() -> list[str]:
    """Names of the bundled workloads (``load_workload(name)`` loads one)."""
    return sorted(p.stem for p in workloads_dir().glob("*.toml"))


def load_workload(
    path_or_name: str | Path = DEFAULT_WORKLOAD, catalog: Catalog | None = None
) -> Workload:
    """Load and check a workload: a bundled name (``"ecommerce"``) or a path to a TOML file.

    Model ids and operations are checked against ``catalog.models`` (the bundled
    ``data/models.toml`` when no catalog is given).

    Raises
    ------
    WorkloadError
        Listing every problem, each with its file, segment, field and fix.
    """
    path, shown = _resolve(path_or_name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkloadError(
            [WorkloadProblem(shown, "file not found", "check the path, or use a bundled name")]
        ) from None
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        problem = WorkloadProblem(
            shown, f"not valid TOML: {exc}", "fix the TOML syntax at that line", line=line
        )
        raise WorkloadError([problem]) from None
    models = catalog.models if catalog is not None else _bundled_models()
    problems = list(_cross_check(shown, raw, models))
    try:
        workload = Workload.model_validate(raw)
    except ValidationError as exc:
        problems = _problems_from_validation(shown, raw, exc) + problems
        raise WorkloadError(problems) from None
    if problems:
        raise WorkloadError(problems)
    return workload


def _resolve(path_or_name: str | Path) -> tuple[Path, str]:
    if isinstance(path_or_name, Path) or re.search(r"[/\\]|\.toml$", path_or_name):
        return Path(path_or_name), str(path_or_name)
    path = workloads_dir() / f"{path_or_name}.toml"
    if not path.is_file():
        known = ", ".join(list_workloads())
        raise WorkloadError(
            [
                WorkloadProblem(
                    path_or_name,
                    f"unknown workload {path_or_name!r}",
                    f"use a bundled name ({known}) or the path of a .toml file",
                )
            ]
        )
    return path, f"data/workloads/{path.name}"


def _bundled_models() -> dict[str, ImageModel]:
    path = bundled_data_dir() / "models.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return {m.id: m for m in ModelsFile.model_validate(raw).model}


def _cross_check(
    shown: str, raw: dict[str, Any], models: Mapping[str, ImageModel]
) -> Iterator[WorkloadProblem]:
    """Model ids exist and serve the segment's operation (checked on the raw file)."""
    segments = raw.get("segments")
    for i, seg in enumerate(segments if isinstance(segments, list) else []):
        if not isinstance(seg, dict) or not isinstance(seg.get("models"), list):
            continue
        name = str(seg.get("name", f"#{i + 1}"))
        operation = seg.get("operation")
        for j, model_id in enumerate(seg["models"]):
            if not isinstance(model_id, str):
                continue
            model = models.get(model_id)
            if model is None:
                close = difflib.get_close_matches(model_id, list(models), n=3, cutoff=0.6)
                hint = f"did you mean {', '.join(close)}?" if close else "see data/models.toml"
                message = f"unknown model {model_id!r}"
                fix = f"use a model id from data/models.toml ({hint})"
            elif operation in OPERATIONS and operation not in model.operations:
                message = f"model {model_id!r} does not do {operation!r} (only {model.operations})"
                fix = f"remove {model_id!r} from `models` or change `operation`"
            else:
                continue
            yield WorkloadProblem(shown, message, fix, name, i, f"models[{j}]")


def _problems_from_validation(
    shown: str, raw: dict[str, Any], exc: ValidationError
) -> list[WorkloadProblem]:
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        branch = next((str(k) for k in loc if k == "float" or str(k).startswith("tagged-")), None)
        # `Number` is float | distribution: report only the branch the editor meant.
        if branch == "float" and isinstance(err.get("input"), dict):
            continue
        if branch and branch != "float" and err["type"] == "model_attributes_type":
            continue
        segment, index, field = _locate(raw, loc)
        out.append(
            WorkloadProblem(
                shown,
                _message(err),
                _fix(err, field),
                segment=segment,
                segment_index=index,
                field=field or None,
            )
        )
    return out


def _locate(raw: dict[str, Any], loc: list[Any]) -> tuple[str | None, int | None, str]:
    """Turn a pydantic location into (segment name, segment index, dotted field path)."""
    segment = index = None
    if len(loc) >= 2 and loc[0] == "segments" and isinstance(loc[1], int):
        index = loc[1]
        segs = raw.get("segments")
        item = segs[index] if isinstance(segs, list) and index < len(segs) else None
        segment = str(item.get("name", f"#{index + 1}")) if isinstance(item, dict) else None
        loc = loc[2:]
    parts: list[str] = []
    skip_tag = False
    for key in loc:
        text = str(key)
        if skip_tag:  # the distribution kind after a tagged-union marker
            skip_tag = False
            continue
        if text == "float" or text.startswith("function-"):
            continue
        if text.startswith("tagged-"):
            skip_tag = True
            continue
        if isinstance(key, int) and parts:
            parts[-1] += f"[{key}]"
        else:
            parts.append(text)
    return segment, index, ".".join(parts)


def _message(err: Any) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "union_tag_invalid":
        return f"unknown distribution {ctx.get('tag')!r}"
    value = err.get("input")
    if isinstance(value, Decimal):  # TOML numbers arrive as exact decimals
        value = float(value) if value % 1 else int(value)
    shown = (
        "" if isinstance(value, dict | list) or err["type"] == "workload" else f" (got {value!r})"
    )
    return f"{err['msg']}{shown}"


def _fix(err: Any, field: str) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    name = field.rsplit(".", 1)[-1] if field else "the value"
    if kind == "workload":
        return str(ctx["fix"])
    if kind == "missing":
        return f"add `{name}` (data/schema/workload.json describes it)"
    if kind == "extra_forbidden":
        return f"remove or rename `{name}`; data/schema/workload.json lists the allowed fields"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"set `dist` to one of {_DIST_KINDS}"
    if kind.startswith("float"):
        return f"write a number, or a distribution such as {_DIST_EXAMPLE}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"make `{name}` {err['msg'].removeprefix('Input should be ')}"
    if kind == "too_short":
        return f"give `{name}` at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"give `{name}` at most {ctx.get('max_length')} item(s)"
    if kind.startswith("int"):
        return f"write `{name}` as a whole number"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected', 'the listed values')}"
    if kind.startswith("date"):
        return f"write `{name}` as a TOML date, YYYY-MM-DD"
    return f"correct `{name}` as described"


# --------------------------------------------------------------------------- demand


def _images_per_month(segment: Segment, months: int) -> list[float]:
    volume = segment.volume
    if volume.series is not None:
        return [central(v) for v in volume.series]
    base = central(volume.base) if volume.base is not None else 0.0
    growth = central(volume.growth) if volume.growth is not None else 0.0
    return [base * (1 + growth) ** i for i in range(months)]


DEMAND_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "month": pl.Date,
    "segment": pl.String,
    "operation": pl.String,
    "width": pl.Int64,
    "height": pl.Int64,
    "share": pl.Float64,
    "images": pl.Float64,
    "images_per_request": pl.Int64,
    "requests": pl.Float64,
    "steps": pl.Int64,
    "input_images": pl.Int64,
    "quality": pl.String,
    "p95_latency_s": pl.Float64,
}


def monthly_demand(workload: Workload) -> pl.DataFrame:
    """One row per (month, segment, width, height) with base (central) volumes.

    Columns: ``month`` (date, the 1st), ``segment``, ``operation``, ``width``/``height``
    [px], ``share`` [-], ``images`` [images/month], ``images_per_request``, ``requests``
    [requests/month], ``steps``, ``input_images`` [per request], ``quality``,
    ``p95_latency_s`` [s] (null = no target).
    """
    rows: dict[str, list[Any]] = {name: [] for name in DEMAND_SCHEMA}
    months = workload.month_starts()
    images = [_images_per_month(seg, len(months)) for seg in workload.segments]
    for m, month in enumerate(months):
        for seg, per_month in zip(workload.segments, images, strict=True):
            latency = central(seg.p95_latency_s) if seg.p95_latency_s is not None else None
            for res in seg.resolutions:
                sized = per_month[m] * res.share
                values = (
                    month,
                    seg.name,
                    seg.operation,
                    res.width,
                    res.height,
                    res.share,
                    sized,
                    seg.images_per_request,
                    sized / seg.images_per_request,
                    seg.steps,
                    seg.input_images,
                    seg.quality,
                    latency,
                )
                for name, value in zip(DEMAND_SCHEMA, values, strict=True):
                    rows[name].append(value)
    return pl.DataFrame(rows, schema=DEMAND_SCHEMA)


def traffic_profile(traffic: Traffic) -> npt.NDArray[np.float64]:
    """Relative request rate for each of the week's 168 hours, Monday 00:00 UTC first.

    The mean is 1.0. From ``hourly`` x ``weekday``; from a bare ``peak_to_mean`` ratio, a
    smooth single daily peak at ``PEAK_HOUR_UTC``, the same every day, with that ratio.
    """
    if traffic.hourly is not None:
        weekday = traffic.weekday if traffic.weekday is not None else [1.0] * 7
        week = np.outer(np.asarray(weekday, float), np.asarray(traffic.hourly, float)).ravel()
        profile: npt.NDArray[np.float64] = week / week.mean()
        return profile
    ratio = central(traffic.peak_to_mean) if traffic.peak_to_mean is not None else 1.0
    return np.tile(_daily_curve(ratio), 7)


def _daily_curve(ratio: float) -> npt.NDArray[np.float64]:
    """24 hourly rates, mean 1, max ``ratio``: a raised cosine to a power found by bisection."""
    if not 1 <= ratio <= 24:
        raise PricingError(
            f"peak_to_mean {ratio:g} cannot be drawn as a daily curve (needs 1 <= ratio <= 24); "
            "give `hourly` weights instead"
        )
    hours = np.arange(24)
    if ratio == 24:  # all of the day's traffic in its peak hour
        return np.where(hours == PEAK_HOUR_UTC, 24.0, 0.0)
    if ratio == 1:
        return np.ones(24)
    # A floor above 0 keeps peak/mean continuous in the power (an hour at exactly 0 would not be)
    cosine = 0.01 + 0.99 * (1 + np.cos(2 * np.pi * (hours - PEAK_HOUR_UTC) / 24)) / 2
    lo, hi = 0.0, 1.0
    while 1 / np.mean(cosine**hi) < ratio:  # max is 1, so peak/mean = 1/mean
        lo, hi = hi, hi * 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 1 / np.mean(cosine**mid) < ratio else (lo, mid)
    curve: npt.NDArray[np.float64] = cosine**hi / np.mean(cosine**hi)
    return curve


def peak_to_mean(traffic: Traffic) -> float:
    """Peak hour's rate / mean rate: the given ratio, or the max of :func:`traffic_profile`."""
    if traffic.peak_to_mean is not None:
        return central(traffic.peak_to_mean)
    return float(traffic_profile(traffic).max())


# --------------------------------------------------------------------------- uncertainty

_DISTRIBUTIONS = (Uniform, Triangular, Normal, LogNormal, SourcesRange)
InputPath = tuple[str | int, ...]


@dataclass(frozen=True)
class UncertainInput:
    """A workload input given as a distribution, where it sits and how to show it."""

    path: InputPath  # e.g. ("segments", 0, "volume", "base")
    label: str  # e.g. "product edits: volume.base"
    distribution: Distribution

    @property
    def central(self) -> float:
        return central(self.distribution)


def uncertain_inputs(workload: Workload) -> list[UncertainInput]:
    """Every input of the workload given as a distribution, in file order."""
    return [
        UncertainInput(path, _label(workload, path), dist) for path, dist in _walk(workload, ())
    ]


def _walk(node: object, path: InputPath) -> Iterator[tuple[InputPath, Distribution]]:
    if isinstance(node, _DISTRIBUTIONS):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _walk(getattr(node, name), (*path, name))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, (*path, i))


def _label(workload: Workload, path: InputPath) -> str:
    if path[0] == "segments" and isinstance(path[1], int):
        head, rest = workload.segments[path[1]].name, path[2:]
    else:
        head, rest = str(path[0]), path[1:]
    text = ""
    for key in rest:
        text += f"[{key}]" if isinstance(key, int) else f".{key}"
    return f"{head}: {text.lstrip('.')}" if text else head


def with_values(workload: Workload, values: Mapping[InputPath, float]) -> Workload:
    """A copy of ``workload`` with the inputs at ``values``' paths set to plain numbers.

    Paths are those of :func:`uncertain_inputs` (any numeric input's path works too).
    """
    data: dict[str, Any] = workload.model_dump()
    for path, value in values.items():
        node: Any = data
        for key in path[:-1]:
            node = _step(node, key, path)
        _step(node, path[-1], path)  # must exist
        node[path[-1]] = float(value)
    try:
        return Workload.model_validate(data)
    except ValidationError as exc:
        raise WorkloadError(_problems_from_validation("<with_values>", data, exc)) from None


def _step(node: Any, key: str | int, path: InputPath) -> Any:
    try:
        if isinstance(node, dict) and isinstance(key, str):
            return node[key]
        if isinstance(node, list) and isinstance(key, int):
            return node[key]
    except (KeyError, IndexError):
        pass
    raise PricingError(
        f"no workload input at {path!r}; use a path from uncertain_inputs(), "
        "e.g. ('segments', 0, 'volume', 'base')"
    )

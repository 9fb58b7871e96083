"""GPU types, rented GPU offers and owned hardware: the self-hosting inputs in ``data/gpus/``.

Three files, each checked against the others and against ``data/sources.toml``:

- ``gpus/gpus.toml``: GPU types (memory and power where a source gives them);
- ``gpus/offers.toml``: rented GPU capacity, with the price exactly as published (per second,
  hour or month; for the instance or per GPU) and its billing granularity;
- ``gpus/owned.toml``: buying the hardware (purchase price, life, power, PUE, electricity).

Disagreeing sources are kept as separate offers (ids ``provider/sku-category`` plus a ``.tag``
suffix such as ``.2026-11``); nothing is averaged. In the :class:`~pricing.errors.Problem`
objects raised by :func:`load_gpus`, ``offer`` names the entry (GPU id, offer id, owned id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import polars as pl
from pydantic import BaseModel, Field, ValidationError, model_validator

from pricing._loader import _fix, _load_model, _message, _rel, bundled_data_dir
from pricing._schema import Currency, Id, Money, Source, SourcesFile, Strict
from pricing.errors import PriceNotFound, Problem, RateCardError

M = TypeVar("M", bound=BaseModel)

#: Hours in a billing month, the convention of the hyperscalers' monthly prices (8760 / 12).
HOURS_PER_MONTH = Decimal(730)
#: Hours in a year of wall-clock time (365 days).
HOURS_PER_YEAR = Decimal(8760)
#: Granularity assumed when the source does not state one [s]: a whole hour, the worst case.
DEFAULT_GRANULARITY_S = 3600

#: How the capacity is bought:
#:
#: - ``on-demand``: a dedicated instance, pay as you go, no commitment;
#: - ``spot``: interruptible capacity at a discount;
#: - ``reserved-1y`` / ``reserved-3y``: a 1- or 3-year commitment (committed-use discount);
#: - ``capacity-block``: capacity booked for a fixed window in advance (AWS EC2 Capacity Blocks);
#: - ``serverless``: billed per second of work, scales to zero (Modal, Replicate, RunPod Flex);
#: - ``serverless-active``: always-on serverless workers at a discount (RunPod Active);
#: - ``community`` / ``secure``: RunPod pods on hosts run by third parties (Community Cloud) or
#:   in RunPod's own data centres (Secure Cloud), both on demand;
#: - ``marketplace``: a statistic (median or average) of a marketplace's host offers (Vast.ai).
GpuCategory = Literal[
    "on-demand",
    "spot",
    "reserved-1y",
    "reserved-3y",
    "capacity-block",
    "serverless",
    "serverless-active",
    "community",
    "secure",
    "marketplace",
]
GPU_CATEGORIES: tuple[str, ...] = GpuCategory.__args__  # type: ignore[attr-defined]
Confidence = Literal["high", "medium", "low"]

GpuOfferId = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9._-]*$",
        max_length=120,
        description="provider/sku-category, with a .tag suffix for another source's figure",
    ),
]


def _paired(value: object, source: object, name: str) -> None:
    if (value is None) != (source is None):
        raise ValueError(f"give `{name}` and `{name.split('_')[0]}_source` together")


class GpuType(Strict):
    """A GPU model; memory and power are recorded only where a source states them."""

    id: Id
    name: str = Field(min_length=1)
    memory_gb: Decimal | None = Field(default=None, gt=0, description="memory per GPU [GB]")
    memory_source: Id | None = None
    power_w: Decimal | None = Field(default=None, gt=0, description="TDP / TGP [W]")
    power_source: Id | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> GpuType:
        _paired(self.memory_gb, self.memory_source, "memory_gb")
        _paired(self.power_w, self.power_source, "power_w")
        return self


class GpuOffer(Strict):
    """Rented GPU capacity at one price, as one source published it on one date."""

    id: GpuOfferId
    provider: Id
    sku: str = Field(min_length=1, description="the provider's name for the instance or tier")
    gpu: Id
    gpus: int = Field(ge=1, description="GPUs per instance")
    region: str | None = None
    category: GpuCategory
    price: Money = Field(gt=0, description="[currency per `per`], as published")
    per: Literal["second", "hour", "month"]
    price_basis: Literal["instance", "gpu"] = Field(
        description="whether `price` is for the whole instance or for each of its GPUs"
    )
    currency: Currency = "USD"
    granularity_s: int | None = Field(
        default=None,
        gt=0,
        description="[s] billed time is rounded up to this; None = the source does not say",
    )
    minimum_s: int | None = Field(default=None, gt=0, description="minimum billed time [s]")
    idle_billed_s: int | None = Field(
        default=None, ge=0, description="[s] a serverless worker stays billed after its work"
    )
    effective: date = Field(description="date seen, or the effective date the source states")
    source: Id
    confirmed_by: list[Id] = Field(
        default_factory=list, description="other sources that give the same figure"
    )
    confidence: Confidence | None = None
    notes: str | None = None

    @property
    def hourly_price(self) -> Decimal:
        """Price of one instance for one hour [currency/h].

        Per-second prices are multiplied by 3,600; per-month prices divided by 730 h.
        """
        if self.per == "second":
            per_hour = self.price * 3600
        elif self.per == "month":
            per_hour = self.price / HOURS_PER_MONTH
        else:
            per_hour = self.price
        return per_hour * self.gpus if self.price_basis == "gpu" else per_hour

    @property
    def gpu_hourly_price(self) -> Decimal:
        """Price of one of the instance's GPUs for one hour [currency/GPU-h]."""
        return self.hourly_price / self.gpus

    @property
    def billing_granularity_s(self) -> int:
        """Billing granularity [s]; :data:`DEFAULT_GRANULARITY_S` when the source is silent."""
        return self.granularity_s if self.granularity_s is not None else DEFAULT_GRANULARITY_S


class OwnedHardware(Strict):
    """One way to own a GPU: a purchase price (one entry per source) and running assumptions.

    ``life_years``, ``pue`` and ``electricity_per_kwh`` share ``assumptions_source``.
    """

    id: Id
    gpu: Id
    currency: Currency = "USD"
    purchase_price: Money = Field(gt=0, description="[currency per GPU]")
    purchase_price_high: Money | None = Field(
        default=None, description="upper end when the source gives a range [currency per GPU]"
    )
    purchase_source: Id
    confirmed_by: list[Id] = Field(
        default_factory=list, description="other sources that give the same purchase price"
    )
    power_w: Decimal = Field(gt=0, description="TDP / TGP [W]")
    power_source: Id
    life_years: Decimal = Field(gt=0, description="depreciation horizon [years]")
    pue: Decimal = Field(ge=1, description="power usage effectiveness [facility W / IT W]")
    electricity_per_kwh: Money = Field(description="[currency/kWh]")
    assumptions_source: Id = Field(description="source of life_years, pue, electricity_per_kwh")
    hosting_per_month: Money | None = Field(
        default=None, description="rack space and hosting per GPU [currency/month]"
    )
    hosting_source: Id | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> OwnedHardware:
        _paired(self.hosting_per_month, self.hosting_source, "hosting_per_month")
        if self.purchase_price_high is not None and self.purchase_price_high < self.purchase_price:
            raise ValueError("`purchase_price_high` must not be below `purchase_price`")
        return self

    def hourly_cost(
        self,
        utilisation: float | Decimal = 1.0,
        *,
        hosting_per_month: Decimal | None = None,
    ) -> Decimal:
        """Cost of owning the GPU for one wall-clock hour [currency/h].

        ``purchase_price / (life_years * 8760) + power_w / 1000 * utilisation * pue *
        electricity_per_kwh + hosting_per_month / 730``. Energy is counted at TDP for the busy
        fraction only, as in aiinframap's example TCO; idle draw is not counted (no source).

        Parameters
        ----------
        utilisation : float or Decimal  [fraction of the hour the GPU is busy, 0-1]
        hosting_per_month : Decimal, optional  [currency/month]
            Overrides the file's figure; required when the file has none (pass ``Decimal(0)``
            to price the hardware and electricity alone).

        Raises
        ------
        PriceNotFound
            No hosting cost in the data and none given: a missing cost is never taken as $0.
        """
        util = Decimal(str(utilisation)) if isinstance(utilisation, float) else utilisation
        if not Decimal(0) <= util <= Decimal(1):
            raise ValueError(f"utilisation must be between 0 and 1, got {utilisation!r}")
        hosting = hosting_per_month if hosting_per_month is not None else self.hosting_per_month
        if hosting is None:
            raise PriceNotFound(
                f"owned hardware {self.id!r}: no hosting cost in the sources; pass "
                "hosting_per_month=... (Decimal(0) to count hardware and electricity only)"
            )
        if hosting < 0:
            raise ValueError(f"hosting_per_month must not be negative, got {hosting}")
        capex = self.purchase_price / (self.life_years * HOURS_PER_YEAR)
        energy = self.power_w / Decimal(1000) * util * self.pue * self.electricity_per_kwh
        return capex + energy + hosting / HOURS_PER_MONTH


class GpusFile(Strict):
    """``data/gpus/gpus.toml``."""

    gpu: list[GpuType]


class GpuOffersFile(Strict):
    """``data/gpus/offers.toml``."""

    offer: list[GpuOffer]


class OwnedFile(Strict):
    """``data/gpus/owned.toml``."""

    owned: list[OwnedHardware]


@dataclass(frozen=True)
class GpuData:
    """Everything in ``data/gpus/``, checked, with the sources it cites."""

    root: Path
    sources: dict[str, Source]
    gpus: dict[str, GpuType]
    offers: tuple[GpuOffer, ...]
    owned: tuple[OwnedHardware, ...]

    def offer(self, offer_id: str) -> GpuOffer:
        """The offer with this id; ``KeyError`` naming a few known ids otherwise."""
        for o in self.offers:
            if o.id == offer_id:
                return o
        known = ", ".join(o.id for o in self.offers[:5])
        raise KeyError(f"unknown GPU offer {offer_id!r}; known: {known}, ...")


def load_gpus(root: Path | None = None) -> GpuData:
    """Load and check ``data/gpus/*.toml`` against ``data/sources.toml``.

    Parameters
    ----------
    root : Path, optional
        A ``data/`` directory; default: the bundled one.

    Raises
    ------
    RateCardError
        Listing every problem found, each naming file, entry, field and the fix.
    """
    root = bundled_data_dir() if root is None else Path(root)
    problems: list[Problem] = []
    sources = _load_model(root / "sources.toml", SourcesFile, root, problems)
    gpus = read_entries(root / "gpus" / "gpus.toml", GpusFile, root, problems)
    offers = read_entries(root / "gpus" / "offers.toml", GpuOffersFile, root, problems)
    owned = read_entries(root / "gpus" / "owned.toml", OwnedFile, root, problems)
    if sources is None or gpus is None or offers is None or owned is None or problems:
        raise RateCardError(problems)
    source_ids = {s.id for s in sources.source}
    gpu_file, offer_file = (
        _rel(root / "gpus" / "gpus.toml", root),
        _rel(root / "gpus" / "offers.toml", root),
    )
    owned_file = _rel(root / "gpus" / "owned.toml", root)
    problems.extend(check_unique(gpu_file, [g.id for g in gpus.gpu], "GPU id"))
    problems.extend(check_unique(offer_file, [o.id for o in offers.offer], "offer id"))
    problems.extend(check_unique(owned_file, [o.id for o in owned.owned], "owned id"))
    for g in gpus.gpu:
        for name in ("memory_source", "power_source"):
            problems.extend(check_source(gpu_file, g.id, name, getattr(g, name), source_ids))
    gpu_ids = {g.id for g in gpus.gpu}
    for o in offers.offer:
        problems.extend(_check_offer(offer_file, o, gpu_ids, source_ids))
    for w in owned.owned:
        problems.extend(check_gpu(owned_file, w.id, w.gpu, gpu_ids))
        for name in ("purchase_source", "power_source", "assumptions_source", "hosting_source"):
            problems.extend(check_source(owned_file, w.id, name, getattr(w, name), source_ids))
        for i, sid in enumerate(w.confirmed_by):
            problems.extend(check_source(owned_file, w.id, f"confirmed_by[{i}]", sid, source_ids))
    if problems:
        raise RateCardError(problems)
    return GpuData(
        root,
        {s.id: s for s in sources.source},
        {g.id: g for g in gpus.gpu},
        tuple(offers.offer),
        tuple(owned.owned),
    )


def _check_offer(rel: str, o: GpuOffer, gpu_ids: set[str], source_ids: set[str]) -> list[Problem]:
    out = check_gpu(rel, o.id, o.gpu, gpu_ids)
    out += check_source(rel, o.id, "source", o.source, source_ids)
    for i, sid in enumerate(o.confirmed_by):
        out += check_source(rel, o.id, f"confirmed_by[{i}]", sid, source_ids)
    if o.id.split("/", 1)[0] != o.provider:
        out.append(
            Problem(
                rel,
                f"offer id must start with the provider id {o.provider!r}",
                f"rename it to {o.provider}/{o.id.split('/', 1)[-1]}",
                offer=o.id,
                field="id",
            )
        )
    if o.source in o.confirmed_by:
        out.append(
            Problem(
                rel,
                f"`confirmed_by` repeats the offer's own source {o.source!r}",
                "remove it from `confirmed_by`",
                offer=o.id,
                field="confirmed_by",
            )
        )
    return out


# ----------------------------------------------------------------------------- shared checks


def check_unique(rel: str, ids: list[str], what: str) -> list[Problem]:
    """One problem per repeated id in ``ids``."""
    seen: set[str] = set()
    out = []
    for i in ids:
        if i in seen:
            out.append(Problem(rel, f"duplicate {what}", "give each entry its own id", offer=i))
        seen.add(i)
    return out


def check_source(
    rel: str, entry: str, field: str, source: str | None, known: set[str]
) -> list[Problem]:
    """A problem when ``source`` is set but not a source id in ``data/sources.toml``."""
    if source is None or source in known:
        return []
    return [
        Problem(
            rel,
            f"unknown source {source!r}",
            "add it to data/sources.toml or cite an existing source id",
            offer=entry,
            field=field,
        )
    ]


def check_gpu(rel: str, entry: str, gpu: str, known: set[str]) -> list[Problem]:
    """A problem when ``gpu`` is not an id in ``data/gpus/gpus.toml``."""
    if gpu in known:
        return []
    return [
        Problem(
            rel,
            f"unknown GPU {gpu!r}",
            f"add it to data/gpus/gpus.toml or use a known id ({', '.join(sorted(known)[:8])} ...)",
            offer=entry,
            field="gpu",
        )
    ]


def read_entries(path: Path, model: type[M], root: Path, problems: list[Problem]) -> M | None:
    """Read one TOML file of ``[[entries]]`` into ``model``; record problems by entry id.

    Line 1 must be ``#:schema <relative path to data/schema/<name>.json>``; the schema name is
    the file's entry in :data:`SCHEMA_NAMES`.
    """
    return _load_model(
        path, model, root, problems, schema_line=schema_line(path, root), explain=_explain
    )


def _explain(rel: str, raw: dict[str, Any], exc: ValidationError) -> list[Problem]:
    """Validation errors located by entry (its id or model/gpu/precision) and field."""
    out = []
    for err in exc.errors():
        entry, field = _locate(raw, list(err["loc"]))
        out.append(Problem(rel, _message(err), _fix(err, field or ""), offer=entry, field=field))
    return out


#: Data file (relative to ``data/``) -> its generated JSON Schema in ``data/schema/``.
SCHEMA_NAMES: dict[str, str] = {
    "gpus/gpus.toml": "gpus.json",
    "gpus/offers.toml": "gpu-offers.json",
    "gpus/owned.toml": "owned.json",
    "throughput.toml": "throughput.json",
    "licences.toml": "licences.json",
}


def schema_line(path: Path, root: Path) -> str | None:
    """The ``#:schema`` line 1 expected in a data file, or None if it has no schema."""
    try:
        key = path.relative_to(root).as_posix()
    except ValueError:
        return None
    name = SCHEMA_NAMES.get(key)
    if name is None:
        return None
    up = "../" * key.count("/")
    return f"#:schema {up}schema/{name}"


def entry_label(item: Any, index: int) -> str:
    """How an entry is named in messages: its id, else model/gpu/precision, else its number."""
    if isinstance(item, dict):
        if "id" in item:
            return str(item["id"])
        parts = [str(item[k]) for k in ("model", "gpu", "precision") if k in item]
        if parts:
            return "/".join(parts)
    return f"#{index + 1}"


def _locate(raw: dict[str, Any], loc: list[Any]) -> tuple[str | None, str | None]:
    """(entry label, dotted field path) of a pydantic error location in a file of entries."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        items = raw.get(loc[0])
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        entry: str | None = entry_label(item, loc[1])
        rest = loc[2:]
    else:
        entry, rest = None, loc
    parts: list[str] = []
    for key in rest:
        if isinstance(key, int) and parts:
            parts[-1] += f"[{key}]"
        else:
            parts.append(str(key))
    return entry, ".".join(parts) or None


# ----------------------------------------------------------------------------- tables


def gpu_offers_table(data: GpuData | None = None, gpu: str | None = None) -> pl.DataFrame:
    """One row per GPU offer, with hourly prices per instance and per GPU.

    Parameters
    ----------
    data : GpuData, optional
        Default: :func:`load_gpus` of the bundled data.
    gpu : str, optional
        Keep only offers of this GPU id.

    Returns
    -------
    polars.DataFrame
        ``offer_id, provider, sku, gpu, gpu_name, gpus, region, category, price`` [as
        published], ``per, price_basis, currency, instance_hourly`` [currency/h],
        ``gpu_hourly`` [currency/GPU-h], ``granularity_s`` [s; 3600 when unknown],
        ``granularity_known, minimum_s, effective, source, source_kind, confirmed_by,
        confidence, notes``.
    """
    data = load_gpus() if data is None else data
    if gpu is not None and gpu not in data.gpus:
        raise KeyError(f"unknown GPU {gpu!r}; known: {', '.join(sorted(data.gpus))}")
    rows = [o for o in data.offers if gpu is None or o.gpu == gpu]
    return pl.DataFrame(
        {
            "offer_id": [o.id for o in rows],
            "provider": [o.provider for o in rows],
            "sku": [o.sku for o in rows],
            "gpu": [o.gpu for o in rows],
            "gpu_name": [data.gpus[o.gpu].name for o in rows],
            "gpus": [o.gpus for o in rows],
            "region": [o.region for o in rows],
            "category": [o.category for o in rows],
            "price": [float(o.price) for o in rows],
            "per": [o.per for o in rows],
            "price_basis": [o.price_basis for o in rows],
            "currency": [o.currency for o in rows],
            "instance_hourly": [float(o.hourly_price) for o in rows],
            "gpu_hourly": [float(o.gpu_hourly_price) for o in rows],
            "granularity_s": [o.billing_granularity_s for o in rows],
            "granularity_known": [o.granularity_s is not None for o in rows],
            "minimum_s": [o.minimum_s for o in rows],
            "effective": [o.effective for o in rows],
            "source": [o.source for o in rows],
            "source_kind": [data.sources[o.source].kind for o in rows],
            "confirmed_by": [list(o.confirmed_by) for o in rows],
            "confidence": [o.confidence for o in rows],
            "notes": [o.notes for o in rows],
        },
        schema={
            "offer_id": pl.String,
            "provider": pl.String,
            "sku": pl.String,
            "gpu": pl.String,
            "gpu_name": pl.String,
            "gpus": pl.Int64,
            "region": pl.String,
            "category": pl.String,
            "price": pl.Float64,
            "per": pl.String,
            "price_basis": pl.String,
            "currency": pl.String,
            "instance_hourly": pl.Float64,
            "gpu_hourly": pl.Float64,
            "granularity_s": pl.Int64,
            "granularity_known": pl.Boolean,
            "minimum_s": pl.Int64,
            "effective": pl.Date,
            "source": pl.String,
            "source_kind": pl.String,
            "confirmed_by": pl.List(pl.String),
            "confidence": pl.String,
            "notes": pl.String,
        },
    )

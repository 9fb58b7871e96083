"""The models of ``data/gpus/``: GPU types, rented GPU offers and owned hardware.

Each offer is one figure from one source on one date, exactly as published; its hourly price
per instance and per GPU are derived properties. Owned hardware prices an hour of a GPU from
its purchase price, life, power, PUE and electricity. Loading and checking:
:mod:`pricing._gpus.gpus`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from pricing._base.dates import HOURS_PER_MONTH
from pricing._cards.fields import Currency, Id, Money, Strict
from pricing.errors import PriceNotFound

#: Hours in a billing month, the convention of the hyperscalers' monthly prices (8760 / 12).
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
    "deployment",
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


class GpuCloud(Strict):
    """A GPU cloud's name, as charts and pages show it (``"CoreWeave"`` for ``coreweave``)."""

    id: Id
    name: str = Field(min_length=1, description="the provider's own name, as on its site")


class GpuOffersFile(Strict):
    """``data/gpus/offers.toml``."""

    provider: list[GpuCloud] = Field(
        default_factory=list, description="the name of each provider the offers name"
    )
    offer: list[GpuOffer]


class OwnedFile(Strict):
    """``data/gpus/owned.toml``."""

    owned: list[OwnedHardware]

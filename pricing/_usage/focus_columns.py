"""The columns of a FOCUS export: the FOCUS 1.3 columns and types it writes, the priced columns
it reads, and their input contract.

:data:`FOCUS_COLUMNS` are written in that order; money is ``Decimal(38, 10)``
(:data:`~pricing._base.money.LEDGER_MONEY`), quantities :data:`QUANTITY`, unit prices
:data:`UNIT_PRICE` and periods :data:`UTC_US`. The input is the engine's priced request table:
:func:`normalised` checks that it has :data:`REQUIRED_COLUMNS` and brings them to one set of
types; :func:`contract_problems` counts the priced rows that break the contract ``to_focus``
relies on.
"""

from __future__ import annotations

from typing import Final, Literal

import polars as pl

from pricing.errors import FocusError

FOCUS_VERSION: Final = "1.3"

#: Output columns, in order: FOCUS columns alphabetically (as in the FOCUS column library),
#: then this project's ``x_`` custom columns. The deprecated ProviderName/PublisherName are not
#: emitted (1.3 replaced them with ServiceProviderName/HostProviderName; 1.4 removed them).
#: PricingCurrency is left out: FOCUS requires it only when pricing and billing currencies can
#: differ, and here a row is billed in the currency its rate card prices it in.
FOCUS_COLUMNS: Final[tuple[str, ...]] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "HostProviderName",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ServiceCategory",
    "ServiceName",
    "ServiceProviderName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "Tags",
    "x_OfferId",
    "x_PriceVersion",
    "x_SourceId",
    "x_Model",
)


#: Length of a usage row's charge period ("row": one row per request).
Granularity = Literal["row", "hour", "day", "month"]
#: Granularity -> the polars interval of its charge periods.
PERIODS: Final[dict[str, str]] = {"hour": "1h", "day": "1d", "month": "1mo"}

QUANTITY: Final = pl.Decimal(38, 10)  # [images] or [months]
#: Unit prices are averages (cost / quantity) and rarely terminate; 18 places keep
#: ``unit price x quantity`` within 1e-9 of the cost for up to 10^9 units.
UNIT_PRICE: Final = pl.Decimal(38, 18)  # [currency per pricing unit]
UTC_US: Final = pl.Datetime("us", "UTC")

_STRINGS: Final = (
    "account",
    "offer_id",
    "provider",
    "model",
    "operation",
    "quality",
    "price_version",
    "source_id",
    "currency",
    "reason",
)
_INTEGERS: Final = ("width", "height", "count")
_FLOATS: Final = ("list_cost", "cost", "fee", "top_up")
#: Columns of the priced requests that ``to_focus`` reads (as ``price_requests`` returns them).
REQUIRED_COLUMNS: Final = ("timestamp", *_STRINGS, *_INTEGERS, *_FLOATS)
#: Columns every charge of one offer, price version and account shares (grouping keys).
OFFER_KEYS: Final = (
    "_month",
    "account",
    "offer_id",
    "provider",
    "model",
    "price_version",
    "source_id",
    "currency",
)


def normalised(priced: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Check the columns and bring them to one set of types (String, Int64, Float64, UTC)."""
    lf = priced.lazy()
    schema = lf.collect_schema()
    missing = [c for c in REQUIRED_COLUMNS if c not in schema]
    if missing:
        raise FocusError(
            f"priced requests lack column(s) {', '.join(missing)}; to_focus needs "
            f"{', '.join(REQUIRED_COLUMNS)} (as returned by price_requests)"
        )
    ts = schema["timestamp"]
    if ts == pl.Date:
        utc = pl.col("timestamp").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    elif isinstance(ts, pl.Datetime) and ts.time_zone is not None:
        utc = pl.col("timestamp").dt.convert_time_zone("UTC").cast(UTC_US)
    else:
        raise FocusError(
            f"timestamp must be a time-zone aware Datetime or a Date, got {ts}; "
            'use pl.col("timestamp").dt.replace_time_zone("UTC") if the times are UTC'
        )
    return lf.with_columns(
        utc,
        *(pl.col(c).cast(pl.String) for c in _STRINGS),
        *(pl.col(c).cast(pl.Int64) for c in _INTEGERS),
        *(pl.col(c).cast(pl.Float64) for c in _FLOATS),
    )


def contract_problems(priced: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Priced rows that break the input contract, counted per problem (empty when none)."""
    return contract_counts(priced).filter(pl.col("rows") > 0)


def contract_counts(priced: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """problem, rows: every check of the input contract with the rows that break it (0 when
    none), always in the same order, so that the counts of parts of a log add up."""
    lf = normalised(priced).filter(pl.col("cost").is_not_null())
    cost, listed = pl.col("cost"), pl.col("list_cost")
    checks = {
        "list_cost is null": listed.is_null(),
        "count is null or below 1": pl.col("count").fill_null(0) < 1,
        "fee or top_up is negative": (pl.col("fee") < 0) | (pl.col("top_up") < 0),
        # no amount that is not a finite, non-negative number becomes a charge
        "cost or list_cost is NaN, infinite or negative": pl.any_horizontal(
            (~c.is_finite() | (c < 0)).fill_null(False) for c in (cost, listed)
        ),
        # Allowances and discounts only lower a price, so a list_cost below the billed usage
        # and fee means it leaves out the fee, or that cost counts something twice.
        "list_cost is below cost - top_up": listed
        < cost - pl.col("top_up").fill_null(0.0) - 1e-9 * cost.abs().clip(lower_bound=1.0),
    }
    return lf.select(
        *(cond.fill_null(False).sum().alias(name) for name, cond in checks.items()),
    ).unpivot(variable_name="problem", value_name="rows")


def problem_message(problems: pl.DataFrame) -> str:
    """What :func:`contract_problems` found, and what the contract expects."""
    found = "; ".join(f"{p} on {n} row(s)" for p, n in problems.iter_rows())
    return (
        f"priced requests break the to_focus input contract: {found}. Expected on every priced "
        "row: list_cost not null and >= cost - top_up, count >= 1, fee and top_up >= 0, "
        "cost and list_cost finite and >= 0 (cost includes fee and top_up; list_cost includes "
        "fee, not top_up)"
    )

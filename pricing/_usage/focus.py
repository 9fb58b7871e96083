"""FOCUS 1.3 cost-and-usage export of priced image-generation requests.

:func:`to_focus` turns the vectorised engine's priced request table (``price_requests``) into a
FinOps FOCUS dataset that finance tools can load: one row per SKU price per charge period, with
a monthly plan fee and a minimum-spend top-up as rows of their own. Rows the engine could not
price (``cost`` null, ``reason`` set) are not charges and are left out; :func:`focus_excluded`
counts them, so a report can always show how many requests the dataset does not cover.

Money arrives as Float64 and leaves as ``Decimal(38, 10)``: every input amount is rounded to 10
places *before* summing, so the dataset's totals equal a Decimal sum of the rounded inputs, to
the last digit. The columns, their types and the input contract are in
:mod:`pricing._usage.focus_columns`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pricing._base.money import LEDGER_MONEY
from pricing._usage.aggregates import ledger_money
from pricing._usage.focus_columns import (
    FOCUS_COLUMNS,
    OFFER_KEYS,
    PERIODS,
    QUANTITY,
    UNIT_PRICE,
    UTC_US,
    Granularity,
    contract_problems,
    normalised,
    problem_message,
)
from pricing.errors import FocusError

__all__ = ["focus_excluded", "to_focus"]


def focus_excluded(priced: pl.DataFrame | pl.LazyFrame) -> int:
    """Count the rows :func:`to_focus` leaves out: requests without a price.

    A row whose ``cost`` is null (the engine set ``reason``) is not a charge, and a missing price
    is never $0, so it has no place in a cost dataset. Show this count beside every FOCUS export;
    ``priced.filter(pl.col("cost").is_null()).group_by("reason").len()`` breaks it down.

    Parameters
    ----------
    priced : DataFrame or LazyFrame
        The engine's priced requests; only the ``cost`` column is read.

    Returns
    -------
    int  [rows]
    """
    counted = priced.lazy().select(pl.col("cost").is_null().sum()).collect()
    return int(counted.item())


def to_focus(
    priced: pl.DataFrame | pl.LazyFrame,
    *,
    granularity: Granularity = "day",
    billing_account_name: str | None = None,
    invoice_issuer: str | None = None,
) -> pl.DataFrame:
    """Export priced requests as a FOCUS 1.3 cost-and-usage dataset.

    Three kinds of rows come out, and together their BilledCost adds up to the input's ``cost``:

    - **Usage** (ChargeFrequency "Usage-Based", PricingUnit "Images"): per charge period x
      account x offer x price version x operation x width x height x quality, the images made
      and what they cost, excluding the plan fee and top-up parts of ``cost`` (ListCost is
      ``list_cost - fee``).
    - **Purchase** (ChargeFrequency "Recurring", PricingUnit "Months", PricingQuantity 1): a
      subscription's monthly plan fee, per account x offer x month.
    - **Adjustment** (ChargeFrequency "Recurring", no quantity or unit price): the top-up to a
      minimum monthly spend, per account x offer x month. FOCUS defines Adjustment as charges
      the provider applies that fall in no other category: a top-up consumes nothing (not
      Usage), buys no service (not Purchase) and is neither Tax nor Credit.

    Fee and top-up rows always cover their calendar month, whatever ``granularity``.

    Rows without a price (``cost`` null, ``reason`` set) are **left out**; count them with
    :func:`focus_excluded` and report that count with the dataset.

    Parameters
    ----------
    priced : DataFrame or LazyFrame
        The engine's priced requests, one row per request (or request x offer), with the
        columns in :data:`REQUIRED_COLUMNS`; String or Categorical string columns; a
        time-zone aware ``timestamp`` (a Date is taken as midnight UTC). Contract, as
        ``price_requests`` computes it: ``cost`` includes ``fee`` and ``top_up``; ``list_cost``
        is the list price of the call *and its plan fee*, before free allowances and the
        committed-use discount and without the top-up, so ``list_cost >= cost - top_up``.
    granularity : {"row", "hour", "day", "month"}
        Length of a usage row's charge period. "row" keeps one usage row per input row, with a
        one-microsecond charge period at the request's timestamp.
    billing_account_name : str, optional
        BillingAccountName on every row; default the account id.
    invoice_issuer : str, optional
        InvoiceIssuerName on every row (e.g. a reseller); default the offer's provider.

    Returns
    -------
    DataFrame
        Columns :data:`FOCUS_COLUMNS` in that order; costs ``Decimal(38, 10)`` [currency],
        unit prices ``Decimal(38, 18)`` [currency/unit], quantities ``Decimal(38, 10)``, periods
        ``Datetime("us", "UTC")`` with exclusive ends. Sorted by billing period, charge period,
        account, offer and SKU price.

    Raises
    ------
    FocusError
        (a :class:`ValueError`) Unknown ``granularity``; a missing column; a naive
        ``timestamp``; or a priced row that breaks the contract above (null ``list_cost``,
        ``count`` < 1, negative ``fee`` or ``top_up``, ``list_cost`` below ``cost - top_up``).
    """
    if granularity not in ("row", *PERIODS):
        raise FocusError(
            f"unknown granularity {granularity!r}; use one of 'row', 'hour', 'day', 'month'"
        )
    rows = _charged_rows(normalised(priced), granularity)
    parts = [_usage(rows, granularity), _fees(rows), _top_ups(rows)]
    focus = pl.concat(parts, how="vertical").with_columns(
        BillingAccountName=pl.col("BillingAccountId")
        if billing_account_name is None
        else pl.lit(billing_account_name, pl.String),
        InvoiceIssuerName=pl.col("ServiceProviderName")
        if invoice_issuer is None
        else pl.lit(invoice_issuer, pl.String),
    )
    focus = focus.select(FOCUS_COLUMNS).sort(
        "BillingPeriodStart",
        "ChargePeriodStart",
        "BillingAccountId",
        "x_OfferId",
        "ChargeCategory",
        "SkuPriceId",
        "ChargePeriodEnd",
        # ties only under granularity "row": order them by value so reruns match row for row
        "x_PriceVersion",
        "BilledCost",
        "ListCost",
        "PricingQuantity",
        nulls_last=True,
    )
    problems, result = pl.collect_all([contract_problems(priced), focus])
    if problems.height:
        raise FocusError(problem_message(problems))
    return result


# --------------------------------------------------------------------------- input


def _charged_rows(lf: pl.LazyFrame, granularity: str) -> pl.LazyFrame:
    """Priced rows with their periods and money as Decimal, split into usage, fee and top-up."""
    ts = pl.col("timestamp")
    if granularity == "row":
        start, end = ts, ts.dt.offset_by("1us")
    else:
        every = PERIODS[granularity]
        start, end = ts.dt.truncate(every), ts.dt.truncate(every).dt.offset_by(every)

    def money(name: str) -> pl.Expr:
        return ledger_money(pl.col(name).fill_null(0.0))

    return (
        lf.filter(pl.col("cost").is_not_null())
        .with_columns(
            _row=pl.int_range(pl.len(), dtype=pl.Int64),
            _month=ts.dt.truncate("1mo"),
            _start=start,
            _end=end,
            _fee=money("fee"),
            _top_up=money("top_up"),
            _cost=money("cost"),
            _list=money("list_cost"),
        )
        .with_columns(
            _usage_billed=pl.col("_cost") - pl.col("_fee") - pl.col("_top_up"),
            _usage_list=pl.col("_list") - pl.col("_fee"),
        )
    )


# --------------------------------------------------------------------------- the three row kinds


def _usage(rows: pl.LazyFrame, granularity: str) -> pl.LazyFrame:
    keys = [
        *OFFER_KEYS,
        "_start",
        "_end",
        "operation",
        "width",
        "height",
        "quality",
        *(["_row"] if granularity == "row" else []),
    ]
    grouped = rows.group_by(keys).agg(
        _images=pl.col("count").sum().cast(QUANTITY),
        _billed=pl.col("_usage_billed").sum(),
        _listed=pl.col("_usage_list").sum(),
    )
    resolution = pl.format("{}x{}", pl.col("width"), pl.col("height"))
    quality = pl.col("quality")
    details = (
        pl.when(quality.is_null())
        .then(pl.struct(x_Resolution=resolution, x_Operation="operation").struct.json_encode())
        .otherwise(
            pl.struct(
                x_Resolution=resolution, x_Operation="operation", x_Quality=quality
            ).struct.json_encode()
        )
    )
    # One SkuPriceId per unit price: FOCUS requires a SkuPriceId to define a single unit price
    # and its SkuPriceDetails to be shared by all its charges, and both vary with the size,
    # operation and quality inside one price version.
    sku_price_id = pl.concat_str(
        [
            _version_key(),
            pl.lit("#"),
            pl.concat_str(["operation", resolution, quality], separator=":", ignore_nulls=True),
        ]
    )
    description = pl.concat_str(
        ["model", "operation", resolution, quality, pl.lit("on"), "offer_id"],
        separator=" ",
        ignore_nulls=True,
    )
    return _focus_rows(
        grouped,
        _Charge(
            category="Usage",
            frequency="Usage-Based",
            start=pl.col("_start"),
            end=pl.col("_end"),
            quantity=pl.col("_images"),
            pricing_unit="Images",
            consumed=True,
            sku_price_id=sku_price_id,
            details=details,
            description=description,
        ),
    )


def _fees(rows: pl.LazyFrame) -> pl.LazyFrame:
    grouped = (
        rows.filter(pl.col("_fee") != 0)
        .group_by(OFFER_KEYS)
        .agg(
            # One fee per month is the rule; counting them keeps a repeated fee honest.
            _images=pl.len().cast(QUANTITY),
            _billed=pl.col("_fee").sum(),
        )
        .with_columns(_listed=pl.col("_billed"))
    )
    return _focus_rows(
        grouped,
        _Charge(
            category="Purchase",
            frequency="Recurring",
            start=pl.col("_month"),
            end=pl.col("_month").dt.offset_by("1mo"),
            quantity=pl.col("_images"),
            pricing_unit="Months",
            consumed=False,
            sku_price_id=pl.concat_str([_version_key(), pl.lit("#monthly-fee")]),
            details=pl.lit('{"x_Charge":"monthly plan fee"}', pl.String),
            description=pl.format("{} monthly plan fee on {}", pl.col("model"), pl.col("offer_id")),
        ),
    )


def _top_ups(rows: pl.LazyFrame) -> pl.LazyFrame:
    grouped = (
        rows.filter(pl.col("_top_up") != 0)
        .group_by(OFFER_KEYS)
        .agg(_billed=pl.col("_top_up").sum())
        # The shortfall to a list-price minimum: FOCUS lets an Adjustment's ListCost equal its
        # BilledCost when it has no unit price.
        .with_columns(_listed=pl.col("_billed"))
    )
    return _focus_rows(
        grouped,
        _Charge(
            category="Adjustment",
            # The minimum applies every month, used or not (no use: the whole minimum is billed).
            frequency="Recurring",
            start=pl.col("_month"),
            end=pl.col("_month").dt.offset_by("1mo"),
            quantity=None,
            pricing_unit=None,
            consumed=False,
            sku_price_id=None,
            details=None,
            description=pl.format(
                "{} minimum monthly spend top-up on {}", pl.col("model"), pl.col("offer_id")
            ),
        ),
    )


def _version_key() -> pl.Expr:
    return pl.concat_str(["offer_id", pl.lit("@"), "price_version"])


@dataclass(frozen=True)
class _Charge:
    """What a kind of FOCUS row says beside its money: category, period, quantity and SKU."""

    category: str
    frequency: str
    start: pl.Expr
    end: pl.Expr
    quantity: pl.Expr | None  # None: no quantity, unit or unit price (an adjustment)
    pricing_unit: str | None
    consumed: bool  # the quantity is also the consumed quantity
    sku_price_id: pl.Expr | None
    details: pl.Expr | None
    description: pl.Expr


def _focus_rows(grouped: pl.LazyFrame, charge: _Charge) -> pl.LazyFrame:
    """Map grouped charges (``_billed``, ``_listed``, ``_images``) to the FOCUS columns.

    BilledCost = EffectiveCost = ContractedCost: there is no prepaid commitment to amortize
    (a plan fee pays for the month it is billed in) and no negotiated price below the card's.
    """
    null_str = pl.lit(None, pl.String)
    quantity, pricing_unit, consumed = charge.quantity, charge.pricing_unit, charge.consumed
    billed = pl.col("_billed").cast(LEDGER_MONEY)
    listed = pl.col("_listed").cast(LEDGER_MONEY)
    if quantity is None:
        qty = pl.lit(None, QUANTITY)
        list_unit = contracted_unit = pl.lit(None, UNIT_PRICE)
    else:
        qty = quantity.cast(QUANTITY)
        # A zero quantity breaks the input contract and is reported as such, not as a
        # division error: divide by null instead.
        divisor = pl.when(qty != 0).then(qty)
        list_unit = (listed.cast(UNIT_PRICE) / divisor).cast(UNIT_PRICE)
        contracted_unit = (billed.cast(UNIT_PRICE) / divisor).cast(UNIT_PRICE)
    return grouped.select(
        BilledCost=billed,
        BillingAccountId=pl.col("account"),
        BillingAccountName=pl.col("account"),
        BillingAccountType=null_str,
        BillingCurrency=pl.col("currency"),
        BillingPeriodEnd=pl.col("_month").dt.offset_by("1mo").cast(UTC_US),
        BillingPeriodStart=pl.col("_month").cast(UTC_US),
        ChargeCategory=pl.lit(charge.category, pl.String),
        ChargeClass=null_str,
        ChargeDescription=charge.description.cast(pl.String),
        ChargeFrequency=pl.lit(charge.frequency, pl.String),
        ChargePeriodEnd=charge.end.cast(UTC_US),
        ChargePeriodStart=charge.start.cast(UTC_US),
        ConsumedQuantity=qty if consumed else pl.lit(None, QUANTITY),
        ConsumedUnit=pl.lit(pricing_unit if consumed else None, pl.String),
        ContractedCost=billed,
        ContractedUnitPrice=contracted_unit,
        EffectiveCost=billed,
        HostProviderName=pl.col("provider"),
        InvoiceId=null_str,
        InvoiceIssuerName=pl.col("provider"),
        ListCost=listed,
        ListUnitPrice=list_unit,
        PricingCategory=pl.lit(None if quantity is None else "Standard", pl.String),
        PricingQuantity=qty,
        PricingUnit=pl.lit(pricing_unit, pl.String),
        RegionId=null_str,
        RegionName=null_str,
        ResourceId=null_str,
        ServiceCategory=pl.lit("AI and Machine Learning", pl.String),
        ServiceName=pl.col("model"),
        ServiceProviderName=pl.col("provider"),
        ServiceSubcategory=pl.lit("Generative AI", pl.String),
        SkuId=pl.col("offer_id"),
        SkuMeter=pl.lit("Images", pl.String),
        SkuPriceDetails=null_str if charge.details is None else charge.details.cast(pl.String),
        SkuPriceId=null_str if charge.sku_price_id is None else charge.sku_price_id.cast(pl.String),
        SubAccountId=null_str,
        Tags=null_str,
        x_OfferId=pl.col("offer_id"),
        x_PriceVersion=pl.col("price_version"),
        x_SourceId=pl.col("source_id"),
        x_Model=pl.col("model"),
    )

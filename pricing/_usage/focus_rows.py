"""FOCUS 1.3 rows of grouped charges: usage, plan fees and minimum-spend top-ups.

Each function maps grouped sums (``_billed``, ``_images`` and the keys of
:func:`pricing._usage.focus.focus_sums`) to the columns :data:`FOCUS_COLUMNS`, with the
category, period, quantity, unit and SKU price of its kind of charge (see
:func:`pricing.to_focus`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pricing._base.money import LEDGER_MONEY
from pricing._usage.focus_columns import QUANTITY, UNIT_PRICE, UTC_US


def usage_rows(grouped: pl.LazyFrame) -> pl.LazyFrame:
    """Usage rows: images made and their cost per charge period and SKU price."""
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


def fee_rows(grouped: pl.LazyFrame) -> pl.LazyFrame:
    """Purchase rows: a plan's monthly fee per account, offer and month."""
    grouped = grouped.with_columns(_listed=pl.col("_billed"))
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


def top_up_rows(grouped: pl.LazyFrame) -> pl.LazyFrame:
    """Adjustment rows: the top-up to a minimum monthly spend per account, offer and month."""
    # The shortfall to a list-price minimum: FOCUS lets an Adjustment's ListCost equal its
    # BilledCost when it has no unit price.
    grouped = grouped.with_columns(_listed=pl.col("_billed"))
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

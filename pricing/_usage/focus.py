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

It is made in two steps: :func:`focus_sums` groups the priced rows into the sums each FOCUS
row is made of, and :func:`focus_dataset` maps those sums to FOCUS rows
(:mod:`pricing._usage.focus_rows`). The sums add up across parts of a log, which is how
``replay(..., focus=)`` builds the same dataset batch by batch
(:mod:`pricing._usage.focus_parts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import polars as pl

from pricing._usage.aggregates import ledger_money
from pricing._usage.focus_columns import (
    FOCUS_COLUMNS,
    OFFER_KEYS,
    PERIODS,
    QUANTITY,
    Granularity,
    contract_problems,
    normalised,
    problem_message,
)
from pricing._usage.focus_rows import fee_rows, top_up_rows, usage_rows
from pricing.errors import FocusError

__all__ = ["focus_excluded", "to_focus"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class FocusSums(Generic[_T]):
    """One thing per kind of FOCUS row: usage, plan fees and minimum-spend top-ups."""

    usage: _T
    fees: _T
    top_ups: _T


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
        ``count`` < 1, negative ``fee`` or ``top_up``, ``list_cost`` below ``cost - top_up``,
        a ``cost`` or ``list_cost`` that is NaN, infinite or negative).
    """
    check_granularity(granularity)
    focus = focus_dataset(
        focus_sums(normalised(priced), granularity),
        billing_account_name=billing_account_name,
        invoice_issuer=invoice_issuer,
    )
    try:
        problems, result = pl.collect_all([contract_problems(priced), focus])
    except pl.exceptions.InvalidOperationError:
        # a NaN or infinite amount stops the Decimal cast before the contract is read
        problems = contract_problems(priced).collect()
        if not problems.height:
            raise
    if problems.height:
        raise FocusError(problem_message(problems))
    return result


def check_granularity(granularity: str) -> None:
    """Raise :class:`~pricing.errors.FocusError` unless ``granularity`` is a FOCUS one."""
    if granularity not in ("row", *PERIODS):
        raise FocusError(
            f"unknown granularity {granularity!r}; use one of 'row', 'hour', 'day', 'month'"
        )


def focus_sums(normal: pl.LazyFrame, granularity: Granularity) -> FocusSums[pl.LazyFrame]:
    """The sums FOCUS rows are made of: usage, plan fees and top-ups, grouped by charge.

    ``normal`` is priced requests brought to one set of types (:func:`normalised`). Every
    column but the keys (:func:`sum_keys`) is a sum, so the sums of several parts of a log
    add up to the sums of the whole log: group the parts' concatenation by the keys again
    (under granularity "row", usage rows are per request and only concatenate).
    """
    rows = _charged_rows(normal, granularity)
    return FocusSums(
        usage=rows.group_by(_usage_keys(granularity)).agg(
            _images=pl.col("count").sum().cast(QUANTITY),
            _billed=pl.col("_usage_billed").sum(),
            _listed=pl.col("_usage_list").sum(),
        ),
        # One fee per month is the rule; counting them keeps a repeated fee honest.
        fees=rows.filter(pl.col("_fee") != 0)
        .group_by(OFFER_KEYS)
        .agg(_images=pl.len().cast(QUANTITY), _billed=pl.col("_fee").sum()),
        top_ups=rows.filter(pl.col("_top_up") != 0)
        .group_by(OFFER_KEYS)
        .agg(_billed=pl.col("_top_up").sum()),
    )


def sum_keys(granularity: Granularity) -> FocusSums[list[str]]:
    """The key columns of each of :func:`focus_sums`' frames (the other columns are sums)."""
    offer = list(OFFER_KEYS)
    return FocusSums(usage=_usage_keys(granularity), fees=offer, top_ups=offer)


def focus_dataset(
    sums: FocusSums[pl.LazyFrame],
    *,
    billing_account_name: str | None = None,
    invoice_issuer: str | None = None,
) -> pl.LazyFrame:
    """The FOCUS dataset of :func:`focus_sums` (of a whole log, or of its parts added up):
    columns :data:`FOCUS_COLUMNS`, rows sorted as :func:`to_focus` documents."""
    parts = [usage_rows(sums.usage), fee_rows(sums.fees), top_up_rows(sums.top_ups)]
    focus = pl.concat(parts, how="vertical").with_columns(
        BillingAccountName=pl.col("BillingAccountId")
        if billing_account_name is None
        else pl.lit(billing_account_name, pl.String),
        InvoiceIssuerName=pl.col("ServiceProviderName")
        if invoice_issuer is None
        else pl.lit(invoice_issuer, pl.String),
    )
    return focus.select(FOCUS_COLUMNS).sort(
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


# --------------------------------------------------------------------------- keys


def _usage_keys(granularity: str) -> list[str]:
    return [
        *OFFER_KEYS,
        "_start",
        "_end",
        "operation",
        "width",
        "height",
        "quality",
        *(["_row"] if granularity == "row" else []),
    ]

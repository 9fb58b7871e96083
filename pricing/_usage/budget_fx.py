"""A budget in another currency than its calls' prices: the spend at each day's rate, the rest
of the month at a planning rate.

A budget counts one currency. Calls priced in another (a USD log, a GBP budget) are converted:

- the days so far happened, so each converts at the ECB reference rate of its own day (a
  weekend takes the last business day's), exactly; a day without a rate at most
  ``max_fx_age_days`` old leaves its calls unpriced with the reason, never guessed;
- the rest of the month is in the future, so the run rate in each priced currency (its spend /
  the days elapsed) converts at the latest rate known on the last day counted, held to month
  end: a planning rate, stated as such (an assumption, not a published rate of those days).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from pricing._fx.convert import Conversion, Converter
from pricing._quote.fx import FxInput, check_target, converter_for, planning_twin
from pricing._usage.fx_rows import UsageFx
from pricing.errors import FxError, PricingError


@dataclass(frozen=True)
class BudgetMoney:
    """The month so far in the budget's currency, and how it was converted.

    ``listed`` is the spend counted, per currency it was priced in [that currency];
    ``future`` the rate [budget currency / that currency] its run rate is forecast at (1 for
    the budget's own); ``conversions`` every rate used, the days' then the planning ones.
    """

    days: pl.DataFrame
    listed: dict[str, Decimal]
    future: dict[str, Decimal]
    conversions: tuple[Conversion, ...]


def budget_money(
    days: pl.DataFrame,
    currency: str,
    *,
    fx: FxInput,
    max_fx_age_days: int,
    root: Path | None,
    earlier: tuple[Conversion, ...] = (),
) -> BudgetMoney:
    """The day sums ``days`` (of one month, up to its last day counted) in ``currency``.

    ``earlier`` are the conversions the replay made (a replay in the budget's currency
    already): those of these days are stated too.

    Raises
    ------
    FxError
        A bad rate of yours, a budget currency no rate reaches, or no rate to forecast with.
    """
    day_list = [d for d in days["day"].to_list() if isinstance(d, date)]
    converter = converter_for(currency, fx, max_fx_age_days, root=root, planning=False)
    assert converter is not None  # a currency is given
    usage = UsageFx(converter)
    priced = days.filter(pl.col("reason").is_null() & pl.col("currency").is_not_null())
    if (priced["currency"] != currency).any():
        check_target(converter)
    converted, listed = usage.days(days)
    kept = tuple(c for c in earlier if day_list and min(day_list) <= c.asked <= max(day_list))
    future: dict[str, Decimal] = {}
    planned: list[Conversion] = []
    if day_list:
        last = max(day_list)
        month_end = last.replace(day=calendar.monthrange(last.year, last.month)[1])
        for cur in sorted(listed):
            held = _held(planning_twin(converter), cur, last, month_end)
            future[cur] = held.rate
            if held.kind != "same":
                planned.append(held)
    return BudgetMoney(converted, listed, future, (*kept, *usage.used(), *planned))


def _held(converter: Converter, currency: str, last: date, month_end: date) -> Conversion:
    """The rate of ``currency`` known on ``last``, held to ``month_end``: a planning rate."""
    try:
        known = converter.convert(currency, last)
    except FxError as exc:
        raise PricingError(
            f"cannot forecast the rest of the month in {converter.target}: {exc}"
        ) from None
    if known.kind in ("same", "user"):
        return known
    return replace(known, kind="planning", asked=month_end)

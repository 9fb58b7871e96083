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

from pricing._base.money import LEDGER_MONEY, LEDGER_PLACES
from pricing._cards.catalog import Catalog
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


# --------------------------------------------------------------------------- unpriced calls

#: ``Estimate.groups``: the unpriced calls of a day, offer and operation, and their estimate.
ESTIMATE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "day": pl.Date,
    "offer_id": pl.String,
    "operation": pl.String,
    "requests": pl.Int64,
    "images": pl.Int64,
    "per_image": LEDGER_MONEY,
    "cost": LEDGER_MONEY,
    "basis": pl.String,
}
_UNPRICED = pl.col("reason").is_not_null()
_PLACES = Decimal(1).scaleb(-LEDGER_PLACES)


@dataclass(frozen=True)
class Estimate:
    """What the unpriced calls of a month so far would cost at their offer's nearest price,
    in the budget's currency: ``groups`` (:data:`ESTIMATE_SCHEMA`; ``cost`` null where no
    price was found), their sum ``cost``, the calls estimated and those that could not be."""

    groups: pl.DataFrame
    cost: Decimal
    calls: int
    missing: int
    asked: bool = True


def no_estimate(days: pl.DataFrame) -> Estimate:
    """No estimate (it was not asked for): every unpriced call of ``days`` left out."""
    unpriced = int(days.filter(_UNPRICED)["requests"].sum())
    return Estimate(pl.DataFrame(schema=ESTIMATE_SCHEMA), Decimal(0), 0, unpriced, asked=False)


def estimate_unpriced(
    days: pl.DataFrame,
    currency: str,
    *,
    asked: bool = True,
    fx: FxInput,
    max_fx_age_days: int,
    root: Path | None,
) -> Estimate:
    """An estimate of the unpriced calls of ``days`` (day sums in ``currency``, as
    :func:`budget_money` gives them), each group of a day, offer and operation at the nearest
    price there is: the cost per image of the priced calls of the same offer on the nearest
    day, else of the same model on any offer, else the offer's list price on the group's day
    for the model's default request (the field that left the calls unpriced ignored). The
    estimate is never spend: the budget forecasts with it and says so. Not ``asked``: no
    estimate, every unpriced call left out (:func:`no_estimate`)."""
    if not asked:
        return no_estimate(days)
    priced = (
        days.filter(~_UNPRICED & pl.col("cost").is_not_null() & (pl.col("images") > 0))
        .group_by("day", "offer_id", "model")
        .agg(pl.col("cost").sum(), pl.col("images").sum())
    )
    unpriced = (
        days.filter(_UNPRICED)
        .group_by("day", "offer_id", "model", "operation")
        .agg(pl.col("requests").sum().cast(pl.Int64), pl.col("images").sum().cast(pl.Int64))
        .sort("day", "offer_id", "operation", nulls_last=True)
    )
    listed = _Listed(currency, fx, max_fx_age_days, root)
    rows = []
    for u in unpriced.iter_rows(named=True):
        found = _nearest(priced, u, "offer_id") or _nearest(priced, u, "model") or listed.price(u)
        per_image, basis = found if found is not None else (None, None)
        images = u["images"] or u["requests"]
        cost = None if per_image is None else (per_image * images).quantize(_PLACES)
        shown = None if per_image is None else per_image.quantize(_PLACES)
        rows.append({**u, "images": images, "per_image": shown, "cost": cost, "basis": basis})
    groups = pl.DataFrame(rows, schema=ESTIMATE_SCHEMA | {"model": pl.String}).drop("model")
    found_rows = groups.filter(pl.col("cost").is_not_null())
    return Estimate(
        groups,
        sum(found_rows["cost"].to_list(), Decimal(0)),
        int(found_rows["requests"].sum()),
        int(groups.filter(pl.col("cost").is_null())["requests"].sum()),
    )


def _nearest(
    priced: pl.DataFrame, group: dict[str, object], key: str
) -> tuple[Decimal, str] | None:
    """The cost per image of the priced calls sharing ``group``'s ``key`` (offer or model) on
    the day nearest to the group's (the earlier on a tie), and how it was found."""
    if group[key] is None:
        return None
    same = priced.filter(pl.col(key) == group[key])
    if same.height == 0:
        return None
    day = group["day"]
    assert isinstance(day, date)
    gaps = [(abs((d - day).days), d) for d in same["day"].unique().to_list()]
    nearest = min(gaps)[1]
    on = same.filter(pl.col("day") == nearest)
    per_image = sum(on["cost"].to_list(), Decimal(0)) / int(on["images"].sum())
    whose = f"{group[key]}" if key == "offer_id" else f"{group[key]} on {', '.join(on['offer_id'])}"
    return per_image, f"{whose}'s price per image on {nearest.isoformat()}"


class _Listed:
    """An offer's list price per image on a day, for the model's default request: the last
    resort of :func:`estimate_unpriced` (the catalog is read only when it is needed)."""

    def __init__(self, currency: str, fx: FxInput, max_fx_age_days: int, root: Path | None) -> None:
        self.currency, self.fx, self.max_age, self.root = currency, fx, max_fx_age_days, root
        self.catalog: Catalog | None = None

    def price(self, group: dict[str, object]) -> tuple[Decimal, str] | None:
        from pricing._cards.catalog import load_catalog
        from pricing._price.request import ImageRequest
        from pricing._quote.quote import quote

        offer, day = group["offer_id"], group["day"]
        if not isinstance(offer, str) or not isinstance(day, date):
            return None
        try:
            self.catalog = self.catalog or load_catalog(self.root)
            model = self.catalog.offer(offer).model
            request = ImageRequest(model=model, operation=str(group["operation"] or "generate"))
            q = quote(
                request, offer, as_of=day, catalog=self.catalog, currency=self.currency,
                fx=self.fx, max_fx_age_days=self.max_age,
            )  # fmt: skip
        except (PricingError, ValueError):
            return None
        return q.per_image, f"{offer}'s list price of a {request.size} image on {day.isoformat()}"


def with_estimate(daily: pl.DataFrame, estimate: Estimate) -> pl.DataFrame:
    """``daily`` (a budget's days) with each day's estimate of its unpriced calls added to
    its cumulative spend: the month as the forecast sees it."""
    if estimate.cost == 0:
        return daily
    per_day = estimate.groups.group_by("day").agg(extra=pl.col("cost").sum())
    return (
        daily.join(per_day, on="day", how="left", maintain_order="left")
        .with_columns(
            cumulative=pl.col("cumulative") + pl.col("extra").fill_null(0).cum_sum(),
        )
        .drop("extra")
    )


def estimate_notes(estimate: Estimate, currency: str) -> list[str]:
    """What the forecast counts of the unpriced calls, and what it cannot."""
    notes = []
    if estimate.calls:
        bases = estimate.groups.drop_nulls("cost")["basis"].unique(maintain_order=True)
        said = "; ".join(bases.head(3).to_list()) + ("; ..." if bases.len() > 3 else "")
        notes.append(
            f"forecast includes an estimate of {estimate.calls:,} unpriced call(s) at their "
            f"offer's nearest price: {currency} {estimate.cost:,.2f} ({said}); the spend so "
            "far does not"
        )
    if estimate.missing and not estimate.asked:
        notes.append(
            f"{estimate.missing:,} unpriced call(s) are in neither the spend nor the forecast; "
            "estimate=True counts them in the forecast at their offer's nearest price"
        )
    elif estimate.missing:
        notes.append(
            f"{estimate.missing:,} unpriced call(s) have no estimate (no priced call of their "
            "offer or model this month, and no list price of the offer on their day): the "
            "forecast leaves them out, so the month may cost more"
        )
    return notes

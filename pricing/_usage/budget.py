"""Monthly budgets: month-to-date spend of a usage log, its run rate, forecast and alerts.

A :class:`Budget` is an amount per calendar month (UTC) with alert thresholds.
:func:`budget_status` reads the spend of each day of one month from a :class:`~pricing.Replay`
(its day sums, which add up exactly to its months; the log is not read again) and projects
the month at the run rate so far::

    run rate  = spent so far / days elapsed                      [currency/day]
    forecast  = run rate x days in the month                     [currency]
    run-out   = first day d with run rate x d >= budget          (None: not within the month)

Calls without a price are counted apart and never as 0: the spend leaves them out and, with
``estimate=True``, the forecast counts them at their offer's nearest price and says so
(:func:`pricing._usage.budget_fx.estimate_unpriced`). Calls priced in another currency than
the budget's are converted (:mod:`pricing._usage.budget_fx`): each day so far at its own ECB
rate, the rest of the month at the latest rate, a stated planning rate; then::

    run rate  = sum over currencies of (their spend / days elapsed) x planning rate
    forecast  = spent + run rate x days left in the month
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation
from fractions import Fraction

import polars as pl
from pydantic import BaseModel, ConfigDict, field_validator

from pricing._base.dates import to_date
from pricing._base.money import LEDGER_MONEY, LEDGER_PLACES
from pricing._fx.convert import Conversion
from pricing._quote.fx import FxInput
from pricing._usage.budget_fx import (
    ESTIMATE_SCHEMA,
    BudgetMoney,
    budget_money,
    estimate_notes,
    estimate_unpriced,
    with_estimate,
)
from pricing._usage.days import by_day, by_price
from pricing._usage.fx_rows import fx_rates_frame
from pricing._usage.replay import Replay
from pricing.errors import PricingError

#: Money is kept at Replay's scale (LEDGER_PLACES), so day sums add up to its month exactly.
_PLACES = Decimal(1).scaleb(-LEDGER_PLACES)
_WIDE = Context(prec=60)


class Budget(BaseModel):
    """A spending limit per calendar month (UTC), with alert thresholds.

    Parameters
    ----------
    monthly : Decimal, int, float or str  [currency/month]
        The budget; a float is read by its shortest text (``0.1`` is exactly 0.1).
    currency : str
        ISO 4217 code of the budget; calls priced in another are converted into it (see
        :func:`budget_status`).
    alerts : tuple of float  [fraction of the budget]
        Thresholds to report, ascending, each in (0, 2]: ``(0.8, 1.0)`` alerts at 80% and 100%.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    monthly: Decimal
    currency: str = "USD"
    alerts: tuple[float, ...] = (0.8, 1.0)

    @field_validator("monthly", mode="before")
    @classmethod
    def _amount(cls, value: object) -> Decimal:
        try:
            if isinstance(value, bool):
                raise TypeError
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, InvalidOperation):
            raise PricingError(
                f"monthly budget {value!r} is not an amount; give a number per month, "
                "e.g. 5000 or Decimal('5000')"
            ) from None
        if not amount.is_finite() or amount <= 0:
            raise PricingError(
                f"monthly budget must be a positive amount per month, got {value!r}; e.g. 5000"
            )
        return amount

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> str:
        if not (isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper()):
            raise PricingError(
                f"budget currency {value!r} is not an ISO 4217 code; write e.g. USD or EUR"
            )
        return value

    @field_validator("alerts", mode="before")
    @classmethod
    def _thresholds(cls, value: object) -> tuple[float, ...]:
        items = (value,) if isinstance(value, int | float) else value
        try:
            if not isinstance(items, Iterable) or isinstance(items, str | bytes):
                raise TypeError
            listed = list(items)
            if any(isinstance(t, bool) for t in listed):
                raise TypeError
            thresholds = tuple(float(t) for t in listed)
        except (TypeError, ValueError):
            raise PricingError(
                f"budget alerts {value!r} must be fractions of the budget, e.g. (0.8, 1.0)"
            ) from None
        bad = [t for t in thresholds if not 0 < t <= 2]
        if bad:
            raise PricingError(
                f"budget alert {bad[0]!r} is outside (0, 2]: thresholds are fractions of the "
                "budget, e.g. 0.8 for 80% and 1.0 for 100%"
            )
        if list(thresholds) != sorted(set(thresholds)):
            fixed = ", ".join(repr(t) for t in sorted(set(thresholds)))
            raise PricingError(
                f"budget alerts {thresholds!r} must be ascending without repeats; write ({fixed})"
            )
        return thresholds


@dataclass(frozen=True)
class BudgetStatus:
    """Where a month's spend stands against a :class:`Budget`, and where it is heading.

    Attributes
    ----------
    budget : Budget
    month : date
        First day of the month (UTC).
    as_of : date
        Last day counted: the ``as_of`` given, or the last day of the month with a call.
    days_in_month, days_elapsed : int  [days]
        ``days_elapsed`` counts the month's days up to and including ``as_of``.
    spent : Decimal  [currency]
        Month-to-date cost of the priced calls, exact (each day at its own rate when the
        calls are priced in another currency).
    run_rate : Decimal  [currency/day]
        ``spent / days_elapsed``, to 10 places; for calls priced in another currency, their
        spend per day in it at the planning rate (the rate the rest of the month is
        forecast at).
    forecast : Decimal  [currency]
        Month-end spend, ``spent + run_rate x days left`` (in one currency:
        ``spent x days_in_month / days_elapsed``).
    run_out : date or None
        The day the cumulative spend reaches the budget: the actual day if it already has,
        else the day the run rate would take it there; None if not within the month.
    requests, unpriced : int  [calls]
        Month-to-date calls, and those with no price (not in ``spent``, never counted as 0).
    daily : DataFrame
        day, day_of_month, requests, images, unpriced, cost [currency] (null on a day whose
        calls all lack a price; 0 on a day without calls), cumulative [currency].
    projection : DataFrame
        day, day_of_month, cumulative [currency]: the run rate from ``as_of`` to month end.
    alerts : DataFrame
        threshold [fraction], amount [currency], crossed, crossed_on (actual day),
        forecast_crossed, forecast_on (actual or forecast day).
    prices : DataFrame
        Where the month-to-date numbers come from: offer_id, provider, price_version,
        source_id, currency, reason (why calls have no price), requests, images, cost.
    source : str
        The log replayed.
    notes : tuple of str
    evidence : str
        The trust policy the spend and forecast were priced under (the replay's).
    conversions : tuple of Conversion
        The exchange rates used: each day's (published or yours), then the planning rates
        the rest of the month is forecast at (``kind == "planning"``). See ``fx_rates``.
    estimated, estimated_calls, estimates : Decimal [currency], int [calls], DataFrame
        With ``estimate=True``: the unpriced calls so far at their offer's nearest price (not
        in ``spent``; in the run rate, forecast, run-out and forecast alerts); ``estimates``
        per day, offer and operation: requests, images, per_image, cost (null: no price
        found) and basis.
    """

    budget: Budget
    month: date
    as_of: date
    days_in_month: int
    days_elapsed: int
    spent: Decimal
    run_rate: Decimal
    forecast: Decimal
    run_out: date | None
    requests: int
    unpriced: int
    daily: pl.DataFrame
    projection: pl.DataFrame
    alerts: pl.DataFrame
    prices: pl.DataFrame
    source: str
    notes: tuple[str, ...] = ()
    evidence: str = ""
    conversions: tuple[Conversion, ...] = ()
    estimated: Decimal = Decimal(0)
    estimated_calls: int = 0
    estimates: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ESTIMATE_SCHEMA))

    @property
    def currency(self) -> str:
        return self.budget.currency

    @property
    def fx_rates(self) -> pl.DataFrame:
        """The exchange rates used: day, from, to, rate [to/from], rate_day, source, kind."""
        return fx_rates_frame(self.conversions)

    @property
    def used(self) -> float:
        """Month-to-date spend as a fraction of the budget [fraction]."""
        return float(self.spent / self.budget.monthly)

    @property
    def over_budget(self) -> bool:
        """Whether month-to-date spend has reached the budget."""
        return self.spent >= self.budget.monthly

    @property
    def crossed(self) -> tuple[float, ...]:
        """Alert thresholds month-to-date spend has reached."""
        return tuple(self.alerts.filter(pl.col("crossed"))["threshold"].to_list())

    @property
    def forecast_crossed(self) -> tuple[float, ...]:
        """Alert thresholds the month reaches at the run rate (the crossed ones included)."""
        return tuple(self.alerts.filter(pl.col("forecast_crossed"))["threshold"].to_list())


def budget_status(
    result: Replay,
    budget: Budget,
    *,
    as_of: date | datetime | str | None = None,
    fx: FxInput = None,
    max_fx_age_days: int = 7,
    estimate: bool = False,
) -> BudgetStatus:
    """Month-to-date spend of a replayed log against a monthly budget, with a forecast.

    Parameters
    ----------
    result : Replay
        From :func:`pricing.replay`; its day sums (``Replay.days``) hold the spend of each
        day, so the log is not read again.
    budget : Budget
    as_of : date, optional
        Count the month of this day up to this day (UTC). Default: the latest month of the
        log, up to its last day with a call.
    fx : DataFrame, list or dict of your rates, or Converter, optional
        For calls priced in another currency than the budget's: the rates (default: those of
        the data directory the log was priced with), or your rates, e.g. ``["EURUSD=1.08"]``.
        Each day converts at its own ECB rate (a day without one at most ``max_fx_age_days``
        old leaves its calls unpriced, with the reason); the rest of the month at the latest
        rate known on ``as_of``, a planning rate. ``conversions`` states every rate. A
        replay already in the budget's currency (``replay(..., currency=)``) is counted as it
        is, its rates stated, and its run rate carried on in that currency.
    max_fx_age_days : int  [days]
        Oldest ECB rate accepted for a day.
    estimate : bool
        Count the unpriced calls so far in the forecast at their offer's nearest price (a
        note says so; ``estimates`` lists them). Without it they are in neither the spend
        nor the forecast, and a note says that.

    Raises
    ------
    PricingError
        No month to budget, or a month the replay did not cover (it was replayed with another
        ``month=``).
    FxError
        A bad rate of yours, or a budget currency no exchange rate reaches.
    """
    start = _first_day(result, as_of)
    days_in_month = calendar.monthrange(start.year, start.month)[1]
    month_days = _month_days(result, start)
    end = _last_day(month_days, start, as_of)
    money = budget_money(
        month_days.filter(pl.col("day") <= end),
        budget.currency,
        fx=fx,
        max_fx_age_days=max_fx_age_days,
        root=result.root,
        earlier=result.conversions,
    )
    to_date_days = money.days
    daily = by_day(to_date_days, start, end)
    spent = Decimal(daily["cumulative"][-1])
    guess = estimate_unpriced(
        to_date_days, budget.currency, asked=estimate, fx=fx, max_fx_age_days=max_fx_age_days,
        root=result.root,
    )  # fmt: skip
    seen = with_estimate(daily, guess)  # the month as the forecast sees it
    rate = _run_rate(money, end.day) + Fraction(guess.cost) / end.day
    expected = Fraction(spent) + Fraction(guess.cost)
    return BudgetStatus(
        budget=budget,
        month=start,
        as_of=end,
        days_in_month=days_in_month,
        days_elapsed=end.day,
        spent=spent,
        run_rate=_money(rate),
        forecast=_money(expected + rate * (days_in_month - end.day)),
        run_out=_first(daily, seen, Fraction(budget.monthly), rate, days_in_month),
        requests=_calls(to_date_days),
        unpriced=_calls(to_date_days.filter(pl.col("reason").is_not_null())),
        daily=daily,
        projection=_projection(rate, expected, start, end.day, days_in_month),
        alerts=_alerts(daily, seen, budget, rate, days_in_month),
        prices=by_price(to_date_days),
        source=result.source,
        notes=tuple(
            _notes(month_days, to_date_days, start, end)
            + _fx_notes(money, budget)
            + estimate_notes(guess, budget.currency)
        ),
        evidence=result.evidence,
        conversions=money.conversions,
        estimated=guess.cost,
        estimated_calls=guess.calls,
        estimates=guess.groups,
    )


def _run_rate(money: BudgetMoney, elapsed: int) -> Fraction:
    """Spend per day to come [budget currency/day]: each priced currency's spend so far per
    day elapsed, at the rate the rest of the month is forecast at."""
    return (
        sum(
            (Fraction(spent) * Fraction(money.future[cur]) for cur, spent in money.listed.items()),
            Fraction(0),
        )
        / elapsed
    )


def _fx_notes(money: BudgetMoney, budget: Budget) -> list[str]:
    """How calls in other currencies were counted, when there were any."""
    others = sorted(c for c in money.listed if c != budget.currency)
    if not others:
        return []
    return [
        f"calls priced in {', '.join(others)} are converted into {budget.currency}: each day "
        "at its own ECB rate, the rest of the month at the latest rate known (a planning rate, "
        "an assumption); see the exchange rates used"
    ]


# --------------------------------------------------------------------------- the month so far


def _first_day(result: Replay, as_of: date | datetime | str | None) -> date:
    """The first day of the month budgeted: ``as_of``'s, else the replay's latest month."""
    if as_of is not None:
        return to_date(as_of).replace(day=1)
    if not result.months:
        raise PricingError(
            f"nothing to budget: {result.source} has no readable calls "
            f"({result.rows_quarantined} row(s) quarantined); see Replay.quarantine"
        )
    year, mon = (int(p) for p in result.months[-1].split("-"))
    return date(year, mon, 1)


def _month_days(result: Replay, start: date) -> pl.DataFrame:
    """The replay's day sums of the month from ``start``.

    Raises
    ------
    PricingError
        The replay covers another month only (``replay(..., month=)``).
    """
    month = f"{start:%Y-%m}"
    if result.month is not None and result.month != month:
        raise PricingError(
            f"the replay covers {result.month} only (replay(..., month={result.month!r})), "
            f"so it cannot tell the spend of {month}: replay the log with month={month!r}, "
            "or without month"
        )
    return result.days.filter(pl.col("day").dt.truncate("1mo") == start)


def _calls(days: pl.DataFrame) -> int:
    """The calls the day sums ``days`` count [calls]."""
    return int(days["requests"].sum())


def _last_day(days: pl.DataFrame, start: date, as_of: date | datetime | str | None) -> date:
    """The last day counted: ``as_of``, else the month's last day with a call."""
    if as_of is not None:
        return to_date(as_of)
    day = days["day"].max()
    if not isinstance(day, date):  # pragma: no cover - the month is one of the replay's
        raise PricingError(f"no calls in {start:%Y-%m} to budget")
    return day


def _notes(days: pl.DataFrame, counted: pl.DataFrame, start: date, end: date) -> list[str]:
    """What a reader of the status must know: no calls, calls not counted, a top-up."""
    notes: list[str] = []
    if _calls(counted) == 0:
        notes.append(f"the log has no calls in {start:%Y-%m} up to {end.isoformat()}")
    later = _calls(days) - _calls(counted)
    if later:
        notes.append(f"{later} call(s) after {end.isoformat()} are not counted")
    if counted["top_ups"].sum() > 0:
        notes.append(
            "a minimum-spend top-up is booked on the month's last priced call, as if the "
            "month were complete"
        )
    return notes


def _projection(
    rate: Fraction, spent: Fraction, start: date, elapsed: int, days: int
) -> pl.DataFrame:
    """day, day_of_month, cumulative: ``spent``, then the run rate from the day ``elapsed``
    to month end."""
    return pl.DataFrame(
        {
            "day": [start + timedelta(days=d - 1) for d in range(elapsed, days + 1)],
            "day_of_month": range(elapsed, days + 1),
            "cumulative": [_money(spent + rate * (d - elapsed)) for d in range(elapsed, days + 1)],
        },
        schema={"day": pl.Date, "day_of_month": pl.Int64, "cumulative": LEDGER_MONEY},
    )


def _reaches(daily: pl.DataFrame, amount: Fraction, rate: Fraction, days: int) -> date | None:
    """First day the cumulative spend reaches ``amount``: actual, else at the run rate from
    the last day counted (``daily`` runs from the month's first day to it)."""
    for value, day in zip(daily["cumulative"], daily["day"], strict=True):
        if Fraction(value) >= amount and isinstance(day, date):
            return day
    if rate <= 0:
        return None
    elapsed, spent = daily.height, Fraction(daily["cumulative"][-1])
    n = elapsed + math.ceil((amount - spent) / rate)
    first = daily["day"][0]
    return first + timedelta(days=n - 1) if n <= days and isinstance(first, date) else None


def _first(
    daily: pl.DataFrame, seen: pl.DataFrame, amount: Fraction, rate: Fraction, days: int
) -> date | None:
    """The day the spend reached ``amount`` (``daily``), else the day the month as forecast
    reaches it (``seen``: with the estimate of the unpriced calls), else None."""
    reached = Fraction(daily["cumulative"][-1]) >= amount
    return _reaches(daily if reached else seen, amount, rate, days)


def _alerts(
    daily: pl.DataFrame, seen: pl.DataFrame, budget: Budget, rate: Fraction, days: int
) -> pl.DataFrame:
    spent = Fraction(daily["cumulative"][-1])
    rows = []
    for threshold in budget.alerts:
        amount = Fraction(budget.monthly) * Fraction(Decimal(repr(threshold)))
        on = _first(daily, seen, amount, rate, days)
        crossed = spent >= amount
        rows.append(
            {
                "threshold": threshold,
                "amount": _money(amount),
                "crossed": crossed,
                "crossed_on": on if crossed else None,
                "forecast_crossed": on is not None,
                "forecast_on": on,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "threshold": pl.Float64,
            "amount": LEDGER_MONEY,
            "crossed": pl.Boolean,
            "crossed_on": pl.Date,
            "forecast_crossed": pl.Boolean,
            "forecast_on": pl.Date,
        },
        orient="row",
    )


def _money(value: Fraction) -> Decimal:
    """An exact fraction as money at Replay's scale (LEDGER_PLACES places, half even)."""
    quotient = _WIDE.divide(Decimal(value.numerator), Decimal(value.denominator))
    return quotient.quantize(_PLACES, context=_WIDE)

"""A plan's money in one currency: how each currency it meets is converted, month by month.

Every bundled price is in USD (hosted per-image prices, GPU hourly prices, licences), and a
workload states its own money (operations, storage, egress, licence fees, housing) in its
``currency``. :class:`FxPlan` converts each into the plan's currency on the first day of each
month: a rate you gave (``--fx``, used on every day), else the ECB reference rate published
for that day, else (a month after the data ends) a planning rate, stated as an assumption:
the workload's ``fx`` table for the pair when it has one, else the latest published rate.

A workload rate given as a distribution is an uncertain input like any other
(``("fx", "EURUSD")``): the Monte Carlo draws one rate per sample and applies it to every
amount of that sample it converts, and the sensitivity table moves it to its P10 and P90.

Amounts already in the plan's currency are never touched (:meth:`FxPlan.factor` is None), so
a USD workload simulated in USD gives exactly the figures it gave before conversions existed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

import numpy as np
import polars as pl

from pricing._fx.convert import Conversion, Converter, Leg
from pricing._plan.inputs import Inputs
from pricing._workloads.distributions import LogNormal, Normal, Number, Triangular, Uniform
from pricing._workloads.inputs import InputPath
from pricing._workloads.model import central
from pricing.errors import FxError

_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
#: Source id of a planning rate taken from the workload's ``fx`` table.
WORKLOAD_SOURCE = "workload"

FX_SCHEMA = {
    "currency": pl.String,
    "to": pl.String,
    "month": pl.Date,
    "rate": pl.Float64,
    "kind": pl.String,
    "day": pl.Date,
    "source": pl.String,
    "sampled": pl.Boolean,
    "text": pl.String,
}


def six_digits(rate: Decimal) -> str:
    """A rate for people, six significant digits, never in exponent form: ``0.925926``."""
    text = f"{rate:.6g}"
    if "e" in text:
        text = format(rate.quantize(Decimal(10) ** (rate.adjusted() - 5)), "f")
    return text


def given_text(pair: str, value: Number) -> str:
    """A workload rate in words: ``EURUSD = 1.08``, ``EURUSD, triangular 1.02 / 1.08 / 1.15``."""
    if isinstance(value, int | float):
        return f"{pair} = {value:g}"
    if isinstance(value, Uniform):
        return f"{pair}, uniform between {value.low:g} and {value.high:g}"
    if isinstance(value, Triangular):
        return f"{pair}, triangular {value.low:g} / {value.mode:g} / {value.high:g}"
    if isinstance(value, Normal):
        return f"{pair}, normal with mean {value.mean:g} and sd {value.sd:g}"
    if isinstance(value, LogNormal):
        return f"{pair}, lognormal with median {value.median:g} and sigma {value.sigma:g}"
    return f"{pair} = {value}"  # pragma: no cover - the workload model allows no other


@dataclass(frozen=True)
class WorkloadRate(Conversion):
    """A planning rate from the workload's ``fx`` table (an assumption, source ``workload``);
    ``given`` the rate as written, ``sampled`` whether the Monte Carlo draws it."""

    given: str = ""
    sampled: bool = False
    other: str = ""  # the leg of a cross rate the workload does not give, in words

    def describe(self) -> str:
        head = f"1 {self.from_currency} = {six_digits(self.rate)} {self.to_currency}"
        how = (
            ", at its centre in the base case and drawn once per Monte Carlo sample"
            if self.sampled
            else ""
        )
        via = ", a cross rate through EUR" if self.via_eur else ""
        return (
            f"{head} (planning rate held for {self.asked}: the workload's fx {self.given}{how}"
            f"{self.other}; an assumption{via}; source: {self.source})"
        )


@dataclass(frozen=True)
class Term:
    """One factor of a rate: a constant, or the workload's rate ``pair``, to the power ±1."""

    value: Decimal  # the constant, or the workload rate's centre
    power: int
    pair: str | None = None
    leg: Leg | None = None  # where a constant leg of a cross rate comes from

    @property
    def path(self) -> InputPath:
        """Where the workload's rate sits among the uncertain inputs."""
        return ("fx", str(self.pair))


@dataclass(frozen=True)
class MonthRate:
    """How one currency becomes the plan's on one month's first day: the conversion stated,
    and (a workload rate) the factors whose product is the rate [to/from] of each sample."""

    conversion: Conversion
    terms: tuple[Term, ...] = ()


@dataclass
class FxPlan:
    """Rates into ``target`` for the first day of each month of ``days``, made on demand.

    ``converter`` gives your rates and the published ones (planning: a month after the data
    uses the latest); ``workload`` is the workload's ``fx`` table, which replaces that latest
    rate where it gives the pair or a leg of it.
    """

    target: str
    days: tuple[date, ...]
    converter: Converter
    workload: Mapping[str, Number] = field(default_factory=dict)
    _rates: dict[str, tuple[MonthRate, ...]] = field(default_factory=dict, init=False, repr=False)

    def months(self, currency: str) -> tuple[MonthRate, ...]:
        """The rate of each month for ``currency`` (built the first time it is asked for)."""
        if currency not in self._rates:
            self._rates[currency] = tuple(self._month(currency, day) for day in self.days)
        return self._rates[currency]

    def factor(self, currency: str, inputs: Inputs) -> np.ndarray | None:
        """Rate [target/currency] of each sample and month, shape (samples or 1, months);
        None for the plan's own currency (nothing to convert)."""
        if currency == self.target:
            return None
        columns = [self._column(r, inputs) for r in self.months(currency)]
        rows = max(c.shape[0] for c in columns)
        return np.concatenate([np.broadcast_to(c, (rows, 1)) for c in columns], axis=1)

    def base(self, currency: str, month: int = 0) -> float:
        """The base case's rate [target/currency] of month ``month`` (every input at its
        centre); 1.0 for the plan's own currency."""
        if currency == self.target:
            return 1.0
        return float(self.months(currency)[month].conversion.rate)

    def first_month(self) -> FxPlan:
        """The same plan for the first month only (a break-even beside a simulation)."""
        return self.on(self.days[:1])

    def on(self, days: Sequence[date]) -> FxPlan:
        """The same rates (yours, published, the workload's) for other days."""
        return FxPlan(self.target, tuple(days), self.converter, self.workload)

    def conversions(self) -> list[Conversion]:
        """Every conversion made, by currency and month (none for the plan's own currency)."""
        return [r.conversion for currency in sorted(self._rates) for r in self._rates[currency]]

    def frame(self) -> pl.DataFrame:
        """One row per (currency, month) converted: rate [to/from] of the base case, kind
        (published, user, planning), the rate's day, source, whether it is sampled, in words."""
        rows = [
            {
                "currency": c.from_currency,
                "to": c.to_currency,
                "month": c.asked,
                "rate": float(c.rate),
                "kind": c.kind,
                "day": c.day,
                "source": c.source,
                "sampled": isinstance(c, WorkloadRate) and c.sampled,
                "text": c.describe(),
            }
            for c in self.conversions()
        ]
        return pl.DataFrame(rows, schema=FX_SCHEMA)

    def unused(self) -> list[str]:
        """The workload's rates no month used (a --fx or published rate applied instead, or
        no amount is in those currencies)."""
        used = {t.pair for months in self._rates.values() for r in months for t in r.terms}
        return [pair for pair in self.workload if pair not in used]

    # ----------------------------------------------------------------------- internals

    def _column(self, rate: MonthRate, inputs: Inputs) -> np.ndarray:
        if not rate.terms:
            return np.array([[float(rate.conversion.rate)]])
        value: np.ndarray = np.ones((1, 1))
        for t in rate.terms:
            x = float(t.value) if t.pair is None else inputs.get(t.path, self.workload[t.pair])
            value = value * np.asarray(x, dtype=np.float64).reshape(-1, 1) ** t.power
        return value

    def _month(self, currency: str, day: date) -> MonthRate:
        try:
            made = self.converter.convert(currency, day)
        except FxError as exc:
            raise FxError(
                f"cannot convert {currency} into {self.target} for the month of {day}: {exc}"
            ) from None
        if made.kind != "planning" or not self.workload:
            return MonthRate(made)
        terms = self._workload_terms(currency, day)
        if terms is None:
            return MonthRate(made)
        rate = Decimal(1)
        for t in terms:
            rate = _CTX.multiply(rate, t.value if t.power > 0 else _CTX.divide(1, t.value))
        pairs = [t.pair for t in terms if t.pair is not None]
        legs = [t.leg for t in terms if t.leg is not None]
        days = [leg.day for leg in legs if leg.day is not None]
        stated = WorkloadRate(
            currency,
            self.target,
            rate,
            "planning",
            day,
            min(days) if days else None,
            "+".join(sorted({WORKLOAD_SOURCE, *(leg.source for leg in legs)})),
            len(terms) > 1,
            given="; ".join(given_text(p, self.workload[p]) for p in pairs),
            sampled=any(not isinstance(self.workload[p], int | float) for p in pairs),
            other="".join(_leg_words(leg) for leg in legs),
        )
        return MonthRate(stated, terms)

    def _workload_terms(self, currency: str, day: date) -> tuple[Term, ...] | None:
        """The rate [target/currency] as factors from the workload's table: the pair itself,
        or each planning leg per EUR it gives (rate = target per EUR / currency per EUR);
        None when the table gives neither."""
        target = self.target
        for pair, power in ((currency + target, 1), (target + currency, -1)):
            if pair in self.workload:
                return (self._term(pair, power),)
        terms: list[Term] = []
        found = False
        for leg_currency, sign in ((target, 1), (currency, -1)):
            if leg_currency == "EUR":
                continue
            leg = self.converter.leg(leg_currency, day)
            given = next(
                (p for p in ("EUR" + leg_currency, leg_currency + "EUR") if p in self.workload),
                None,
            )
            if leg.kind == "planning" and given is not None:
                terms.append(self._term(given, sign if given.startswith("EUR") else -sign))
                found = True
            else:
                terms.append(Term(leg.per_eur, sign, leg=leg))
        return tuple(terms) if found else None

    def _term(self, pair: str, power: int) -> Term:
        centre = Decimal(repr(central(self.workload[pair])))
        return Term(centre, power, pair)


def _leg_words(leg: Leg) -> str:
    """Where the other leg of a cross rate comes from: ``; GBP per EUR: ...``."""
    head = f"; {leg.currency} per EUR: "
    if leg.kind == "user":
        return head + "your rate"
    if leg.kind == "planning":
        return head + f"the latest ECB reference rate, of {leg.day}, held"
    return head + f"the ECB reference rate of {leg.day}"


def fx_plan(
    target: str,
    days: Sequence[date],
    *,
    fx: pl.DataFrame | None = None,
    overrides: Iterable[str] | Mapping[str, object] | None = None,
    max_age_days: int = 7,
    workload: Mapping[str, Number] | None = None,
) -> FxPlan:
    """A plan's rates into ``target`` on ``days`` (planning: a day after the data takes the
    workload's rate, else the latest published one); :class:`FxError` for a bad code or rate."""
    converter = Converter(
        target.strip().upper(),
        fx=fx,
        overrides=overrides,
        max_age_days=max_age_days,
        planning=True,
    )
    return FxPlan(converter.target, tuple(days), converter, dict(workload or {}))


def rate_lines(conversions: Sequence[Conversion]) -> list[str]:
    """The conversions in words, one line per run of months with the same rate and evidence:
    ``1 USD = 0.925926 EUR (...), for the 12 months 2027-01 to 2027-12``."""
    runs: list[list[Conversion]] = []
    for c in conversions:
        key = (c.from_currency, c.rate, c.kind, c.day, c.source)
        last = runs[-1][-1] if runs else None
        if last is not None and key == (
            last.from_currency,
            last.rate,
            last.kind,
            last.day,
            last.source,
        ):
            runs[-1].append(c)
        else:
            runs.append([c])
    lines = []
    for run in runs:
        first, last_day = run[0].asked, run[-1].asked
        span = f", for the {len(run)} months {first:%Y-%m} to {last_day:%Y-%m}"
        lines.append(run[0].describe() + (span if len(run) > 1 else ""))
    return lines

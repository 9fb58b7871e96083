"""Conversions that state their evidence: the rate, its day, its source and what kind it is.

:class:`Converter` turns money in one currency into a target currency on a day and returns a
:class:`Conversion` saying how: the published ECB reference rate of the latest business day on
or before the day (``published``), the latest published rate held for a day after the data
ends (``planning``, an assumption, only when the converter plans), or a rate the user gave
(``user``, e.g. ``--fx EURUSD=1.08``). Conversions go through EUR, the ECB's base::

    rate [to/from] = to_per_eur / from_per_eur

Each leg (``from_per_eur``, ``to_per_eur``) is published, planning or the user's; the
conversion's kind is the weakest of its legs (user < planning < published), and its day the
older leg's day. A user rate for the pair itself (``USDEUR`` or its inverse ``EURUSD``) is used
as given, without EUR in between.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import polars as pl

from pricing._fx.frame import as_code, as_day, require_columns
from pricing._fx.rates import rate_used
from pricing._fx.store import load_fx
from pricing.errors import FxError

FxKind = Literal["same", "published", "user", "planning"]
_WEAKEST: dict[str, int] = {"same": 0, "published": 1, "user": 2, "planning": 3}
_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
_PAIR = re.compile(r"^\s*([A-Za-z]{3})\s*/?\s*([A-Za-z]{3})\s*=\s*(\S+)\s*$")
#: A published rate older than this when used is called out in the output [days].
STALE_DAYS = 3
USER_SOURCE = "user"


@dataclass(frozen=True)
class Leg:
    """Units of ``currency`` per 1 EUR used for one side of a conversion."""

    currency: str
    per_eur: Decimal  # [currency/EUR]
    kind: FxKind
    day: date | None  # the rate's day (None for EUR and for a user rate)
    source: str


@dataclass(frozen=True)
class Conversion:
    """``amount [from] * rate = amount [to]`` on ``asked``, with the evidence of the rate.

    ``day`` is the day of the (older) published rate used, ``None`` for the same currency
    and for a user rate; ``source`` the source id(s) (``user`` for a rate you gave);
    ``via_eur`` whether two rates per EUR were combined (a cross rate).
    """

    from_currency: str
    to_currency: str
    rate: Decimal  # [to/from]
    kind: FxKind
    asked: date
    day: date | None
    source: str
    via_eur: bool

    @property
    def age_days(self) -> int | None:
        """Days between the rate's day and the day asked [days]; None without a dated rate."""
        return None if self.day is None else (self.asked - self.day).days

    @property
    def stale(self) -> bool:
        """A published rate more than :data:`STALE_DAYS` older than the day asked."""
        age = self.age_days
        return self.kind == "published" and age is not None and age > STALE_DAYS

    def describe(self) -> str:
        """One line for a report: ``1 USD = 0.86123 EUR (ECB reference rate of 2026-06-15)``."""
        head = f"1 {self.from_currency} = {_show(self.rate)} {self.to_currency}"
        if self.kind == "same":
            return head
        via = ", a cross rate through EUR" if self.via_eur else ""
        if self.kind == "user":
            return f"{head} (your rate{via}; source: user)"
        if self.kind == "planning":
            return (
                f"{head} (planning rate: the latest ECB reference rate, of {self.day}, held "
                f"for {self.asked}; an assumption{via}; source: {self.source})"
            )
        old = f", {self.age_days} days before {self.asked}" if self.stale else ""
        return f"{head} (ECB reference rate of {self.day}{old}{via}; source: {self.source})"

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.from_currency,
            "to": self.to_currency,
            "rate": str(self.rate),
            "kind": self.kind,
            "asked": self.asked.isoformat(),
            "day": None if self.day is None else self.day.isoformat(),
            "source": self.source,
            "via_eur": self.via_eur,
            "text": self.describe(),
        }


def _show(rate: Decimal) -> str:
    """Six significant digits, never in exponent form: ``0.861234``, ``162.345``."""
    text = f"{rate:.6g}"
    if "e" in text:
        text = format(rate.quantize(Decimal(10) ** (rate.adjusted() - 5)), "f")
    return text


def parse_overrides(items: Iterable[str] | Mapping[str, object] | None) -> dict[str, Decimal]:
    """User rates as ``{"EURUSD": Decimal("1.08")}`` (1 EUR = 1.08 USD) from ``EURUSD=1.08``,
    ``EUR/USD=1.08`` texts or a mapping; :class:`FxError` naming the bad item and the fix."""
    if items is None:
        return {}
    pairs = [f"{k}={v}" for k, v in items.items()] if isinstance(items, Mapping) else list(items)
    out: dict[str, Decimal] = {}
    for text in pairs:
        m = _PAIR.match(str(text))
        rate = _positive(m.group(3)) if m else None
        if m is None or rate is None:
            raise FxError(
                f"exchange rate {text!r} is not understood; write it as FROMTO=rate, e.g. "
                "EURUSD=1.08 for 1 EUR = 1.08 USD (a positive finite number)"
            )
        base, quote = m.group(1).upper(), m.group(2).upper()
        if base == quote:
            raise FxError(f"exchange rate {text!r} converts {base} to itself; drop it")
        if (base + quote) in out or (quote + base) in out:
            raise FxError(f"exchange rate {base}{quote} is given twice; keep one")
        out[base + quote] = rate
    return out


def _positive(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and value > 0 else None


class Converter:
    """Converts into ``target``: published rates, your rates, and (``planning=True``) the
    latest published rate for days after the data ends.

    Parameters
    ----------
    target : str
        ISO 4217 code of the currency answers are in.
    fx : DataFrame, optional
        Rates as :func:`pricing.load_fx` returns them; default those of ``root``.
    root : Path, optional
        A data directory (default the bundled ``data/``), read when ``fx`` is not given.
    overrides : mapping or list of ``"EURUSD=1.08"``, optional
        Your rates; each is used on every day, as the source ``user``.
    max_age_days : int  [days]
        Oldest published rate accepted for a day within the data (the ECB publishes on
        business days only; 7 bridges weekends and holidays).
    planning : bool
        Whether a day after the last published rate, and more than ``max_age_days`` after
        it, may use that rate as a planning rate
        (simulations, budgets, break-evens, quotes); if not, such a day is an :class:`FxError`
        (usage, which happened on a day whose rate must be known).
    """

    def __init__(
        self,
        target: str,
        *,
        fx: pl.DataFrame | None = None,
        root: Path | None = None,
        overrides: Iterable[str] | Mapping[str, object] | None = None,
        max_age_days: int = 7,
        planning: bool = False,
    ) -> None:
        self.target = as_code(target)
        if max_age_days < 0:
            raise FxError(f"max_age_days must be 0 or more, got {max_age_days}")
        self.max_age_days = max_age_days
        self.planning = planning
        self.overrides = parse_overrides(overrides)
        self._fx = fx
        self._root = root
        self._cache: dict[tuple[str, date], Conversion] = {}

    @property
    def fx(self) -> pl.DataFrame:
        if self._fx is None:
            self._fx = load_fx(self._root)
        require_columns(self._fx, ("date", "currency", "per_eur"), "Converter")
        return self._fx

    def convert(self, from_currency: str, on: date) -> Conversion:
        """How 1 ``from_currency`` becomes ``target`` on ``on``; :class:`FxError` if it cannot."""
        src, day = as_code(from_currency), as_day(on, "on")
        key = (src, day)
        if key not in self._cache:
            self._cache[key] = self._convert(src, day)
        return self._cache[key]

    def _convert(self, src: str, day: date) -> Conversion:
        dst = self.target
        if src == dst:
            return Conversion(src, dst, Decimal(1), "same", day, None, "", False)
        for pair, inverse in ((src + dst, False), (dst + src, True)):
            if pair in self.overrides:
                value = self.overrides[pair]
                rate = _CTX.divide(Decimal(1), value) if inverse else value
                return Conversion(src, dst, rate, "user", day, None, USER_SOURCE, False)
        a, b = self.leg(src, day), self.leg(dst, day)
        legs = [leg for leg in (a, b) if leg.currency != "EUR"]
        kind = max((leg.kind for leg in legs), key=lambda k: _WEAKEST[k])
        days = [leg.day for leg in legs if leg.day is not None]
        sources = sorted({leg.source for leg in legs if leg.source})
        return Conversion(
            src,
            dst,
            _CTX.divide(b.per_eur, a.per_eur),
            kind,
            day,
            min(days) if days else None,
            "+".join(sources),
            len(legs) == 2,
        )

    def leg(self, currency: str, day: date) -> Leg:
        """Units of ``currency`` per EUR on ``day``: yours, published, or a planning rate."""
        if currency == "EUR":
            return Leg("EUR", Decimal(1), "same", None, "")
        if "EUR" + currency in self.overrides:
            return Leg(currency, self.overrides["EUR" + currency], "user", None, USER_SOURCE)
        if currency + "EUR" in self.overrides:
            value = _CTX.divide(Decimal(1), self.overrides[currency + "EUR"])
            return Leg(currency, value, "user", None, USER_SOURCE)
        try:
            used, per_eur, source = rate_used(self.fx, currency, day, self.max_age_days)
        except FxError as exc:
            last = self.last_day(currency)
            if self.planning and last is not None and day > last:
                _, per_eur, source = rate_used(self.fx, currency, last, 0)
                return Leg(currency, per_eur, "planning", last, source)
            raise FxError(f"{exc}; or give a rate, e.g. --fx EUR{currency}=...") from None
        return Leg(currency, per_eur, "published", used, source)

    def last_day(self, currency: str) -> date | None:
        """The day of the latest published rate of ``currency``, None if it has none."""
        days = self.fx.filter(pl.col("currency") == currency)["date"]
        return None if days.is_empty() else days.max()  # type: ignore[return-value]

    def used(self) -> list[Conversion]:
        """Every conversion made so far other than same-currency ones, by currency and day."""
        made = [c for c in self._cache.values() if c.kind != "same"]
        return sorted(made, key=lambda c: (c.from_currency, c.asked))

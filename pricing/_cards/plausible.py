"""Plausible figures: the range each billing unit's prices must fall in, in one place.

A price outside these ranges is not a price any provider charges: it is a unit mistake (USD
per token written where USD per 1M tokens belongs), a parse accident (``9e999999``), or a
feed sending nonsense. Rate cards are checked against them when they load (``pricing cards
validate`` lists each figure outside its range with the file, offer, version and field), and
every refresh checks the figures it brings before anything is written.

The ranges are deliberately wide (two or three orders of magnitude beyond the bundled
cards' cheapest and dearest figures), so that they catch mistakes, never real prices. They
are stated in US dollars and applied to the currencies within a small factor of it
(:data:`NEAR_DOLLAR`); a price in another currency (yen, won) is checked only for being
positive, finite and below :data:`LARGEST`.

A zero price is a free tier only when the whole version is free (every figure it states is
0): that is how free tiers are recorded in the cards (``bfl/flux-1-schnell``), and the
evidence layer flags such a version ``free-tier`` and keeps it out of answers. A single 0
among paid figures is refused: it is a typo or a missing figure that would price a request
at $0.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from pricing._cards.schema import PriceVersion


class Range(NamedTuple):
    """The plausible range of one kind of figure, inclusive, [``unit``]."""

    low: Decimal
    high: Decimal
    unit: str
    why: str

    def holds(self, value: Decimal) -> bool:
        return self.low <= value <= self.high

    def words(self) -> str:
        return f"{self.low:f} to {self.high:f} {self.unit}"


#: The plausible range of each measure [USD per the unit], and why it is that wide.
PLAUSIBLE: dict[str, Range] = {
    # Bundled cards: $0.002 (a 512x512 schnell image) to $0.80 (an upscale).
    "image": Range(Decimal("0.0001"), Decimal(10), "USD/image", "a hundredth of a cent to $10"),
    "megapixel": Range(Decimal("0.0001"), Decimal(10), "USD/MP", "as per image, per megapixel"),
    # Bundled: $2 to $40 per 1M tokens; a per-token figure (0.00004) lands far below.
    "token": Range(Decimal("0.01"), Decimal(1000), "USD/1M tokens", "per million, not per token"),
    # One GPU for an hour: a spot T4 is ~$0.10, an on-demand B300 ~$10.
    "gpu_hour": Range(
        Decimal("0.01"), Decimal(200), "USD/GPU-hour", "a tenth of a spot T4 to 20 B300s"
    ),
    # A second of the hardware a card names, up to a whole 8-GPU node ($0.0036 to $1,800/h).
    "gpu_second": Range(Decimal("0.000001"), Decimal("0.5"), "USD/s", "$0.0036 to $1,800 an hour"),
    # Bundled: $0.00035 to $0.0005 a step at 1024x1024.
    "step": Range(Decimal("0.000001"), Decimal(1), "USD/step", "per diffusion step"),
    "credits": Range(Decimal("0.01"), Decimal(100000), "credits/image", "credits per image"),
    "credit_value": Range(Decimal("0.0001"), Decimal(10), "USD/credit", "what one credit costs"),
    "monthly_fee": Range(Decimal(1), Decimal(100000), "USD/month", "a plan's monthly fee"),
    # ECB reference rates run from ~0.58 (CYP, 1999) to ~1,912,400 (TRL before 2005) per euro.
    "per_eur": Range(Decimal("0.0001"), Decimal(10_000_000), "per EUR", "an ECB reference rate"),
}
#: Currencies within a small factor of the dollar, whose prices are held to the USD ranges.
NEAR_DOLLAR = frozenset({"USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "SGD"})
#: No figure of a data file (a price in any currency, a count, a limit) is above this: larger
#: numbers are accidents that make later arithmetic overflow.
LARGEST = Decimal(10) ** 12
#: A refresh that moves a price by more than this factor, up or down, stops unless accepted.
LARGE_CHANGE = Decimal(10)
#: Dates a feed brings may be at most this many days after the fetch day (time zones).
FUTURE_DAYS = 1

#: (billing unit, priced field) -> measure of :data:`PLAUSIBLE`.
MEASURES: dict[tuple[str, str], str] = {
    ("image", "price"): "image",
    ("image", "price_high"): "image",
    ("image", "tier_price"): "image",
    ("input_image", "price"): "image",
    ("megapixel", "price"): "megapixel",
    ("megapixel", "first"): "megapixel",
    ("gpu_second", "price"): "gpu_second",
    ("credit", "credits"): "credits",
    ("credit", "credit_value"): "credit_value",
    ("token", "text_input"): "token",
    ("token", "image_input"): "token",
    ("token", "image_output"): "token",
    ("step", "price"): "step",
    ("subscription", "monthly_fee"): "monthly_fee",
    ("subscription", "overage_per_image"): "image",
    ("subscription", "overage_per_gpu_hour"): "gpu_hour",
}


class PriceIssue(NamedTuple):
    """One figure of a price version that no provider would charge."""

    field: str
    value: Decimal
    message: str
    fix: str


def figures(version: PriceVersion) -> Iterator[tuple[str, str, Decimal]]:
    """Every priced figure of ``version``: (field path, measure, value per the measure's
    unit). A step price is per step (``price / per_steps``)."""
    for i, comp in enumerate(version.components):
        tier = 0
        for name, value, start in comp.price_fields(version):
            if name == "credit_value":
                yield "credit_value", "credit_value", value
                continue
            if start is not None:
                path = f"components[{i}].tiers[{tier}].price"
                tier += 1
            else:
                path = f"components[{i}].{name}"
            per_steps = getattr(comp, "per_steps", 1) if comp.unit == "step" else 1
            yield path, MEASURES[(comp.unit, name)], _per(value, per_steps)


def _per(value: Decimal, per_steps: int) -> Decimal:
    """``value / per_steps``; a value too large for decimal arithmetic (``1e1000004``) is kept
    as it is, for the range check to refuse."""
    if per_steps == 1:
        return value
    try:
        return value / per_steps
    except ArithmeticError:
        return value


def is_free(version: PriceVersion) -> bool:
    """Whether every figure of ``version`` is 0: a free tier, as the cards record one."""
    return all(value == 0 for _, _, value in figures(version))


def shown(value: Decimal) -> str:
    """``value`` for a message: plain digits, or scientific notation when that would take
    more than a few dozen characters (``1e-1000004`` is not a million zeros)."""
    if value.is_finite() and -12 <= value.adjusted() <= 15:
        return f"{value.normalize():f}"
    return f"{value:.3e}"


def check_figure(measure: str, value: Decimal, currency: str | None) -> str | None:
    """Why ``value`` [the measure's unit, in ``currency``] is no plausible price; None if it
    is one. Zero is refused here: callers allow it only for a free version. ``currency``
    None: the range applies whatever the currency (an exchange rate)."""
    if not value.is_finite():
        return f"{value} is not a finite number"
    if value <= 0:
        return f"{shown(value)} is not a positive price" if value else "the price is 0"
    if value > LARGEST:
        return f"{value:.3e} is larger than any real figure"
    rng = PLAUSIBLE[measure]
    if (currency is None or currency in NEAR_DOLLAR) and not rng.holds(value):
        unit = rng.unit.replace("USD", currency or "USD")
        return f"{shown(value)} {unit} is outside the plausible range {rng.words()} ({rng.why})"
    return None


def price_issues(version: PriceVersion) -> list[PriceIssue]:
    """Every figure of ``version`` that no provider would charge; zeros are allowed only
    when the whole version is free."""
    free = is_free(version)
    out: list[PriceIssue] = []
    for path, measure, value in figures(version):
        if value == 0 and free:
            continue
        why = check_figure(measure, value, version.currency)
        if why is None:
            continue
        if value == 0:
            fix = (
                f"write the real price in `{path}`, or remove the figure it does not charge; "
                "a free allowance is `free_images_per_month`, a free tier a version whose "
                "every price is 0"
            )
        else:
            fix = f"check the unit and write `{path}` in {PLAUSIBLE[measure].unit}"
        out.append(PriceIssue(path, value, why, fix))
    return out


def oversized(raw: Mapping[str, Any] | list[Any], path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, value) of every number in ``raw`` (a model dump) above :data:`LARGEST`."""
    items = raw.items() if isinstance(raw, Mapping) else enumerate(raw)
    for key, value in items:
        here = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
        if isinstance(value, Mapping | list):
            yield from oversized(value, here)
        elif isinstance(value, Decimal | int) and not isinstance(value, bool) and _huge(value):
            yield here, f"{Decimal(value):.3e}"


def _huge(value: Decimal | int) -> bool:
    number = Decimal(value)
    # copy_abs needs no arithmetic context: 1e1000004 would overflow abs()
    return not number.is_finite() or number.copy_abs() > LARGEST


def future_date(day: date, today: date) -> bool:
    """Whether ``day`` is more than :data:`FUTURE_DAYS` after ``today``."""
    return day.toordinal() - today.toordinal() > FUTURE_DAYS


def change_factor(old: Decimal, new: Decimal) -> Decimal | None:
    """How many times larger or smaller ``new`` is than ``old`` when that is beyond
    :data:`LARGE_CHANGE`; None when the change is within it (or either is not positive)."""
    if old <= 0 or new <= 0:
        return None
    try:
        factor = max(new / old, old / new)
    except ArithmeticError:  # beyond decimal arithmetic: as large a change as there is
        return Decimal("Infinity")
    return factor if factor > LARGE_CHANGE else None

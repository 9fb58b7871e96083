"""Large changes: a refreshed price compared with the price it replaces.

A refresh that moves a price by more than :data:`pricing._cards.plausible.LARGE_CHANGE`
times, up or down, is far more often a feed's mistake (a unit change, a missing digit, a
card for the wrong provider) than a real price move. Each function here returns the words
that describe such a change (offer, old and new price, factor), or None when the change is
within the factor; the refresh then stops unless the change is accepted
(``accept_large_change=True``, ``--accept-large-change``).

Price versions are compared twice: by the price of the reference request (1024x1024, one
image, as the evidence flags price it) when both versions can price it in one currency, and
figure by figure, for every priced field of components that charge for the same thing under
the same conditions.
"""

from __future__ import annotations

from decimal import Decimal

from pricing._cards.plausible import change_factor, price_issues
from pricing._cards.schema import Offer, PriceVersion
from pricing._evidence.flags import reference_price
from pricing.errors import PricingError

FigureKey = tuple[str, str, str, str, int | None]


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _figures(version: PriceVersion) -> dict[FigureKey, Decimal]:
    """Priced figures by (unit, what it charges, condition, field, tier start)."""
    return {
        (c.unit, c.charge_key(), repr(c.when), name, start): value
        for c in version.components
        for name, value, start in c.price_fields(version)
    }


def _reference(offer: Offer, old: PriceVersion, new: PriceVersion) -> str | None:
    """The reference request priced by both versions, when it moved beyond the factor."""
    operation = "generate" if "generate" in offer.operations else offer.operations[0]
    try:
        before = reference_price(offer, old, operation)
        after = reference_price(offer, new, operation)
    except (ArithmeticError, PricingError):  # pragma: no cover - checked figures price cleanly
        return None
    if before is None or after is None or before.currency != after.currency:
        return None
    factor = change_factor(before.price, after.price)
    if factor is None:
        return None
    return (
        f"a 1024x1024 {operation} image {_text(before.price)} -> {_text(after.price)} "
        f"{after.currency} (x{factor_words(before.price, after.price)})"
    )


def factor_words(old: Decimal, new: Decimal) -> str:
    """``new / old`` as a short factor: ``0.0001``, ``320``."""
    return f"{new / old:.3g}"


def version_change(offer: Offer, old: PriceVersion, new: PriceVersion) -> str | None:
    """Why replacing ``old`` by ``new`` is a large change, or None when it is not (or the
    new version has figures no provider charges: those are refused on their own)."""
    if price_issues(new) or price_issues(old):
        return None
    said = _reference(offer, old, new)
    if said is not None:
        return f"{offer.id}: {said}"
    before = _figures(old)
    worst: tuple[Decimal, str] | None = None
    for key, value in _figures(new).items():
        prior = before.get(key)
        if prior is None:
            continue
        factor = change_factor(prior, value)
        if factor is not None and (worst is None or factor > worst[0]):
            unit, _, _, name, start = key
            tier = f" (tier from {start})" if start is not None else ""
            words = f"{unit} {name}{tier} {_text(prior)} -> {_text(value)} {new.currency}"
            worst = (factor, f"{words} (x{factor_words(prior, value)})")
    return None if worst is None else f"{offer.id}: {worst[1]}"


def value_change(item: str, old: Decimal, new: Decimal, unit: str) -> str | None:
    """Why ``old`` -> ``new`` [``unit``] of ``item`` is a large change, or None."""
    if change_factor(old, new) is None:
        return None
    return f"{item}: {_text(old)} -> {_text(new)} {unit} (x{factor_words(old, new)})"

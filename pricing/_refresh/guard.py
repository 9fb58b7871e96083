"""The last check of what a feed brings, before anything can be written.

Every figure a source would add is held to :mod:`pricing._cards.plausible`: a price must be
positive (a feed never writes a free tier: the feeds skip a 0 with the reason, and anything
that still carries one is refused here), finite and within the plausible range of its
billing unit; a GPU offer within the plausible price of a GPU-hour; an exchange rate within
the range of a reference rate and dated at most a day after the fetch day; no number larger
than any real figure. A price that moves more than :data:`~pricing._cards.plausible.LARGE_CHANGE`
times is refused unless the change is accepted. Any of these fails the source with a
:class:`~pricing.errors.RefreshError` naming each offer (or GPU offer, or currency), its old
and new figure and the fix, so nothing of the run is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from pricing._cards.plausible import (
    LARGE_CHANGE,
    check_figure,
    future_date,
    is_free,
    oversized,
    price_issues,
)
from pricing._cards.schema import Offer, PriceVersion
from pricing._refresh.additions import Additions, Context
from pricing.errors import RefreshError

SHOWN = 5  # problems listed in the error; the count says how many more


def _version_problems(offer_id: str, v: PriceVersion) -> Iterator[str]:
    where = f"{offer_id} (price version from {v.effective_from})"
    if is_free(v):
        yield f"{where}: every price is 0; a feed never writes a free tier (add it by hand)"
        return
    issues = price_issues(v)
    for issue in issues:
        yield f"{where}: `{issue.field}` {issue.message}"
    said = {issue.field for issue in issues}
    for field, value in oversized(v.model_dump()):
        if field not in said:
            yield f"{where}: `{field}` {value} is larger than any real figure"


def _offer_problems(offer: Offer) -> Iterator[str]:
    for field, value in oversized(offer.model_dump(exclude={"versions"})):
        yield f"{offer.id}: `{field}` {value} is larger than any real figure"
    for v in offer.versions:
        yield from _version_problems(offer.id, v)


def problems(adds: Additions, ctx: Context) -> list[str]:
    """Every figure of ``adds`` that no provider would charge (see the module)."""
    found: list[str] = []
    for by_offer in adds.versions.values():
        for offer_id, versions in by_offer.items():
            for v in versions:
                found.extend(_version_problems(offer_id, v))
    new_offers = [o for offers in adds.offers.values() for o in offers]
    new_offers += [o for card in adds.cards.values() for o in card.offers]
    for offer in new_offers:
        found.extend(_offer_problems(offer))
    for gpu in adds.gpu_offers:
        why = check_figure("gpu_hour", gpu.gpu_hourly_price, gpu.currency)
        if why is not None:
            found.append(f"{gpu.id}: the price of one GPU-hour, {why}")
    future: dict[date, int] = {}
    for day, code, rate, _ in adds.fx_rows:
        why = check_figure("per_eur", rate, None)
        if why is not None:
            found.append(f"{code} on {day}: the rate per EUR, {why}")
        if future_date(day, ctx.day):
            future[day] = future.get(day, 0) + 1
    for day, count in future.items():
        found.append(
            f"{count} rate(s) dated {day}, after the fetch day {ctx.day} (a rate cannot be "
            "published in the future)"
        )
    return found


def _listed(items: list[str]) -> str:
    shown = "".join(f"\n  - {item}" for item in items[:SHOWN])
    more = len(items) - SHOWN
    return shown + (f"\n  - and {more} more" if more > 0 else "")


def guard(adds: Additions, ctx: Context, source: str) -> None:
    """Refuse ``adds`` of ``source`` when a figure is implausible or a price moved more than
    :data:`~pricing._cards.plausible.LARGE_CHANGE` times and the change was not accepted.

    Raises
    ------
    RefreshError
        Listing the offers (or GPU offers, or currencies) and their figures, with the fix.
    """
    found = problems(adds, ctx)
    if found:
        raise RefreshError(
            source,
            f"{len(found)} value(s) no provider would charge or publish:{_listed(found)}\n"
            "check the source and its units",
        )
    if adds.large and not ctx.accept_large_change:
        raise RefreshError(
            source,
            f"{len(adds.large)} price(s) moved more than {LARGE_CHANGE}x from the price they "
            f"replace:{_listed(adds.large)}\ncheck the source; if the prices are right, run "
            "again with --accept-large-change (accept_large_change=True) to record them",
        )

"""The evidence of every price version of a catalog: grade, data flags, dates, and the two
flags read from the price itself.

``free-tier``: the version prices a reference request (1024x1024, one image, past any free
allowance) at 0. ``below-upstream``: a version not on the model vendor's own card prices the
reference request below :data:`BELOW_UPSTREAM` times the vendor's official price for it, on
the day the version starts (or, if the vendor had no price then, on the day the vendor's
first price starts). Subscriptions are not compared: a month's fee is not a per-image price.

Every flag but ``stale`` holds for the whole life of a version; ``stale`` depends on the day
asked about, so :func:`lasting_evidence` leaves it out and :func:`catalog_evidence` adds it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from pricing._cards.catalog import Catalog
from pricing._cards.components import SubscriptionPrice
from pricing._cards.plausible import is_free
from pricing._cards.schema import Offer, PriceVersion
from pricing._evidence.grades import Evidence, Flag, data_flags, grade_of, stale_flag
from pricing._price.line_items import price_version
from pricing._price.request import ImageRequest
from pricing.errors import PriceNotFound, UnsupportedRequest

#: A resold price below this share of the vendor's official price is flagged.
BELOW_UPSTREAM = Decimal("0.5")


class Reference(NamedTuple):
    """A version's price for the reference request of one operation [currency/image]."""

    operation: str
    price: Decimal
    currency: str


def reference_request(offer: Offer, operation: str) -> ImageRequest:
    """1024x1024, one image; an edit with one input image of that size."""
    inputs = 1 if operation in ("edit", "inpaint") else 0
    return ImageRequest(model=offer.model, operation=operation, input_images=inputs)


def reference_price(offer: Offer, version: PriceVersion, operation: str) -> Reference | None:
    """The version's price of the reference request past its free allowance (None: it cannot
    price it, or it is a subscription)."""
    if version.components_of(SubscriptionPrice) or operation not in offer.operations:
        return None
    try:
        priced = price_version(
            reference_request(offer, operation), offer, version,
            prior=version.free_images_per_month,
        )  # fmt: skip
    except (PriceNotFound, UnsupportedRequest):
        return None
    return Reference(operation, priced.total, version.currency)


def _first_operation(offer: Offer) -> str:
    return "generate" if "generate" in offer.operations else offer.operations[0]


def _upstream(catalog: Catalog, offer: Offer) -> list[tuple[Offer, PriceVersion]]:
    """Official versions of the model vendor's own offers of ``offer``'s model."""
    model = catalog.models.get(offer.model)
    if model is None:
        return []
    out = []
    for card in catalog.cards.values():
        if card.vendor != model.vendor:
            continue
        for o in card.offers:
            if o.model != offer.model:
                continue
            for v in o.versions:
                if grade_of(catalog.source(v.source), card.provider)[0] == "official":
                    out.append((o, v))
    return out


def _below_upstream(catalog: Catalog, offer: Offer, version: PriceVersion) -> Flag | None:
    upstream = _upstream(catalog, offer)
    if not upstream or any(o.id == offer.id for o, _ in upstream):
        return None
    op = _first_operation(offer)
    ref = reference_price(offer, version, op)
    if ref is None:
        return None
    for when in (version.effective_from, min(v.effective_from for _, v in upstream)):
        prices = [
            (p, o, v)
            for o, v in upstream
            if v.in_force(when)
            and (p := reference_price(o, v, op)) is not None
            and p.currency == ref.currency
            and p.price > 0
        ]
        if prices:
            break
    else:
        return None
    low, up_offer, up_version = min(prices, key=lambda t: t[0].price)
    if ref.price >= low.price * BELOW_UPSTREAM:
        return None
    share = ref.price / low.price * 100
    return Flag(
        "below-upstream",
        f"prices a 1024x1024 {op} at {ref.price.normalize():f} {ref.currency}, "
        f"{share:.0f}% of the vendor's official {low.price.normalize():f} on {up_offer.id} "
        f"({up_version.source})",
    )


def _free_tier(offer: Offer, version: PriceVersion) -> Flag | None:
    ref = reference_price(offer, version, _first_operation(offer))
    if ref is None:
        if not is_free(version):
            return None
        # a version that cannot price the reference request is still free when every one of
        # its figures is 0 (the cards' way of recording a free tier)
        return Flag("free-tier", "every figure of the version is 0: a free allowance")
    if ref.price != 0:
        return None
    free = version.free_images_per_month
    past = f" past its {free} free images a month" if free else ""
    return Flag(
        "free-tier",
        f"prices a 1024x1024 {ref.operation} at 0{past}: a free allowance, not a production price",
    )


def version_evidence(catalog: Catalog, offer: Offer, version: PriceVersion) -> Evidence:
    """Grade and every flag of one version but ``stale``."""
    source = catalog.source(version.source)
    grade, why = grade_of(source, catalog.provider_of(offer))
    flags = data_flags(version, source)
    for computed in (_free_tier(offer, version), _below_upstream(catalog, offer, version)):
        if computed is not None:
            flags.append(computed)
    return Evidence(offer.id, version.version_id, version.source, grade, why, tuple(flags))


Evidences = Mapping[tuple[str, str], Evidence]
_MEMO: dict[int, tuple[weakref.ref[Catalog], Evidences]] = {}


class _Lasting(Mapping[tuple[str, str], Evidence]):
    """The lasting evidence of a catalog's versions, each judged when first asked for: a quote
    of one model reads a few dozen of the catalog's hundreds. Holds the catalog weakly (the
    memo of :func:`lasting_evidence` must not keep it alive)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = weakref.ref(catalog)
        self._where = {
            (offer.id, v.version_id): (offer, v)
            for _, offer in catalog.all_offers()
            for v in offer.versions
        }
        self._judged: dict[tuple[str, str], Evidence] = {}

    def __getitem__(self, key: tuple[str, str]) -> Evidence:
        found = self._judged.get(key)
        if found is None:
            offer, version = self._where[key]
            catalog = self._catalog()
            if catalog is None:
                raise RuntimeError("the catalog of this evidence is gone; read it again")
            found = self._judged[key] = version_evidence(catalog, offer, version)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


def lasting_evidence(catalog: Catalog) -> Evidences:
    """Evidence of every version of every offer but ``stale``, keyed by (offer id, version
    id), each judged on first use; cached per catalog object. A catalog narrowed by a trust
    policy keeps the evidence read on the whole (upstream prices included): it is not judged
    again on fewer prices."""
    hit = _MEMO.get(id(catalog))
    if hit is not None and hit[0]() is catalog:
        return hit[1]
    out = _Lasting(catalog)
    remember_evidence(catalog, out)
    return out


def remember_evidence(catalog: Catalog, evidence: Evidences) -> None:
    """Record ``evidence`` as ``catalog``'s (see :func:`lasting_evidence`)."""
    key = id(catalog)
    _MEMO[key] = (weakref.ref(catalog, forget(_MEMO, key)), evidence)


def forget(table: dict[int, Any], key: int) -> Callable[[weakref.ref[Catalog]], None]:
    """A weak-reference callback that drops ``key`` from ``table`` when its catalog goes."""

    def drop(_: weakref.ref[Catalog]) -> None:
        table.pop(key, None)

    return drop


def evidence_on(catalog: Catalog, offer_id: str, version: str, day: date) -> Evidence:
    """Evidence of one version as of ``day``: :func:`lasting_evidence` plus ``stale`` where
    the source's newest date is too far before ``day``."""
    ev = lasting_evidence(catalog)[(offer_id, version)]
    stale = stale_flag(catalog.source(ev.source_id), day)
    return ev if stale is None else replace(ev, flags=(*ev.flags, stale))


def catalog_evidence(catalog: Catalog, day: date) -> dict[tuple[str, str], Evidence]:
    """Evidence of every version of every offer as of ``day`` (see :func:`evidence_on`)."""
    return {key: evidence_on(catalog, *key, day) for key in lasting_evidence(catalog)}

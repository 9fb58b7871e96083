"""The trust policy applied to a catalog: the prices allowed to set an answer, and every
excluded price kept as an unverified lead with its figure and reason.

Every entry point that chooses a price (quote, compare, ``price_requests``, replay,
simulate, break-even, budgets, dashboards) prices against :attr:`Trusted.catalog` and shows
:meth:`Trusted.leads` beside its answer, so nothing is left out in silence.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog
from pricing._cards.schema import PriceVersion
from pricing._evidence.flags import (
    evidence_on,
    forget,
    lasting_evidence,
    reference_price,
    remember_evidence,
)
from pricing._evidence.grades import STALE_AFTER_DAYS, Evidence, TrustPolicy, stale_from

if TYPE_CHECKING:
    import polars as pl

    #: The columns of :meth:`Trusted.leads` (made on first use, as polars is imported).
    LEADS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]]


def leads_schema() -> dict[str, pl.DataType | type[pl.DataType]]:
    """The columns of :meth:`Trusted.leads`."""
    import polars as pl

    from pricing._base.money import QUOTE_MONEY

    return {
        "offer_id": pl.String,
        "provider": pl.String,
        "model": pl.String,
        "price_version": pl.String,
        "source_id": pl.String,
        "grade": pl.String,
        "flags": pl.String,
        "reference": pl.String,
        "reference_price": QUOTE_MONEY,
        "currency": pl.String,
        "offer_still_priced": pl.Boolean,
        "reason": pl.String,
    }


def __getattr__(name: str) -> object:
    if name == "LEADS_SCHEMA":
        return leads_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Trusted:
    """A catalog narrowed by a trust policy.

    Attributes
    ----------
    catalog : Catalog
        Only the price versions the policy allows (offers left with none are dropped). When
        the policy excludes ``stale`` prices, a version already stale on ``day`` ends on the
        day it turned stale (:data:`~pricing._evidence.grades.STALE_AFTER_DAYS` after its
        source's newest date): past requests are priced as they were trusted then, and today
        and the months ahead only with prices trusted today.
    full : Catalog
        The catalog it was narrowed from.
    policy : TrustPolicy
    day : date
        The day the evidence was judged on (staleness is counted to it).
    """

    catalog: Catalog
    full: Catalog
    policy: TrustPolicy
    day: date

    @cached_property
    def dropped(self) -> dict[str, str]:
        """Offers the policy left no price at all, and why (their rows are unpriced)."""
        kept = {o.id for _, o in self.catalog.all_offers()}
        return {
            offer.id: f"{offer.id} has no trusted price: {self.why_excluded(offer.id)}"
            for _, offer in self.full.all_offers()
            if offer.id not in kept
        }

    def why_excluded(self, offer_id: str) -> str | None:
        """Why the policy took prices of ``offer_id`` out (None: it took none out)."""
        offer = self.full.offer(offer_id)
        kept = {
            v.version_id: v for _, o in self.catalog.all_offers() if o.id == offer_id
            for v in o.versions
        }  # fmt: skip
        reasons = []
        for v in offer.versions:
            mine = kept.get(v.version_id)
            if mine is None:
                ev = lasting_evidence(self.full)[(offer_id, v.version_id)]
                why = self.policy.why_not(ev) or "stale from its first day (stale)"
                reasons.append(f"{v.version_id} ({why})")
            elif mine.effective_to != v.effective_to and mine.effective_to is not None:
                reasons.append(
                    f"{v.version_id} (stale from {mine.effective_to.isoformat()}: its source's "
                    f"newest date is over {STALE_AFTER_DAYS} days old)"
                )
        if not reasons:
            return None
        return f"the {self.policy.name} evidence policy leaves out " + "; ".join(reasons)

    def excluded(self, day: date) -> list[Evidence]:
        """The versions of the full catalog in force on ``day`` that the policy excludes."""
        out = []
        for _, offer in self.full.all_offers():
            for v in offer.versions:
                if v.in_force(day):
                    ev = evidence_on(self.full, offer.id, v.version_id, day)
                    if not self.policy.allows(ev):
                        out.append(ev)
        return out

    def offer_priced(self, offer_id: str, day: date) -> bool:
        """Whether the policy leaves ``offer_id`` a price in force on ``day``."""
        return any(
            v.in_force(day) for _, o in self.catalog.all_offers() if o.id == offer_id
            for v in o.versions
        )  # fmt: skip

    def leads(self, day: date, models: set[str] | None = None) -> pl.DataFrame:
        """The excluded versions in force on ``day`` (of ``models``, default all), cheapest
        reference figure first.

        Columns: offer_id, provider, model, price_version, source_id, grade, flags (each
        with its reason), reference (the request the figure prices), reference_price
        [currency/image], currency, offer_still_priced (another version of the offer is
        allowed, so the offer itself still takes part), reason (why the policy excludes it).
        """
        import polars as pl

        rows = []
        for ev in self.excluded(day):
            offer = self.full.offer(ev.offer_id)
            if models is not None and offer.model not in models:
                continue
            version = next(v for v in offer.versions if v.version_id == ev.version)
            op = "generate" if "generate" in offer.operations else offer.operations[0]
            ref = reference_price(offer, version, op)
            rows.append(
                {
                    "offer_id": ev.offer_id,
                    "provider": self.full.provider_of(offer),
                    "model": offer.model,
                    "price_version": ev.version,
                    "source_id": ev.source_id,
                    "grade": ev.grade,
                    "flags": "; ".join(str(f) for f in ev.flags) or None,
                    "reference": f"1024x1024 {op}, 1 image" if ref else None,
                    "reference_price": None if ref is None else ref.price,
                    "currency": version.currency,
                    "offer_still_priced": self.offer_priced(ev.offer_id, day),
                    "reason": self.policy.why_not(ev),
                }
            )
        frame = pl.DataFrame(rows, schema=leads_schema())
        return frame.sort(["reference_price", "offer_id"], nulls_last=True)


_TRUSTED: dict[tuple[int, TrustPolicy, date], tuple[weakref.ref[Catalog], Trusted]] = {}


def trusted(
    catalog: Catalog, policy: TrustPolicy | str | None = None, day: date | None = None
) -> Trusted:
    """``catalog`` narrowed to the versions ``policy`` allows as judged on ``day`` (default:
    the catalog's snapshot day, else today, UTC); cached per catalog object, policy and day,
    so the engine compiles the narrowed catalog once. A catalog that is already narrowed is
    kept as it is unless another policy or day is asked for."""
    pol = TrustPolicy.parse(policy)
    prior = narrowing_of(catalog)
    if (
        prior is not None
        and (policy is None or prior.policy == pol)
        and (day is None or prior.day == day)
    ):
        return prior  # already narrowed (so, or as the caller chose): keep what it knows
    day = day if day is not None else judgement_day(catalog)
    key = (id(catalog), pol, day)
    hit = _TRUSTED.get(key)
    if hit is not None and hit[0]() is catalog:
        return hit[1]
    evidence = lasting_evidence(catalog)
    cards = {}
    for pid, card in catalog.cards.items():
        offers = []
        for offer in card.offers:
            kept = [
                v for v in (_trim(catalog, v, pol, day) for v in offer.versions
                            if pol.allows(evidence[(offer.id, v.version_id)]))
                if v is not None
            ]  # fmt: skip
            if kept:
                offers.append(offer.model_copy(update={"versions": kept}))
        cards[pid] = card.model_copy(update={"offers": offers})
    narrowed = replace(catalog, cards=cards)
    remember_evidence(narrowed, evidence)
    result = Trusted(narrowed, catalog, pol, day)
    key_n = id(narrowed)
    _NARROWED[key_n] = (weakref.ref(narrowed, forget(_NARROWED, key_n)), result)
    if len(_TRUSTED) > 32:
        _TRUSTED.clear()
    _TRUSTED[key] = (weakref.ref(catalog), result)
    return result


_NARROWED: dict[int, tuple[weakref.ref[Catalog], Trusted]] = {}


def narrowing_of(catalog: Catalog) -> Trusted | None:
    """The :class:`Trusted` that made ``catalog``, when a trust policy narrowed it."""
    hit = _NARROWED.get(id(catalog))
    return hit[1] if hit is not None and hit[0]() is catalog else None


def judgement_day(catalog: Catalog) -> date:
    """The day evidence is judged on by default: the catalog's snapshot day, else today."""
    return catalog.snapshot if catalog.snapshot is not None else to_date(None)


def whole(catalog: Catalog) -> Catalog:
    """The catalog a trust policy narrowed ``catalog`` from (itself, when not narrowed): for
    reading offers the policy left no price, e.g. the offer a usage log names."""
    narrowing = narrowing_of(catalog)
    return catalog if narrowing is None else narrowing.full


def _trim(
    catalog: Catalog, version: PriceVersion, policy: TrustPolicy, day: date
) -> PriceVersion | None:
    """``version`` ending the day it turned stale, when the policy excludes stale prices and
    it is stale on ``day`` (None: stale from its first day)."""
    if "stale" not in policy.excluding:
        return version
    end = stale_from(catalog.source(version.source))
    if end > day:
        return version
    if end <= version.effective_from:
        return None
    if version.effective_to is not None and version.effective_to <= end:
        return version
    return version.model_copy(update={"effective_to": end})

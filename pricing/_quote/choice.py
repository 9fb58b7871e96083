"""Which price version answers a quote: the versions in force that the trust policy allows,
the primary by precedence (or a named source), the next one when the primary's own terms
cannot price the request, and the checks and notes that go with the choice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pricing._cards.catalog import Catalog
from pricing._cards.schema import Offer, PriceVersion
from pricing._evidence.flags import evidence_on
from pricing._evidence.grades import Evidence, TrustPolicy
from pricing._evidence.trust import narrowing_of
from pricing._price.line_items import Priced, price_version
from pricing._price.request import ImageRequest
from pricing.errors import PriceExcluded, PriceNotFound, PricingError, UnsupportedRequest


def choose_version(
    off: Offer,
    cat: Catalog,
    day: date,
    source: str | None,
    policy: TrustPolicy,
) -> tuple[PriceVersion, list[PriceVersion], dict[tuple[str, str], Evidence]]:
    """The preferred version of ``off`` on ``day`` (or the named ``source``'s), the versions
    in force the policy allows (preferred first), and their evidence. Raises why none is."""
    in_force = sorted((v for v in off.versions if v.in_force(day)), key=cat.precedence)
    if not in_force:
        refuse_narrowed_out(cat, off, day)
    grades = evidence_in_force(cat, off, in_force, day)
    candidates = allowed_versions(off, day, in_force, source, policy, grades)
    return primary_version(off, day, candidates, source), candidates, grades


def price_able(
    request: ImageRequest,
    off: Offer,
    primary: PriceVersion,
    candidates: list[PriceVersion],
    source: str | None,
    price: Callable[[PriceVersion], Priced],
) -> tuple[PriceVersion, Priced, tuple[str, ...]]:
    """``price(primary)``; or, when ``primary``'s own terms cannot price the request (limits,
    brackets, qualities, components: checked with no running volume, as the vector engine
    does), the next version in force by precedence that can, with a note naming both. A
    named ``source``, or a failure that follows the month's volume, is raised as it is."""
    try:
        return primary, price(primary), ()
    except (PriceNotFound, UnsupportedRequest) as exc:
        if source is not None or _can_price(request, off, primary):
            raise
        failure: PricingError = exc
    for v in candidates:
        if v is not primary and _can_price(request, off, v):
            note = (
                f"the preferred source {primary.source} cannot price this request ({failure}); "
                f"priced by {v.source}, the next source in force"
            )
            return v, price(v), (note,)
    raise failure


def _can_price(request: ImageRequest, off: Offer, version: PriceVersion) -> bool:
    """Whether ``version``'s own terms price ``request`` (before any running volume)."""
    try:
        price_version(request, off, version)
    except (PriceNotFound, UnsupportedRequest):
        return False
    return True


def with_edit_input(request: ImageRequest) -> tuple[ImageRequest, tuple[str, ...]]:
    """An edit that states no input image is priced with one of the output's size (an edit
    always sends one); the note says so."""
    if request.operation != "edit" or request.input_images:
        return request, ()
    size = (request.width, request.height)
    note = (
        f"an edit with no stated input image is priced with one of the output's size "
        f"({request.size}); pass input_images to state them"
    )
    return request.model_copy(update={"input_images": (size,)}), (note,)


def named_source_note(policy: TrustPolicy, ev: Evidence) -> tuple[str, ...]:
    """A note when a named source prices a quote although the policy excludes it."""
    if policy.allows(ev):
        return ()
    return (
        f"source {ev.source_id} was named, so it prices this request although the evidence "
        f"policy excludes it: {policy.why_not(ev)}",
    )


def check_request(request: ImageRequest, off: Offer, cat: Catalog, day: date, prior: int) -> None:
    """Refuse a request the offer cannot take whatever its prices: another model, a retired
    model, a negative running volume."""
    if prior < 0:
        raise PricingError(f"monthly_volume cannot be negative, got {prior}")
    if off.model != request.model:
        raise UnsupportedRequest(f"{off.id} serves model {off.model!r}, not {request.model!r}")
    model = cat.models.get(off.model)
    if model is not None and model.retired is not None and day >= model.retired:
        raise UnsupportedRequest(
            f"model {model.id!r} was retired on {model.retired.isoformat()}; "
            f"as_of {day.isoformat()} is after that (pass an earlier as_of to price past usage)"
        )


def evidence_in_force(
    cat: Catalog, off: Offer, in_force: list[PriceVersion], day: date
) -> dict[tuple[str, str], Evidence]:
    """The evidence of the versions in force, judged on :func:`judgement_day_of`."""
    judged = judgement_day_of(cat, day)
    return {
        (off.id, v.version_id): evidence_on(cat, off.id, v.version_id, judged) for v in in_force
    }


def judgement_day_of(cat: Catalog, day: date) -> date:
    """The day a quote's evidence is judged on: its own day, or, on a catalog a trust policy
    narrowed, the day that policy judged (so the months of a plan are not judged again)."""
    narrowing = narrowing_of(cat)
    return day if narrowing is None else narrowing.day


def refuse_narrowed_out(cat: Catalog, off: Offer, day: date) -> None:
    """Raise :class:`PriceExcluded` when ``cat`` was narrowed by a trust policy that took out
    every price of ``off`` in force on ``day``."""
    narrowing = narrowing_of(cat)
    if narrowing is None:
        return
    full = narrowing.full.offer(off.id)
    if any(v.in_force(day) for v in full.versions):
        raise PriceExcluded(
            f"{off.id} has no trusted price in force on {day.isoformat()}: "
            f"{narrowing.why_excluded(off.id)}"
        )


def allowed_versions(
    off: Offer,
    day: date,
    in_force: list[PriceVersion],
    source: str | None,
    policy: TrustPolicy,
    grades: dict[tuple[str, str], Evidence],
) -> list[PriceVersion]:
    """The versions in force that ``policy`` allows (a named ``source`` is kept whatever its
    grade); when it allows none of them, why, as :class:`PriceExcluded`."""
    allowed = [
        v for v in in_force
        if v.source == source or policy.allows(grades[(off.id, v.version_id)])
    ]  # fmt: skip
    if in_force and not allowed:
        why = "; ".join(
            f"{v.version_id} ({policy.why_not(grades[(off.id, v.version_id)])})" for v in in_force
        )
        raise PriceExcluded(
            f"{off.id}: no price in force on {day.isoformat()} passes the {policy.name} evidence "
            f"policy ({policy.describe()}). "
            f"Excluded: {why}. Pass evidence='all' (command line: --evidence all) to price it "
            "anyway as an unverified lead, or source=... to use one source"
        )
    return allowed


def primary_version(
    off: Offer, day: date, candidates: list[PriceVersion], source: str | None
) -> PriceVersion:
    """The version a quote uses: the first in force (from ``source``, when given), or why none."""
    if not candidates:
        ends = [v.effective_to for v in off.versions]
        if all(e is not None and e <= day for e in ends):
            last = max(e for e in ends if e is not None)
            raise UnsupportedRequest(f"{off.id} was retired on {last.isoformat()}")
        periods = ", ".join(
            f"{v.effective_from} to {v.effective_to or 'now'}"
            for v in sorted(off.versions, key=lambda v: v.effective_from)
        )
        raise PriceNotFound(
            f"{off.id} has no price in force on {day.isoformat()}; its prices cover {periods}"
        )
    if source is None:
        return candidates[0]
    chosen = [v for v in candidates if v.source == source]
    if not chosen:
        known = ", ".join(sorted({v.source for v in candidates}))
        raise PriceNotFound(
            f"{off.id} has no price from source {source!r} on {day.isoformat()}; "
            f"sources in force: {known}"
        )
    return chosen[0]

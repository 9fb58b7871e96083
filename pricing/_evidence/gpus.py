"""Evidence of GPU offers: the same grades and flags as price versions.

A GPU offer's grade follows its source like a price version's; an offer the data marks
``confidence = "low"`` (a figure its own notes call unreliable, e.g. a third-party claim that
conflicts with the provider's page) grades ``claim``. ``stale`` counts from the offer's
``effective`` date (the day its figure was seen or took effect); ``undated`` follows the source.
"""

from __future__ import annotations

from datetime import date

from pricing._cards.schema import Grade, Source
from pricing._evidence.grades import Evidence, Flag, grade_of, stale_since
from pricing._gpus.offers import GpuOffer


def gpu_offer_evidence(offer: GpuOffer, source: Source | None, day: date) -> Evidence:
    """Grade and flags of one GPU offer, judged on ``day``."""
    grade: Grade
    if offer.confidence == "low":
        grade, why = "claim", f"marked low confidence: {offer.notes or 'no reason given'}"
    elif source is None:
        grade, why = "third-party", f"source {offer.source!r} is not in sources.toml"
    else:
        grade, why = grade_of(source, offer.provider)
    flags = []
    if source is not None and source.published is None:
        flags.append(Flag("undated", f"{source.id} shows no date; read {source.seen.isoformat()}"))
    stale = stale_since(offer.effective, day, f"{offer.id} was seen or took effect on")
    if stale is not None:
        flags.append(stale)
    return Evidence(offer.id, offer.effective.isoformat(), offer.source, grade, why, tuple(flags))

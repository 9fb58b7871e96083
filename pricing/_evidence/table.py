"""The evidence of every price version as one table, for ``cards show``, notebooks and audits."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog, load_catalog
from pricing._evidence.flags import catalog_evidence
from pricing._evidence.grades import TrustPolicy

EVIDENCE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "offer_id": pl.String,
    "provider": pl.String,
    "model": pl.String,
    "price_version": pl.String,
    "effective_from": pl.Date,
    "effective_to": pl.Date,
    "in_force": pl.Boolean,
    "source_id": pl.String,
    "grade": pl.String,
    "grade_reason": pl.String,
    "flags": pl.List(pl.String),
    "flag_reasons": pl.String,
    "allowed": pl.Boolean,
    "excluded_because": pl.String,
}


def evidence_frame(
    catalog: Catalog | None = None,
    *,
    as_of: date | datetime | str | None = None,
    evidence: TrustPolicy | str | None = None,
    offer: str | None = None,
) -> pl.DataFrame:
    """Grade and flags of every price version (of ``offer``, when given), judged on ``as_of``
    (default: the catalog's snapshot day, else today), and whether ``evidence`` (default
    policy) lets it answer.

    Columns: offer_id, provider, model, price_version, effective_from, effective_to,
    in_force (on ``as_of``), source_id, grade, grade_reason, flags (names), flag_reasons
    (``name: reason; ...``), allowed, excluded_because.
    """
    cat = catalog if catalog is not None else load_catalog()
    day = to_date(as_of) if as_of is not None else (cat.snapshot or to_date(None))
    policy = TrustPolicy.parse(evidence)
    grades = catalog_evidence(cat, day)
    rows = []
    for _, o in cat.all_offers():
        if offer is not None and o.id != offer:
            continue
        for v in sorted(o.versions, key=lambda v: (v.effective_from, v.source)):
            ev = grades[(o.id, v.version_id)]
            rows.append(
                {
                    "offer_id": o.id,
                    "provider": cat.provider_of(o),
                    "model": o.model,
                    "price_version": v.version_id,
                    "effective_from": v.effective_from,
                    "effective_to": v.effective_to,
                    "in_force": v.in_force(day),
                    "source_id": v.source,
                    "grade": ev.grade,
                    "grade_reason": ev.grade_reason,
                    "flags": list(ev.flag_names),
                    "flag_reasons": "; ".join(str(f) for f in ev.flags) or None,
                    "allowed": policy.allows(ev),
                    "excluded_because": policy.why_not(ev) or None,
                }
            )
    if offer is not None and not rows:
        cat.offer(offer)  # raises with close-match hints
    return pl.DataFrame(rows, schema=EVIDENCE_SCHEMA)

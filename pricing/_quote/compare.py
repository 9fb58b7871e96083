"""Every offer of a model priced for one request, cheapest first, with the excluded prices
listed after them as unverified leads."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

import polars as pl

from pricing._base.money import QUOTE_MONEY
from pricing._cards.catalog import Catalog, load_catalog, unknown_model
from pricing._cards.schema import Offer
from pricing._evidence.flags import evidence_on
from pricing._evidence.grades import TrustPolicy
from pricing._price.request import ImageRequest
from pricing._quote.fx import FxInput, converter_for
from pricing._quote.quote import Quote, quote
from pricing.errors import PriceExcluded, PriceNotFound, PricingError, UnsupportedRequest

#: An exchange rate in a table [currency/list_currency]: 18 places (``Quote.fx`` is exact).
FX_RATE = pl.Decimal(38, 18)

COMPARE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "offer_id": pl.String,
    "provider": pl.String,
    "model": pl.String,
    "operation": pl.String,
    "per_image": QUOTE_MONEY,
    "total": QUOTE_MONEY,
    "total_high": QUOTE_MONEY,
    "currency": pl.String,
    "min_total": QUOTE_MONEY,
    "max_total": QUOTE_MONEY,
    "sources": pl.Int64,
    "source_id": pl.String,
    "source_kind": pl.String,
    "seen": pl.Date,
    "published": pl.Date,
    "price_version": pl.String,
    "grade": pl.String,
    "flags": pl.String,
    "lead": pl.String,
    "reason": pl.String,
    "list_currency": pl.String,
    "fx_rate": FX_RATE,
    "fx_day": pl.Date,
    "fx_source": pl.String,
    "fx_kind": pl.String,
}


def compare(
    request: ImageRequest,
    catalog: Catalog | None = None,
    *,
    as_of: date | datetime | str | None = None,
    monthly_volume: int | None = None,
    include_unavailable: bool = False,
    evidence: TrustPolicy | str | None = None,
    currency: str | None = None,
    fx: FxInput = None,
    max_fx_age_days: int = 7,
) -> pl.DataFrame:
    """Every offer that can serve ``request``, cheapest first.

    Columns: offer_id, provider, model, operation, per_image [currency/image], total
    [currency], total_high, currency, min_total / max_total (across sources in force),
    sources (how many), source_id, source_kind, seen, published (None: the source shows no
    date), price_version, grade, flags (each ``name: reason``), lead, reason, and
    list_currency (the price's own currency), fx_rate [currency/list_currency], fx_day (the
    rate's day), fx_source and fx_kind (published, planning or user): null where the price
    needed no conversion.

    With ``currency`` (e.g. ``"EUR"``) every offer is converted into it at the rate of
    ``as_of``, as :func:`pricing.quote` converts (``fx`` and ``max_fx_age_days`` as there),
    so that offers listed in different currencies sort on one scale.

    Offers whose every price in force the ``evidence`` policy excludes come after the
    others, priced anyway, with ``lead`` saying why they are only unverified leads: they
    are never the answer, and never hidden. With ``include_unavailable=True`` offers of the
    model that cannot price the request are listed last with a null total and the
    ``reason`` (a missing price is never shown as 0).
    """
    cat = catalog if catalog is not None else load_catalog()
    if request.model not in cat.models:
        raise PricingError(unknown_model(request.model, cat.models))
    policy = TrustPolicy.parse(evidence)
    converter = converter_for(currency, fx, max_fx_age_days, root=cat.root, planning=True)
    rows: list[dict[str, object]] = []
    for offer in cat.offers(model=request.model):
        ask = partial(quote, request, offer, as_of=as_of, monthly_volume=monthly_volume,
                      catalog=cat, fx=converter)  # fmt: skip
        lead = None
        try:
            try:
                q = ask(evidence=policy)
            except PriceExcluded:
                q = ask(evidence="all")
                lead = _lead_reason(cat, q, policy)
        except (PriceNotFound, UnsupportedRequest) as exc:
            if include_unavailable:
                rows.append(_unavailable_row(cat, offer, request, str(exc)))
            continue
        rows.append(
            {
                "offer_id": q.offer_id,
                "provider": q.provider,
                "model": q.model,
                "operation": request.operation,
                "per_image": q.per_image,
                "total": q.total,
                "total_high": q.total_high,
                "currency": q.currency,
                "min_total": q.spread.low,
                "max_total": q.spread.high,
                "sources": q.spread.sources,
                "source_id": q.source_id,
                "source_kind": q.source_kind,
                "seen": q.seen,
                "published": q.published,
                "price_version": q.price_version,
                "grade": q.grade,
                "flags": "; ".join(q.flags) or None,
                "lead": lead,
                "reason": None,
                **_fx_columns(q),
            }
        )
    frame = _frame(rows)
    order = [pl.col("total").is_null(), pl.col("lead").is_not_null(), "total", "offer_id"]
    return frame.sort(order, nulls_last=True)


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """The rows as a table of :data:`COMPARE_SCHEMA`. Exact amounts go in as text and are
    cast to decimals (rounded half to even to the column's places, as polars rounds a
    ``Decimal`` itself): building decimal columns from Python ``Decimal`` objects imports
    numpy, a third of a quick ``pricing quote``'s start-up."""
    exact = [n for n, t in COMPARE_SCHEMA.items() if isinstance(t, pl.Decimal)]
    texts = dict.fromkeys(exact, pl.String)
    as_text = [
        {**r, **{n: None if r[n] is None else format(r[n], "f") for n in exact}} for r in rows
    ]
    frame = pl.DataFrame(as_text, schema={**COMPARE_SCHEMA, **texts})
    return frame.with_columns(pl.col(n).cast(COMPARE_SCHEMA[n]) for n in exact)


def _fx_columns(q: Quote) -> dict[str, object]:
    """The conversion of a quote's amounts, as compare's fx columns (null: not converted)."""
    c = q.fx
    return {
        "list_currency": q.list_currency,
        "fx_rate": None if c is None else c.rate,
        "fx_day": None if c is None else c.day,
        "fx_source": None if c is None else c.source,
        "fx_kind": None if c is None else c.kind,
    }


def _lead_reason(cat: Catalog, q: Quote, policy: TrustPolicy) -> str:
    ev = evidence_on(cat, q.offer_id, q.price_version, q.as_of)
    return f"unverified lead: {policy.why_not(ev)}"


def _unavailable_row(
    cat: Catalog, offer: Offer, request: ImageRequest, reason: str
) -> dict[str, object]:
    return {
        "offer_id": offer.id,
        "provider": cat.provider_of(offer),
        "model": offer.model,
        "operation": request.operation,
        "per_image": None,
        "total": None,
        "total_high": None,
        "currency": None,
        "min_total": None,
        "max_total": None,
        "sources": 0,
        "source_id": None,
        "source_kind": None,
        "seen": None,
        "published": None,
        "price_version": None,
        "grade": None,
        "flags": None,
        "lead": None,
        "reason": reason,
        "list_currency": None,
        "fx_rate": None,
        "fx_day": None,
        "fx_source": None,
        "fx_kind": None,
    }

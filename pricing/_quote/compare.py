"""Every offer of a model priced for one request, cheapest first, with the excluded prices
listed after them as unverified leads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import partial
from typing import TYPE_CHECKING

from pricing._base.money import QUOTE_PLACES
from pricing._cards.catalog import Catalog, load_catalog, unknown_model
from pricing._cards.schema import Offer
from pricing._evidence.flags import evidence_on
from pricing._evidence.grades import TrustPolicy
from pricing._price.request import ImageRequest
from pricing._quote.fx import FxInput, converter_for
from pricing._quote.quote import Quote, quote
from pricing.errors import PriceExcluded, PriceNotFound, PricingError, UnsupportedRequest

if TYPE_CHECKING:
    import polars as pl

    #: An exchange rate in a table [currency/list_currency]: 18 places (``Quote.fx`` is
    #: exact). Made on first use, as :data:`COMPARE_SCHEMA` (polars is imported then).
    FX_RATE: pl.Decimal
    #: The columns of :func:`compare`.
    COMPARE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]]

#: Wide enough to round any amount of a 38-digit column exactly.
_WIDE = Context(prec=80)
#: Places of an exchange rate in a table of quotes.
FX_PLACES = 18
#: The columns of :func:`compare` that hold exact amounts, and their places.
EXACT_PLACES = {
    "per_image": QUOTE_PLACES,
    "total": QUOTE_PLACES,
    "total_high": QUOTE_PLACES,
    "min_total": QUOTE_PLACES,
    "max_total": QUOTE_PLACES,
    "fx_rate": FX_PLACES,
}


def compare_schema() -> dict[str, pl.DataType | type[pl.DataType]]:
    """The columns of :func:`compare`."""
    import polars as pl

    text, day = pl.String, pl.Date
    exact = {n: pl.Decimal(38, places) for n, places in EXACT_PLACES.items()}
    return {
        "offer_id": text, "provider": text, "model": text, "operation": text,
        "per_image": exact["per_image"], "total": exact["total"],
        "total_high": exact["total_high"], "currency": text, "min_total": exact["min_total"],
        "max_total": exact["max_total"], "sources": pl.Int64, "source_id": text,
        "source_kind": text, "seen": day, "published": day, "price_version": text,
        "grade": text, "flags": text, "lead": text, "reason": text, "list_currency": text,
        "fx_rate": exact["fx_rate"], "fx_day": day, "fx_source": text, "fx_kind": text,
    }  # fmt: skip


def __getattr__(name: str) -> object:
    if name == "COMPARE_SCHEMA":
        return compare_schema()
    if name == "FX_RATE":
        return compare_schema()["fx_rate"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    rows = compare_rows(
        request, catalog, as_of=as_of, monthly_volume=monthly_volume,
        include_unavailable=include_unavailable, evidence=evidence, currency=currency, fx=fx,
        max_fx_age_days=max_fx_age_days,
    )  # fmt: skip
    return _frame(rows)


def compare_rows(
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
) -> list[dict[str, object]]:
    """The rows of :func:`compare`, in its order, as plain values (exact amounts as
    ``Decimal`` at the table's places): what the command line prints, without polars."""
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
    placed = [_at_places(r) for r in rows]
    return sorted(placed, key=_order)


def _at_places(row: dict[str, object]) -> dict[str, object]:
    """The row's exact amounts rounded half to even to their column's places, as polars
    rounds a ``Decimal`` into the column of :func:`compare`."""
    placed = dict(row)
    for name, places in EXACT_PLACES.items():
        value = row[name]
        if isinstance(value, Decimal):
            placed[name] = value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN, _WIDE)
    return placed


def _order(row: dict[str, object]) -> tuple[bool, bool, Decimal, str]:
    """Priced offers first, then unverified leads, then offers that cannot price the
    request; cheapest first within each, then by offer id."""
    total = row["total"]
    return (
        total is None,
        row["lead"] is not None,
        total if isinstance(total, Decimal) else Decimal(0),
        str(row["offer_id"]),
    )


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """The rows as a table of :func:`compare_schema`. Exact amounts go in as text and are
    cast to decimals (already at the column's places): building decimal columns from
    Python ``Decimal`` objects imports numpy, a third of a quick ``pricing quote``'s
    start-up."""
    import polars as pl

    schema = compare_schema()
    texts = dict.fromkeys(EXACT_PLACES, pl.String)
    as_text = [
        {**r, **{n: None if r[n] is None else format(r[n], "f") for n in EXACT_PLACES}}
        for r in rows
    ]
    frame = pl.DataFrame(as_text, schema={**schema, **texts})
    return frame.with_columns(pl.col(n).cast(schema[n]) for n in EXACT_PLACES)


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

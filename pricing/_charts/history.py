"""The price history of a request: one small panel per offer, one step line per source.

Fifteen lines on one plot, told apart only by colour, cannot be read on paper; a panel per
offer, headed by its seller, with each line named at its end by the source's publisher, can.
Lines are coloured by the source's kind (official, reseller, third-party, seed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import altair as alt
import polars as pl

from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog, load_catalog
from pricing._charts.labels import Labels, labels_for
from pricing._charts.theme import (
    SOURCE_KIND_COLOURS,
    ShownIn,
    inline,
    money_format,
    money_tip,
    money_title,
    one_currency,
    require_rows,
    rounded,
    shown_in_currency,
)
from pricing._price.request import ImageRequest
from pricing._quote.quote import quote
from pricing.errors import PriceNotFound, PricingError, UnsupportedRequest

#: Columns of the price history (a frame with no row keeps them).
HISTORY_SCHEMA = {
    "offer_id": pl.String,
    "date": pl.Date,
    "source_id": pl.String,
    "source_kind": pl.String,
    "version": pl.String,
    "per_image": pl.Float64,
    "currency": pl.String,
}
#: Panels side by side in the exported chart (a page fits them to its width).
PANEL_COLUMNS = 3


def _history_rows(
    request: ImageRequest, cat: Catalog, offers: Sequence[str], until: date
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for offer_id in offers:
        offer = cat.offer(offer_id)
        days = {v.effective_from for v in offer.versions}
        days |= {v.effective_to for v in offer.versions if v.effective_to is not None}
        for day in sorted(d for d in days if d <= until):
            try:
                q = quote(request, offer, as_of=day, catalog=cat)
            except (PriceNotFound, UnsupportedRequest):
                rows.append({"offer_id": offer_id, "date": day, "per_image": None})
                continue
            for sp in q.spread.by_source:
                rows.append(
                    {
                        "offer_id": offer_id,
                        "date": day,
                        "source_id": sp.source_id,
                        "source_kind": sp.source_kind,
                        "version": sp.version,
                        "per_image": float(sp.total / q.images),
                        "currency": q.currency,
                    }
                )
    return rows


def price_history_chart(
    request: ImageRequest | None = None,
    catalog: Catalog | None = None,
    *,
    offers: Sequence[str] | None = None,
    until: date | datetime | str | None = None,
    shown_in: ShownIn | None = None,
    labels: Labels | None = None,
) -> alt.FacetChart:
    """Step lines of each offer's price for ``request`` across its price versions.

    One panel per offer (headed by its seller), one line per source in it, named at its end
    by the source's publisher and coloured by the source's kind (official, reseller,
    third-party, seed), so disagreeing sources show side by side. Each step starts where a
    version takes effect; a gap is a period with no price in force. Panels share the price
    axis, so offers compare across panels.

    Parameters
    ----------
    request : ImageRequest, optional
        Priced under every version (default: one FLUX.2 [pro] 1024x1024 image).
    offers : sequence of str, optional
        Offer ids (default: every offer of the request's model).
    until : date, optional
        Right end of the lines (default: the catalog's as-of date or today).
    shown_in : ShownIn, optional
        Draw every price in another currency at the one rate it states (price changes show,
        exchange-rate moves do not).
    labels : Labels, optional
        Names of sellers, sources and the model (default: from the bundled data).
    """
    cat = catalog if catalog is not None else load_catalog()
    names = labels or labels_for()
    req = request if request is not None else ImageRequest(model="flux-2-pro")
    chosen = list(offers) if offers is not None else [o.id for o in cat.offers(model=req.model)]
    if not chosen:
        raise PricingError(f"no offers serve {req.model!r}; pass offers=[...] by id")
    end = to_date(until)
    data, currency = _history_data(req, _history_rows(req, cat, chosen, end), end, names)
    subtitle = (
        "One panel per offer, one step line per source, named at its end and coloured by the "
        "source's kind"
    )
    # an offer that never priced this request has no line to draw: named, not an empty panel
    priced = set(data.filter(pl.col("per_image").is_not_null())["offer_id"].to_list())
    unpriced = sorted({names.seller(o) for o in chosen if o not in priced})
    data = data.filter(pl.col("offer_id").is_in(list(priced)))
    data, currency, sub = shown_in_currency(data, ("per_image",), currency, shown_in, subtitle)
    if unpriced:
        shown = [sub] if isinstance(sub, str) else list(sub)
        sub = [*shown, f"No price for this request: {', '.join(unpriced)}"]
    panels = data["offer"].n_unique()
    panel = alt.LayerChart(layer=_history_layers(data, currency)).properties(
        width=520 if panels == 1 else 220, height=120
    )
    chart: alt.FacetChart = (
        panel.facet(
            facet=alt.Facet(
                "offer:N",
                title=None,
                header=alt.Header(labelFontSize=12, labelFontWeight="bold", labelAnchor="start"),
            ),
            columns=min(panels, PANEL_COLUMNS),
            data=inline(data),
        )
        .resolve_axis(x="independent")
        .properties(
            title=alt.Title(
                f"Price history: {names.model(req.model)}, {req.operation} "
                f"{req.width}x{req.height}",
                subtitle=sub,
            )
        )
    )
    return chart


def _history_layers(data: pl.DataFrame, currency: str) -> list[alt.Chart]:
    """The step lines, and each line's source named above its right end (an offer's second
    source a line higher, so that equal prices do not hide each other's names)."""
    fmt = money_format(currency, 4)
    kinds = list(SOURCE_KIND_COLOURS)
    scale = alt.Scale(domain=kinds, range=[SOURCE_KIND_COLOURS[k] for k in kinds])
    tooltip = [
        alt.Tooltip("offer:N", title="offer"),
        alt.Tooltip("offer_id:N", title="offer id"),
        alt.Tooltip("date:T", title="from"),
        alt.Tooltip("per_image:Q", title=money_tip("per image", currency), format=fmt),
        alt.Tooltip("source:N", title="source"),
        alt.Tooltip("source_kind:N", title="source kind"),
        alt.Tooltip("version:N", title="price version"),
    ]
    x = alt.X("date:T", title=None, axis=alt.Axis(format="%b %y", tickCount=4))
    # headroom above the dearest line for the names over it, inside every panel
    top = float(data["per_image"].max() or 0.0) * 1.35  # type: ignore[arg-type]
    y = alt.Y(
        "per_image:Q",
        title=money_title("Cost per image", currency),
        axis=alt.Axis(format=fmt),
        scale=alt.Scale(domain=[0, round(top, 6)], nice=False) if top > 0 else alt.Undefined,
    )
    line = (
        alt.Chart()
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=x,
            y=y,
            color=alt.Color("source_kind:N", title="Source kind", scale=scale),
            detail="line:N",
            tooltip=tooltip,
        )
    )
    names = [
        alt.Chart()
        .transform_filter(f"datum.at_end && isValid(datum.per_image) && datum.rank == {rank}")
        .mark_text(align="right", baseline="bottom", dx=-2, dy=-2 - 12 * rank, fontSize=10)
        .encode(
            x=x,
            y=y,
            text="source:N",
            color=alt.Color("source_kind:N", title="Source kind", scale=scale),
            tooltip=tooltip,
        )
        for rank in range(max(data["rank"].to_list(), default=0) + 1)
    ]
    return [line, *names]


def _history_data(
    req: ImageRequest, rows: list[dict[str, object]], end: date, names: Labels
) -> tuple[pl.DataFrame, str]:
    """The history to draw, each line run on to ``end``, named, and its one currency."""
    frame = pl.DataFrame(rows, schema=HISTORY_SCHEMA)
    priced = frame.filter(pl.col("per_image").is_not_null())
    require_rows(priced, "price_history_chart", f"no offer prices {req.model} {req.operation}")
    currency = one_currency(priced, "price_history_chart")
    # Each line runs on to ``end`` at its last price, so the latest step has a width.
    last = (
        priced.sort("date")
        .group_by("offer_id", "source_id", maintain_order=True)
        .last()
        .with_columns(date=pl.lit(end))
    )
    data = rounded(
        pl.concat(
            [
                frame.with_columns(at_end=False),
                last.select(frame.columns).with_columns(at_end=True),
            ]
        ).sort("offer_id", "date")
    )
    offers = data["offer_id"].unique().to_list()
    sources = data["source_id"].drop_nulls().unique().to_list()
    rank = pl.col("source_id").rank("dense").over("offer_id").fill_null(1) - 1
    return data.with_columns(
        line=pl.col("offer_id") + " · " + pl.col("source_id").fill_null(""),
        offer=pl.col("offer_id").replace_strict({o: names.seller(o) for o in offers}),
        source=pl.col("source_id").replace_strict(
            {s: names.source(s) for s in sources}, default=None
        ),
        rank=rank.cast(pl.Int64),
    ), currency

"""Charts of prices: cost per image by offer, price history, and a provider x size heatmap.

Each builder returns an Altair chart (theme: :mod:`pricing._charts.theme`). Inputs are either
what the engine returns (a :func:`~pricing.compare` frame) or a request to price first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import altair as alt
import polars as pl

from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog, load_catalog
from pricing._charts.theme import (
    SOURCE_KIND_COLOURS,
    ShownIn,
    inline,
    money_format,
    money_tip,
    money_title,
    require_columns,
    require_rows,
    rounded,
)
from pricing._price.request import ImageRequest
from pricing._quote.compare import compare
from pricing._quote.quote import quote
from pricing.errors import PriceNotFound, PricingError, UnsupportedRequest

#: Name of the dropdown parameter that picks a provider on the cost-per-image chart.
PROVIDER_PARAM = "provider_pick"
#: Name of the click selection on the heatmap; the cost-per-image chart highlights it.
HEATMAP_PICK = "heatmap_provider"

DEFAULT_SIZES = ((512, 512), (1024, 1024), (1024, 1536), (2048, 2048))

#: Columns of the price history (a frame with no row keeps them).
_HISTORY_SCHEMA = {
    "offer_id": pl.String,
    "date": pl.Date,
    "source_id": pl.String,
    "source_kind": pl.String,
    "version": pl.String,
    "per_image": pl.Float64,
    "currency": pl.String,
}


def _one_currency(frame: pl.DataFrame, what: str) -> str:
    currencies = frame["currency"].drop_nulls().unique().sort().to_list()
    if len(currencies) != 1:
        raise PricingError(
            f"{what}: prices are in {', '.join(currencies) or 'no currency'}; one chart shows one "
            "currency. Filter the frame to one currency first."
        )
    return str(currencies[0])


def _shown(
    data: pl.DataFrame,
    columns: Sequence[str],
    currency: str,
    shown_in: ShownIn | None,
    subtitle: str,
) -> tuple[pl.DataFrame, str, str | list[str]]:
    """The prices to draw in ``shown_in``'s currency (when they are in the one it converts
    from), their currency, and the subtitle stating the rate."""
    if shown_in is None:
        return data, currency, subtitle
    converted, now = shown_in.apply(data, columns, currency)
    if now == currency:
        return data, currency, subtitle
    return rounded(converted), now, shown_in.subtitle(subtitle)


def request_title(request: ImageRequest) -> str:
    """``"Cost per image: flux-2-pro generate 1024x1024"``."""
    return f"Cost per image: {request.model} {request.operation} {request.width}x{request.height}"


def cost_per_image_chart(
    request: ImageRequest | pl.DataFrame,
    catalog: Catalog | None = None,
    *,
    as_of: date | datetime | str | None = None,
    top: int = 25,
    linked_heatmap: bool = False,
    title: str | None = None,
    shown_in: ShownIn | None = None,
) -> alt.LayerChart:
    """Bars of the cost per image on every offer that serves a request, cheapest first.

    Error bars span the lowest and highest price across disagreeing sources in force. A
    dropdown (parameter ``provider_pick``) shows one provider's offers.

    Parameters
    ----------
    request : ImageRequest or DataFrame
        The request to price, or a frame returned by :func:`pricing.compare`.
    top : int
        Most offers drawn (the cheapest).
    linked_heatmap : bool
        Highlight the provider clicked on :func:`cost_heatmap` (both in one dashboard).
    title : str, optional
        Chart title (default: names the request, or "Cost per image by offer" for a frame).
    shown_in : ShownIn, optional
        Draw the prices in another currency, at the rate it states (in the subtitle).
    """
    if isinstance(request, ImageRequest):
        frame = compare(request, catalog, as_of=as_of)
        title = title or request_title(request)
    else:
        frame = request
        title = title or "Cost per image by offer"
    data, currency = _offer_prices(frame, top)
    subtitle = "Error bars: range across disagreeing sources"
    data, currency, sub = _shown(data, ("per_image", "low", "high"), currency, shown_in, subtitle)
    providers = sorted(data["provider"].unique().to_list())
    pick = alt.param(
        name=PROVIDER_PARAM,
        value="all",
        bind=alt.binding_select(options=["all", *providers], name="Provider "),
    )
    return (
        alt.LayerChart(layer=_offer_bars(data, currency, linked_heatmap))
        .add_params(pick)
        .properties(
            title=alt.Title(title, subtitle=sub),
            height=alt.Step(16),
        )
    )


def _offer_prices(frame: pl.DataFrame, top: int) -> tuple[pl.DataFrame, str]:
    """The ``top`` cheapest priced offers, with their source range, and their one currency."""
    require_columns(
        frame,
        ["offer_id", "provider", "per_image", "total", "min_total", "max_total", "currency"],
        "cost_per_image_chart",
    )
    frame = frame.filter(pl.col("per_image").is_not_null())
    if "lead" in frame.columns:  # unverified leads are listed, never drawn as a price
        frame = frame.filter(pl.col("lead").is_null())
    require_rows(frame, "cost_per_image_chart", "no offer prices this request")
    currency = _one_currency(frame, "cost_per_image_chart")
    images = pl.col("total") / pl.col("per_image")
    data = rounded(
        frame.sort("per_image")
        .head(top)
        .with_columns(
            low=pl.col("min_total") / images,
            high=pl.col("max_total") / images,
            source_kind=pl.col("source_kind").fill_null("unknown"),
        )
        .select(
            "offer_id",
            "provider",
            "per_image",
            "low",
            "high",
            "sources",
            "source_id",
            "source_kind",
            "price_version",
        )
    )
    return data, currency


def _offer_bars(data: pl.DataFrame, currency: str, linked_heatmap: bool) -> list[alt.Chart]:
    """The bars (filtered by the provider dropdown) and the error bars of the source range."""
    fmt = money_format(currency, 4)
    y = alt.Y(
        "offer_id:N",
        sort=alt.EncodingSortField("per_image", op="min", order="ascending"),
        title=None,
    )
    tooltip = [
        alt.Tooltip("offer_id:N", title="offer"),
        alt.Tooltip("provider:N"),
        alt.Tooltip("per_image:Q", title=money_tip("per image", currency), format=fmt),
        alt.Tooltip("low:Q", title=money_tip("lowest source", currency), format=fmt),
        alt.Tooltip("high:Q", title=money_tip("highest source", currency), format=fmt),
        alt.Tooltip("sources:Q", title="sources in force"),
        alt.Tooltip("source_id:N", title="source"),
        alt.Tooltip("price_version:N", title="price version"),
    ]
    opacity: alt.OpacityValue | dict[str, object] = alt.OpacityValue(1.0)
    if linked_heatmap:
        opacity = {
            "condition": {"param": HEATMAP_PICK, "empty": True, "value": 1.0},
            "value": 0.3,
        }
    base = alt.Chart(inline(data)).transform_filter(
        f"{PROVIDER_PARAM} == 'all' || datum.provider == {PROVIDER_PARAM}"
    )
    bars = base.mark_bar().encode(
        x=alt.X("per_image:Q", title=money_title("Cost per image", currency)),
        y=y,
        color=alt.Color("provider:N", legend=None),
        opacity=opacity,
        tooltip=tooltip,
    )
    spread = base.mark_errorbar(ticks=True, color="#333").encode(
        x=alt.X("low:Q", title=money_title("Cost per image", currency)),
        x2="high:Q",
        y=y,
        tooltip=tooltip,
    )
    return [bars, spread]


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
) -> alt.Chart:
    """Step lines of an offer's price for ``request`` across its price versions.

    One line per (offer, source), coloured by the source's kind (official, reseller,
    third-party, seed), so disagreeing sources show side by side. Each step starts where a
    version takes effect; a gap is a period with no price in force.

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
    """
    cat = catalog if catalog is not None else load_catalog()
    req = request if request is not None else ImageRequest(model="flux-2-pro")
    chosen = list(offers) if offers is not None else [o.id for o in cat.offers(model=req.model)]
    if not chosen:
        raise PricingError(f"no offers serve {req.model!r}; pass offers=[...] by id")
    end = to_date(until)
    data, currency = _history_data(req, _history_rows(req, cat, chosen, end), end)
    subtitle = "One step line per offer and source"
    data, currency, sub = _shown(data, ("per_image",), currency, shown_in, subtitle)
    fmt = money_format(currency, 4)
    kinds = list(SOURCE_KIND_COLOURS)
    chart: alt.Chart = (
        alt.Chart(inline(data))
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("date:T", title="Price in force from"),
            y=alt.Y("per_image:Q", title=money_title("Cost per image", currency)),
            color=alt.Color(
                "source_kind:N",
                title="Source kind",
                scale=alt.Scale(domain=kinds, range=[SOURCE_KIND_COLOURS[k] for k in kinds]),
            ),
            detail="line:N",
            tooltip=[
                alt.Tooltip("offer_id:N", title="offer"),
                alt.Tooltip("date:T", title="from"),
                alt.Tooltip("per_image:Q", title=money_tip("per image", currency), format=fmt),
                alt.Tooltip("source_id:N", title="source"),
                alt.Tooltip("source_kind:N", title="source kind"),
                alt.Tooltip("version:N", title="price version"),
            ],
        )
        .properties(
            title=alt.Title(
                f"Price history: {req.model} {req.operation} {req.width}x{req.height}",
                subtitle=sub,
            )
        )
    )
    return chart


def _history_data(
    req: ImageRequest, rows: list[dict[str, object]], end: date
) -> tuple[pl.DataFrame, str]:
    """The history to draw, each line run on to ``end``, and its one currency."""
    frame = pl.DataFrame(rows, schema=_HISTORY_SCHEMA)
    priced = frame.filter(pl.col("per_image").is_not_null())
    require_rows(priced, "price_history_chart", f"no offer prices {req.model} {req.operation}")
    currency = _one_currency(priced, "price_history_chart")
    # Each line runs on to ``end`` at its last price, so the latest step has a width.
    last = (
        priced.sort("date")
        .group_by("offer_id", "source_id", maintain_order=True)
        .last()
        .with_columns(date=pl.lit(end))
    )
    data = rounded(pl.concat([frame, last.select(frame.columns)]).sort("offer_id", "date"))
    data = data.with_columns(line=pl.col("offer_id") + " · " + pl.col("source_id").fill_null(""))
    return data, currency


def cost_heatmap(
    model: str = "flux-2-pro",
    catalog: Catalog | None = None,
    *,
    sizes: Sequence[tuple[int, int]] = DEFAULT_SIZES,
    operation: str = "generate",
    as_of: date | datetime | str | None = None,
    shown_in: ShownIn | None = None,
) -> alt.LayerChart:
    """Heatmap of the cheapest cost per image per provider (rows) and output size (columns).

    A cell with no price is drawn grey and says so (never 0). Clicking a row selects the
    provider (parameter ``heatmap_provider``), which other charts of a dashboard highlight.
    ``shown_in`` draws the prices in another currency, at the rate it states.
    """
    cat = catalog if catalog is not None else load_catalog()
    if not sizes:
        raise PricingError("cost_heatmap needs at least one size, e.g. sizes=[(1024, 1024)]")
    providers = sorted({cat.provider_of(o) for o in cat.offers(model=model)})
    if not providers:
        raise PricingError(
            f"no offers serve {model!r}; known models: {', '.join(sorted(cat.models))}"
        )
    rows: list[dict[str, object]] = []
    currency = "USD"
    for w, h in sizes:
        req = ImageRequest(model=model, operation=operation, width=w, height=h)
        cells, currency = _heatmap_cells(req, cat, providers, as_of, currency)
        rows += cells
    data = rounded(pl.DataFrame(rows))
    require_rows(data.drop_nulls("per_image"), "cost_heatmap", f"no price for {model}")
    subtitle = (
        "Provider x output size; grey = no trusted price in force "
        "(lead only: only an excluded price, a claim or a flagged figure)"
    )
    data, currency, sub = _shown(data, ("per_image",), currency, shown_in, subtitle)
    return alt.LayerChart(layer=_heatmap_layers(data, currency, sizes)).properties(
        title=alt.Title(f"Cheapest cost per image: {model} {operation}", subtitle=sub),
        height=alt.Step(22),
        width=alt.Step(90),
    )


def _heatmap_cells(
    req: ImageRequest,
    cat: Catalog,
    providers: Sequence[str],
    as_of: date | datetime | str | None,
    currency: str,
) -> tuple[list[dict[str, object]], str]:
    """One size's column: each provider's cheapest offer (or no price), and the currency of
    the last priced cell (``currency`` if none is priced)."""
    # unverified leads (offers only excluded prices can price) are no price of the heatmap
    priced = compare(req, cat, as_of=as_of).filter(pl.col("per_image").is_not_null())
    leads = set(priced.filter(pl.col("lead").is_not_null())["provider"].to_list())
    frame = priced.filter(pl.col("lead").is_null())
    best = frame.sort("per_image").group_by("provider", maintain_order=True).first()
    found = {r["provider"]: r for r in best.iter_rows(named=True)}
    rows: list[dict[str, object]] = []
    for provider in providers:
        r = found.get(provider)
        if r is not None:
            currency = str(r["currency"])
        rows.append(
            {
                "provider": provider,
                "size": f"{req.width}x{req.height}",
                "megapixels": round(req.width * req.height / 1e6, 3),
                "per_image": None if r is None else float(r["per_image"]),
                "offer_id": None if r is None else r["offer_id"],
                "label": None
                if r is not None
                else ("lead only" if provider in leads else "no price"),
            }
        )
    return rows, currency


def _heatmap_layers(
    data: pl.DataFrame, currency: str, sizes: Sequence[tuple[int, int]]
) -> list[alt.Chart]:
    """Grey cells, the priced cells over them (clickable), and their text."""
    fmt = money_format(currency, 4)
    size_order = [f"{w}x{h}" for w, h in sizes]
    pick = alt.selection_point(name=HEATMAP_PICK, fields=["provider"], on="click")
    base = alt.Chart(inline(data)).encode(
        x=alt.X("size:O", sort=size_order, title="Output size [px]"),
        y=alt.Y("provider:N", title=None),
        tooltip=[
            alt.Tooltip("provider:N"),
            alt.Tooltip("size:O"),
            alt.Tooltip("megapixels:Q", title="megapixels"),
            alt.Tooltip("per_image:Q", title=money_tip("cheapest per image", currency), format=fmt),
            alt.Tooltip("offer_id:N", title="offer"),
        ],
    )
    # Every cell first in grey; priced cells are drawn over it (a log scale drops nulls).
    blank = base.mark_rect(stroke="white", color="#dddddd")
    cells = (
        base.mark_rect(stroke="white")
        .encode(
            color=alt.Color(
                "per_image:Q",
                title=money_title("Per image", currency),
                scale=alt.Scale(scheme="yelloworangered", type="log"),
                legend=alt.Legend(format=fmt),
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
        )
        .add_params(pick)
        .properties(name="heatmap_cells")
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.condition(
            "isValid(datum.per_image)",
            alt.Text("per_image:Q", format=fmt),
            alt.value("no price"),
        )
    )
    return [blank, cells, text]

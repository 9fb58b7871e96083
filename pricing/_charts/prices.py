"""Charts of prices: cost per image by offer, and a provider x size heatmap.

Each builder returns an Altair chart (theme: :mod:`pricing._charts.theme`). Inputs are either
what the engine returns (a :func:`~pricing.compare` frame) or a request to price first. The
price history (:mod:`pricing._charts.history`) is exported from here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import altair as alt
import polars as pl

from pricing._cards.catalog import Catalog, load_catalog
from pricing._charts.history import price_history_chart as price_history_chart
from pricing._charts.labels import Labels, labels_for
from pricing._charts.theme import (
    GRADE_COLOURS,
    ShownIn,
    cost_scale,
    inline,
    money_format,
    money_tip,
    money_title,
    one_currency,
    require_columns,
    require_rows,
    rounded,
    shown_in_currency,
)
from pricing._price.request import ImageRequest
from pricing._quote.compare import compare
from pricing.errors import PricingError

#: Name of the dropdown parameter that picks a provider on the cost-per-image chart.
PROVIDER_PARAM = "provider_pick"
#: Name of the click selection on the heatmap; the cost-per-image chart highlights it.
HEATMAP_PICK = "heatmap_provider"

DEFAULT_SIZES = ((512, 512), (1024, 1024), (1024, 1536), (2048, 2048))


def request_title(request: ImageRequest, labels: Labels | None = None) -> str:
    """``"Cost per image: FLUX.2 [pro], generate 1024x1024"``."""
    model = (labels or labels_for()).model(request.model)
    return f"Cost per image: {model}, {request.operation} {request.width}x{request.height}"


def cost_per_image_chart(
    request: ImageRequest | pl.DataFrame,
    catalog: Catalog | None = None,
    *,
    as_of: date | datetime | str | None = None,
    top: int = 25,
    linked_heatmap: bool = False,
    title: str | None = None,
    shown_in: ShownIn | None = None,
    labels: Labels | None = None,
) -> alt.LayerChart:
    """Bars of the cost per image on every offer that serves a request, cheapest first.

    Each bar is named by its seller and coloured by the evidence grade of its price. Error
    bars span the lowest and highest price across disagreeing sources in force. A dropdown
    (parameter ``provider_pick``) shows one provider's offers.

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
    labels : Labels, optional
        Names of sellers and models (default: from the bundled data).
    """
    names = labels or labels_for()
    if isinstance(request, ImageRequest):
        frame = compare(request, catalog, as_of=as_of)
        title = title or request_title(request, names)
    else:
        frame = request
        title = title or "Cost per image by offer"
    data, currency = _offer_prices(frame, top, names)
    subtitle = "Error bars: range across disagreeing sources; colour: evidence grade of the price"
    data, currency, sub = shown_in_currency(
        data, ("per_image", "low", "high"), currency, shown_in, subtitle
    )
    providers = sorted(data["provider"].unique().to_list())
    pick = alt.param(
        name=PROVIDER_PARAM,
        value="all",
        bind=alt.binding_select(
            options=["all", *providers],
            labels=["all", *(names.provider(p) for p in providers)],
            name="Provider ",
        ),
    )
    return (
        alt.LayerChart(layer=_offer_bars(data, currency, linked_heatmap))
        .add_params(pick)
        .properties(
            title=alt.Title(title, subtitle=sub),
            height=alt.Step(16),
        )
    )


def _offer_prices(frame: pl.DataFrame, top: int, names: Labels) -> tuple[pl.DataFrame, str]:
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
    currency = one_currency(frame, "cost_per_image_chart")
    images = pl.col("total") / pl.col("per_image")
    data = rounded(
        frame.sort("per_image")
        .head(top)
        .with_columns(
            low=pl.col("min_total") / images,
            high=pl.col("max_total") / images,
            source_kind=pl.col("source_kind").fill_null("unknown"),
            grade=pl.col("grade").fill_null("unknown")
            if "grade" in frame.columns
            else pl.lit("unknown"),
        )
        .select(
            "offer_id",
            "provider",
            "grade",
            "per_image",
            "low",
            "high",
            "sources",
            "source_id",
            "source_kind",
            "price_version",
        )
    )
    offers = data["offer_id"].to_list()
    sellers = data["provider"].to_list()
    return data.with_columns(
        offer=pl.Series([names.seller(o) for o in offers], dtype=pl.String),
        seller=pl.Series([names.provider(p) for p in sellers], dtype=pl.String),
    ), currency


def _offer_bars(data: pl.DataFrame, currency: str, linked_heatmap: bool) -> list[alt.Chart]:
    """The bars (filtered by the provider dropdown) and the error bars of the source range."""
    fmt = money_format(currency, 4)
    y = alt.Y(
        "offer:N",
        sort=alt.EncodingSortField("per_image", op="min", order="ascending"),
        title=None,
        axis=alt.Axis(labelLimit=300),
    )
    tooltip = [
        alt.Tooltip("offer:N", title="offer"),
        alt.Tooltip("offer_id:N", title="offer id"),
        alt.Tooltip("grade:N", title="evidence"),
        alt.Tooltip("per_image:Q", title=money_tip("per image", currency), format=fmt),
        alt.Tooltip("low:Q", title=money_tip("lowest source", currency), format=fmt),
        alt.Tooltip("high:Q", title=money_tip("highest source", currency), format=fmt),
        alt.Tooltip("sources:Q", title="sources in force"),
        alt.Tooltip("source_id:N", title="source"),
        alt.Tooltip("price_version:N", title="price version"),
    ]
    opacity: alt.OpacityValue | dict[str, object] = alt.OpacityValue(1.0)
    if linked_heatmap:  # the heatmap's selection, set in the same spec or by the page
        picked = f"isValid({HEATMAP_PICK}) && isValid({HEATMAP_PICK}.provider)"
        opacity = {
            "condition": {
                "test": f"!({picked}) || indexof({HEATMAP_PICK}.provider, datum.provider) >= 0",
                "value": 1.0,
            },
            "value": 0.3,
        }
    base = alt.Chart(inline(data)).transform_filter(
        f"{PROVIDER_PARAM} == 'all' || datum.provider == {PROVIDER_PARAM}"
    )
    axis = alt.Axis(format=money_format(currency, 4).replace(".4f", ".3~f"), tickCount=5)
    bars = base.mark_bar().encode(
        x=alt.X("per_image:Q", title=money_title("Cost per image", currency), axis=axis),
        y=y,
        color=alt.Color(
            "grade:N",
            title="Evidence",
            scale=alt.Scale(domain=list(GRADE_COLOURS), range=list(GRADE_COLOURS.values())),
        ),
        opacity=opacity,
        tooltip=tooltip,
    )
    spread = base.mark_errorbar(ticks=True, color="#333").encode(
        x=alt.X("low:Q", title=money_title("Cost per image", currency), axis=axis),
        x2="high:Q",
        y=y,
        tooltip=tooltip,
    )
    return [bars, spread]


def cost_heatmap(
    model: str = "flux-2-pro",
    catalog: Catalog | None = None,
    *,
    sizes: Sequence[tuple[int, int]] = DEFAULT_SIZES,
    operation: str = "generate",
    as_of: date | datetime | str | None = None,
    shown_in: ShownIn | None = None,
    labels: Labels | None = None,
) -> alt.LayerChart:
    """Heatmap of the cheapest cost per image per provider (rows) and output size (columns).

    A cell with no price is drawn grey and says so (never 0). Clicking a row selects the
    provider (parameter ``heatmap_provider``), which other charts of a dashboard highlight.
    ``shown_in`` draws the prices in another currency, at the rate it states; ``labels``
    names the providers and the model (default: from the bundled data).
    """
    cat = catalog if catalog is not None else load_catalog()
    names = labels or labels_for()
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
    data = rounded(pl.DataFrame(rows)).with_columns(
        seller=pl.col("provider").replace_strict({p: names.provider(p) for p in providers})
    )
    require_rows(data.drop_nulls("per_image"), "cost_heatmap", f"no price for {model}")
    subtitle = (
        "Provider x output size; grey = no trusted price in force "
        "(lead only: only an excluded price, a claim or a flagged figure)"
    )
    data, currency, sub = shown_in_currency(data, ("per_image",), currency, shown_in, subtitle)
    return alt.LayerChart(layer=_heatmap_layers(data, currency, sizes)).properties(
        title=alt.Title(
            f"Cheapest cost per image: {names.model(model)}, {operation}", subtitle=sub
        ),
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
        x=alt.X("size:O", sort=size_order, title="Output size [px]", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("seller:N", title=None, axis=alt.Axis(labelLimit=240)),
        tooltip=[
            alt.Tooltip("seller:N", title="provider"),
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
                scale=alt.Scale(
                    scheme="yelloworangered", type=cost_scale(data["per_image"].to_list()).type
                ),
                legend=alt.Legend(format=fmt, direction="horizontal", gradientLength=220),
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

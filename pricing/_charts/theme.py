"""The one look of every chart: theme, colours, currency formats and input checks.

Importing this module registers the Altair theme ``"pricing"`` and enables it, so charts built
by the package and shown in a notebook share fonts, sizes and colours. ``alt.theme.enable(
"default")`` switches back. Exports (:mod:`pricing._charts.dashboard`) write the theme's config into
each spec, so a saved chart looks the same wherever it is opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import altair as alt
import polars as pl

from pricing.errors import PricingError

THEME = "pricing"

#: Colour per line item, fixed so that the same thing has the same colour
#: on every chart of a dashboard.
ITEM_COLOURS = {
    "API usage": "#4c78a8",
    "GPU busy": "#f58518",
    "GPU idle": "#ffbf79",
    "licence": "#54a24b",
    "operations": "#b279a2",
    "storage": "#9d755d",
    "egress": "#bab0ac",
}
SOURCE_KIND_COLOURS = {
    "official": "#1b7837",
    "provider-reseller": "#4c78a8",
    "third-party": "#f58518",
    "seed": "#b279a2",
}
BUDGET_COLOUR = "#d62728"
#: Colour per evidence grade: the same on charts and on the page's badges.
GRADE_COLOURS = {
    "official": "#1b7837",
    "provider": "#4c78a8",
    "third-party": "#f58518",
    "claim": "#d62728",
}

_CONFIG: dict[str, object] = {
    "font": "DejaVu Sans, Helvetica, Arial, sans-serif",
    "background": "white",
    "view": {"stroke": None, "continuousWidth": 520, "continuousHeight": 280},
    "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555", "subtitleFontSize": 11},
    "axis": {
        "labelFontSize": 11,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
        "gridColor": "#e6e6e6",
        "domainColor": "#888",
        "tickColor": "#888",
    },
    # Legends under the plot: a chart keeps its width on a phone, and long labels are not cut.
    "legend": {
        "labelFontSize": 11,
        "titleFontSize": 12,
        "labelLimit": 480,
        "orient": "bottom",
        "direction": "vertical",
    },
    "range": {"category": {"scheme": "tableau10"}},
    "bar": {"cornerRadiusEnd": 2},
    "line": {"strokeWidth": 2},
}


def _theme() -> alt.theme.ThemeConfig:
    return alt.theme.ThemeConfig(config=_CONFIG)  # type: ignore[typeddict-item]


def theme_config() -> dict[str, object]:
    """The theme's Vega-Lite ``config`` (a copy), for specs written to disk."""
    return dict(_CONFIG)


if THEME not in alt.theme.names():
    alt.theme.register(THEME, enable=False)(_theme)
alt.theme.enable(THEME)


def money_format(currency: str, places: int = 2) -> str:
    """d3 format of an amount in ``currency``: ``$,.2f`` for USD, ``,.2f`` otherwise."""
    return f"$,.{places}f" if currency == "USD" else f",.{places}f"


def money_title(what: str, currency: str) -> str:
    """Axis title that names the currency: ``"Monthly cost [USD]"``."""
    return f"{what} [{currency}]"


def money_tip(title: str, currency: str) -> str:
    """A tooltip's title for money: itself in USD (its format shows ``$``), else with the
    currency: ``"P10 [EUR]"``."""
    return title if currency == "USD" else f"{title} [{currency}]"


def money_axis(currency: str, places: int = 0, *, log: bool = False) -> alt.Axis:
    """Axis with currency-formatted labels. A log axis labels its ticks to two significant
    places, so amounts under 1 read ``$0.05``, never ``$0``."""
    if log:
        return alt.Axis(format=money_format(currency, 2).replace(".2f", ".2~r"))
    return alt.Axis(format=money_format(currency, places))


def cost_scale(values: Iterable[float | None]) -> alt.Scale:
    """A log scale for costs that are all above 0; a linear one from 0 when any is 0 (a free
    tier), which a log scale cannot draw."""
    drawn = [v for v in values if v is not None]
    if drawn and min(drawn) > 0:
        return alt.Scale(type="log")
    return alt.Scale(type="linear", zero=True)


def integer_axis(title: str, top: float | None = None) -> alt.Axis:
    """An axis of whole things (GPUs): integer ticks only. Up to ``top`` = 12 each whole
    number is a tick (a step of 1 still lets d3 put one at 0.5 on a domain of 0-1)."""
    if top is not None and top <= 12:
        return alt.Axis(title=title, values=list(range(int(top) + 1)), format="d")
    return alt.Axis(title=title, tickMinStep=1, format="d")


@dataclass(frozen=True)
class ShownIn:
    """Draw a chart's prices in ``currency``: amounts in ``source`` [source] times ``rate``
    [currency/source]; ``said`` states the rate, its day and source (the chart's subtitle)."""

    currency: str
    source: str
    rate: float
    said: str

    def apply(
        self, frame: pl.DataFrame, columns: Sequence[str], currency: str
    ) -> tuple[pl.DataFrame, str]:
        """``frame`` with ``columns`` (money in ``currency``) converted, and its new currency;
        unchanged when ``currency`` is not the one this converts from."""
        if currency != self.source:
            return frame, currency
        converted = frame.with_columns([pl.col(c) * self.rate for c in columns])
        return converted, self.currency

    def subtitle(self, text: str) -> list[str]:
        """A chart's subtitle, then the rate its prices were converted at."""
        return [text, f"Prices converted: {self.said}"]


def one_currency(frame: pl.DataFrame, what: str) -> str:
    """The one currency of a frame's ``currency`` column; raise when it holds several."""
    currencies = frame["currency"].drop_nulls().unique().sort().to_list()
    if len(currencies) != 1:
        raise PricingError(
            f"{what}: prices are in {', '.join(currencies) or 'no currency'}; one chart shows one "
            "currency. Filter the frame to one currency first."
        )
    return str(currencies[0])


def shown_in_currency(
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


def require_columns(frame: pl.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a clear error when ``frame`` lacks columns a chart needs."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PricingError(
            f"{what} needs columns {', '.join(missing)}; the frame has "
            f"{', '.join(frame.columns) or 'none'}. Pass the frame the builder documents."
        )


def require_rows(frame: pl.DataFrame, what: str, hint: str) -> None:
    """Raise when a chart would be empty: an empty chart reads like a price of 0."""
    if frame.height == 0:
        raise PricingError(f"nothing to draw for {what}: {hint}")


def rounded(frame: pl.DataFrame, places: int = 6) -> pl.DataFrame:
    """Numbers as floats rounded to ``places``, so exported specs are small and repeat exactly.

    Decimal money becomes float here, for drawing only; tables keep the exact values.
    """
    floats = frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    return floats.with_columns(pl.col(pl.Float64, pl.Float32).round(places))


def chart_data(frame: pl.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready dicts (dates as ISO text), inlined into the spec."""
    out = frame.with_columns(
        pl.col(pl.Decimal).cast(pl.Float64),
        pl.col(pl.Date, pl.Datetime).dt.to_string("%Y-%m-%d"),
    )
    return out.to_dicts()


def inline(rows: pl.DataFrame | list[dict[str, object]]) -> alt.Data:
    """Data inlined in the spec, so a saved chart needs no file beside it."""
    values = chart_data(rows) if isinstance(rows, pl.DataFrame) else rows
    return alt.Data(values=values)  # type: ignore[no-untyped-call]

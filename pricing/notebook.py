"""Notebook helpers: charts that draw offline, tables that read as money, what-if controls.

``from pricing import notebook as nb`` in a notebook's first cell:

- enables the Altair renderer ``"pricing-offline"``: every chart's HTML carries Vega,
  Vega-Lite and Vega-Embed (vl-convert's bundle, built once per process), so charts draw in
  JupyterLab with no network and in a notebook exported to HTML (nbconvert), sliders,
  dropdowns and selections included. ``alt.renderers.enable("default")`` switches back;
  :func:`charts_offline` on again;
- :func:`table` shows a frame with money as ``$1,234.56`` (``€``/``£``/ISO code otherwise),
  volumes as ``1,011,400``, shares as ``63.0%`` and option and offer ids as names
  (:func:`option_name`), keeping the exact frame in ``Table.frame``;
- :func:`what_if` shows ipywidgets controls above the tables and charts that a function makes
  from their values, and redraws those outputs in place when a control changes.

Importing :mod:`pricing` does not import this module (nor altair or ipywidgets).
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from pricing._charts.labels import OPTION_MODES, Labels, labels_for
from pricing._charts.offline import RENDERER, chart_html, charts_offline
from pricing._dataset import DataSet, load_data_set
from pricing.errors import PricingError

__all__ = [
    "RENDERER",
    "Table",
    "WhatIf",
    "chart_html",
    "charts_offline",
    "choice",
    "count",
    "gpu_name",
    "labels",
    "model_name",
    "money",
    "number",
    "option_name",
    "option_names",
    "percent",
    "provider_name",
    "slider",
    "table",
    "what_if",
    "with_gpu_price",
]

# ---- names --------------------------------------------------------------------------------

#: Labels of the last few data sets (a what-if makes a new data set per GPU price).
_LABELS: list[tuple[DataSet, Labels]] = []


def labels(data: DataSet | None = None) -> Labels:
    """The display names of a data set's ids, as the charts and the dashboard use them."""
    data = data or load_data_set()
    for known, found in _LABELS:
        if known is data:
            return found
    _LABELS.insert(0, (data, labels_for(data)))
    del _LABELS[8:]
    return _LABELS[0][1]


def model_name(model: str, data: DataSet | None = None) -> str:
    """``"flux-1-dev"`` -> ``"FLUX.1 [dev]"``; an unknown id as it is."""
    return labels(data).model(model)


def provider_name(provider: str, data: DataSet | None = None) -> str:
    """``"bfl"`` -> ``"Black Forest Labs"``, ``"runpod"`` -> ``"RunPod"``."""
    return labels(data).provider(provider)


def gpu_name(gpu: str, data: DataSet | None = None) -> str:
    """``"h100-sxm"`` -> ``"H100 SXM"``."""
    return labels(data).gpu(gpu)


def _option_row(option: str, data: DataSet) -> dict[str, str | None] | None:
    """An option id's parts (mode, offer, model, precision; the GPU of owned hardware), or
    ``None`` for a bare offer id."""
    mode, sep, rest = option.partition(":")
    if not sep or mode not in OPTION_MODES:
        return None
    offer, _, model = rest.rpartition(":") if mode != "api" else (rest, "", "")
    model, _, precision = model.partition("@")
    owned = [o.gpu for o in data.gpus.owned if o.id == offer] if mode == "owned" else []
    return {
        "option": option,
        "mode": mode,
        "offer_id": offer,
        "model": model or None,
        "precision": precision or None,
        "gpu": owned[0] if owned else None,
    }


def option_name(option: str, data: DataSet | None = None) -> str:
    """A readable name for a simulation option or an offer id (the charts' labels).

    ``api:bfl/flux-1-dev`` -> ``FLUX.1 [dev] on Black Forest Labs, API``;
    ``dedicated:runpod/h100-sxm-community:flux-1-dev`` ->
    ``FLUX.1 [dev] on RunPod H100 SXM, community, dedicated``; ``runpod/h100-sxm-community``
    -> ``RunPod H100 SXM, community``. Names can coincide (two regions of one instance):
    :func:`option_names` makes them unique.
    """
    return option_names([option], data)[option]


def option_names(ids: Iterable[str], data: DataSet | None = None) -> dict[str, str]:
    """Id -> name for each id, unique: names that coincide add the precision, then the id."""
    data = data or load_data_set()
    names = labels(data)
    unique = list(dict.fromkeys(ids))
    rows = [row for i in unique if (row := _option_row(i, data)) is not None]
    found = dict(names.options(pl.DataFrame(rows)).iter_rows()) if rows else {}
    out = {i: found.get(i) or names.words(i) for i in unique}
    seen: dict[str, int] = {}
    for name in out.values():
        seen[name] = seen.get(name, 0) + 1
    return {i: n if seen[n] == 1 or n == i else f"{n} [{i}]" for i, n in out.items()}


# ---- numbers ------------------------------------------------------------------------------

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
NO_VALUE = "—"


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal | int):
        return Decimal(value)
    return Decimal(repr(float(value)))  # type: ignore[arg-type]


def _special(value: object) -> str | None:
    """The text of a value that is not a finite number: ``None`` and NaN (no value: never
    0) are ``"—"``, infinities ``"∞"``; ``None`` for a finite number."""
    if value is None:
        return NO_VALUE
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return NO_VALUE if math.isnan(value) else ("-∞" if value < 0 else "∞")
    return None


def money(value: object, currency: str = "USD", places: int | None = None) -> str:
    """``1234.5`` -> ``"$1,234.50"``; amounts under 1 keep 4 significant digits
    (``0.00462075`` -> ``"$0.004621"``); ``€``/``£``/``¥`` or the ISO code after the number;
    ``None`` (no price: never 0) -> ``"—"``."""
    if (special := _special(value)) is not None:
        return special
    amount = _decimal(value)
    auto = places is None
    if places is None:
        whole = 0 if currency == "JPY" else 2
        small = amount != 0 and abs(amount) < 1
        places = max(whole, 3 - abs(amount).adjusted()) if small else whole
    if amount != 0 and not -9 <= amount.adjusted() < 15:
        places = 2  # too small or too large to read in full: scientific notation
        text = f"{abs(amount):.3E}"
    else:
        text = f"{abs(amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)):,.{places}f}"
    if auto and places > 2 and "E" not in text:  # 4 significant digits, no trailing zeros
        text = text.rstrip("0")
        text = text + "0" * max(0, 2 - len(text.split(".")[1]))
    sign = "-" if amount < 0 and text.strip("0.,") else ""
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def count(value: object) -> str:
    """``1.0114e6`` -> ``"1,011,400"`` (whole units); ``None`` -> ``"—"``."""
    if (special := _special(value)) is not None:
        return special
    whole = _decimal(value)
    if abs(whole) >= Decimal("1e15"):
        return f"{whole:.3E}"
    return f"{whole.quantize(Decimal(1), ROUND_HALF_UP) + 0:,}"


def percent(value: object, places: int = 1) -> str:
    """A fraction as a percentage: ``0.632`` -> ``"63.2%"``."""
    if (special := _special(value)) is not None:
        return special
    return f"{float(value):.{places}%}"  # type: ignore[arg-type]


def number(value: object) -> str:
    """Any other number, readable: thousands separated, at most 4 significant digits below 1."""
    if (special := _special(value)) is not None:
        return special
    if isinstance(value, bool | str):
        return str(value)
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x):
        return NO_VALUE if math.isnan(x) else "∞"
    if abs(x) >= 1e15:
        return f"{x:.3e}"
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.4g}"


#: Words of a column name (split at "_") that say how it is shown, in this order.
MONEY_WORDS = {
    "cost", "price", "total", "amount", "spend", "spent", "saving", "budget", "fee", "forecast",
    "billed", "computed", "variance", "hourly", "monthly", "p10", "p50", "p90",
}  # fmt: skip
COUNT_WORDS = {"images", "calls", "requests", "rows", "volume", "count", "gpus", "sources"}
FRACTION_WORDS = {"utilisation", "probability", "share", "threshold"}
NAME_COLUMNS = ("option", "hosted_option", "self_hosted_option", "usual_cheapest", "offer_id")
PLAIN = ("quantity",)


def _kind(column: str, dtype: pl.DataType) -> str:
    """How a column is shown when the caller does not say: by its name, then its type."""
    name = column.lower()
    words = set(name.split("_"))
    if name == "pct" or name.endswith("_pct"):
        return "points"
    if not dtype.is_numeric():
        return "text"
    if name in PLAIN:
        return "number"
    if words & FRACTION_WORDS:
        return "percent"
    if words & MONEY_WORDS or "per_image" in name or "run_rate" in name:
        return "money"
    if words & COUNT_WORDS or dtype.is_integer():
        return "count"
    return "money" if isinstance(dtype, pl.Decimal) else "number"


def _formatted(values: list[Any], kind: str, currencies: list[str]) -> list[str]:
    if kind == "money":
        return [money(v, c) for v, c in zip(values, currencies, strict=True)]
    if kind == "points":
        return [_special(v) or f"{v:,.1f}%" for v in values]
    shown = {"count": count, "percent": percent, "number": number}.get(kind)
    if shown is not None:
        return [shown(v) for v in values]
    return ["" if v is None else str(v) for v in values]


@dataclasses.dataclass(frozen=True)
class Table:
    """A frame as shown: ``frame`` is the exact one, ``shown`` its text, ``numeric`` the
    columns aligned right. Jupyter draws it as an HTML table with nothing cut."""

    frame: pl.DataFrame
    shown: pl.DataFrame
    numeric: tuple[str, ...]
    max_rows: int = 60

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<th style='text-align:{'right' if c in self.numeric else 'left'}'>"
            f"{html.escape(c)}</th>"
            for c in self.shown.columns
        )
        rows = [
            "<tr>"
            + "".join(
                f"<td style='text-align:{'right' if c in self.numeric else 'left'};"
                f"white-space:nowrap'>{html.escape(v)}</td>"
                for c, v in zip(self.shown.columns, row, strict=True)
            )
            + "</tr>"
            for row in self.shown.head(self.max_rows).iter_rows()
        ]
        more = self.shown.height - self.max_rows
        note = (
            f"<p><small>{more:,} more rows: see <code>.frame</code></small></p>" if more > 0 else ""
        )
        head = f"<thead><tr>{cells}</tr></thead>"
        return f"<table class='pricing-table'>{head}<tbody>{''.join(rows)}</tbody></table>{note}"

    def __repr__(self) -> str:
        with pl.Config(
            fmt_str_lengths=200, tbl_rows=self.max_rows, tbl_cols=-1, tbl_width_chars=400
        ):
            return repr(self.shown)


def table(
    frame: pl.DataFrame,
    *,
    money: Sequence[str] = (),
    counts: Sequence[str] = (),
    percent: Sequence[str] = (),
    text: Sequence[str] = (),
    currency: str | None = None,
    names: bool | Sequence[str] = True,
    data: DataSet | None = None,
    max_rows: int = 60,
) -> Table:
    """``frame`` to read: money, volumes, shares and names formatted, nothing cut.

    Columns are shown by their name (``cost``, ``per_image`` ... as money; ``images``,
    ``gpus`` ... as whole numbers; ``utilisation``, ``probability``, ``share``, ``threshold``
    as fractions in percent; ``*_pct`` as percentage points), then by type (decimals as money,
    integers as counts). ``money``/``counts``/``percent``/``text`` name columns to show
    otherwise. Money is in ``currency``, else each row's ``currency`` column, else USD.
    ``names``: option and offer id columns (``option``, ``offer_id`` ...) show
    :func:`option_names`, and ``model``, ``gpu`` and ``provider`` columns their display names
    (``True``: all of them; or the columns to name, e.g. ``["provider"]`` to keep the ids a
    later cell needs), from ``data`` (default: the bundled data set).
    """
    given = {
        **dict.fromkeys(money, "money"),
        **dict.fromkeys(counts, "count"),
        **dict.fromkeys(percent, "percent"),
        **dict.fromkeys(text, "text"),
    }
    if "currency" in frame.columns and currency is None:
        currencies = [c or "USD" for c in frame["currency"].cast(pl.String).to_list()]
    else:
        currencies = [currency or "USD"] * frame.height
    columns: dict[str, list[str]] = {}
    numeric = []
    for column in frame.columns:
        kind = given.get(column) or _kind(column, frame.schema[column])
        numeric += [column] if kind != "text" else []
        columns[column] = _formatted(frame[column].to_list(), kind, currencies)
    shown = pl.DataFrame(columns, schema=dict.fromkeys(frame.columns, pl.String))
    wanted = shown.columns if names is True else [names] if isinstance(names, str) else names or ()
    named = [c for c in shown.columns if c in wanted]
    return Table(frame, _named(shown, named, data), tuple(numeric), max_rows)


def _named(shown: pl.DataFrame, columns: Sequence[str], data: DataSet | None) -> pl.DataFrame:
    """Id ``columns`` replaced by names (see :func:`table`)."""
    if not columns:
        return shown
    data = data or load_data_set()
    lookups: dict[str, Callable[[str, DataSet], str]] = {
        "model": model_name,
        "gpu": gpu_name,
        "provider": provider_name,
    }
    out = []
    for column in shown.columns:
        values = shown[column].to_list()
        if column in columns and column in NAME_COLUMNS:
            ids = option_names([v for v in values if v], data)
            values = [ids.get(v, v) if v else v for v in values]
        elif column in columns and column in lookups:
            values = [lookups[column](v, data) if v else v for v in values]
        out.append(pl.Series(column, values, dtype=pl.String))
    return pl.DataFrame(out)


# ---- what-ifs -----------------------------------------------------------------------------


def with_gpu_price(offer_id: str, gpu_hour: float | None, data: DataSet | None = None) -> DataSet:
    """The data set with GPU offer ``offer_id`` priced at ``gpu_hour`` [currency/GPU-h]
    (every figure of it), for ``simulate(..., data=...)`` and ``break_even(..., data=...)``;
    ``None`` leaves the listed price."""
    data = data or load_data_set()
    if gpu_hour is None:
        return data
    if not any(o.id == offer_id for o in data.gpus.offers):
        raise PricingError(f"unknown GPU offer {offer_id!r}; see pricing.gpu_offers_table()")
    price = Decimal(repr(float(gpu_hour)))
    offers = tuple(
        o.model_copy(update={"price": price, "per": "hour", "price_basis": "gpu"})
        if o.id == offer_id
        else o
        for o in data.gpus.offers
    )
    return dataclasses.replace(data, gpus=dataclasses.replace(data.gpus, offers=offers))


def slider(label: str, value: float, low: float, high: float, step: float | None = None) -> Any:
    """An ipywidgets slider that acts on release (a what-if can take a second): integer when
    ``value``, ``low`` and ``high`` are. The range stretches to hold ``value``, so the
    controls start at the assumption, never at a bound it was clipped to."""
    import ipywidgets as widgets  # type: ignore[import-untyped]

    low, high = min(low, value), max(high, value)
    style = {"description_width": "initial"}
    layout = widgets.Layout(width="560px")
    args = {"description": label, "continuous_update": False, "style": style, "layout": layout}
    if all(isinstance(v, int) for v in (value, low, high)) and (step is None or step % 1 == 0):
        return widgets.IntSlider(value=value, min=low, max=high, step=int(step or 1), **args)
    fine = step or (high - low) / 100
    places = max(0, -math.floor(math.log10(fine))) if fine > 0 else 2
    return widgets.FloatSlider(
        value=value, min=low, max=high, step=fine, readout_format=f".{places}f", **args
    )


def choice(label: str, options: Mapping[str, object] | Sequence[object], value: object) -> Any:
    """An ipywidgets dropdown (``options``: label -> value, or the values); a ``value`` that
    is not among them is added, so an assumption never has to be one of the presets."""
    import ipywidgets as widgets

    pairs = list(options.items()) if isinstance(options, Mapping) else [(v, v) for v in options]
    if all(v != value for _, v in pairs):
        pairs.append((str(value), value))
    style = {"description_width": "initial"}
    return widgets.Dropdown(description=label, options=pairs, value=value, style=style)


class WhatIf:
    """Controls and the outputs they drive: see :func:`what_if`."""

    def __init__(self, update: Callable[..., Sequence[object]], controls: Mapping[str, Any]):
        import ipywidgets as widgets

        self.update = update
        self.controls = dict(controls)
        self.status = widgets.HTML()
        self.box = widgets.VBox([*self.controls.values(), self.status])
        self.handles: list[Any] = []
        self.runs = 0
        for control in self.controls.values():
            control.observe(self.changed, names="value")

    def values(self) -> dict[str, Any]:
        """Each control's current value, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def outputs(self) -> list[object]:
        """What ``update`` returns for the current values; text is shown as Markdown."""
        from IPython.display import Markdown

        self.runs += 1
        return [
            Markdown(o) if isinstance(o, str) else o  # type: ignore[no-untyped-call]
            for o in self.update(**self.values())
        ]

    def show(self) -> WhatIf:
        """Display the controls, then the outputs (each with a display id to redraw)."""
        from IPython.display import display

        display(self.box)  # type: ignore[no-untyped-call]
        self.handles = [_shown(o) for o in self.outputs()]
        return self

    def changed(self, _change: object = None) -> None:
        """Recompute and redraw in place; an error is shown beside the controls."""
        self.status.value = "<i>computing…</i>"
        try:
            outputs = self.outputs()
        except (PricingError, ValueError) as exc:
            self.status.value = f"<span style='color:#b00020'>{html.escape(str(exc))}</span>"
            return
        for i, output in enumerate(outputs):
            if i < len(self.handles):
                self.handles[i].update(output)
            else:
                self.handles.append(_shown(output))
        for handle in self.handles[len(outputs) :]:
            handle.update("")
        self.status.value = ""


def _shown(output: object) -> Any:
    """Display ``output`` under a new display id; the handle redraws it in place."""
    from IPython.display import DisplayHandle

    handle = DisplayHandle()  # type: ignore[no-untyped-call]
    handle.display(output)  # type: ignore[no-untyped-call]
    return handle


def what_if(update: Callable[..., Sequence[object]], **controls: Any) -> WhatIf:
    """Show ipywidgets ``controls``, then the tables, charts and text (Markdown) that
    ``update(**values)`` returns for their values; a change of a control runs ``update`` again
    and redraws those outputs in place. The outputs are ordinary display outputs, so they stay
    in a saved or exported notebook (the controls need a running kernel)."""
    return WhatIf(update, controls).show()


charts_offline()

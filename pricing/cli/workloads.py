"""``pricing workloads``: the bundled example workloads, listed and shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pricing.cli._common import fail, load_data_or_fail, out, print_json, print_table
from pricing.cli._options import DataOption, JsonOption
from pricing.errors import PricingError

if TYPE_CHECKING:
    from pricing._dataset import DataSet
    from pricing._workloads.model import Segment, SelfHosting, Traffic, Workload

app = typer.Typer(help="Bundled example workloads.", no_args_is_help=True)

#: A line of a shown workload: what, and its value in words.
Line = tuple[str, str]


@app.command("list")
def workloads_list(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Bundled example workloads (pass a name to `pricing simulate` or `workloads show`)."""
    from pricing._workloads.load import list_workloads

    dataset = load_data_or_fail(data)
    rows: list[dict[str, Any]] = []
    for name in list_workloads(dataset):
        wl = _load(name, dataset)
        rows.append(
            {
                "name": name,
                "title": wl.name,
                "months": wl.months,
                "segments": [s.name for s in wl.segments],
                "description": wl.description,
            }
        )
    if as_json:
        print_json(rows)
        return
    show = Table(title="Bundled workloads", title_justify="left")
    for col in ("name", "title", "months", "segments"):
        show.add_column(col, no_wrap=col in ("name", "months"))
    for r in rows:
        show.add_row(
            r["name"], escape(r["title"]), str(r["months"]), escape(", ".join(r["segments"]))
        )
    print_table(show)


@app.command("show")
def workloads_show(
    name: Annotated[
        str,
        typer.Argument(help="Bundled workload name (see `pricing workloads list`) or a TOML file."),
    ],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """A workload's segments (volumes, sizes, models, traffic), self-hosting terms, currency
    and exchange rates: what `pricing simulate NAME` prices."""
    wl = _load(name, load_data_or_fail(data))
    if as_json:
        print_json(_workload_json(wl))
        return
    _print_lines(f"{wl.name} ({name})", _workload_lines(wl))
    for segment in wl.segments:
        _print_lines(f"segment: {segment.name}", _segment_lines(segment, wl))
    if wl.self_hosting is None:
        out.print("[dim]no self-hosting terms: only hosted offers are simulated[/]")
    else:
        _print_lines("self-hosting terms", _self_hosting_lines(wl.self_hosting, wl.currency))


def _load(name: str, dataset: DataSet) -> Workload:
    from pricing._workloads.load import load_workload

    try:
        return load_workload(name, data=dataset)
    except PricingError as exc:
        raise fail(str(exc)) from exc


def _workload_json(wl: Workload) -> dict[str, Any]:
    """The workload as read (every field, distributions as written), and each segment's
    traffic peak [peak hour's rate / mean rate]."""
    from pricing._workloads.demand import peak_to_mean

    payload: dict[str, Any] = wl.model_dump(mode="json")
    payload["peak_to_mean"] = {s.name: peak_to_mean(s.traffic or wl.traffic) for s in wl.segments}
    return payload


def _print_lines(title: str, lines: list[Line]) -> None:
    table = Table(title=escape(title), title_justify="left", show_header=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", overflow="fold")
    for what, value in lines:
        table.add_row(what, escape(value))
    print_table(table, least=30)


# --------------------------------------------------------------------------- words


def number(x: Any, fmt: Callable[[float], str] = lambda v: f"{v:,.6g}") -> str:
    """A workload number in words: the number, or its distribution with ``fmt`` values."""
    from pricing._workloads.distributions import LogNormal, Normal, Triangular, Uniform

    if isinstance(x, Triangular):
        return f"{fmt(x.low)} to {fmt(x.high)}, most likely {fmt(x.mode)} (triangular)"
    if isinstance(x, Uniform):
        return f"{fmt(x.low)} to {fmt(x.high)} (uniform)"
    if isinstance(x, Normal):
        clip = "" if x.low is None and x.high is None else f", kept in {x.low} to {x.high}"
        return f"mean {fmt(x.mean)}, sd {fmt(x.sd)} (normal{clip})"
    if isinstance(x, LogNormal):
        return f"median {fmt(x.median)}, sigma {x.sigma:g} (lognormal)"
    if isinstance(x, int | float):
        return fmt(float(x))
    return "across the sources' range"


def unit(text: str) -> Callable[[float], str]:
    """A number's words with ``text`` after it: ``unit(" GB")(200)`` is "200 GB"."""
    return lambda v: f"{v:,.6g}{text}"


def _images(v: float) -> str:
    return f"{v:,.6g} images"


def _share(v: float) -> str:
    return f"{v:+.1%}/month" if v else "none"


def _traffic(traffic: Traffic) -> str:
    from pricing._workloads.demand import peak_to_mean

    shape = "an hourly curve (UTC)" if traffic.hourly is not None else "a peak-to-mean ratio"
    if traffic.weekday is not None:
        shape += " and weekday factors"
    return f"peak hour {peak_to_mean(traffic):.2f}x the mean rate, from {shape}"


def _workload_lines(wl: Workload) -> list[Line]:
    fx = ", ".join(f"{pair} {number(rate)}" for pair, rate in wl.fx.items())
    return [
        ("description", wl.description or "-"),
        ("horizon", f"{wl.months} month(s) from {wl.start:%Y-%m}"),
        ("currency", f"{wl.currency} (the money inputs; simulate reports in it)"),
        ("planning fx", fx or "none: ECB reference rates, the latest held after the data"),
        ("traffic", _traffic(wl.traffic)),
        ("prices", "sampled across sources" if wl.prices is not None else "preferred source"),
        ("evidence", wl.evidence),
        ("subscriptions", "plans without an API are options" if wl.subscriptions else "no"),
        ("segments", ", ".join(s.name for s in wl.segments)),
    ]


def _segment_lines(s: Segment, wl: Workload) -> list[Line]:
    v = s.volume
    if v.series is not None:
        volume = [("volume", ", ".join(number(x) for x in v.series) + " [images/month]")]
    else:
        growth = "none" if v.growth is None else number(v.growth, _share)
        volume = [("first month", f"{number(v.base, _images)}"), ("growth", growth)]
    sizes = ", ".join(f"{r.width}x{r.height} ({r.share:.0%})" for r in s.resolutions)
    steps = "model default" if s.steps is None else str(s.steps)
    steps += "".join(f", {m} {n}" for m, n in s.model_steps.items())
    inputs = f"{s.input_images}" + (f" of {s.input_size}" if s.input_size else "")
    p95 = "none" if s.p95_latency_s is None else number(s.p95_latency_s, lambda x: f"{x:g} s")
    return [
        ("operation", s.operation),
        ("models", ", ".join(s.models)),
        *volume,
        ("images/request", str(s.images_per_request)),
        ("sizes", sizes),
        ("steps", steps),
        ("input images", inputs),
        ("quality", s.quality or "offer default"),
        ("p95 latency", p95),
        ("traffic", _traffic(s.traffic) if s.traffic else "the workload's"),
    ]


def _self_hosting_lines(h: SelfHosting, cur: str) -> list[Line]:
    def money(per: str) -> Callable[[float], str]:
        return unit(f" {cur}{per}")

    lines: list[Line] = [
        ("GPUs", ", ".join(h.gpus) if h.gpus else "every GPU with a throughput profile"),
        ("categories", ", ".join(h.categories) if h.categories else "all"),
        ("max utilisation", number(h.max_utilisation, lambda x: f"{x:.0%}")),
        ("redundancy", f"{h.redundancy} spare instance(s)"),
        ("ops hours", number(h.ops_hours_per_month, unit(" h/month"))),
        ("ops rate", number(h.ops_hourly_rate, money("/h"))),
        ("storage", f"{number(h.storage_gb, unit(' GB'))}"),
        ("storage price", number(h.storage_per_gb_month, money("/GB/month"))),
        ("egress", number(h.egress_gb_per_month, unit(" GB/month"))),
        ("egress price", number(h.egress_per_gb, money("/GB"))),
    ]
    if h.licence is not None:
        lic = h.licence
        lines.append(
            (
                "licence",
                f"{number(lic.monthly_fee, money('/month'))}, "
                f"{number(lic.included_images)} images/month included, "
                f"{number(lic.overage_per_image, money('/image'))} beyond",
            )
        )
    if h.autoscale is not None:
        a = h.autoscale
        cap = "no cap" if a.max_gpus is None else f"at most {a.max_gpus}"
        lines.append(
            ("autoscale", f"{a.min_gpus} GPU(s) at least, {cap}, start-up {number(a.startup_s)} s")
        )
    if h.serverless is not None:
        sv = h.serverless
        lines.append(
            ("serverless", f"cold start {number(sv.cold_start_s)} s, idle {number(sv.idle_s)} s")
        )
    if h.owned_hosting_per_month is not None:
        lines.append(("owned hosting", number(h.owned_hosting_per_month, money("/GPU/month"))))
    if h.precisions:
        lines.append(("precisions", ", ".join(h.precisions)))
    return lines

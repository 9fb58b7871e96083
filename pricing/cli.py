"""The ``pricing`` command line: rate cards and quotes (typer + rich)."""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pricing._catalog import Catalog, load_catalog, to_date
from pricing._quote import Quote, compare, quote
from pricing._request import ImageRequest
from pricing._schema_export import write_schemas
from pricing.errors import PricingError, RateCardError

app = typer.Typer(
    help="Cost planning for image generation: rate cards, exact quotes, comparisons.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cards_app = typer.Typer(help="List, show, trace and validate rate cards.", no_args_is_help=True)
app.add_typer(cards_app, name="cards")

# Wide enough for the comparison table when output goes to a file or a pipe.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory (default: the bundled data/).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Price date YYYY-MM-DD (default: today, UTC).")
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _catalog(data: Path | None) -> Catalog:
    try:
        return load_catalog(data)
    except RateCardError as exc:
        raise _fail(f"{exc}\nRun `pricing cards validate` for the full list.") from exc


def _money(value: Decimal | None, places: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:,.{places}f}"


def _print_json(payload: object) -> None:
    print(json.dumps(payload, indent=2, default=str))


# --------------------------------------------------------------------------- cards


@cards_app.command("list")
def cards_list(
    provider: Annotated[str | None, typer.Option(help="Only this provider id.")] = None,
    model: Annotated[str | None, typer.Option(help="Only offers of this model id.")] = None,
    as_of: AsOfOption = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """List offers with their provider, model, operations and sources in force."""
    cat = _catalog(data)
    try:
        if as_of is not None:
            cat = cat.as_of(as_of)
        offers = cat.offers(provider=provider, model=model)
    except PricingError as exc:
        raise _fail(str(exc)) from exc
    rows = [
        {
            "offer_id": o.id,
            "provider": cat.provider_of(o),
            "model": o.model,
            "operations": list(o.operations),
            "versions": len(o.versions),
            "sources": sorted({v.source for v in o.versions}),
        }
        for o in offers
    ]
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"{len(rows)} offers" + (f" in force on {cat.snapshot}" if as_of else ""))
    for col in ("offer", "model", "operations", "versions", "sources"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            escape(str(r["offer_id"])),
            escape(str(r["model"])),
            ", ".join(r["operations"]),  # type: ignore[arg-type]
            str(r["versions"]),
            ", ".join(r["sources"]),  # type: ignore[arg-type]
        )
    out.print(table)


@cards_app.command("show")
def cards_show(
    offer: Annotated[str, typer.Argument(help="Offer id, e.g. bfl/flux-2-pro.")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one offer: limits, brackets, qualities and every price version."""
    cat = _catalog(data)
    try:
        o = cat.offer(offer)
    except PricingError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _print_json(o.model_dump(mode="json", exclude_none=True))
        return
    ops = ", ".join(o.operations)
    out.print(f"[bold]{escape(o.id)}[/]  model [cyan]{escape(o.model)}[/]  operations {ops}")
    if o.limits:
        out.print(f"limits: {o.limits.model_dump(exclude_none=True)}")
    if o.brackets:
        out.print("brackets: " + ", ".join(b.name for b in o.brackets))
    if o.qualities:
        out.print(f"qualities: {', '.join(o.qualities)} (default {o.default_quality or 'none'})")
    if o.rate_limit:
        per = f"per {o.rate_limit.per_seconds} s" if o.rate_limit.per_seconds else "concurrent"
        out.print(f"rate limit: {o.rate_limit.requests} requests {per}")
    if o.notes:
        out.print(f"notes: {escape(o.notes)}")
    _history_table(cat, o.id)


def _history_table(cat: Catalog, offer_id: str) -> None:
    frame = cat.history(offer_id)
    table = Table(title=f"price versions of {offer_id}")
    for col in ("from", "to", "source", "kind", "seen", "price"):
        table.add_column(col)
    for r in frame.iter_rows(named=True):
        table.add_row(
            str(r["effective_from"]),
            str(r["effective_to"] or ""),
            escape(r["source_id"]),
            r["source_kind"],
            str(r["seen"]),
            escape(r["components"]),
        )
    out.print(table)


@cards_app.command("history")
def cards_history(
    offer: Annotated[str, typer.Argument(help="Offer id, e.g. bfl/flux-2-flex.")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every price version of an offer over time, with its source."""
    cat = _catalog(data)
    try:
        frame = cat.history(offer)
    except PricingError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        _print_json(frame.to_dicts())
        return
    _history_table(cat, offer)


@cards_app.command("validate")
def cards_validate(
    path: Annotated[
        Path | None, typer.Argument(help="Data directory (default: the bundled data/).")
    ] = None,
) -> None:
    """Check every data file; exit 1 listing every problem with the fix."""
    try:
        cat = load_catalog(path)
    except RateCardError as exc:
        err.print(f"[bold red]{len(exc.problems)} problem(s) found[/]")
        for p in exc.problems:
            err.print(f"- {escape(str(p))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    n_offers = sum(len(c.offers) for c in cat.cards.values())
    n_versions = sum(len(o.versions) for _, o in cat.all_offers())
    out.print(
        f"[green]ok[/]: {len(cat.cards)} rate cards, {n_offers} offers, {n_versions} price "
        f"versions, {len(cat.sources)} sources, {len(cat.models)} models"
    )


@cards_app.command("schema")
def cards_schema(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write.")] = Path("data/schema"),
) -> None:
    """Regenerate the JSON Schemas of the data files from the models."""
    for path in write_schemas(out_dir):
        out.print(f"wrote {path}")


# --------------------------------------------------------------------------- quote

_SIZE = re.compile(r"^(\d+)x(\d+)$")


@app.command("quote")
def quote_cmd(
    model: Annotated[str, typer.Option(help="Model id (see `pricing cards list`).")] = (
        "flux-2-pro"
    ),
    size: Annotated[str, typer.Option(help="Output size WIDTHxHEIGHT in pixels.")] = "1024x1024",
    count: Annotated[int, typer.Option(help="Images in the request.")] = 1,
    operation: Annotated[str, typer.Option(help="generate, edit, inpaint, upscale...")] = (
        "generate"
    ),
    input_images: Annotated[
        int, typer.Option("--input-images", help="Reference images (output-sized).")
    ] = 0,
    quality: Annotated[str | None, typer.Option(help="Quality level, e.g. low, hd.")] = None,
    steps: Annotated[int | None, typer.Option(help="Inference steps.")] = None,
    seconds: Annotated[
        float | None, typer.Option(help="GPU run time per image [s] for per-second offers.")
    ] = None,
    monthly_volume: Annotated[
        int | None,
        typer.Option("--monthly-volume", help="Images already billed this month (tiers)."),
    ] = None,
    offer: Annotated[
        str | None, typer.Option(help="Quote one offer in detail instead of comparing all.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="With --offer: price by this source.")] = None,
    as_of: AsOfOption = None,
    all_offers: Annotated[
        bool, typer.Option("--all", help="Also list offers that cannot price the request.")
    ] = False,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Price a request on every provider, cheapest first (or one offer with --offer)."""
    m = _SIZE.match(size)
    if m is None:
        raise _fail(f"--size {size!r} must look like 1024x1024")
    cat = _catalog(data)
    try:
        day = to_date(as_of)
        request = ImageRequest(
            model=model,
            operation=operation,
            width=int(m.group(1)),
            height=int(m.group(2)),
            count=count,
            quality=quality,
            steps=steps,
            input_images=input_images,
            seconds=None if seconds is None else Decimal(str(seconds)),
        )
        if offer is not None:
            q = quote(
                request, offer, as_of=day, source=source, monthly_volume=monthly_volume, catalog=cat
            )
            if as_json:
                _print_json(q.to_dict())
            else:
                _print_quote(q)
            return
        frame = compare(
            request, cat, as_of=day, monthly_volume=monthly_volume, include_unavailable=True
        )
    except (PricingError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    priced = frame.filter(pl.col("total").is_not_null())
    skipped = frame.filter(pl.col("total").is_null())
    if as_json:
        _print_json(
            {
                "request": request.model_dump(mode="json"),
                "as_of": day.isoformat(),
                "offers": [_json_row(r) for r in priced.iter_rows(named=True)],
                "unavailable": [
                    {"offer_id": r["offer_id"], "reason": r["reason"]}
                    for r in skipped.iter_rows(named=True)
                ],
            }
        )
        return
    _print_compare(request, day.isoformat(), priced, skipped, show_skipped=all_offers)


def _json_row(row: dict[str, object]) -> dict[str, object]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}


def _print_compare(
    request: ImageRequest,
    day: str,
    priced: pl.DataFrame,
    skipped: pl.DataFrame,
    *,
    show_skipped: bool,
) -> None:
    title = (
        f"{request.model} {request.operation} {request.size} x{request.count}"
        + (f" quality {request.quality}" if request.quality else "")
        + f" — prices on {day}, cheapest first"
    )
    table = Table(title=title)
    for col, justify in (
        ("offer", "left"),
        ("per image", "right"),
        ("total", "right"),
        ("range across sources", "right"),
        ("source", "left"),
        ("kind", "left"),
        ("seen", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in priced.iter_rows(named=True):
        spread = (
            f"{_money(r['min_total'])} to {_money(r['max_total'])} ({r['sources']})"
            if r["sources"] > 1 or r["min_total"] != r["max_total"]
            else ""
        )
        total = _money(r["total"])
        if r["total_high"] is not None:
            total += f" to {_money(r['total_high'])}"
        table.add_row(
            escape(r["offer_id"]),
            f"${_money(r['per_image'])}",
            f"${total}",
            spread,
            escape(r["source_id"]),
            r["source_kind"],
            str(r["seen"]),
        )
    out.print(table)
    if skipped.height:
        if show_skipped:
            for r in skipped.iter_rows(named=True):
                line = f"  [dim]{escape(r['offer_id'])}: {escape(r['reason'])}[/]"
                out.print(line, highlight=False)
        else:
            n = skipped.height
            out.print(f"[dim]{n} offer(s) cannot price this request; --all lists why[/]")
    if priced.height == 0:
        out.print("[yellow]no offer can price this request[/]")


def _print_quote(q: Quote) -> None:
    table = Table(title=f"{q.offer_id} — {q.request.size} x{q.request.count}, as of {q.as_of}")
    for col in ("line item", "quantity", "unit", "unit price", "amount"):
        table.add_column(col, justify="left" if col in ("line item", "unit") else "right")
    for i in q.line_items:
        table.add_row(
            escape(i.description),
            f"{i.quantity:,.6g}",
            i.unit,
            f"{i.unit_price:.8g}",
            _money(i.amount, 6),
        )
    out.print(table)
    out.print(
        f"[bold]total {q.currency} {_money(q.total, 6)}[/]"
        + (f" (up to {_money(q.total_high, 6)})" if q.total_high is not None else "")
        + f"  = {_money(q.per_image, 6)}/image"
    )
    out.print(
        f"price version {q.price_version} · source {q.source_id} ({q.source_kind}), "
        f"seen {q.seen}: {escape(q.source_title)}",
        highlight=False,
    )
    if q.spread.sources > 1:
        parts = ", ".join(f"{s.source_id} {_money(s.total, 6)}" for s in q.spread.by_source)
        out.print(
            f"sources disagree: {_money(q.spread.low, 6)} to {_money(q.spread.high, 6)} ({parts})",
            highlight=False,
        )
    for note in q.notes:
        out.print(f"[dim]note: {escape(note)}[/]", highlight=False)

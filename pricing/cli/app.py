"""The ``pricing`` command line: rate cards, quotes and usage-log replays (typer + rich)."""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog, describe_bracket, describe_limits, load_catalog
from pricing._json_schemas import write_schemas
from pricing._quote.quote import Quote, compare, quote
from pricing._quote.request import ImageRequest
from pricing._usage.focus import focus_excluded, to_focus
from pricing._usage.replay import (
    LOG_COLUMNS,
    Replay,
    log_requests,
    replay,
)
from pricing._vector.requests import price_requests
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
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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
        out.print(f"limits: {escape(describe_limits(o.limits))}")
    if o.brackets:
        out.print("size brackets: " + ", ".join(describe_bracket(b) for b in o.brackets))
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
        float | None,
        typer.Option(help="GPU run time per image, in seconds, for per-second offers."),
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


# --------------------------------------------------------------------------- replay


class Granularity(StrEnum):
    """Charge period of a FOCUS usage row."""

    row = "row"
    hour = "hour"
    day = "day"
    month = "month"


#: Widest line of a help text's table: rich keeps a table's line breaks, so a longer line
#: would wrap to the left margin in an 80-column terminal.
HELP_WIDTH = 78


def help_text(text: str) -> str:
    """``text`` with each prose paragraph on one line, for rich to wrap to the terminal.

    Typer keeps the line breaks of a command's help, so a paragraph wrapped in the source
    would be wrapped twice in a narrow terminal. Indented lines (tables, examples) are kept.
    """
    paragraphs = text.strip("\n").split("\n\n")
    return "\n\n".join(
        p if p.startswith(" ") else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


def _log_columns_help() -> str:
    width = max(len(name) for name in LOG_COLUMNS)
    indent = " " * (2 + width + 2 + len("required") + 2)
    return "\n".join(
        textwrap.fill(
            escape(meaning),
            HELP_WIDTH,
            initial_indent=f"  {name:<{width}}  {'required' if required else 'optional'}  ",
            subsequent_indent=indent,
            break_on_hyphens=False,
        )
        for name, (required, meaning) in LOG_COLUMNS.items()
    )


_REPLAY_HELP = f"""Replay a usage log: what it cost, what it would cost elsewhere, what was billed.

LOG is a CSV, Parquet or NDJSON file (.csv, .tsv, .csv.gz, .parquet, .ndjson, .jsonl), one row
per call, priced at each call's own timestamp. Rows that cannot be read go to the quarantine
with their line number and reason (--quarantine writes them); calls no price applies to are
counted as unpriced, never as 0. Rows read = priced + unpriced + quarantined.

Log columns (rename yours with --map yourname=column; an offer_id column can stand in for
provider and model):

{_log_columns_help()}

Example: pricing replay usage.csv --month 2026-03 --map ts=timestamp --quarantine bad.csv
"""

_CENT = Decimal("0.01")
_TOP_ALTERNATIVES = 10


def _amount(value: Decimal | None, currency: str | None) -> str:
    """Money for people: "USD 1,234.56" (rounded half up; --json has the exact value).

    An amount that would round to 0.00 but is not zero keeps two significant digits
    ("USD 0.0040", "USD -0.00070"), so that a cost or a saving never reads as nothing.
    """
    if value is None:
        return "-"
    places = _CENT
    if value and abs(value) < _CENT / 2:
        places = Decimal(1).scaleb(value.adjusted() - 1)
    rounded = value.quantize(places, rounding=ROUND_HALF_UP)
    text = f"{abs(rounded) if rounded == 0 else rounded:,f}"
    return f"{currency} {text}" if currency else text


def _percent(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{Decimal(repr(value)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):+}%"


def _month_text(value: object) -> str:
    return value.strftime("%Y-%m") if isinstance(value, date) else str(value)


def _jsonable(key: str, value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if key == "month" and isinstance(value, date):
        return value.strftime("%Y-%m")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def _records(frame: pl.DataFrame) -> list[dict[str, object]]:
    return [{k: _jsonable(k, v) for k, v in r.items()} for r in frame.iter_rows(named=True)]


def _pairs(values: list[str] | None, option: str, shape: str, example: str) -> dict[str, str]:
    """``KEY=VALUE`` options as a dict, failing clearly on a malformed or repeated key."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, target = (part.strip() for part in value.partition("="))
        if not sep or not key or not target:
            raise _fail(f"{option} {value!r} must look like {shape}, e.g. {option} {example}")
        if pairs.get(key, target) != target:
            raise _fail(f"{option} maps {key!r} twice ({pairs[key]!r} and {target!r}); keep one")
        pairs[key] = target
    return pairs


def _check_output(option: str, path: Path, log: Path) -> None:
    if not path.parent.is_dir():
        raise _fail(f"{option} {path}: directory {path.parent} does not exist; create it first")
    if path.is_dir():
        raise _fail(f"{option} {path} is a directory; give a file name inside it")
    if path.exists() and log.exists() and path.resolve() == log.resolve():
        raise _fail(f"{option} {path} would overwrite the log itself; choose another file")


def _write_atomically(files: list[tuple[Path, Callable[[Path], None]]]) -> None:
    """Write every file to a temporary name beside it, then rename them all into place.

    Nothing is renamed unless every write succeeded, and temporary files never survive.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for path, write in files:
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
            staged.append((tmp, path))
            write(tmp)
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


class _Bar:
    """The ``progress(done, total, label)`` callback of ``replay``, drawn on stderr."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("reading the log", total=None)

    def __call__(self, done: int, total: int, label: str) -> None:
        what = "calls" if label == "rows" else f"month {label}"
        self.progress.update(
            self.task, description=f"pricing {what}", completed=done, total=total or None
        )

    def stage(self, description: str) -> None:
        self.progress.update(self.task, description=description, completed=0, total=None)


def progress_bar(*, spinner: bool = True, counts: bool = False) -> Progress:
    """A progress bar on stderr, shown only on a terminal and erased when done, so that
    stdout stays clean for --json; ``counts`` shows done / total."""
    return Progress(
        *([SpinnerColumn()] if spinner else []),
        TextColumn("{task.description}"),
        BarColumn(),
        *([MofNCompleteColumn()] if counts else []),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@contextmanager
def _progress_bar() -> Iterator[_Bar]:
    with progress_bar(counts=True) as progress:
        yield _Bar(progress)


def _priced_calls(
    log: Path,
    mapping: dict[str, str],
    offer_map: dict[str, str],
    month: str | None,
    cat: Catalog,
) -> pl.DataFrame:
    """Every readable call of the log priced, one row per call, as ``replay`` prices them.

    ``replay`` keeps only aggregates; FOCUS needs the rows.
    """
    requests = log_requests(
        log, month=month, mapping=mapping or None, offer_map=offer_map or None, catalog=cat
    )
    return price_requests(requests.collect(engine="streaming"), cat)


def _totals(result: Replay) -> dict[str, Decimal]:
    # A group of wholly unpriced calls has no currency; it is counted as unpriced, not as money.
    return {
        cur: value
        for cur, value in sorted(result.total().items(), key=lambda kv: str(kv[0]))
        if cur is not None or value != 0
    }


def _costs(result: Replay) -> pl.DataFrame:
    """Replay costs with ``cost`` null where no call of the group has a price (never 0)."""
    return result.costs.with_columns(
        cost=pl.when(pl.col("unpriced") < pl.col("requests")).then(pl.col("cost"))
    )


def _alternatives_by_model(result: Replay) -> pl.DataFrame:
    """Alternatives summed over months, per model and offer."""
    alt = result.alternatives
    summed = alt.group_by("model", "offer_id", "provider", "currency").agg(
        pl.col("requests", "images", "cost", "unpriced", "actual_cost", "alt_cost_same_rows").sum()
    )
    saving = pl.col("actual_cost") - pl.col("alt_cost_same_rows")
    return summed.with_columns(
        cost=pl.when(pl.col("unpriced") < pl.col("requests")).then(pl.col("cost")),
        saving=saving,
        saving_pct=pl.when(pl.col("actual_cost") != 0).then(
            saving.cast(pl.Float64) / pl.col("actual_cost").cast(pl.Float64) * 100
        ),
    ).sort(
        [pl.col("model"), pl.col("unpriced") > 0, "currency", "cost", "offer_id"], nulls_last=True
    )


@app.command("replay", help=help_text(_REPLAY_HELP))
def replay_cmd(
    log: Annotated[Path, typer.Argument(help="Usage log: .csv, .parquet or .ndjson.")],
    against: Annotated[
        list[str] | None,
        typer.Option(
            "--against",
            help="Re-price every call on this offer, whatever its model (repeat for several). "
            "Default: every offer of the call's model.",
        ),
    ] = None,
    month: Annotated[
        str | None, typer.Option(help="Replay only this calendar month, YYYY-MM (UTC).")
    ] = None,
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="LOGCOL=COLUMN: read log column LOGCOL as a standard column (repeat)."
        ),
    ] = None,
    offer_map: Annotated[
        list[str] | None,
        typer.Option(
            "--offer-map",
            help="PROVIDER/MODEL=OFFER: the offer of a provider with several for one model.",
        ),
    ] = None,
    focus: Annotated[
        Path | None,
        typer.Option("--focus", help="Write the priced calls as a FOCUS 1.3 Parquet file."),
    ] = None,
    focus_granularity: Annotated[
        Granularity,
        typer.Option("--focus-granularity", help="Charge period of a FOCUS usage row."),
    ] = Granularity.day,
    quarantine: Annotated[
        Path | None,
        typer.Option(
            "--quarantine", help="Write unreadable rows (line, reason, original columns) as CSV."
        ),
    ] = None,
    alternatives: Annotated[
        bool,
        typer.Option(
            "--alternatives/--no-alternatives",
            help="Re-price on alternative offers (skip for speed on very large logs).",
        ),
    ] = True,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    mapping = _pairs(column_map, "--map", "LOGCOL=COLUMN", "ts=timestamp")
    offers = _pairs(offer_map, "--offer-map", "PROVIDER/MODEL=OFFER", "acme/m=acme/m-fast")
    for key in offers:
        if "/" not in key:
            raise _fail(
                f"--offer-map key {key!r} must be PROVIDER/MODEL, e.g. --offer-map bfl/flux-2-pro="
                "bfl/flux-2-pro"
            )
    if focus is not None:
        _check_output("--focus", focus, log)
    if quarantine is not None:
        _check_output("--quarantine", quarantine, log)
        if focus is not None and focus.resolve() == quarantine.resolve():
            raise _fail("--focus and --quarantine name the same file; give two different files")
    cat = _catalog(data)
    priced: pl.DataFrame | None = None
    focus_frame: pl.DataFrame | None = None
    try:
        with _progress_bar() as bar:
            result = replay(
                log,
                against=against or None,
                month=month,
                mapping=mapping or None,
                offer_map=offers or None,
                catalog=cat,
                alternatives=alternatives,
                progress=bar,
            )
            if focus is not None:
                bar.stage("pricing calls for FOCUS")
                priced = _priced_calls(log, mapping, offers, month, cat)
                focus_frame = to_focus(priced, granularity=focus_granularity.value)
    except PricingError as exc:
        raise _fail(str(exc)) from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(f"cannot read {log}: {first}. Check that it is a valid log file.") from exc
    except ValueError as exc:
        raise _fail(str(exc)) from exc

    outputs: dict[str, dict[str, object]] = {}
    files: list[tuple[Path, Callable[[Path], None]]] = []
    notes = list(result.notes)
    if quarantine is not None:
        frame = result.quarantine
        files.append((quarantine, lambda tmp: frame.write_csv(tmp)))
        outputs["quarantine"] = {"path": str(quarantine), "rows": frame.height}
    if focus is not None and focus_frame is not None and priced is not None:
        dataset = focus_frame
        files.append((focus, lambda tmp: dataset.write_parquet(tmp)))
        excluded = focus_excluded(priced)
        focus_totals = {
            r["BillingCurrency"]: r["BilledCost"]
            for r in dataset.group_by("BillingCurrency")
            .agg(pl.col("BilledCost").sum())
            .iter_rows(named=True)
        }
        outputs["focus"] = {
            "path": str(focus),
            "rows": dataset.height,
            "granularity": focus_granularity.value,
            "excluded_unpriced": excluded,
            "billed_cost": {k: str(v) for k, v in sorted(focus_totals.items())},
        }
        nonzero = {k: v for k, v in focus_totals.items() if v != 0}
        if nonzero != {k: v for k, v in _totals(result).items() if v != 0}:
            notes.append(
                "the FOCUS BilledCost totals differ from the replay totals; please report this"
            )
    try:
        _write_atomically(files)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _fail(f"cannot write the output files: {exc}; no partial file was left") from exc

    if as_json:
        _print_json(_replay_json(result, log, month, outputs, notes))
        return
    _print_replay(result, log, month, outputs, notes, alternatives)


def _replay_json(
    result: Replay,
    log: Path,
    month: str | None,
    outputs: dict[str, dict[str, object]],
    notes: list[str],
) -> dict[str, object]:
    return {
        "log": str(log),
        "month": month,
        "rows_read": result.rows_read,
        "rows_priced": result.rows_priced,
        "rows_unpriced": result.rows_unpriced,
        "rows_quarantined": result.rows_quarantined,
        "months": list(result.months),
        "totals": {str(k): str(v) for k, v in _totals(result).items()},
        "costs": _records(_costs(result)),
        "alternatives": _records(result.alternatives),
        "reconciliation": None
        if result.reconciliation is None
        else _records(result.reconciliation),
        "unpriced": _records(result.unpriced),
        "quarantine_counts": _records(result.quarantine_counts),
        "notes": notes,
        "outputs": outputs,
    }


def _print_replay(
    result: Replay,
    log: Path,
    month: str | None,
    outputs: dict[str, dict[str, object]],
    notes: list[str],
    alternatives: bool,
) -> None:
    _print_summary(result, log, month)
    _print_costs(result)
    if alternatives:
        _print_alternatives(result)
    if result.reconciliation is not None:
        _print_reconciliation(result.reconciliation)
    _print_problems(result, quarantine_written="quarantine" in outputs)
    for note in notes:
        out.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if "quarantine" in outputs:
        q = outputs["quarantine"]
        out.print(f"wrote {q['rows']} quarantined row(s) to {escape(str(q['path']))}")
    if "focus" in outputs:
        f = outputs["focus"]
        out.print(
            f"wrote FOCUS 1.3 dataset to {escape(str(f['path']))}: {f['rows']} row(s), "
            f"granularity {f['granularity']}; {f['excluded_unpriced']} unpriced call(s) left out"
        )


def _print_summary(result: Replay, log: Path, month: str | None) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("log", escape(str(log)))
    if month is not None:
        grid.add_row("month", escape(month))
    grid.add_row(
        "rows read",
        f"{result.rows_read:,} = {result.rows_priced:,} priced + {result.rows_unpriced:,} "
        f"unpriced + {result.rows_quarantined:,} quarantined",
    )
    grid.add_row("months", ", ".join(result.months) or "none")
    totals = _totals(result)
    total_text = "\n".join(_amount(v, k) for k, v in totals.items()) or "nothing priced"
    if result.rows_unpriced:
        total_text += f"\n[yellow]not counted: {result.rows_unpriced:,} unpriced call(s)[/]"
    grid.add_row("total cost", total_text)
    out.print(Panel(grid, title="usage replay", expand=False), highlight=False)


def _print_costs(result: Replay) -> None:
    frame = result.by("month", "provider", "model", "operation")
    if frame.height == 0:
        out.print("[yellow]no calls to price[/]")
        return
    table = Table(title="cost by month, provider, model and operation")
    for col in ("month", "provider", "model", "operation", "calls", "images", "unpriced", "cost"):
        table.add_column(col, justify="left" if col in ("month", "provider", "model") else "right")
    table.columns[3].justify = "left"
    for r in frame.iter_rows(named=True):
        cost = _amount(r["cost"], r["currency"]) if r["unpriced"] < r["requests"] else "-"
        table.add_row(
            _month_text(r["month"]),
            escape(str(r["provider"] or "-")),
            escape(str(r["model"] or "-")),
            escape(str(r["operation"] or "-")),
            f"{r['requests']:,}",
            f"{r['images']:,}",
            f"{r['unpriced']:,}" if r["unpriced"] else "",
            cost,
        )
    out.print(table)


def _print_alternatives(result: Replay) -> None:
    if result.alternatives.height == 0:
        return
    per = _alternatives_by_model(result)
    in_use = set(result.costs["offer_id"].drop_nulls().to_list())
    for model in per["model"].unique(maintain_order=True).to_list():
        rows = per.filter(pl.col("model") == model)
        actual = result.costs.filter(pl.col("model") == model)
        actual_totals = (
            actual.group_by("currency").agg(pl.col("cost", "requests").sum()).drop_nulls("currency")
        )
        actual_text = ", ".join(
            _amount(r["cost"], r["currency"])
            for r in actual_totals.sort("currency").iter_rows(named=True)
        )
        calls = int(actual["requests"].sum()) if actual.height else 0
        table = Table(
            title=f"{model}: the same {calls:,} call(s) on each offer, cheapest first "
            f"(as logged: {actual_text or 'unpriced'})",
        )
        for col in ("#", "offer", "cost", "unpriced", "saving vs actual", "saving %"):
            table.add_column(col, justify="left" if col == "offer" else "right")
        for i, r in enumerate(rows.head(_TOP_ALTERNATIVES).iter_rows(named=True), start=1):
            saving = r["saving"]
            style = "green" if saving is not None and saving > 0 else ""
            style = "red" if saving is not None and saving < 0 else style
            name = escape(r["offer_id"]) + (
                " [dim](as logged)[/]" if r["offer_id"] in in_use else ""
            )
            table.add_row(
                str(i),
                name,
                _amount(r["cost"], r["currency"]),
                f"{r['unpriced']:,}" if r["unpriced"] else "",
                f"[{style}]{_amount(saving, r['currency'])}[/]"
                if style
                else _amount(saving, r["currency"]),
                _percent(r["saving_pct"]),
            )
        out.print(table)
        more = rows.height - _TOP_ALTERNATIVES
        if more > 0:
            out.print(f"[dim]... and {more} more offer(s) for {escape(model)}; --json lists all[/]")
    out.print(
        "[dim]  saving = as-logged cost - offer cost, on the calls both price; offers that "
        "cannot price every call come last[/]"
    )


def _print_reconciliation(frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    table = Table(title="billed vs computed, per month and provider")
    columns = ("month", "provider", "billed", "computed", "variance", "variance %", "not compared")
    for col in columns:
        table.add_column(col, justify="left" if col in ("month", "provider") else "right")
    for r in frame.iter_rows(named=True):
        cur = r["currency"]
        apart = []
        if r["rows_unpriced"]:
            billed = _amount(r["billed_unpriced"], cur)
            apart.append(f"{r['rows_unpriced']:,} unpriced call(s) billed {billed}")
        if r["rows_unbilled"]:
            apart.append(f"{r['rows_unbilled']:,} call(s) without a billed cost")
        amounts = [
            _amount(r["billed"], cur),
            _amount(r["computed"], cur),
            _amount(r["variance"], cur),
            _percent(r["variance_pct"]),
        ]
        table.add_row(
            _month_text(r["month"]),
            escape(str(r["provider"] or "-")),
            *(amounts if r["rows_compared"] else ["-"] * 4),  # no call to compare
            "\n".join(apart),
        )
    out.print(table)
    out.print(
        "[dim]  on the calls with both a billed cost and a price; variance = billed - computed[/]"
    )


def _print_problems(result: Replay, *, quarantine_written: bool) -> None:
    if result.unpriced.height:
        table = Table(title=f"{result.rows_unpriced:,} unpriced call(s), by reason")
        table.add_column("reason")
        table.add_column("calls", justify="right")
        for r in result.unpriced.iter_rows(named=True):
            table.add_row(escape(str(r["reason"])), f"{r['rows']:,}")
        out.print(table)
    if result.rows_quarantined:
        counts = result.quarantine_counts
        table = Table(title=f"{result.rows_quarantined:,} quarantined row(s), by reason")
        table.add_column("reason")
        table.add_column("rows", justify="right")
        for r in counts.iter_rows(named=True):
            table.add_row(escape(str(r["reason"])), f"{r['rows']:,}")
        out.print(table)
        if not quarantine_written:  # below the table: a caption would wrap to its width
            out.print("[dim]--quarantine OUT.csv writes these rows with their line numbers[/]")


# The other commands (simulate, breakeven, gpus, workloads, dashboard, budget, refresh and the
# pulls) live in their own modules and register themselves on ``app`` when imported.
import pricing.cli.refresh  # noqa: E402,F401
from pricing import _cli_budget, _cli_dashboard, _cli_fx, _cli_plan  # noqa: E402,F401

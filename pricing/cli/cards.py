"""``pricing cards``: list, show, trace, validate, pull, crosscheck and cover rate cards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pricing._cards.catalog import Catalog, describe_bracket, describe_limits, load_catalog
from pricing._cards.schema import SOURCE_PRECEDENCE
from pricing.cli._common import (
    err,
    fail,
    load_catalog_or_fail,
    out,
    print_json,
    records,
    show_table,
    source_date,
)
from pricing.cli._fetch import (
    AllowHttpOption,
    CacheDirOption,
    DryRunOption,
    MaxBytesOption,
    NoCacheOption,
    RetriesOption,
    TimeoutOption,
    policy,
    run,
)
from pricing.cli._options import AsOfOption, DataOption, JsonOption
from pricing.cli.crosscheck import COVERAGE_HELP, CROSSCHECK_HELP, coverage_cmd, crosscheck_cmd
from pricing.cli.listing import list_offers
from pricing.cli.refresh import AcceptLargeChangeOption
from pricing.errors import PricingError, RateCardError

if TYPE_CHECKING:
    import polars as pl

app = typer.Typer(help="List, show, trace and validate rate cards.", no_args_is_help=True)


@app.command("list")
def cards_list(
    provider: Annotated[
        str | None, typer.Option(help="Only this provider id (any case: BFL is bfl).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only offers of this model id.")] = None,
    as_of: AsOfOption = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """List offers with their provider, model, operations and sources in force."""
    list_offers(provider=provider, model=model, as_of=as_of, data=data, as_json=as_json)


@app.command("show")
def cards_show(
    offer: Annotated[str, typer.Argument(help="Offer id, e.g. bfl/flux-2-pro.")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one offer: limits, brackets, qualities and every price version."""
    from pricing._evidence.table import evidence_frame

    cat = load_catalog_or_fail(data)
    try:
        o = cat.offer(offer)
    except PricingError as exc:
        raise fail(str(exc)) from exc
    evidence = evidence_frame(cat, offer=o.id)
    if as_json:
        payload = o.model_dump(mode="json", exclude_none=True)
        payload["evidence"] = records(evidence)
        print_json(payload)
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
    _evidence_table(evidence)


def _evidence_table(evidence: pl.DataFrame) -> None:
    """Grade and flags of each version, and whether the default policy lets it answer."""
    table = Table(title="evidence (judged today; default policy)")
    for col in ("version", "grade", "answers?", "flags and reasons"):
        table.add_column(col)
    for r in evidence.iter_rows(named=True):
        table.add_row(
            escape(r["price_version"]),
            escape(f"{r['grade']}: {r['grade_reason']}"),
            "yes" if r["allowed"] else "[yellow]no: unverified lead[/]",
            escape(r["flag_reasons"] or "-"),
        )
    show_table(table)


def _history_table(cat: Catalog, offer_id: str) -> None:
    frame = cat.history(offer_id)
    table = Table(title=f"price versions of {offer_id}")
    for col in ("from", "to", "source", "kind", "source date", "price"):
        table.add_column(col)
    for r in frame.iter_rows(named=True):
        table.add_row(
            str(r["effective_from"]),
            str(r["effective_to"] or ""),
            escape(r["source_id"]),
            r["source_kind"],
            source_date(r["published"]),  # narrow: the price column keeps its width
            escape(r["components"]),
        )
    show_table(table)


@app.command("history")
def cards_history(
    offer: Annotated[str, typer.Argument(help="Offer id, e.g. bfl/flux-2-flex.")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every price version of an offer over time, with its source."""
    cat = load_catalog_or_fail(data)
    try:
        frame = cat.history(offer)
    except PricingError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(frame.to_dicts())
        return
    _history_table(cat, offer)


@app.command("validate")
def cards_validate(
    path: Annotated[
        Path | None, typer.Argument(help="Data directory (default: the bundled data/).")
    ] = None,
) -> None:
    """Check every data file; exit 1 listing every problem with the fix."""
    from pricing._evidence.table import evidence_frame

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
    _print_evidence_summary(evidence_frame(cat))


def _print_evidence_summary(evidence: pl.DataFrame) -> None:
    """Versions by grade and by flag, and how many the default policy keeps out."""
    import polars as pl

    grades = evidence.group_by("grade").len().sort("grade")
    flags = evidence.explode("flags").drop_nulls("flags").group_by("flags").len().sort("flags")
    out.print(
        "evidence: "
        + ", ".join(f"{n} {g}" for g, n in grades.iter_rows())
        + "; flagged: "
        + (", ".join(f"{n} {f}" for f, n in flags.iter_rows()) or "none")
        + f"; {evidence.filter(~pl.col('allowed')).height} version(s) the default policy keeps "
        "out of answers (`pricing cards show OFFER` says why)",
        highlight=False,
    )


@app.command("schema")
def cards_schema(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write.")] = Path("data/schema"),
) -> None:
    """Regenerate the JSON Schemas of the data files from the models."""
    from pricing._json_schemas import write_schemas

    for path in write_schemas(out_dir):
        out.print(f"wrote {path}")


@app.command("pull")
def cards_pull(
    url: Annotated[str, typer.Argument(help="https:// URL of a rate card (TOML or JSON).")],
    kind: Annotated[
        str,
        typer.Option("--kind", help=f"How the new versions rank: {', '.join(SOURCE_PRECEDENCE)}."),
    ] = "third-party",
    auth_env: Annotated[
        str | None,
        typer.Option("--auth-env", help="Environment variable holding the registry's token."),
    ] = None,
    auth_header: Annotated[str, typer.Option("--auth-header", help="Header to send it in.")] = (
        "Authorization"
    ),
    auth_scheme: Annotated[
        str, typer.Option("--auth-scheme", help="Word before the token ('' for none).")
    ] = "Bearer",
    dry_run: DryRunOption = False,
    data: DataOption = None,
    allow_http: AllowHttpOption = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    timeout: TimeoutOption = 30.0,
    retries: RetriesOption = 3,
    max_bytes: MaxBytesOption = 64 * 1024 * 1024,
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider",
            help="A provider whose cards the registry may write (repeatable; default: the one "
            "the URL's file names, e.g. bfl for .../bfl.toml).",
        ),
    ] = None,
    accept_large_change: AcceptLargeChangeOption = False,
    as_json: JsonOption = False,
) -> None:
    """Pull rate cards in this project's format from a registry: new prices become new versions."""
    from pricing._refresh.pull import pull_cards

    if kind not in SOURCE_PRECEDENCE:
        raise fail(f"--kind {kind!r} is not one of {', '.join(SOURCE_PRECEDENCE)}")
    fetch = policy(allow_http, no_cache, timeout, retries, max_bytes)
    run(
        lambda step: pull_cards(
            url,
            kind=kind,  # narrowed to SourceKind by the check above
            auth_env=auth_env,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
            data_dir=data,
            dry_run=dry_run,
            policy=fetch,
            cache_dir=cache_dir,
            providers=None if provider is None else [p.strip().lower() for p in provider],
            accept_large_change=accept_large_change,
        ),
        as_json,
    )


app.command("crosscheck", help=CROSSCHECK_HELP)(crosscheck_cmd)
app.command("coverage", help=COVERAGE_HELP)(coverage_cmd)

"""``pricing cards crosscheck`` and ``pricing cards coverage``: the catalog beside outside maps.

Registered on the ``cards`` app by :mod:`pricing.cli.cards`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pricing._base.choices import CROSSCHECK_SOURCES
from pricing._base.urls import redact_text
from pricing.cli._common import (
    err,
    fail,
    help_text,
    load_catalog_or_fail,
    out,
    percent,
    print_json,
    records,
    show_table,
)
from pricing.cli._fetch import AllowHttpOption, MaxBytesOption, RetriesOption, TimeoutOption, policy
from pricing.cli._options import AsOfOption, DataOption, JsonOption
from pricing.errors import PricingError, RateCardError

SHOWN = 40  # rows of a long table printed; --json has them all

CROSSCHECK_HELP = help_text("""
Compare a source's prices with the catalog's, for every offer, size and quality both price.

Each figure the source gives becomes the price of one request (per image; per pixel x
width x height; per MP x the request's MP; per token x our output tokens per image) and is
compared with the catalog's quote of the same request: both figures, our source and its date
beside theirs, and the difference (theirs - ours) / ours. Figures of the checked source
already in the catalog are not compared with themselves. Offline: --file PATH.
""")
COVERAGE_HELP = help_text("""
Per provider and model: offers, newest source, best evidence grade in force.

With --litellm FILE, each of LiteLLM's image models is listed as priced here (which offers),
not covered (data/coverage.toml gives the reason) or not covered with no reason, with the
api_ids line that would match it; --check exits 1 on the last kind.
""")

if TYPE_CHECKING:
    import polars as pl

    from pricing._refresh.crosscheck import Coverage, Crosscheck


def crosscheck_cmd(
    source: Annotated[str, typer.Argument(help=f"One of {', '.join(CROSSCHECK_SOURCES)}.")],
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Read a local copy of the source's document (offline): LiteLLM's "
            "model_prices_and_context_window.json, OpenRouter's models response, a fal pricing "
            "page.",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Fetch from this address instead of the source's own (litellm also takes "
            "file:PATH or package:litellm, the copy of an installed litellm package).",
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option("--threshold", help="Differences above this many percent are listed.", min=0),
    ] = 1.0,
    as_of: AsOfOption = None,
    data: DataOption = None,
    allow_http: AllowHttpOption = False,
    timeout: TimeoutOption = 30.0,
    retries: RetriesOption = 3,
    max_bytes: MaxBytesOption = 64 * 1024 * 1024,
    as_json: JsonOption = False,
) -> None:
    """Compare a source's prices with the catalog's (see CROSSCHECK_HELP)."""
    from pricing._refresh.crosscheck import crosscheck

    cat = load_catalog_or_fail(data)
    try:
        found = crosscheck(
            source, path=file, url=url, catalog=cat, as_of=as_of, threshold_pct=threshold,
            policy=policy(allow_http, True, timeout, retries, max_bytes),
        )  # fmt: skip
    except PricingError as exc:
        raise fail(redact_text(str(exc)), code=1) from exc
    if as_json:
        print_json(found.to_dict())
        return
    _show_crosscheck(found)


def _show_crosscheck(found: Crosscheck) -> None:
    worst = found.disagreements
    out.print(
        f"{escape(found.source)} ({escape(redact_text(found.location))}), read "
        f"{found.read_on} as {escape(found.their_source)}; catalog prices as of {found.as_of}: "
        f"{found.rows.height} figure(s) compared, {found.not_compared.height} not compared",
        highlight=False,
    )
    if not worst.height:
        out.print(f"[green]no difference over {found.threshold_pct:g}%[/]")
        return
    table = Table(
        title=f"{worst.height} difference(s) over {found.threshold_pct:g}%, the largest first",
        title_justify="left",
        caption=f"and {worst.height - SHOWN} more (--json lists all)"
        if worst.height > SHOWN
        else None,
    )
    for col in (
        "offer",
        "size",
        "quality",
        "ours",
        "our source (date)",
        "theirs",
        "their key",
        "diff",
    ):
        table.add_column(col, justify="right" if col in ("ours", "theirs", "diff") else "left")
    for r in worst.head(SHOWN).iter_rows(named=True):
        table.add_row(
            escape(r["offer_id"]), r["size"], escape(r["quality"] or "-"), f"{r['ours']:.6g}",
            escape(f"{r['our_source']} ({r['our_date']}, {r['our_grade']})"), f"{r['theirs']:.6g}",
            escape(f"{r['their_key']} ({r['their_basis']})"), percent(r["diff_pct"]),
        )  # fmt: skip
    show_table(table)


def coverage_cmd(
    litellm: Annotated[
        Path | None,
        typer.Option(
            "--litellm",
            help="LiteLLM's model_prices_and_context_window.json: list each of its image "
            "models as priced here, not covered (data/coverage.toml says why) or not covered "
            "with no reason.",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Exit 1 when a LiteLLM image model is not covered and has no reason."
        ),
    ] = False,
    as_of: AsOfOption = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """The catalog's coverage (see COVERAGE_HELP)."""
    if check and litellm is None:
        raise fail("--check needs --litellm FILE (the map to check the catalog against)")
    from pricing._refresh.crosscheck import coverage

    cat = load_catalog_or_fail(data)
    try:
        found = coverage(cat, litellm, as_of=as_of)
    except RateCardError as exc:
        err.print(f"[bold red]{len(exc.problems)} problem(s) in data/coverage.toml[/]")
        for p in exc.problems:
            err.print(f"- {escape(str(p))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    except PricingError as exc:
        raise fail(str(exc), code=1) from exc
    if as_json:
        payload: dict[str, object] = {"offers": records(found.offers)}
        if found.litellm is not None:
            payload["litellm"] = records(found.litellm)
            payload["not_covered_no_reason"] = found.unexplained.height
        print_json(payload)
    else:
        _show_coverage(found)
    if check and not found.ok:
        raise typer.Exit(1)


def _show_coverage(found: Coverage) -> None:
    import polars as pl

    table = Table(title=f"{found.offers.height} provider x model pairs", title_justify="left")
    for col in ("provider", "model", "offers", "newest source", "best grade in force"):
        table.add_column(col, justify="right" if col == "offers" else "left")
    for r in found.offers.iter_rows(named=True):
        newest = f"{r['newest_source']} ({r['newest_date']})" if r["newest_source"] else "-"
        table.add_row(
            escape(r["provider"]), escape(r["model"]), str(len(r["offers"])), escape(newest),
            r["best_grade"] or "[yellow]none in force[/]",
        )  # fmt: skip
    show_table(table)
    if found.litellm is None:
        return
    counts = found.litellm.group_by("status").len().sort("status")
    out.print(
        f"LiteLLM image models: {found.litellm.height} ("
        + ", ".join(f"{n} {s}" for s, n in counts.iter_rows())
        + ")",
        highlight=False,
    )
    _litellm_table("priced here", found.litellm.filter(pl.col("status") == "priced"), "offers")
    _litellm_table("not covered, no reason", found.unexplained, "hint")


def _litellm_table(title: str, rows: pl.DataFrame, last: str) -> None:
    if not rows.height:
        return
    table = Table(
        title=f"{title}: {rows.height}",
        title_justify="left",
        caption=f"and {rows.height - SHOWN} more (--json lists all)"
        if rows.height > SHOWN
        else None,
    )
    for col in ("LiteLLM model (provider)", "model here", last):
        table.add_column(col)
    for r in rows.head(SHOWN).iter_rows(named=True):
        value = r[last]
        text = ", ".join(value) if isinstance(value, list) else (value or "")
        if last == "hint" and r["elsewhere"]:
            text += f" (priced at {', '.join(r['elsewhere'][:3])})"
        table.add_row(
            escape(f"{r['litellm']} ({r['litellm_provider']})"), escape(r["model"] or "-"),
            escape(text),
        )  # fmt: skip
    show_table(table)

"""What the fetching commands share: ``refresh``, ``cards pull``, ``gpus pull``, ``fx pull``.

Their HTTP options, the fetch policy they make, and the run and report of a refresh. Every
URL printed (a report's rows, an error) goes through
:func:`~pricing._base.urls.redact_text`: a token in a URL's query is never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pricing._base.urls import redact_text
from pricing._refresh.http import FetchPolicy
from pricing.cli._common import fail, out, print_json, progress_task, records, show_table
from pricing.errors import RefreshError

if TYPE_CHECKING:
    import polars as pl

    from pricing._refresh.run import RefreshReport

SHOWN_CHANGES = 40  # rows of the diff printed; --json has them all

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Fetch, validate and show the diff; write nothing.")
]
AllowHttpOption = Annotated[
    bool,
    typer.Option("--allow-http", help="Allow plain HTTP to non-loopback hosts (HTTPS only else)."),
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="No conditional requests; do not update the cache.")
]
CacheDirOption = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="HTTP cache (default: $XDG_CACHE_HOME/pricing/http)."),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        help="Time limit of each request, in seconds: to connect, between reads, and for the "
        "whole response.",
        min=0.01,
    ),
]
RetriesOption = Annotated[
    int, typer.Option("--retries", help="Retries per request after the first.", min=0, max=10)
]
MaxBytesOption = Annotated[
    int,
    typer.Option(
        "--max-bytes",
        help="Largest response accepted, in bytes (as sent, and after each decompression).",
        min=1,
    ),
]


def policy(
    allow_http: bool, no_cache: bool, timeout: float, retries: int, max_bytes: int
) -> FetchPolicy:
    """The fetch policy of the HTTP options: ``timeout`` bounds connecting, each read and the
    whole of each request (its deadline), so a slow server cannot hold a refresh longer."""
    return FetchPolicy(
        connect_timeout=timeout,
        read_timeout=timeout,
        deadline=timeout,
        retries=retries,
        max_bytes=max_bytes,
        allow_http=allow_http,
        use_cache=not no_cache,
    )


def run(
    call: Callable[[Callable[[int, int, str], None] | None], RefreshReport], as_json: bool
) -> None:
    """Run a refresh with a progress bar on stderr; print its report; exit 1 on failure."""
    try:
        with progress_task(
            "sources",
            describe=lambda name: redact_text(name) or "done",
            spinner=False,
            counts=True,
        ) as step:
            report = call(step)
    except RefreshError as exc:
        if exc.report is not None:
            show(exc.report, as_json, summary_only=True)
        raise fail(redact_text(str(exc)), code=1) from exc
    show(report, as_json)


def show(report: RefreshReport, as_json: bool, *, summary_only: bool = False) -> None:
    """Print ``report``: one row per source, then the changes and what was written."""
    if as_json:
        print_json(
            {
                "data_dir": str(report.data_dir),
                "fetched_at": report.fetched_at.isoformat(),
                "dry_run": report.dry_run,
                "sources": redacted(records(report.sources)),
                "changes": redacted(records(report.changes)),
                "skipped": redacted(records(report.skipped)),
                "written": [str(p) for p in report.written],
            }
        )
        return
    summary = Table(
        title=f"refresh at {report.fetched_at:%Y-%m-%d %H:%M} UTC", title_justify="left"
    )
    for col in ("source", "status", "HTTP", "new", "changed", "unchanged", "skipped", "note"):
        summary.add_column(
            col, justify="right" if col in ("new", "changed", "unchanged", "skipped") else "left"
        )
    for r in report.sources.iter_rows(named=True):
        style = {"failed": "red", "skipped": "yellow"}.get(r["status"], "green")
        summary.add_row(
            escape(redact_text(r["source"])),
            f"[{style}]{r['status']}[/]",
            "" if r["http_status"] is None else str(r["http_status"]),
            *(str(r[k] or 0) for k in ("new", "changed", "unchanged", "skipped")),
            escape(
                redact_text(r["reason"] or (f"cites {r['source_id']}" if r["source_id"] else ""))
            ),
        )
    out.print(summary)
    if summary_only:
        return
    if report.changes.height:
        show_changes(report.changes)
    if report.dry_run:
        out.print("[yellow]dry run[/]: nothing was written")
    elif report.written:
        out.print("wrote " + ", ".join(escape(str(p)) for p in report.written))
    elif report.ok:
        out.print("no price changed: nothing to write")


def redacted(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """``rows`` with every URL in their text values redacted."""
    return [{k: redact_text(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]


def show_changes(changes: pl.DataFrame) -> None:
    """The first :data:`SHOWN_CHANGES` changes: moved prices first, biggest move first."""
    import polars as pl

    # Then new entries by source and item.
    ordered = changes.with_columns(moved=pl.col("change_pct").abs()).sort(
        ["moved", "source", "item"], descending=[True, False, False], nulls_last=True
    )
    shown = ordered.head(SHOWN_CHANGES)
    more = changes.height - shown.height
    table = Table(
        title=f"{changes.height} change(s)",
        title_justify="left",
        caption=f"and {more} more (--json lists all)" if more else None,
    )
    for col in ("source", "item", "old", "new", "change"):
        table.add_column(col, justify="right" if col == "change" else "left")
    for r in shown.iter_rows(named=True):
        pct = r["change_pct"]
        table.add_row(
            escape(redact_text(r["source"])),
            escape(redact_text(f"{r['item']} ({r['detail']})")),
            escape(r["old"] or "(new)"),
            escape(r["new"]),
            "" if pct is None else f"{pct:+.1f}%",
        )
    show_table(table)

"""Refresh commands of the ``pricing`` CLI: refresh, cards pull, gpus pull, fx pull.

They register themselves on ``app`` (and on its ``cards``, ``gpus`` and ``fx`` groups) when
imported from the bottom of :mod:`pricing.cli.app`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table

from pricing._cards.schema import SOURCE_PRECEDENCE
from pricing._refresh.http import FetchPolicy, RefreshError
from pricing._refresh.pull import pull_cards, pull_fx, pull_gpus
from pricing._refresh.registry import SKYPILOT_CLOUDS
from pricing._refresh.run import RefreshReport, refresh
from pricing.cli.app import (
    DataOption,
    JsonOption,
    _fail,
    _pairs,
    _print_json,
    _records,
    app,
    cards_app,
    out,
    progress_bar,
)
from pricing.cli.plan import gpus_app

SHOWN_CHANGES = 40  # rows of the diff printed; --json has them all


def _group(name: str, help_text: str) -> typer.Typer:
    """The sub-command group ``name`` of ``app``, created if no other module made it."""
    for info in app.registered_groups:
        if info.name == name and isinstance(info.typer_instance, typer.Typer):
            return info.typer_instance
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


fx_app = _group("fx", "Exchange rates (ECB reference rates).")

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
    float, typer.Option("--timeout", help="Connect and read timeout, in seconds.", min=0.01)
]
RetriesOption = Annotated[
    int, typer.Option("--retries", help="Retries per request after the first.", min=0, max=10)
]
MaxBytesOption = Annotated[
    int, typer.Option("--max-bytes", help="Largest response accepted, in bytes.", min=1)
]


def _policy(
    allow_http: bool, no_cache: bool, timeout: float, retries: int, max_bytes: int
) -> FetchPolicy:
    return FetchPolicy(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries=retries,
        max_bytes=max_bytes,
        allow_http=allow_http,
        use_cache=not no_cache,
    )


def _run(
    call: Callable[[Callable[[int, int, str], None] | None], RefreshReport], as_json: bool
) -> None:
    """Run a refresh with a progress bar on stderr; print its report; exit 1 on failure."""
    progress = progress_bar(spinner=False, counts=True)
    try:
        with progress:
            task = progress.add_task("sources", total=None)

            def step(done: int, total: int, name: str) -> None:
                progress.update(task, description=name or "done", completed=done, total=total)

            report = call(step)
    except RefreshError as exc:
        if exc.report is not None:
            _show(exc.report, as_json, summary_only=True)
        raise _fail(str(exc), code=1) from exc
    _show(report, as_json)


def _show(report: RefreshReport, as_json: bool, *, summary_only: bool = False) -> None:
    if as_json:
        _print_json(
            {
                "data_dir": str(report.data_dir),
                "fetched_at": report.fetched_at.isoformat(),
                "dry_run": report.dry_run,
                "sources": _records(report.sources),
                "changes": _records(report.changes),
                "skipped": _records(report.skipped),
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
            escape(r["source"]),
            f"[{style}]{r['status']}[/]",
            "" if r["http_status"] is None else str(r["http_status"]),
            *(str(r[k] or 0) for k in ("new", "changed", "unchanged", "skipped")),
            escape(r["reason"] or (f"cites {r['source_id']}" if r["source_id"] else "")),
        )
    out.print(summary)
    if summary_only:
        return
    if report.changes.height:
        _show_changes(report.changes)
    if report.dry_run:
        out.print("[yellow]dry run[/]: nothing was written")
    elif report.written:
        out.print("wrote " + ", ".join(escape(str(p)) for p in report.written))
    elif report.ok:
        out.print("no price changed: nothing to write")


def _show_changes(changes: pl.DataFrame) -> None:
    # Moved prices first, biggest move first; then new entries by source and item.
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
            escape(r["source"]),
            escape(f"{r['item']} ({r['detail']})"),
            escape(r["old"] or "(new)"),
            escape(r["new"]),
            "" if pct is None else f"{pct:+.1f}%",
        )
    out.print(table)


@app.command("refresh")
def refresh_cmd(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="ecb, skypilot (or skypilot-aws, -gcp, -lambda, -runpod), openrouter, fal, or "
            "a rate-card URL. Default: all built-in sources (fal only with FAL_KEY set)."
        ),
    ] = None,
    dry_run: DryRunOption = False,
    url: Annotated[
        list[str] | None,
        typer.Option("--url", help="SOURCE=URL: fetch a source from another address (repeatable)."),
    ] = None,
    data: DataOption = None,
    allow_http: AllowHttpOption = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    timeout: TimeoutOption = 30.0,
    retries: RetriesOption = 3,
    max_bytes: MaxBytesOption = 64 * 1024 * 1024,
    as_json: JsonOption = False,
) -> None:
    """Fetch new prices from every source and append them to the data as dated entries."""
    urls = _pairs(url, "--url", "SOURCE=URL", "ecb=https://mirror.example/eurofxref-daily.xml")
    policy = _policy(allow_http, no_cache, timeout, retries, max_bytes)
    _run(
        lambda step: refresh(
            sources or None,
            data_dir=data,
            dry_run=dry_run,
            urls=urls,
            policy=policy,
            cache_dir=cache_dir,
            progress=step,
        ),
        as_json,
    )


@cards_app.command("pull")
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
    as_json: JsonOption = False,
) -> None:
    """Pull rate cards in this project's format from a registry: new prices become new versions."""
    if kind not in SOURCE_PRECEDENCE:
        raise _fail(f"--kind {kind!r} is not one of {', '.join(SOURCE_PRECEDENCE)}")
    policy = _policy(allow_http, no_cache, timeout, retries, max_bytes)
    _run(
        lambda step: pull_cards(
            url,
            kind=kind,  # narrowed to SourceKind by the check above
            auth_env=auth_env,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
            data_dir=data,
            dry_run=dry_run,
            policy=policy,
            cache_dir=cache_dir,
        ),
        as_json,
    )


@gpus_app.command("pull")
def gpus_pull(
    clouds: Annotated[
        list[str] | None,
        typer.Argument(
            help=f"Clouds of SkyPilot's catalog: {', '.join(SKYPILOT_CLOUDS)} (default all)."
        ),
    ] = None,
    url: Annotated[
        list[str] | None,
        typer.Option("--url", help="CLOUD=URL of a vms.csv to use instead (repeatable)."),
    ] = None,
    dry_run: DryRunOption = False,
    data: DataOption = None,
    allow_http: AllowHttpOption = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    timeout: TimeoutOption = 30.0,
    retries: RetriesOption = 3,
    max_bytes: MaxBytesOption = 64 * 1024 * 1024,
    as_json: JsonOption = False,
) -> None:
    """Pull GPU offers (on demand and spot, per region) from SkyPilot's price catalogs."""
    urls = _pairs(url, "--url", "CLOUD=URL", "aws=https://mirror.example/aws/vms.csv")
    policy = _policy(allow_http, no_cache, timeout, retries, max_bytes)
    _run(
        lambda step: pull_gpus(
            clouds or None,
            urls=urls,
            data_dir=data,
            dry_run=dry_run,
            policy=policy,
            cache_dir=cache_dir,
            progress=step,
        ),
        as_json,
    )


@fx_app.command("pull")
def fx_pull(
    url: Annotated[
        str | None, typer.Option("--url", help="Address of eurofxref-daily.xml to use instead.")
    ] = None,
    dry_run: DryRunOption = False,
    data: DataOption = None,
    allow_http: AllowHttpOption = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    timeout: TimeoutOption = 30.0,
    retries: RetriesOption = 3,
    max_bytes: MaxBytesOption = 64 * 1024 * 1024,
    as_json: JsonOption = False,
) -> None:
    """Pull the European Central Bank's reference rates into data/fx/ecb.csv (new days only)."""
    policy = _policy(allow_http, no_cache, timeout, retries, max_bytes)
    _run(
        lambda step: pull_fx(
            url, data_dir=data, dry_run=dry_run, policy=policy, cache_dir=cache_dir
        ),
        as_json,
    )

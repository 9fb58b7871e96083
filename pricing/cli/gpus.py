"""``pricing gpus``: the GPU offers for self-hosting, and pulling them from SkyPilot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table

from pricing._base.choices import SKYPILOT_CLOUDS
from pricing.cli._common import fail, load_data_or_fail, out, pairs, print_json, records, show_table
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
from pricing.cli._options import DataOption, JsonOption
from pricing.cli.refresh import AcceptLargeChangeOption

if TYPE_CHECKING:
    from pricing._dataset import DataSet

app = typer.Typer(help="GPU offers for self-hosting.", no_args_is_help=True)


@app.command("list")
def gpus_list(
    gpu: Annotated[str | None, typer.Option("--gpu", help="Only this GPU type, e.g. h100.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="on-demand, spot, serverless, deployment, ...")
    ] = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """GPU offers with their price per GPU-hour, billing granularity and source."""
    from pricing._gpus.gpus import gpu_offers_table

    dataset = load_data_or_fail(data)
    table = _with_evidence(gpu_offers_table(dataset.gpus), dataset)
    if gpu is not None:
        needle = gpu.lower()
        table = table.filter(pl.col("gpu").str.contains(needle, literal=True))
        if table.is_empty():
            raise fail(f"no GPU offer for {gpu!r}; try e.g. --gpu h100, --gpu a100, --gpu l40s")
    if category is not None:
        table = table.filter(pl.col("category") == category)
    if as_json:
        print_json(records(table, money=("price", "instance_hourly", "gpu_hourly")))
        return
    show = Table(title=f"{table.height} GPU offers", title_justify="left")
    width = max((len(i) for i in table["offer_id"].to_list()), default=5)
    for col in (
        "offer", "gpu", "gpus", "category", "$/GPU-h", "billed per", "source", "seen", "grade"
    ):  # fmt: skip
        show.add_column(
            col,
            justify="right" if col in ("gpus", "$/GPU-h") else "left",
            # offer ids are what --gpu takes: whole, on one line; the other columns give way
            min_width=width if col == "offer" else None,
            no_wrap=col == "offer",
        )
    for r in table.sort("gpu", "gpu_hourly").iter_rows(named=True):
        granularity = f"{r['granularity_s']} s" if r["granularity_known"] else "? (1 h assumed)"
        show.add_row(
            escape(r["offer_id"]),
            r["gpu"],
            str(r["gpus"]),
            r["category"],
            f"{r['gpu_hourly']:,.4f}",
            granularity,
            escape(r["source"]),
            r["effective"].isoformat(),
            r["grade"] + ("" if r["answers"] else " [yellow](lead)[/]"),
        )
    show_table(show)
    leads = table.filter(~pl.col("answers")).height
    if leads:
        out.print(
            f"[dim]{leads} offer(s) marked (lead): the default evidence policy keeps them out of "
            "simulations (a claim or a stale figure); --json gives each reason[/]"
        )


def _with_evidence(table: pl.DataFrame, dataset: DataSet) -> pl.DataFrame:
    """Each GPU offer's evidence grade, flags and whether the default policy lets it answer."""
    from pricing._base.dates import to_date
    from pricing._evidence.gpus import gpu_offer_evidence
    from pricing._evidence.grades import TrustPolicy

    policy, day = TrustPolicy(), to_date(None)
    offers = {o.id: o for o in dataset.gpus.offers}
    evidence = [
        gpu_offer_evidence(offers[i], dataset.catalog.sources.get(offers[i].source), day)
        for i in table["offer_id"].to_list()
    ]
    return table.with_columns(
        grade=pl.Series([e.grade for e in evidence], dtype=pl.String),
        flags=pl.Series(
            ["; ".join(str(f) for f in e.flags) or None for e in evidence], dtype=pl.String
        ),
        answers=pl.Series([policy.allows(e) for e in evidence], dtype=pl.Boolean),
        excluded_because=pl.Series([policy.why_not(e) or None for e in evidence], dtype=pl.String),
    )


@app.command("pull")
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
    accept_large_change: AcceptLargeChangeOption = False,
) -> None:
    """Pull GPU offers (on demand and spot, per region) from SkyPilot's price catalogs."""
    from pricing._refresh.pull import pull_gpus

    urls = pairs(url, "--url", "CLOUD=URL", "aws=https://mirror.example/aws/vms.csv")
    fetch = policy(allow_http, no_cache, timeout, retries, max_bytes)
    run(
        lambda step: pull_gpus(
            clouds or None,
            urls=urls,
            data_dir=data,
            dry_run=dry_run,
            policy=fetch,
            cache_dir=cache_dir,
            progress=step,
            accept_large_change=accept_large_change,
        ),
        as_json,
    )

"""``pricing refresh``: fetch new prices from every source into the data."""

from __future__ import annotations

from typing import Annotated

import typer

from pricing.cli._common import pairs
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

#: ``--accept-large-change``, shared by the commands that pull prices.
AcceptLargeChangeOption = Annotated[
    bool,
    typer.Option(
        "--accept-large-change",
        help="Record prices that moved more than 10x from the price they replace (else such "
        "a change fails the source, naming the offer, the old and the new price).",
    ),
]


def refresh_cmd(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="ecb, skypilot (or skypilot-aws, -gcp, -lambda, -runpod), openrouter, fal, "
            "litellm (LiteLLM's price map, third-party), or a rate-card URL. Default: all "
            "built-in sources but litellm (fal only with FAL_KEY set)."
        ),
    ] = None,
    dry_run: DryRunOption = False,
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url",
            help="SOURCE=URL: fetch a source from another address (repeatable); litellm also "
            "reads a local file (litellm=file:PATH) or an installed litellm package's copy "
            "(litellm=package:litellm).",
        ),
    ] = None,
    data: DataOption = None,
    allow_http: AllowHttpOption = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    timeout: TimeoutOption = 30.0,
    retries: RetriesOption = 3,
    max_bytes: MaxBytesOption = 64 * 1024 * 1024,
    accept_large_change: AcceptLargeChangeOption = False,
    as_json: JsonOption = False,
) -> None:
    """Fetch new prices from every source and append them to the data as dated entries."""
    from pricing._refresh.run import refresh

    urls = pairs(url, "--url", "SOURCE=URL", "ecb=https://mirror.example/eurofxref-daily.xml")
    fetch = policy(allow_http, no_cache, timeout, retries, max_bytes)
    run(
        lambda step: refresh(
            sources or None,
            data_dir=data,
            dry_run=dry_run,
            urls=urls,
            policy=fetch,
            cache_dir=cache_dir,
            progress=step,
            accept_large_change=accept_large_change,
        ),
        as_json,
    )

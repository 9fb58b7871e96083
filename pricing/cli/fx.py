"""``pricing fx``: pull the ECB reference rates (the latest day, or the whole history), convert
with the dated rates of the data."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.markup import escape

from pricing.cli._common import fail, help_text, out, print_json
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
from pricing.errors import PricingError

_RATE_HELP = """Convert an amount between currencies with the latest rates on or before a day.

Rates are the European Central Bank's reference rates per euro in data/fx: every business
day since 1999-01-04 is bundled (refresh them with `pricing fx pull`, or `pricing fx pull
--history` after a gap). A weekend or holiday uses the last business day before it, up to
--max-age-days earlier. A conversion between two other currencies goes through the euro. The
factor is exact (28 significant digits), as the engine uses it.

Example: pricing fx rate USD EUR --amount 1250 --on 2026-06-15
"""


app = typer.Typer(help="Exchange rates (ECB reference rates).", no_args_is_help=True)


_PULL_HELP = """Pull the European Central Bank's reference rates into data/fx (new days only).

By default the daily file is fetched (eurofxref-daily.xml, the latest business day); with
--history the full history since 1999 (eurofxref-hist.zip, about 650 kB), which fills any gap
since the bundled history ends. Only days and currencies not recorded yet are written: they are
appended to data/fx/ecb.csv, citing a new data/sources.toml entry. A rate already recorded is
never rewritten; a different figure for it is reported as skipped.

Example: pricing fx pull --history --dry-run
"""


@app.command("pull", help=help_text(_PULL_HELP))
def fx_pull(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Address to fetch instead of the ECB's: of eurofxref-daily.xml, or with "
            "--history of eurofxref-hist.zip (a mirror, or a test server).",
        ),
    ] = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Fetch the ECB's full history (eurofxref-hist.zip) instead of the latest day, "
            "and append every day not recorded yet.",
        ),
    ] = False,
    dry_run: DryRunOption = False,
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
    """Pull the ECB's reference rates into data/fx/ecb.csv (help: ``_PULL_HELP``)."""
    from pricing._refresh.feeds.ecb_history import pull_fx_history
    from pricing._refresh.pull import pull_fx

    fetch = policy(allow_http, no_cache, timeout, retries, max_bytes)
    pull = pull_fx_history if history else pull_fx
    run(
        lambda step: pull(
            url,
            data_dir=data,
            dry_run=dry_run,
            policy=fetch,
            cache_dir=cache_dir,
            accept_large_change=accept_large_change,
        ),
        as_json,
    )


@app.command("rate", help=help_text(_RATE_HELP))
def fx_rate_cmd(
    from_currency: Annotated[str, typer.Argument(help="Currency to convert from, e.g. USD.")],
    to_currency: Annotated[str, typer.Argument(help="Currency to convert to, e.g. EUR.")],
    on: Annotated[
        str | None,
        typer.Option("--on", help="Day of the conversion, YYYY-MM-DD (default: today, UTC)."),
    ] = None,
    amount: Annotated[str, typer.Option("--amount", help="Amount to convert.")] = "1",
    max_age_days: Annotated[
        int,
        typer.Option(
            "--max-age-days",
            help="Oldest acceptable rate, in days before --on (ECB rates skip weekends).",
        ),
    ] = 7,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """The rates and exact factor of a conversion (help: ``_RATE_HELP``)."""
    from pricing._base.dates import to_date
    from pricing._fx.rates import fx_rate, rate_used
    from pricing._fx.store import load_fx

    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise fail(f"--amount {amount!r} is not a number; write it like 1250.50") from None
    from_currency, to_currency = from_currency.upper(), to_currency.upper()
    try:
        day = to_date(on)
        fx = load_fx(data)
        factor = fx_rate(from_currency, to_currency, day, fx=fx, max_age_days=max_age_days)
    except PricingError as exc:
        raise fail(str(exc)) from exc
    legs = []
    for currency in (from_currency, to_currency):
        if currency != "EUR":
            on_day, per_eur, source = rate_used(fx, currency, day, max_age_days)
            legs.append(
                {
                    "currency": currency,
                    "date": on_day.isoformat(),
                    "per_eur": format(per_eur.normalize(), "f"),
                    "source": source,
                }
            )
    converted = value * factor
    if as_json:
        print_json(
            {
                "from": from_currency,
                "to": to_currency,
                "on": day.isoformat(),
                "factor": str(factor),
                "amount": str(value),
                "converted": str(converted),
                "rates": legs,
            }
        )
        return
    out.print(
        f"{value:,f} {escape(from_currency)} = [bold]{converted:,.4f} {escape(to_currency)}[/] "
        f"on {day.isoformat()} (1 {escape(from_currency)} = {factor:.6g} {escape(to_currency)})",
        highlight=False,
    )
    for leg in legs:
        out.print(
            f"  {leg['currency']}: {leg['per_eur']} per EUR, rate of {leg['date']} "
            f"(source {escape(str(leg['source']))})",
            highlight=False,
        )

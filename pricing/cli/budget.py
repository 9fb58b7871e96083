"""The ``pricing budget`` command: a usage log's month against a monthly budget."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from pricing.cli._common import (
    amount,
    check_output,
    cli_words,
    evidence_or_fail,
    fail,
    load_catalog_or_fail,
    out,
    pairs,
    print_json,
    print_table,
    progress_task,
    records,
    replay_label,
)
from pricing.cli._currency import converter_or_fail, print_conversions
from pricing.cli._options import DataOption, EvidenceOption, FxOption, JsonOption, MaxFxAgeOption
from pricing.cli.quoting import offer_id
from pricing.errors import PricingError

if TYPE_CHECKING:
    from pricing._usage.budget import Budget, BudgetStatus

#: Export formats of the chart (as in :mod:`pricing._charts.export`, imported on use with altair).
_FORMATS = ("html", "png", "svg", "json")

#: The help of ``pricing budget``.
HELP = "\n\n".join(
    [
        "Month-to-date spend of a usage log against a monthly budget, with a forecast.",
        "Prices the log like `pricing replay` (same columns, see `pricing replay --help`), then "
        "for the month of --as-of (default: the latest month of the log, up to its last day with "
        "a call) shows the spend so far, the run rate per day (spend / days elapsed), the "
        "month-end forecast at that rate, the day the budget runs out, and the alert thresholds "
        "reached and forecast. Calls with no price are counted apart, never as 0: not in the "
        "spend, and in the forecast at their offer's nearest price (the price per image of the "
        "nearest priced call of the offer or model, else the offer's list price on their day), "
        "as a note says. --out writes the status table and the burn-up chart (--format "
        "html,png,svg,json; the HTML page holds both and works offline; the others the chart).",
        "A budget in another currency than the prices (--currency GBP for a USD log) converts "
        "each day so far at its own ECB reference rate (a day with no rate within "
        "--max-fx-age-days is not counted, with the reason), and forecasts the rest of the "
        "month at the latest rate, a planning rate; every rate used is printed.",
        "Exit status: 0 when month-to-date spend is below the budget (alerts may be crossed: "
        "they are printed), 1 when it has reached the budget, 2 on an error (bad log, options "
        "or data, or a chart that cannot be written: the status is printed first).",
        "Example: pricing budget usage.csv --monthly 5000 --alert 0.5 --alert 0.8 --alert 1.0 "
        "--as-of 2026-03-15 --out budget.html --format html,png",
    ]
)


def _outputs(out_path: Path | None, formats: str | None, log: Path) -> list[Path]:
    """The chart files to write: ``--out`` with each format's suffix."""
    if out_path is None:
        if formats:
            raise fail(f"--format {formats} needs --out, e.g. --out budget --format {formats}")
        return []
    suffix = out_path.suffix.lower().lstrip(".")
    chosen = [f.strip().lower() for f in (formats or suffix or "html").split(",") if f.strip()]
    unknown = [f for f in chosen if f not in _FORMATS]
    if unknown or not chosen:
        raise fail(
            f"unknown chart format {', '.join(unknown) or repr(formats)}; choose from "
            f"{', '.join(_FORMATS)} (--out budget.html, or --format html,png)"
        )
    base = out_path.with_suffix("") if suffix in _FORMATS else out_path
    paths = [base.with_name(f"{base.name}.{f}") for f in dict.fromkeys(chosen)]
    for path in paths:
        check_output("--out", path, log)
    return paths


def budget_cmd(
    log: Annotated[Path, typer.Argument(help="Usage log: .csv, .parquet or .ndjson.")],
    monthly: Annotated[
        str,
        typer.Option(
            "--monthly",
            metavar="AMOUNT",
            help="Budget per calendar month, in --currency [USD/month by default].",
        ),
    ],
    currency: Annotated[
        str,
        typer.Option(
            "--currency",
            help="ISO 4217 code of the budget, e.g. GBP. Calls priced in another currency are "
            "converted: each day at its own ECB reference rate, the rest of the month at the "
            "latest rate (a stated planning rate); each rate used is printed.",
        ),
    ] = "USD",
    alert: Annotated[
        list[float] | None,
        typer.Option(
            "--alert",
            help="Alert threshold, a fraction of the budget in (0, 2] (repeat; default 0.8 "
            "and 1.0).",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Count the month of this day up to this day, YYYY-MM-DD (UTC). Default: the "
            "latest month of the log, up to its last call.",
        ),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the status and chart here: budget.html (the status table above the "
            "chart), or the chart as .png, .svg or .json.",
        ),
    ] = None,
    formats: Annotated[
        str | None,
        typer.Option("--format", help="Chart formats, comma-separated: html,png,svg,json."),
    ] = None,
    column_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="LOGCOL=COLUMN: read log column LOGCOL as COLUMN (repeat)."),
    ] = None,
    offer_map: Annotated[
        list[str] | None,
        typer.Option("--offer-map", help="PROVIDER/MODEL=OFFER, for providers with several."),
    ] = None,
    data: DataOption = None,
    evidence: EvidenceOption = None,
    fx: FxOption = None,
    max_fx_age_days: MaxFxAgeOption = 7,
    as_json: JsonOption = False,
) -> None:
    """A usage log's month against a monthly budget (help: :data:`HELP`)."""
    import polars as pl

    from pricing._usage.budget import budget_status
    from pricing._usage.replay import replay

    budget, day = _budget(monthly, currency.strip().upper(), alert, as_of)
    mapping = pairs(column_map, "--map", "LOGCOL=COLUMN", "ts=timestamp")
    offers = {
        offer_id(k): offer_id(v)
        for k, v in pairs(
            offer_map, "--offer-map", "PROVIDER/MODEL=OFFER", "acme/m=acme/m-fast"
        ).items()
    }
    paths = _outputs(out_path, formats, log)
    policy = evidence_or_fail(evidence)
    # the days so far convert at their own rates; budget_status plans the rest of the month
    converter = converter_or_fail(budget.currency, fx, max_fx_age_days, data=data, planning=False)
    cat = load_catalog_or_fail(data)
    try:
        with progress_task("reading the log", describe=replay_label, counts=True) as bar:
            result = replay(
                log,
                month=None if day is None else f"{day:%Y-%m}",
                mapping=mapping or None,
                offer_map=offers or None,
                catalog=cat,
                alternatives=False,
                progress=bar,
                evidence=policy,
            )
        status = budget_status(result, budget, as_of=day, fx=converter, estimate=True)
    except PricingError as exc:
        raise fail(str(exc)) from exc
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"cannot read {log}: {first}. Check that it is a valid log file.") from exc
    written, error = _write_chart(status, paths)
    if as_json:
        payload = {**_status_json(status, log, written), "log_notes": list(result.notes)}
        print_json(payload if error is None else {**payload, "output_error": error})
    else:
        _print_status(status, log, written)
        for note in result.notes:  # how the log was read: unread columns, defaults
            out.print(f"[yellow]note:[/] {escape(cli_words(note))}", highlight=False)
    if error is not None:  # after the status: the work is never lost to a failed write
        raise fail(error)
    if status.over_budget:
        raise typer.Exit(1)


def _budget(
    monthly: str, currency: str, alert: list[float] | None, as_of: str | None
) -> tuple[Budget, date | None]:
    """The budget the options state, and the --as-of day; or a clean exit naming the option."""
    from pricing._base.dates import to_date
    from pricing._usage.budget import Budget

    text = monthly.strip()
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")  # thousands separators: 5,000
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0:
        raise fail(f"--monthly {monthly}: must be a positive amount per month, e.g. --monthly 5000")
    try:
        # the order of --alert flags does not matter
        alerts = (0.8, 1.0) if alert is None else sorted(set(alert))
        budget = Budget(monthly=amount, currency=currency, alerts=alerts)
        return budget, None if as_of is None else to_date(as_of)
    except PricingError as exc:
        said = str(exc).replace("budget currency", "--currency").replace("budget alert", "--alert")
        raise fail(said) from exc


def _write_chart(status: BudgetStatus, paths: list[Path]) -> tuple[list[Path], str | None]:
    """The files written (the HTML page holds the status table above the chart), and why
    they could not be (``None`` when they were)."""
    if not paths:
        return [], None
    from pricing._charts.usage import write_budget

    base = paths[0].with_suffix("")
    table = [(what, Text.from_markup(figure).plain, Text.from_markup(note).plain)
             for what, figure, note in _status_rows(status)]  # fmt: skip
    try:
        formats = [p.suffix[1:] for p in paths]
        return write_budget(
            status, base, formats, table=table, title=f"Budget {status.month:%B %Y}"
        ), None
    except (OSError, ValueError, PricingError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [], (
            f"cannot write the chart to {base}: {first}; no partial file was left (the status "
            "above is complete: free the space or fix the path, then run again)"
        )


def _status_json(status: BudgetStatus, log: Path, written: list[Path]) -> dict[str, object]:
    b = status.budget
    return {
        "log": str(log),
        "month": f"{status.month:%Y-%m}",
        "as_of": status.as_of.isoformat(),
        "budget": {"monthly": str(b.monthly), "currency": b.currency, "alerts": list(b.alerts)},
        "days_in_month": status.days_in_month,
        "days_elapsed": status.days_elapsed,
        "spent": str(status.spent),
        "used": status.used,
        "run_rate": str(status.run_rate),
        "forecast": str(status.forecast),
        "run_out": None if status.run_out is None else status.run_out.isoformat(),
        "over_budget": status.over_budget,
        "crossed": list(status.crossed),
        "forecast_crossed": list(status.forecast_crossed),
        "requests": status.requests,
        "unpriced": status.unpriced,
        "estimated": str(status.estimated),
        "estimated_calls": status.estimated_calls,
        "estimates": records(status.estimates),
        "alerts": records(status.alerts),
        "daily": records(status.daily),
        "prices": records(status.prices),
        "notes": list(status.notes),
        "evidence": status.evidence,
        "outputs": [str(p) for p in written],
        "fx": [c.as_dict() for c in status.conversions],
    }


def _print_status(status: BudgetStatus, log: Path, written: list[Path]) -> None:
    """The status table, how its figures are computed, the prices behind them, and notes."""
    table = Table(
        title=f"budget for {status.month:%B %Y}, as of {status.as_of.isoformat()}",
        title_justify="left",
        show_header=False,
    )
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    table.add_column("", overflow="fold")
    for name, value, note in _status_rows(status):
        table.add_row(name, value, note)
    print_table(table, least=24)
    # below the table (a caption would be wrapped to the table's width)
    how = (
        f"run rate = spent / {status.days_elapsed} day(s) elapsed; forecast = run rate x days "
        "in the month"
    )
    if any(c.kind == "planning" for c in status.conversions):
        how = (
            f"run rate = spent in each priced currency / {status.days_elapsed} day(s) elapsed, "
            "at the planning rate; forecast = spent + run rate x the days left"
        )
    out.print(f"[dim]  log {escape(str(log))}; {how}[/]", highlight=False)
    if status.evidence:
        out.print(f"[dim]  prices: {escape(status.evidence)}[/]", highlight=False)
    _print_prices(status)
    for note in status.notes:
        out.print(f"[yellow]note:[/] {escape(cli_words(note))}", highlight=False)
    print_conversions(list(status.conversions))
    for path in written:
        out.print(f"wrote {escape(str(path))}", highlight=False)


def _status_rows(status: BudgetStatus) -> list[tuple[str, str, str]]:
    """(what, figure, note) rows of the status table."""
    cur = status.currency
    monthly = status.budget.monthly
    share = f"{status.forecast / monthly:.1%} of the budget"
    guessed = status.estimated_calls
    if guessed:
        share += f", with {guessed:,} unpriced call(s) estimated"
    left_out = status.unpriced - guessed  # unpriced calls no estimate could be made for
    day = status.run_out
    if day is None:
        run_out, how = "not this month", "at the run rate"
        if left_out:
            how += f"; [yellow]{left_out:,} unpriced call(s) not estimated: may be sooner[/]"
    else:
        run_out = f"{day:%a %Y-%m-%d}"
        if day <= status.as_of:
            how = "reached" if status.over_budget else "reached with the unpriced calls estimated"
        else:
            how = "forecast at the run rate" + (", with the estimate" if guessed else "")
    calls = "all priced"
    if status.unpriced:
        calls = f"[yellow]{status.unpriced:,} without a price: not in the spend"
        calls += f"; {guessed:,} estimated in the forecast[/]" if guessed else "[/]"
    return [
        ("budget", amount(monthly, cur), "per month"),
        (
            "spent so far",
            amount(status.spent, cur),
            f"day {status.days_elapsed} of {status.days_in_month}",
        ),
        ("% used", f"{status.used:.1%}", ""),
        ("run rate", amount(status.run_rate, cur), "per day"),
        ("forecast month end", amount(status.forecast, cur), share),
        ("budget runs out", run_out, how),
        ("alerts crossed", *_alerts(status, "crossed_on")),
        ("alerts forecast", *_alerts(status, "forecast_on")),
        ("calls", f"{status.requests:,}", calls),
    ]


def _print_prices(status: BudgetStatus) -> None:
    """One line per price the month was billed at, then the calls that had none."""
    import polars as pl

    priced = status.prices.filter(pl.col("reason").is_null())
    for r in priced.iter_rows(named=True):
        out.print(
            f"  prices: {escape(r['offer_id'])} version {escape(r['price_version'])}, source "
            f"{escape(r['source_id'])}: {r['requests']:,} call(s), "
            f"{amount(r['cost'], status.currency)}",
            highlight=False,
        )
    for r in status.prices.filter(pl.col("reason").is_not_null()).iter_rows(named=True):
        out.print(
            f"  [yellow]no price:[/] {r['requests']:,} call(s) on {escape(str(r['offer_id']))}: "
            f"{escape(r['reason'])}",
            highlight=False,
        )


def _alerts(status: BudgetStatus, column: str) -> tuple[str, str]:
    """Thresholds reached (or forecast to be) and on which days: ("80%, 100%", "on ...")."""
    hits = status.alerts.drop_nulls(column)
    if hits.height == 0:
        return "none", "" if column == "crossed_on" else "this month"
    shares = ", ".join(f"{t:.0%}" for t in hits["threshold"])
    return shares, "on " + ", ".join(f"{d:%Y-%m-%d}" for d in hits[column])

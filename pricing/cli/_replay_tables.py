"""The tables ``pricing replay`` prints: summary, costs, alternatives, reconciliation, problems."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from pricing.cli._common import (
    amount,
    cli_words,
    out,
    percent,
    print_table,
)
from pricing.cli._currency import (
    print_conversions,
)

_TOP_ALTERNATIVES = 10

if TYPE_CHECKING:
    from pricing._usage.replay import Replay


def _month_text(value: object) -> str:
    return value.strftime("%Y-%m") if isinstance(value, date) else str(value)


def print_replay(
    result: Replay,
    log: Path,
    month: str | None,
    outputs: dict[str, dict[str, object]],
    alternatives: bool,
) -> None:
    """The replay for people: every table, then its notes and the files written."""
    _print_summary(result, log, month)
    _print_costs(result)
    if alternatives:
        _print_alternatives(result)
    _print_leads(result)
    if result.reconciliation is not None:
        _print_reconciliation(result.reconciliation)
    _print_problems(result, quarantine_written="quarantine" in outputs)
    for note in result.notes:
        out.print(f"[yellow]note:[/] {escape(cli_words(note))}", highlight=False)
    _print_currency(result, focus="focus" in outputs)
    if "quarantine" in outputs:
        q = outputs["quarantine"]
        out.print(f"wrote {q['rows']} quarantined row(s) to {escape(str(q['path']))}")
    if "focus" in outputs:
        f = outputs["focus"]
        out.print(
            f"wrote FOCUS 1.3 dataset to {escape(str(f['path']))}: {f['rows']} row(s), "
            f"granularity {f['granularity']}; {f['excluded_unpriced']} unpriced call(s) left out"
        )


def _print_currency(result: Replay, *, focus: bool) -> None:
    """In which currency the money is, and the exchange rates that put it there."""
    if result.currency is None:
        return
    billed = ["the reconciliation"] if result.reconciliation is not None else []
    billed += ["the FOCUS file"] if focus else []
    kept = f" ({' and '.join(billed)} stay in the currency billed)" if billed else ""
    out.print(
        f"[yellow]note:[/] costs, alternatives and totals in {result.currency}, each call at "
        f"the exchange rate of its own day{kept}",
        highlight=False,
    )
    if result.rows_unpriced_fx:
        out.print(
            f"[yellow]note:[/] {result.rows_unpriced_fx:,} call(s) have a price but no exchange "
            "rate for their day: unpriced, not counted (see the reasons above)",
            highlight=False,
        )
    print_conversions(list(result.conversions))


def _print_leads(result: Replay) -> None:
    """Prices of the log's models the evidence policy excluded: never an alternative."""
    leads = result.leads.unique(["offer_id", "price_version"], maintain_order=True)
    if leads.height == 0:
        return
    table = Table(
        title="Unverified leads: excluded from the costs and alternatives above "
        "(--evidence all admits them)",
        title_justify="left",
    )
    for col in ("offer", "grade", "1024x1024 image", "why excluded"):
        right, note = col == "1024x1024 image", col == "why excluded"
        table.add_column(
            col, justify="right" if right else "left", no_wrap=not note, overflow="fold"
        )
    for r in leads.iter_rows(named=True):
        price = r["reference_price"]
        table.add_row(
            escape(r["offer_id"]),
            r["grade"],
            "-" if price is None else f"{price:.4f} {r['currency']}",
            escape(r["reason"]),
        )
    print_table(table, ("grade",), least=20)


def _print_summary(result: Replay, log: Path, month: str | None) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("log", escape(str(log)))
    if month is not None:
        grid.add_row("month", escape(month))
    grid.add_row(
        "rows read",
        f"{result.rows_read:,} = {result.rows_priced:,} priced + {result.rows_unpriced:,} "
        f"unpriced + {result.rows_quarantined:,} quarantined",
    )
    grid.add_row("months", ", ".join(result.months) or "none")
    grid.add_row("prices", escape(result.evidence))
    by_currency = result.totals()
    total_text = "\n".join(amount(v, k) for k, v in by_currency.items()) or "nothing priced"
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
        left = col in ("month", "provider", "model", "operation")
        table.add_column(col, justify="left" if left else "right", no_wrap=col != "provider")
    for r in frame.iter_rows(named=True):
        cost = amount(r["cost"], r["currency"]) if r["unpriced"] < r["requests"] else "-"
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
    print_table(table, ("operation", "images", "month"))  # unpriced counts always show


def _print_alternatives(result: Replay) -> None:
    if result.alternatives.height == 0:
        return
    per = result.alternatives_by_model()
    in_use = set(result.costs["offer_id"].drop_nulls().to_list())
    for model in per["model"].unique(maintain_order=True).to_list():
        rows = per.filter(pl.col("model") == model)
        actual = result.costs.filter(pl.col("model") == model)
        actual_totals = (
            actual.group_by("currency").agg(pl.col("cost", "requests").sum()).drop_nulls("currency")
        )
        actual_text = ", ".join(
            amount(r["cost"], r["currency"])
            for r in actual_totals.sort("currency").iter_rows(named=True)
        )
        calls = int(actual["requests"].sum()) if actual.height else 0
        table = Table(
            title=f"{model}: the same {calls:,} call(s) on each offer, cheapest first "
            f"(as logged: {actual_text or 'unpriced'})",
        )
        for col in ("#", "offer", "cost", "unpriced", "saving", "saving %"):
            table.add_column(col, justify="left" if col == "offer" else "right", no_wrap=True)
        for i, r in enumerate(rows.head(_TOP_ALTERNATIVES).iter_rows(named=True), start=1):
            saving = r["saving"]
            style = "green" if saving is not None and saving > 0 else ""
            style = "red" if saving is not None and saving < 0 else style
            name = escape(r["offer_id"]) + (
                "\n[dim](as logged)[/]" if r["offer_id"] in in_use else ""
            )
            table.add_row(
                str(i),
                name,
                amount(r["cost"], r["currency"]),
                f"{r['unpriced']:,}" if r["unpriced"] else "",
                f"[{style}]{amount(saving, r['currency'])}[/]"
                if style
                else amount(saving, r["currency"]),
                percent(r["saving_pct"]),
            )
        print_table(table, ("#", "unpriced", "saving %"))
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
        left = col in ("month", "provider", "not compared")
        table.add_column(col, justify="left" if left else "right", no_wrap=col != "not compared")
    for r in frame.iter_rows(named=True):
        cur = r["currency"]
        apart = []
        if r["rows_unpriced"]:
            billed = amount(r["billed_unpriced"], cur)
            apart.append(f"{r['rows_unpriced']:,} unpriced call(s) billed {billed}")
        if r["rows_unbilled"]:
            apart.append(f"{r['rows_unbilled']:,} call(s) without a billed cost")
        amounts = [
            amount(r["billed"], cur),
            amount(r["computed"], cur),
            amount(r["variance"], cur),
            percent(r["variance_pct"]),
        ]
        table.add_row(
            _month_text(r["month"]),
            escape(str(r["provider"] or "-")),
            *(amounts if r["rows_compared"] else ["-"] * 4),  # no call to compare
            "\n".join(apart),
        )
    print_table(table, ("variance %", "month"), least=16)
    out.print(
        "[dim]  on the calls with both a billed cost and a price; variance = billed - computed[/]"
    )


def _print_problems(result: Replay, *, quarantine_written: bool) -> None:
    if result.unpriced.height:
        table = Table(title=f"{result.rows_unpriced:,} unpriced call(s), by reason")
        table.add_column("reason", overflow="fold")
        table.add_column("calls", justify="right", no_wrap=True)
        for r in result.unpriced.iter_rows(named=True):
            table.add_row(escape(cli_words(str(r["reason"]))), f"{r['rows']:,}")
        print_table(table)
    if result.rows_quarantined:
        counts = result.quarantine_counts
        table = Table(title=f"{result.rows_quarantined:,} quarantined row(s), by reason")
        table.add_column("reason", overflow="fold")
        table.add_column("rows", justify="right", no_wrap=True)
        for r in counts.iter_rows(named=True):
            table.add_row(escape(cli_words(str(r["reason"]))), f"{r['rows']:,}")
        print_table(table)
        if not quarantine_written:  # below the table: a caption would wrap to its width
            out.print("[dim]--quarantine OUT.csv writes these rows with their line numbers[/]")

"""``pricing dashboard``: build and export the dashboards of workloads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pricing.cli._common import (
    check_output_dir,
    evidence_or_fail,
    fail,
    help_text,
    load_data_or_fail,
    out,
    progress_task,
    show_table,
)
from pricing.cli._currency import converter_or_fail, print_conversions
from pricing.cli._options import (
    CurrencyOption,
    DataOption,
    EvidenceOption,
    FxOption,
    MaxFxAgeOption,
)
from pricing.errors import PricingError

if TYPE_CHECKING:
    from pricing._charts.dashboard import Dashboard

_HELP = """Build the dashboard of a workload: simulate it, draw every chart, write the files.

Writes OUT/<workload>/index.html (one self-contained page: scripts inlined, no network
request when opened, what-if sliders computed in the browser), dashboard.json (its Vega-Lite
spec) and per chart <chart>.png, .svg and .json. The page's first screen answers: the total
across segments, the option bought per segment with its evidence grade and P10-P90 range,
the cost per month, the assumptions and the unverified leads. With --format pdf it also
prints the page to dashboard.pdf through a headless Chromium (skipped, with a note, where
none is installed). With no WORKLOAD it builds the bundled default workload (ecommerce) into
dashboards/. Figures use only the prices the evidence policy trusts (default: the workload's
`evidence`); the rest are listed as unverified leads, with their figure and reason.

Examples:

  pricing dashboard

  pricing dashboard agency --format html --budget 20000

  pricing dashboard agency --format html,png,pdf     (the page printed to PDF too)

  pricing dashboard --all --as-of 2026-11-21     (every bundled workload)

  pricing dashboard agency --currency EUR --fx EURUSD=1.08

Figures are in --currency (default: each workload's currency); the page states every
exchange rate used, with its day and source.
"""

#: The help of ``pricing dashboard``.
HELP = help_text(_HELP)

#: A dashboard built: the board, the file to open (None when writing failed), files written.
Done = tuple["Dashboard", Path | None, int]


def dashboard_cmd(
    workloads: Annotated[
        list[str] | None,
        typer.Argument(
            help="Bundled workload names (see `pricing workloads list`) or TOML files.",
            show_default="ecommerce",
        ),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write into (one sub-folder per workload).")
    ] = Path("dashboards"),
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: html, png, svg, json, pdf.")
    ] = "html,png,svg,json",
    samples: Annotated[
        int, typer.Option("--samples", help="Monte Carlo samples for the fan and tornado charts.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sampling.")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Prices in force on YYYY-MM-DD (default today).")
    ] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", help="Monthly budget line on the spend chart.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Build every bundled workload.")] = False,
    data: DataOption = None,
    evidence: EvidenceOption = None,
    currency: CurrencyOption = None,
    fx: FxOption = None,
    max_fx_age_days: MaxFxAgeOption = 7,
) -> None:
    """Build and export the dashboards of workloads (help: :data:`HELP`)."""
    from pricing._charts.dashboard import build_dashboard
    from pricing._workloads.load import DEFAULT_WORKLOAD, list_workloads

    chosen_formats = _formats(formats)
    if every and workloads:
        raise fail("give workload names or --all, not both")
    if evidence is not None:
        evidence_or_fail(evidence)
    if samples < 0:
        raise fail(f"--samples must be 0 or more, got {samples}")
    converter_or_fail(currency or "USD", fx, max_fx_age_days, data=data, planning=True)
    dataset = load_data_or_fail(data)
    names = list(list_workloads(dataset)) if every else (workloads or [DEFAULT_WORKLOAD])
    _check_out(out_dir, names)
    done: list[Done] = []
    with progress_task("dashboards") as bar:
        for i, name in enumerate(names):
            try:
                bar(i, len(names), f"{name}: simulating")
                board = build_dashboard(
                    name, samples=samples, seed=seed, as_of=as_of, budget=budget, data=dataset,
                    evidence=evidence, currency=currency, fx=fx, max_fx_age_days=max_fx_age_days,
                )  # fmt: skip
            except (PricingError, ValueError) as exc:
                _print_done(done)
                raise fail(f"{name}: {exc}") from None
            bar(i, len(names), f"{name}: drawing")
            error = _export(board, out_dir, chosen_formats, done)
            if error is not None:
                _print_done(done)
                raise fail(f"{name}: {error}")
    _print_done(done)


def _formats(formats: str) -> tuple[str, ...]:
    """The formats asked for; ``pdf`` dropped, with a one-line note, when no Chromium can
    print it."""
    from pricing._charts.export import DASHBOARD_FORMATS, check_formats
    from pricing._charts.pdf import NO_CHROMIUM, find_chromium

    try:
        chosen = check_formats(formats.split(","), DASHBOARD_FORMATS)
    except PricingError as exc:
        raise fail(str(exc)) from None
    if "pdf" in chosen and find_chromium() is None:
        out.print(f"[yellow]note:[/] {escape(NO_CHROMIUM)}", highlight=False)
        chosen = tuple(f for f in chosen if f != "pdf")
        if not chosen:
            raise fail("nothing to write: --format pdf needs Chromium; add html to get the page")
    return chosen


def _check_out(out_dir: Path, names: list[str]) -> None:
    """Before any work: ``--out`` takes files, and each workload has a folder of its own
    inside it (two files called ``x.toml`` would write into one)."""
    from pricing._charts.dashboard import dashboard_folder, dashboard_name

    check_output_dir("--out", out_dir)
    seen: dict[str, str] = {}
    for name in names:
        folder = dashboard_name(name)
        if folder in seen:
            raise fail(
                f"{seen[folder]!r} and {name!r} would both write {out_dir / folder}; build them "
                "with separate --out folders"
            )
        seen[folder] = name
        try:
            dashboard_folder(out_dir, folder)
        except PricingError as exc:
            raise fail(f"--out {out_dir}: {exc}") from None


def _export(
    board: Dashboard, out_dir: Path, formats: tuple[str, ...], done: list[Done]
) -> str | None:
    """Write ``board``'s files and note it in ``done`` (with no file when writing failed);
    why writing failed, or ``None``."""
    from pricing._charts.dashboard import export_dashboard

    try:
        files = export_dashboard(board, out_dir, formats)
    except (PricingError, ValueError, OSError) as exc:
        done.append((board, None, 0))
        reason = str(exc)
        if isinstance(exc, OSError) and exc.strerror:
            reason = exc.strerror + (f": {exc.filename}" if exc.filename else "")
        return (
            f"cannot write its files ({reason}); the folder was left as it was, no file half "
            "written"
        )
    folder = files[0].parent if files else out_dir
    done.append((board, folder / ("index.html" if "html" in formats else ""), len(files)))
    return None


def _print_done(done: list[Done]) -> None:
    """The headline of every dashboard built, then the files written."""
    for board, _, _ in done:
        _print_headline(board)
        print_conversions(list(board.conversions))
    written = [(board.name, path, n) for board, path, n in done if path is not None]
    if written:
        _print_written(written)


def _print_written(written: list[tuple[str, Path, int]]) -> None:
    """Per workload: the file to open and how many files were written."""
    table = Table(title="Written", title_justify="left")
    table.add_column("workload")
    table.add_column("open")
    table.add_column("files", justify="right")
    for name, path, count in written:
        table.add_row(name, escape(str(path)), str(count))
    show_table(table)


def _money(value: float, currency: str, places: int) -> str:
    """``$0.0400`` in USD, ``0.0370 EUR`` in another currency."""
    return f"${value:.{places}f}" if currency == "USD" else f"{value:.{places}f} {currency}"


def _print_headline(board: Dashboard) -> None:
    sim = board.simulation
    table = Table(
        title=f"{board.title} ({board.name}) · prices as of {sim.as_of} · {sim.currency}",
        title_justify="left",
    )
    for col in ("segment", "cheapest option", "grade", "first month", "horizon", "P(self cheaper)"):
        table.add_column(
            col, justify="right" if col not in ("segment", "cheapest option", "grade") else "left"
        )
    table.add_column("break-even [img/month]", justify="right")
    named = dict(board.labels.options(sim.options).iter_rows())
    for r in board.headline.iter_rows(named=True):
        p = r["p_self_hosting_cheaper"]
        be = r["break_even_images"]
        table.add_row(
            escape(str(r["segment"])),
            escape(str(named.get(r["option"], r["option"]))),
            r["grade"] or "-",
            "-" if r["first_month"] is None else f"{r['first_month']:,.0f}",
            "-" if r["horizon"] is None else f"{r['horizon']:,.0f}",
            "none evaluated" if r["no_self_hosting"] else ("-" if p is None else f"{p:.0%}"),
            "-" if be is None else f"{be:,.0f}",
        )
    show_table(table)
    out.print(f"[dim]prices: {escape(sim.evidence)}[/dim]", highlight=False)
    for segment, why in sim.no_self_hosting.iter_rows():
        out.print(
            f"[yellow]{escape(segment)}: no self-hosted option evaluated:[/] {escape(why)}",
            highlight=False,
        )
    if sim.leads.height:
        lead_names = dict(board.labels.options(sim.leads).iter_rows())
        leads = ", ".join(
            f"{lead_names.get(r['option'], r['offer_id'])} ({r['grade']}, "
            + (
                f"{_money(r['gpu_hour'], sim.currency, 2)}/GPU-h)"
                if r["gpu_hour"] is not None
                else f"{_money(r['cost_per_image'], sim.currency, 4)}/image)"
            )
            for r in sim.leads.unique(["offer_id"], maintain_order=True).iter_rows(named=True)
        )
        out.print(
            f"[yellow]unverified leads, excluded from these figures:[/] {escape(leads)}; "
            "the page lists each with its reason",
            highlight=False,
        )
    for note in board.notes:
        out.print(f"[dim]note: {escape(note)}[/dim]")

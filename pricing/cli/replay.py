"""``pricing replay``: price a usage log, re-price it elsewhere, reconcile it with the bill."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args

import polars as pl
import typer
from rich.markup import escape

from pricing._base.choices import ENGINES, Engine
from pricing._usage.focus_columns import Granularity
from pricing._usage.log import LOG_ALIASES, LOG_COLUMNS
from pricing.cli._common import (
    HELP_WIDTH,
    check_output,
    evidence_or_fail,
    fail,
    help_text,
    load_catalog_or_fail,
    pairs,
    print_json,
    progress_task,
    records,
    replay_label,
    write_atomically,
)
from pricing.cli._currency import converter_or_fail
from pricing.cli._options import (
    CurrencyOption,
    DataOption,
    EvidenceOption,
    FxOption,
    JsonOption,
    MaxFxAgeOption,
)
from pricing.cli._replay_tables import print_replay
from pricing.cli.quoting import offer_id
from pricing.errors import PricingError

if TYPE_CHECKING:
    from pricing._usage.replay import Replay


#: The charge periods of a FOCUS usage row: ``Granularity``'s, the one definition.
GRANULARITIES: tuple[Granularity, ...] = get_args(Granularity)
#: The same as the Enum typer needs to offer them as ``--focus-granularity``'s choices.
GranularityChoice = StrEnum("GranularityChoice", [(g, g) for g in GRANULARITIES])  # type: ignore[misc]
_DAY = GranularityChoice("day")
#: Where ``--engine`` prices: this machine, or a Ray cluster.
EngineChoice = StrEnum("EngineChoice", [(e, e) for e in ENGINES])  # type: ignore[misc]
_LOCAL = EngineChoice("local")


#: OpenAI's request names a log may use (``LOG_ALIASES``), as the help explains them.
_ALIASES_HELP = {
    "n": "OpenAI's name for count, read where there is no count column",
    "size": 'OpenAI\'s "WIDTHxHEIGHT", e.g. "1536x1024", read where there is no width or '
    'height column; "auto": the default size',
}


def _log_columns_help() -> str:
    rows = [*LOG_COLUMNS.items(), *((n, (False, _ALIASES_HELP[n])) for n in LOG_ALIASES)]
    width = max(len(name) for name, _ in rows)
    indent = " " * (2 + width + 2 + len("required") + 2)
    return "\n".join(
        textwrap.fill(
            escape(meaning),
            HELP_WIDTH,
            initial_indent=f"  {name:<{width}}  {'required' if required else 'optional'}  ",
            subsequent_indent=indent,
            break_on_hyphens=False,
        )
        for name, (required, meaning) in rows
    )


_HELP = f"""Replay a usage log: what it cost, what it would cost elsewhere, what was billed.

LOG is a CSV, Parquet or NDJSON file (.csv, .tsv, .csv.gz, .parquet, .ndjson, .jsonl), one row
per call, priced at each call's own timestamp. A CSV's field separator (comma, semicolon, tab or
|) is read from its header line; provider names are read in any case (BFL is bfl). Rows that
cannot be read go to the quarantine with their line number and reason (--quarantine writes
them); calls no price applies to are counted as unpriced, never as 0. Rows read = priced +
unpriced + quarantined.

Log columns (rename yours with --map yourname=column; an offer_id column can stand in for
provider and model):

{_log_columns_help()}

Other columns are not read; the report names them (with a did-you-mean hint), and says how
many calls were priced at a default size or count.

--currency EUR reports the costs, alternatives and totals in euros: each call at the ECB
reference rate of its own UTC day (a weekend takes Friday's), never a guessed rate; a call
whose day has no rate within --max-fx-age-days is unpriced with the reason. The rates used are
listed after the report. The reconciliation and the FOCUS file stay in the currency billed.

A directory of Parquet files is one log, Hive-partitioned (month=2026-03/part-0.parquet) or
not. --engine ray prices it on a Ray cluster (pip install 'pricing[ray]'), from this machine
or object storage (s3://bucket/usage/), to the cent as here; --address names the cluster.

Example: pricing replay usage.csv --month 2026-03 --map ts=timestamp --quarantine bad.csv
"""

#: The help of ``pricing replay``.
HELP = help_text(_HELP)

#: ``--fx`` without ``--currency``.
NO_CURRENCY = (
    "--fx gives exchange rates, but no --currency to convert into; add e.g. --currency EUR"
)

#: What the command writes besides its report: per output, its path and counts.
Outputs = dict[str, dict[str, object]]


def replay_cmd(
    log: Annotated[
        Path,
        typer.Argument(
            help="Usage log: .csv, .parquet or .ndjson, or a directory of Parquet files "
            "(with --engine ray, also a URL: s3://bucket/usage/)."
        ),
    ],
    against: Annotated[
        list[str] | None,
        typer.Option(
            "--against",
            help="Re-price every call on this offer, whatever its model (repeat for several). "
            "Default: every offer of the call's model.",
        ),
    ] = None,
    month: Annotated[
        str | None, typer.Option(help="Replay only this calendar month, YYYY-MM (UTC).")
    ] = None,
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="LOGCOL=COLUMN: read log column LOGCOL as a standard column (repeat)."
        ),
    ] = None,
    offer_map: Annotated[
        list[str] | None,
        typer.Option(
            "--offer-map",
            help="PROVIDER/MODEL=OFFER: the offer of a provider with several for one model.",
        ),
    ] = None,
    focus: Annotated[
        Path | None,
        typer.Option("--focus", help="Write the priced calls as a FOCUS 1.3 Parquet file."),
    ] = None,
    focus_granularity: Annotated[
        GranularityChoice,
        typer.Option("--focus-granularity", help="Charge period of a FOCUS usage row."),
    ] = _DAY,
    quarantine: Annotated[
        Path | None,
        typer.Option(
            "--quarantine", help="Write unreadable rows (line, reason, original columns) as CSV."
        ),
    ] = None,
    alternatives: Annotated[
        bool,
        typer.Option(
            "--alternatives/--no-alternatives",
            help="Re-price on alternative offers (skip for speed on very large logs).",
        ),
    ] = True,
    data: DataOption = None,
    evidence: EvidenceOption = None,
    currency: CurrencyOption = None,
    fx: FxOption = None,
    max_fx_age_days: MaxFxAgeOption = 7,
    as_json: JsonOption = False,
    engine: Annotated[
        EngineChoice,
        typer.Option(
            "--engine",
            help="local: this machine, streaming; ray: a Ray cluster (pip install "
            "'pricing[ray]'), for Parquet logs in object storage.",
        ),
    ] = _LOCAL,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="With --engine ray: the cluster, e.g. ray://head:10001 (default: RAY_ADDRESS, "
            "a cluster started with `ray start` here, else a local one for the run).",
        ),
    ] = None,
) -> None:
    """Replay a usage log (help: :data:`HELP`)."""
    mapping = pairs(column_map, "--map", "LOGCOL=COLUMN", "ts=timestamp")
    offers = _offer_map(offer_map)
    _check_outputs(log, focus, quarantine)
    if address is not None and engine.value != "ray":
        raise fail("--address names a Ray cluster: add --engine ray")
    policy = evidence_or_fail(evidence)
    converter = None
    if currency is not None:  # usage happened on its day: its rate is known, never planned
        converter = converter_or_fail(currency, fx, max_fx_age_days, data=data, planning=False)
    elif fx:
        raise fail(NO_CURRENCY)
    cat = load_catalog_or_fail(data)
    from pricing._usage.replay import replay

    try:
        with progress_task("reading the log", describe=replay_label, counts=True) as bar:
            result = replay(
                _log_source(log),
                against=[offer_id(a) for a in against] if against else None,
                month=month,
                mapping=mapping or None,
                offer_map=offers or None,
                catalog=cat,
                alternatives=alternatives,
                progress=bar,
                focus=None if focus is None else _granularity(focus_granularity.value),
                evidence=policy,
                fx=converter,
                engine=_engine(engine.value),
                address=address,
            )
    except PricingError as exc:
        raise fail(str(exc)) from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"cannot read {log}: {first}. Check that it is a valid log file.") from exc
    except ValueError as exc:
        raise fail(str(exc)) from exc

    outputs, files = _planned_outputs(result, focus, quarantine, focus_granularity.value)
    error = _write(files)
    if error is not None:
        outputs = {}  # nothing was written
    if as_json:
        payload = _replay_json(result, log, month, outputs)
        print_json(payload if error is None else {**payload, "output_error": error})
    else:
        print_replay(result, log, month, outputs, alternatives)
    if error is not None:  # after the report: the work is never lost to a failed write
        raise fail(error)


def _offer_map(items: list[str] | None) -> dict[str, str]:
    """``--offer-map`` as ``{"provider/model": offer id}``; a clean exit on a bad key."""
    shape, example = "PROVIDER/MODEL=OFFER", "acme/m=acme/m-fast"
    offers = {
        offer_id(k): offer_id(v) for k, v in pairs(items, "--offer-map", shape, example).items()
    }
    for key in offers:
        if "/" not in key:
            raise fail(
                f"--offer-map key {key!r} must be PROVIDER/MODEL, e.g. --offer-map bfl/flux-2-pro="
                "bfl/flux-2-pro"
            )
    return offers


def _planned_outputs(
    result: Replay, focus: Path | None, quarantine: Path | None, granularity: str
) -> tuple[Outputs, list[tuple[Path, Callable[[Path], None]]]]:
    """What the command writes besides its report, and how to write each file."""
    outputs: Outputs = {}
    files: list[tuple[Path, Callable[[Path], None]]] = []
    if quarantine is not None:
        frame = result.quarantine
        files.append((quarantine, lambda tmp: frame.write_csv(tmp)))
        outputs["quarantine"] = {"path": str(quarantine), "rows": frame.height}
    if focus is not None and result.focus is not None:
        dataset = result.focus
        files.append((focus, lambda tmp: dataset.write_parquet(tmp)))
        outputs["focus"] = _focus_output(result, focus, dataset, granularity)
    return outputs, files


def _write(files: list[tuple[Path, Callable[[Path], None]]]) -> str | None:
    """Write ``files`` all or none; why they could not be, or ``None``."""
    try:
        write_atomically(files)
    except (OSError, pl.exceptions.PolarsError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"cannot write the output files: {first}; no partial file was left (the report above "
            "is complete: free the space or fix the path, then run again)"
        )
    return None


def _check_outputs(log: Path, focus: Path | None, quarantine: Path | None) -> None:
    if focus is not None:
        check_output("--focus", focus, log)
    if quarantine is not None:
        check_output("--quarantine", quarantine, log)
        if focus is not None and focus.resolve() == quarantine.resolve():
            raise fail("--focus and --quarantine name the same file; give two different files")


def _log_source(log: Path) -> str | Path:
    """The log as typed: typer hands it over as a Path, which folds a URL's ``//``
    (``s3://bucket/usage/`` arrives as ``s3:/bucket/usage``)."""
    url = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]+):/+(.*)", str(log))
    return f"{url[1]}://{url[2]}" if url else log


def _engine(choice: str) -> Engine:
    """The ``--engine`` chosen (one of :data:`ENGINES`: typer checks)."""
    for engine in ENGINES:
        if choice == engine:
            return engine
    raise fail(f"unknown --engine {choice!r}")  # pragma: no cover - typer checks


def _granularity(choice: str) -> Granularity:
    """The ``--focus-granularity`` chosen (one of :data:`GRANULARITIES`: typer checks)."""
    for granularity in GRANULARITIES:
        if choice == granularity:
            return granularity
    raise fail(f"unknown --focus-granularity {choice!r}")  # pragma: no cover - typer checks


def _focus_output(
    result: Replay, focus: Path, dataset: pl.DataFrame, granularity: str
) -> dict[str, object]:
    """What the FOCUS file holds: its rows, the unpriced calls it leaves out, its totals."""
    focus_totals = {
        r["BillingCurrency"]: r["BilledCost"]
        for r in dataset.group_by("BillingCurrency")
        .agg(pl.col("BilledCost").sum())
        .iter_rows(named=True)
    }
    return {
        "path": str(focus),
        "rows": dataset.height,
        "granularity": granularity,
        # FOCUS is in the currency billed: calls unpriced only for want of an exchange rate
        # have their billed price there
        "excluded_unpriced": result.rows_unpriced - result.rows_unpriced_fx,
        "billed_cost": {k: str(v) for k, v in sorted(focus_totals.items())},
    }


def _replay_json(
    result: Replay,
    log: Path,
    month: str | None,
    outputs: Outputs,
) -> dict[str, object]:
    return {
        "log": result.source,  # a URL as typed, not as a Path folds it
        "month": month,
        "rows_read": result.rows_read,
        "rows_priced": result.rows_priced,
        "rows_unpriced": result.rows_unpriced,
        "rows_quarantined": result.rows_quarantined,
        "months": list(result.months),
        "totals": {str(k): str(v) for k, v in result.totals().items()},
        "costs": records(result.costs_shown()),
        "alternatives": records(result.alternatives),
        "evidence": result.evidence,
        "leads": records(result.leads),
        "reconciliation": None if result.reconciliation is None else records(result.reconciliation),
        "unpriced": records(result.unpriced),
        "quarantine_counts": records(result.quarantine_counts),
        "unknown_columns": result.unknown_columns,
        "rows_default_size": result.rows_default_size,
        "rows_default_count": result.rows_default_count,
        "notes": list(result.notes),
        "outputs": outputs,
        "currency": result.currency,
        "fx": [c.as_dict() for c in result.conversions],
    }

"""The floor of the ``pricing`` CLI: consoles, errors and helpers of every command.

Imports nothing of :mod:`pricing.cli` but the table printer, and no typer (the options typer
declares are in :mod:`pricing.cli._options`), so that the quick commands can run without it;
every command module may import it.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Table

from pricing._base.atomic import blocking_file, unwritable
from pricing._base.money import LEDGER_PLACES
from pricing._cards.cache import load_catalog
from pricing._cards.catalog import Catalog
from pricing._evidence.grades import TrustPolicy
from pricing.cli._fast_table import cell_width, print_fast
from pricing.errors import PricingError, RateCardError

LEDGER_STEP = Decimal(1).scaleb(-LEDGER_PLACES)

if TYPE_CHECKING:
    import polars as pl
    from rich.progress import Progress

    from pricing._dataset import DataSet


class WideConsole(Console):
    """A console whose width is read each time it prints: ``COLUMNS`` when set (a narrow
    terminal, a test), else the terminal's, else 160 (a file or a pipe)."""

    @property  # type: ignore[misc]  # read only: the width follows COLUMNS
    def size(self) -> ConsoleDimensions:
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            return ConsoleDimensions(int(columns), super().size.height)
        if self.is_terminal:
            return super().size
        return ConsoleDimensions(160, super().size.height)


#: The consoles of every command. No emoji codes: text from the data (offer ids, notes, source
#: titles) is printed as written, never with ``:cd:`` turned into a picture.
out = WideConsole(emoji=False)
err = WideConsole(stderr=True, emoji=False)


def evidence_or_fail(text: str | None) -> TrustPolicy:
    """The trust policy ``--evidence`` names, or a clean exit saying what is known."""
    try:
        return TrustPolicy.parse(text)
    except PricingError as exc:
        raise fail(str(exc)) from exc


#: Widest line of a help text's table: rich keeps a table's line breaks, so a longer line
#: would wrap to the left margin in an 80-column terminal.
HELP_WIDTH = 78

_CENT = Decimal("0.01")


def help_text(text: str) -> str:
    """``text`` with each prose paragraph on one line, for rich to wrap to the terminal.

    Typer keeps the line breaks of a command's help, so a paragraph wrapped in the source
    would be wrapped twice in a narrow terminal. Indented lines (tables, examples) are kept.
    """
    paragraphs = text.strip("\n").split("\n\n")
    return "\n\n".join(
        p if p.startswith(" ") else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


# --------------------------------------------------------------------------- errors, input


#: The Python API's advice in engine messages, and what a command line user types instead.
CLI_WORDS: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r'mapping=\{"your_name": "timestamp", \.\.\.\}', "--map YOURNAME=timestamp"),
    (r", or mapping=\{[^}]*\}\)|^hosting terms: ", lambda m: ")" if m[0][0] == "," else ""),
    (r'offer_map=\{"([^"]+)": "<offer id>"\}', r"--offer-map \1=OFFER"),
    (r"^mapping (names|targets|would)", r"--map \1"),
    (r"hosting=HostingTerms\(licence_per_month=.*\(command line: ([^)]*)\)", r"\1"),
    (r"evidence='all' \(command line: --evidence all\)", "--evidence all"),
    (r"\b(gpu_hour|source)=\.\.\.", lambda m: f"--{m[1].replace('_', '-')} ..."),
    (r"\bmax_age_days(=?)", lambda m: "--max-fx-age-days" + (" " if m[1] else "")),
    (
        r"\b(offer_map|max_utilisation|peak_to_mean|as_of|p95_latency_s)\b",
        lambda m: "--" + m[1].replace("_", "-").removesuffix("-latency-s"),
    ),
    (r"\bpass quality=", "pass --quality"),
]


def cli_words(text: str) -> str:
    """``text`` with the Python API's advice (``mapping={...}``, ``gpu_hour=...``) said as
    the command line's options (``--map``, ``--gpu-hour``)."""
    for pattern, words in CLI_WORDS:
        text = re.sub(pattern, words, text)
    return text


class Stopped(BaseException):
    """A stop signal (SIGINT, SIGTERM), raised where the main thread is by the tree's handler
    (:func:`pricing.cli.tree.signals_stop_the_work`): not an ``Exception``, so that nothing
    catches it by accident, and every ``finally`` block and context manager runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: The stop signals received while the command runs (the tree's handler adds them).
RECEIVED: list[int] = []


def stop_received() -> None:
    """Raise :class:`Stopped` again if a stop signal came during the work. A library may turn
    the exception into an error of its own (polars makes one raised inside its Rust code a
    panic, then "cannot read the Parquet file"): after a stop, any error is the stop's echo,
    so the command ends as stopped, never with a misleading complaint about its input."""
    if RECEIVED:
        raise Stopped(RECEIVED[0])


def fail(message: str, code: int = 2) -> SystemExit:
    """Print ``message`` on stderr in command line words; the ``SystemExit`` to raise (or,
    after a stop signal, :class:`Stopped`: see :func:`stop_received`)."""
    stop_received()
    err.print(f"[bold red]error:[/] {escape(cli_words(message))}", highlight=False, soft_wrap=True)
    return SystemExit(code)


def print_table(table: Table, drop: Collection[str] = (), least: int = 8) -> None:
    """Print ``table`` narrowed to the width of :data:`out`: empty columns go, then those headed
    ``drop`` in their order, until every ``no_wrap`` column (money, ids) fits whole beside
    ``least`` characters of each other column (which wrap); a line names those left out."""
    gone: list[str] = []
    blank = [str(c.header) for c in table.columns if not any(str(x).strip() for x in c.cells)]
    for name in [None, *blank, *drop]:
        if name is not None and (left := [c for c in table.columns if c.header == name]):
            table.columns = [c for c in table.columns if c.header != name]
            gone += [name] if any(str(c).strip() for c in left[0].cells) else []
        need, width = len(table.columns) * 3 + 1, out.width  # padding and rules
        for i, column in enumerate(table.columns):
            column._index, column.overflow = i, column.overflow if column.no_wrap else "fold"
            cells = (column.header, *column.cells)
            longest = max(cell_width(out, c, width) for c in cells)
            need += longest if column.no_wrap else min(longest, least)
        if need <= width:
            break
    show_table(table)
    if gone:
        out.print(
            f"[dim]  not shown at this width: {', '.join(gone)} (see --json)[/]", highlight=False
        )


def show_table(table: Table) -> None:
    """Print ``table`` on :data:`out`, by the fast path of :mod:`pricing.cli._fast_table` when
    the table allows it (the same bytes, in a fraction of the time), else by rich."""
    if not print_fast(out, table):
        out.print(table)


def load_catalog_or_fail(data: Path | None) -> Catalog:
    """The catalog of ``data``, or exit 2 pointing at ``pricing cards validate``."""
    try:
        return load_catalog(data)
    except RateCardError as exc:
        raise fail(f"{exc}\nRun `pricing cards validate` for the full list.") from exc


def load_data_or_fail(data: Path | None) -> DataSet:
    """Every data file of ``data`` (default: the bundled data/), or exit 2 saying what is wrong."""
    from pricing._dataset import load_data_set

    try:
        return load_data_set(data)
    except RateCardError as exc:
        raise fail(f"{exc}\nRun `pricing cards validate` for the full list.") from exc
    except PricingError as exc:
        raise fail(str(exc)) from exc


def pairs(values: list[str] | None, option: str, shape: str, example: str) -> dict[str, str]:
    """``KEY=VALUE`` options as a dict, failing clearly on a malformed or repeated key."""
    found: dict[str, str] = {}
    for value in values or []:
        key, sep, target = (part.strip() for part in value.partition("="))
        if not sep or not key or not target:
            raise fail(f"{option} {value!r} must look like {shape}, e.g. {option} {example}")
        if found.get(key, target) != target:
            raise fail(f"{option} maps {key!r} twice ({found[key]!r} and {target!r}); keep one")
        found[key] = target
    return found


# --------------------------------------------------------------------------- output


def money(value: Decimal | None, places: int = 4) -> str:
    """``value`` with thousands separators and ``places`` decimals; "-" for none."""
    if value is None:
        return "-"
    return f"{value:,.{places}f}"


def amount(value: Decimal | None, currency: str | None) -> str:
    """Money for people: "USD 1,234.56" (rounded half up; --json has the exact value).

    An amount that would round to 0.00 but is not zero keeps two significant digits
    ("USD 0.0040", "USD -0.00070"), so that a cost or a saving never reads as nothing.
    """
    if value is None:
        return "-"
    places = _CENT
    if value and abs(value) < _CENT / 2:
        places = Decimal(1).scaleb(value.adjusted() - 1)
    rounded = value.quantize(places, rounding=ROUND_HALF_UP)
    text = f"{abs(rounded) if rounded == 0 else rounded:,f}"
    return f"{currency} {text}" if currency else text


def percent(value: float | None) -> str:
    """A signed percentage with one decimal, "+12.5%"; "-" for none."""
    if value is None:
        return "-"
    return f"{Decimal(repr(value)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):+}%"


def print_json(payload: object) -> None:
    """``payload`` as indented JSON on stdout (values JSON does not know as strings)."""
    import json  # here: a table needs no JSON

    print(json.dumps(payload, indent=2, default=str))


def _jsonable(key: str, value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if key == "month" and isinstance(value, date):
        return value.strftime("%Y-%m")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def money_text(value: float | Decimal | None) -> str | None:
    """Money for ``--json``: an exact decimal string at ledger scale, without float noise.

    Floats (simulations, break-evens) are read at their shortest exact repr and kept to
    ``LEDGER_PLACES`` places (``1963.6999999999998`` -> ``"1963.7"``); ``None`` and non-finite
    values (never money) become ``None``.
    """
    if value is None:
        return None
    exact = Decimal(repr(value)) if isinstance(value, float) else value
    if not exact.is_finite():
        return None
    return format(exact.quantize(LEDGER_STEP).normalize(), "f")


def records(frame: pl.DataFrame, money: Collection[str] = ()) -> list[dict[str, object]]:
    """The rows of ``frame`` as JSON-ready dicts (decimals as strings, months as YYYY-MM);
    the ``money`` columns as exact decimal strings (:func:`money_text`)."""
    return [
        {k: money_text(v) if k in money else _jsonable(k, v) for k, v in r.items()}
        for r in frame.iter_rows(named=True)
    ]


# --------------------------------------------------------------------------- output files


def check_output(option: str, path: Path, log: Path) -> None:
    """Fail unless ``path`` can be written: its folder exists and takes a probe file, and it is
    neither a folder nor the ``log`` being read. Checked before the work, so that no long
    computation ends on a path that cannot be written."""
    folder = path.parent
    blocker = blocking_file(folder)
    if blocker is not None:
        raise fail(
            f"{option} {path}: {blocker} is a file, not a directory; give a path in a folder"
        )
    if not folder.is_dir():
        raise fail(f"{option} {path}: directory {folder} does not exist; create it first")
    if path.is_dir():
        raise fail(f"{option} {path} is a directory; give a file name inside it")
    if path.exists() and log.exists() and path.resolve() == log.resolve():
        raise fail(f"{option} {path} would overwrite the log itself; choose another file")
    why = unwritable(folder)
    if why is not None:
        raise fail(
            f"{option} {path}: cannot write in {folder} ({why}); choose a folder you can write "
            "to, or change its permissions"
        )


def check_output_dir(option: str, folder: Path) -> None:
    """Fail unless ``folder`` is a directory that takes files: created when missing, then
    probed with a file. Checked before the work starts."""
    blocker = blocking_file(folder)
    if blocker is not None:
        what = "is a file" if blocker == folder else f"cannot be created: {blocker} is a file"
        raise fail(f"{option} {folder} {what}; give a directory (it is created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(
            f"{option} {folder}: cannot create the directory ({exc.strerror or exc}); choose a "
            "folder you can write to"
        ) from None
    why = unwritable(folder)
    if why is not None:
        raise fail(
            f"{option} {folder}: cannot write in it ({why}); choose a folder you can write to, "
            "or change its permissions"
        )


def write_atomically(files: list[tuple[Path, Callable[[Path], None]]]) -> None:
    """Write every file to a temporary name beside it, then rename them all into place.

    Nothing is renamed unless every write succeeded, and temporary files never survive.
    """
    import uuid  # here: uuid imports platform, a cost every quick command would pay

    staged: list[tuple[Path, Path]] = []
    try:
        for path, write in files:
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
            staged.append((tmp, path))
            write(tmp)
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- progress


def progress_bar(*, spinner: bool = True, counts: bool = False) -> Progress:
    """A progress bar on stderr, shown only on a terminal and erased when done, so that
    stdout stays clean for --json; ``counts`` shows done / total."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        *([SpinnerColumn()] if spinner else []),
        TextColumn("{task.description}"),
        BarColumn(),
        *([MofNCompleteColumn()] if counts else []),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


class ProgressBar:
    """A bar on stderr fed by the package's one progress protocol, ``progress(done, total, label)``.

    ``describe`` turns a label into the text shown (default: the label itself); ``total = 0``
    means the total is not known yet.
    """

    def __init__(
        self, progress: Progress, first: str, describe: Callable[[str], str] | None = None
    ) -> None:
        self.progress = progress
        self.describe = describe
        self.task = progress.add_task(first, total=None)

    def __call__(self, done: int, total: int, label: str) -> None:
        text = self.describe(label) if self.describe is not None else label
        self.progress.update(self.task, description=text, completed=done, total=total or None)


@contextmanager
def progress_task(
    first: str,
    *,
    describe: Callable[[str], str] | None = None,
    spinner: bool = True,
    counts: bool = False,
) -> Iterator[ProgressBar]:
    """A :class:`ProgressBar` that starts as ``first``, for the time of the ``with`` block."""
    with progress_bar(spinner=spinner, counts=counts) as progress:
        yield ProgressBar(progress, first, describe)


def replay_label(label: str) -> str:
    """What a replay is doing, from its progress label (``rows`` or a month)."""
    return "pricing calls" if label == "rows" else f"pricing month {label}"


def source_date(published: date | None, seen: date | None = None) -> str:
    """The date a source shows ("2026-01-28"), or that it shows none: "undated", with the day
    it was read when ``seen`` is given ("undated, read 2026-11-15")."""
    if published is not None:
        return published.isoformat()
    return "undated" if seen is None else f"undated, read {seen.isoformat()}"

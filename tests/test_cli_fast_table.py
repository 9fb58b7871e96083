"""The fast table printer prints exactly what rich prints, or nothing.

rich itself is the reference: random tables are printed both ways on random consoles (plain
and coloured, terminal or not, recording, soft wrapping) and the bytes, the recorded exports
and the segments must be the same whenever the fast path accepts a table; when it declines it
must have printed nothing. Many tables are too wide for their console, so that rich shrinks
their columns and wraps their long cells. Tables of plain cells are built on purpose, on
consoles of any width, so that the test cannot pass by always declining.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from rich import box
from rich.console import Console, ConsoleDimensions
from rich.errors import MarkupError
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from pricing.cli._fast_table import cell_width, fast_segments, print_fast

ALPHABET = " 0123456789$,.-—éabcxyzAZ漢字:%/()"
BOXES = [box.HEAVY_HEAD, box.SIMPLE, box.ROUNDED, box.MINIMAL, box.ASCII, None]
JUSTIFY = ["left", "center", "right"]
STYLES = [None, "", "bold", "dim cyan", "on red", "italic magenta on white", "table.header"]

words = st.text(alphabet=ALPHABET, max_size=8)
markup_pieces = st.one_of(
    words,
    words.map(lambda s: f"[dim]{escape(s)}[/]"),
    words.map(lambda s: f"[bold]{escape(s)}[/bold]"),
    words.map(lambda s: f"[red on blue]{escape(s)}[/]"),
    st.text(alphabet="ab []\\/:", max_size=8).map(lambda s: escape(s) + " "),
    st.sampled_from([":smile:", ":thumbs_up:", "a:b", "[1]", "[dim][/dim]"]),
)
cells = st.lists(markup_pieces, max_size=3).map("".join)
#: Cells some of which the fast path declines: links, bad markup, tabs, line breaks.
odd_cells = st.one_of(
    cells,
    st.sampled_from(["[link=https://x.org]y[/]", "[/]", "a[", "tab\there", "two\nlines"]),
)
#: Cells that rich renders on one short line: the tables that must take the fast path.
short_cells = st.text(alphabet=ALPHABET.replace(":", ""), max_size=8)
#: Long cells, as the ``sources`` of ``cards list``: words and lists, with long words too.
long_cells = st.lists(
    st.one_of(short_cells, st.text(alphabet="abcxyz漢-/.", min_size=9, max_size=30)),
    min_size=2,
    max_size=8,
).flatmap(lambda words: st.sampled_from([", ", " ", ",", "  "]).map(lambda sep: sep.join(words)))
#: Plain cells, short and long: the fast path takes every table of them.
plain_cells = st.one_of(short_cells, short_cells, long_cells)


@dataclass
class Spec:
    """A random table and the console to print it on."""

    headers: list[str]
    rows: list[list[str]]
    justify: list[str]
    table: dict[str, Any] = field(default_factory=dict)
    column: dict[str, Any] = field(default_factory=dict)
    console: dict[str, Any] = field(default_factory=dict)


def make_table(spec: Spec) -> Table:
    table = Table(**spec.table)
    for header, justify in zip(spec.headers, spec.justify, strict=True):
        table.add_column(header, justify=justify, **spec.column)  # type: ignore[arg-type]
    for row in spec.rows:
        table.add_row(*row)
    return table


def make_console(spec: Spec) -> Console:
    return Console(file=io.StringIO(), legacy_windows=False, **spec.console)


@st.composite
def specs(draw: st.DrawFn, cell: st.SearchStrategy[str] | None = None, wide: bool = False) -> Spec:
    if cell is None:
        long = st.one_of(cells, long_cells, long_cells.map(escape))
        cell = draw(st.sampled_from([cells, long, long, odd_cells]))
    n_columns = draw(st.integers(1, 4 if wide else 6))
    n_rows = draw(st.integers(0, 30 if cell in (cells, short_cells) else 12))
    row = st.lists(cell, min_size=n_columns, max_size=n_columns)
    optional_text = st.one_of(st.none(), st.just(""), cell)
    table = {
        "title": draw(optional_text),
        "caption": draw(optional_text),
        "title_justify": draw(st.sampled_from([*JUSTIFY, "full"])),
        "caption_justify": draw(st.sampled_from(JUSTIFY)),
        "show_header": draw(st.booleans()),
        "show_edge": draw(st.booleans()),
        "box": draw(st.sampled_from(BOXES)),
        "highlight": draw(st.booleans()),
        "border_style": draw(st.sampled_from(STYLES)),
        "title_style": draw(st.sampled_from(STYLES)),
        "header_style": draw(st.sampled_from([*STYLES, "table.header"])),
        "style": draw(st.sampled_from(["none", "on black", "green"])),
    }
    column = {
        "style": draw(st.sampled_from(STYLES)),
        "header_style": draw(st.sampled_from(STYLES)),
        "no_wrap": draw(st.booleans()),
        "overflow": draw(st.sampled_from(["fold", "crop", "ellipsis"])),
        "vertical": draw(st.sampled_from(["top", "top", "middle", "bottom"])),
    }
    console = {
        "width": 200 if wide else draw(st.one_of(st.integers(20, 120), st.integers(20, 200))),
        "force_terminal": draw(st.booleans()),
        "color_system": draw(st.sampled_from([None, "standard", "256", "truecolor"])),
        "record": draw(st.booleans()),
        "soft_wrap": draw(st.booleans()),
        "markup": wide or draw(st.booleans()),
        "emoji": draw(st.booleans()),
        "no_color": draw(st.booleans()),
    }
    return Spec(
        headers=draw(st.lists(cell, min_size=n_columns, max_size=n_columns)),
        rows=draw(st.lists(row, min_size=n_rows, max_size=n_rows)),
        justify=draw(st.lists(st.sampled_from(JUSTIFY), min_size=n_columns, max_size=n_columns)),
        table=table,
        column=column,
        console=console,
    )


def both_ways(spec: Spec) -> tuple[bool, Console, Console]:
    """Print the table of ``spec`` fast and, when the fast path took it, with rich, each on a
    fresh console (rich may raise on bad markup, which the fast path declines)."""
    fast, slow = make_console(spec), make_console(spec)
    done = print_fast(fast, make_table(spec))
    if done:
        slow.print(make_table(spec))
    return done, fast, slow


def assert_same(fast: Console, slow: Console) -> None:
    assert isinstance(fast.file, io.StringIO)
    assert isinstance(slow.file, io.StringIO)
    assert fast.file.getvalue() == slow.file.getvalue()
    if fast.record:
        assert fast.export_text(styles=True) == slow.export_text(styles=True)
        assert fast.export_html() == slow.export_html()


@settings(max_examples=200, deadline=None)
@given(specs())
def test_the_fast_path_prints_what_rich_prints_or_nothing(spec: Spec) -> None:
    done, fast, slow = both_ways(spec)
    event("fast path" if done else "declined")
    if done:
        assert_same(fast, slow)
        table = make_table(spec)
        assert fast_segments(fast, table) == list(slow.render(table))
    else:
        assert isinstance(fast.file, io.StringIO)
        assert fast.file.getvalue() == ""


@settings(max_examples=100, deadline=None)
@given(specs(cell=short_cells, wide=True))
def test_short_tables_on_a_wide_console_take_the_fast_path(spec: Spec) -> None:
    spec.headers = [header or "h" for header in spec.headers]  # no empty column
    spec.table["show_header"] = True
    done, fast, slow = both_ways(spec)
    assert done
    assert_same(fast, slow)


@settings(max_examples=200, deadline=None)
@given(specs(cell=plain_cells), st.integers(20, 120))
def test_tables_of_plain_cells_take_the_fast_path_at_any_width(spec: Spec, width: int) -> None:
    spec.headers = [header or "h" for header in spec.headers]  # no empty column
    spec.table["show_header"] = True
    spec.console["width"] = width
    done, fast, slow = both_ways(spec)
    event("wraps" if natural_width(slow, make_table(spec)) > width else "fits")
    assert done
    assert_same(fast, slow)
    table = make_table(spec)
    assert fast_segments(fast, table) == list(slow.render(table))


@settings(max_examples=200, deadline=None)
@given(
    cell=st.one_of(cells, st.text(max_size=20), st.text(alphabet="ab \n\t\r\x1b:", max_size=8)),
    width=st.integers(1, 60),
    markup=st.booleans(),
    emoji=st.booleans(),
)
def test_cell_width_is_what_rich_measures(cell: str, width: int, markup: bool, emoji: bool) -> None:
    console = Console(file=io.StringIO(), width=width, markup=markup, emoji=emoji)
    try:
        expected = Measurement.get(console, console.options, cell).maximum
    except MarkupError:  # bad markup: the fast measure raises the same
        with pytest.raises(MarkupError):
            cell_width(console, cell)
        return
    assert cell_width(console, cell) == expected
    assert cell_width(console, cell, max_width=width) == expected


def test_cell_width_measures_other_renderables_through_rich() -> None:
    console = Console(file=io.StringIO(), width=80)
    assert cell_width(console, Text("ab\ncdef")) == 4
    assert cell_width(console, "x" * 100) == 80
    assert cell_width(console, "漢字") == 4


class NarrowingConsole(Console):
    """A console that is 80 cells wide when first asked, then 12: as a terminal narrowed
    between the fast path's measuring and its printing."""

    asked = 0

    @property  # type: ignore[misc]  # read only, as in pricing.cli._common.WideConsole
    def size(self) -> ConsoleDimensions:
        self.asked += 1
        return ConsoleDimensions(80 if self.asked == 1 else 12, 25)


def plain_table(**kwargs: Any) -> Table:
    table = Table(**kwargs)
    table.add_column("name")
    table.add_column("price", justify="right")
    table.add_row("flux", "$0.04")
    table.add_row("imagen", "$0.03")
    return table


def declines(table: Table, width: int = 80) -> bool:
    console = Console(file=io.StringIO(), width=width)
    done = print_fast(console, table)
    assert isinstance(console.file, io.StringIO)
    return not done and console.file.getvalue() == ""


def test_a_plain_table_takes_the_fast_path() -> None:
    console = Console(file=io.StringIO(), width=80)
    assert print_fast(console, plain_table(title="prices"))


def same_both_ways(table: Table, width: int, **console: Any) -> bool:
    """Whether the fast path takes ``table`` on ``width`` cells and prints what rich prints."""
    spec = Spec([], [], [], console={"width": width, **console})
    fast, slow = make_console(spec), make_console(spec)
    done = print_fast(fast, table)
    slow.print(table)
    assert_same(fast, slow)
    return done and fast_segments(fast, table) == list(slow.render(table))


def test_a_table_that_does_not_fit_is_shrunk_and_wrapped_as_rich_does_it() -> None:
    for width in range(1, 19):  # 8 + 7 + 3 borders: fits on 18
        assert same_both_ways(plain_table(title="prices"), width)
    table = plain_table()
    table.add_row("a long name, with words", "$1,234.56789")
    for width in (12, 20, 30):
        assert same_both_ways(table, width, force_terminal=True)


def test_rows_of_several_lines_align_their_cells_as_rich_does() -> None:
    for vertical in ("top", "middle", "bottom"):
        for no_wrap in (False, True):
            table = Table(title="aligned", caption="cap")
            table.add_column("a header that wraps", vertical=vertical)
            table.add_column("b", justify="center", vertical=vertical)
            table.add_column("c", justify="right", no_wrap=no_wrap, overflow="ellipsis")
            table.add_row("one two three four five six", "x", "seven eight nine")
            table.add_row("[bold]marked up[/] cell that wraps", "y y y y y y y", "z")
            for width in (16, 24, 40):
                assert same_both_ways(table, width, force_terminal=True)


def test_the_table_is_laid_out_on_the_width_the_console_prints_with() -> None:
    # The fast path asks the console's size as rich does: only when it prints.
    fast, slow = NarrowingConsole(file=io.StringIO()), NarrowingConsole(file=io.StringIO())
    assert print_fast(fast, plain_table(title="prices"))
    slow.print(plain_table(title="prices"))
    assert_same(fast, slow)
    narrowed = NarrowingConsole(file=io.StringIO())
    narrowed.asked = 1  # narrowed before printing
    assert print_fast(narrowed, plain_table(title="prices"))
    reference = Console(file=io.StringIO(), width=12)
    reference.print(plain_table(title="prices"))  # printed on 12: rich wraps the table
    assert_same(narrowed, reference)


def test_a_cell_with_a_newline_declines() -> None:
    table = plain_table()
    table.add_row("two\nlines", "$1")
    assert declines(table)


def test_tables_with_features_rich_lays_out_itself_decline() -> None:
    assert declines(plain_table(show_footer=True))
    assert declines(plain_table(row_styles=["dim", ""]))
    assert declines(plain_table(show_lines=True))
    assert declines(plain_table(expand=True))
    assert declines(plain_table(width=40))
    assert declines(plain_table(padding=(0, 2)))
    assert declines(plain_table(leading=1))
    sectioned = plain_table()
    sectioned.add_section()
    assert declines(sectioned)
    styled_row = plain_table()
    styled_row.add_row("a", "b", style="red")
    assert declines(styled_row)
    fixed = plain_table()
    fixed.columns[0].width = 10
    assert declines(fixed)
    rich_cell = plain_table()
    rich_cell.add_row(Text("a"), "b")
    assert declines(rich_cell)
    assert declines(Table())
    assert declines(Table("a", show_header=False))


def cards_table(columns: int = 5) -> Table:
    """The table of ``pricing cards list``, built as pricing/cli/listing.py builds it."""
    from pricing._cards.cache import load_catalog

    cat = load_catalog(None)
    offers = cat.offers()
    table = Table(title=f"{len(offers)} offers")
    for col in ("offer", "model", "operations", "versions", "sources")[:columns]:
        table.add_column(col)
    for o in offers:
        row = (
            escape(o.id),
            escape(o.model),
            ", ".join(o.operations),
            str(len(o.versions)),
            ", ".join(sorted({v.source for v in o.versions})),
        )
        table.add_row(*row[:columns])
    return table


def natural_width(console: Console, table: Table) -> int:
    """The width the table takes unshrunk, measured cell by cell as a caller would."""
    widths = [
        max(cell_width(console, cell) for cell in [column.header, *column.cells]) + 2
        for column in table.columns
    ]
    return sum(widths) + len(widths) + 1


@pytest.mark.parametrize("color", [False, True])
def test_the_cards_table_takes_the_fast_path_and_prints_the_same(color: bool) -> None:
    table = cards_table()
    natural = natural_width(Console(file=io.StringIO()), table)
    assert natural > 200  # a few long ``sources`` cells: rich wraps them at usual widths
    for width in (natural, 160, 120, 80):
        assert same_both_ways(table, width, force_terminal=color)
    assert same_both_ways(cards_table(4), 160, force_terminal=color)  # fits: nothing wraps

"""A fast path for printing simple rich tables, with the same bytes as ``console.print(table)``.

rich lays a table out by measuring every cell through ``Padding`` and ``Measurement`` and
rendering each one through ``render_lines`` and ``Text.wrap``: about 70 ms for the 169 rows
of ``cards list``. When every cell is a one-line string, a column's natural width is
arithmetic (its widest text plus its padding); a table too wide for the console is shrunk by
rich's own rules (``Table._collapse_widths``, then ``ratio_reduce``), and only the cells longer
than their column are wrapped, by rich's ``Text.wrap``. :func:`print_fast` then builds the
segments rich would build and prints them through the console, so colour, ``NO_COLOR``,
recording and files behave as they do for rich. Cells with markup spans are rendered by rich,
one by one, which is cheap; only the table's own measuring and layout is skipped. Any other
table (footers, row styles, fixed widths, cells of several lines ...) is declined, and the
caller prints it with rich.

The rules mirror ``rich/table.py`` of rich 15 (``Table.__rich_console__``, ``_render``,
``_get_cells``, ``_calculate_column_widths``); tests/test_cli_fast_table.py checks them
against rich itself on random tables and console widths.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from rich._ratio import ratio_reduce
from rich.box import Box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType, RenderResult
from rich.errors import MarkupError, StyleError
from rich.measure import Measurement
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

_JUSTIFY = frozenset({"left", "center", "right"})
_OVERFLOW = frozenset({"fold", "crop", "ellipsis"})
#: The cell padding a simple table has: rich's default (0, 1) unpacked.
_PADDING = (0, 1, 0, 1)


def cell_width(console: Console, cell: RenderableType, max_width: int | None = None) -> int:
    """The width rich measures for ``cell`` on ``console``: the ``maximum`` of
    ``Measurement.get(console, console.options, cell)``, without parsing plain strings.

    A string with no ``[`` (markup) or ``:`` (emoji codes) that is one printable line is its
    own text, so its width is its cell length, capped at the console's width as rich caps it.
    A caller measuring many cells passes that width as ``max_width``: reading
    ``console.width`` asks the terminal each time, which costs more than the measuring.
    """
    if isinstance(cell, str) and "[" not in cell and ":" not in cell and cell.isprintable():
        width = console.width if max_width is None else max_width
        return min(cell_len(cell), width) if width > 0 else 0
    options = console.options if max_width is None else console.options.update_width(max_width)
    return Measurement.get(console, options, cell).maximum


class _Entry(NamedTuple):
    """One cell, measured: the cell as given, its text on one line and the text's width, and
    whether rich must render it (the text has spans)."""

    cell: str
    plain: str
    width: int
    spans: bool


class _Plan(NamedTuple):
    """A simple table, measured: the entries of each column (its header first when shown)
    and the width of each column's widest text."""

    table: Table
    columns: list[list[_Entry]]
    texts: list[int]


def _entry(console: Console, cell: object, highlight: bool) -> _Entry | None:
    """The entry of one cell, or ``None`` when it is not a one-line string."""
    if not isinstance(cell, str):
        return None
    if not highlight and "[" not in cell and ":" not in cell:
        plain, spans = cell, False
    else:
        try:
            text = console.render_str(cell, highlight=highlight)
        except MarkupError:  # rich raises the same when it prints the table
            return None
        plain = text.plain
        spans = bool(text.spans or text.style or text.end != "\n")
        if spans and _has_link(console, _text_styles(console, text)):
            return None  # a link gets a fresh id each time it is rendered: never the same bytes
    if not plain.isprintable():  # a newline, a tab, a control code, an unusual space
        return None
    return _Entry(cell, plain, cell_len(plain), spans)


def _has_link(console: Console, styles: Iterable[str | Style | None]) -> bool:
    """Whether any of ``styles`` carries a hyperlink (or is not a style rich knows)."""
    try:
        return any(console.get_style(style or "").link for style in styles)
    except StyleError:  # rich raises on it when it prints the table
        return True


def _text_styles(console: Console, text: Text) -> list[Style]:
    """The style of ``text`` and of each of its spans, resolved as ``Text.render`` resolves
    them (an unknown style is no style)."""
    styles = [text.style, *(span.style for span in text.spans)]
    return [console.get_style(style, default="none") for style in styles]


def _styles_are_safe(console: Console, table: Table) -> bool:
    """Whether the table's styles, title and caption print the same bytes each time: none
    carries a hyperlink (rich gives each a fresh id) or has bad markup."""
    columns = table.columns
    styles = [table.style, table.border_style, table.header_style]
    styles += [column.style for column in columns] + [column.header_style for column in columns]
    for text, style in (
        (table.title, Style.pick_first(table.title_style, "table.title")),
        (table.caption, Style.pick_first(table.caption_style, "table.caption")),
    ):
        if isinstance(text, str):
            try:
                styles += _text_styles(
                    console, console.render_str(text, style=style, highlight=False)
                )
            except MarkupError:
                return False
        elif isinstance(text, Text):
            styles += _text_styles(console, text)
        elif text is not None:
            return False
    return not _has_link(console, styles)


def _table_is_simple(table: Table) -> bool:
    """Whether the table's own settings are ones whose layout is plain arithmetic."""
    return bool(
        table.columns
        and not table.show_footer
        and not table.row_styles
        and not table.show_lines
        and not table.leading
        and not table.expand
        and table.width is None
        and table.min_width is None
        and table.padding == _PADDING
        and table.pad_edge
        and not table.collapse_padding
        and (table.box is None or isinstance(table.box, Box))
        and (table.rows or table.show_header)
        and all(row.style is None and not row.end_section for row in table.rows)
    )


def _column_is_simple(column: Column) -> bool:
    """Whether a column has no fixed, minimum, maximum or flexible width and justifies and
    overflows in a way the fast path draws."""
    return (
        column.width is None
        and column.min_width is None
        and column.max_width is None
        and column.ratio is None
        and column.justify in _JUSTIFY
        and column.overflow in _OVERFLOW
    )


def _plan(console: Console, table: Table) -> _Plan | None:
    """Measure a simple table, or ``None`` when it is not one (see the module's docstring)."""
    if not _table_is_simple(table) or not _styles_are_safe(console, table):
        return None
    n_rows = len(table.rows)
    columns: list[list[_Entry]] = []
    texts: list[int] = []
    for column in table.columns:
        cells: list[object] = list(column.cells)
        if not _column_is_simple(column) or len(cells) != n_rows:
            return None
        if table.show_header:
            cells.insert(0, column.header)
        entries: list[_Entry] = []
        for cell in cells:
            entry = _entry(console, cell, column.highlight)
            if entry is None:
                return None
            entries.append(entry)
        width = max(entry.width for entry in entries)
        if not width:  # an empty column renders as blank lines of its own kind
            return None
        columns.append(entries)
        texts.append(width)
    return _Plan(table, columns, texts)


def _extra_width(table: Table) -> int:
    """The width of the table's borders: its edges and the lines between columns."""
    if not table.box:
        return 0
    return len(table.columns) - 1 + (2 if table.show_edge else 0)


def _measure(text: int, max_width: int) -> int:
    """The maximum rich measures for a column whose widest text is ``text`` cells, padding
    included, on ``max_width`` cells: ``Table._measure_column`` of ``Padding`` cells."""
    if max_width < 1:
        return 0
    return max_width if max_width < 3 else min(text + 2, max_width)


def _column_widths(plan: _Plan, max_width: int) -> list[int]:
    """The width of each column, padding included, on ``max_width`` cells, as
    ``Table._calculate_column_widths`` makes them: natural, or shrunk to fit."""
    room = max_width - _extra_width(plan.table)
    widths = [_measure(text, room) or 1 for text in plan.texts]
    total = sum(widths)
    if total > room:
        wrapable = [not column.no_wrap for column in plan.table.columns]
        widths = Table._collapse_widths(widths, wrapable, room)
        total = sum(widths)
        if total > room:  # rich's last resort: every column loses its share
            widths = ratio_reduce(total - room, [1] * len(widths), widths, widths)
        widths = [_measure(text, width) for text, width in zip(plan.texts, widths, strict=True)]
    return widths


def _justified(entry: _Entry, width: int, justify: str) -> str:
    """The text of a one-line cell justified on ``width`` cells, as ``Lines.justify``."""
    plain = entry.plain
    if justify == "left":
        return plain + " " * (width - entry.width)
    stripped = plain.rstrip()  # printable text: only spaces are stripped, one cell each
    used = entry.width - (len(plain) - len(stripped))
    if justify == "right":
        return " " * (width - used) + stripped
    left = (width - used) // 2
    return " " * left + stripped + " " * (width - used - left)


_Lines = list[list[Segment]]


def _column_lines(
    console: Console,
    options: ConsoleOptions,
    column: Column,
    width: int,
    parts: list[tuple[list[_Entry], Style]],
) -> list[_Lines]:
    """The rendered lines of each cell of a column, as rich's ``console.render_lines(Padding(
    cell, (0, 1)), ...)`` makes them: ``parts`` are runs of entries with their cell style (the
    header, the other cells). A cell whose plain text fits is drawn here; rich renders the
    others (spans, or text to wrap)."""
    pad_style = console.get_style("none")  # the style of rich's Padding
    cell_options = options.update(
        width=width,
        justify=column.justify,
        no_wrap=column.no_wrap,
        overflow=column.overflow,
        height=None,
        highlight=column.highlight,
    )
    justify, inner = column.justify, width - 2
    cells: list[_Lines] = []
    wraps: dict[tuple[str, Style], _Lines | None] = {}
    lines: _Lines | None  # None: rich renders the cell
    for entries, cell_style in parts:
        text_style = cell_style if cell_style else None
        pad = Segment(" ", cell_style + pad_style if cell_style else pad_style)
        for entry in entries:
            if entry.spans or inner < 1:
                lines = None
            elif entry.width <= inner:
                lines = [[pad, Segment(_justified(entry, inner, justify), text_style), pad]]
            else:
                key = (entry.plain, cell_style)
                if key not in wraps:  # the same text wraps the same: once is enough
                    wraps[key] = _wrapped(console, column, entry.plain, inner, pad, text_style)
                lines = wraps[key]
            if lines is None:
                padded = Padding(entry.cell, _PADDING)
                lines = console.render_lines(padded, cell_options, style=cell_style)
            cells.append(lines)
    return cells


def _wrapped(
    console: Console, column: Column, plain: str, width: int, pad: Segment, style: Style | None
) -> _Lines | None:
    """The lines of a plain text too long for its column, as rich wraps, justifies and
    overflows it on ``width`` cells and pads them; ``None`` unless each is exactly ``width``
    cells (else rich's ``render_lines`` pads or crops them: let rich render the cell)."""
    lines = Text(plain).wrap(
        console, width, justify=column.justify, overflow=column.overflow, no_wrap=column.no_wrap
    )
    plains = [line.plain for line in lines]
    if any(cell_len(line) != width for line in plains):
        return None
    return [[pad, Segment(line, style), pad] for line in plains]


_ALIGN = {"top": Segment.align_top, "middle": Segment.align_middle}


def _shape(
    cells: tuple[_Lines, ...], widths: list[int], styles: list[Style], verticals: list[str]
) -> list[tuple[list[Segment], ...]]:
    """The lines of a row whose cells take one or more lines, each cell padded to the row's
    height as ``Table._render`` pads it (``verticals``: the alignment of each cell)."""
    if all(len(lines) == 1 for lines in cells):
        return [tuple(lines[0] for lines in cells)]
    height = max(len(lines) for lines in cells)
    shaped = [
        Segment.set_shape(
            _ALIGN.get(vertical, Segment.align_bottom)(lines, width, height, style),
            width,
            max(1, height),
        )
        for lines, width, style, vertical in zip(cells, widths, styles, verticals, strict=True)
    ]
    return list(zip(*shaped, strict=True))


def _rows(
    console: Console, options: ConsoleOptions, plan: _Plan, widths: list[int]
) -> list[list[tuple[list[Segment], ...]]]:
    """The lines of every row, each line as the lines of its cells."""
    table = plan.table
    get_style = console.get_style
    header_style = get_style(table.header_style or "")
    by_column: list[list[_Lines]] = []
    heads: list[Style] = []
    bodies: list[Style] = []
    for column, entries, width in zip(table.columns, plan.columns, widths, strict=True):
        # rich adds the row's style to the cell's: null in a simple table
        bodies.append(get_style(column.style or "") + Style.null())
        heads.append(header_style + get_style(column.header_style) + Style.null())
        parts = [(entries, bodies[-1])]
        if table.show_header:
            parts = [(entries[:1], heads[-1]), (entries[1:], bodies[-1])]
        by_column.append(_column_lines(console, options, column, width, parts))
    verticals: list[str] = [column.vertical for column in table.columns]
    rows = []
    for index, cells in enumerate(zip(*by_column, strict=True)):
        if index == 0 and table.show_header:
            rows.append(_shape(cells, widths, heads, ["bottom"] * len(widths)))
        else:
            rows.append(_shape(cells, widths, bodies, verticals))
    return rows


def _box(console: Console, options: ConsoleOptions, table: Table) -> Box | None:
    """The box rich draws: the table's, substituted for legacy Windows or ASCII terminals,
    and without header lines when the header is hidden."""
    if not table.box:
        return None
    safe = table.safe_box if table.safe_box is not None else console.safe_box
    box = table.box.substitute(options, safe=bool(safe))
    return box if table.show_header else box.get_plain_headed_box()


def _edges(box: Box, border: Style) -> list[tuple[Segment, Segment, Segment]]:
    """The left edge, right edge and divider of the first, middle and last rows."""
    edges = []
    for left, right, vertical in (
        (box.head_left, box.head_right, box.head_vertical),
        (box.mid_left, box.mid_right, box.mid_vertical),
        (box.foot_left, box.foot_right, box.foot_vertical),
    ):
        divider = Segment(vertical, border)
        if not vertical.strip():  # a blank divider takes the row's background: none here
            divider = Segment(vertical, Style.null().background_style + border)
        edges.append((Segment(left, border), Segment(right, border), divider))
    return edges


def _body(
    console: Console, options: ConsoleOptions, plan: _Plan, widths: list[int]
) -> list[Segment]:
    """The segments of the table without its title and caption, as ``Table._render``."""
    table = plan.table
    rows = _rows(console, options, plan, widths)
    border = console.get_style(table.style or "") + console.get_style(table.border_style or "")
    box = _box(console, options, table)
    new_line = Segment.line()
    out: list[Segment] = []
    if box and table.show_edge:
        out += [Segment(box.get_top(widths), border), new_line]
    edges = _edges(box, border) if box else []
    last_index = len(rows) - 1
    for index, lines in enumerate(rows):
        for cells in lines:
            if box:
                left, right, divider = edges[0 if index == 0 else (2 if index == last_index else 1)]
                if table.show_edge:
                    out.append(left)
                for column, line in enumerate(cells):
                    if column:
                        out.append(divider)
                    out += line
                if table.show_edge:
                    out.append(right)
            else:
                for line in cells:
                    out += line
            out.append(new_line)
        if box and index == 0 and table.show_header:
            out += [Segment(box.get_row(widths, "head", edge=table.show_edge), border), new_line]
    if box and table.show_edge:
        out += [Segment(box.get_bottom(widths), border), new_line]
    return out


def _annotation(
    console: Console,
    options: ConsoleOptions,
    text: str | Text,
    style: str | Style,
    justify: JustifyMethod,
) -> list[Segment]:
    """A title or caption, rendered as rich's ``render_annotation`` does."""
    renderable = (
        console.render_str(text, style=style, highlight=False) if isinstance(text, str) else text
    )
    return list(console.render(renderable, options.update(justify=justify)))


def _segments(console: Console, options: ConsoleOptions, plan: _Plan) -> list[Segment]:
    """Every segment of the table as ``Table.__rich_console__`` yields them on ``options``."""
    table = plan.table
    widths = _column_widths(plan, options.max_width)
    width = sum(widths) + _extra_width(table)
    table_options = options.update(width=width, highlight=table.highlight, height=None)
    out: list[Segment] = []
    if table.title:
        style = Style.pick_first(table.title_style, "table.title")
        out += _annotation(console, table_options, table.title, style, table.title_justify)
    out += _body(console, table_options, plan, widths)
    if table.caption:
        style = Style.pick_first(table.caption_style, "table.caption")
        out += _annotation(console, table_options, table.caption, style, table.caption_justify)
    return out


def fast_segments(
    console: Console, table: Table, options: ConsoleOptions | None = None
) -> list[Segment] | None:
    """The segments rich renders ``table`` to with ``options`` (default: the console's), or
    ``None`` when the table is not simple."""
    plan = _plan(console, table)
    if plan is None:
        return None
    return _segments(console, options or console.options, plan)


class _FastTable:
    """A renderable that draws a measured table on the options it is printed with (the
    console may have narrowed since it was measured)."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _segments(console, options, self.plan)


def print_fast(console: Console, table: Table) -> bool:
    """Print ``table`` to ``console`` exactly as ``console.print(table)`` would, and say
    True; or print nothing and say False when the table is not simple (the caller then
    prints it with rich)."""
    plan = _plan(console, table)
    if plan is None:
        return False
    console.print(_FastTable(plan))
    return True

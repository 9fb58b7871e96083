"""Priced shapes back to their rows: every output column as one gather from a small table.

The engine prices each distinct request shape once, and prices again, one by one, only the
rows whose money follows the month's running volume. :func:`priced_table` puts both in one
table (the shapes, then the rows priced again) and points each row at its line there, so that
:func:`spread` writes each output column of every row with one gather: no column is gathered
and then written over.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Table:
    """Every priced line, and how the rows take them (see :func:`priced_table`)."""

    lines: pl.DataFrame
    index: pl.Series  # each row's line (UInt32)
    used: pl.Series | None  # which lines rows take (None: all)
    at: pl.Series | None = None  # rows priced again, whose lines follow the shapes'
    first: int = 0  # the first line of a row priced again


def priced_table(
    shapes: pl.DataFrame,
    shape_of: pl.Series,
    at: pl.Series,
    again: pl.DataFrame,
    used: pl.Series,
) -> Table:
    """The table of every priced line, each row's line in it, and which lines rows use.

    ``shapes`` holds the output columns of each shape and ``shape_of`` each row's shape; the
    rows at positions ``at`` were priced again (``again``: the columns that follow the running
    volume, in the order of ``at``), so they point to lines of their own after the shapes',
    which take their other columns from their shape. ``used`` says which shapes other rows
    use (every row of a shape priced again is priced again).
    """
    kept = shapes.drop(again.columns)
    lines = again.select(shapes.columns)
    if kept.width:
        lines = kept.gather(shape_of.gather(at)).hstack(again).select(shapes.columns)
    first = shapes.height
    index = shape_of.scatter(at, pl.int_range(first, first + at.len(), dtype=pl.UInt32, eager=True))
    return Table(
        pl.concat([shapes, lines], how="vertical"),
        index,
        pl.concat([used, pl.repeat(True, at.len(), eager=True)]),
        at,
        first,
    )


def spread(table: Table) -> dict[str, pl.Series | pl.Expr]:
    """Each output column of every row (``lines[index]``), written the cheapest way:

    - a literal where every line used holds one value;
    - where the lines of shapes hold one value, or equal an earlier column's there, that
      value or a copy of that column, with the rows priced again written over it;
    - else gathered, the gathers done together (which spreads them over the cores); a
      column equal to an earlier one (``cost`` and ``list_cost`` without discounts) shares
      its memory.

    The table is small (one line per shape, and per row priced again).
    """
    lines = table.lines.filter(table.used) if table.used is not None else table.lines
    shaped = lines if table.at is None else lines.head(lines.height - table.at.len())
    out: dict[str, pl.Series | pl.Expr] = {}
    many: list[str] = []
    twins: dict[str, str] = {}
    patched: dict[str, str | None] = {}  # column -> its copy's source, None: its one value
    for name in lines.columns:
        column = lines[name]
        if lines.height and single(column):
            out[name] = pl.lit(column[0], dtype=column.dtype).alias(name)
        elif table.at is not None and shaped.height and single(shaped[name]):
            patched[name] = None
        elif (twin := next((m for m in many if same(lines[m], column)), None)) is not None:
            twins[name] = twin
        elif table.at is not None and (
            (twin := next((m for m in many if same(shaped[m], shaped[name])), None)) is not None
        ):
            patched[name] = twin
        else:
            many.append(name)
    gathered = table.lines.select(many).gather(table.index) if many else pl.DataFrame()
    for name in many:
        out[name] = gathered.drop_in_place(name)  # its only owner, so it can be written over
    for name, twin in twins.items():
        out[name] = out[twin].alias(name)
    for name, source in patched.items():
        out[name] = _patched(table, name, shaped, out, source)
    return out


def _patched(
    table: Table,
    name: str,
    shaped: pl.DataFrame,
    out: dict[str, pl.Series | pl.Expr],
    source: str | None,
) -> pl.Series:
    """Column ``name``: the shapes' one value (``source`` None) or a copy of column
    ``source``, with the lines of the rows priced again written at their rows."""
    assert table.at is not None
    again = table.lines[name].slice(table.first)
    n = table.index.len()
    if source is None:
        value = shaped[name]
        base = pl.repeat(value[0], n, dtype=value.dtype, eager=True)
    else:
        copied = out[source]
        assert isinstance(copied, pl.Series)
        base = copied.clone()
    return base.rename(name).scatter(table.at, again)


def same(a: pl.Series, b: pl.Series) -> bool:
    """Whether two columns hold the same values (nulls alike) in the same type."""
    return a.dtype == b.dtype and a.equals(b, check_names=False, null_equal=True)


def single(values: pl.Series) -> bool:
    """Whether all ``values`` are one value (bit for bit), or all null."""
    nulls = values.null_count()
    if nulls:
        return nulls == values.len()
    if values.dtype.is_float():  # equal and not NaN, and zeros of one sign
        lo, hi = values.min(), values.max()
        if lo != hi or values.is_nan().any():
            return False
        infinities = 1.0 / values  # zeros of one sign give infinities of one sign
        return lo != 0 or infinities.min() == infinities.max()
    if values.dtype.is_integer():
        return bool(values.min() == values.max())
    return values.n_unique() == 1

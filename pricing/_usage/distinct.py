"""The distinct values of a log's text columns, so that a check that every row would pass the
same way is answered once for the log rather than once per row.

A log's text columns (provider, model, offer_id, operation, quality, account) hold few
distinct values over millions of rows. :class:`Distinct` reads them once (the identity columns
as distinct combinations, as checks compare them with each other, the others each alone), and
mirrors each step of the checks on them: an elementwise expression that gives its column back
unchanged on every distinct value (text already stripped, provider names already lower case)
is the column itself, and a condition that has the same answer on every distinct value (every
offer_id known, none missing) is that answer, so that the rows skip the text work. Anything
else is evaluated per row as before: the outcome is the same either way, row by row.
"""

from __future__ import annotations

import polars as pl

#: Text columns whose checks compare them with each other: read as distinct combinations.
IDENTITY = ("provider", "offer_id", "model")
#: Text columns checked each on its own.
ALONE = ("operation", "quality", "account")
#: More distinct values (or combinations) than this: that column's rows are checked one by one.
MOST = 50_000


class Distinct:
    """Distinct values (or combinations) of a log's text columns, one table per group of
    columns that checks read together; each step of the checks is mirrored on them."""

    def __init__(self, frames: list[pl.DataFrame]) -> None:
        self.frames = frames

    @classmethod
    def of(cls, lf: pl.LazyFrame, names: list[str]) -> Distinct:
        """The distinct text values of the log ``lf`` (of columns ``names``); a group with
        more than :data:`MOST` is left out (its rows are checked one by one)."""
        groups = [[c for c in IDENTITY if c in names], *[[c] for c in ALONE if c in names]]
        groups = [g for g in groups if g]
        if not groups:
            return cls.none()
        # one query per group, each run on its own: much quicker than unique structs in one
        # query, and never collect_all, whose shared scan would hold the log's text columns
        # in memory (2.4 GiB at 50M rows)
        queries = [lf.select(pl.col(g).cast(pl.String)).unique().head(MOST + 1) for g in groups]
        try:
            found = [q.collect(engine="streaming") for q in queries]
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
            return cls.none()  # e.g. a column that is not text: the rows meet it as before
        return cls([f for f in found if 0 < f.height <= MOST])

    @classmethod
    def none(cls) -> Distinct:
        """No distinct values: every row is checked one by one."""
        return cls([])

    def _frame(self, expr: pl.Expr) -> int | None:
        """The index of the table that holds every column ``expr`` reads, if any."""
        roots = set(expr.meta.root_names())
        for i, frame in enumerate(self.frames):
            if roots and roots <= set(frame.columns):
                return i
        return None

    def add(self, exprs: list[pl.Expr]) -> None:
        """Mirror ``with_columns(exprs)`` of the log on the tables that can compute them."""
        for expr in exprs:
            i = self._frame(expr)
            if i is not None:
                self.frames[i] = self.frames[i].with_columns(expr)

    def same(self, expr: pl.Expr, column: str) -> pl.Expr:
        """``expr`` (text, elementwise), or ``column`` as text (under ``expr``'s name) where
        ``expr`` gives every distinct value of ``column`` back unchanged."""
        i = self._frame(expr)
        if i is None:
            return expr
        frame = self.frames[i]
        got = frame.select(expr).to_series()
        if got.dtype == frame[column].dtype and got.equals(frame[column], check_names=False):
            return pl.col(column).cast(pl.String).alias(expr.meta.output_name())
        return expr

    def fold(self, expr: pl.Expr) -> pl.Expr:
        """``expr`` (elementwise), or its one answer as a literal when every distinct value
        (or combination) it reads gives the same."""
        i = self._frame(expr)
        if i is None:
            return expr
        got = self.frames[i].select(expr).to_series()
        if got.n_unique() != 1:
            return expr
        return pl.lit(got[0], dtype=got.dtype)

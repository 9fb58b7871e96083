"""What a replay says of how it read a log: the columns it left unread, and the calls it priced
at a default size or image count, so that no default goes unsaid."""

from __future__ import annotations

from dataclasses import dataclass

from pricing._usage.log import LOG_ALIASES
from pricing._vector.columns import REQUEST_COLUMNS


@dataclass(frozen=True)
class LogReading:
    """How a log was read.

    Attributes
    ----------
    unknown_columns : dict
        Column of the log that is not read -> the standard column it is likely meant to be
        (a did-you-mean hint), or None.
    rows_default_size : int
        Readable calls without a size (no width and height or size column, or size "auto"
        or empty), priced at the default size [calls].
    rows_default_count : int
        Readable calls without an image count (no count or n column), priced as one image
        [calls].
    """

    unknown_columns: dict[str, str | None]
    rows_default_size: int
    rows_default_count: int

    def notes(self) -> list[str]:
        """A sentence per unread column and per default used."""
        said = [_unread(column, hint) for column, hint in self.unknown_columns.items()]
        if self.rows_default_size:
            width, height = REQUEST_COLUMNS["width"][1], REQUEST_COLUMNS["height"][1]
            said.append(
                f"{self.rows_default_size:,} call(s) have no size (no width and height or size "
                f'column, or size "auto" or empty): priced at {width}x{height}'
            )
        if self.rows_default_count:
            said.append(
                f"{self.rows_default_count:,} call(s) have no image count (no count or n "
                f"column): priced as {REQUEST_COLUMNS['count'][1]} image each"
            )
        return said


def _unread(column: str, hint: str | None) -> str:
    """Why a column is not read, and what to do about it."""
    if column in LOG_ALIASES and hint is not None:
        return f"column {column!r} is not read: the log's {hint} column is read instead"
    if hint is None:
        return f"column {column!r} is not a log column and is not read"
    return (
        f"column {column!r} is not a log column and is not read; did you mean {hint}? "
        f"(map it: --map {column}={hint}, or mapping={{{column!r}: {hint!r}}})"
    )

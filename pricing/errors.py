"""Errors raised by the pricing package.

One small hierarchy::

    PricingError                 base of everything raised on purpose
     +-- RateCardError           a data file is wrong: file, offer, version, field and the fix
     +-- PriceNotFound           no price applies to the request (never priced as $0)
     +-- UnsupportedRequest      the offer cannot serve the request (size, operation, retired...)
     +-- FxError                 an exchange rate is missing, too old or malformed
"""

from __future__ import annotations

from dataclasses import dataclass


class PricingError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a data file, located as precisely as the file allows."""

    file: str
    message: str
    fix: str
    offer: str | None = None
    version: str | None = None
    field: str | None = None
    line: int | None = None  # 1-based line in ``file``, for line-oriented files (CSV)

    def __str__(self) -> str:
        where = [self.file if self.line is None else f"{self.file} line {self.line}"]
        if self.offer:
            where.append(f"offer {self.offer!r}")
        if self.version:
            where.append(f"version {self.version}")
        if self.field:
            where.append(f"field `{self.field}`")
        return f"{': '.join(where)}: {self.message} -> {self.fix}"


class RateCardError(PricingError):
    """A rate card, source or model file is invalid; ``problems`` lists every issue found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the price data:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))

    @property
    def file(self) -> str:
        return self.problems[0].file

    @property
    def offer(self) -> str | None:
        return self.problems[0].offer

    @property
    def version(self) -> str | None:
        return self.problems[0].version

    @property
    def field(self) -> str | None:
        return self.problems[0].field


class PriceNotFound(PricingError):  # noqa: N818 - name fixed by the public API
    """No price applies to the request: the result is unknown, never zero."""


class UnsupportedRequest(PricingError):  # noqa: N818 - name fixed by the public API
    """The offer cannot serve the request as asked (size, operation, retirement...)."""


class FxError(PricingError):
    """An exchange rate is unknown, too old for the date asked, or its source data is malformed."""

"""Errors raised by the pricing package.

Every exception the package raises on purpose is defined here, in one small hierarchy::

    PricingError                 base of everything raised on purpose
     +-- RateCardError           a data file is wrong: file, offer, version, field and the fix
     +-- WorkloadError           a workload file is wrong: file, segment, field, line and the fix
     +-- PriceNotFound           no price applies to the request (never priced as $0)
     +-- UnsupportedRequest      the offer cannot serve the request (size, operation, retired...)
     +-- RequestError            an ImageRequest's field is out of range or of the wrong type
     +-- FxError                 an exchange rate is missing, too old or malformed
     +-- FocusError              priced requests cannot become a FOCUS export (also a ValueError)
     +-- ProfileNotFound         no throughput profile for the model x GPU x precision
     +-- ThroughputUnknown       a profile exists but its sources cannot answer the question
     +-- RefreshError            a price refresh failed: the source, the URL and the reason

Both file errors carry a list of :class:`Problem` rows, one per thing wrong, each saying
where it is and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class PricingError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a data file, located as precisely as the file allows.

    Rate cards locate by ``offer`` and ``version``, workloads by ``segment``, CSV files by
    ``line``; every problem names its ``file`` and says the ``fix``.
    """

    file: str
    message: str
    fix: str
    offer: str | None = None
    version: str | None = None
    field: str | None = None
    line: int | None = None  # 1-based line in ``file``, for line-oriented files (CSV)
    segment: str | None = None  # a workload segment's name
    segment_index: int | None = None  # 0-based position in the workload's ``segments``

    def __str__(self) -> str:
        where = [self.file if self.line is None else f"{self.file} line {self.line}"]
        if self.offer:
            where.append(f"offer {self.offer!r}")
        if self.version:
            where.append(f"version {self.version}")
        if self.segment_index is not None:
            where.append(f"segment {self.segment!r} (segments[{self.segment_index}])")
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


class RequestError(PricingError, ValueError):
    """An :class:`ImageRequest` cannot be built: each wrong field, the value given and the rule.

    Also a :class:`ValueError`, as pydantic's ``ValidationError`` it replaces was.
    """


class FxError(PricingError):
    """An exchange rate is unknown, too old for the date asked, or its source data is malformed."""


class FocusError(PricingError, ValueError):
    """Priced requests cannot become a FOCUS export: an unknown granularity, a missing column,
    a naive timestamp, or priced rows that break the input contract of ``to_focus``.

    Also a :class:`ValueError`, which ``to_focus`` raised before this class existed.
    """


class WorkloadError(PricingError):
    """A workload file is invalid; ``problems`` lists every issue found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the workload:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))

    @property
    def file(self) -> str:
        return self.problems[0].file

    @property
    def segment(self) -> str | None:
        return self.problems[0].segment

    @property
    def field(self) -> str | None:
        return self.problems[0].field


class ProfileNotFound(PricingError):  # noqa: N818 - reads as a statement, like PriceNotFound
    """No throughput profile for the model x GPU x precision asked for."""


class ThroughputUnknown(PricingError):  # noqa: N818 - reads as a statement, like PriceNotFound
    """A profile exists but the sources cannot answer (resolution scaling, memory at a batch)."""


class RefreshError(PricingError):
    """A price refresh failed: the source, what went wrong and what to do; nothing was written.

    Attributes
    ----------
    source : str
        The source being refreshed (``ecb``, ``skypilot-aws``, a registry URL...).
    reason : str
        What went wrong, in words.
    url : str or None
        The URL involved, when there is one (never with credentials).
    """

    def __init__(self, source: str, reason: str, *, url: str | None = None) -> None:
        self.source = source
        self.reason = reason
        self.url = url
        #: The refresh's :class:`~pricing.RefreshReport` (summary so far), when there is one.
        self.report: Any = None
        where = f" ({url})" if url and url != source else ""
        super().__init__(f"{source}{where}: {reason}")


class PriceExcluded(PriceNotFound):
    """The offer has prices in force, but the trust policy excludes every one of them.

    A :class:`PriceNotFound`, so code that skips unpriceable offers skips these too; the
    message names each excluded price with its grade or flag and how to widen the policy.
    """

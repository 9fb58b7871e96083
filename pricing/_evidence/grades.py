"""Grades and flags of price versions, and the trust policy that reads them.

A price version's **grade** follows what its source page is (``official``, ``provider``,
``third-party``, ``claim``); its **flags** each carry the reason they apply. Two flags are
stated in the data (``unit-ambiguous``, ``retirement-undated``), the others are computed:
``undated`` and ``stale`` here, from the source's dates; ``free-tier`` and ``below-upstream``
in :mod:`pricing._evidence.flags`, from the price itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pricing._cards.schema import GRADES, Grade, PriceVersion, Source
from pricing.errors import PricingError

FlagName = Literal[
    "below-upstream", "free-tier", "undated", "stale", "unit-ambiguous", "retirement-undated"
]
FLAGS: tuple[FlagName, ...] = FlagName.__args__  # type: ignore[attr-defined]

#: Days after which a source's newest date makes its price ``stale``.
STALE_AFTER_DAYS = 180

#: Flags that keep a price out of default answers. ``undated`` and ``retirement-undated`` are
#: shown beside the price but do not exclude it: most official price pages carry no date, and
#: an undated retirement is a warning about the future, not about today's figure.
EXCLUDING_FLAGS: frozenset[FlagName] = frozenset(
    {"below-upstream", "free-tier", "stale", "unit-ambiguous"}
)


@dataclass(frozen=True)
class Flag:
    """One flag on a price, and why it applies."""

    name: FlagName
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


@dataclass(frozen=True)
class Evidence:
    """How far one price version can be trusted."""

    offer_id: str
    version: str
    source_id: str
    grade: Grade
    grade_reason: str
    flags: tuple[Flag, ...] = ()

    @property
    def flag_names(self) -> tuple[FlagName, ...]:
        return tuple(f.name for f in self.flags)

    def describe(self) -> str:
        """``grade`` then each flag with its reason, ``; ``-separated."""
        return "; ".join([self.grade, *(str(f) for f in self.flags)])


def grade_of(source: Source, provider: str) -> tuple[Grade, str]:
    """The grade of ``source``'s prices for ``provider``'s offers, and why."""
    if source.grade is not None:
        return source.grade, source.grade_reason or ""
    if source.kind == "official":
        return "official", f"{source.publisher}'s own page"
    if source.kind == "provider-reseller":
        return "provider", f"{source.publisher}'s own page for its own offer"
    if source.kind == "seed" and source.provider == provider:
        return "provider", f"{source.publisher}'s own page, for its own offer (a seed article)"
    if source.kind == "seed":
        return "third-party", f"a seed article by {source.publisher}, quoting another provider"
    return "third-party", f"{source.publisher}, quoting the provider"


def data_flags(version: PriceVersion, source: Source) -> list[Flag]:
    """The flags stated in the data, then ``undated``."""
    flags = [Flag(f.flag, f.reason) for f in version.flags]
    if source.published is None:
        flags.append(Flag("undated", f"{source.id} shows no date; read {source.seen.isoformat()}"))
    return flags


def newest_date(source: Source) -> date:
    """The newest date the source vouches for its figure: the later of published and seen."""
    return max(d for d in (source.published, source.seen) if d is not None)


def stale_from(source: Source) -> date:
    """The first day on which the source's prices are ``stale``."""
    return newest_date(source) + timedelta(days=STALE_AFTER_DAYS + 1)


def stale_flag(source: Source, day: date) -> Flag | None:
    """``stale`` when ``day`` is over :data:`STALE_AFTER_DAYS` after the source's newest date."""
    return stale_since(newest_date(source), day, f"{source.id}'s newest date is")


def stale_since(newest: date, day: date, what: str) -> Flag | None:
    """``stale`` when ``day`` is over :data:`STALE_AFTER_DAYS` after ``newest``; the reason
    reads "<what> <newest>, N days before <day> (over 180)"."""
    age = (day - newest).days
    if age <= STALE_AFTER_DAYS:
        return None
    return Flag(
        "stale",
        f"{what} {newest.isoformat()}, {age} days before {day.isoformat()} "
        f"(over {STALE_AFTER_DAYS})",
    )


@dataclass(frozen=True)
class TrustPolicy:
    """Which prices may set an answer: their grades, and the flags that exclude one.

    ``TrustPolicy()`` is the default: official, provider and third-party prices without an
    excluding flag (``below-upstream``, ``free-tier``, ``stale``, ``unit-ambiguous``).
    Build others with :meth:`parse` (``"official"``, ``"provider"``, ``"all"``...).
    """

    grades: frozenset[Grade] = frozenset({"official", "provider", "third-party"})
    excluding: frozenset[FlagName] = EXCLUDING_FLAGS
    name: str = "default"

    def allows(self, evidence: Evidence) -> bool:
        return evidence.grade in self.grades and not (set(evidence.flag_names) & self.excluding)

    def why_not(self, evidence: Evidence) -> str:
        """Why this policy excludes ``evidence`` (empty when it does not)."""
        reasons = []
        if evidence.grade not in self.grades:
            reasons.append(f"graded {evidence.grade} ({evidence.grade_reason})")
        reasons += [str(f) for f in evidence.flags if f.name in self.excluding]
        return "; ".join(reasons)

    def describe(self) -> str:
        """The policy in words, for the assumptions of an answer."""
        grades = ", ".join(g for g in GRADES if g in self.grades)
        if not self.excluding:
            return f"{grades} prices, flagged or not"
        flags = ", ".join(f for f in FLAGS if f in self.excluding)
        return f"{grades} prices not flagged {flags}"

    @classmethod
    def parse(cls, text: str | TrustPolicy | None) -> TrustPolicy:
        """A policy from its name or a comma-separated list of grades.

        ``default`` (official, provider, third-party; unflagged), ``official``,
        ``provider`` (official and provider), ``all`` (every price, claims and flagged
        ones included), or grades such as ``"official,third-party"`` (unflagged). Add
        ``+flagged`` to a list to let flagged prices in too.
        """
        if text is None:
            return cls()
        if isinstance(text, TrustPolicy):
            return text
        word = text.strip().lower()
        named = _NAMED.get(word)
        if named is not None:
            return named
        flagged = word.endswith("+flagged")
        parts = [p.strip() for p in word.removesuffix("+flagged").split(",") if p.strip()]
        unknown = [p for p in parts if p not in GRADES]
        if unknown or not parts:
            raise PricingError(
                f"unknown evidence policy {text!r}; use one of {', '.join(_NAMED)}, or grades "
                f"from {', '.join(GRADES)} separated by commas (add +flagged to allow flagged "
                "prices), e.g. 'official,provider'"
            )
        return cls(
            grades=frozenset(_as_grades(parts)),
            excluding=frozenset() if flagged else EXCLUDING_FLAGS,
            name=text.strip(),
        )


def _as_grades(parts: Iterable[str]) -> list[Grade]:
    return [g for g in GRADES if g in set(parts)]


_NAMED: dict[str, TrustPolicy] = {
    "default": TrustPolicy(),
    "official": TrustPolicy(frozenset({"official"}), EXCLUDING_FLAGS, "official"),
    "provider": TrustPolicy(frozenset({"official", "provider"}), EXCLUDING_FLAGS, "provider"),
    "all": TrustPolicy(frozenset(GRADES), frozenset(), "all"),
}

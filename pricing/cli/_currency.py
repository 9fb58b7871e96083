"""The currency options of the commands (``--currency``, ``--fx``, ``--max-fx-age-days``) and
the lines that report the exchange rates an answer used, after it."""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from pricing.cli._common import fail, out
from pricing.errors import PricingError

if TYPE_CHECKING:
    from pricing._fx.convert import Conversion, Converter

#: The ``--fx`` texts of the running command, for :func:`print_conversions` to say which of
#: them converted nothing.
_FX_GIVEN: ContextVar[list[str] | None] = ContextVar("pricing_fx_given", default=None)


def remember_fx(value: list[str] | None) -> list[str] | None:
    """Keep the ``--fx`` texts of the running command (the option's callback)."""
    _FX_GIVEN.set(list(value or []))
    return value


def converter_or_fail(
    currency: str,
    fx: list[str] | None,
    max_age_days: int,
    *,
    data: Path | None = None,
    planning: bool = False,
) -> Converter:
    """A :class:`~pricing._fx.convert.Converter` into ``currency``, or a clean exit saying
    what is wrong with the code or a ``--fx`` rate."""
    from pricing._fx.convert import Converter

    try:
        return Converter(
            currency.strip().upper(),
            root=data,
            overrides=fx,
            max_age_days=max_age_days,
            planning=planning,
        )
    except PricingError as exc:
        raise fail(str(exc)) from exc


def print_conversions(
    conversions: list[Conversion], limit: int = 12, *, given: list[str] | None = None
) -> None:
    """The exchange rates an answer used (rate, day, source, kind), after it; a planning rate
    and a rate older than a few days are said to be so. Consecutive days converted alike (the
    same rate from the same day and source) share one line naming the days' range; beyond
    ``limit`` lines (a log over many days) the first and last are shown and the rest counted.
    A ``--fx`` rate (``given``; default: those of the running command) that converted
    nothing is said to be unused, with why."""
    if given is None:
        given = _FX_GIVEN.get()
    for text in unused_rates(given, conversions):
        out.print(
            f"[yellow]note:[/] --fx {escape(text)} was not used: no amount of this answer "
            "needed that pair (add --currency to report in another currency)",
            highlight=False,
            soft_wrap=True,
        )
    if not conversions:
        return
    out.print("[bold]Exchange rates used[/]", highlight=False)
    lines = [_conversion_line(run) for run in _runs(conversions)]
    shown = lines
    if len(lines) > limit:
        shown = [*lines[: limit // 2], f"... {len(lines) - limit} more", *lines[-(limit // 2) :]]
    for line in shown:
        out.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


def unused_rates(given: list[str] | None, conversions: list[Conversion]) -> list[str]:
    """The ``--fx`` texts whose pair (either way round) no user-rate conversion used."""
    if not given:
        return []
    from pricing._fx.convert import parse_overrides

    used = {frozenset((c.from_currency, c.to_currency)) for c in conversions if c.kind == "user"}
    unused = []
    for text in given:
        (pair,) = parse_overrides([text])
        if frozenset((pair[:3], pair[3:])) not in used:
            unused.append(text)
    return unused


def _runs(conversions: list[Conversion]) -> list[list[Conversion]]:
    """``conversions`` cut into runs of neighbours with the same pair, rate, kind, day, source."""

    def key(c: Conversion) -> tuple[object, ...]:
        return (type(c), c.from_currency, c.to_currency, c.rate, c.kind, c.day, c.source)

    runs: list[list[Conversion]] = []
    for c in conversions:
        if runs and key(c) == key(runs[-1][-1]) and not c.stale:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def _conversion_line(run: list[Conversion]) -> str:
    first, last = run[0], run[-1]
    if len(run) == 1:
        return f"{first.asked}: {first.describe()}"
    text = first.describe().replace(f" for {first.asked}", " for each of these dates")
    return f"{first.asked} to {last.asked} ({len(run)} dates): {text}"

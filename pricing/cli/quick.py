"""The quick commands, run without typer: ``pricing quote`` and ``pricing cards list``.

The two commands people run most often, and wait for, print in a fraction of a second; typer
would add 30 to 50 ms to each (importing it, then building a pydantic validator for each of
the quote's two dozen options on every run: benchmarks/bench_cli.py times both ways). So the
console script first offers the command line to :func:`run_quick`, which reads the options of
these two commands itself, by the table :data:`QUICK` below, and calls the same work
functions typer calls (:func:`pricing.cli.quoting.quote_run`,
:func:`pricing.cli.listing.list_offers`).

It reads only the plain forms: ``--option value``, ``--option=value`` and flags, with values
typer would take unchanged (whole numbers as digits, decimals as digits and a point; no option
of these commands has a range digits could leave). Anything else, ``--help``, an unknown or
repeated option, a value starting with ``-``, a number in another spelling, is left to typer
(:func:`run_quick` returns False having done nothing), so that help and every complaint about
the command line stay typer's. tests/test_cli_quick.py holds :data:`QUICK` to the typer
declarations (names, flags, kinds, defaults, ranges, callbacks), the values read to typer's
for generated command lines, and the output of both paths to each other.

``PRICING_QUICK=0`` turns the quick path off (every command through typer).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["QUICK", "Opt", "parse", "quick_command", "run_quick"]


class Opt(NamedTuple):
    """One option of a quick command, as its typer declaration has it."""

    flag: str  # "--model"
    name: str  # the work function's keyword
    kind: str  # "str", "int", "float", "path", "flag" (a bool flag), "list" (repeatable str)
    default: object = None
    callback: str | None = None  # "module:function" the declaration calls with the value


#: The options shared by both commands.
_DATA = Opt("--data", "data", "path")
_AS_OF = Opt("--as-of", "as_of", "str")
_JSON = Opt("--json", "as_json", "flag", False)

QUOTE = (
    Opt("--model", "model", "str"),
    Opt("--size", "size", "str", "1024x1024"),
    Opt("--count", "count", "int", 1),
    Opt("--operation", "operation", "str", "generate"),
    Opt("--input-images", "input_images", "int", 0),
    Opt("--input-size", "input_size", "str"),
    Opt("--input-image-tokens", "input_image_tokens", "int"),
    Opt("--prompt-tokens", "prompt_tokens", "int", 0),
    Opt("--quality", "quality", "str"),
    Opt("--steps", "steps", "int"),
    Opt("--seconds", "seconds", "float"),
    Opt("--monthly-volume", "monthly_volume", "int"),
    Opt("--offer", "offer", "str"),
    Opt("--source", "source", "str"),
    _AS_OF,
    Opt("--all", "all_offers", "flag", False),
    _DATA,
    Opt("--evidence", "evidence", "str"),
    Opt("--currency", "currency", "str"),
    Opt("--fx", "fx", "list", callback="pricing.cli._currency:remember_fx"),
    Opt("--max-fx-age-days", "max_fx_age_days", "int", 7),  # min=0: digits are never below
    _JSON,
)
CARDS_LIST = (
    Opt("--provider", "provider", "str"),
    Opt("--model", "model", "str"),
    _AS_OF,
    _DATA,
    _JSON,
)

#: The quick commands: words of the command line -> ("module:work function", options).
QUICK: dict[tuple[str, ...], tuple[str, tuple[Opt, ...]]] = {
    ("quote",): ("pricing.cli.quoting:quote_run", QUOTE),
    ("cards", "list"): ("pricing.cli.listing:list_offers", CARDS_LIST),
}

_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def quick_command(argv: list[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """The quick command ``argv`` starts with and the rest of it, or None."""
    for words in QUICK:
        if tuple(argv[: len(words)]) == words:
            return words, argv[len(words) :]
    return None


def parse(options: tuple[Opt, ...], args: list[str]) -> dict[str, Any] | None:
    """The work function's keywords for ``args`` (defaults for options not given), or None
    when ``args`` holds anything but the plain forms the module's docstring lists."""
    by_flag = {o.flag: o for o in options}
    given: dict[str, Any] = {}
    rest = list(args)
    while rest:
        token = rest.pop(0)
        flag, equals, value = token.partition("=")
        opt = by_flag.get(flag)
        if opt is None or (opt.name in given and opt.kind != "list"):
            return None
        if opt.kind == "flag":
            if equals:
                return None
            given[opt.name] = True
            continue
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        read = _value(opt, value)
        if read is None:
            return None
        if opt.kind == "list":
            given.setdefault(opt.name, []).append(read)
        else:
            given[opt.name] = read
    return {o.name: given.get(o.name, o.default) for o in options}


def _value(opt: Opt, text: str) -> object | None:
    """``text`` as the value of ``opt``, or None when typer should read it."""
    if text.startswith("-"):
        return None
    if opt.kind == "int":
        return int(text) if _WHOLE.fullmatch(text) else None
    if opt.kind == "float":
        return float(text) if _DECIMAL.fullmatch(text) else None
    return Path(text) if opt.kind == "path" else text


def _named(target: str) -> Callable[..., Any]:
    module, _, function = target.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return found


def run_quick(argv: list[str]) -> bool:
    """Run ``pricing ARGV`` here and return True if it is a quick command whose options all
    read plainly (it may still end by ``SystemExit``, as under typer); else do nothing and
    return False, for typer to run it."""
    if os.environ.get("PRICING_QUICK") == "0" or (found := quick_command(argv)) is None:
        return False
    target, options = QUICK[found[0]]
    values = parse(options, found[1])
    if values is None:
        return False
    from pricing.cli._guard import run_guarded

    def work() -> None:
        for opt in options:
            if opt.callback is not None:
                values[opt.name] = _named(opt.callback)(values[opt.name])
        _named(target)(**values)

    run_guarded(work)
    return True

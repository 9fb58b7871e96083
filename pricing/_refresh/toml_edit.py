"""Append-only TOML edits of the data files: new sources, GPU offers, price versions, offers.

History is never rewritten: new ``[[source]]`` and ``[[offer]]`` tables go at the end of their
file, a new ``[[offers.versions]]`` table goes at the end of its offer's block, a new offer at
the end of its card. Every existing byte is kept. Each edit is checked by parsing the result
and comparing it, model by model, with what was meant: if the text landed anywhere else (an
unusual file layout), :class:`~pricing.errors.RefreshError` is raised and nothing is used.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from pricing._cards.loader import SCHEMA_LINE
from pricing._cards.schema import Offer, PriceVersion, RateCard
from pricing.errors import RefreshError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_OFFERS_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*offers[ \t]*\]\][ \t]*(#.*)?$")
_INDENT = "  "
#: Largest decimal exponent written (a figure past 10**12 is refused long before this).
_MAX_EXPONENT = 30


def toml_value(value: Any) -> str:
    """One TOML value: strings quoted (JSON escapes are valid TOML), decimals exact, inline
    tables and arrays on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value.adjusted()) > _MAX_EXPONENT:
            raise RefreshError("refresh", f"{value:.3e} is no figure a data file can hold")
        text = format(value.normalize(), "f")
        return text if "." in text else f"{text}.0"
    if isinstance(value, float):
        raise TypeError("floats are not exact; pass a Decimal")
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def toml_string(text: str) -> str:
    """``text`` as a one-line TOML basic string: JSON escapes (valid TOML) for quotes,
    backslashes and controls, and ``\\uXXXX`` for DEL and every other character that is not
    printable (U+2028 and U+2029 among them, which some readers take for line breaks); a lone
    surrogate, which no UTF-8 file can hold, becomes U+FFFD."""
    quoted = json.dumps(text, ensure_ascii=False)
    if quoted.isprintable():
        return quoted
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in quoted)


def _escape(ch: str) -> str:
    if 0xD800 <= ord(ch) <= 0xDFFF:
        return "\\ufffd"
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else toml_string(name)


def _lines(text: str) -> list[str]:
    """``text`` split after each ``\\n`` only (``str.splitlines`` also splits at U+2028,
    U+2029, form feeds and more, which are not line breaks in TOML)."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _dump(model: BaseModel) -> dict[str, Any]:
    """Fields that differ from their defaults, in field order; ``unit`` before ``when``."""
    raw = model.model_dump(mode="python", exclude_defaults=True, exclude_none=True)
    if "unit" in raw:
        raw = {"unit": raw.pop("unit"), **raw}
    if "when" in raw:
        raw["when"] = raw.pop("when")
    return raw


def table(header: str, model: BaseModel, indent: str = "", *, last: Sequence[str] = ()) -> str:
    """``[[header]]`` and one ``key = value`` line per set field; ``last`` keys go last, and a
    list of tables under them is written one element per line."""
    raw = _dump(model)
    lines = [f"{indent}[[{header}]]"]
    tail = [k for k in last if k in raw]
    for name, value in raw.items():
        if name not in tail:
            lines.append(f"{indent}{_key(name)} = {toml_value(value)}")
    for name in tail:
        items = [_dump(m) for m in getattr(model, name)]
        inner = "".join(f"{indent}{_INDENT}{toml_value(i)},\n" for i in items)
        lines.append(f"{indent}{_key(name)} = [\n{inner}{indent}]")
    return "\n".join(lines) + "\n"


def version_table(version: PriceVersion) -> str:
    """A ``[[offers.versions]]`` table, indented as in the bundled cards."""
    return table("offers.versions", version, _INDENT, last=("components",))


def offer_tables(offer: Offer) -> str:
    """An ``[[offers]]`` table with its versions."""
    head = offer.model_copy(update={"versions": []})
    raw = _dump(head)
    raw.pop("versions", None)
    lines = ["[[offers]]", *(f"{_key(k)} = {toml_value(v)}" for k, v in raw.items())]
    versions = "\n".join(version_table(v) for v in offer.versions)
    return "\n".join(lines) + "\n\n" + versions


def new_card_text(card: RateCard) -> str:
    """A whole rate-card file, line 1 pointing at the schema."""
    raw = _dump(card.model_copy(update={"offers": []}))
    raw.pop("offers", None)
    lines = [SCHEMA_LINE, *(f"{_key(k)} = {toml_value(v)}" for k, v in raw.items())]
    return "\n".join(lines) + "\n" + "".join("\n" + offer_tables(o) for o in card.offers)


def append_blocks(text: str, blocks: Sequence[str], comment: str) -> str:
    """``text`` with a comment line and ``blocks`` added at the end."""
    if not blocks:
        return text
    head = text if text.endswith("\n") or not text else text + "\n"
    return head + f"\n# {comment}\n" + "\n".join(blocks)


def edit_card(
    text: str,
    rel: str,
    versions: Mapping[str, Sequence[PriceVersion]],
    offers: Sequence[Offer],
    comment: str,
) -> str:
    """Add ``versions`` (offer id -> new versions) and new ``offers`` to a card's text.

    Raises
    ------
    RefreshError
        When the card's ``[[offers]]`` tables cannot be located line by line, or the edited
        text does not parse to exactly the old card plus the additions.
    """
    before = _card(text, rel, "before the edit")
    ids = [o.id for o in before.offers]
    lines = _lines(text)
    headers = [i for i, line in enumerate(lines) if _OFFERS_HEADER.match(line.rstrip("\r\n"))]
    if len(headers) != len(ids):
        raise RefreshError(
            rel,
            f"found {len(headers)} `[[offers]]` header lines for {len(ids)} offers, so new "
            "price versions cannot be placed safely; add them by hand",
        )
    inserts: dict[int, str] = {}
    for offer_id, new in versions.items():
        if offer_id not in ids or not new:
            continue
        k = ids.index(offer_id)
        at = headers[k + 1] if k + 1 < len(headers) else len(lines)
        # Blank lines and the comments that introduce the next offer stay with that offer.
        while at > headers[k] + 1 and (
            not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")
        ):
            at -= 1
        inserts[at] = "\n" + "\n".join(version_table(v) for v in new)
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in inserts:
            out.append(inserts[i])
        out.append(line)
    if len(lines) in inserts:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        out.append(inserts[len(lines)])
    edited = append_blocks("".join(out), [offer_tables(o) for o in offers], comment)
    expected = before.model_copy(
        update={
            "offers": [
                o.model_copy(update={"versions": [*o.versions, *versions.get(o.id, [])]})
                for o in before.offers
            ]
            + list(offers)
        }
    )
    after = _card(edited, rel, "after the edit")
    if after != expected:
        raise RefreshError(
            rel,
            "the edited card does not read back as the old card plus the new versions (an "
            "unusual layout); add them by hand",
        )
    return edited


def _card(text: str, rel: str, when: str) -> RateCard:
    try:
        return RateCard.model_validate(tomllib.loads(text, parse_float=Decimal))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise RefreshError(rel, f"the card does not load {when}: {exc}") from None


def check_appended(
    old: str, new: str, rel: str, key: str, model: type[BaseModel], expected: Sequence[BaseModel]
) -> None:
    """Check that ``new`` is ``old`` plus ``[[key]]`` tables that read back as ``expected``.

    Tables added after the last line of a file extend its top-level ``key`` array, so only
    the added text is parsed here; the whole file is loaded later with the project's loader.
    """
    if not new.startswith(old):
        raise RefreshError(rel, "the edit would change existing text")
    try:
        raw = tomllib.loads(new[len(old) :], parse_float=Decimal)
        got = [model.model_validate(item) for item in raw.get(key, [])]
    except (tomllib.TOMLDecodeError, ValidationError, TypeError) as exc:
        raise RefreshError(rel, f"the appended entries do not load back: {exc}") from None
    if set(raw) - {key} or got != list(expected):
        raise RefreshError(rel, "the appended entries do not read back as written")

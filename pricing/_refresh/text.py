"""Text from feeds, made plain before it can reach a data file.

A feed's strings (offer names, notes, ids) end up inside TOML strings. They are normalised
on arrival: line and paragraph separators (U+2028, U+2029, NEL) and every other control
character become a space, invisible format characters (bidirectional overrides, zero-width
marks) are dropped, a lone surrogate (valid in JSON, not in UTF-8) becomes U+FFFD, and runs
of spaces made that way shrink to one. A name then cannot start a new line, so it cannot
start a TOML table (``[[offers]]``) in the file it is written to.
"""

from __future__ import annotations

import unicodedata
from typing import Any

#: Categories replaced by a space: controls, line and paragraph separators.
_SPACE = frozenset({"Cc", "Zl", "Zp"})


def _plain(ch: str) -> str:
    kind = unicodedata.category(ch)
    if kind in _SPACE:
        return " "
    if kind == "Cs":
        return "\ufffd"
    if kind == "Cf":
        return ""
    return ch


def clean_text(text: str) -> str:
    """``text`` on one line, without control or format characters (see the module)."""
    if text.isprintable():
        return text
    cleaned = "".join(_plain(ch) for ch in text)
    while "  " in cleaned:
        cleaned = cleaned.replace("  ", " ")
    return cleaned.strip()


def clean_doc(doc: Any) -> Any:
    """``doc`` (parsed JSON or TOML) with every string, keys included, through
    :func:`clean_text`; other values as they are."""
    if isinstance(doc, str):
        return clean_text(doc)
    if isinstance(doc, dict):
        return {clean_doc(k): clean_doc(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [clean_doc(v) for v in doc]
    return doc

"""The field and the fix of the rules a data model checks across fields.

A pydantic model validator (``effective_to`` after ``effective_from``, ``price`` or
``tiers``...) fails at the level of the whole version or component, so its error carries no
field. :func:`rule_fix` names the field each rule is about and says how to satisfy it.
"""

from __future__ import annotations

import re

#: (text in the rule's message, field it is about, the fix).
RULES: tuple[tuple[str, str, str], ...] = (
    (
        "`effective_to` must be after `effective_from`",
        "effective_to",
        "set `effective_to` to a day after `effective_from` (it is the first day the price no "
        "longer applies), or remove it if the price is still in force",
    ),
    (
        "credit components need `credit_value`",
        "credit_value",
        "add `credit_value` (the price of one credit) to the version",
    ),
    (
        "give exactly one of `price` or `tiers`",
        "price",
        "write either `price` (one price per image) or `tiers` (prices by monthly volume)",
    ),
    ("`price_high`", "price_high", "make `price_high` the upper end of the range, or remove it"),
    ("the first tier must start at 0", "tiers", "make the first tier `start = 0`"),
    ("tier starts must ascend", "tiers", "list the tiers by `start`, each start once"),
    (
        "`increment` is required",
        "increment",
        "give `increment` with rounding = 'increment', and only then",
    ),
    ("`increment` must be positive", "increment", "make `increment` above 0"),
    ("`first` applies to output", "first", "remove `first` or set applies_to = 'output'"),
    (
        "`included_gpu_hours` needs",
        "gpu_seconds_per_image",
        "add `gpu_seconds_per_image` (the GPU time one image uses)",
    ),
    (
        "give `included_images` or `included_gpu_hours`",
        "included_images",
        "keep one of `included_images` and `included_gpu_hours`",
    ),
    (
        "can apply to the same request",
        "components",
        "give the components different `when` conditions, or merge them",
    ),
    ("`default_quality`", "default_quality", "add it to `qualities` or change it"),
    ("`quality_scale`", "quality_scale", "map the neutral words to words of `qualities`"),
    ("a bracket needs", "brackets", "give the bracket `max_side` or `max_megapixels`"),
    ("`grade` and `grade_reason`", "grade_reason", "give `grade` and `grade_reason`, or neither"),
)
_FIELD = re.compile(r"`([a-z_]+)`")


def rule_fix(message: str) -> tuple[str, str] | None:
    """(field, fix) of a cross-field rule's message; None when the message is no such rule.
    A rule not listed is located at its first back-quoted field name."""
    for text, field, fix in RULES:
        if text in message:
            return field, fix
    named = _FIELD.search(message)
    if named is None:
        return None
    return named.group(1), f"change `{named.group(1)}` as the message says"

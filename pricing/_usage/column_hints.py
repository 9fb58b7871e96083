"""Which standard column a log's unread column is likely meant to be, if any.

The hint is said in a replay's notes with the mapping that would read the column as that
standard one (``--map widht=width``), so a wrong hint is worse than none: mapped, a Hive
partition's ``month`` read as ``count`` would quarantine every row. So a hint is only given
for a standard column the log does not already have, from (in this order) a name logs use for
it (``user_id`` for ``account``, ``cost`` for ``billed_cost``), a word of the name that is a
standard column (``model_name``, ``image_count``), or a near spelling (``widht``, ``acount``;
difflib's ratio of at least :data:`CLOSE`, which ``month`` and ``count`` (0.6) are not).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence

#: How alike a name and a standard column must be spelt to be offered as a typo (difflib's
#: ratio): widht/width 0.8, acount/account 0.92; month/count and cost/count 0.6 are not.
CLOSE = 0.75

#: Names logs give standard columns (lower case, words split on anything but letters and
#: digits), beside the standard names themselves.
SYNONYMS: dict[str, str] = {
    "time": "timestamp",
    "ts": "timestamp",
    "datetime": "timestamp",
    "created": "timestamp",
    "created_at": "timestamp",
    "cost": "billed_cost",
    "price": "billed_cost",
    "amount": "billed_cost",
    "spend": "billed_cost",
    "charge": "billed_cost",
    "user": "account",
    "user_id": "account",
    "customer": "account",
    "customer_id": "account",
    "account_id": "account",
    "tenant": "account",
    "tenant_id": "account",
    "vendor": "provider",
    "images": "count",
    "num_images": "count",
    "n_images": "count",
    "model_id": "model",
}


def likely_column(name: str, names: Collection[str], standard: Sequence[str]) -> str | None:
    """The standard column (of ``standard``) the log's column ``name`` is likely meant to be,
    or None; never one of the log's columns ``names`` (that one is read already)."""
    free = [c for c in standard if c not in names]
    key = "_".join(w for w in re.split(r"[^a-z0-9]+", name.strip().lower()) if w)
    if SYNONYMS.get(key) in free:
        return SYNONYMS[key]
    words = key.split("_")
    found = {SYNONYMS.get(w, w) for w in words} & {c for c in free if len(c) > 2}
    found |= {c for c in free if "_" in c and c in key}  # billed_cost in billed_cost_usd
    if len(found) == 1:
        return found.pop()
    close = difflib.get_close_matches(key, free, n=1, cutoff=CLOSE)
    return close[0] if close else None

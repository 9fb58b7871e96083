"""The European Central Bank's reference rates (``eurofxref-daily.xml``) as new FX rows.

A rate already recorded for a day and currency is never replaced: a different figure for it is
reported as skipped, for a person to check.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import polars as pl

from pricing._fx.ecb import parse_ecb_xml
from pricing._refresh.additions import Additions, Context, pct
from pricing._refresh.changes import value_change
from pricing._refresh.feed import Feed, FeedFetch
from pricing.errors import FxError, RefreshError


def parse_ecb(data: bytes, source: str, source_id: str) -> pl.DataFrame:
    """ECB reference rates as an FX frame (see :func:`pricing.parse_ecb_xml`), rows citing
    ``source_id``; :class:`RefreshError` instead of ``FxError`` on a bad document."""
    try:
        return parse_ecb_xml(data, source=source_id)
    except FxError as exc:
        raise RefreshError(source, str(exc).removeprefix(f"{source_id}: ")) from None


def plan_fx(frame: pl.DataFrame, ctx: Context, source: str) -> Additions:
    """New dated rates; a rate already recorded for that day and currency is never replaced."""
    adds = Additions()
    existing: dict[tuple[date, str], Decimal] = {}
    history: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for day, code, rate, _ in ctx.fx.select("date", "currency", "per_eur", "source").iter_rows():
        existing[(day, code)] = rate
        history[code].append((day, rate))
    for day, code, rate, sid in frame.select("date", "currency", "per_eur", "source").iter_rows():
        known = existing.get((day, code))
        if known is not None:
            if known == rate:
                adds.unchanged += 1
            else:
                adds.skip(
                    source,
                    f"{code} on {day}",
                    f"the download says {rate.normalize():f}, data/fx has "
                    f"{known.normalize():f}; kept the recorded rate (remove that row by hand "
                    "if the ECB corrected it)",
                )
            continue
        adds.fx_rows.append((day, code, rate, sid))
        if code == "EUR":
            continue
        before = [(d, r) for d, r in history.get(code, []) if d < day]
        old = max(before) if before else None
        large = None if old is None else value_change(f"{code} on {day}", old[1], rate, "per EUR")
        if large is not None and old is not None:
            adds.large.append(f"{large}, after the rate of {old[0]}")
        adds.change(
            source,
            code,
            f"{code} per EUR on {day}",
            None if old is None else f"{old[1].normalize():f} (on {old[0]})",
            f"{rate.normalize():f}",
            None if old is None else pct(old[1], rate),
        )
    return adds


def run(feed: Feed, ctx: Context, sid: str, fetch: FeedFetch) -> Additions:
    """Fetch the rates, parse them (rows citing ``sid``) and keep the days not recorded yet."""
    return plan_fx(parse_ecb(fetch(feed.url).body, feed.name, sid), ctx, feed.name)

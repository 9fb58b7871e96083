"""The European Central Bank's reference rates as new FX rows: the daily XML, or the history.

The daily feed fetches ``eurofxref-daily.xml`` (the latest business day); a feed citing
``ecb-eurofxref-hist`` (see :mod:`pricing._refresh.feeds.ecb_history`) fetches the full history,
``eurofxref-hist.zip``, every business day since 1999. Either way only the days and currencies
not recorded yet become new rows. A rate already recorded for a day and currency is never
replaced: a different figure for it is reported as skipped, for a person to check.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pricing._fx.ecb import parse_ecb_xml
from pricing._fx.history import HISTORY_SOURCE, parse_ecb_history
from pricing._refresh.additions import Additions, Context, pct
from pricing._refresh.changes import value_change
from pricing._refresh.feed import Feed, FeedFetch
from pricing._refresh.http import fetch as http_fetch
from pricing.errors import FxError, RefreshError

_KEYS = ["date", "currency"]


def parse_ecb(data: bytes, source: str, source_id: str) -> pl.DataFrame:
    """ECB reference rates as an FX frame (see :func:`pricing.parse_ecb_xml`), rows citing
    ``source_id``; :class:`RefreshError` instead of ``FxError`` on a bad document."""
    try:
        return parse_ecb_xml(data, source=source_id)
    except FxError as exc:
        raise RefreshError(source, str(exc).removeprefix(f"{source_id}: ")) from None


def parse_history(data: bytes, source: str, source_id: str, today: date) -> pl.DataFrame:
    """The ECB's history zip as an FX frame (see :func:`pricing._fx.history.parse_ecb_history`),
    rows citing ``source_id``, none dated after ``today`` (the fetch day) + 1;
    :class:`RefreshError` instead of ``FxError`` on a bad file."""
    try:
        return parse_ecb_history(data, source_id, today=today)
    except FxError as exc:
        raise RefreshError(source, str(exc).removeprefix(f"{source_id}: ")) from None


def plan_fx(frame: pl.DataFrame, ctx: Context, source: str) -> Additions:
    """New dated rates; a rate already recorded for that day and currency is never replaced.

    Compared with the data by joins (the bundled history holds ~230,000 rates), in the order of
    ``frame``: each new rate is set against the latest recorded one before its day.
    """
    adds = Additions()
    recorded = ctx.fx.select(*_KEYS, pl.col("per_eur").alias("known"))
    rows = (
        frame.select(*_KEYS, "per_eur", "source")
        .with_row_index("order")
        .join(recorded, on=_KEYS, how="left")
        .sort("order")
    )
    known = rows.filter(pl.col("known").is_not_null())
    adds.unchanged = known.filter(pl.col("known") == pl.col("per_eur")).height
    differing = known.filter(pl.col("known") != pl.col("per_eur"))
    for day, code, rate, old in differing.select(*_KEYS, "per_eur", "known").iter_rows():
        adds.skip(
            source,
            f"{code} on {day}",
            f"the download says {rate.normalize():f}, data/fx has "
            f"{old.normalize():f}; kept the recorded rate (remove that row by hand "
            "if the ECB corrected it)",
        )
    before = recorded.rename({"date": "old_day", "known": "old"}).sort("old_day")
    new = (
        rows.filter(pl.col("known").is_null())
        .sort("date")
        .join_asof(
            before,
            left_on="date",
            right_on="old_day",
            by="currency",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,  # both sides are sorted by date just above
        )
        .sort("order")
    )
    columns = [*_KEYS, "per_eur", "source", "old_day", "old"]
    for day, code, rate, sid, old_day, old in new.select(columns).iter_rows():
        adds.fx_rows.append((day, code, rate, sid))
        if code == "EUR":
            continue
        large = None if old is None else value_change(f"{code} on {day}", old, rate, "per EUR")
        if large is not None:
            adds.large.append(f"{large}, after the rate of {old_day}")
        adds.change(
            source,
            code,
            f"{code} per EUR on {day}",
            None if old is None else f"{old.normalize():f} (on {old_day})",
            f"{rate.normalize():f}",
            None if old is None else pct(old, rate),
        )
    return adds


def run(feed: Feed, ctx: Context, sid: str, fetch: FeedFetch) -> Additions:
    """Fetch the rates, parse them (rows citing ``sid``) and keep the days not recorded yet.

    A feed citing ``ecb-eurofxref-hist`` fetches the history zip (asking for a zip, not XML,
    with the same client, policy and cache as every feed), the others the daily XML.
    """
    if feed.prefix != HISTORY_SOURCE:
        return plan_fx(parse_ecb(fetch(feed.url).body, feed.name, sid), ctx, feed.name)
    got = http_fetch(
        feed.url, source=feed.name, client=fetch.client, policy=fetch.policy, cache=fetch.cache,
        auth=feed.auth, accept="application/zip",
    )  # fmt: skip
    fetch.responses.append((feed.url, got))  # cached once the whole refresh succeeded
    return plan_fx(parse_history(got.body, feed.name, sid, ctx.day), ctx, feed.name)

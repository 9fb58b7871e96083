"""``pricing fx pull --history``: the ECB's full reference-rate history, new days only.

The feed fetches ``eurofxref-hist.zip`` (every business day since 1999-01-04, ~650 kB) through
the refresh's safe fetch (HTTPS, size limit, time limits, retries, HTTP cache), parses it with
:func:`pricing._fx.history.parse_ecb_history` and keeps only the days and currencies the data
does not hold yet (:func:`pricing._refresh.feeds.ecb.plan_fx`): the bundled history,
``data/fx/ecb-history.parquet``, is never rewritten. New rows are appended to
``data/fx/ecb.csv``, as the daily pull's are, citing a new source ``ecb-eurofxref-hist-<day>``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pricing._fx.history import HISTORY_SOURCE, HISTORY_URL
from pricing._refresh.feed import Feed
from pricing._refresh.http import FetchPolicy
from pricing._refresh.run import RefreshReport, fetch_time, run_feeds

#: Name of the feed in reports and errors.
HISTORY_FEED = "ecb-history"


def history_feed(url: str | None = None) -> Feed:
    """The feed of the ECB's history zip, at ``url`` (default: the ECB's own address)."""
    return Feed(
        HISTORY_FEED,
        "ecb",
        url or HISTORY_URL,
        "official",
        "Euro foreign exchange reference rates: full history (eurofxref-hist.zip)",
        "European Central Bank",
        HISTORY_SOURCE,
    )


def pull_fx_history(
    url: str | None = None,
    *,
    data_dir: str | Path | None = None,
    dry_run: bool = False,
    policy: FetchPolicy | None = None,
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
    accept_large_change: bool = False,
) -> RefreshReport:
    """Pull the ECB's full history and append the days not recorded yet to ``fx/ecb.csv``.

    Parameters as in :func:`pricing._refresh.run.refresh`; ``url`` replaces the ECB's address
    (a mirror, or a test server). A rate already recorded for a day and currency is kept, and a
    different figure for it reported in ``report.skipped``.

    Raises
    ------
    RefreshError
        When the fetch fails, the zip is not a valid ECB history (or too large once inflated),
        a rate is implausible or dated after the fetch day, or the data does not validate
        afterwards. Nothing is written then.
    """
    return run_feeds(
        [history_feed(url)],
        data_dir=data_dir,
        dry_run=dry_run,
        policy=policy or FetchPolicy(),
        cache_dir=cache_dir,
        fetched_at=fetch_time(now),
        progress=None,
        accept_large_change=accept_large_change,
    )

"""Refresh prices over HTTP: fetch, validate, compare, and append dated entries atomically.

One run of :func:`refresh` goes through its sources in order: fetch each (see
:mod:`pricing._refresh.http`), parse and validate it with the same pydantic models as local data,
and compare it with the data (:mod:`pricing._refresh.additions`); each kind of source has its
module in :mod:`pricing._refresh.feeds`, picked by :data:`pricing._refresh.registry.FEED_RUNNERS`.
Only when every source succeeded are the additions written:

1. every edited file is built in a staging copy of the data directory, append-only (new
   ``[[source]]``, ``[[offer]]`` and ``[[offers.versions]]`` tables, new FX rows);
2. the staging copy is loaded with the project's own loaders (cards, GPUs, FX); any problem
   aborts the run and nothing is written;
3. each edited file is moved into place with a temp file and ``os.replace``, after checking that
   nobody changed it meanwhile.

A failed source, a bad response or a validation problem raises :class:`RefreshError` naming
the source and the reason, and leaves the data directory byte-for-byte unchanged.

Every source that contributes gets a new ``data/sources.toml`` entry: id ``<prefix>-<day>``,
the URL fetched, ``seen`` = the fetch day (UTC) and the fetch time in its notes. New price
versions start on the fetch day and cite that source; nothing existing is edited.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from pricing._base.progress import Progress
from pricing._base.urls import redact_url
from pricing._cards.loader import bundled_data_dir, load_data
from pricing._cards.schema import Source
from pricing._fx.store import load_fx
from pricing._gpus.gpus import load_gpus
from pricing._refresh.additions import Additions, Context, validation_reason
from pricing._refresh.cache import Fetched, HttpCache, default_cache_dir
from pricing._refresh.feed import Feed
from pricing._refresh.http import FetchPolicy
from pricing._refresh.registry import feeds_for, run_feed
from pricing._refresh.write import write_additions
from pricing.errors import RateCardError, RefreshError

# --------------------------------------------------------------------------- report


_SUMMARY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source": pl.String,
    "url": pl.String,
    "status": pl.String,
    "http_status": pl.Int64,
    "new": pl.Int64,
    "changed": pl.Int64,
    "unchanged": pl.Int64,
    "skipped": pl.Int64,
    "source_id": pl.String,
    "reason": pl.String,
}
_CHANGES_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source": pl.String,
    "item": pl.String,
    "detail": pl.String,
    "old": pl.String,
    "new": pl.String,
    "change_pct": pl.Float64,
    "status": pl.String,
}
_SKIPPED_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source": pl.String,
    "item": pl.String,
    "reason": pl.String,
}


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh found and did.

    Attributes
    ----------
    data_dir : Path
        The data directory compared with (and written to, unless ``dry_run``).
    fetched_at : datetime
        When the refresh ran, timezone-aware UTC; new entries are dated its day.
    dry_run : bool
        Whether writing was skipped on purpose.
    sources : polars.DataFrame
        One row per source: ``source, url, status`` (ok, not-modified, failed, skipped),
        ``http_status, new, changed, unchanged, skipped`` [counts], ``source_id`` (the new
        ``data/sources.toml`` entry, when it contributed) and ``reason`` (why it failed).
    changes : polars.DataFrame
        The diff: ``source, item`` (offer or currency), ``detail, old, new`` (prices as text
        with units), ``change_pct`` [%, null when not comparable] and ``status`` (new, changed).
    skipped : polars.DataFrame
        Records not imported and why: ``source, item, reason``.
    written : tuple of Path
        Files replaced; empty on a dry run or when nothing changed.
    """

    data_dir: Path
    fetched_at: datetime
    dry_run: bool
    sources: pl.DataFrame
    changes: pl.DataFrame
    skipped: pl.DataFrame
    written: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        """Whether every source succeeded (or was skipped for want of a key)."""
        return not self.failed

    @property
    def failed(self) -> list[str]:
        """Names of the sources that failed."""
        return self.sources.filter(pl.col("status") == "failed")["source"].to_list()


# --------------------------------------------------------------------------- run


def _context(root: Path, fetched_at: datetime, accept_large_change: bool) -> Context:
    try:
        return Context(
            load_data(root), load_gpus(root), load_fx(root), fetched_at, accept_large_change
        )
    except RateCardError as exc:
        raise RefreshError(
            "data",
            f"{root} has problems before the refresh; fix them first (pricing cards validate):\n"
            f"{exc}",
        ) from None


def _source_id(prefix: str, day: str, taken: set[str]) -> str:
    for sid in (f"{prefix}-{day}", *(f"{prefix}-{day}-{n}" for n in range(2, 100))):
        if sid not in taken:
            return sid
    raise RefreshError(prefix, f"no free source id for {day}")  # pragma: no cover


def refresh(
    sources: Sequence[str] | None = None,
    *,
    data_dir: str | Path | None = None,
    dry_run: bool = False,
    urls: Mapping[str, str] | None = None,
    policy: FetchPolicy | None = None,
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    accept_large_change: bool = False,
) -> RefreshReport:
    """Fetch new prices and append them to a data directory as dated entries.

    Parameters
    ----------
    sources : sequence of str, optional
        Built-in source names (``ecb``, ``skypilot-aws``, ``skypilot-gcp``, ``skypilot-lambda``,
        ``skypilot-runpod``, ``openrouter``, ``fal``), aliases (``skypilot`` or ``gpus`` for
        the four catalogs, ``fx`` for ``ecb``) or the URL of a rate-card registry. Default:
        every built-in source (fal only when ``FAL_KEY`` is set).
    data_dir : path, optional
        The ``data/`` directory to update; default: the bundled one.
    dry_run : bool
        Fetch, validate and compare, but write nothing (the HTTP cache is still updated).
    urls : mapping, optional
        Source name -> URL, replacing the built-in address (a mirror, or a test server).
    policy : FetchPolicy, optional
        Timeouts [s], retries, size limit [bytes], HTTPS rule, cache use.
    cache_dir : path, optional
        HTTP cache; default :func:`pricing._refresh.cache.default_cache_dir`.
    now : datetime, optional
        Fetch time to record, timezone-aware (default: now, UTC). New entries are dated its
        UTC day.
    progress : callable, optional
        ``progress(done, total, source_name)`` before each source and once at the end.
    accept_large_change : bool
        Record prices that moved more than 10x from the price they replace (default: such a
        change fails the source, naming the offer, the old and the new price).

    Returns
    -------
    RefreshReport
        The per-source summary, the diff and the files written.

    Raises
    ------
    RefreshError
        When a source fails (network, HTTP, size, parse or schema), brings a figure no
        provider would charge (0, non-finite, outside the plausible range of its unit, a
        date in the future; see :mod:`pricing._refresh.guard`), moves a price more than 10x
        unless accepted, or the refreshed data does not validate. Nothing is written then;
        ``error.report`` holds the summary.
    """
    policy = policy or FetchPolicy()
    fetched_at = fetch_time(now)
    auto = sources is None
    feeds = feeds_for(sources, urls)
    return run_feeds(
        feeds,
        data_dir=data_dir,
        dry_run=dry_run,
        policy=policy,
        cache_dir=cache_dir,
        fetched_at=fetched_at,
        progress=progress,
        skip_without_key=auto,
        accept_large_change=accept_large_change,
    )


def fetch_time(now: datetime | None) -> datetime:
    """``now`` in UTC (default: the current time); :class:`RefreshError` when it is naive."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise RefreshError(
            "refresh", f"now={now.isoformat()} is naive; pass a timezone-aware datetime (UTC)"
        )
    return now.astimezone(UTC)


def run_feeds(
    feeds: Sequence[Feed],
    *,
    data_dir: str | Path | None,
    dry_run: bool,
    policy: FetchPolicy,
    cache_dir: str | Path | None,
    fetched_at: datetime,
    progress: Progress | None,
    skip_without_key: bool = False,
    accept_large_change: bool = False,
) -> RefreshReport:
    """Run ``feeds`` against a data directory; see :func:`refresh`."""
    root = Path(data_dir) if data_dir is not None else bundled_data_dir()
    ctx = _context(root, fetched_at, accept_large_change)
    cache = None
    if policy.use_cache:
        cache = HttpCache(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    taken = {s.id for s in ctx.data.sources.source}
    rows: list[dict[str, object]] = []
    total = Additions()
    new_sources: list[Source] = []
    responses: list[tuple[str, Fetched]] = []
    errors: list[RefreshError] = []
    with policy.client() as client:
        for i, feed in enumerate(feeds):
            if progress is not None:
                progress(i, len(feeds), feed.name)
            row: dict[str, object] = {
                "source": feed.name, "url": redact_url(feed.url), "status": "ok"
            }  # fmt: skip
            rows.append(row)
            if skip_without_key and feed.auth and not os.environ.get(feed.auth.variable):
                row.update(status="skipped", reason=f"{feed.auth.variable} is not set")
                continue
            sid = _source_id(feed.prefix, ctx.day.isoformat(), taken)
            try:
                adds, got = run_feed(feed, ctx, sid, client, policy, cache)
                if adds.writes:
                    new_sources.append(_source(feed, sid, fetched_at, got, adds))
            except RefreshError as exc:
                errors.append(exc)
                row.update(status="failed", reason=exc.reason)
                continue
            row.update(_counts(adds, got, sid))
            if adds.writes:
                taken.add(sid)
            total.merge(adds)
            responses.extend(got)
        if progress is not None:
            progress(len(feeds), len(feeds), "")
    report = _report(root, fetched_at, dry_run, rows, total)
    if errors:
        raise _failure(errors, report)
    try:
        written = () if dry_run else write_additions(root, total, new_sources, fetched_at)
    except RefreshError as exc:
        # The staged data is checked as a whole: name every source that added to it.
        named = ", ".join(str(r["source"]) for r in rows if r.get("source_id")) or exc.source
        error = RefreshError(named, exc.reason, url=exc.url)
        error.report = report
        raise error from None
    if cache is not None:
        _keep(cache, responses)
    return replace(report, written=written)


def _counts(adds: Additions, got: list[tuple[str, Fetched]], sid: str) -> dict[str, object]:
    """The summary row of a source that succeeded: its status and counts."""
    statuses = {f.status for _, f in got}
    return {
        "status": "not-modified" if statuses == {304} else "ok",
        "http_status": 304 if statuses == {304} else 200,
        "new": sum(c["status"] == "new" for c in adds.changes),
        "changed": sum(c["status"] == "changed" for c in adds.changes),
        "unchanged": adds.unchanged,
        "skipped": len(adds.skipped),
        "source_id": sid if adds.writes else None,
    }


def _report(
    root: Path, fetched_at: datetime, dry_run: bool, rows: list[dict[str, object]], total: Additions
) -> RefreshReport:
    """The report of a run, before anything is written."""
    return RefreshReport(
        root,
        fetched_at,
        dry_run,
        pl.DataFrame(
            [{k: r.get(k) for k in _SUMMARY_SCHEMA} for r in rows], schema=_SUMMARY_SCHEMA
        ),
        pl.DataFrame(total.changes, schema=_CHANGES_SCHEMA),
        pl.DataFrame(total.skipped, schema=_SKIPPED_SCHEMA),
        (),
    )


def _keep(cache: HttpCache, responses: list[tuple[str, Fetched]]) -> None:
    """Store the full (200) responses of a successful run in the HTTP cache."""
    for url, response in responses:
        if response.status == 200:
            with contextlib.suppress(OSError):  # a cache that cannot be written is no loss
                cache.put(url, response)


def _failure(errors: list[RefreshError], report: RefreshReport) -> RefreshError:
    if len(errors) == 1:
        e = errors[0]
        exc = RefreshError(e.source, f"{e.reason}; nothing was written", url=e.url)
    else:
        listed = "\n".join(f"  - {e}" for e in errors)
        exc = RefreshError(
            ", ".join(e.source for e in errors),
            f"{len(errors)} sources failed; nothing was written:\n{listed}",
        )
    exc.report = report
    return exc


def _source(
    feed: Feed, sid: str, fetched_at: datetime, got: list[tuple[str, Fetched]], adds: Additions
) -> Source:
    """The ``data/sources.toml`` entry that new figures from ``feed`` cite."""
    when = fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    cached = (
        " (unchanged since the cached copy, HTTP 304)"
        if all(f.not_modified for _, f in got)
        else ""
    )
    raw = {
        "id": sid,
        "title": feed.title,
        "publisher": feed.publisher,
        "url": redact_url(feed.url),
        "kind": feed.source_kind,
        "published": max(r[0] for r in adds.fx_rows) if adds.fx_rows else None,
        "seen": fetched_at.date(),
        "notes": f"Fetched {when} by `pricing refresh`{cached}.",
    }
    try:
        return Source.model_validate(raw)
    except ValidationError as exc:
        raise RefreshError(
            feed.name, f"cannot cite this source: {validation_reason(exc)}"
        ) from None

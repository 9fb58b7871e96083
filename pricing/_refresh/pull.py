"""One-source pulls: rate cards from a registry, GPU offers from SkyPilot, rates from the ECB.

Thin wrappers of :func:`pricing._refresh.run.refresh` / :func:`~pricing._refresh.run.run_feeds` with
the parameters each source needs; the behaviour (validation, dated entries, atomic writes,
nothing written on failure) is the refresh's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from pricing._base.choices import SKYPILOT_CLOUDS
from pricing._base.progress import Progress
from pricing._cards.schema import SOURCE_PRECEDENCE, SourceKind
from pricing._refresh.feeds.cards import card_feed
from pricing._refresh.http import EnvAuth, FetchPolicy
from pricing._refresh.run import RefreshReport, fetch_time, refresh, run_feeds
from pricing.errors import RefreshError


def pull_cards(
    url: str,
    *,
    kind: SourceKind = "third-party",
    auth_env: str | None = None,
    auth_header: str = "Authorization",
    auth_scheme: str = "Bearer",
    data_dir: str | Path | None = None,
    dry_run: bool = False,
    policy: FetchPolicy | None = None,
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
    providers: Sequence[str] | None = None,
    accept_large_change: bool = False,
) -> RefreshReport:
    """Pull rate cards (this project's format, TOML or JSON) from a registry URL.

    For each offer of each card, the version the registry has in force on the fetch day is
    compared with the local offer: a new price becomes a new version dated the fetch day,
    citing a new source (``kind``, the URL, the fetch day); a new offer or card is added
    whole. ``auth_env`` names an environment variable whose value is sent as
    ``{auth_header}: {auth_scheme} {value}``. ``providers``: the providers whose cards the
    registry may write (default: the one its URL's file names, ``.../bfl.toml`` -> ``bfl``).
    Other parameters as in :func:`refresh`.

    Raises
    ------
    RefreshError
        As :func:`refresh`; also when ``auth_env`` is set but the variable is not, and when
        the registry holds a card for a provider it may not write.
    """
    if kind not in SOURCE_PRECEDENCE:
        raise RefreshError(url, f"kind {kind!r} is not one of {', '.join(SOURCE_PRECEDENCE)}")
    auth = EnvAuth(auth_env, auth_header, auth_scheme) if auth_env else None
    return run_feeds(
        [card_feed(url, kind, auth, providers=providers)],
        data_dir=data_dir,
        dry_run=dry_run,
        policy=policy or FetchPolicy(),
        cache_dir=cache_dir,
        fetched_at=fetch_time(now),
        progress=None,
        accept_large_change=accept_large_change,
    )


def pull_gpus(
    clouds: Sequence[str] | None = None,
    *,
    urls: Mapping[str, str] | None = None,
    data_dir: str | Path | None = None,
    dry_run: bool = False,
    policy: FetchPolicy | None = None,
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    accept_large_change: bool = False,
) -> RefreshReport:
    """Pull GPU offers (on demand and spot, per region) from SkyPilot's v8 catalogs.

    ``clouds``: some of ``aws, gcp, lambda, runpod`` (default all); ``urls``: cloud -> URL of
    its ``vms.csv``. Other parameters as in :func:`refresh`.
    """
    clouds = list(clouds or SKYPILOT_CLOUDS)
    unknown = [c for c in clouds if c not in SKYPILOT_CLOUDS]
    if unknown:
        raise RefreshError(
            "skypilot", f"unknown cloud(s) {unknown}; known: {', '.join(SKYPILOT_CLOUDS)}"
        )
    named = {
        k if k.startswith("skypilot-") else f"skypilot-{k}": v for k, v in (urls or {}).items()
    }
    return refresh(
        [f"skypilot-{c}" for c in clouds],
        data_dir=data_dir,
        dry_run=dry_run,
        urls=named,
        policy=policy,
        cache_dir=cache_dir,
        now=now,
        progress=progress,
        accept_large_change=accept_large_change,
    )


def pull_fx(
    url: str | None = None,
    *,
    data_dir: str | Path | None = None,
    dry_run: bool = False,
    policy: FetchPolicy | None = None,
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
    accept_large_change: bool = False,
) -> RefreshReport:
    """Pull the ECB's reference rates into ``fx/ecb.csv`` (new days only; see :func:`refresh`)."""
    return refresh(
        ["ecb"],
        data_dir=data_dir,
        dry_run=dry_run,
        urls={"ecb": url} if url else None,
        policy=policy,
        cache_dir=cache_dir,
        now=now,
        accept_large_change=accept_large_change,
    )

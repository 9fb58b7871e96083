"""What the refresh tests share: the local server, a private copy of the bundled data, a fast
fetch policy, a hash of every data file and a refresh of the copy with its cache beside it."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import pricing
from pricing._cards.loader import bundled_data_dir
from pricing._refresh.http import FetchPolicy
from pricing._refresh.run import refresh
from tests._http_server import FixtureServer


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as s:
        yield s


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of the bundled data/ directory."""
    return Path(shutil.copytree(bundled_data_dir(), tmp_path / "data"))


@pytest.fixture
def policy() -> FetchPolicy:
    return FetchPolicy(read_timeout=2.0, retries=2, trust_env=False, sleep=lambda _: None)


def snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by relative path."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def refresh_copy(
    sources: list[str],
    data: Path,
    policy: FetchPolicy,
    urls: dict[str, str],
    *,
    now: datetime,
    dry_run: bool = False,
) -> pricing.RefreshReport:
    """``refresh`` of a data copy, its cache beside it."""
    return refresh(
        sources,
        data_dir=data,
        urls=urls,
        policy=policy,
        cache_dir=data.parent / "cache",
        now=now,
        dry_run=dry_run,
    )

"""The refresh HTTP client against a real server on 127.0.0.1: success, cache, faults, limits."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pricing._refresh.cache import Fetched, HttpCache
from pricing._refresh.http import EnvAuth, FetchPolicy, check_url, fetch
from pricing.errors import RefreshError
from tests._http_server import FixtureServer, Reply, fixture

ECB = fixture("ecb-eurofxref-daily.xml")


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as s:
        yield s


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def policy(sleeps: list[float]) -> FetchPolicy:
    """2 retries, a recorded sleep and no jitter (factor 0.5)."""
    return FetchPolicy(
        connect_timeout=2.0,
        read_timeout=2.0,
        retries=2,
        backoff_base=1.0,
        trust_env=False,
        sleep=sleeps.append,
        jitter=lambda: 0.0,
    )


def get(
    url: str, policy: FetchPolicy, cache: HttpCache | None = None, auth: EnvAuth | None = None
) -> Fetched:
    """One fetch with a client of its own, closed after."""
    with policy.client() as client:
        return fetch(
            url, source="test-source", client=client, policy=policy, cache=cache, auth=auth
        )


def test_success_returns_the_exact_bytes_and_validators(
    server: FixtureServer, policy: FetchPolicy
) -> None:
    url = server.route(
        "/ecb.xml",
        Reply(ECB, etag='"v1"', headers={"Last-Modified": "Wed, 07 Jan 2015 15:00:00 GMT"}),
    )
    got = get(url, policy)
    assert got.body == ECB
    assert (got.status, got.etag, got.last_modified) == (
        200,
        '"v1"',
        "Wed, 07 Jan 2015 15:00:00 GMT",
    )
    assert got.fetched_at.tzinfo is not None
    assert server.count("/ecb.xml") == 1


def test_not_modified_returns_the_cached_body(
    server: FixtureServer, policy: FetchPolicy, tmp_path: Path
) -> None:
    url = server.route("/ecb.xml", Reply(ECB, etag='"v1"'))
    cache = HttpCache(tmp_path / "cache")
    first = get(url, policy, cache)
    cache.put(url, first)
    second = get(url, policy, cache)
    assert server.requests("/ecb.xml")[1].headers["if-none-match"] == '"v1"'
    assert (second.status, second.body, second.not_modified) == (304, ECB, True)


def test_a_damaged_cache_entry_is_ignored(
    server: FixtureServer, policy: FetchPolicy, tmp_path: Path
) -> None:
    url = server.route("/ecb.xml", Reply(ECB, etag='"v1"'))
    cache = HttpCache(tmp_path / "cache")
    cache.put(url, get(url, policy))
    for body in (tmp_path / "cache").glob("*.body"):
        body.write_bytes(b"tampered")
    got = get(url, policy, cache)
    assert "if-none-match" not in server.requests("/ecb.xml")[-1].headers
    assert got.body == ECB


def test_server_errors_are_retried_up_to_the_bound(
    server: FixtureServer, policy: FetchPolicy, sleeps: list[float]
) -> None:
    url = server.route("/x", Reply(b"oops", 500))
    with pytest.raises(
        RefreshError,
        match=r"^test-source \(http://127\.0\.0\.1:\d+/x\): gave up after 3 attempt\(s\): HTTP 500",
    ):
        get(url, policy)
    assert server.count("/x") == 3  # 1 + retries=2
    assert sleeps == [0.5, 1.0]  # base 1 s doubling, times the jitter factor 0.5


def test_429_waits_as_long_as_retry_after_says(
    server: FixtureServer, policy: FetchPolicy, sleeps: list[float]
) -> None:
    url = server.route("/x", Reply(status=429, headers={"Retry-After": "7"}), Reply(b"ok"))
    assert get(url, policy).body == b"ok"
    assert sleeps == [7.0]
    assert server.count("/x") == 2


def test_503_asking_for_too_long_a_wait_fails_at_once(
    server: FixtureServer, policy: FetchPolicy, sleeps: list[float]
) -> None:
    url = server.route("/x", Reply(status=503, headers={"Retry-After": "3600"}))
    with pytest.raises(RefreshError, match="retry after 3600 s, more than the 120 s allowed"):
        get(url, policy)
    assert server.count("/x") == 1
    assert sleeps == []


def test_429_forever_stops_at_the_bound(server: FixtureServer, policy: FetchPolicy) -> None:
    url = server.route("/x", Reply(status=429, headers={"Retry-After": "1"}))
    with pytest.raises(RefreshError, match="HTTP 429"):
        get(url, policy)
    assert server.count("/x") == 3


def test_a_slow_response_times_out(server: FixtureServer, policy: FetchPolicy) -> None:
    url = server.route("/slow", Reply(ECB, delay=5.0))
    start = time.monotonic()
    with pytest.raises(RefreshError, match="timed out"):
        get(url, replace(policy, read_timeout=0.15))
    assert time.monotonic() - start < 3.0  # 3 attempts of 0.15 s, not 5 s each
    assert server.count("/slow") == 3


def test_a_truncated_body_is_not_accepted(server: FixtureServer, policy: FetchPolicy) -> None:
    url = server.route("/cut", Reply(ECB[:500], content_length=len(ECB)))
    with pytest.raises(RefreshError, match="broke before the whole response arrived"):
        get(url, policy)
    assert server.count("/cut") == 3


def test_a_body_over_the_size_limit_is_refused(server: FixtureServer, policy: FetchPolicy) -> None:
    url = server.route("/big", Reply(b"x" * 5000))
    small = FetchPolicy(max_bytes=1000, trust_env=False, sleep=policy.sleep)
    with pytest.raises(RefreshError, match="too large: Content-Length is 5,000 bytes"):
        get(url, small)
    assert server.count("/big") == 1  # not retried


def test_a_compressed_body_that_inflates_over_the_limit_is_refused(
    server: FixtureServer, policy: FetchPolicy
) -> None:
    bomb = gzip.compress(b"0" * 1_000_000)
    url = server.route("/bomb", Reply(bomb, headers={"Content-Encoding": "gzip"}))
    small = FetchPolicy(max_bytes=100_000, trust_env=False, sleep=policy.sleep)
    assert len(bomb) < 100_000
    with pytest.raises(RefreshError, match="too large: more than"):
        get(url, small)


def test_redirects_stay_on_the_same_host(server: FixtureServer, policy: FetchPolicy) -> None:
    server.route("/new", Reply(ECB))
    url = server.route("/old", Reply(status=301, headers={"Location": "/new"}))
    assert get(url, policy).body == ECB
    elsewhere = server.route(
        "/away", Reply(status=302, headers={"Location": server.url("/new", host="localhost")})
    )
    with pytest.raises(RefreshError, match="redirect to another host \\('localhost'\\) refused"):
        get(elsewhere, policy)
    assert server.count("/new") == 1  # only the same-host redirect reached it


def test_a_client_error_is_not_retried(server: FixtureServer, policy: FetchPolicy) -> None:
    with pytest.raises(RefreshError, match="HTTP 404 Not Found; check the URL"):
        get(server.url("/missing"), policy)
    assert server.count("/missing") == 1


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.com/cards.toml", True),
        ("http://127.0.0.1:1/x", True),
        ("http://localhost:1/x", True),
        ("http://[::1]:1/x", True),
        ("http://example.com/cards.toml", False),
        ("ftp://example.com/cards.toml", False),
    ],
)
def test_plain_http_only_to_loopback(url: str, allowed: bool) -> None:
    strict = FetchPolicy()
    if allowed:
        check_url(url, "s", strict)
    else:
        with pytest.raises(RefreshError, match=r"^s "):
            check_url(url, "s", strict)
    check_url(url, "s", FetchPolicy(allow_http=True)) if url.startswith("http") else None


def test_credentials_in_a_url_are_refused() -> None:
    with pytest.raises(RefreshError, match="environment variable") as info:
        check_url("https://user:hunter2@example.com/x", "s", FetchPolicy())
    assert "hunter2" not in str(info.value)


def test_auth_comes_from_the_environment_and_is_never_cached(
    server: FixtureServer, policy: FetchPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.route("/cards.toml", Reply(b"x = 1\n", etag='"a"'))
    auth = EnvAuth("TEAM_PRICES_TOKEN")
    monkeypatch.delenv("TEAM_PRICES_TOKEN", raising=False)
    with pytest.raises(RefreshError, match="TEAM_PRICES_TOKEN is not set"):
        get(url, policy, auth=auth)
    assert server.count("/cards.toml") == 0
    monkeypatch.setenv("TEAM_PRICES_TOKEN", "s3cr3t-value")
    cache = HttpCache(tmp_path / "cache")
    cache.put(url, get(url, policy, cache, auth=auth))
    assert server.requests("/cards.toml")[0].headers["authorization"] == "Bearer s3cr3t-value"
    for path in (tmp_path / "cache").iterdir():
        assert b"s3cr3t" not in path.read_bytes()
    monkeypatch.setenv("TEAM_PRICES_TOKEN", "s3cr3t\nX-Evil: 1")
    with pytest.raises(RefreshError, match="contains control characters") as info:
        get(url, policy, auth=auth)
    assert "s3cr3t" not in str(info.value)

"""A careful HTTP client for price refreshes: one GET, bounded in every direction.

What :func:`fetch` guarantees, whatever the server does:

- **HTTPS only**; plain HTTP only to a loopback address (127.0.0.0/8, ``::1``, ``localhost``)
  or when :attr:`FetchPolicy.allow_http` is set. Credentials in the URL are refused.
- **Timeouts** on connecting and on every read [s]; **a maximum body size** [bytes], checked
  against ``Content-Length`` and again while reading (also after decompression).
- **Bounded retries** with exponential backoff and jitter on timeouts, dropped or truncated
  connections and HTTP 408/429/500/502/503/504; ``Retry-After`` is honoured on 429 and 503.
  ``sleep`` and ``jitter`` are injectable so tests do not wait.
- **Redirects only within the same host**, at most :attr:`FetchPolicy.max_redirects`.
- **Conditional requests**: ``ETag`` / ``Last-Modified`` from an on-disk cache become
  ``If-None-Match`` / ``If-Modified-Since``; a 304 returns the cached body.
- **Secrets stay secret**: an auth header is read from an environment variable at request time;
  it is never logged, put in an error message, or written to the cache (which stores the URL,
  the validators and the body only).

Every failure raises :class:`RefreshError` naming the source, the URL and the reason.
"""

from __future__ import annotations

import email.utils
import ipaddress
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pricing._refresh.cache import Fetched, HttpCache
from pricing.errors import RefreshError

if TYPE_CHECKING:
    import httpx  # imported when a fetch runs: ``import pricing`` stays fast

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_AFTER_STATUS = frozenset({429, 503})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class EnvAuth:
    """An auth header whose secret comes from an environment variable, read at request time.

    The header sent is ``{header}: {scheme} {value}`` (``{value}`` alone when ``scheme`` is
    empty), e.g. ``Authorization: Key <FAL_KEY>``.
    """

    variable: str
    header: str = "Authorization"
    scheme: str = "Bearer"

    def headers(self, source: str) -> dict[str, str]:
        """The header to send; :class:`RefreshError` naming the variable when it is unset."""
        value = os.environ.get(self.variable, "").strip()
        if not value:
            raise RefreshError(
                source,
                f"the environment variable {self.variable} is not set; export it with the API "
                "key (keys are read from the environment only, never from files or arguments)",
            )
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            # Said before httpx sees it: its message would quote the header, secret included.
            raise RefreshError(
                source, f"the value of {self.variable} contains control characters; fix it"
            )
        return {self.header: f"{self.scheme} {value}" if self.scheme else value}


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetch. Times in seconds, sizes in bytes.

    Parameters
    ----------
    connect_timeout, read_timeout : float  [s]
        Time allowed to connect, and to wait for each piece of the response.
    max_bytes : int  [bytes]
        Largest body accepted (after decompression).
    retries : int
        Retries after the first attempt (so at most ``retries + 1`` requests per URL).
    backoff_base, backoff_max : float  [s]
        Retry ``n`` (from 0) waits ``min(backoff_max, backoff_base * 2**n)`` scaled by a jitter
        factor in [0.5, 1).
    max_retry_after : float  [s]
        Longest ``Retry-After`` honoured; a server asking for more fails the fetch at once.
    max_redirects : int
        Same-host redirects followed.
    allow_http : bool
        Allow plain HTTP to non-loopback hosts (off: HTTPS only).
    use_cache : bool
        Send conditional requests from, and store validated bodies in, the on-disk cache.
    trust_env : bool
        Let httpx read proxy settings from the environment.
    sleep, jitter : callables
        ``sleep(seconds)`` and ``jitter() -> [0, 1)``; tests pass fakes to run fast.
    """

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 64 * 1024 * 1024
    retries: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    max_redirects: int = 5
    allow_http: bool = False
    use_cache: bool = True
    trust_env: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "backoff_base", "backoff_max"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FetchPolicy.{name} must be positive [s]")
        if self.max_retry_after < 0:
            raise ValueError("FetchPolicy.max_retry_after must not be negative [s]")
        if self.max_bytes < 1:
            raise ValueError("FetchPolicy.max_bytes must be at least 1 [bytes]")
        if self.retries < 0 or self.max_redirects < 0:
            raise ValueError("FetchPolicy.retries and max_redirects must not be negative")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based) [s]."""
        delay: float = min(self.backoff_max, self.backoff_base * 2.0**retry)
        return delay * (0.5 + self.jitter() / 2)

    def client(self) -> httpx.Client:
        """A client with these timeouts that never follows redirects by itself."""
        import httpx

        timeout = httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )
        return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=self.trust_env)


# --------------------------------------------------------------------------- URL rules


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, source: str, policy: FetchPolicy) -> httpx.URL:
    """Parse ``url`` and enforce the scheme rules; :class:`RefreshError` if it may not be used."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise RefreshError(source, f"{url!r} is not a URL ({exc})") from None
    if parsed.userinfo:
        raise RefreshError(
            source,
            "the URL contains credentials; put the secret in an environment variable and pass "
            "its name instead (e.g. --auth-env TEAM_PRICES_TOKEN)",
        )
    if not parsed.host:
        raise RefreshError(source, f"{url!r} has no host", url=url)
    if parsed.scheme == "https":
        return parsed
    if parsed.scheme == "http" and (_is_loopback(parsed.host) or policy.allow_http):
        return parsed
    if parsed.scheme == "http":
        raise RefreshError(
            source,
            "plain HTTP is refused (prices could be altered in transit); use https:// or, for a "
            "trusted network, pass --allow-http (allow_http=True)",
            url=url,
        )
    raise RefreshError(source, f"scheme {parsed.scheme!r} is not supported; use https://", url=url)


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP-date) [s]."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --------------------------------------------------------------------------- fetch


def fetch(
    url: str,
    *,
    source: str,
    client: httpx.Client,
    policy: FetchPolicy,
    cache: HttpCache | None = None,
    auth: EnvAuth | None = None,
    accept: str = "*/*",
) -> Fetched:
    """GET ``url`` within ``policy``; return the body (fresh, or cached after a 304).

    Parameters
    ----------
    url : str
        The resource; see :func:`check_url` for the schemes allowed.
    source : str
        Name used in error messages.
    client : httpx.Client
        From :meth:`FetchPolicy.client`; the caller closes it.
    cache : HttpCache, optional
        Where validators are read from. :func:`fetch` never writes it: the caller stores the
        body with :meth:`HttpCache.put` once it has been validated.
    auth : EnvAuth, optional
        Header whose secret is read from the environment now.

    Raises
    ------
    RefreshError
        Naming the source, the URL and the reason: refused URL, redirect to another host,
        too many redirects, HTTP error, retries exhausted, body over ``max_bytes``, 304
        without a cached body, or a ``Retry-After`` longer than ``max_retry_after``.
    """
    import httpx

    start = check_url(url, source, policy)
    headers = {"Accept": accept, "User-Agent": "pricing-refresh/0.1"}
    if auth is not None:
        headers.update(auth.headers(source))
    cached = cache.get(url) if cache is not None and policy.use_cache else None
    if cached is not None:
        if cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified

    current = start
    redirects = 0
    retry = 0
    while True:
        try:
            outcome = _attempt(current, headers, source, client, policy)
        except _Retryable as exc:
            policy.sleep(_retry_wait(exc, retry, source, current, policy))
            retry += 1
            continue
        if isinstance(outcome, httpx.URL):
            redirects += 1
            current = _redirect(outcome, current, start, redirects, source, policy)
            continue
        status, body, response_headers = outcome
        now = datetime.now(UTC)
        if status == 304:
            if cached is None:
                raise RefreshError(
                    source, "HTTP 304 Not Modified, but there is no cached copy", url=url
                )
            return Fetched(url, cached.body, 304, now, cached.etag, cached.last_modified)
        return Fetched(
            str(current),
            body,
            status,
            now,
            response_headers.get("etag"),
            response_headers.get("last-modified"),
        )


def _retry_wait(
    exc: _Retryable, retry: int, source: str, url: httpx.URL, policy: FetchPolicy
) -> float:
    """Seconds to wait before retrying after ``retry`` retries; :class:`RefreshError` when the
    retries are spent or the server asks for a longer wait than the policy allows."""
    wait = exc.wait
    if retry >= policy.retries:
        raise RefreshError(
            source,
            f"gave up after {retry + 1} attempt(s): {exc.reason}; try again later or "
            "raise the retry limit (--retries)",
            url=str(url),
        ) from None
    if wait is not None and wait > policy.max_retry_after:
        raise RefreshError(
            source,
            f"{exc.reason}, and the server asks to retry after {wait:g} s, more than "
            f"the {policy.max_retry_after:g} s allowed; try again later",
            url=str(url),
        ) from None
    return policy.backoff(retry) if wait is None else wait


def _redirect(
    target: httpx.URL,
    current: httpx.URL,
    start: httpx.URL,
    redirects: int,
    source: str,
    policy: FetchPolicy,
) -> httpx.URL:
    """The URL to follow to (the ``redirects``-th redirect), or why not: too many, another host,
    or a URL :func:`check_url` refuses."""
    if redirects > policy.max_redirects:
        raise RefreshError(source, f"more than {policy.max_redirects} redirects", url=str(start))
    if (target.host or "").lower() != (current.host or "").lower():
        raise RefreshError(
            source,
            f"redirect to another host ({target.host!r}) refused; only redirects "
            f"within {current.host!r} are followed. Use the final URL if you trust it",
            url=str(current),
        )
    return check_url(str(target), source, policy)


class _Retryable(Exception):  # noqa: N818 - internal signal, not an error users see
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def _attempt(
    url: httpx.URL,
    headers: Mapping[str, str],
    source: str,
    client: httpx.Client,
    policy: FetchPolicy,
) -> httpx.URL | tuple[int, bytes, httpx.Headers]:
    """One request: a redirect target, or (status, body, headers) of a 200 or 304."""
    import httpx

    try:
        with client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in _REDIRECT_STATUS:
                location = response.headers.get("location")
                if not location:
                    raise RefreshError(source, f"HTTP {status} without a Location", url=str(url))
                return url.join(location)
            if status in _RETRY_STATUS:
                wait = None
                if status in _RETRY_AFTER_STATUS:
                    wait = _retry_after(response.headers.get("retry-after"), datetime.now(UTC))
                raise _Retryable(f"HTTP {status} {response.reason_phrase}", wait)
            if status == 304:
                return status, b"", response.headers
            if status != 200:
                raise RefreshError(
                    source,
                    f"HTTP {status} {response.reason_phrase}"
                    + (
                        "; check the API key in the environment"
                        if status in (401, 403)
                        else "; check the URL"
                    ),
                    url=str(url),
                )
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > policy.max_bytes:
                raise _too_big(source, url, policy, f"Content-Length is {int(declared):,} bytes")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes(_CHUNK):
                size += len(chunk)
                if size > policy.max_bytes:
                    raise _too_big(source, url, policy, f"more than {size:,} bytes arrived")
                chunks.append(chunk)
            return status, b"".join(chunks), response.headers
    except httpx.TimeoutException as exc:
        raise _Retryable(
            f"timed out ({type(exc).__name__}; limits: connect "
            f"{policy.connect_timeout:g} s, read {policy.read_timeout:g} s)"
        ) from None
    except httpx.RemoteProtocolError as exc:
        raise _Retryable(
            f"the connection broke before the whole response arrived ({exc})"
        ) from None
    except httpx.DecodingError as exc:
        raise RefreshError(source, f"the body could not be decoded ({exc})", url=str(url)) from None
    except httpx.TransportError as exc:
        raise _Retryable(f"network error ({type(exc).__name__}: {exc})") from None


def _too_big(source: str, url: httpx.URL, policy: FetchPolicy, what: str) -> RefreshError:
    return RefreshError(
        source,
        f"response too large: {what}, over the {policy.max_bytes:,}-byte limit; raise "
        "max_bytes (--max-bytes) if the source really is that big",
        url=str(url),
    )

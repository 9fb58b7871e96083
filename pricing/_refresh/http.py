"""A careful HTTP client for price refreshes: one GET, bounded in every direction.

What :func:`fetch` guarantees, whatever the server does:

- **HTTPS only**; plain HTTP only to a loopback address (127.0.0.0/8, ``::1``, ``localhost``)
  or when :attr:`FetchPolicy.allow_http` is set. Credentials in the URL's userinfo are refused.
- **Time**: timeouts on connecting and on every read, and a wall-clock deadline on each whole
  request (name resolution, connect, headers, body; :attr:`FetchPolicy.deadline`), so neither
  a resolver that never answers nor a server dripping a byte at a time can hold a refresh
  longer than that [s].
- **Size**: a maximum body [bytes], checked against ``Content-Length``, on the wire, and after
  each ``Content-Encoding`` layer is undone (streaming, so a compression bomb is stopped early;
  see :mod:`pricing._refresh.http_guard`). An unknown or corrupt encoding is a clear error.
- **Bounded retries** with exponential backoff and jitter on timeouts, dropped or truncated
  connections and HTTP 408/429/500/502/503/504; ``Retry-After`` is honoured on 429 and 503.
  ``sleep`` and ``jitter`` are injectable so tests do not wait.
- **Redirects only within the origin** (scheme, host and port) of the first request, at most
  :attr:`FetchPolicy.max_redirects`: the API key and the cache's validators go nowhere else.
- **Conditional requests**: ``ETag`` / ``Last-Modified`` from an on-disk cache become
  ``If-None-Match`` / ``If-Modified-Since``; a 304 returns the cached body.
- **Secrets stay secret**: an auth header is read from an environment variable at request time
  and checked before it is sent (a value a header cannot carry is refused without quoting it);
  every URL in an error goes through :func:`~pricing._base.urls.redact_url`, so a token in the
  query is never printed, and the cache stores no header and no unredacted URL.

Every failure raises :class:`RefreshError` naming the source, the (redacted) URL and the reason.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pricing._base.urls import origin_text, redact_text, redact_url, same_origin
from pricing._refresh.cache import Fetched, HttpCache
from pricing._refresh.http_guard import (
    ACCEPT_ENCODING,
    Deadline,
    EnvAuth,
    TooLarge,
    Undecodable,
    check_target,
    decode_body,
    header_value_ok,
    layers,
    printable,
    resolving_transport,
    retry_after,
)
from pricing.errors import RefreshError

if TYPE_CHECKING:
    import httpx  # imported when a fetch runs: ``import pricing`` stays fast

__all__ = ["EnvAuth", "FetchPolicy", "check_url", "fetch", "retry_after"]

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_AFTER_STATUS = frozenset({429, 503})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetch. Times in seconds, sizes in bytes.

    Parameters
    ----------
    connect_timeout, read_timeout : float  [s]
        Time allowed to connect, and to wait for each piece of the response.
    deadline : float  [s]
        Wall-clock limit of one request: connect, headers and the whole body. Passed before
        the response began, the request is retried like a timeout; passed while the body
        arrives (a server dripping it), the fetch fails at once, naming the limit.
    max_bytes : int  [bytes]
        Largest body accepted: on the wire, and after undoing each compression layer.
    retries : int
        Retries after the first attempt (so at most ``retries + 1`` requests per URL).
    backoff_base, backoff_max : float  [s]
        Retry ``n`` (from 0) waits ``min(backoff_max, backoff_base * 2**n)`` scaled by a jitter
        factor in [0.5, 1).
    max_retry_after : float  [s]
        Longest ``Retry-After`` honoured; a server asking for more fails the fetch at once.
    max_redirects : int
        Same-origin redirects followed.
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
    deadline: float = 120.0
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
        for name in ("connect_timeout", "read_timeout", "deadline", "backoff_base", "backoff_max"):
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
        """A client with these timeouts that never follows redirects by itself.

        Connections are not kept alive between requests: each request's deadline watches the
        socket it opens (see :class:`~pricing._refresh.http_guard.Deadline`). Host names are
        resolved within the connect timeout (:func:`~pricing._refresh.http_guard.resolve`).
        """
        import httpx

        return httpx.Client(
            timeout=self.timeouts(self.deadline),
            follow_redirects=False,
            trust_env=self.trust_env,
            transport=resolving_transport(self.trust_env),
        )

    def timeouts(self, left: float) -> httpx.Timeout:
        """Per-operation timeouts of a request with ``left`` seconds before its deadline."""
        import httpx

        connect = min(self.connect_timeout, left)
        read = min(self.read_timeout, left)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


# --------------------------------------------------------------------------- URL rules


def check_url(url: str, source: str, policy: FetchPolicy) -> httpx.URL:
    """Parse ``url`` and enforce the scheme rules (see
    :func:`~pricing._refresh.http_guard.check_target`); :class:`RefreshError` if it may not be
    used, showing the URL redacted."""
    return check_target(url, source, allow_http=policy.allow_http)


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
        Name used in error messages (redacted, in case it is a URL).
    client : httpx.Client
        From :meth:`FetchPolicy.client`; the caller closes it.
    cache : HttpCache, optional
        Where validators are read from. :func:`fetch` never writes it: the caller stores the
        body with :meth:`HttpCache.put` once it has been validated.
    auth : EnvAuth, optional
        Header whose secret is read from the environment now; sent to ``url``'s origin only.

    Raises
    ------
    RefreshError
        Naming the source, the redacted URL and the reason: refused URL, bad auth header,
        redirect to another origin, too many redirects, HTTP error, retries exhausted, body over
        ``max_bytes`` or past the deadline, unknown or corrupt encoding, 304 without a cached
        body, or a ``Retry-After`` longer than ``max_retry_after``.
    """
    import httpx

    start = check_url(url, source, policy)
    if not header_value_ok(accept):
        raise RefreshError(redact_text(source), "the Accept header is not printable ASCII")
    headers = {"Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}
    headers["User-Agent"] = "pricing-refresh/0.1"
    if auth is not None:
        headers.update(auth.headers(source))
    cached = cache.get(url) if cache is not None and policy.use_cache else None
    if cached is not None:
        validators = {"If-None-Match": cached.etag, "If-Modified-Since": cached.last_modified}
        usable = {k: v for k, v in validators.items() if v and header_value_ok(v)}
        headers.update(usable)
        cached = cached if usable else None

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
            current = _redirect(outcome, start, redirects, source, policy)
            continue
        status, body, response_headers = outcome
        now = datetime.now(UTC)
        if status == 304:
            if cached is None:
                raise RefreshError(
                    redact_text(source),
                    "HTTP 304 Not Modified, but there is no cached copy",
                    url=redact_url(url),
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
            redact_text(source),
            f"gave up after {retry + 1} attempt(s): {exc.reason}; try again later or "
            "raise the retry limit (--retries)",
            url=redact_url(str(url)),
        ) from None
    if wait is not None and wait > policy.max_retry_after:
        raise RefreshError(
            redact_text(source),
            f"{exc.reason}, and the server asks to retry after {wait:g} s, more than "
            f"the {policy.max_retry_after:g} s allowed; try again later",
            url=redact_url(str(url)),
        ) from None
    return policy.backoff(retry) if wait is None else wait


def _redirect(
    target: httpx.URL, start: httpx.URL, redirects: int, source: str, policy: FetchPolicy
) -> httpx.URL:
    """The URL to follow to (the ``redirects``-th redirect), or why not: too many, another
    origin (scheme, host or port) than the first request's, or a URL :func:`check_url`
    refuses. Credentials and cache validators go to the first request's origin only."""
    who, here = redact_text(source), redact_url(str(start))
    if redirects > policy.max_redirects:
        raise RefreshError(who, f"more than {policy.max_redirects} redirects", url=here)
    check_url(str(target), source, policy)  # sends nothing: refuses what could never be sent
    if not same_origin(str(target), str(start)):
        other = (target.host or "").lower() != (start.host or "").lower()
        raise RefreshError(
            who,
            (
                f"redirect to another host ({printable(target.host)!r}) refused; only "
                f"redirects within {printable(start.host)!r} are followed"
                if other
                else f"redirect to another origin ({printable(origin_text(str(target)))}) "
                f"refused; only redirects within {origin_text(str(start))} are followed"
            )
            + " (the API key and cache validators are sent there only). Use the final URL "
            "if you trust it",
            url=here,
        )
    return target


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
    """One request within its deadline: a redirect target, or (status, body, headers) of a
    200 or 304; :class:`_Retryable` or :class:`RefreshError` otherwise."""
    import httpx

    who, where = redact_text(source), redact_url(str(url))
    began = False  # whether the response's status line and headers arrived
    with Deadline(policy.deadline) as deadline:
        try:
            with client.stream(
                "GET",
                url,
                headers=headers,
                timeout=policy.timeouts(deadline.remaining()),
                extensions={"trace": deadline.trace},
            ) as response:
                began = True
                deadline.watch(response.extensions.get("network_stream"))
                outcome = _read(response, url, who, policy)
                if deadline.expired:  # the socket was shut while the body was ending
                    raise httpx.ReadError("deadline")
                return outcome
        except (httpx.HTTPError, RefreshError) as exc:
            if deadline.expired:  # whatever broke, it broke because the time was up
                raise _late(began, who, where, policy) from None
            if isinstance(exc, RefreshError):
                raise
            raise _transport(exc, who, where, policy) from None


def _late(began: bool, who: str, where: str, policy: FetchPolicy) -> Exception:
    """The error of a request stopped by its deadline: retried when no response had begun."""
    if not began:
        return _Retryable(
            f"timed out: no response within {policy.deadline:g} s, the limit of one request"
        )
    return RefreshError(
        who,
        f"the response was still arriving after {policy.deadline:g} s, the limit of one "
        "request; the server sends it too slowly. Try again later, or raise the limit "
        "(--timeout; FetchPolicy.deadline)",
        url=where,
    )


def _transport(exc: Exception, who: str, where: str, policy: FetchPolicy) -> Exception:
    """The error of a request that failed on the network (retried) or could not be sent."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return _Retryable(
            f"timed out ({type(exc).__name__}; limits: connect "
            f"{policy.connect_timeout:g} s, read {policy.read_timeout:g} s)"
        )
    detail = printable(redact_text(str(exc)), 120)
    if isinstance(exc, httpx.RemoteProtocolError) and "location header" in detail.lower():
        # httpx reads the Location of every redirect, even one it does not follow.
        return RefreshError(
            who, f"a redirect with a Location that is not a URL ({detail})", url=where
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        return _Retryable(f"the connection broke before the whole response arrived ({detail})")
    if isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.LocalProtocolError):
        return _Retryable(f"network error ({type(exc).__name__}: {detail})")
    # Not its message: it could quote a header, and a header can hold the key.
    return RefreshError(
        who, f"the request could not be sent ({type(exc).__name__}); check the URL", url=where
    )


def _read(
    response: httpx.Response, url: httpx.URL, who: str, policy: FetchPolicy
) -> httpx.URL | tuple[int, bytes, httpx.Headers]:
    """What one response says: where it redirects, a retry, an error, or its body."""
    import httpx

    where = redact_url(str(url))
    status = response.status_code
    reason = printable(response.reason_phrase)
    if status in _REDIRECT_STATUS:
        location = response.headers.get("location")
        if not location:
            raise RefreshError(who, f"HTTP {status} without a Location", url=where)
        try:
            return url.join(location)
        except (httpx.InvalidURL, ValueError):
            raise RefreshError(
                who, f"HTTP {status} with a Location that is not a URL", url=where
            ) from None
    if status in _RETRY_STATUS:
        wait = None
        if status in _RETRY_AFTER_STATUS:
            wait = retry_after(response.headers.get("retry-after"), datetime.now(UTC))
        raise _Retryable(f"HTTP {status} {reason}", wait)
    if status == 304:
        return status, b"", response.headers
    if status != 200:
        hint = "check the API key in the environment" if status in (401, 403) else "check the URL"
        raise RefreshError(who, f"HTTP {status} {reason}; {hint}", url=where)
    try:
        kinds = layers(response.headers.get("content-encoding"))
        declared = response.headers.get("content-length") or ""
        if re.fullmatch(r"[0-9]+", declared) and int(declared) > policy.max_bytes:
            raise TooLarge(f"Content-Length is {int(declared):,} bytes")
        body = b"".join(decode_body(_wire(response, policy.max_bytes), kinds, policy.max_bytes))
    except TooLarge as exc:
        raise RefreshError(
            who,
            f"response too large: {exc.what}, over the {policy.max_bytes:,}-byte limit; raise "
            "max_bytes (--max-bytes) if the source really is that big",
            url=where,
        ) from None
    except Undecodable as exc:
        raise RefreshError(who, f"the body could not be decoded: {exc}", url=where) from None
    return status, body, response.headers


def _wire(response: httpx.Response, limit: int) -> Iterator[bytes]:
    """The raw (still encoded) body, counted: :class:`TooLarge` past ``limit`` bytes."""
    size = 0
    for chunk in response.iter_raw(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"more than {size:,} bytes arrived")
        yield chunk

"""What the refresh HTTP client checks on the way out and on the way in.

- **Out**: a URL is fetched over HTTPS only (plain HTTP to a loopback address, or when
  allowed), without userinfo (:func:`check_target`); every header value sent is printable
  ASCII (:func:`header_value_ok`); the API key header (:class:`EnvAuth`) is read from the
  environment and checked (variable name, header name, scheme, value) before it is sent, and
  a bad one is refused without quoting the key.
- **In, size**: :func:`decode_body` undoes the ``Content-Encoding`` layers of a body itself
  (``gzip``, ``x-gzip``, ``deflate``, ``identity``, stacked up to :data:`MAX_LAYERS` deep),
  streaming: each layer's output is counted as it is decompressed, a piece of at most
  :data:`PIECE` bytes at a time, and the body is refused the moment any layer passes the
  limit. A 2 KB ``gzip, gzip`` bomb costs a few hundred kilobytes of memory, not gigabytes. An
  encoding it does not know, a corrupt or truncated stream, raise :class:`Undecodable`.
- **In, time**: :class:`Deadline` is the wall-clock limit of one request (connect, headers,
  whole body): a timer shuts the request's socket down when it passes, so a server dripping a
  byte a second cannot hold a read that each per-read timeout would allow.
- **In, text**: :func:`printable` makes server text (a reason phrase, an encoding name) safe
  to print; :func:`retry_after` reads ``Retry-After`` and never raises.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import os
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from pricing._base.urls import SECRET_VALUE, redact_text, redact_url
from pricing.errors import RefreshError

if TYPE_CHECKING:
    import httpcore
    import httpx

#: Most ``Content-Encoding`` layers undone (``gzip, gzip`` is 2).
MAX_LAYERS = 3
#: Largest piece a decompressor hands on at once [bytes].
PIECE = 64 * 1024
#: Encodings decoded, by their ``Content-Encoding`` token (None: nothing to undo).
KNOWN = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "identity": None}
#: The ``Accept-Encoding`` sent: what :func:`decode_body` can undo.
ACCEPT_ENCODING = "gzip, deflate"
#: RFC 9110 ``token``: what a header name and an auth scheme may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Headers an auth header may not replace: they frame the request itself.
_FRAMING = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer"}
)


def header_value_ok(value: str) -> bool:
    """Whether ``value`` can go in a header: printable ASCII (spaces inside allowed) only."""
    return all(" " <= c <= "~" for c in value)


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
        """The header to send, checked; :class:`RefreshError` saying what is wrong (the
        variable unset, a header name or scheme a header cannot have, a value with control or
        non-ASCII characters) and never quoting the value."""
        who = redact_text(source)
        # A name that looks like a key was probably the key itself: not repeated either.
        named = "named by --auth-env" if SECRET_VALUE.match(self.variable) else self.variable
        if not _VARIABLE.fullmatch(self.variable):
            raise RefreshError(
                who,
                "the name given for the key's environment variable (--auth-env) is not a "
                "variable name: use letters, digits and _ only, e.g. TEAM_PRICES_TOKEN",
            )
        if not _TOKEN.fullmatch(self.header) or self.header.lower() in _FRAMING:
            raise RefreshError(
                who,
                "the auth header name (--auth-header) is not one a request can carry: use "
                "letters, digits and '-' only, e.g. Authorization or X-API-Key",
            )
        if self.scheme and not _TOKEN.fullmatch(self.scheme):
            raise RefreshError(
                who,
                "the auth scheme (--auth-scheme) must be one word such as Bearer or Key ('' for "
                "none): it has a space, a line break or a character a header cannot carry",
            )
        value = os.environ.get(self.variable, "").strip()
        if not value:
            raise RefreshError(
                who,
                f"the environment variable {named} is not set; export it with the API "
                "key (keys are read from the environment only, never from files or arguments)"
                + ("; pass the variable's name, not the key" if named != self.variable else ""),
            )
        bad = next((i for i, c in enumerate(value) if not " " <= c <= "~"), None)
        if bad is not None:
            # Said before httpx sees it: its message would quote the header, secret included.
            raise RefreshError(
                who,
                f"the value of {named} contains control characters or non-ASCII letters (the "
                f"first at position {bad + 1} of {len(value)}), which an HTTP header cannot "
                "carry; check the key was copied whole and without quotes, and export it again",
            )
        return {self.header: f"{self.scheme} {value}" if self.scheme else value}


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_target(url: str, source: str, *, allow_http: bool) -> httpx.URL:
    """``url`` parsed, if a refresh may fetch it: HTTPS, or plain HTTP to a loopback address
    (or anywhere with ``allow_http``); no userinfo, a host, a real port. Else
    :class:`RefreshError` saying why, the URL shown redacted (:func:`redact_url`)."""
    import httpx

    who, shown = redact_text(source), redact_url(url)
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise RefreshError(who, f"{shown!r} is not a URL ({printable(str(exc))})") from None
    if parsed.userinfo:
        raise RefreshError(
            who,
            "the URL contains credentials; put the secret in an environment variable and pass "
            "its name instead (e.g. --auth-env TEAM_PRICES_TOKEN)",
        )
    if not parsed.host:
        raise RefreshError(who, f"{shown!r} has no host", url=shown)
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise RefreshError(who, f"port {parsed.port} is not a port (1 to 65535)", url=shown)
    if parsed.scheme == "https":
        return parsed
    if parsed.scheme == "http" and (_is_loopback(parsed.host) or allow_http):
        return parsed
    if parsed.scheme == "http":
        raise RefreshError(
            who,
            "plain HTTP is refused (prices could be altered in transit); use https:// or, for a "
            "trusted network, pass --allow-http (allow_http=True)",
            url=shown,
        )
    raise RefreshError(
        who, f"scheme {printable(parsed.scheme)!r} is not supported; use https://", url=shown
    )


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP-date) [s]; None
    when absent or not understood."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,12}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class TooLarge(Exception):  # noqa: N818 - a signal turned into a RefreshError by the client
    """A body passed the size limit; ``what`` says where (for the message)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Undecodable(Exception):  # noqa: N818 - a signal turned into a RefreshError by the client
    """A body's encoding is unknown, or its compressed stream is corrupt or cut short."""


def printable(text: str, limit: int = 60) -> str:
    """``text`` from a server, safe to print: printable ASCII only, at most ``limit`` chars."""
    clean = "".join(c if " " <= c <= "~" else "?" for c in text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def layers(content_encoding: str | None) -> list[str]:
    """The decoders to run, in order (the last encoding applied is undone first).

    Raises :class:`Undecodable` for an unknown token or more than :data:`MAX_LAYERS` layers.
    """
    tokens = [t.strip().lower() for t in (content_encoding or "").split(",") if t.strip()]
    for token in tokens:
        if token not in KNOWN:
            raise Undecodable(
                f"the server sent the body with Content-Encoding {printable(token)!r}, which "
                f"this client does not decode (it asks for {ACCEPT_ENCODING}); use a URL that "
                "serves the file plain or gzip-compressed"
            )
    kinds = [k for t in tokens if (k := KNOWN[t]) is not None]
    if len(kinds) > MAX_LAYERS:
        raise Undecodable(
            f"the body is compressed {len(kinds)} times over (Content-Encoding "
            f"{printable(content_encoding or '')!r}); at most {MAX_LAYERS} layers are undone"
        )
    return kinds[::-1]


class _Layer:
    """One streaming decompressor whose output is counted against ``limit``."""

    def __init__(self, kind: str, limit: int, label: str) -> None:
        self.kind = kind
        self.limit = limit
        self.label = label
        self.size = 0  # bytes output so far
        self._z: Any = None  # zlib decompress object, once the stream's first bytes are known
        self._head = b""  # deflate: bytes held until the zlib header can be recognised
        self._between = False  # gzip: a member ended; zero padding or a new member may follow

    def _start(self, data: bytes) -> bytes | None:
        """Create the decompressor for ``data``; None while more bytes are needed to choose."""
        if self.kind == "gzip":
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            return data
        data = self._head + data
        if len(data) < 2:
            self._head = data
            return None
        # RFC 9110 says zlib-wrapped; many servers send raw deflate. The zlib header tells.
        wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        self._z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return data

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The output of ``data``, in pieces of at most :data:`PIECE` bytes."""
        while data:
            if self._between:
                data = data.lstrip(b"\0")
                if not data:
                    return
                self._between, self._z = False, None
            if self._z is None:
                started = self._start(data)
                if started is None:
                    return
                data = started
            elif self._z.eof:
                return  # deflate: bytes after the end of the stream change nothing
            yield from self._drain(data)
            data = b""
            if self._z.eof and self.kind == "gzip":
                data, self._between = self._z.unused_data, True

    def _drain(self, data: bytes) -> Iterator[bytes]:
        try:
            while True:
                out = self._z.decompress(data, PIECE)
                data = self._z.unconsumed_tail
                if out:
                    self.size += len(out)
                    if self.size > self.limit:
                        raise TooLarge(f"more than {self.limit:,} bytes {self.label}")
                    yield out
                if self._z.eof or (not data and len(out) < PIECE):
                    return
        except zlib.error as exc:
            raise Undecodable(f"the body is not valid {self.kind} data ({exc})") from None

    def finish(self) -> Iterator[bytes]:
        """The last output; :class:`Undecodable` if the stream stopped before its end."""
        if self._head:
            raise Undecodable("the deflate body stopped before its first two bytes")
        if self._z is None or self._between:
            return  # an empty body, or complete gzip members
        yield from self._drain(b"")
        if not self._z.eof:
            raise Undecodable(f"the {self.kind} body stops before its end (truncated)")


def decode_body(chunks: Iterable[bytes], kinds: list[str], limit: int) -> Iterator[bytes]:
    """The decoded pieces of ``chunks`` (raw bytes) under the decoders ``kinds``.

    Raises :class:`TooLarge` as soon as a layer's output passes ``limit`` [bytes], and
    :class:`Undecodable` for a corrupt or truncated stream.
    """
    n = len(kinds)
    stack = [
        _Layer(kind, limit, f"after undoing {kind} (encoding {i + 1} of {n})")
        for i, kind in enumerate(kinds)
    ]

    def through(i: int, data: bytes) -> Iterator[bytes]:
        if i == n:
            yield data
            return
        for piece in stack[i].feed(data):
            yield from through(i + 1, piece)

    for chunk in chunks:
        yield from through(0, chunk)
    for i, layer in enumerate(stack):
        for piece in layer.finish():
            yield from through(i + 1, piece)


class Deadline:
    """The wall-clock limit of one request, ``seconds`` from :meth:`start`.

    Pass :meth:`trace` as the request's ``trace`` extension: it learns the socket when the
    connection is made. When the time is up, :attr:`expired` becomes true and the socket is
    shut down, so whatever read or write is waiting on it returns at once (with an error the
    client turns into a deadline message, because :attr:`expired` says why).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._started = 0.0

    def __enter__(self) -> Deadline:
        self._started = time.monotonic()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left [s] (never below a millisecond, so it can be a timeout)."""
        return max(0.001, self.seconds - (time.monotonic() - self._started))

    def watch(self, stream: Any) -> None:
        """Shut ``stream``'s socket down when the time is up (now, if it already is)."""
        get = getattr(stream, "get_extra_info", None)
        sock = get("socket") if callable(get) else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sock = sock
            late = self.expired
        if late:
            _shut(sock)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: watch each connection as soon as it is made."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._sock
        if sock is not None:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for an SSLSocket: it works on the descriptor and
    # leaves the TLS object to the thread reading, which then sees the connection end.
    with contextlib.suppress(OSError):  # already closed: nothing is waiting on it
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def resolving_transport(trust_env: bool) -> httpx.HTTPTransport:
    """An httpx transport that resolves host names within the connect timeout.

    ``getaddrinfo`` cannot be interrupted, so a resolver that never answers would hold a
    request past its connect timeout and past its :class:`Deadline`. Here the name is resolved
    in a helper thread that is waited for at most the connect timeout (itself never longer than
    the time left before the deadline); the connection is then made to the address, so TLS
    still checks the certificate against the host name.
    """
    import httpx

    transport = httpx.HTTPTransport(
        limits=httpx.Limits(max_keepalive_connections=0), trust_env=trust_env
    )
    pool = transport._pool  # httpx has no argument for the network backend
    pool._network_backend = cast("httpcore.NetworkBackend", _Resolving(pool._network_backend))
    return transport


class _Resolving:
    """An httpcore network backend: :func:`resolve` first, then ``inner`` connects."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        import httpcore

        addresses = resolve(host, port, timeout)
        failure: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:  # as socket.create_connection would: each in turn
            try:
                return self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.connect_unix_socket(*args, **kwargs)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """The addresses of ``host`` [IP text], waiting at most ``timeout`` [s] for the resolver;
    httpcore's ``ConnectTimeout`` if it does not answer in time, ``ConnectError`` if it fails."""
    import httpcore

    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host.strip("[]")))]
    found: list[str] = []
    failed: list[OSError] = []

    def look_up() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.extend(dict.fromkeys(str(info[4][0]) for info in infos))
        except OSError as exc:
            failed.append(exc)

    worker = threading.Thread(target=look_up, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():  # left to finish on its own; a daemon thread holds nothing up
        raise httpcore.ConnectTimeout(f"the name {host} did not resolve within {timeout:g} s")
    if failed or not found:
        reason = failed[0].strerror if failed and failed[0].strerror else "no address"
        raise httpcore.ConnectError(f"cannot resolve {host}: {reason}")
    return found

"""A real HTTP server on 127.0.0.1 for the refresh tests, serving fixture files and faults.

Each path is given a :class:`Reply` (or a list of replies, served in turn, the last one
repeated). The server records every request (path and headers) so tests can count retries and
check what was sent. It runs in a thread of the test process and is closed by the context
manager, sockets included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

#: Real files in their original formats, copied from the team's shared reference folder;
#: ``tests/fixtures/SOURCES.md`` says where each came from.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> bytes:
    """The bytes of one fixture file of ``tests/fixtures``."""
    return (FIXTURES / name).read_bytes()


@dataclass(frozen=True)
class Reply:
    """One response. ``etag`` set: a request with a matching ``If-None-Match`` gets a 304.

    ``content_length`` overrides the header (a larger value than the body makes a truncated
    response); ``delay`` [s] is waited before the status line.
    """

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    content_length: int | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, list[Reply]]
    seen: list[Seen]
    lock: threading.Lock
    release: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, size limits) are expected here: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.seen.append(
                Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            replies = self.server.routes.get(path)
            if replies is None:
                reply = Reply(b"not found", 404)
            elif len(replies) > 1:
                reply = replies.pop(0)
            else:
                reply = replies[0]
        if reply.delay:
            self.server.release.wait(reply.delay)
        if reply.etag is not None and self.headers.get("If-None-Match") == reply.etag:
            self.send_response(304)
            self.send_header("ETag", reply.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(reply.status)
        length = len(reply.body) if reply.content_length is None else reply.content_length
        self.send_header("Content-Length", str(length))
        if reply.etag is not None:
            self.send_header("ETag", reply.etag)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.content_length is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()


class FixtureServer:
    """``with FixtureServer() as server:`` a live server; ``server.url("/x")`` its address."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.routes = {}
        self._server.seen = []
        self._server.lock = threading.Lock()
        self._server.release = threading.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, *replies: Reply) -> str:
        """Serve ``replies`` at ``path`` (in turn, the last one repeated); its URL."""
        with self._server.lock:
            self._server.routes[path] = list(replies)
        return self.url(path)

    def requests(self, path: str | None = None) -> list[Seen]:
        with self._server.lock:
            return [s for s in self._server.seen if path is None or s.path.split("?")[0] == path]

    def count(self, path: str) -> int:
        return len(self.requests(path))

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.release.set()  # wake slow replies so their threads end now
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def serving() -> Iterator[FixtureServer]:
    """A started :class:`FixtureServer`, shut down (sockets closed) on exit."""
    with FixtureServer() as server:
        yield server

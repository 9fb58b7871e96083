"""A raw TCP server on 127.0.0.1 for the HTTP tests that ``http.server`` cannot serve.

Each path gets a script: a list of :class:`Step` (wait, then send these bytes exactly), so a
test can send headers as written (stacked encodings, odd reason phrases, no framing) or send a
response a byte at a time (a slow drip). Requests are recorded (path and lower-cased headers).
It runs in threads of the test process; leaving the context manager wakes every waiting step
and closes every socket.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from tests._http_server import Seen


@dataclass(frozen=True)
class Step:
    """Wait ``delay`` seconds, then send ``data``."""

    data: bytes
    delay: float = 0.0


def head(
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
    *,
    reason: bytes = b"OK",
    length: int | None = None,
) -> bytes:
    """A status line and headers, ``Content-Length: length`` first when given."""
    lines = [b"HTTP/1.1 %d %s" % (status, reason)]
    if length is not None:
        lines.append(b"Content-Length: %d" % length)
    lines += [f"{k}: {v}".encode("latin-1") for k, v in headers]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""])


def reply(body: bytes, headers: Sequence[tuple[str, str]] = (), status: int = 200) -> list[Step]:
    """A whole response at once, framed by ``Content-Length``."""
    return [Step(head(status, headers, length=len(body)) + body)]


def drip(data: bytes, every: float, start: float = 0.0) -> list[Step]:
    """``data`` one byte at a time, ``every`` seconds apart (the first after ``start``)."""
    return [Step(data[i : i + 1], start if i == 0 else every) for i in range(len(data))]


class RawServer:
    """``with RawServer() as server:`` a live server; :meth:`route` gives a path its script."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._routes: dict[str, list[Step]] = {}
        self._seen: list[Seen] = []
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, steps: Sequence[Step]) -> str:
        """Answer every request for ``path`` with ``steps``; its URL."""
        with self._lock:
            self._routes[path] = list(steps)
        return self.url(path)

    def requests(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self._seen if path is None or s.path.split("?")[0] == path]

    def count(self, path: str) -> int:
        return len(self.requests(path))

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5.0)
            raw = b""
            try:
                while b"\r\n\r\n" not in raw:
                    piece = conn.recv(65536)
                    if not piece:
                        return
                    raw += piece
            except OSError:
                return
            request, *lines = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            path = request.split(" ")[1] if request.count(" ") >= 2 else "/"
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)
            }
            with self._lock:
                self._seen.append(Seen(path, headers))
                steps = self._routes.get(path.split("?")[0], reply(b"not found", status=404))
            for step in steps:
                if step.delay and self._stop.wait(step.delay):
                    return
                try:
                    conn.sendall(step.data)
                except OSError:
                    return  # the client hung up (a deadline, a size limit): expected

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5.0)


@contextmanager
def raw_serving() -> Iterator[RawServer]:
    """A started :class:`RawServer`, shut down (sockets closed) on exit."""
    with RawServer() as server:
        yield server

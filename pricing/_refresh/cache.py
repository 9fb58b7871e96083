"""The HTTP cache of price refreshes, and the fetched body it stores.

One pair of files per URL: ``<key>.body`` (the body as validated) and ``<key>.json`` (URL,
ETag, Last-Modified, fetch time, SHA-256 of the body). Never request headers, so never a key.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pricing._base.atomic import atomic_write


@dataclass(frozen=True)
class Fetched:
    """A body as fetched (or as cached, after a 304), with its validators.

    ``fetched_at`` is timezone-aware UTC; ``status`` is 200, or 304 when the cached body was
    confirmed unchanged by the server.
    """

    url: str
    body: bytes
    status: int
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/pricing/http`` (default ``~/.cache/pricing/http``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pricing" / "http"


class HttpCache:
    """Validated response bodies and their ETag / Last-Modified, one pair of files per URL.

    Only the URL, the validators and the body are stored: never request headers, so never an
    API key. A body whose checksum does not match its metadata is ignored.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
        return self.root / f"{key}.json", self.root / f"{key}.body"

    def get(self, url: str) -> Fetched | None:
        """The cached entry of ``url``, or None when absent or damaged."""
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
            if meta.get("url") != url or meta.get("sha256") != hashlib.sha256(body).hexdigest():
                return None
            return Fetched(
                url=url,
                body=body,
                status=200,
                fetched_at=datetime.fromisoformat(meta["fetched_at"]),
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, requested_url: str, fetched: Fetched) -> None:
        """Store ``fetched`` under the URL that was asked for (atomically, body first)."""
        if fetched.etag is None and fetched.last_modified is None:
            return  # nothing to revalidate with: a cached copy could never be used
        meta_path, body_path = self._paths(requested_url)
        meta = {
            "url": requested_url,
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "fetched_at": fetched.fetched_at.isoformat(),
            "sha256": hashlib.sha256(fetched.body).hexdigest(),
        }
        atomic_write(body_path, fetched.body)
        atomic_write(meta_path, json.dumps(meta, indent=1).encode("utf-8"))

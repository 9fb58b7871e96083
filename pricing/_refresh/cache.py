"""The HTTP cache of price refreshes, and the fetched body it stores.

One pair of files per URL: ``<key>.body`` (the body as validated) and ``<key>.json`` (the URL
*redacted*, the SHA-256 of the full URL, ETag, Last-Modified, fetch time, SHA-256 of the body).
The file names and the lookup use a hash of the full URL, so two URLs that differ only by a
token are two entries, and the token itself is written nowhere: not in a name, not in the
metadata. Never request headers either, so never an API key.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pricing._base.atomic import atomic_write
from pricing._base.urls import redact_url


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

    Only the redacted URL, a hash of the full URL, the validators and the body are stored:
    never request headers nor a token from the URL. A body whose checksum does not match its
    metadata is ignored; an entry in the older format (the full URL in its metadata, where a
    token could be) is deleted when met.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def url_hash(url: str) -> str:
        """SHA-256 (hex) of the full URL: the cache's key, the token included but not readable."""
        return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = self.url_hash(url)[:32]
        return self.root / f"{key}.json", self.root / f"{key}.body"

    def get(self, url: str) -> Fetched | None:
        """The cached entry of ``url``, or None when absent or damaged."""
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                return None
            if "url_sha256" not in meta:  # written before URLs were redacted: drop it
                meta_path.unlink(missing_ok=True)
                body_path.unlink(missing_ok=True)
                return None
            body = body_path.read_bytes()
            if (
                meta.get("url_sha256") != self.url_hash(url)
                or meta.get("sha256") != hashlib.sha256(body).hexdigest()
            ):
                return None
            return Fetched(
                url=url,
                body=body,
                status=200,
                fetched_at=datetime.fromisoformat(meta["fetched_at"]),
                etag=_text(meta.get("etag")),
                last_modified=_text(meta.get("last_modified")),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, requested_url: str, fetched: Fetched) -> None:
        """Store ``fetched`` under the URL that was asked for (atomically, body first)."""
        if fetched.etag is None and fetched.last_modified is None:
            return  # nothing to revalidate with: a cached copy could never be used
        meta_path, body_path = self._paths(requested_url)
        meta = {
            "url": redact_url(requested_url),
            "url_sha256": self.url_hash(requested_url),
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "fetched_at": fetched.fetched_at.isoformat(),
            "sha256": hashlib.sha256(fetched.body).hexdigest(),
        }
        atomic_write(body_path, fetched.body)
        atomic_write(meta_path, json.dumps(meta, indent=1).encode("utf-8"))


def _text(value: object) -> str | None:
    """A validator read back from the metadata: a string, or None for anything else."""
    return value if isinstance(value, str) else None

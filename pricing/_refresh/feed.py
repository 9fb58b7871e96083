"""One feed: a source of prices, what to fetch and how to cite it, and its bodies as fetched.

A :class:`Feed` says what to fetch (URL, optional auth header from the environment), how to
parse it (``kind``: one module of :mod:`pricing._refresh.feeds` each), and how new figures cite
it (source kind, title, publisher, and the prefix of the ``data/sources.toml`` ids,
``<prefix>-<YYYY-MM-DD>``). A :class:`FeedFetch` fetches a feed's URLs through the HTTP cache
and keeps every response, so that the cache is updated only after the refresh succeeded; the
body readers turn bytes into text or JSON, or a :class:`~pricing.errors.RefreshError`.

A feed may name a ``local`` copy of its document (a file on disk, e.g. the copy of LiteLLM's
price map bundled with the ``litellm`` package): its ``url`` is then read from that file,
within the policy's size limit, and the new source still cites ``url``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from pricing._cards.schema import SourceKind
from pricing._refresh.cache import Fetched, HttpCache
from pricing._refresh.http import EnvAuth, FetchPolicy, fetch
from pricing._refresh.text import clean_doc
from pricing.errors import RefreshError

if TYPE_CHECKING:
    import httpx

FeedKind = Literal["cards", "skypilot", "openrouter", "fal", "ecb", "litellm"]
_ACCEPT: dict[FeedKind, str] = {"ecb": "application/xml", "skypilot": "text/csv"}


@dataclass(frozen=True)
class Feed:
    """One source of prices: what to fetch, how to parse it, and how to cite it."""

    name: str
    kind: FeedKind
    url: str
    source_kind: SourceKind
    title: str
    publisher: str
    prefix: str
    auth: EnvAuth | None = None
    cloud: str | None = None
    #: Rate-card registries: the providers whose cards it may write (see ``card_feed``).
    providers: tuple[str, ...] = ()
    #: A local copy read instead of fetching ``url`` (which the new source still cites).
    local: str | None = None


class FeedFetch:
    """Fetches the URLs of one feed through the cache; ``responses`` keeps (URL, response)."""

    def __init__(
        self, feed: Feed, client: httpx.Client, policy: FetchPolicy, cache: HttpCache | None
    ) -> None:
        self.feed = feed
        self.client = client
        self.policy = policy
        self.cache = cache
        self.responses: list[tuple[str, Fetched]] = []

    def __call__(self, url: str) -> Fetched:
        """GET ``url`` for the feed (its auth, the Accept header of its kind), or read the
        feed's ``local`` copy when ``url`` is the feed's own."""
        feed = self.feed
        if feed.local is not None and url == feed.url:
            return self._read_local(Path(feed.local))
        got = fetch(
            url, source=feed.name, client=self.client, policy=self.policy, cache=self.cache,
            auth=feed.auth, accept=_ACCEPT.get(feed.kind, "application/json"),
        )  # fmt: skip
        self.responses.append((url, got))
        return got

    def _read_local(self, path: Path) -> Fetched:
        """The local copy's bytes, at most the policy's ``max_bytes``; kept as a response
        under its ``file:`` URL (the HTTP cache never serves those)."""
        try:
            size = path.stat().st_size
            if size > self.policy.max_bytes:
                raise RefreshError(
                    self.feed.name,
                    f"{path} is {size:,} bytes, over the limit of {self.policy.max_bytes:,}",
                )
            body = path.read_bytes()
        except OSError as exc:
            why = exc.strerror or exc
            raise RefreshError(self.feed.name, f"cannot read {path} ({why})") from None
        uri = path.absolute().as_uri()
        got = Fetched(uri, body, 200, datetime.now(UTC))
        self.responses.append((uri, got))
        return got


class ApiRecord(BaseModel):
    """API records: unknown fields are ignored (APIs grow), values are still checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def body_text(data: bytes, source: str, what: str) -> str:
    """``data`` as UTF-8 text (a BOM is dropped); :class:`RefreshError` when it is not, or
    when it is blank."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RefreshError(source, f"{what} is not UTF-8 text ({exc})") from None
    if not text.strip():
        raise RefreshError(source, f"{what} is empty")
    return text


def body_json(data: bytes, source: str, what: str) -> Any:
    """``data`` as JSON, numbers with a point as exact ``Decimal``, every string made plain
    (:func:`pricing._refresh.text.clean_text`: no line breaks, controls or lone surrogates)."""
    text = body_text(data, source, what)
    try:
        return clean_doc(json.loads(text, parse_float=Decimal))
    except RecursionError:
        raise RefreshError(source, f"{what} is nested too deep to read") from None
    except ValueError as exc:
        raise RefreshError(source, f"{what} is not valid JSON ({exc})") from None

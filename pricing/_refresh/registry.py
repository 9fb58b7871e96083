"""The sources a refresh can use: built-in names, their default URLs, and how each is cited.

A source is a :class:`Feed`: what to fetch (URL, optional auth header from the environment),
how to parse it (``kind``), and how new figures cite it (source kind, title, publisher, and
the prefix of the ``data/sources.toml`` ids, ``<prefix>-<YYYY-MM-DD>``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

from pricing._cards.schema import SourceKind
from pricing._refresh.additions import (
    Additions,
    Context,
    _slug,
    plan_cards,
    plan_fal,
    plan_openrouter,
)
from pricing._refresh.cache import Fetched, HttpCache
from pricing._refresh.feeds.skypilot import plan_fx, plan_skypilot
from pricing._refresh.http import EnvAuth, FetchPolicy, RefreshError, fetch
from pricing._refresh.new_offers import fal_endpoints
from pricing._refresh.sources import (
    FalPricing,
    parse_cards,
    parse_ecb,
    parse_fal,
    parse_openrouter,
    parse_skypilot_csv,
)

if TYPE_CHECKING:
    import httpx

FeedKind = Literal["cards", "skypilot", "openrouter", "fal", "ecb"]
SKYPILOT_CLOUDS = ("aws", "gcp", "lambda", "runpod")
SKYPILOT_URL = (
    "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8/{}/vms.csv"
)
#: Where each named source is fetched from unless ``urls`` says otherwise.
DEFAULT_URLS: dict[str, str] = {
    "ecb": "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
    **{f"skypilot-{c}": SKYPILOT_URL.format(c) for c in SKYPILOT_CLOUDS},
    "openrouter": "https://openrouter.ai/api/v1/models",
    "fal": "https://api.fal.ai/v1/models/pricing",
}
ALIASES = {"fx": ("ecb",), "skypilot": tuple(f"skypilot-{c}" for c in SKYPILOT_CLOUDS)}
ALIASES["gpus"] = ALIASES["skypilot"]


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


def card_feed(
    url: str, kind: SourceKind = "third-party", auth: EnvAuth | None = None, name: str | None = None
) -> Feed:
    """A rate-card registry URL as a source (cited with ``kind``)."""
    where = url.split("://", 1)[-1].split("?", 1)[0]
    host = where.split("/", 1)[0]
    prefix = "cards-" + _slug(where)[:50].strip("-.")
    return Feed(name or url, "cards", url, kind, f"Rate cards at {where}", host, prefix, auth)


def named_feed(name: str, url: str | None = None) -> Feed:
    """A built-in source by name (``ecb``, ``skypilot-aws``, ``openrouter``, ``fal``...)."""
    if name not in DEFAULT_URLS:
        known = ", ".join([*DEFAULT_URLS, *ALIASES])
        raise RefreshError(
            name, f"unknown source; known: {known}, or the https:// URL of a rate-card registry"
        )
    url = url or DEFAULT_URLS[name]
    if name == "ecb":
        return Feed(
            name, "ecb", url, "official", "Euro foreign exchange reference rates (daily)",
            "European Central Bank", "ecb-eurofxref",
        )  # fmt: skip
    if name.startswith("skypilot-"):
        cloud = name.removeprefix("skypilot-")
        return Feed(
            name, "skypilot", url, "third-party", f"SkyPilot GPU catalog v8: {cloud} vms.csv",
            "SkyPilot (skypilot-org/skypilot-catalog)", f"skypilot-{cloud}", cloud=cloud,
        )  # fmt: skip
    if name == "openrouter":
        return Feed(
            name, "openrouter", url, "provider-reseller", "OpenRouter models API", "OpenRouter",
            "openrouter-models",
        )  # fmt: skip
    return Feed(
        name, "fal", url, "official", "fal model pricing API", "fal.ai", "fal-pricing-api",
        EnvAuth("FAL_KEY", scheme="Key"),
    )  # fmt: skip


def feeds_for(sources: Sequence[str] | None, urls: Mapping[str, str] | None = None) -> list[Feed]:
    """Feeds for source names, aliases (``skypilot``, ``fx``) and registry URLs, deduplicated.

    ``None`` means every built-in source (a refresh of all of them reports fal as skipped
    when ``FAL_KEY`` is not set, instead of failing).
    """
    urls = dict(urls or {})
    for key in urls:
        if key not in DEFAULT_URLS:
            raise RefreshError(
                key, f"--url names an unknown source; known: {', '.join(DEFAULT_URLS)}"
            )
    names: list[str] = []
    for name in sources if sources else list(DEFAULT_URLS):
        names.extend(ALIASES.get(name, (name,)))
    feeds: list[Feed] = []
    for name in dict.fromkeys(names):
        if "://" in name:
            feeds.append(card_feed(name))
        else:
            feeds.append(named_feed(name, urls.get(name)))
    return feeds


# --------------------------------------------------------------------------- fetch + parse

_FAL_CHUNK = 50  # endpoint ids per request
_MAX_PAGES = 20  # cursor pages followed per request


def _fetched(
    url: str, feed: Feed, client: httpx.Client, policy: FetchPolicy, cache: HttpCache | None
) -> Fetched:
    accept = {"ecb": "application/xml", "skypilot": "text/csv"}.get(feed.kind, "application/json")
    return fetch(
        url, source=feed.name, client=client, policy=policy, cache=cache, auth=feed.auth,
        accept=accept,
    )  # fmt: skip


def run_feed(
    feed: Feed,
    ctx: Context,
    sid: str,
    client: httpx.Client,
    policy: FetchPolicy,
    cache: HttpCache | None,
) -> tuple[Additions, list[tuple[str, Fetched]]]:
    """Fetch, parse and compare one feed: its additions and the responses to cache."""
    if feed.kind == "fal":
        return _run_fal(feed, ctx, sid, client, policy, cache)
    got = _fetched(feed.url, feed, client, policy, cache)
    body, name = got.body, feed.name
    if feed.kind == "ecb":
        adds = plan_fx(parse_ecb(body, name, sid), ctx, name)
    elif feed.kind == "skypilot":
        adds = plan_skypilot(parse_skypilot_csv(body, name), ctx, name, feed.cloud or "", sid)
    elif feed.kind == "openrouter":
        adds = plan_openrouter(parse_openrouter(body, name), ctx, name, sid)
    else:
        adds = plan_cards(parse_cards(body, name), ctx, name, feed.url, feed.source_kind, sid)
    return adds, [(feed.url, got)]


def _run_fal(
    feed: Feed,
    ctx: Context,
    sid: str,
    client: httpx.Client,
    policy: FetchPolicy,
    cache: HttpCache | None,
) -> tuple[Additions, list[tuple[str, Fetched]]]:
    """fal prices the endpoints it is asked for: the ``fal`` card's offer names, and the
    ``fal-ai/`` ids of the models' ``api_ids``."""
    endpoints = fal_endpoints(ctx.data)
    if not endpoints:
        raise RefreshError(
            feed.name,
            "no offer in rate-cards/fal.toml is named by a fal endpoint id, and no model lists "
            "a fal-ai/ endpoint in api_ids: nothing to price",
        )
    pages: list[FalPricing] = []
    responses: list[tuple[str, Fetched]] = []
    for i in range(0, len(endpoints), _FAL_CHUNK):
        query = urlencode([("endpoint_id", e) for e in endpoints[i : i + _FAL_CHUNK]])
        url = f"{feed.url}?{query}"
        for _ in range(_MAX_PAGES):
            got = _fetched(url, feed, client, policy, cache)
            responses.append((url, got))
            page = parse_fal(got.body, feed.name)
            pages.append(page)
            if not (page.has_more and page.next_cursor):
                break
            url = f"{feed.url}?{query}&{urlencode({'cursor': page.next_cursor})}"
    return plan_fal(pages, ctx, feed.name, sid), responses

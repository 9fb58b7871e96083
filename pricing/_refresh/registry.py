"""The sources a refresh can use: built-in names, their default URLs, and the runner of each kind.

A source is a :class:`~pricing._refresh.feed.Feed`. Each kind of feed has one module in
:mod:`pricing._refresh.feeds` exporting ``run(feed, ctx, sid, fetch) -> Additions``, which
fetches, parses and compares it; :data:`FEED_RUNNERS` maps the kinds to those runners.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from pricing._refresh.additions import Additions, Context
from pricing._refresh.cache import Fetched, HttpCache
from pricing._refresh.feed import Feed, FeedFetch, FeedKind
from pricing._refresh.feeds import cards, ecb, fal, openrouter, skypilot
from pricing._refresh.feeds.cards import card_feed
from pricing._refresh.guard import guard
from pricing._refresh.http import EnvAuth, FetchPolicy
from pricing.errors import RefreshError

if TYPE_CHECKING:
    import httpx

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

#: A feed's runner: fetch (through ``fetch``), parse and compare; the additions.
FeedRunner = Callable[[Feed, Context, str, FeedFetch], Additions]
#: The runner of each kind of feed.
FEED_RUNNERS: dict[FeedKind, FeedRunner] = {
    "cards": cards.run,
    "skypilot": skypilot.run,
    "openrouter": openrouter.run,
    "fal": fal.run,
    "ecb": ecb.run,
}


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


def run_feed(
    feed: Feed,
    ctx: Context,
    sid: str,
    client: httpx.Client,
    policy: FetchPolicy,
    cache: HttpCache | None,
) -> tuple[Additions, list[tuple[str, Fetched]]]:
    """Fetch, parse and compare one feed: its additions (every figure checked, see
    :func:`pricing._refresh.guard.guard`) and the responses to cache."""
    fetch = FeedFetch(feed, client, policy, cache)
    adds = FEED_RUNNERS[feed.kind](feed, ctx, sid, fetch)
    guard(adds, ctx, feed.name)
    return adds, fetch.responses

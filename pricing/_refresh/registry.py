"""The sources a refresh can use: built-in names, their default URLs, and the runner of each kind.

A source is a :class:`~pricing._refresh.feed.Feed`. Each kind of feed has one module in
:mod:`pricing._refresh.feeds` exporting ``run(feed, ctx, sid, fetch) -> Additions``, which
fetches, parses and compares it; :data:`FEED_RUNNERS` maps the kinds to those runners.

LiteLLM's price map (``litellm``) may also be read from a local copy: ``--url
litellm=file:PATH`` (or a plain path), or ``--url litellm=package:litellm`` for the copy
bundled with an installed ``litellm`` package (:func:`litellm_feed`); the new source still
cites LiteLLM's URL, its title says which copy was read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pricing._base.choices import SKYPILOT_CLOUDS
from pricing._refresh.additions import Additions, Context, slug
from pricing._refresh.cache import Fetched, HttpCache
from pricing._refresh.feed import Feed, FeedFetch, FeedKind
from pricing._refresh.feeds import cards, ecb, fal, litellm, openrouter, skypilot
from pricing._refresh.feeds.cards import card_feed
from pricing._refresh.guard import guard
from pricing._refresh.http import EnvAuth, FetchPolicy
from pricing._refresh.text import clean_text
from pricing.errors import RefreshError

if TYPE_CHECKING:
    import httpx

SKYPILOT_URL = (
    "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8/{}/vms.csv"
)
#: Where each named source is fetched from unless ``urls`` says otherwise.
DEFAULT_URLS: dict[str, str] = {
    "ecb": "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
    **{f"skypilot-{c}": SKYPILOT_URL.format(c) for c in SKYPILOT_CLOUDS},
    "openrouter": "https://openrouter.ai/api/v1/models",
    "fal": "https://api.fal.ai/v1/models/pricing",
    "litellm": litellm.LITELLM_URL,
}
#: Sources refreshed only when named: LiteLLM's map is a third-party map of many providers.
OPT_IN = ("litellm",)
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
    "litellm": litellm.run,
}
#: ``--url litellm=package:litellm``: the copy bundled with an installed ``litellm`` package.
LITELLM_PACKAGE = "package:litellm"
_LITELLM_FILE = "litellm/model_prices_and_context_window_backup.json"


def named_feed(name: str, url: str | None = None) -> Feed:
    """A built-in source by name (``ecb``, ``skypilot-aws``, ``openrouter``, ``fal``,
    ``litellm``...)."""
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
    if name == "litellm":
        return litellm_feed(url)
    if name == "openrouter":
        return Feed(
            name, "openrouter", url, "provider-reseller", "OpenRouter models API", "OpenRouter",
            "openrouter-models",
        )  # fmt: skip
    return Feed(
        name, "fal", url, "official", "fal model pricing API", "fal.ai", "fal-pricing-api",
        EnvAuth("FAL_KEY", scheme="Key"),
    )  # fmt: skip


def litellm_feed(location: str | None = None) -> Feed:
    """The LiteLLM feed reading ``location``: an http(s) URL (default: LiteLLM's main
    branch), a local file (``file:PATH`` or a path), or :data:`LITELLM_PACKAGE`.

    Raises
    ------
    RefreshError
        ``package:litellm`` without the package installed.
    """
    where = location or litellm.LITELLM_URL
    title = "LiteLLM model price map (model_prices_and_context_window.json)"
    publisher = "BerriAI (LiteLLM), community-maintained"
    if "://" in where and not where.startswith("file:"):
        return Feed("litellm", "litellm", where, "third-party", title, publisher, "litellm")
    prefix = "litellm"
    if where == LITELLM_PACKAGE:
        try:
            dist = metadata.distribution("litellm")
        except metadata.PackageNotFoundError:
            raise RefreshError(
                "litellm",
                "the litellm package is not installed; install it, or pass --url "
                "litellm=file:PATH (a copy of model_prices_and_context_window.json)",
            ) from None
        path = Path(str(dist.locate_file(_LITELLM_FILE)))
        title += f", as bundled with litellm {dist.version}"
        prefix = f"litellm-{slug(dist.version)}"
    else:
        path = Path(unquote(urlsplit(where).path) if where.startswith("file:") else where)
        title += f", local copy {clean_text(path.name)}"
    return Feed(
        "litellm", "litellm", litellm.LITELLM_URL, "third-party", title, publisher, prefix,
        local=str(path),
    )  # fmt: skip


def feeds_for(sources: Sequence[str] | None, urls: Mapping[str, str] | None = None) -> list[Feed]:
    """Feeds for source names, aliases (``skypilot``, ``fx``) and registry URLs, deduplicated.

    ``None`` means every built-in source but those of :data:`OPT_IN` (a refresh of all of
    them reports fal as skipped when ``FAL_KEY`` is not set, instead of failing).
    """
    urls = dict(urls or {})
    for key in urls:
        if key not in DEFAULT_URLS:
            raise RefreshError(
                key, f"--url names an unknown source; known: {', '.join(DEFAULT_URLS)}"
            )
    names: list[str] = []
    for name in sources if sources else [n for n in DEFAULT_URLS if n not in OPT_IN]:
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

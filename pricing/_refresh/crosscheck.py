"""The catalog beside an outside price map: where their figures disagree, and what it covers.

:func:`crosscheck` reads one document of LiteLLM's price map, OpenRouter's models API or
fal's pricing API (a local file, offline; or fetched like a refresh) and turns each figure it
gives for an offer of the catalog into the price of one request (offer, size, quality), USD
per image: a per-image price as given; per pixel x width x height; fal's per megapixel x the
request's megapixels (1 MP = 1,000,000 px, as the fal refresh assumes); per image-output
token x the offer's own output tokens for that size and quality. The catalog prices the same
request with :func:`pricing._quote.quote.quote` (its default source; when that is the very
source checked, the next source in force), and ``diff_pct = (theirs - ours) / ours x 100``.
Offers are found as the refreshes find them: OpenRouter and fal records by the offer named by
their id; LiteLLM's models by ``api_ids`` or, failing that, an id whose last segment is a
model id (:func:`pricing._cards.coverage.match_model` with ``strict=False``), on the card of
the same provider (:func:`~pricing._cards.coverage.match_offer`).

:func:`coverage` lists, per provider and model, the catalog's offers, newest source and best
evidence grade in force; given LiteLLM's map, it also lists every LiteLLM image model as
``priced`` (with our offers), ``not covered`` (excused in ``data/coverage.toml``, with the
reason) or ``not covered, no reason``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import polars as pl

from pricing._base.choices import CROSSCHECK_SOURCES
from pricing._base.dates import to_date
from pricing._cards.catalog import Catalog, load_catalog
from pricing._cards.components import TokenPrice
from pricing._cards.coverage import (
    CoverageFile,
    load_coverage,
    match_model,
    match_offer,
    our_provider,
)
from pricing._cards.loader import load_data
from pricing._cards.schema import GRADES, Offer
from pricing._evidence.grades import newest_date
from pricing._evidence.table import evidence_frame
from pricing._price.request import ImageRequest
from pricing._quote.quote import Quote, quote
from pricing._refresh.feed import FeedFetch
from pricing._refresh.feeds.fal import fal_endpoints, parse_fal
from pricing._refresh.feeds.litellm import LiteLLMEntry, LiteLLMModel, litellm_models, parse_litellm
from pricing._refresh.feeds.openrouter import parse_openrouter
from pricing._refresh.http import FetchPolicy
from pricing._refresh.new_offers import offers_by_endpoint
from pricing._refresh.registry import named_feed
from pricing.errors import PricingError, RefreshError

_MP = Decimal(1_000_000)
_ROWS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "offer_id": pl.String,
    "provider": pl.String,
    "model": pl.String,
    "size": pl.String,
    "quality": pl.String,
    "operation": pl.String,
    "ours": pl.Float64,
    "our_source": pl.String,
    "our_date": pl.Date,
    "our_grade": pl.String,
    "theirs": pl.Float64,
    "their_key": pl.String,
    "their_basis": pl.String,
    "their_source": pl.String,
    "their_date": pl.Date,
    "diff_pct": pl.Float64,
}


@dataclass(frozen=True)
class Point:
    """One figure of the source for a request on one of our offers [USD/image]."""

    offer: Offer
    width: int
    height: int
    quality: str | None
    theirs: Decimal
    key: str  # the source's record
    basis: str  # how the figure was read
    operation: str | None = None


@dataclass(frozen=True)
class Crosscheck:
    """What :func:`crosscheck` found.

    ``rows``: one per (offer, size, quality, their record) both price, columns of
    ``_ROWS_SCHEMA`` (money in USD per image, ``diff_pct`` = (theirs - ours) / ours [%]);
    ``exact``: the same rows with the figures as exact decimals; ``not_compared``: ``item,
    reason`` for figures the catalog could not price or match.
    """

    source: str
    location: str
    their_source: str
    read_on: date
    as_of: date
    threshold_pct: float
    rows: pl.DataFrame
    exact: tuple[tuple[Decimal, Decimal], ...]
    not_compared: pl.DataFrame

    @property
    def disagreements(self) -> pl.DataFrame:
        """Rows whose figures differ by more than ``threshold_pct``, the largest first."""
        moved = self.rows.with_columns(gap=pl.col("diff_pct").abs())
        return moved.filter(pl.col("gap") > self.threshold_pct).sort("gap", descending=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form; money as strings so no digit is lost."""
        rows = []
        for row, (ours, theirs) in zip(self.rows.to_dicts(), self.exact, strict=True):
            row.update(ours=str(ours), theirs=str(theirs))
            rows.append({k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()})
        worst = self.disagreements.get_column("diff_pct").to_list()
        return {
            "source": self.source,
            "location": self.location,
            "their_source": self.their_source,
            "read_on": self.read_on.isoformat(),
            "as_of": self.as_of.isoformat(),
            "threshold_pct": self.threshold_pct,
            "compared": self.rows.height,
            "disagreements": len(worst),
            "largest_pct": worst[:1][0] if worst else None,
            "rows": rows,
            "not_compared": self.not_compared.to_dicts(),
        }


# --------------------------------------------------------------------------- read


def read_documents(
    source: str, path: str | Path | None, url: str | None, policy: FetchPolicy, cat: Catalog
) -> tuple[list[bytes], str, str]:
    """The source's documents (fal: every page), where they were read, and the prefix of
    the source id a refresh would give them."""
    if source not in CROSSCHECK_SOURCES:
        raise RefreshError(
            source, f"cannot crosscheck it; use one of {', '.join(CROSSCHECK_SOURCES)}"
        )
    feed = named_feed(source, None if path is not None else url)
    if path is not None:
        feed = dataclasses.replace(feed, local=str(path))
    where = feed.local or feed.url
    with policy.client() as client:
        fetch = FeedFetch(feed, client, policy, None)
        if source != "fal" or path is not None:
            return [fetch(feed.url).body], where, feed.prefix
        endpoints = fal_endpoints(load_data(cat.root))
        bodies = []
        for i in range(0, len(endpoints), 50):
            query = urlencode([("endpoint_id", e) for e in endpoints[i : i + 50]])
            url_now = f"{feed.url}?{query}"
            for _ in range(20):
                bodies.append(fetch(url_now).body)
                page = parse_fal(bodies[-1], feed.name)
                if not (page.has_more and page.next_cursor):
                    break
                url_now = f"{feed.url}?{query}&{urlencode({'cursor': page.next_cursor})}"
    return bodies, where, feed.prefix


# --------------------------------------------------------------------------- points


def _operation(offer: Offer, wanted: str | None = None) -> str:
    if wanted in offer.operations:
        return wanted
    return "generate" if "generate" in offer.operations else offer.operations[0]


def token_points(offer: Offer, per_token: Decimal, key: str, day: date) -> list[Point]:
    """``per_token`` [USD/output token] x the offer's own output tokens per image, for every
    size and quality of its token table in force."""
    out = []
    for v in (v for v in offer.versions if v.in_force(day)):
        for c in v.components_of(TokenPrice):
            if c.when.operation not in (None, "generate"):
                continue
            for row in c.output_tokens:
                w, h = (int(x) for x in row.size.split("x"))
                basis = f"{per_token} USD/token x {row.tokens} tokens (our table)"
                out.append(Point(offer, w, h, row.quality, per_token * row.tokens, key, basis))
        if out:
            return out
    return out


def litellm_points(
    models: list[LiteLLMModel], cat: Catalog, day: date, missed: list[dict[str, str]]
) -> list[Point]:
    """LiteLLM's figures as points on our offers (see the module)."""
    out: list[Point] = []
    for lm in models:
        found = match_model(lm.api_id, cat.models.values(), day, strict=False)
        card = cat.cards.get(our_provider(lm.provider))
        offer = None if isinstance(found, str) else match_offer(lm.api_id, found[0], card)
        if not isinstance(offer, Offer):
            continue
        op = "edit" if lm.operations == {"edit"} else None
        for f in lm.sized:
            quality = offer.own_quality(f.quality) if f.quality else None
            if f.quality and quality is None:
                missed.append({"item": f.key, "reason": f"{offer.id} has no quality {f.quality}"})
                continue
            side = _side(f.bracket) if f.bracket else 0
            w, h = f.size or (side, side)
            basis = "per image" + (f" at bracket {f.bracket}" if f.bracket else "")
            basis += f" at {f.steps} steps" if f.steps else ""
            out.append(Point(offer, w, h, quality, f.price, f.key, basis, op))
        if lm.flat:
            out.append(Point(offer, 1024, 1024, None, lm.flat.price, lm.flat.key, "per image", op))
        if lm.per_pixel:
            key, px = lm.per_pixel
            basis = f"{px} USD/px x 1024 x 1024"
            out.append(Point(offer, 1024, 1024, None, px * 1024 * 1024, key, basis, op))
        if lm.tokens and (per := lm.tokens[1].output_cost_per_image_token):
            out += token_points(offer, per, lm.tokens[0], day)
    return out


def _side(bracket: str) -> int:
    return int(Decimal(bracket[:-1]) * 1024) if bracket.endswith("K") else int(bracket)


def feed_points(
    source: str, bodies: list[bytes], cat: Catalog, day: date, missed: list[dict[str, str]]
) -> list[Point]:
    """The points of OpenRouter's or fal's documents: records matched by offer name."""
    offers = offers_by_endpoint(cat.cards.get(source))
    out: list[Point] = []
    if source == "openrouter":
        for m in parse_openrouter(bodies[0], source):
            offer = offers.get(m.id)
            per = m.pricing.image_output
            if offer is not None and m.makes_images and per is not None and per > 0:
                out += token_points(offer, per, m.id, day)
        return out
    for price in (p for body in bodies for p in parse_fal(body, source).prices):
        offer = offers.get(price.endpoint_id)
        unit = price.unit.lower()
        if offer is None:
            continue
        if price.currency != "USD" or unit not in (
            "image",
            "images",
            "megapixel",
            "megapixels",
            "mp",
        ):
            missed.append(
                {
                    "item": price.endpoint_id,
                    "reason": f"priced in {price.currency} per {price.unit}",
                }
            )
            continue
        per_image = unit.startswith("image")
        theirs = price.unit_price if per_image else price.unit_price * 1024 * 1024 / _MP
        basis = "per image" if per_image else f"{price.unit_price} USD/MP x 1.048576 MP"
        out.append(Point(offer, 1024, 1024, None, theirs, price.endpoint_id, basis))
    return out


# --------------------------------------------------------------------------- compare


def _ours(p: Point, cat: Catalog, day: date, prefix: str) -> tuple[Decimal, str, str] | str:
    """Our price of the point's request [USD/image], its source id and grade; or why none."""
    op = _operation(p.offer, p.operation)
    try:
        request = ImageRequest(
            model=p.offer.model, operation=op, width=p.width, height=p.height, quality=p.quality
        )
        q: Quote = quote(request, p.offer, catalog=cat, as_of=day, evidence="all")
    except PricingError as exc:
        return str(exc).split("\n", 1)[0]
    for s in q.spread.by_source:
        if not (s.source_id == prefix or s.source_id.startswith(f"{prefix}-")):
            if q.currency != "USD":
                return f"priced in {q.currency}"
            return s.total / q.images, s.source_id, s.grade
    return f"our figure cites {q.source_id}, the source checked"


def crosscheck(
    source: str,
    *,
    path: str | Path | None = None,
    url: str | None = None,
    catalog: Catalog | None = None,
    as_of: date | datetime | str | None = None,
    threshold_pct: float = 1.0,
    policy: FetchPolicy | None = None,
    now: datetime | None = None,
) -> Crosscheck:
    """Compare every figure ``source`` (``litellm``, ``openrouter``, ``fal``) gives for an
    offer of the catalog with the catalog's own price of the same request (see the module).

    ``path``: read a local copy of the source's document (offline; for fal, one pricing
    page); else ``url`` (default: the source's own address; LiteLLM also takes a file path
    or ``package:litellm``), fetched within ``policy``. ``as_of``: the day whose prices
    apply (default: today, UTC). ``now``: the read time (default: now), which dates their
    figures.

    Raises
    ------
    RefreshError
        An unknown source, a document that cannot be read, fetched or parsed.
    """
    cat = catalog if catalog is not None else load_catalog()
    day = to_date(as_of) if as_of is not None else (cat.snapshot or to_date(None))
    read = (now or datetime.now(UTC)).date()
    bodies, where, prefix = read_documents(source, path, url, policy or FetchPolicy(), cat)
    missed: list[dict[str, str]] = []
    if source == "litellm":
        models = litellm_models(parse_litellm(bodies[0], source))
        points = litellm_points(models, cat, day, missed)
    else:
        points = feed_points(source, bodies, cat, day, missed)
    theirs = f"{prefix}-{read.isoformat()}"
    rows: list[dict[str, Any]] = []
    exact: list[tuple[Decimal, Decimal]] = []
    for p in points:
        ours = _ours(p, cat, day, prefix)
        if isinstance(ours, str):
            missed.append({"item": f"{p.offer.id} {p.width}x{p.height} ({p.key})", "reason": ours})
            continue
        price, sid, grade = ours
        src = cat.source(sid)
        rows.append({
            "offer_id": p.offer.id, "provider": cat.provider_of(p.offer), "model": p.offer.model,
            "size": f"{p.width}x{p.height}", "quality": p.quality,
            "operation": _operation(p.offer, p.operation), "ours": float(price),
            "our_source": sid, "our_date": src.published or src.seen, "our_grade": grade,
            "theirs": float(p.theirs), "their_key": p.key, "their_basis": p.basis,
            "their_source": theirs, "their_date": read,
            "diff_pct": float((p.theirs - price) / price * 100) if price else None,
        })  # fmt: skip
        exact.append((price, p.theirs))
    return Crosscheck(
        source, where, theirs, read, day, threshold_pct,
        pl.DataFrame(rows, schema=_ROWS_SCHEMA), tuple(exact),
        pl.DataFrame(missed, schema={"item": pl.String, "reason": pl.String}),
    )  # fmt: skip


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Coverage:
    """What :func:`coverage` found.

    ``offers``: per provider and model, ``offers`` (ids), ``newest_source`` and
    ``newest_date`` (the later of published and seen), ``best_grade`` in force (null: no
    price in force). ``litellm``: per LiteLLM image model (``litellm_provider``, ``litellm``,
    ``keys``), its ``status`` (priced, not covered, not covered, no reason), our ``provider``,
    ``model`` (and ``matched_by``), ``offers`` priced for it, ``reason`` and ``checked`` from
    ``data/coverage.toml``, ``elsewhere`` (offers of the model at other providers) and
    ``hint`` (the ``api_ids`` line that would match it); None without a map.
    """

    offers: pl.DataFrame
    litellm: pl.DataFrame | None

    @property
    def unexplained(self) -> pl.DataFrame:
        """LiteLLM models neither priced nor excused in ``data/coverage.toml``."""
        if self.litellm is None:
            return pl.DataFrame()
        return self.litellm.filter(pl.col("status") == "not covered, no reason")

    @property
    def ok(self) -> bool:
        return self.unexplained.height == 0


def catalog_coverage(cat: Catalog, day: date) -> pl.DataFrame:
    """Per provider and model: offers, newest dated source, best evidence grade in force."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    grades = {
        (r["offer_id"], r["price_version"]): r["grade"]
        for r in evidence_frame(cat, as_of=day).iter_rows(named=True)
    }
    for card, offer in cat.all_offers():
        row = rows.setdefault((card.provider, offer.model), {
            "provider": card.provider, "model": offer.model, "offers": [],
            "newest_source": None, "newest_date": None, "best_grade": None,
        })  # fmt: skip
        row["offers"].append(offer.id)
        for v in offer.versions:
            src = cat.source(v.source)
            if row["newest_date"] is None or newest_date(src) > row["newest_date"]:
                row.update(newest_source=src.id, newest_date=newest_date(src))
            grade = grades[(offer.id, v.version_id)] if v.in_force(day) else None
            best = row["best_grade"]
            if grade and (best is None or GRADES.index(grade) < GRADES.index(best)):
                row["best_grade"] = grade
    return pl.DataFrame(list(rows.values()), schema=_OFFERS_SCHEMA).sort("provider", "model")


def _litellm_row(
    lm: LiteLLMModel, cat: Catalog, day: date, excused: CoverageFile
) -> dict[str, Any]:
    """One LiteLLM model's coverage (see :class:`Coverage`); a retired model, or one LiteLLM
    dates as deprecated, is not covered for that reason."""
    provider = our_provider(lm.provider)
    found = match_model(lm.api_id, cat.models.values(), date.min, strict=False)
    model, how = (None, None) if isinstance(found, str) else found
    mine = [(c.provider, o.id) for c, o in cat.all_offers() if model and o.model == model.id]
    entry = excused.reason_for(lm.name, lm.provider)
    reason, checked = (entry.reason, entry.checked) if entry else (None, None)
    if reason is None and model and model.retired and model.retired <= day:
        reason = f"model {model.id} was retired on {model.retired} (data/models.toml)"
    if reason is None and lm.deprecated and lm.deprecated <= day:
        reason = f"LiteLLM dates its deprecation {lm.deprecated}"
    offers = [o for p, o in mine if p == provider]
    strict = match_model(lm.api_id, cat.models.values(), date.min)
    return {
        "litellm_provider": lm.provider, "litellm": lm.name, "keys": len(lm.keys),
        "status": "priced" if offers else "not covered" if reason else "not covered, no reason",
        "provider": provider, "model": model.id if model else None, "matched_by": how,
        "offers": offers, "reason": reason, "checked": checked,
        "elsewhere": [o for p, o in mine if p != provider],
        "hint": strict if isinstance(strict, str) else None,
    }  # fmt: skip


def coverage(
    catalog: Catalog | None = None,
    litellm_map: str | Path | bytes | dict[str, LiteLLMEntry] | None = None,
    *,
    not_covered: CoverageFile | None = None,
    as_of: date | datetime | str | None = None,
) -> Coverage:
    """The catalog's coverage (see :class:`Coverage`), and of LiteLLM's map when given: a
    path or the bytes of ``model_prices_and_context_window.json``, or its parsed entries.
    ``not_covered``: default ``data/coverage.toml`` of the catalog's data directory.

    Raises
    ------
    RefreshError
        The map cannot be read or parsed.
    RateCardError
        ``data/coverage.toml`` has problems (each with the entry and the fix).
    """
    cat = catalog if catalog is not None else load_catalog()
    day = to_date(as_of) if as_of is not None else (cat.snapshot or to_date(None))
    offers = catalog_coverage(cat, day)
    if litellm_map is None:
        return Coverage(offers, None)
    excused = not_covered if not_covered is not None else load_coverage(cat.root)
    entries = litellm_map
    if isinstance(entries, str | Path):
        path = Path(entries)
        try:
            entries = path.read_bytes()
        except OSError as exc:
            raise RefreshError("litellm", f"cannot read {path} ({exc.strerror or exc})") from None
    if isinstance(entries, bytes):
        entries = parse_litellm(entries, "litellm")
    rows = [_litellm_row(lm, cat, day, excused) for lm in litellm_models(entries)]
    return Coverage(offers, pl.DataFrame(rows, schema=_COVERAGE_SCHEMA))


_OFFERS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "provider": pl.String, "model": pl.String, "offers": pl.List(pl.String),
    "newest_source": pl.String, "newest_date": pl.Date, "best_grade": pl.String,
}  # fmt: skip
_COVERAGE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "litellm_provider": pl.String, "litellm": pl.String, "keys": pl.Int64, "status": pl.String,
    "provider": pl.String, "model": pl.String, "matched_by": pl.String,
    "offers": pl.List(pl.String), "reason": pl.String, "checked": pl.Date,
    "elsewhere": pl.List(pl.String), "hint": pl.String,
}  # fmt: skip

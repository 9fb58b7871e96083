"""The catalog: every source, model and offer, with price history, snapshots and diffs."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pricing._base.dates import to_date
from pricing._cards.loader import bundled_data_dir, load_data
from pricing._cards.schema import (
    SOURCE_PRECEDENCE,
    ImageModel,
    Limits,
    Offer,
    PriceVersion,
    RateCard,
    SizeBracket,
    Source,
)
from pricing.errors import PricingError

if TYPE_CHECKING:
    import polars as pl


def close_model_ids(model: str, known: Collection[str]) -> list[str]:
    """The known ids ``model`` may mean: itself written another way ("FLUX.2 Pro" for
    flux-2-pro), else up to 3 near ids."""
    ids = sorted(known)

    def squeeze(text: str) -> str:  # "FLUX.2 Pro", "flux2-pro" -> "flux2pro"
        return "".join(ch for ch in text.lower() if ch.isalnum())

    same = [i for i in ids if squeeze(i) == squeeze(model)]
    return same or difflib.get_close_matches(model, ids, n=3)


def unknown_model(model: str, known: Collection[str]) -> str:
    """The error for an unknown model id: the close ids first, else every known id."""
    close = close_model_ids(model, known)
    if close:
        return (
            f"unknown model {model!r}; did you mean {', '.join(close)}? "
            "(`pricing cards list` lists the models of every offer)"
        )
    return f"unknown model {model!r}; known: {', '.join(sorted(known))}"


@dataclass(frozen=True)
class Catalog:
    """All price data, optionally narrowed to the versions in force on one day.

    Build it with :func:`load_catalog`. ``snapshot`` is the day given to :meth:`as_of`, which
    is also the default ``as_of`` of quotes made against this catalog.
    """

    root: Path
    sources: dict[str, Source]
    models: dict[str, ImageModel]
    cards: dict[str, RateCard]
    snapshot: date | None = None

    # ------------------------------------------------------------------ lookups

    def as_of(self, day: date | datetime | str) -> Catalog:
        """The catalog as it stood on ``day``: only price versions in force then."""
        d = to_date(day)
        cards = {}
        for pid, card in self.cards.items():
            offers = []
            for offer in card.offers:
                versions = [v for v in offer.versions if v.in_force(d)]
                if versions:
                    offers.append(offer.model_copy(update={"versions": versions}))
            cards[pid] = card.model_copy(update={"offers": offers})
        return replace(self, cards=cards, snapshot=d)

    def all_offers(self) -> Iterator[tuple[RateCard, Offer]]:
        for card in self.cards.values():
            for offer in card.offers:
                yield card, offer

    def offers(
        self,
        provider: str | None = None,
        model: str | None = None,
        operation: str | None = None,
    ) -> list[Offer]:
        """Offers filtered by provider id, model id and operation (``None`` = any)."""
        if provider is not None:
            provider = self.provider_id(provider)
        if model is not None and model not in self.models:
            raise PricingError(unknown_model(model, self.models))
        return [
            o
            for card, o in self.all_offers()
            if (provider is None or card.provider == provider)
            and (model is None or o.model == model)
            and (operation is None or operation in o.operations)
        ]

    def provider_id(self, name: str) -> str:
        """The provider id ``name`` spells, in any case (``BFL`` is ``bfl``); a
        :class:`PricingError` naming the known ids otherwise."""
        if name in self.cards:
            return name
        folded = {p.casefold(): p for p in self.cards}
        found = folded.get(name.strip().casefold())
        if found is None:
            raise PricingError(f"unknown provider {name!r}; known: {', '.join(sorted(self.cards))}")
        return found

    def offer(self, offer_id: str) -> Offer:
        for _, o in self.all_offers():
            if o.id == offer_id:
                return o
        ids = [o.id for _, o in self.all_offers()]
        slug = offer_id.split("/")[-1]
        same_slug = [i for i in ids if i.split("/")[-1] == slug]
        close = same_slug + [
            i
            for i in difflib.get_close_matches(offer_id, ids, n=5, cutoff=0.6)
            if i not in same_slug
        ]
        if close:
            hint = f"; did you mean {', '.join(close[:5])}?"
        else:
            known = sorted(ids)
            hint = f"; known offers include {', '.join(known[:8])}"
        raise PricingError(f"unknown offer {offer_id!r}{hint} (see `pricing cards list`)")

    def provider_of(self, offer: Offer) -> str:
        return offer.id.split("/", 1)[0]

    def source(self, source_id: str) -> Source:
        try:
            return self.sources[source_id]
        except KeyError:
            raise PricingError(f"unknown source {source_id!r}") from None

    def precedence(self, version: PriceVersion) -> tuple[int, date, date]:
        """Sort key: lower is preferred (source kind, then newest version, then newest seen)."""
        src = self.source(version.source)
        rank = SOURCE_PRECEDENCE.index(src.kind)
        return (rank, _neg(version.effective_from), _neg(src.seen))

    # ------------------------------------------------------------------ tables

    def history(self, offer_id: str) -> pl.DataFrame:
        """Every price version of an offer over time, oldest first, with its source.

        Columns: offer_id, version, effective_from, effective_to, source_id, source_kind,
        source_title, seen, published (the date the source shows; null when undated),
        currency, components (readable summary).
        """
        import polars as pl

        offer = self.offer(offer_id)
        rows = []
        for v in sorted(offer.versions, key=lambda v: (v.effective_from, v.source)):
            src = self.source(v.source)
            rows.append(
                {
                    "offer_id": offer.id,
                    "version": v.version_id,
                    "effective_from": v.effective_from,
                    "effective_to": v.effective_to,
                    "source_id": v.source,
                    "source_kind": src.kind,
                    "source_title": src.title,
                    "seen": src.seen,
                    "published": src.published,
                    "currency": v.currency,
                    "components": v.describe(),
                }
            )
        return pl.DataFrame(rows, schema=_history_schema())

    def to_frame(self) -> pl.DataFrame:
        """Tidy table of every priced component: one row per (version, component, field).

        ``value`` is exact (Decimal); ``field`` names what it is (``price``, ``first``,
        ``credits``, ``image_output``, ``monthly_fee``...), ``unit`` its billing unit, and the
        ``when_*`` columns the conditions under which it applies.
        """
        import polars as pl

        return pl.DataFrame(list(self._component_rows()), schema=_frame_schema())

    def _component_rows(self) -> Iterator[dict[str, object]]:
        for card, offer in self.all_offers():
            for v in offer.versions:
                src = self.source(v.source)
                base = {
                    "provider": card.provider,
                    "offer_id": offer.id,
                    "model": offer.model,
                    "version": v.version_id,
                    "effective_from": v.effective_from,
                    "effective_to": v.effective_to,
                    "source_id": v.source,
                    "source_kind": src.kind,
                    "currency": v.currency,
                }
                for comp in v.components:
                    for field_name, value, tier_start in comp.price_fields(v):
                        yield {
                            **base,
                            "unit": comp.unit,
                            "applies_to": getattr(comp, "applies_to", None),
                            "field": field_name,
                            "value": value,
                            "tier_start": tier_start,
                            "when_operation": comp.when.operation,
                            "when_size": comp.when.size,
                            "when_quality": comp.when.quality,
                            "when_bracket": comp.when.bracket,
                        }

    def diff(self, other: Catalog) -> pl.DataFrame:
        """What changed from this catalog to ``other``: offer, field, old -> new, % change.

        Offers are compared per source on their latest version in each catalog (take
        snapshots with :meth:`as_of` to compare two dates). ``change`` is ``added``,
        ``removed`` or ``changed``; ``pct`` is ``(new - old) / old * 100`` (null when old is 0).
        """
        import polars as pl

        keys = [
            "offer_id",
            "source_id",
            "unit",
            "applies_to",
            "field",
            "tier_start",
            "when_operation",
            "when_size",
            "when_quality",
            "when_bracket",
        ]
        old = _latest_per_source(self.to_frame()).select([*keys, "version", "value"])
        new = _latest_per_source(other.to_frame()).select([*keys, "version", "value"])
        joined = old.join(new, on=keys, how="full", suffix="_new", nulls_equal=True, coalesce=True)
        joined = joined.rename(
            {
                "value": "old",
                "value_new": "new",
                "version": "old_version",
                "version_new": "new_version",
            }
        )
        change = (
            pl.when(pl.col("old").is_null())
            .then(pl.lit("added"))
            .when(pl.col("new").is_null())
            .then(pl.lit("removed"))
            .otherwise(pl.lit("changed"))
        )
        old_f = pl.col("old").cast(pl.Float64)
        pct = pl.when(old_f != 0).then((pl.col("new").cast(pl.Float64) - old_f) / old_f * 100)
        out = (
            joined.with_columns(change=change, pct=pct)
            .filter((pl.col("change") != "changed") | (pl.col("old") != pl.col("new")))
            .sort(["offer_id", "source_id", "unit", "field"])
        )
        return out.select([*keys, "change", "old", "new", "pct", "old_version", "new_version"])


def _neg(d: date) -> date:
    """Invert a date for ascending sorts that should prefer later dates."""
    return date.fromordinal(date.max.toordinal() - d.toordinal() + 1)


def _latest_per_source(frame: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    latest = frame.group_by(["offer_id", "source_id"]).agg(pl.col("effective_from").max())
    return frame.join(latest, on=["offer_id", "source_id", "effective_from"], how="semi")


#: How each limit reads, in the order shown.
_LIMIT_WORDS = (
    ("max_megapixels", "at most {} MP"),
    ("min_side", "sides at least {} px"),
    ("max_side", "sides at most {} px"),
    ("multiple_of", "sides a multiple of {} px"),
    ("sizes", "only sizes {}"),
    ("max_input_images", "at most {} input image(s)"),
    ("min_steps", "at least {} steps"),
    ("max_steps", "at most {} steps"),
)


def describe_limits(limits: Limits) -> str:
    """An offer's limits in words, e.g. ``at most 4 MP, sides a multiple of 16 px``."""
    parts = []
    for name, words in _LIMIT_WORDS:
        value = getattr(limits, name)
        if value is not None and value != []:  # max_input_images = 0 is a limit
            parts.append(words.format(", ".join(value) if isinstance(value, list) else value))
    return ", ".join(parts)


def describe_bracket(bracket: SizeBracket) -> str:
    """A size bracket in words, e.g. ``1K (longest side up to 1024 px)``."""
    bounds = []
    if bracket.max_side is not None:
        bounds.append(f"longest side up to {bracket.max_side} px")
    if bracket.max_megapixels is not None:
        bounds.append(f"up to {bracket.max_megapixels} MP")
    return f"{bracket.name} ({', '.join(bounds)})"


def _history_schema() -> dict[str, pl.DataType | type[pl.DataType]]:
    """The columns of :meth:`Catalog.history`."""
    import polars as pl

    return {
        "offer_id": pl.String,
        "version": pl.String,
        "effective_from": pl.Date,
        "effective_to": pl.Date,
        "source_id": pl.String,
        "source_kind": pl.String,
        "source_title": pl.String,
        "seen": pl.Date,
        "published": pl.Date,
        "currency": pl.String,
        "components": pl.String,
    }


def _frame_schema() -> dict[str, pl.DataType | type[pl.DataType]]:
    """The columns of :meth:`Catalog.to_frame`."""
    import polars as pl

    from pricing._base.money import QUOTE_MONEY

    return {
        "provider": pl.String,
        "offer_id": pl.String,
        "model": pl.String,
        "version": pl.String,
        "effective_from": pl.Date,
        "effective_to": pl.Date,
        "source_id": pl.String,
        "source_kind": pl.String,
        "currency": pl.String,
        "unit": pl.String,
        "applies_to": pl.String,
        "field": pl.String,
        "value": QUOTE_MONEY,
        "tier_start": pl.Int64,
        "when_operation": pl.String,
        "when_size": pl.String,
        "when_quality": pl.String,
        "when_bracket": pl.String,
    }


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a data directory (the bundled ``data/`` by default).

    Raises
    ------
    RateCardError
        Listing every problem found, each with its file, offer, version, field and fix.
    """
    root = Path(path) if path is not None else bundled_data_dir()
    try:
        resolved = root.resolve()
    except (OSError, RuntimeError):  # a symbolic-link loop: load_data says so
        resolved = root.absolute()
    return _load_cached(resolved, _stamp(root))


def _stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cache key that changes whenever a data file changes; a path that cannot be read
    (a link loop, a vanished file) counts as (-1, -1) and its problem is the loader's."""
    files = sorted(root.rglob("*.toml")) if root.is_dir() else []
    stamp = []
    for p in files:
        try:
            st = p.stat()
        except OSError:
            stamp.append((str(p), -1, -1))
        else:
            stamp.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(stamp)


@lru_cache(maxsize=8)
def _load_cached(root: Path, stamp: tuple[tuple[str, int, int], ...]) -> Catalog:
    data = load_data(root)
    models = {m.id: m for m in data.models.model}
    return Catalog(
        root=root,
        sources={s.id: s for s in data.sources.source},
        models=models,
        cards={pid: _with_model_limits(card, models) for pid, card in sorted(data.cards.items())},
    )


def _with_model_limits(card: RateCard, models: dict[str, ImageModel]) -> RateCard:
    """The card with each model's own limits (largest output, most reference images) added
    to every offer of it: a reseller cannot make more than the model makes. An offer's own,
    stricter limit stays."""
    offers = []
    for offer in card.offers:
        model = models.get(offer.model)
        if model is None or (model.max_megapixels is None and model.max_reference_images is None):
            offers.append(offer)
            continue
        versions = [
            v
            if v.limits is None
            else v.model_copy(update={"limits": model_limits(v.limits, model)})
            for v in offer.versions
        ]
        offers.append(
            offer.model_copy(
                update={"limits": model_limits(offer.limits, model), "versions": versions}
            )
        )
    return card.model_copy(update={"offers": offers})


def model_limits(limits: Limits | None, model: ImageModel) -> Limits:
    """``limits`` with ``model``'s largest output and reference-image count where they are
    absent or looser."""
    base = limits if limits is not None else Limits()
    update: dict[str, object] = {}
    if model.max_megapixels is not None and base.max_megapixels is None:
        update["max_megapixels"] = model.max_megapixels
        update["megapixel"] = model.megapixel
    if model.max_reference_images is not None and (
        base.max_input_images is None or base.max_input_images > model.max_reference_images
    ):
        update["max_input_images"] = model.max_reference_images
    return base.model_copy(update=update) if update else base

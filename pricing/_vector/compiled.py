"""The catalog compiled into dense lookup tables for the vectorised engine.

The vectorised engine never joins a request table against rate cards. Instead each row
computes small integer indices (offer, day, operation, size bracket, quality, special size)
and *gathers* its parameters (:func:`gather`) from the tables built here:

- ``grid``: offer x day -> the primary price version in force (the one ``quote()`` picks), or a
  negative code (no price in force, offer retired, model retired);
- ``segments``: offer x day -> the offer's *price segment*: days of one offer share a segment
  when the primary version and every fallback in force are the same on them, so that a row's
  price depends on its day only through its segment (unless currency is converted by the
  day's rate);
- ``versions``: one struct per price version (limits, brackets, MP definition, allowances...);
- ``points``: one struct per (version, operation, bracket, quality, special size) holding the
  parameters of every component that applies there (:mod:`pricing._vector.points`);
- ``reasons``: the text of every reason a row can go unpriced, indexed by code and offer or
  version (:mod:`pricing._vector.reasons`), so that reasons cost one gather per row;
- and, per call that converts currency, the FX grid: currency x day -> rate per EUR
  (:func:`fx_grid`), indexed like the version grid.

All money is converted from the cards' Decimals to float here; the engine rounds only at the end.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from pricing._cards.catalog import Catalog
from pricing._cards.fields import OPERATIONS
from pricing._cards.schema import Offer, PriceVersion
from pricing._vector.points import point_table, to_float
from pricing._vector.reasons import CODE, MODEL_RETIRED, NO_VERSION, OFFER_RETIRED, reason_texts

EPOCH = date(1970, 1, 1)

#: Rates per EUR by (currency, day) (see :func:`fx_grid`): the grid, the first day's number,
#: the days per currency and the index of the target currency.
FxGrid = tuple[pl.Series, int, int, int]


@dataclass(frozen=True)
class Compiled:
    """Dense tables of one catalog; see the module docstring."""

    offer_ids: tuple[str, ...]
    model_ids: tuple[str, ...]
    currencies: tuple[str, ...]
    offer_model: pl.Series  # String, per offer index
    offer_model_index: pl.Series  # Int64 index into model_ids, per offer index
    offer_provider: pl.Series  # Categorical, per offer index
    qualities: tuple[str, ...]
    day0: int  # days since 1970-01-01 of grid position 1
    n_days: int  # grid positions per offer; 0 = before day0, last = every later day
    grid: pl.Series  # Int32, offer * n_days + position
    #: like ``grid``: the offer's price segment (0..n_segments - 1, unique across offers)
    segments: pl.Series
    n_segments: int
    #: the 2nd, 3rd... version in force by precedence, like ``grid`` (NO_VERSION: none): tried
    #: in turn where the one before cannot price a shape (``quote()`` does the same)
    fallbacks: tuple[pl.Series, ...]
    versions: pl.DataFrame  # one row per version key
    points: pl.DataFrame  # one row per point index
    quality_index: pl.Series  # Int32, offer * (len(qualities) + 2) + global quality
    reason_offsets: tuple[int, ...]  # per code: first index into reasons
    reasons: pl.Series  # Categorical texts
    n_brackets: int
    n_quality: int
    n_special: int  # special sizes per version (point size index 1..n_special)
    n_tiers: int
    n_sizes: int  # accepted-size list length
    needs_volume: bool  # some version has tiers, allowances or a plan
    has_minimum: bool  # some version has a minimum monthly spend

    def point_stride(self) -> tuple[int, int, int, int]:
        """Multipliers of (operation, bracket, quality, size) in a point index."""
        s = self.n_special + 1
        q = self.n_quality * s
        b = self.n_brackets * q
        return (b, q, s, 1)

    def reason_index(self, code: str, entity: int = 0) -> int:
        return self.reason_offsets[CODE[code]] + entity


def gather(values: pl.Series | pl.DataFrame, index: pl.Expr) -> pl.Expr:
    """``values[index]`` per row (null index gives null); a table gathers as one struct."""
    src = values.to_struct("_s") if isinstance(values, pl.DataFrame) else values
    return pl.lit(src).gather(index.cast(pl.UInt32))


_CACHE: dict[int, tuple[weakref.ref[Catalog], Compiled]] = {}


def compile_catalog(catalog: Catalog) -> Compiled:
    """Compile ``catalog`` once; later calls with the same object reuse the tables."""
    hit = _CACHE.get(id(catalog))
    if hit is not None and hit[0]() is catalog:
        return hit[1]
    compiled = _compile(catalog)
    key = id(catalog)
    _CACHE[key] = (weakref.ref(catalog, lambda _: _CACHE.pop(key, None)), compiled)
    return compiled


def _compile(cat: Catalog) -> Compiled:
    offers = [o for _, o in cat.all_offers()]
    model_ids = tuple(sorted(cat.models))
    qualities = tuple(sorted({q for o in offers for q in (*o.qualities, *o.quality_scale)}))
    pairs: list[tuple[Offer, PriceVersion]] = [(o, v) for o in offers for v in o.versions]

    specials = [_special_sizes(v) for _, v in pairs]
    n_brackets = max([len(o.brackets) for o in offers] + [1])
    n_quality = max([len(o.qualities) for o in offers] + [1])
    n_special = max([len(s) for s in specials] + [0])
    n_tiers = max([len(c.volume_tiers()) for _, v in pairs for c in v.components] + [0])
    n_sizes = max(
        [len(lim.sizes) for o, v in pairs if (lim := v.limits or o.limits) and lim.sizes] + [0]
    )
    first, n_days, grids = _version_grid(cat, offers, pairs)
    segments = _segment_grid(grids, n_days)
    versions = _version_table(pairs, offers, specials, n_brackets, n_sizes, n_special)
    points = point_table(pairs, specials, n_brackets, n_quality, n_special, n_tiers)
    offsets, texts = reason_texts(cat, offers, pairs)
    return Compiled(
        offer_ids=tuple(o.id for o in offers),
        model_ids=model_ids,
        currencies=tuple(currency_list(pairs)),
        offer_model=pl.Series("model", [o.model for o in offers], dtype=pl.String),
        offer_model_index=pl.Series(
            "model_index",
            [model_ids.index(o.model) if o.model in model_ids else -1 for o in offers],
            dtype=pl.Int64,
        ),
        offer_provider=pl.Series(
            "provider", [o.id.split("/", 1)[0] for o in offers], dtype=pl.Categorical
        ),
        qualities=qualities,
        day0=(first - EPOCH).days,
        n_days=n_days,
        grid=pl.Series("grid", grids[0], dtype=pl.Int32),
        segments=segments,
        n_segments=int(segments[-1]) + 1 if segments.len() else 0,
        fallbacks=tuple(pl.Series("grid", g, dtype=pl.Int32) for g in grids[1:]),
        versions=versions,
        points=points,
        quality_index=pl.Series("quality_index", _quality_index(offers, qualities), dtype=pl.Int32),
        reason_offsets=tuple(offsets),
        reasons=pl.Series("reason", texts, dtype=pl.Categorical),
        n_brackets=n_brackets,
        n_quality=n_quality,
        n_special=n_special,
        n_tiers=n_tiers,
        n_sizes=n_sizes,
        needs_volume=any(needs_volume(v) for _, v in pairs),
        has_minimum=any(v.minimum_monthly_spend is not None for _, v in pairs),
    )


def currency_list(pairs: Iterable[tuple[Offer, PriceVersion]]) -> list[str]:
    """Currencies of the catalog's price versions, sorted: ``v_currency_index`` indexes it."""
    return sorted({v.currency for _, v in pairs})


def needs_volume(v: PriceVersion) -> bool:
    """Whether a version's price depends on the month's running volume on its offer."""
    return bool(v.free_images_per_month) or any(c.follows_volume() for c in v.components)


def _special_sizes(v: PriceVersion) -> list[tuple[int, int]]:
    """Sizes a component is conditioned on, or a token table lists: priced as their own point."""
    sizes: set[str] = set().union(*(c.named_sizes() for c in v.components))
    return sorted((_wh(s) for s in sizes), key=lambda wh: (wh[0] * wh[1], wh))


def _wh(size: str) -> tuple[int, int]:
    w, h = size.split("x")
    return int(w), int(h)


# --------------------------------------------------------------------------- grids


def _version_grid(
    cat: Catalog, offers: list[Offer], pairs: list[tuple[Offer, PriceVersion]]
) -> tuple[date, int, list[list[int]]]:
    """Offer x day -> version key or a negative code: the first day, the positions per offer
    and one grid per rank of precedence (the primary first; see :func:`_offer_timeline`)."""
    vkey = {id(v): i for i, (_, v) in enumerate(pairs)}
    bounds: set[date] = set()
    for o in offers:
        for v in o.versions:
            bounds.add(v.effective_from)
            if v.effective_to is not None:
                bounds.add(v.effective_to)
        model = cat.models.get(o.model)
        if model is not None and model.retired is not None:
            bounds.add(model.retired)
    first, last = (min(bounds), max(bounds)) if bounds else (EPOCH, EPOCH)
    n_days = (last - first).days + 2
    ranks = max([_most_in_force(o) for o in offers] + [1])
    grids: list[list[int]] = [[] for _ in range(ranks)]
    for o in offers:
        for rank in range(ranks):
            grids[rank] += _offer_timeline(cat, o, first, n_days, vkey, rank)
    return first, n_days, grids


def _segment_grid(grids: list[list[int]], n_days: int) -> pl.Series:
    """Offer x day -> a dense id per run of days of one offer with the same states in force
    (the primary, then each fallback), indexed like the grids: the days of one segment price
    every request alike."""
    states = pl.DataFrame({f"r{i}": pl.Series(g, dtype=pl.Int32) for i, g in enumerate(grids)})
    first_day = pl.int_range(pl.len()) % n_days == 0
    change = pl.any_horizontal(
        first_day, *(pl.col(n) != pl.col(n).shift(1) for n in states.columns)
    )
    return states.select((change.fill_null(True).cum_sum() - 1).cast(pl.Int32).alias("segment"))[
        "segment"
    ]


def _most_in_force(offer: Offer) -> int:
    """The most versions of ``offer`` in force on one day."""
    starts = {v.effective_from for v in offer.versions}
    return max((sum(v.in_force(d) for v in offer.versions) for d in starts), default=1)


def _quality_index(offers: list[Offer], qualities: tuple[str, ...]) -> list[int]:
    """Offer x (global quality, null, unknown) -> the offer's own quality index or -1/-2."""
    nq = len(qualities)
    qindex: list[int] = []
    for o in offers:
        local = {q: i for i, q in enumerate(o.qualities)}
        own = [o.own_quality(q) for q in qualities]
        row = [local.get(w, -1) if w is not None else -1 for w in own] if o.qualities else [0] * nq
        default = o.qualities.index(o.default_quality) if o.default_quality else -2
        row.append(default if o.qualities else 0)  # no quality given
        row.append(-1 if o.qualities else 0)  # a quality no offer knows
        qindex += row
    assert len(qindex) == len(offers) * (nq + 2)
    return qindex


def _offer_timeline(
    cat: Catalog, offer: Offer, first: date, n_days: int, vkey: dict[int, int], rank: int = 0
) -> list[int]:
    """Position 0: before ``first``; position i: day first + i - 1; the last repeats forever.
    ``rank`` 0 is the primary version; 1, 2... the ones after it by precedence."""
    model = cat.models.get(offer.model)
    retired = model.retired if model is not None else None
    ends = [v.effective_to for v in offer.versions]
    all_end = max(e for e in ends if e is not None) if all(e is not None for e in ends) else None
    out = [NO_VERSION]
    changes = sorted(
        {v.effective_from for v in offer.versions}
        | {e for e in ends if e is not None}
        | ({retired} if retired else set())
    )
    state = NO_VERSION
    for i in range(1, n_days):
        day = first + timedelta(days=i - 1)
        if i == 1 or day in changes:
            state = _state_on(cat, offer, day, retired, all_end, vkey, rank)
        out.append(state)
    return out


def _state_on(
    cat: Catalog,
    offer: Offer,
    day: date,
    retired: date | None,
    all_end: date | None,
    vkey: dict[int, int],
    rank: int = 0,
) -> int:
    if retired is not None and day >= retired:
        return MODEL_RETIRED if rank == 0 else NO_VERSION
    in_force = sorted((v for v in offer.versions if v.in_force(day)), key=cat.precedence)
    if rank > 0:
        return vkey[id(in_force[rank])] if len(in_force) > rank else NO_VERSION
    if in_force:
        return vkey[id(in_force[0])]
    if all_end is not None and day >= all_end:
        return OFFER_RETIRED
    return NO_VERSION


def fx_grid(
    cat: Catalog,
    c: Compiled,
    currency: str,
    fx: pl.DataFrame | None,
    max_age: int,
) -> FxGrid | None:
    """Rates per EUR by (currency, day), forward-filled up to ``max_age`` days.

    Returns (grid, first day number, days per currency, index of the target currency), the
    grid indexed ``currency_index * days + position`` like the version grid; None when every
    price is in ``currency`` already.
    """
    from pricing._fx.store import fx_days, load_fx

    currencies = [*c.currencies, *([currency] if currency not in c.currencies else [])]
    if all(cur == currency for cur in c.currencies):
        return None
    rates = fx if fx is not None else load_fx(cat.root)
    dates = rates["date"].cast(pl.Date)
    first: date = dates.min() if len(dates) else EPOCH  # type: ignore[assignment]
    last: date = dates.max() if len(dates) else EPOCH  # type: ignore[assignment]
    # positions: 0 before the first rate, then every day until rates are too old, then null
    daily = fx_days(rates, currencies, first, last + timedelta(days=max_age + 1), max_age)
    frames = []
    for cur in currencies:
        values = daily.filter(pl.col("currency") == cur)["per_eur"].cast(pl.Float64)
        frames.append(
            pl.concat(
                [pl.Series([None], dtype=pl.Float64), values, pl.Series([None], dtype=pl.Float64)]
            )
        )
    length = frames[0].len()
    grid = pl.concat(frames)
    first_n = (first - EPOCH).days
    return grid, first_n, length, currencies.index(currency)


# --------------------------------------------------------------------------- versions


def _version_table(
    pairs: list[tuple[Offer, PriceVersion]],
    offers: list[Offer],
    specials: list[list[tuple[int, int]]],
    n_brackets: int,
    n_sizes: int,
    n_special: int,
) -> pl.DataFrame:
    """One row per price version (``v_*`` columns), in the order of ``pairs``."""
    offer_index = {o.id: i for i, o in enumerate(offers)}
    currencies = currency_list(pairs)
    rows: list[dict[str, Any]] = []
    for (o, v), sp in zip(pairs, specials, strict=True):
        lim = v.limits or o.limits
        mpdef = Decimal(v.megapixel)
        row: dict[str, Any] = {
            "v_offer": offer_index[o.id],
            "v_provider": o.id.split("/", 1)[0],
            "v_model": o.model,
            "v_version": v.version_id,
            "v_source": v.source,
            "v_currency": v.currency,
            "v_mp_def": float(v.megapixel),
            "v_credit": to_float(v.credit_value),
            "v_ops": sum(1 << OPERATIONS.index(op) for op in o.operations),
            "v_free": v.free_images_per_month,
            "v_minimum": to_float(v.minimum_monthly_spend),
            "v_discount": to_float(v.committed_use_discount),
            "v_n_brackets": len(o.brackets),
            "v_needs_volume": needs_volume(v),
            "v_currency_index": currencies.index(v.currency),
            "v_has_sizes": bool(lim and lim.sizes),
        }
        for key in ("min_side", "max_side", "multiple_of", "max_input_images"):
            row[f"v_{key}"] = getattr(lim, key) if lim else None
        row["v_min_steps"] = lim.min_steps if lim else None
        row["v_max_steps"] = lim.max_steps if lim else None
        row["v_max_px"] = (
            to_float(lim.max_megapixels * Decimal(lim.megapixel or v.megapixel))
            if lim and lim.max_megapixels
            else None
        )
        for i in range(n_sizes):
            wh = _wh(lim.sizes[i]) if lim and lim.sizes and i < len(lim.sizes) else None
            row[f"v_size{i}_w"], row[f"v_size{i}_h"] = wh if wh else (None, None)
        for i in range(n_brackets):
            b = o.brackets[i] if i < len(o.brackets) else None
            row[f"v_br{i}_side"] = b.max_side if b else None
            row[f"v_br{i}_px"] = (
                to_float(b.max_megapixels * mpdef) if b and b.max_megapixels else None
            )
        for i in range(n_special):
            wh = sp[i] if i < len(sp) else None
            row[f"v_sp{i}_w"], row[f"v_sp{i}_h"] = wh if wh else (None, None)
        rows.append(row)
    return pl.DataFrame(rows, schema=_version_schema(n_sizes, n_brackets, n_special))


def _version_schema(n_sizes: int, n_brackets: int, n_special: int) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "v_offer": pl.Int64,
        "v_provider": pl.Categorical,
        "v_model": pl.String,
        "v_version": pl.Categorical,
        "v_source": pl.Categorical,
        "v_currency": pl.Categorical,
        "v_mp_def": pl.Float64,
        "v_credit": pl.Float64,
        "v_ops": pl.Int64,
        "v_free": pl.Int64,
        "v_minimum": pl.Float64,
        "v_discount": pl.Float64,
        "v_n_brackets": pl.Int64,
        "v_needs_volume": pl.Boolean,
        "v_currency_index": pl.Int64,
        "v_has_sizes": pl.Boolean,
        "v_min_side": pl.Int64,
        "v_max_side": pl.Int64,
        "v_multiple_of": pl.Int64,
        "v_max_input_images": pl.Int64,
        "v_min_steps": pl.Int64,
        "v_max_steps": pl.Int64,
        "v_max_px": pl.Float64,
    }
    for i in range(n_sizes):
        schema[f"v_size{i}_w"] = schema[f"v_size{i}_h"] = pl.Int64
    for i in range(n_brackets):
        schema[f"v_br{i}_side"] = pl.Int64
        schema[f"v_br{i}_px"] = pl.Float64
    for i in range(n_special):
        schema[f"v_sp{i}_w"] = schema[f"v_sp{i}_h"] = pl.Int64
    return schema

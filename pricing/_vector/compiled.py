"""The catalog compiled into dense lookup tables for the vectorised engine.

The vectorised engine never joins a request table against rate cards. Instead each row
computes small integer indices (offer, day, operation, size bracket, quality, special size)
and *gathers* its parameters from the tables built here:

- ``grid``: offer x day -> the primary price version in force (the one ``quote()`` picks), or a
  negative code (no price in force, offer retired, model retired);
- ``versions``: one struct per price version (limits, brackets, MP definition, allowances...);
- ``points``: one struct per (version, operation, bracket, quality, special size) holding the
  parameters of every component that applies there (``when`` conditions resolved here, once);
- ``reasons``: the text of every reason a row can go unpriced, indexed by code and offer or
  version, so that reasons cost one gather instead of string building per row.

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
from pricing._cards.schema import (
    OPERATIONS,
    CreditPrice,
    GpuSecondPrice,
    ImagePrice,
    InputImagePrice,
    MegapixelPrice,
    Offer,
    PriceVersion,
    StepPrice,
    SubscriptionPrice,
    TokenPrice,
    When,
    _Component,
)

EPOCH = date(1970, 1, 1)

# Codes of the grid of versions in force (negative: no version).
NO_VERSION = -1
OFFER_RETIRED = -2
MODEL_RETIRED = -3

# Reason codes, in the order ``quote()`` checks them. Scope says what the text is indexed by.
REASONS: tuple[tuple[str, str], ...] = (
    ("ok", "global"),
    ("missing_offer", "global"),
    ("unknown_offer", "global"),
    ("bad_timestamp", "global"),
    ("bad_operation", "global"),
    ("bad_size", "global"),
    ("bad_count", "global"),
    ("bad_numbers", "global"),
    ("model_mismatch", "offer"),
    ("model_retired", "offer"),
    ("offer_retired", "offer"),
    ("no_version", "offer"),
    ("operation", "version"),
    ("sizes", "version"),
    ("max_mp", "version"),
    ("max_side", "version"),
    ("min_side", "version"),
    ("multiple_of", "version"),
    ("max_inputs", "version"),
    ("min_steps", "version"),
    ("max_steps", "version"),
    ("bracket", "version"),
    ("quality_required", "version"),
    ("quality_unknown", "version"),
    ("no_component", "version"),
    ("no_seconds", "version"),
    ("no_token_row", "version"),
    ("no_text_price", "version"),
    ("no_input_tokens", "version"),
    ("no_image_input_price", "version"),
    ("no_steps", "version"),
    ("no_overage", "version"),
    ("no_fx", "global"),
)
CODE: dict[str, int] = {name: i for i, (name, _) in enumerate(REASONS)}


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


def _f(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def _compile(cat: Catalog) -> Compiled:
    offers = [o for _, o in cat.all_offers()]
    offer_ids = tuple(o.id for o in offers)
    model_ids = tuple(sorted(cat.models))
    qualities = tuple(sorted({q for o in offers for q in o.qualities}))
    pairs: list[tuple[Offer, PriceVersion]] = [(o, v) for o in offers for v in o.versions]
    vkey = {id(v): i for i, (_, v) in enumerate(pairs)}

    specials = [_special_sizes(v) for _, v in pairs]
    n_brackets = max([len(o.brackets) for o in offers] + [1])
    n_quality = max([len(o.qualities) for o in offers] + [1])
    n_special = max([len(s) for s in specials] + [0])
    n_tiers = max(
        [len(c.tiers) for _, v in pairs for c in v.components if isinstance(c, ImagePrice)] + [0]
    )
    n_sizes = max(
        [len(lim.sizes) for o, v in pairs if (lim := v.limits or o.limits) and lim.sizes] + [0]
    )

    # ---- grid: offer x day -> primary version key or a negative code
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
    grid: list[int] = []
    for o in offers:
        grid += _offer_timeline(cat, o, first, n_days, vkey)

    # ---- quality index: offer x (global quality, null, unknown) -> local index or -1/-2
    nq = len(qualities)
    qindex: list[int] = []
    for o in offers:
        local = {q: i for i, q in enumerate(o.qualities)}
        row = [local.get(q, -1) if o.qualities else 0 for q in qualities]
        default = o.qualities.index(o.default_quality) if o.default_quality else -2
        row.append(default if o.qualities else 0)  # no quality given
        row.append(-1 if o.qualities else 0)  # a quality no offer knows
        qindex += row
    assert len(qindex) == len(offers) * (nq + 2)

    versions = _version_table(cat, pairs, offers, specials, n_brackets, n_sizes, n_special)
    points = _point_table(pairs, specials, n_brackets, n_quality, n_special, n_tiers)
    offsets, texts = _reason_texts(cat, offers, pairs)
    return Compiled(
        offer_ids=offer_ids,
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
        grid=pl.Series("grid", grid, dtype=pl.Int32),
        versions=versions,
        points=points,
        quality_index=pl.Series("quality_index", qindex, dtype=pl.Int32),
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
    return bool(v.free_images_per_month) or any(
        (isinstance(c, ImagePrice) and c.tiers) or isinstance(c, SubscriptionPrice)
        for c in v.components
    )


def _special_sizes(v: PriceVersion) -> list[tuple[int, int]]:
    """Sizes a component is conditioned on, or a token table lists: priced as their own point."""
    sizes: set[str] = set()
    for c in v.components:
        if c.when.size is not None:
            sizes.add(c.when.size)
        if isinstance(c, TokenPrice):
            sizes |= {r.size for r in c.output_tokens}
    return sorted((_wh(s) for s in sizes), key=lambda wh: (wh[0] * wh[1], wh))


def _wh(size: str) -> tuple[int, int]:
    w, h = size.split("x")
    return int(w), int(h)


def _offer_timeline(
    cat: Catalog, offer: Offer, first: date, n_days: int, vkey: dict[int, int]
) -> list[int]:
    """Position 0: before ``first``; position i: day first + i - 1; the last repeats forever."""
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
            state = _state_on(cat, offer, day, retired, all_end, vkey)
        out.append(state)
    return out


def _state_on(
    cat: Catalog,
    offer: Offer,
    day: date,
    retired: date | None,
    all_end: date | None,
    vkey: dict[int, int],
) -> int:
    if retired is not None and day >= retired:
        return MODEL_RETIRED
    in_force = sorted((v for v in offer.versions if v.in_force(day)), key=cat.precedence)
    if in_force:
        return vkey[id(in_force[0])]
    if all_end is not None and day >= all_end:
        return OFFER_RETIRED
    return NO_VERSION


def _version_table(
    cat: Catalog,
    pairs: list[tuple[Offer, PriceVersion]],
    offers: list[Offer],
    specials: list[list[tuple[int, int]]],
    n_brackets: int,
    n_sizes: int,
    n_special: int,
) -> pl.DataFrame:
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
            "v_credit": _f(v.credit_value),
            "v_ops": sum(1 << OPERATIONS.index(op) for op in o.operations),
            "v_free": v.free_images_per_month,
            "v_minimum": _f(v.minimum_monthly_spend),
            "v_discount": _f(v.committed_use_discount),
            "v_n_brackets": len(o.brackets),
            "v_needs_volume": needs_volume(v),
            "v_currency_index": currencies.index(v.currency),
            "v_has_sizes": bool(lim and lim.sizes),
        }
        for key in ("min_side", "max_side", "multiple_of", "max_input_images"):
            row[f"v_{key}"] = getattr(lim, key) if lim else None
        row["v_min_steps"] = lim.min_steps if lim else None
        row["v_max_steps"] = lim.max_steps if lim else None
        row["v_max_px"] = _f(lim.max_megapixels * mpdef) if lim and lim.max_megapixels else None
        for i in range(n_sizes):
            wh = _wh(lim.sizes[i]) if lim and lim.sizes and i < len(lim.sizes) else None
            row[f"v_size{i}_w"], row[f"v_size{i}_h"] = wh if wh else (None, None)
        for i in range(n_brackets):
            b = o.brackets[i] if i < len(o.brackets) else None
            row[f"v_br{i}_side"] = b.max_side if b else None
            row[f"v_br{i}_px"] = _f(b.max_megapixels * mpdef) if b and b.max_megapixels else None
        for i in range(n_special):
            wh = sp[i] if i < len(sp) else None
            row[f"v_sp{i}_w"], row[f"v_sp{i}_h"] = wh if wh else (None, None)
        rows.append(row)
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
    return pl.DataFrame(rows, schema=schema)


def _matches(
    when: When, op: str, bracket: str | None, quality: str | None, size: str | None
) -> bool:
    """``size`` None means a size no component names (the point of every other size)."""
    return (
        (when.operation is None or when.operation == op)
        and (when.bracket is None or when.bracket == bracket)
        and (when.quality is None or when.quality == quality)
        and (when.size is None or when.size == size)
    )


_POINT_SCHEMA: dict[str, Any] = {
    "p_n": pl.Int64,
    "p_img": pl.Boolean,
    "p_img_price": pl.Float64,
    "p_img_high": pl.Float64,
    "p_img_all_units": pl.Boolean,
    "p_ii_price": pl.Float64,
    "p_mo": pl.Boolean,
    "p_mo_first": pl.Float64,
    "p_mo_price": pl.Float64,
    "p_mo_up": pl.Boolean,
    "p_mo_inc": pl.Float64,
    "p_mo_min": pl.Float64,
    "p_mi": pl.Boolean,
    "p_mi_price": pl.Float64,
    "p_mi_up": pl.Boolean,
    "p_mi_inc": pl.Float64,
    "p_mi_min": pl.Float64,
    "p_g": pl.Boolean,
    "p_g_price": pl.Float64,
    "p_g_gran": pl.Float64,
    "p_g_min": pl.Float64,
    "p_g_est_s": pl.Float64,
    "p_g_est_px": pl.Float64,
    "p_g_est_steps": pl.Float64,
    "p_cr": pl.Float64,
    "p_tk": pl.Boolean,
    "p_tk_text": pl.Float64,
    "p_tk_in": pl.Float64,
    "p_tk_out": pl.Float64,
    "p_tk_tokens": pl.Float64,
    "p_st": pl.Boolean,
    "p_st_price": pl.Float64,
    "p_st_ref_px": pl.Float64,
    "p_st_default": pl.Int64,
    "p_sb": pl.Boolean,
    "p_sb_fee": pl.Float64,
    "p_sb_images": pl.Int64,
    "p_sb_seconds": pl.Float64,
    "p_sb_per_image_s": pl.Float64,
    "p_sb_over_image": pl.Float64,
    "p_sb_over_hour": pl.Float64,
}


def _point_table(
    pairs: list[tuple[Offer, PriceVersion]],
    specials: list[list[tuple[int, int]]],
    n_brackets: int,
    n_quality: int,
    n_special: int,
    n_tiers: int,
) -> pl.DataFrame:
    schema = dict(_POINT_SCHEMA)
    for i in range(n_tiers):
        schema[f"p_t{i}_start"] = pl.Float64
        schema[f"p_t{i}_price"] = pl.Float64
    empty = dict.fromkeys(schema)
    points: list[dict[str, Any]] = []  # the distinct points; the grid holds their positions
    grid: list[int] = []
    cache: dict[tuple[int, str, str | None, str | None, str | None], int] = {}
    for vi, ((o, v), sp) in enumerate(zip(pairs, specials, strict=True)):
        for op in OPERATIONS:
            for b in range(n_brackets):
                bracket = o.brackets[b].name if b < len(o.brackets) else None
                for q in range(n_quality):
                    quality = o.qualities[q] if q < len(o.qualities) else None
                    for s in range(n_special + 1):
                        size = f"{sp[s - 1][0]}x{sp[s - 1][1]}" if 0 < s <= len(sp) else None
                        key = (vi, op, bracket, quality, size)
                        if key not in cache:
                            point = dict(empty)
                            if op in o.operations:
                                comps = [
                                    c
                                    for c in v.components
                                    if _matches(c.when, op, bracket, quality, size)
                                ]
                                _fill_point(point, comps, size, quality, n_tiers)
                            else:
                                point["p_n"] = 0
                            cache[key] = len(points)
                            points.append(point)
                        grid.append(cache[key])
    table = (
        pl.DataFrame(points, schema=schema, orient="row") if points else pl.DataFrame(schema=schema)
    )
    return table.gather(pl.Series(grid, dtype=pl.UInt32))


def _fill_point(
    point: dict[str, Any],
    comps: Iterable[_Component],
    size: str | None,
    quality: str | None,
    n_tiers: int,
) -> None:
    comps = list(comps)
    point["p_n"] = len(comps)
    for key in ("p_img", "p_mo", "p_mi", "p_g", "p_tk", "p_st", "p_sb"):
        point[key] = False
    for c in comps:
        if isinstance(c, ImagePrice):
            point["p_img"] = True
            point["p_img_price"] = _f(c.price)
            point["p_img_high"] = _f(c.price_high)
            point["p_img_all_units"] = c.tier_mode == "all-units"
            for i, t in enumerate(c.tiers[:n_tiers]):
                point[f"p_t{i}_start"] = float(t.start)
                point[f"p_t{i}_price"] = float(t.price)
        elif isinstance(c, InputImagePrice):
            point["p_ii_price"] = float(c.price)
        elif isinstance(c, MegapixelPrice):
            p = "p_mo" if c.applies_to == "output" else "p_mi"
            point[p] = True
            point[f"{p}_price"] = float(c.price)
            point[f"{p}_up"] = c.rounding == "up"
            point[f"{p}_inc"] = _f(c.increment)
            point[f"{p}_min"] = _f(c.minimum_mp)
            if c.applies_to == "output":
                point["p_mo_first"] = _f(c.first)
        elif isinstance(c, GpuSecondPrice):
            point["p_g"] = True
            point["p_g_price"] = float(c.price)
            point["p_g_gran"] = _f(c.granularity_s)
            point["p_g_min"] = float(c.minimum_s)
            if c.estimate is not None:
                est = c.estimate
                point["p_g_est_s"] = float(est.seconds)
                point["p_g_est_px"] = float(est.width * est.height)
                point["p_g_est_steps"] = _f(est.steps)
        elif isinstance(c, CreditPrice):
            point["p_cr"] = float(c.credits)
        elif isinstance(c, TokenPrice):
            point["p_tk"] = True
            point["p_tk_text"] = _f(c.text_input)
            point["p_tk_in"] = _f(c.image_input)
            point["p_tk_out"] = float(c.image_output)
            rows = [
                r
                for r in c.output_tokens
                if size is not None and r.size == size and (quality is None or r.quality == quality)
            ]
            point["p_tk_tokens"] = float(rows[0].tokens) if len(rows) == 1 else None
        elif isinstance(c, StepPrice):
            point["p_st"] = True
            point["p_st_price"] = float(c.price / c.per_steps)
            point["p_st_ref_px"] = (
                float(c.reference_width * c.reference_height) if c.scale_by_area else None
            )
            point["p_st_default"] = c.default_steps
        elif isinstance(c, SubscriptionPrice):
            point["p_sb"] = True
            point["p_sb_fee"] = float(c.monthly_fee)
            if c.included_gpu_hours is not None and c.gpu_seconds_per_image is not None:
                point["p_sb_seconds"] = float(c.included_gpu_hours * 3600)
                point["p_sb_per_image_s"] = float(c.gpu_seconds_per_image)
            elif c.included_images is not None:
                point["p_sb_images"] = c.included_images
            point["p_sb_over_image"] = _f(c.overage_per_image)
            point["p_sb_over_hour"] = _f(c.overage_per_gpu_hour)


def _reason_texts(
    cat: Catalog, offers: list[Offer], pairs: list[tuple[Offer, PriceVersion]]
) -> tuple[list[int], list[str]]:
    offsets: list[int] = []
    texts: list[str] = []
    for name, scope in REASONS:
        offsets.append(len(texts))
        if scope == "global":
            texts.append(_GLOBAL_TEXT.get(name, name))
        elif scope == "offer":
            texts += [_offer_text(cat, name, o) for o in offers]
        else:
            texts += [_version_text(name, o, v) for o, v in pairs]
    return offsets, texts


_GLOBAL_TEXT = {
    "ok": "",
    "missing_offer": "no offer_id: give the offer to price the row on (see `pricing cards list`)",
    "unknown_offer": "unknown offer_id; see `pricing cards list` for the offers in the catalog",
    "bad_timestamp": "missing or unreadable timestamp; give an ISO 8601 time with a time zone",
    "bad_operation": (f"missing or unknown operation; use one of {', '.join(OPERATIONS)}"),
    "bad_size": "missing, zero or negative width or height; sizes are positive pixels",
    "bad_count": "missing, zero or negative count; count is the images made by the call",
    "bad_numbers": ("negative input_images, prompt_tokens, input_image_tokens, steps or seconds"),
    "no_fx": "no exchange rate for the currency on that day; run `pricing fx pull`",
}


def _offer_text(cat: Catalog, name: str, o: Offer) -> str:
    model = cat.models.get(o.model)
    if name == "model_mismatch":
        return f"{o.id} serves model {o.model!r}, not the row's model"
    if name == "model_retired":
        day = model.retired.isoformat() if model and model.retired else "?"
        return f"model {o.model!r} was retired on {day}"
    if name == "offer_retired":
        last = max((v.effective_to for v in o.versions if v.effective_to), default=None)
        return f"{o.id} was retired on {last.isoformat() if last else '?'}"
    periods = ", ".join(
        f"{v.effective_from} to {v.effective_to or 'now'}"
        for v in sorted(o.versions, key=lambda v: v.effective_from)
    )
    return f"{o.id} has no price in force on that day; its prices cover {periods}"


def _version_text(name: str, o: Offer, v: PriceVersion) -> str:
    lim = v.limits or o.limits
    vid = f"{o.id} ({v.version_id})"
    if name == "operation":
        return f"{o.id} does not serve that operation; it serves {', '.join(o.operations)}"
    if name == "sizes":
        return f"{o.id} accepts only sizes {', '.join(lim.sizes or []) if lim else ''}"
    if name == "max_mp":
        return f"{o.id} allows at most {lim.max_megapixels if lim else '?'} MP"
    if name == "max_side":
        return f"{o.id} allows sides up to {lim.max_side if lim else '?'} px"
    if name == "min_side":
        return f"{o.id} needs sides of at least {lim.min_side if lim else '?'} px"
    if name == "multiple_of":
        return f"{o.id} needs width and height in multiples of {lim.multiple_of if lim else '?'} px"
    if name == "max_inputs":
        return f"{o.id} takes at most {lim.max_input_images if lim else '?'} input images"
    if name == "min_steps":
        return f"{o.id} needs at least {lim.min_steps if lim else '?'} steps"
    if name == "max_steps":
        return f"{o.id} allows at most {lim.max_steps if lim else '?'} steps"
    if name == "bracket":
        names = ", ".join(b.name for b in o.brackets)
        return f"the size is larger than every size bracket of {o.id} ({names})"
    if name == "quality_required":
        return f"{o.id} prices by quality; give a quality, one of {', '.join(o.qualities)}"
    if name == "quality_unknown":
        return f"{o.id} has no such quality; use one of {', '.join(o.qualities)}"
    if name == "no_component":
        return f"no price component of {vid} applies to that operation, size and quality"
    if name == "no_seconds":
        return f"{vid} is billed per GPU-second without a run-time estimate; give seconds"
    if name == "no_token_row":
        return f"{vid} has no output-token count for that size and quality"
    if name == "no_text_price":
        return f"{vid} has no text-input token price for the prompt tokens"
    if name == "no_input_tokens":
        return f"{vid} charges input images by tokens; give input_image_tokens"
    if name == "no_image_input_price":
        return f"{vid} has no image-input token price"
    if name == "no_steps":
        return f"{vid} prices per inference step; give steps"
    if name == "no_overage":
        return f"{vid} has no price for usage beyond the plan"
    return f"{vid}: {name}"  # pragma: no cover - every code has a text above

"""The price-point table: the parameters of every component that applies at a price point.

A *point* is one (version, operation, size bracket, quality, special size) of the catalog. Its
row holds the parameters of every component whose ``when`` matches there (resolved here, once),
so that the engine gathers a row's parameters by one computed index instead of testing
conditions per row. Money is converted from the cards' Decimals to float.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import polars as pl

from pricing._cards.schema import (
    OPERATIONS,
    Component,
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
)


def to_float(value: Decimal | int | None) -> float | None:
    """A card's number as float; None stays None."""
    return None if value is None else float(value)


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


def point_table(
    pairs: list[tuple[Offer, PriceVersion]],
    specials: list[list[tuple[int, int]]],
    n_brackets: int,
    n_quality: int,
    n_special: int,
    n_tiers: int,
) -> pl.DataFrame:
    """One row per point index (see ``Compiled.point_stride``), version by version.

    ``specials`` lists each version's special sizes; points that are alike share one
    computed row.
    """
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


def _fill_point(
    point: dict[str, Any],
    comps: Iterable[Component],
    size: str | None,
    quality: str | None,
    n_tiers: int,
) -> None:
    """Write the parameters of the components ``comps`` that apply at a point into ``point``."""
    comps = list(comps)
    point["p_n"] = len(comps)
    for key in ("p_img", "p_mo", "p_mi", "p_g", "p_tk", "p_st", "p_sb"):
        point[key] = False
    for c in comps:
        if isinstance(c, ImagePrice):
            point["p_img"] = True
            point["p_img_price"] = to_float(c.price)
            point["p_img_high"] = to_float(c.price_high)
            point["p_img_all_units"] = c.tier_mode == "all-units"
            for i, t in enumerate(c.tiers[:n_tiers]):
                point[f"p_t{i}_start"] = float(t.start)
                point[f"p_t{i}_price"] = float(t.price)
        elif isinstance(c, InputImagePrice):
            point["p_ii_price"] = float(c.price)
        elif isinstance(c, MegapixelPrice):
            _fill_megapixels(point, c)
        elif isinstance(c, GpuSecondPrice):
            _fill_gpu_seconds(point, c)
        elif isinstance(c, CreditPrice):
            point["p_cr"] = float(c.credits)
        elif isinstance(c, TokenPrice):
            _fill_tokens(point, c, size, quality)
        elif isinstance(c, StepPrice):
            point["p_st"] = True
            point["p_st_price"] = float(c.price / c.per_steps)
            point["p_st_ref_px"] = (
                float(c.reference_width * c.reference_height) if c.scale_by_area else None
            )
            point["p_st_default"] = c.default_steps
        elif isinstance(c, SubscriptionPrice):
            _fill_plan(point, c)


def _fill_megapixels(point: dict[str, Any], c: MegapixelPrice) -> None:
    p = "p_mo" if c.applies_to == "output" else "p_mi"
    point[p] = True
    point[f"{p}_price"] = float(c.price)
    point[f"{p}_up"] = c.rounding == "up"
    point[f"{p}_inc"] = to_float(c.increment)
    point[f"{p}_min"] = to_float(c.minimum_mp)
    if c.applies_to == "output":
        point["p_mo_first"] = to_float(c.first)


def _fill_gpu_seconds(point: dict[str, Any], c: GpuSecondPrice) -> None:
    point["p_g"] = True
    point["p_g_price"] = float(c.price)
    point["p_g_gran"] = to_float(c.granularity_s)
    point["p_g_min"] = float(c.minimum_s)
    if c.estimate is not None:
        est = c.estimate
        point["p_g_est_s"] = float(est.seconds)
        point["p_g_est_px"] = float(est.width * est.height)
        point["p_g_est_steps"] = to_float(est.steps)


def _fill_tokens(
    point: dict[str, Any], c: TokenPrice, size: str | None, quality: str | None
) -> None:
    point["p_tk"] = True
    point["p_tk_text"] = to_float(c.text_input)
    point["p_tk_in"] = to_float(c.image_input)
    point["p_tk_out"] = float(c.image_output)
    rows = [
        r
        for r in c.output_tokens
        if size is not None and r.size == size and (quality is None or r.quality == quality)
    ]
    point["p_tk_tokens"] = float(rows[0].tokens) if len(rows) == 1 else None


def _fill_plan(point: dict[str, Any], c: SubscriptionPrice) -> None:
    point["p_sb"] = True
    point["p_sb_fee"] = float(c.monthly_fee)
    if c.included_gpu_hours is not None and c.gpu_seconds_per_image is not None:
        point["p_sb_seconds"] = float(c.included_gpu_hours * 3600)
        point["p_sb_per_image_s"] = float(c.gpu_seconds_per_image)
    elif c.included_images is not None:
        point["p_sb_images"] = c.included_images
    point["p_sb_over_image"] = to_float(c.overage_per_image)
    point["p_sb_over_hour"] = to_float(c.overage_per_gpu_hour)

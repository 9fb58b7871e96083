"""The price-point table: the parameters of every component that applies at a price point.

A *point* is one (version, operation, size bracket, quality, special size) of the catalog. Its
row holds the parameters of every component whose ``when`` matches there (resolved here, once),
so that the engine gathers a row's parameters by one computed index instead of testing
conditions per row. Money is converted from the cards' Decimals to float.

Each billing unit declares its columns once, in :data:`UNIT_POINTS` (its :class:`Columns`
groups and the function that fills them); :mod:`pricing._vector.shapes` and
:mod:`pricing._vector.checks` read the columns through the same groups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from pricing._cards.components import (
    Component,
    CreditPrice,
    GpuSecondPrice,
    ImagePrice,
    InputImagePrice,
    MegapixelPrice,
    StepPrice,
    SubscriptionPrice,
    TokenPrice,
    When,
)
from pricing._cards.fields import OPERATIONS
from pricing._cards.schema import Offer, PriceVersion


def to_float(value: Decimal | int | None) -> float | None:
    """A card's number as float; None stays None."""
    return None if value is None else float(value)


@dataclass(frozen=True)
class Columns:
    """A group of point columns: ``<prefix>`` and ``<prefix>_<part>`` for each part.

    ``parts`` maps a part to its polars dtype; the part ``""`` is the column named by the prefix
    alone. A Boolean ``""`` column is the unit's flag: False at every point of an operation the
    offer serves, True where a component of the unit applies.
    """

    prefix: str
    parts: Mapping[str, Any]

    def name(self, part: str = "") -> str:
        """The column of ``part`` (the prefix column for ``""``)."""
        if part not in self.parts:
            raise KeyError(f"point columns {self.prefix!r} have no part {part!r}")
        return f"{self.prefix}_{part}" if part else self.prefix

    def col(self, part: str = "") -> pl.Expr:
        """The column of ``part`` as an expression."""
        return pl.col(self.name(part))

    def schema(self) -> dict[str, Any]:
        """Column name -> polars dtype, in the order of ``parts``."""
        return {self.name(part): dtype for part, dtype in self.parts.items()}

    @property
    def flag(self) -> str | None:
        """The flag column, if the group has one."""
        return self.prefix if self.parts.get("") == pl.Boolean else None

    def values(self, *main: Any, **parts: Any) -> dict[str, Any]:
        """Column name -> value: the prefix column's (``main``, if given), then ``parts``."""
        out = {self.name(): main[0]} if main else {}
        out.update({self.name(part): value for part, value in parts.items()})
        return out


F64, BOOL, INT = pl.Float64, pl.Boolean, pl.Int64

#: How many components apply at the point (0: none, or an operation the offer does not serve).
MATCHED = Columns("p_n", {"": INT})
#: Output images: flat price [currency/image] with the top of a stated range, tier mode.
IMAGE = Columns("p_img", {"": BOOL, "price": F64, "high": F64, "all_units": BOOL})
#: Input images [currency/input image].
INPUT_IMAGE = Columns("p_ii", {"price": F64})
#: Megapixels of the output: first MP [currency], price [currency/MP], rounding up to whole
#: MP, increment [currency], minimum [MP per image].
MP_OUTPUT = Columns(
    "p_mo", {"": BOOL, "first": F64, "price": F64, "up": BOOL, "inc": F64, "min": F64}
)
#: Megapixels of the input images, as for the output without a first-MP price.
MP_INPUT = Columns("p_mi", {"": BOOL, "price": F64, "up": BOOL, "inc": F64, "min": F64})
#: GPU time: price [currency/s], granularity and minimum [s per call], the card's run-time
#: estimate [s per image] at its pixels [px] and steps.
GPU = Columns(
    "p_g",
    {
        "": BOOL,
        "price": F64,
        "gran": F64,
        "min": F64,
        "est_s": F64,
        "est_px": F64,
        "est_steps": F64,
    },
)
#: Credits [credits/image] (null: no credit price at the point).
CREDIT = Columns("p_cr", {"": F64})
#: Tokens: text input, image input, image output [currency/1M tokens], output tokens per image
#: at the point's size and quality (null: the table has no row).
TOKENS = Columns("p_tk", {"": BOOL, "text": F64, "in": F64, "out": F64, "tokens": F64})
#: Steps: price per step [currency] at the reference area [px] (null: no area scaling), and
#: the default steps.
STEPS = Columns("p_st", {"": BOOL, "price": F64, "ref_px": F64, "default": INT})
#: A plan: fee [currency/month], included images [images/month] or GPU time [s/month] with
#: its seconds per image, overage [currency/image] or [currency/h].
PLAN = Columns(
    "p_sb",
    {
        "": BOOL,
        "fee": F64,
        "images": INT,
        "seconds": F64,
        "per_image_s": F64,
        "over_image": F64,
        "over_hour": F64,
    },
)


def tier_columns(i: int) -> Columns:
    """Volume tier ``i`` of a per-image price: first monthly image position, price
    [currency/image]; as many tiers as the catalog's longest list (``Compiled.n_tiers``)."""
    return Columns(f"p_t{i}", {"start": F64, "price": F64})


@dataclass(frozen=True)
class PointAt:
    """What a unit's columns may depend on besides its component: the point's special size
    (None: every other size) and quality, and the tiers the table holds."""

    size: str | None
    quality: str | None
    n_tiers: int


@dataclass(frozen=True)
class UnitPoints:
    """One billing unit in the point table: the column groups it owns and how a component of
    the unit fills them (column name -> value) at a point."""

    columns: tuple[Columns, ...]
    fill: Callable[[Any, PointAt], dict[str, Any]]


def _image(c: ImagePrice, at: PointAt) -> dict[str, Any]:
    out = IMAGE.values(
        True,
        price=to_float(c.price),
        high=to_float(c.price_high),
        all_units=c.tier_mode == "all-units",
    )
    for i, t in enumerate(c.tiers[: at.n_tiers]):
        out |= tier_columns(i).values(start=float(t.start), price=float(t.price))
    return out


def _input_images(c: InputImagePrice, at: PointAt) -> dict[str, Any]:
    return INPUT_IMAGE.values(price=float(c.price))


def _megapixels(c: MegapixelPrice, at: PointAt) -> dict[str, Any]:
    group = MP_OUTPUT if c.applies_to == "output" else MP_INPUT
    out = group.values(
        True,
        price=float(c.price),
        up=c.rounding == "up",
        inc=to_float(c.increment),
        min=to_float(c.minimum_mp),
    )
    if c.applies_to == "output":
        out |= MP_OUTPUT.values(first=to_float(c.first))
    return out


def _gpu_seconds(c: GpuSecondPrice, at: PointAt) -> dict[str, Any]:
    out = GPU.values(
        True, price=float(c.price), gran=to_float(c.granularity_s), min=float(c.minimum_s)
    )
    est = c.estimate
    if est is not None:
        out |= GPU.values(
            est_s=float(est.seconds),
            est_px=float(est.width * est.height),
            est_steps=to_float(est.steps),
        )
    return out


def _credits(c: CreditPrice, at: PointAt) -> dict[str, Any]:
    return CREDIT.values(float(c.credits))


def _tokens(c: TokenPrice, at: PointAt) -> dict[str, Any]:
    rows = [
        r
        for r in c.output_tokens
        if at.size is not None
        and r.size == at.size
        and (at.quality is None or r.quality == at.quality)
    ]
    return TOKENS.values(
        True,
        text=to_float(c.text_input),
        **{"in": to_float(c.image_input)},
        out=float(c.image_output),
        tokens=float(rows[0].tokens) if len(rows) == 1 else None,
    )


def _steps(c: StepPrice, at: PointAt) -> dict[str, Any]:
    area = c.reference_width * c.reference_height
    return STEPS.values(
        True,
        price=float(c.price / c.per_steps),
        ref_px=float(area) if c.scale_by_area else None,
        default=c.default_steps,
    )


def _plan(c: SubscriptionPrice, at: PointAt) -> dict[str, Any]:
    out = PLAN.values(
        True,
        fee=float(c.monthly_fee),
        over_image=to_float(c.overage_per_image),
        over_hour=to_float(c.overage_per_gpu_hour),
    )
    if c.included_gpu_hours is not None and c.gpu_seconds_per_image is not None:
        out |= PLAN.values(
            seconds=float(c.included_gpu_hours * 3600),
            per_image_s=float(c.gpu_seconds_per_image),
        )
    elif c.included_images is not None:
        out |= PLAN.values(images=c.included_images)
    return out


#: Each billing unit's point columns and fill, keyed by component class; the table's column
#: order is this table's (after :data:`MATCHED`), then the volume tiers.
UNIT_POINTS: dict[type[Component], UnitPoints] = {
    ImagePrice: UnitPoints((IMAGE,), _image),
    InputImagePrice: UnitPoints((INPUT_IMAGE,), _input_images),
    MegapixelPrice: UnitPoints((MP_OUTPUT, MP_INPUT), _megapixels),
    GpuSecondPrice: UnitPoints((GPU,), _gpu_seconds),
    CreditPrice: UnitPoints((CREDIT,), _credits),
    TokenPrice: UnitPoints((TOKENS,), _tokens),
    StepPrice: UnitPoints((STEPS,), _steps),
    SubscriptionPrice: UnitPoints((PLAN,), _plan),
}
#: Every unit's column groups, in the table's order.
UNIT_COLUMNS: tuple[Columns, ...] = tuple(g for u in UNIT_POINTS.values() for g in u.columns)


def point_schema(n_tiers: int) -> dict[str, Any]:
    """Column name -> polars dtype of the point table with ``n_tiers`` volume tiers."""
    schema = MATCHED.schema()
    for group in [*UNIT_COLUMNS, *(tier_columns(i) for i in range(n_tiers))]:
        schema |= group.schema()
    return schema


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
    schema = point_schema(n_tiers)
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
                                point |= MATCHED.values(0)
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
    point |= MATCHED.values(len(comps))
    point |= {g.flag: False for g in UNIT_COLUMNS if g.flag is not None}
    at = PointAt(size, quality, n_tiers)
    for c in comps:
        point |= UNIT_POINTS[type(c)].fill(c, at)

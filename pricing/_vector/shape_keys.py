"""Request shapes as dense integer keys: equal keys mean rows that cost the same at equal volume.

Logs repeat a few request *shapes*: all that a row's price depends on besides the running
volume (offer, pricing day, operation, size, count, quality and the other request numbers).
:func:`shape_parts` reads those parts as integers, :func:`shape_key` packs them into one Int64
per row, and :func:`shape_index` maps each row's key to its shape's position among the
distinct keys, so that each shape is priced once and its results gathered back to its rows.
"""

from __future__ import annotations

import polars as pl
from polars import col

from pricing._cards.fields import OPERATIONS
from pricing._vector.columns import REQUEST_COLUMNS, text_column
from pricing._vector.compiled import Compiled
from pricing._vector.guard import guarded_value

#: Request numbers that are part of a row's shape as they are.
_NUMBERS = (
    "width",
    "height",
    "count",
    "steps",
    "input_images",
    "input_width",
    "input_height",
    "seconds",
    "prompt_tokens",
    "input_image_tokens",
)
_KEY_LIMIT = 1 << 62  # packed keys stay below this
_WIDE = 1 << 20  # a number spanning more values is numbered densely before packing


def shape_parts(c: Compiled, schema: pl.Schema) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Everything a row's shape is made of, as integers (``_seconds``: float).

    Request numbers are read by the number guard (:mod:`pricing._vector.guard`): a value out
    of its range (a fraction of an image, a side over 100,000 px, a NaN run time) is -1, which
    the checks of :mod:`pricing._vector.checks` refuse with the reason.

    Read from the request columns and ``_oi`` (offer index) and ``_day`` (pricing day).
    Returns the parts that vary by row, and those that are the same for every row (from
    columns the table does not have), to add to the shapes only. ``_oi`` is the offer index
    (-1: unknown, null: no offer_id), ``_dayn`` the pricing day's number (the version in
    force and the FX rate follow from it, looked up per shape), ``_op`` the operation and
    ``_gq`` the catalog-wide quality index.
    """
    oi = col("_oi")
    per_row = [
        pl.when(pl.col("offer_id").is_not_null()).then(oi.fill_null(-1)).alias("_oi"),
        col("_day").cast(pl.Int32).cast(pl.Int64).alias("_dayn"),
    ]
    if "model" in schema:
        model = text_column("model", schema)
        index = model.cast(pl.Enum(c.model_ids), strict=False).to_physical().cast(pl.Int64)
        per_row.append(pl.when(model.is_not_null()).then(index.fill_null(-1)).alias("_model"))

    quality = text_column("quality", schema)
    nq = len(c.qualities)
    if c.qualities:
        known = quality.cast(pl.Enum(c.qualities), strict=False).to_physical().cast(pl.Int64)
        gq = pl.when(quality.is_null()).then(pl.lit(nq)).otherwise(known.fill_null(nq + 1))
    else:
        gq = pl.when(quality.is_null()).then(pl.lit(0)).otherwise(pl.lit(1))
    operation = text_column("operation", schema)
    by_source = {
        "operation": operation.cast(pl.Enum(OPERATIONS), strict=False)
        .to_physical()
        .cast(pl.Int64)
        .alias("_op"),
        "quality": gq.cast(pl.Int64).alias("_gq"),
        **{
            name: guarded_value(name, schema, REQUEST_COLUMNS[name][1]).alias(f"_{name}")
            for name in _NUMBERS
        },
    }
    constant: list[pl.Expr] = []
    for source, expr in by_source.items():
        (per_row if source in schema else constant).append(expr)
    return per_row, constant


def shape_domains(c: Compiled) -> dict[str, tuple[int, int]]:
    """Least and greatest value of the shape parts that have a fixed range."""
    return {
        "_oi": (-1, len(c.offer_ids) - 1),
        "_model": (-1, len(c.model_ids) - 1),
        "_op": (0, len(OPERATIONS) - 1),
        "_gq": (0, len(c.qualities) + 1),
    }


def shape_key(
    lf: pl.LazyFrame, n: int, parts: list[pl.Expr], domains: dict[str, tuple[int, int]]
) -> tuple[pl.Expr, int]:
    """One Int64 key per row such that equal keys mean equal ``parts``; and the key's span.

    Each part is coded as an integer in ``[0, radix)`` (0 for null) and the codes are packed
    mixed radix, so correctness never depends on the ranges: a part of unknown or wide range
    (``seconds``, a number spanning more than ``_WIDE`` values) is numbered densely first, and
    the key is renumbered densely whenever packing one more part could overflow it.
    """
    numbers = [p for p in parts if p.meta.output_name() not in domains]
    stats = lf.select(
        *[p.null_count().alias(f"{p.meta.output_name()}:nulls") for p in numbers],
        *[p.min().alias(f"{p.meta.output_name()}:min") for p in numbers],
        *[p.max().alias(f"{p.meta.output_name()}:max") for p in numbers],
    ).collect()
    coded: list[tuple[pl.Expr, int]] = []
    for part in parts:
        name = part.meta.output_name()
        if name in domains:
            lo, hi = domains[name]
            coded.append(((part - lo + 1).fill_null(0), hi - lo + 2))
            continue
        nulls, lo, hi = (stats[f"{name}:{x}"].item() for x in ("nulls", "min", "max"))
        whole = isinstance(lo, int)  # else a float (seconds), numbered densely
        if nulls == n or (whole and nulls == 0 and lo == hi):
            continue  # the same on every row
        if whole and hi - lo < _WIDE:
            code = part - lo + 1
            coded.append((code.fill_null(0) if nulls else code, hi - lo + 2))
        else:
            dense, radix = _dense(lf.select(part).collect().to_series())
            coded.append((pl.lit(dense), radix))
    key = pl.repeat(0, pl.len(), dtype=pl.Int64)
    span = 1
    for code, radix in coded:
        if span * radix >= _KEY_LIMIT:
            dense, span = _dense(lf.select(key).collect().to_series())
            key = pl.lit(dense)
        key = code if span == 1 else key * radix + code
        span *= radix
    return key, span


def shape_index(distinct: pl.Series, span: int, n: int) -> pl.Expr:
    """Each row's shape: the position of its ``_key`` among the ``distinct`` keys.

    A lookup table indexed by ``key % m`` is much quicker than hashing every key: ``m`` is a
    small prime under which the distinct keys do not collide, else the key span if not large.
    """
    ids = pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True)
    limit = max(2 * n, 1 << 16)  # table entries
    m = _modulus(distinct, min(span, limit))
    if m is None and span <= limit:
        m = span
    if m is None:
        return col("_key").replace_strict(distinct, ids, return_dtype=pl.UInt32)
    table = pl.zeros(m, dtype=pl.UInt32, eager=True).scatter(distinct % m, ids)
    return pl.lit(table).gather(col("_key") % m if m < span else col("_key"))


def _modulus(distinct: pl.Series, limit: int) -> int | None:
    """A prime below ``limit`` under which the ``distinct`` keys leave distinct remainders."""
    m = max(2 * distinct.len() ** 2, 1 << 10)
    for _ in range(16):  # each works with a fair chance when m is twice the keys squared
        m = _next_prime(m)
        if m >= limit:
            return None
        if (distinct % m).n_unique() == distinct.len():
            return m
        m += 1
    return None


def _next_prime(m: int) -> int:
    """The least prime >= ``m``."""
    while m < 2 or any(m % d == 0 for d in range(2, int(m**0.5) + 1)):
        m += 1
    return m


def _dense(values: pl.Series) -> tuple[pl.Series, int]:
    """Codes 1..d for the d distinct values (0 for null), and the radix d + 1."""
    distinct = values.drop_nulls().unique()
    codes = values.replace_strict(
        distinct,
        pl.int_range(1, distinct.len() + 1, dtype=pl.Int64, eager=True),
        default=0,
        return_dtype=pl.Int64,
    )
    if (codes == 0).sum() != values.null_count():  # pragma: no cover - a value without code
        return pl.int_range(1, values.len() + 1, dtype=pl.Int64, eager=True), values.len() + 1
    return codes, distinct.len() + 1


_EDIT = OPERATIONS.index("edit")


def edit_inputs() -> list[pl.Expr]:
    """``_input_images`` (and its size) with the default of an edit that states none: one
    input image of the output's size (an edit always sends an image; :func:`pricing.quote`
    does the same)."""
    k = col("_input_images")
    unstated = (col("_op") == _EDIT) & (k.is_null() | (k == 0))
    return [
        pl.when(unstated).then(pl.lit(1, dtype=pl.Int64)).otherwise(k).alias("_input_images"),
        *(pl.when(~unstated).then(col(n)).alias(n) for n in ("_input_width", "_input_height")),
    ]

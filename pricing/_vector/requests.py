"""Vectorised pricing of request tables: every unit and rule of ``quote()`` as polars expressions.

A request table has one row per call. Each row is priced with the price version in force on its
own day (the one ``quote()`` would pick), and monthly tiers, free allowances, plan allowances and
minimum spend follow the running image volume per account, offer and calendar month, in
timestamp order. Nothing here loops over rows in Python: parameters are gathered from the dense
tables of :mod:`pricing._vector.compiled` by computed indices, then combined by expressions.

Logs repeat a few request *shapes*: all that a row's price depends on besides the running
volume (offer, pricing day, operation, size, count, quality and the other request numbers).
Each distinct shape is priced once (:mod:`pricing._vector.shapes`; the version in force and
the FX rate are looked up per shape, not per row) and its results are gathered back to its
rows; only rows on offers that run monthly volumes or minimums are then ordered within their
month and priced again with the images already billed (:func:`_monthly_rows`), in a thread of
their own while the other columns are gathered.

Money is float64 here, unrounded; a property test proves agreement with ``quote()`` (Decimal).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import overload

import polars as pl

from pricing._base.dates import day_of, to_date
from pricing._cards.catalog import Catalog, load_catalog
from pricing._cards.schema import OPERATIONS
from pricing._vector.compiled import Compiled, compile_catalog
from pricing._vector.shapes import (
    AGAIN_INPUTS,
    col,
    gather,
    no_fx,
    no_overage,
    outputs,
    price_shapes,
    volume_inputs,
    volume_parts,
)
from pricing.errors import PricingError

#: Columns a request table may have. ``offer_id`` is required unless ``offers=`` is given;
#: every other column is optional and takes the default shown when absent.
REQUEST_COLUMNS: dict[str, tuple[type[pl.DataType], object, str]] = {
    "timestamp": (pl.Datetime, None, "when the call was made (time-zone aware); default as_of"),
    "offer_id": (pl.String, None, 'offer that served the call, e.g. "bfl/flux-2-pro"'),
    "model": (pl.String, None, "model id; checked against the offer's model when given"),
    "account": (
        pl.String,
        "default",
        "billing account: tiers and allowances run per account (null: the default account)",
    ),
    "operation": (pl.String, "generate", "generate, edit, inpaint, upscale, ..."),
    "width": (pl.Int64, 1024, "output width [px]"),
    "height": (pl.Int64, 1024, "output height [px]"),
    "count": (pl.Int64, 1, "images made by the call"),
    "quality": (pl.String, None, "quality level for offers that price by quality"),
    "steps": (pl.Int64, None, "inference steps [steps]"),
    "input_images": (pl.Int64, 0, "reference images sent with the call"),
    "input_width": (pl.Int64, None, "width of each input image [px]; default the output width"),
    "input_height": (pl.Int64, None, "height of each input image [px]; default output height"),
    "seconds": (pl.Float64, None, "run time per image [s], for per-GPU-second offers"),
    "prompt_tokens": (pl.Int64, 0, "text tokens of the prompt, per call"),
    "input_image_tokens": (pl.Int64, None, "image-input tokens of the call"),
}
#: Columns added to the output when the input lacks them (filled with their defaults).
FILLED_COLUMNS = ("model", "account", "operation", "width", "height", "count", "quality")

#: Columns the engine adds.
PRICED_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "provider": pl.Categorical,
    "price_version": pl.Categorical,
    "source_id": pl.Categorical,
    "priced_on": pl.Date,
    "prior_images": pl.Int64,
    "currency": pl.Categorical,
    "list_cost": pl.Float64,
    "cost": pl.Float64,
    "cost_high": pl.Float64,
    "fee": pl.Float64,
    "top_up": pl.Float64,
    "reason": pl.Categorical,
}


@overload
def price_requests(
    requests: pl.DataFrame,
    catalog: Catalog | None = ...,
    *,
    offers: Sequence[str] | None = ...,
    as_of: date | datetime | str | None = ...,
    currency: str | None = ...,
    committed: bool = ...,
    minimum_spend: bool = ...,
    fx: pl.DataFrame | None = ...,
    max_fx_age_days: int = ...,
) -> pl.DataFrame: ...
@overload
def price_requests(
    requests: pl.LazyFrame,
    catalog: Catalog | None = ...,
    *,
    offers: Sequence[str] | None = ...,
    as_of: date | datetime | str | None = ...,
    currency: str | None = ...,
    committed: bool = ...,
    minimum_spend: bool = ...,
    fx: pl.DataFrame | None = ...,
    max_fx_age_days: int = ...,
) -> pl.LazyFrame: ...
def price_requests(
    requests: pl.DataFrame | pl.LazyFrame,
    catalog: Catalog | None = None,
    *,
    offers: Sequence[str] | None = None,
    as_of: date | datetime | str | None = None,
    currency: str | None = None,
    committed: bool = False,
    minimum_spend: bool = True,
    fx: pl.DataFrame | None = None,
    max_fx_age_days: int = 7,
) -> pl.DataFrame | pl.LazyFrame:
    """Price every row of a request table; a LazyFrame in gives a LazyFrame out.

    Parameters
    ----------
    requests : DataFrame or LazyFrame
        One row per call; columns as in ``REQUEST_COLUMNS`` (only ``offer_id`` is required,
        and not even that with ``offers=``). ``timestamp`` must be time-zone aware (or a Date).
    catalog : Catalog, optional
        Default: the bundled catalog.
    offers : list of offer ids, optional
        Price every row under each of these offers (long form: rows x offers), for
        side-by-side re-pricing. The table must not have an ``offer_id`` column then.
    as_of : date, optional
        Price every row with the prices in force on this day instead of its own timestamp's
        (months and running volumes still follow the timestamps).
    currency : str, optional
        Convert costs to this ISO 4217 currency with the dated FX rates (``data/fx``), using
        each row's day; rows with no rate at most ``max_fx_age_days`` old are left unpriced.
    committed : bool
        Apply each version's committed-use discount.
    minimum_spend : bool
        Top each account's month on an offer up to the version's minimum monthly spend,
        on the month's last priced row (column ``top_up``). Months are taken as complete.

    Returns
    -------
    The input columns (plus ``model``, ``account``, ``operation``, ``width``, ``height``,
    ``count`` and ``quality`` filled with defaults when absent; ``offer_id`` in long form) and:
    ``provider``, ``price_version``, ``source_id``, ``priced_on`` (day whose prices applied),
    ``prior_images`` (images already billed that month on the offer and account, for versions
    with tiers, allowances or plans), ``currency``, ``list_cost`` (before free allowances and
    discounts), ``cost`` (billed, including ``fee`` and ``top_up``), ``cost_high`` (upper end
    of a stated price range), ``fee`` (a plan's monthly fee), ``top_up`` and ``reason``.
    Money columns are float [currency], unrounded. Where no price applies, the money columns
    are null and ``reason`` says why; a missing price is never 0.
    """
    cat = catalog if catalog is not None else load_catalog()
    compiled = compile_catalog(cat)
    if offers is not None:
        offers = list(offers)
        for offer_id in offers:
            cat.offer(offer_id)  # raises with close-match hints
    day = to_date(as_of) if as_of is not None else None
    if currency is not None and not (len(currency) == 3 and currency.isupper()):
        raise PricingError(f"currency {currency!r} is not an ISO 4217 code such as 'USD'")
    fx_grid = _fx_grid(cat, compiled, currency, fx, max_fx_age_days) if currency else None

    def run(frame: pl.DataFrame) -> pl.DataFrame:
        return _price(
            frame,
            compiled,
            offers=offers,
            day=day,
            currency=currency,
            committed=committed,
            minimum_spend=minimum_spend,
            fx_grid=fx_grid,
        )

    if isinstance(requests, pl.LazyFrame):
        # Shapes and months span the whole table, so the plan prices it in one piece. Pricing
        # an empty table of the same schema checks the columns now and gives the output schema.
        schema = run(pl.DataFrame(schema=requests.collect_schema())).schema
        return requests.map_batches(run, schema=schema, streamable=False)
    return run(requests)


# --------------------------------------------------------------------------- helpers


def _typed(name: str, schema: pl.Schema) -> pl.Expr:
    """Request column ``name`` in its REQUEST_COLUMNS type, or its default when absent."""
    dtype, default, _ = REQUEST_COLUMNS[name]
    if name not in schema:
        return pl.lit(default, dtype=dtype)
    src = schema[name]
    if src == pl.Categorical or isinstance(src, pl.Enum):
        return pl.col(name).cast(pl.String)
    return pl.col(name).cast(dtype, strict=False)


def _text(name: str, schema: pl.Schema) -> pl.Expr:
    """A text column to code with an Enum cast: as it is when categorical (the cast then maps
    its few categories, not every row's string), else as String; its default when absent."""
    dtype = schema.get(name)
    if dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return pl.col(name)
    return _typed(name, schema)


def _months(days: pl.Series) -> pl.Series:
    """``year * 12 + month`` of each day (Date), looked up in a table of the days spanned."""
    n = days.cast(pl.Int32)
    lo, hi = n.min(), n.max()
    if not isinstance(lo, int) or not isinstance(hi, int) or hi - lo > 1_000_000:
        return days.dt.year().cast(pl.Int64) * 12 + days.dt.month().cast(pl.Int64)
    table = pl.int_range(lo, hi + 1, dtype=pl.Int32, eager=True).cast(pl.Date)
    month = table.dt.year().cast(pl.Int64) * 12 + table.dt.month().cast(pl.Int64)
    return month.gather((n - lo).cast(pl.UInt32))


def _timestamp(schema: pl.Schema) -> pl.Expr | None:
    if "timestamp" not in schema:
        return None
    dtype = schema["timestamp"]
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise PricingError(
                "the timestamp column has no time zone, so its days are ambiguous; make it aware "
                'first, e.g. pl.col("timestamp").dt.replace_time_zone("UTC")'
            )
        return pl.col("timestamp").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if dtype == pl.Date:
        return pl.col("timestamp").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    raise PricingError(
        f"the timestamp column is {dtype}; parse it to a Datetime with a time zone "
        "(replay() parses logs for you)"
    )


# --------------------------------------------------------------------------- the engine

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
#: Columns of a priced shape that rows take as they are (``priced_on`` is the row's own day).
_SHAPE_OUTPUTS = [n for n in PRICED_COLUMNS if n != "priced_on"]
#: Columns that follow the running volume, recomputed on rows of offers that run one.
_MONTHLY_OUTPUTS = ["prior_images", "list_cost", "cost", "cost_high", "fee", "top_up", "reason"]


def _price(
    df: pl.DataFrame,
    c: Compiled,
    *,
    offers: list[str] | None,
    day: date | None,
    currency: str | None,
    committed: bool,
    minimum_spend: bool,
    fx_grid: tuple[pl.Series, int, int, int] | None,
) -> pl.DataFrame:
    """The priced table (see :func:`price_requests`), in the input's row order."""
    if offers is not None:
        if "offer_id" in df.columns:
            raise PricingError(
                "the requests already have an offer_id column; drop it to re-price on offers=, "
                "or leave offers=None to price each row on its own offer"
            )
        on = pl.DataFrame({"offer_id": offers}, schema={"offer_id": pl.String})
        df = df.join(on, how="cross", maintain_order="left_right")
    elif "offer_id" not in df.columns:
        raise PricingError(
            "the requests have no offer_id column; add one (see `pricing cards list`) "
            "or pass offers=[...] to price every row on given offers"
        )
    schema = df.schema
    names = df.columns
    df = _pieces(df)
    ts = _timestamp(schema)
    ts_day = day_of(ts) if ts is not None else pl.lit(day or to_date(None), dtype=pl.Date)
    price_day = pl.lit(day, dtype=pl.Date) if day is not None else ts_day
    oi = (
        _text("offer_id", schema)
        .cast(pl.Enum(c.offer_ids), strict=False)
        .to_physical()
        .cast(pl.Int64)
    )
    base = {"_oi": oi, "_day": price_day}

    # 1. per row: one integer key per distinct shape
    parts, constant = _parts(c, schema)
    lf = df.lazy().with_columns(**base)
    key, span = _shape_key(lf, df.height, parts, _domains(c))
    rows = lf.with_columns(_key=key).select("_day", "_key").collect()
    first = rows["_key"].arg_unique()
    distinct = rows["_key"].gather(first)

    # 2. per shape: reasons and money, the running volume taken as zero
    out_names = [*_SHAPE_OUTPUTS, *([] if "model" in names else ["model"])]
    shapes = price_shapes(
        df.gather(first)
        .lazy()
        .with_columns(**base)
        .select(*parts, *constant)
        .with_columns(_lookups(c, fx_grid))
        .collect(),
        c,
        names=out_names,
        has_model="model" in names,
        committed=committed,
        currency=currency,
        fx_grid=fx_grid,
        monthly_offers=_monthly_offers(c, minimum_spend),
    )

    # 3. back to the rows; rows on offers with running volumes are priced again in order
    shape = _shape_index(distinct, span, rows.height)
    monthly = shapes["_monthly"]
    mapped = (
        rows.lazy()
        .select(
            shape.alias("_shape"),
            *([gather(monthly, shape).alias("_in")] if monthly.any() else []),
        )
        .collect()
    )
    shape_of = mapped["_shape"]
    in_month = mapped["_in"] if "_in" in mapped.columns else None
    if in_month is None or not in_month.any():
        priced = _spread(shapes.select(out_names), shape_of)
    else:
        at = in_month.arg_true()
        # the rows of monthly offers are priced again in a thread of their own (polars frees
        # the interpreter while it works), while this one spreads the shapes' columns
        with ThreadPoolExecutor(1) as pool:
            job = pool.submit(
                _monthly_rows,
                df,
                in_month,
                at,
                shape_of.filter(in_month),
                shapes,
                c,
                ts=ts,
                ts_day=ts_day,
                committed=committed,
                minimum_spend=minimum_spend,
            )
            priced = _spread(shapes.select(out_names), shape_of)
            again = job.result()
        # monthly outputs: the shape's, or the row's own where priced again (every row of a
        # monthly shape is, so the shape's value is only a placeholder there)
        _overwrite(priced, shapes, shape_of, at, again, shapes.filter(~monthly))

    added = [n for n in FILLED_COLUMNS if n not in names]
    out = df.select(n for n in names if n not in PRICED_COLUMNS).with_columns(
        priced["model"] if n == "model" else pl.lit(default, dtype=dtype).alias(n)
        for n in added
        for dtype, default, _ in [REQUEST_COLUMNS[n]]
    )
    return out.with_columns(
        rows["_day"].alias(n) if n == "priced_on" else priced[n] for n in PRICED_COLUMNS
    )


def _pieces(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` in one chunk per thread (zero-copy slices), so that per-row work runs on all cores.

    Polars evaluates an expression chunk by chunk in parallel; a table in one chunk (as most
    are after reading a file) would otherwise keep string lookups on a single core.
    """
    threads = pl.thread_pool_size()
    if threads < 2 or df.height < 100_000 or df.n_chunks() >= threads:
        return df
    size = -(-df.height // threads)
    return pl.concat([df.slice(i, size) for i in range(0, df.height, size)], rechunk=False)


def _spread(table: pl.DataFrame, index: pl.Series) -> dict[str, pl.Series | pl.Expr]:
    """Columns ``table[index]``; a literal for a column whose values are all one value.

    The table is small (one row per shape), so the gathers are cheap; those that write a
    column are done together, which spreads them over the cores. A column equal to an
    earlier one (``cost`` and ``list_cost`` without discounts) shares its memory.
    """
    out: dict[str, pl.Series | pl.Expr] = {}
    many: list[str] = []
    twins: dict[str, str] = {}
    for name in table.columns:
        column = table[name]
        if table.height and _single(column):
            out[name] = pl.lit(column[0], dtype=column.dtype).alias(name)
            continue
        twin = next((m for m in many if _same(table[m], column)), None)
        if twin is None:
            many.append(name)
        else:
            twins[name] = twin
    gathered = table.select(many).gather(index) if many else pl.DataFrame()
    for name in many:
        out[name] = gathered.drop_in_place(name)  # its only owner, so it can be written over
    for name, twin in twins.items():
        out[name] = out[twin].alias(name)
    return out


def _same(a: pl.Series, b: pl.Series) -> bool:
    """Whether two columns hold the same values (nulls alike) in the same type."""
    return a.dtype == b.dtype and a.equals(b, check_names=False, null_equal=True)


def _overwrite(
    spread: dict[str, pl.Series | pl.Expr],
    table: pl.DataFrame,
    index: pl.Series,
    at: pl.Series,
    again: pl.DataFrame,
    others: pl.DataFrame,
) -> None:
    """Write the rows priced ``again`` (at positions ``at``) over the ``spread`` columns.

    ``others`` are the table's rows that the other rows point to: a column whose values on
    those and on the rows priced again are all one value becomes a literal. A column that
    equals one written before it, on the table and on the rows priced again, shares its
    memory.
    """
    written: list[str] = []
    for name in again.columns:
        parts = [part for part in (again[name], others[name]) if part.len()]
        firsts = pl.concat([part.head(1) for part in parts])
        if all(_single(v) for v in [*parts, firsts]):
            spread[name] = pl.lit(firsts[0], dtype=firsts.dtype).alias(name)
            continue
        twin = next(
            (w for w in written if _same(table[w], table[name]) and _same(again[w], again[name])),
            None,
        )
        if twin is not None:
            spread[name] = spread[twin].alias(name)
            continue
        column = spread.pop(name)
        if isinstance(column, pl.Expr):  # one value on the shapes, not on the rows priced again
            column = table[name].gather(index)
        spread[name] = column.scatter(at, again[name])
        written.append(name)


def _single(values: pl.Series) -> bool:
    """Whether all ``values`` are one value (bit for bit), or all null."""
    nulls = values.null_count()
    if nulls:
        return nulls == values.len()
    if values.dtype.is_float():  # equal and not NaN, and zeros of one sign
        lo, hi = values.min(), values.max()
        if lo != hi or values.is_nan().any():
            return False
        infinities = 1.0 / values  # zeros of one sign give infinities of one sign
        return lo != 0 or infinities.min() == infinities.max()
    if values.dtype.is_integer():
        return bool(values.min() == values.max())
    return values.n_unique() == 1


def _monthly_offers(c: Compiled, minimum_spend: bool) -> pl.Series:
    """Per offer index: whether a version of the offer runs a monthly volume or minimum."""
    v = c.versions
    runs = v["v_needs_volume"]
    if minimum_spend:
        runs = runs | v["v_minimum"].is_not_null()
    offers = set(v.filter(runs)["v_offer"].to_list())
    return pl.Series([i in offers for i in range(len(c.offer_ids))], dtype=pl.Boolean)


def _parts(c: Compiled, schema: pl.Schema) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Everything a row's shape is made of, as integers (``_seconds``: float).

    Read from the request columns and ``_oi`` (offer index) and ``_day`` (pricing day).
    Returns the parts that vary by row, and those that are the same for every row (from
    columns the table does not have), to add to the shapes only. ``_oi`` is the offer index
    (-1: unknown, null: no offer_id), ``_dayn`` the pricing day's number (the version in
    force and the FX rate follow from it, per shape: :func:`_lookups`), ``_op`` the
    operation and ``_gq`` the catalog-wide quality index.
    """
    oi = col("_oi")
    per_row = [
        pl.when(pl.col("offer_id").is_not_null()).then(oi.fill_null(-1)).alias("_oi"),
        col("_day").cast(pl.Int32).cast(pl.Int64).alias("_dayn"),
    ]
    if "model" in schema:
        model = _text("model", schema)
        index = model.cast(pl.Enum(c.model_ids), strict=False).to_physical().cast(pl.Int64)
        per_row.append(pl.when(model.is_not_null()).then(index.fill_null(-1)).alias("_model"))

    quality = _text("quality", schema)
    nq = len(c.qualities)
    if c.qualities:
        known = quality.cast(pl.Enum(c.qualities), strict=False).to_physical().cast(pl.Int64)
        gq = pl.when(quality.is_null()).then(pl.lit(nq)).otherwise(known.fill_null(nq + 1))
    else:
        gq = pl.when(quality.is_null()).then(pl.lit(0)).otherwise(pl.lit(1))
    operation = _text("operation", schema)
    by_source = {
        "operation": operation.cast(pl.Enum(OPERATIONS), strict=False)
        .to_physical()
        .cast(pl.Int64)
        .alias("_op"),
        "quality": gq.cast(pl.Int64).alias("_gq"),
        **{name: _typed(name, schema).alias(f"_{name}") for name in _NUMBERS},
    }
    constant: list[pl.Expr] = []
    for source, expr in by_source.items():
        (per_row if source in schema else constant).append(expr)
    return per_row, constant


def _lookups(c: Compiled, fx_grid: tuple[pl.Series, int, int, int] | None) -> list[pl.Expr]:
    """A shape's ``_state`` (the version in force or a negative grid code; null: no day or no
    offer) and ``_fpos`` (its day's position in the FX grid), from ``_oi`` and ``_dayn``."""
    day = col("_dayn")
    pos = (day - c.day0 + 1).clip(0, c.n_days - 1)
    oi = pl.when(col("_oi") >= 0).then(col("_oi"))
    out = [gather(c.grid, oi * c.n_days + pos).cast(pl.Int64).alias("_state")]
    if fx_grid is not None:
        _, first_day, length, _ = fx_grid
        out.append((day - first_day + 1).clip(0, length - 1).alias("_fpos"))
    return out


def _domains(c: Compiled) -> dict[str, tuple[int, int]]:
    """Least and greatest value of the shape parts that have a fixed range."""
    return {
        "_oi": (-1, len(c.offer_ids) - 1),
        "_model": (-1, len(c.model_ids) - 1),
        "_op": (0, len(OPERATIONS) - 1),
        "_gq": (0, len(c.qualities) + 1),
    }


_KEY_LIMIT = 1 << 62  # packed keys stay below this
_WIDE = 1 << 20  # a number spanning more values is numbered densely before packing


def _shape_key(
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


def _shape_index(distinct: pl.Series, span: int, n: int) -> pl.Expr:
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


def _monthly_rows(
    df: pl.DataFrame,
    in_month: pl.Series,
    at: pl.Series,
    shape_of: pl.Series,
    shapes: pl.DataFrame,
    c: Compiled,
    *,
    ts: pl.Expr | None,
    ts_day: pl.Expr,
    committed: bool,
    minimum_spend: bool,
) -> pl.DataFrame:
    """The volume-dependent outputs of the rows ``at`` (on offers with running volumes).

    ``in_month`` marks those rows, and ``shape_of`` gives their shapes. Every priced call
    counts towards its account's month on the offer, whichever version priced it; the images
    before a row (``_prior``) are summed in timestamp order, ties broken by a hash of the whole
    input row so that row order never matters. Only tied rows are hashed: the others' order
    does not depend on it.
    """
    schema = df.schema
    # the shapes' parameters: a literal where all monthly shapes agree, else gathered per row
    monthly = shapes.filter("_monthly")
    param = {
        n: pl.lit(monthly[n][0], dtype=shapes[n].dtype)
        if monthly[n].n_unique() == 1
        else pl.lit(shapes[n].gather(shape_of))
        for n in [*AGAIN_INPUTS, *volume_inputs(c, committed)]
    }
    # a null account is the default account (as when there is no column); a row without a
    # month has a month 0
    default = REQUEST_COLUMNS["account"][1]
    account = (
        _typed("account", schema)
        .fill_null(default)
        .cast(pl.Categorical)
        .to_physical()
        .cast(pl.Int64)
    )
    used = [n for n in ("timestamp", "account", "count") if n in schema]
    rows = df.select(used).filter(in_month) if used else pl.DataFrame({"_at": at})
    rows = rows.with_columns(
        _ts=ts if ts is not None else pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    )
    if ts is not None:
        month = pl.lit(_months(rows.select(day_of(col("_ts"))).to_series()))
    else:  # every row on the one day priced
        month = ts_day.dt.year().cast(pl.Int64) * 12 + ts_day.dt.month().cast(pl.Int64)
    count = _typed("count", schema)
    frame = rows.with_columns(
        # one integer per (account, offer, month): cheaper to partition on than a struct
        _group=(account * (len(c.offer_ids) + 1) + param["_oi"]) * 1_000_000 + month.fill_null(0),
        _count=count,
        _counted=pl.when(param["_code0"] == 0).then(count).otherwise(0),
    ).select("_ts", "_group", "_count", "_counted")

    # images before each row in timestamp order; rows tied on the time are ordered next
    in_order = frame["_ts"].null_count() == 0 and frame["_ts"].is_sorted()
    by_time = None if in_order else "_ts"  # rows already in time order need no sort
    counted, time = col("_counted"), col("_ts")
    frame = frame.with_columns(_prior=counted.cum_sum().over("_group", order_by=by_time) - counted)
    # times that a group has twice or more; when the rows are in time order, only rows next to
    # a row at the same time can be such, which saves a second pass over every row
    near = frame
    if in_order:
        near = frame.filter(time.eq_missing(time.shift(1)) | time.eq_missing(time.shift(-1)))
    again = time.eq_missing(time.shift(1)).over("_group", order_by=by_time)
    repeated = near.select(time.filter(again)).to_series()
    tb = pl.zeros(frame.height, dtype=pl.UInt64, eager=True)
    if repeated.len():
        # all rows at those times (the runs, and maybe rows of other groups: runs of one)
        tied = frame["_ts"].is_in(repeated.implode(), nulls_equal=True).arg_true()
        hashes = df.gather(at.gather(tied)).select(pl.struct(df.columns).hash(7)).to_series()
        tb = tb.scatter(tied, hashes)
        run = ["_group", "_ts"]
        prior = (
            frame.select(*run, "_counted", "_prior", _tb=tb)
            .gather(tied)
            .select(
                col("_prior").min().over(run)
                + counted.cum_sum().over(run, order_by="_tb")
                - counted
            )
        )
        frame = frame.with_columns(_prior=frame["_prior"].scatter(tied, prior.to_series()))
    lf = frame.lazy().select(
        "_ts",
        "_group",
        "_count",
        *(value.alias(n) for n, value in param.items()),
        _tb=tb,
        _prior=pl.when(param["v_needs_volume"]).then(col("_prior")),
        _code=param["_code0"],
    )
    order = ["_ts", "_tb"] if ts is not None else ["_tb"]
    lf = lf.with_columns(volume_parts(c, committed))
    lf = lf.with_columns(no_overage())

    # month-level minimum spend on the month's last priced row
    if c.has_minimum and minimum_spend:
        priced = col("_code") == 0
        part = pl.struct("_group", priced)
        month_total = pl.when(priced).then(col("_total")).otherwise(0.0).sum().over(part)
        is_last = pl.int_range(pl.len()).over(part, order_by=order) == pl.len().over(part) - 1
        lf = lf.with_columns(
            _top_up=pl.when(priced & is_last & col("v_minimum").is_not_null())
            .then(pl.max_horizontal(col("v_minimum") - month_total, pl.lit(0.0)))
            .otherwise(0.0)
        )
    else:
        lf = lf.with_columns(_top_up=pl.lit(0.0))
    lf = lf.with_columns(no_fx())
    columns = outputs(c, pl.lit(None))
    return lf.select(columns[n].alias(n) for n in _MONTHLY_OUTPUTS).collect()


def _fx_grid(
    cat: Catalog,
    c: Compiled,
    currency: str,
    fx: pl.DataFrame | None,
    max_age: int,
) -> tuple[pl.Series, int, int, int] | None:
    """Rates per EUR by (currency, day), forward-filled up to ``max_age`` days.

    Returns (grid, first day number, days per currency, index of the target currency), the
    grid indexed ``currency_index * days + position`` like the version grid.
    """
    from pricing._fx.store import fx_days, load_fx

    currencies = [*c.currencies, *([currency] if currency not in c.currencies else [])]
    if all(cur == currency for cur in c.currencies):
        return None
    rates = fx if fx is not None else load_fx(cat.root)
    dates = rates["date"].cast(pl.Date)
    first: date = dates.min() if len(dates) else date(1970, 1, 1)  # type: ignore[assignment]
    last: date = dates.max() if len(dates) else date(1970, 1, 1)  # type: ignore[assignment]
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
    first_n = (first - date(1970, 1, 1)).days
    return grid, first_n, length, currencies.index(currency)

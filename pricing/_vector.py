"""Vectorised pricing of request tables: every unit and rule of ``quote()`` as polars expressions.

A request table has one row per call. Each row is priced with the price version in force on its
own day (the one ``quote()`` would pick), and monthly tiers, free allowances, plan allowances and
minimum spend follow the running image volume per account, offer and calendar month, in
timestamp order. Nothing here loops over rows in Python: parameters are gathered from the dense
tables of :mod:`pricing._compiled` by computed indices, then combined by expressions.

Logs repeat a few request *shapes*: all that a row's price depends on besides the running
volume (the version in force or why none is, operation, size, count, quality and the other
request numbers). Each distinct shape is priced once (:func:`_price_shapes`) and its results are
gathered back to its rows; only rows on offers that run monthly volumes or minimums are then
ordered within their month and priced again with the images already billed
(:func:`_monthly_rows`).

Money is float64 here, unrounded; a property test proves agreement with ``quote()`` (Decimal).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, overload

import polars as pl

from pricing._catalog import Catalog, load_catalog, to_date
from pricing._compiled import (
    CODE,
    MODEL_RETIRED,
    NO_VERSION,
    OFFER_RETIRED,
    REASONS,
    Compiled,
    compile_catalog,
)
from pricing._schema import OPERATIONS
from pricing._vector_money import fixed_parts, volume_inputs, volume_parts
from pricing.errors import PricingError

#: Columns a request table may have. ``offer_id`` is required unless ``offers=`` is given;
#: every other column is optional and takes the default shown when absent.
REQUEST_COLUMNS: dict[str, tuple[type[pl.DataType], object, str]] = {
    "timestamp": (pl.Datetime, None, "when the call was made (time-zone aware); default as_of"),
    "offer_id": (pl.String, None, 'offer that served the call, e.g. "bfl/flux-2-pro"'),
    "model": (pl.String, None, "model id; checked against the offer's model when given"),
    "account": (pl.String, "default", "billing account: tiers and allowances run per account"),
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


def _gather(values: pl.Series | pl.DataFrame, index: pl.Expr) -> pl.Expr:
    """``values[index]`` per row (null index gives null)."""
    src = values.to_struct("_s") if isinstance(values, pl.DataFrame) else values
    return pl.lit(src).gather(index.cast(pl.UInt32))


def _col(name: str) -> pl.Expr:
    return pl.col(name)


def _typed(name: str, schema: pl.Schema) -> pl.Expr:
    """Request column ``name`` in its REQUEST_COLUMNS type, or its default when absent."""
    dtype, default, _ = REQUEST_COLUMNS[name]
    if name not in schema:
        return pl.lit(default, dtype=dtype)
    src = schema[name]
    if src == pl.Categorical or isinstance(src, pl.Enum):
        return pl.col(name).cast(pl.String)
    return pl.col(name).cast(dtype, strict=False)


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
    ts = _timestamp(schema)
    ts_day = ts.dt.date() if ts is not None else pl.lit(day or to_date(None), dtype=pl.Date)
    price_day = pl.lit(day, dtype=pl.Date) if day is not None else ts_day
    oi = (
        pl.col("offer_id")
        .cast(pl.String)
        .cast(pl.Enum(c.offer_ids), strict=False)
        .to_physical()
        .cast(pl.Int64)
    )
    base = {"_oi": oi, "_day": price_day}

    # 1. per row: one integer key per distinct shape
    parts, constant = _parts(c, schema, fx_grid)
    lf = df.lazy().with_columns(**base)
    key, span = _shape_key(lf, df.height, parts, _domains(c, fx_grid))
    rows = lf.with_columns(_key=key).select("_day", "_key").collect()
    keys = rows["_key"]
    first = keys.arg_unique()
    shape_of = _shape_index(keys, first, span)

    # 2. per shape: reasons and money, the running volume taken as zero
    shapes = _price_shapes(
        df.gather(first).lazy().with_columns(**base).select(*parts, *constant).collect(),
        c,
        has_model="model" in names,
        committed=committed,
        currency=currency,
        fx_grid=fx_grid,
        monthly_offers=_monthly_offers(c, minimum_spend),
    )

    # 3. back to the rows; rows on offers with running volumes are priced again in order
    out_names = [*_SHAPE_OUTPUTS, *([] if "model" in names else ["model"])]
    in_month = shapes["_monthly"].gather(shape_of) if shapes["_monthly"].any() else None
    if in_month is None or not in_month.any():
        priced = shapes.select(out_names).gather(shape_of)
    else:
        at = in_month.arg_true()
        again = _monthly_rows(
            df,
            at,
            shape_of.gather(at),
            shapes,
            c,
            ts=ts,
            ts_day=ts_day,
            committed=committed,
            minimum_spend=minimum_spend,
        )
        # monthly outputs: the shape's, or the row's own (after the shapes) where priced again
        table = pl.concat([shapes.select(_MONTHLY_OUTPUTS), again], rechunk=True)
        again_at = pl.int_range(shapes.height, table.height, dtype=pl.UInt32, eager=True)
        fixed = [n for n in out_names if n not in _MONTHLY_OUTPUTS]
        priced = pl.concat(
            [
                shapes.select(fixed).gather(shape_of),
                table.gather(shape_of.clone().scatter(at, again_at)),
            ],
            how="horizontal",
        )

    added = [n for n in FILLED_COLUMNS if n not in names]
    out = df.select(n for n in names if n not in PRICED_COLUMNS).with_columns(
        priced["model"] if n == "model" else pl.lit(default, dtype=dtype).alias(n)
        for n in added
        for dtype, default, _ in [REQUEST_COLUMNS[n]]
    )
    return out.hstack(
        [rows["_day"].alias(n) if n == "priced_on" else priced[n] for n in PRICED_COLUMNS]
    )


def _monthly_offers(c: Compiled, minimum_spend: bool) -> pl.Series:
    """Per offer index: whether a version of the offer runs a monthly volume or minimum."""
    v = c.versions
    runs = v["v_needs_volume"]
    if minimum_spend:
        runs = runs | v["v_minimum"].is_not_null()
    offers = set(v.filter(runs)["v_offer"].to_list())
    return pl.Series([i in offers for i in range(len(c.offer_ids))], dtype=pl.Boolean)


def _parts(
    c: Compiled, schema: pl.Schema, fx_grid: tuple[pl.Series, int, int, int] | None
) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Everything a row's shape is made of, as integers (``_seconds``: float).

    Read from the request columns and ``_oi`` (offer index) and ``_day`` (pricing day).
    Returns the parts that vary by row, and those that are the same for every row (from
    columns the table does not have), to add to the shapes only. ``_oi`` is the offer index
    (-1: unknown, null: no offer_id), ``_state`` the version in force or a negative grid code
    (null: no day), ``_op`` the operation and ``_gq`` the catalog-wide quality index.
    """
    oi, day = _col("_oi"), _col("_day")
    pos = (day.cast(pl.Int32).cast(pl.Int64) - c.day0 + 1).clip(0, c.n_days - 1)
    per_row = [
        pl.when(pl.col("offer_id").is_not_null()).then(oi.fill_null(-1)).alias("_oi"),
        _gather(c.grid, oi * c.n_days + pos).cast(pl.Int64).alias("_state"),
    ]
    if fx_grid is not None:
        _, first_day, length, _ = fx_grid
        fpos = (day.cast(pl.Int32).cast(pl.Int64) - first_day + 1).clip(0, length - 1)
        per_row.append(fpos.alias("_fpos"))
    if "model" in schema:
        model = pl.col("model").cast(pl.String)
        index = model.cast(pl.Enum(c.model_ids), strict=False).to_physical().cast(pl.Int64)
        per_row.append(pl.when(model.is_not_null()).then(index.fill_null(-1)).alias("_model"))

    quality = _typed("quality", schema)
    nq = len(c.qualities)
    if c.qualities:
        known = quality.cast(pl.Enum(c.qualities), strict=False).to_physical().cast(pl.Int64)
        gq = pl.when(quality.is_null()).then(pl.lit(nq)).otherwise(known.fill_null(nq + 1))
    else:
        gq = pl.when(quality.is_null()).then(pl.lit(0)).otherwise(pl.lit(1))
    operation = _typed("operation", schema)
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


def _domains(
    c: Compiled, fx_grid: tuple[pl.Series, int, int, int] | None
) -> dict[str, tuple[int, int]]:
    """Least and greatest value of the shape parts that have a fixed range."""
    return {
        "_oi": (-1, len(c.offer_ids) - 1),
        "_state": (MODEL_RETIRED, c.versions.height - 1),
        "_fpos": (0, fx_grid[2] - 1 if fx_grid is not None else 0),
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
        if nulls == n or (nulls == 0 and lo == hi):
            continue  # the same on every row
        if isinstance(lo, int) and hi - lo < _WIDE:
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


def _shape_index(keys: pl.Series, first: pl.Series, span: int) -> pl.Series:
    """Each row's shape: the position of its key among the keys at ``first``."""
    ids = pl.int_range(first.len(), dtype=pl.UInt32, eager=True)
    if span <= max(2 * keys.len(), 1 << 16):  # a lookup table is quicker than hashing
        table = pl.zeros(span, dtype=pl.UInt32, eager=True).scatter(keys.gather(first), ids)
        return table.gather(keys)
    return keys.replace_strict(keys.gather(first), ids, return_dtype=pl.UInt32)


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


def _price_shapes(
    shapes: pl.DataFrame,
    c: Compiled,
    *,
    has_model: bool,
    committed: bool,
    currency: str | None,
    fx_grid: tuple[pl.Series, int, int, int] | None,
    monthly_offers: pl.Series,
) -> pl.DataFrame:
    """Price each shape (one row each) as if no image had been billed that month yet.

    Besides the priced columns, keeps what :func:`_monthly_rows` needs to price a row of the
    shape again with its running volume: ``_monthly`` (its offer runs one), the reason code
    before the volume (``_code0``), the exchange-rate factor and the money's volume inputs.
    """
    lf = shapes.lazy().with_columns(
        _given=_col("_oi").is_not_null(),
        _oi=pl.when(_col("_oi") >= 0).then(_col("_oi")),
        _v=pl.when(_col("_state") >= 0).then(_col("_state")),
    )
    # One gather of the version's parameters (a struct, unnested), then one of the point's.
    lf = lf.with_columns(_vs=_gather(c.versions, _col("_v"))).unnest("_vs")

    w, h = _col("_width"), _col("_height")
    px = (w * h).cast(pl.Float64)
    longest, shortest = pl.max_horizontal(w, h), pl.min_horizontal(w, h)
    k = _col("_input_images")

    # size bracket, quality and special size -> point index
    bracket: Any = pl.when(_col("v_n_brackets") == 0).then(pl.lit(0))
    for i in range(c.n_brackets):
        side, bpx = _col(f"v_br{i}_side"), _col(f"v_br{i}_px")
        fits = (side.is_null() | (longest <= side)) & (bpx.is_null() | (px <= bpx))
        bracket = bracket.when((_col("v_n_brackets") > i) & fits).then(pl.lit(i))
    special = pl.lit(0, dtype=pl.Int64)
    for i in reversed(range(c.n_special)):
        hit = (w == _col(f"v_sp{i}_w")) & (h == _col(f"v_sp{i}_h"))
        special = pl.when(hit).then(pl.lit(i + 1, dtype=pl.Int64)).otherwise(special)
    nq = len(c.qualities)
    lf = lf.with_columns(
        _bracket=bracket,
        _q=_gather(c.quality_index, _col("_oi") * (nq + 2) + _col("_gq")),
        _special=special,
    )
    so, sb, sq, ss = c.point_stride()
    pidx = (
        _col("_v") * (so * len(OPERATIONS))
        + _col("_op") * so
        + _col("_bracket") * sb
        + _col("_q") * sq
        + _col("_special") * ss
    )
    lf = lf.with_columns(_pidx=pl.when(_col("_q") >= 0).then(pidx))
    lf = lf.with_columns(_ps=_gather(c.points, _col("_pidx"))).unnest("_ps")

    # reasons that do not depend on the running volume, in quote()'s order
    steps = _col("_steps")
    checks: list[tuple[str, pl.Expr]] = [
        ("missing_offer", ~_col("_given")),
        ("unknown_offer", _col("_oi").is_null()),
        ("bad_timestamp", _col("_state").is_null()),
        ("bad_operation", _col("_op").is_null()),
        (
            "bad_size",
            w.is_null()
            | h.is_null()
            | (w <= 0)
            | (h <= 0)
            | (_col("_input_width") <= 0)
            | (_col("_input_height") <= 0),
        ),
        ("bad_count", _col("_count").is_null() | (_col("_count") <= 0)),
        (
            "bad_numbers",
            (k < 0)
            | (_col("_prompt_tokens") < 0)
            | (_col("_input_image_tokens") < 0)
            | (steps <= 0)
            | (_col("_seconds") <= 0),
        ),
    ]
    if has_model:
        row_model = pl.when(_col("_model") >= 0).then(_col("_model"))
        offer_model = _gather(c.offer_model_index, _col("_oi"))
        mismatch = _col("_model").is_not_null() & (row_model.is_null() | (row_model != offer_model))
        checks.append(("model_mismatch", mismatch))
    sizes_ok = pl.lit(False)
    for i in range(c.n_sizes):
        sizes_ok = sizes_ok | ((w == _col(f"v_size{i}_w")) & (h == _col(f"v_size{i}_h")))
    op_bit = _gather(pl.Series([1 << i for i in range(len(OPERATIONS))]), _col("_op"))
    checks += [
        ("model_retired", _col("_state") == MODEL_RETIRED),
        ("offer_retired", _col("_state") == OFFER_RETIRED),
        ("no_version", _col("_state") == NO_VERSION),
        ("operation", (_col("v_ops") // op_bit) % 2 == 0),
        ("sizes", _col("v_has_sizes") & ~sizes_ok),
        ("max_mp", px > _col("v_max_px")),
        ("max_side", longest > _col("v_max_side")),
        ("min_side", shortest < _col("v_min_side")),
        (
            "multiple_of",
            ((w % _col("v_multiple_of")) != 0) | ((h % _col("v_multiple_of")) != 0),
        ),
        ("max_inputs", k > _col("v_max_input_images")),
        ("min_steps", steps < _col("v_min_steps")),
        ("max_steps", steps > _col("v_max_steps")),
        ("bracket", _col("_bracket").is_null()),
        ("quality_required", _col("_q") == -2),
        ("quality_unknown", _col("_q") == -1),
        ("no_component", _col("p_n") == 0),
        (
            "no_seconds",
            _col("p_g") & _col("_seconds").is_null() & _col("p_g_est_s").is_null(),
        ),
        ("no_token_row", _col("p_tk") & _col("p_tk_tokens").is_null()),
        (
            "no_text_price",
            _col("p_tk") & (_col("_prompt_tokens") > 0) & _col("p_tk_text").is_null(),
        ),
        ("no_input_tokens", _col("p_tk") & (k > 0) & _col("_input_image_tokens").is_null()),
        ("no_image_input_price", _col("p_tk") & (k > 0) & _col("p_tk_in").is_null()),
        (
            "no_steps",
            _col("p_st") & pl.coalesce(steps, _col("p_st_default")).is_null(),
        ),
    ]
    code: Any = pl.when(checks[0][1]).then(pl.lit(CODE[checks[0][0]], dtype=pl.Int64))
    for name, cond in checks[1:]:
        code = code.when(cond).then(pl.lit(CODE[name], dtype=pl.Int64))
    lf = lf.with_columns(_code0=code.otherwise(pl.lit(0, dtype=pl.Int64)))

    lf = lf.with_columns(fixed_parts())
    lf = lf.with_columns(_prior=pl.lit(None, dtype=pl.Int64), _code=_col("_code0"))
    lf = lf.with_columns(volume_parts(c, committed))
    lf = lf.with_columns(_no_overage(), _top_up=pl.lit(0.0))

    # currency conversion by the day's rates
    if fx_grid is not None and currency is not None:
        grid, _, length, target = fx_grid
        to_rate = _gather(grid, pl.lit(target, dtype=pl.Int64) * length + _col("_fpos"))
        from_rate = _gather(grid, _col("v_currency_index") * length + _col("_fpos"))
        same = _col("v_currency") == currency
        lf = lf.with_columns(_fx=pl.when(same).then(pl.lit(1.0)).otherwise(to_rate / from_rate))
        out_currency = pl.lit(currency).cast(pl.Categorical)
    else:
        lf = lf.with_columns(_fx=pl.lit(1.0))
        out_currency = _col("v_currency")
    lf = lf.with_columns(_no_fx())

    outputs = _outputs(c, out_currency)
    names = [*_SHAPE_OUTPUTS, *([] if has_model else ["model"])]
    keep = ["_code0", "_oi", "_v", "v_needs_volume", "v_minimum", "_fx"]
    return lf.select(
        *[outputs[n].alias(n) for n in names],
        _gather(monthly_offers, _col("_oi")).fill_null(False).alias("_monthly"),
        *keep,
        *volume_inputs(c, committed),
    ).collect()


def _monthly_rows(
    df: pl.DataFrame,
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

    ``shape_of`` gives those rows' shapes. Every priced call counts towards its account's month
    on the offer, whichever version priced it; the images before a row (``_prior``) are summed
    in timestamp order, ties broken by a hash of the whole input row so that row order never
    matters. Only tied rows are hashed: the others' order does not depend on it.
    """
    schema = df.schema
    # a null account is an account of its own (-1); a row without a month has a month 0
    account = _typed("account", schema).cast(pl.Categorical).to_physical().cast(pl.Int64)
    month = ts_day.dt.year().cast(pl.Int64) * 12 + ts_day.dt.month().cast(pl.Int64)
    used = [n for n in ("timestamp", "account", "count") if n in schema]
    # the shapes' parameters: a literal where all monthly shapes agree, else gathered per row
    monthly = shapes.filter("_monthly")
    needed = ["_code0", "_oi", "_v", "v_needs_volume", "v_minimum", "_fx"]
    params = [
        pl.lit(monthly[n][0], dtype=shapes[n].dtype).alias(n)
        if monthly[n].n_unique() == 1
        else shapes[n].gather(shape_of)
        for n in [*needed, *volume_inputs(c, committed)]
    ]
    lf = pl.DataFrame([at.alias("_at"), *(df[n].gather(at) for n in used)]).lazy()
    lf = lf.with_columns(params).with_columns(
        _ts=ts if ts is not None else pl.lit(None, dtype=pl.Datetime("us", "UTC")),
        # one integer per (account, offer, month): cheaper to partition on than a struct
        _group=(account.fill_null(-1) * (len(c.offer_ids) + 1) + _col("_oi")) * 1_000_000
        + month.fill_null(0),
        _count=_typed("count", schema),
        _code=_col("_code0"),
    )
    frame = lf.with_columns(
        _counted=pl.when(_col("_code") == 0).then(_col("_count")).otherwise(0)
    ).collect()

    # images before each row in timestamp order; rows tied on the time are ordered next
    in_order = frame["_ts"].null_count() == 0 and frame["_ts"].is_sorted()
    by_time = None if in_order else "_ts"  # rows already in time order need no sort
    counted, when = _col("_counted"), _col("_ts")
    frame = frame.with_columns(
        _prior=(counted.cum_sum() - counted).over("_group", order_by=by_time),
        _tied=(when.eq_missing(when.shift(1)) | when.eq_missing(when.shift(-1))).over(
            "_group", order_by=by_time
        ),
    )
    tb = pl.zeros(frame.height, dtype=pl.UInt64, eager=True)
    if frame["_tied"].any():
        tied = frame["_tied"].arg_true()
        hashes = df.gather(at.gather(tied)).select(pl.struct(df.columns).hash(7)).to_series()
        tb = tb.scatter(tied, hashes)
        run = ["_group", "_ts"]
        prior = (
            frame.select(*run, "_counted", "_prior", _tb=tb)
            .gather(tied)
            .select(
                _col("_prior").min().over(run)
                + (counted.cum_sum() - counted).over(run, order_by="_tb")
            )
        )
        frame = frame.with_columns(_prior=frame["_prior"].scatter(tied, prior.to_series()))
    lf = frame.lazy().with_columns(
        _tb=tb, _prior=pl.when(_col("v_needs_volume")).then(_col("_prior"))
    )
    order = ["_ts", "_tb"] if ts is not None else ["_tb"]
    lf = lf.with_columns(volume_parts(c, committed))
    lf = lf.with_columns(_no_overage())

    # month-level minimum spend on the month's last priced row
    if c.has_minimum and minimum_spend:
        priced = _col("_code") == 0
        part = pl.struct("_group", priced)
        month_total = pl.when(priced).then(_col("_total")).otherwise(0.0).sum().over(part)
        is_last = pl.int_range(pl.len()).over(part, order_by=order) == pl.len().over(part) - 1
        lf = lf.with_columns(
            _top_up=pl.when(priced & is_last & _col("v_minimum").is_not_null())
            .then(pl.max_horizontal(_col("v_minimum") - month_total, pl.lit(0.0)))
            .otherwise(0.0)
        )
    else:
        lf = lf.with_columns(_top_up=pl.lit(0.0))
    lf = lf.with_columns(_no_fx())
    outputs = _outputs(c, pl.lit(None))
    return lf.select(outputs[n].alias(n) for n in _MONTHLY_OUTPUTS).collect()


def _no_overage() -> pl.Expr:
    over_missing = (_col("_over_qty") > 0) & _col("_over_price").is_null()
    return (
        pl.when((_col("_code") == 0) & over_missing)
        .then(pl.lit(CODE["no_overage"], dtype=pl.Int64))
        .otherwise(_col("_code"))
        .alias("_code")
    )


def _no_fx() -> pl.Expr:
    return (
        pl.when((_col("_code") == 0) & _col("_fx").is_null())
        .then(pl.lit(CODE["no_fx"], dtype=pl.Int64))
        .otherwise(_col("_code"))
        .alias("_code")
    )


def _outputs(c: Compiled, out_currency: pl.Expr) -> dict[str, pl.Expr]:
    """The priced columns (and ``model``) from a row's or shape's final ``_code`` and money."""
    code = _col("_code")
    entity = (
        pl.when(code.is_between(CODE["model_mismatch"], CODE["no_version"]))
        .then(_col("_oi"))
        .when(code.is_between(CODE["operation"], CODE["no_overage"]))
        .then(_col("_v"))
        .otherwise(0)
    )
    offsets = pl.Series([c.reason_offsets[i] for i in range(len(REASONS))], dtype=pl.Int64)
    reason_idx = _gather(offsets, code) + entity
    good = code == 0

    def money(expr: pl.Expr) -> pl.Expr:
        return pl.when(good).then(expr * _col("_fx"))

    return {
        "model": _gather(c.offer_model, _col("_oi")),
        "provider": _gather(c.offer_provider, _col("_oi")),
        "price_version": _col("v_version"),
        "source_id": _col("v_source"),
        "prior_images": pl.when(good).then(_col("_prior")),
        "currency": pl.when(_col("_v").is_not_null()).then(out_currency),
        "list_cost": money(_col("_list")),
        "cost": money(_col("_total") + _col("_top_up")),
        "cost_high": money(_col("_high")),
        "fee": money(_col("_fee")),
        "top_up": money(_col("_top_up")),
        "reason": pl.when(~good).then(_gather(c.reasons, reason_idx)),
    }


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
    from pricing._fx import fx_days, load_fx

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

"""Vectorised pricing of request tables: every unit and rule of ``quote()`` as polars expressions.

A request table has one row per call. Each row is priced with the price version in force on its
own day (the one ``quote()`` would pick), and monthly tiers, free allowances, plan allowances and
minimum spend follow the running image volume per account, offer and calendar month, in
timestamp order. Nothing here loops over rows in Python: parameters are gathered from the dense
tables of :mod:`pricing._compiled` by computed indices, then combined by expressions.

Money is float64 here, unrounded; a property test proves agreement with ``quote()`` (Decimal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, overload

import polars as pl

from pricing._catalog import Catalog, load_catalog, to_date
from pricing._compiled import CODE, REASONS, Compiled, compile_catalog
from pricing._schema import OPERATIONS
from pricing.errors import PricingError

EPS = 1e-9  # guard for ceilings of float quotients that are whole numbers in exact arithmetic

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
    lazy = requests if isinstance(requests, pl.LazyFrame) else requests.lazy()
    if offers is not None:
        offers = list(offers)
        for offer_id in offers:
            cat.offer(offer_id)  # raises with close-match hints
    day = to_date(as_of) if as_of is not None else None
    if currency is not None and not (len(currency) == 3 and currency.isupper()):
        raise PricingError(f"currency {currency!r} is not an ISO 4217 code such as 'USD'")
    fx_grid = _fx_grid(cat, compiled, currency, fx, max_fx_age_days) if currency else None
    out = _price(
        lazy,
        compiled,
        offers=offers,
        day=day,
        currency=currency,
        committed=committed,
        minimum_spend=minimum_spend,
        fx_grid=fx_grid,
    )
    return out if isinstance(requests, pl.LazyFrame) else out.collect()


# --------------------------------------------------------------------------- helpers


def _gather(values: pl.Series | pl.DataFrame, index: pl.Expr) -> pl.Expr:
    """``values[index]`` per row (null index gives null)."""
    src = values.to_struct("_s") if isinstance(values, pl.DataFrame) else values
    return pl.lit(src).gather(index.cast(pl.UInt32))


def _ceil(x: pl.Expr) -> pl.Expr:
    return (x - EPS).ceil()


def _col(name: str) -> pl.Expr:
    return pl.col(name)


def _request_columns(lf: pl.LazyFrame, schema: pl.Schema) -> tuple[pl.LazyFrame, list[str]]:
    """Internal typed request columns ``_<name>``; adds the FILLED_COLUMNS that are absent."""
    names = schema.names()
    exprs: list[pl.Expr] = []
    added: list[str] = []
    for name, (dtype, default, _) in REQUEST_COLUMNS.items():
        if name in ("timestamp", "offer_id", "model"):
            continue
        if name in names:
            src = schema[name]
            if src == pl.Categorical or isinstance(src, pl.Enum):
                expr = pl.col(name).cast(pl.String)
            else:
                expr = pl.col(name).cast(dtype, strict=False)
        else:
            expr = pl.lit(default, dtype=dtype)
            if name in FILLED_COLUMNS:
                exprs.append(pl.lit(default, dtype=dtype).alias(name))
                added.append(name)
        exprs.append(expr.alias(f"_{name}"))
    return lf.with_columns(exprs), added


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


def _price(
    lf: pl.LazyFrame,
    c: Compiled,
    *,
    offers: list[str] | None,
    day: date | None,
    currency: str | None,
    committed: bool,
    minimum_spend: bool,
    fx_grid: tuple[pl.Series, int, int, int] | None,
) -> pl.LazyFrame:
    schema = lf.collect_schema()
    names = schema.names()
    if offers is not None:
        if "offer_id" in names:
            raise PricingError(
                "the requests already have an offer_id column; drop it to re-price on offers=, "
                "or leave offers=None to price each row on its own offer"
            )
        lf = lf.join(pl.LazyFrame({"offer_id": offers}), how="cross")
        schema = lf.collect_schema()
        names = schema.names()
    elif "offer_id" not in names:
        raise PricingError(
            "the requests have no offer_id column; add one (see `pricing cards list`) "
            "or pass offers=[...] to price every row on given offers"
        )
    ts = _timestamp(schema)
    lf, added = _request_columns(lf, schema)

    offer_str = pl.col("offer_id").cast(pl.String)
    oi = offer_str.cast(pl.Enum(c.offer_ids), strict=False).to_physical().cast(pl.Int64)
    ts_day = ts.dt.date() if ts is not None else pl.lit(day or to_date(None), dtype=pl.Date)
    price_day = pl.lit(day, dtype=pl.Date) if day is not None else ts_day
    lf = lf.with_columns(
        _oi=oi,
        _ts=ts if ts is not None else pl.lit(None, dtype=pl.Datetime("us", "UTC")),
        _day=price_day,
        _month=ts_day.dt.truncate("1mo"),
        _op=pl.col("_operation").cast(pl.Enum(OPERATIONS), strict=False).to_physical(),
    )
    pos = (pl.col("_day").cast(pl.Int32).cast(pl.Int64) - c.day0 + 1).clip(0, c.n_days - 1)
    lf = lf.with_columns(_state=_gather(c.grid, pl.col("_oi") * c.n_days + pos))
    lf = lf.with_columns(_v=pl.when(pl.col("_state") >= 0).then(pl.col("_state")))

    def F(name: str) -> pl.Expr:  # noqa: N802 - reads as a field lookup
        """A version (``v_``) or price-point (``p_``) parameter of each row.

        Each row gathers the struct of its version's and its price point's parameters once
        (one gather each, then unnested), which is faster than a gather per parameter.
        """
        return _col(name)

    lf = lf.with_columns(_vs=_gather(c.versions, _col("_v"))).unnest("_vs")

    w, h = _col("_width"), _col("_height")
    px = (w * h).cast(pl.Float64)
    longest, shortest = pl.max_horizontal(w, h), pl.min_horizontal(w, h)
    k = _col("_input_images")

    # size bracket, quality and special size -> point index
    bracket: Any = pl.when(F("v_n_brackets") == 0).then(pl.lit(0))
    for i in range(c.n_brackets):
        side, bpx = F(f"v_br{i}_side"), F(f"v_br{i}_px")
        fits = (side.is_null() | (longest <= side)) & (bpx.is_null() | (px <= bpx))
        bracket = bracket.when((F("v_n_brackets") > i) & fits).then(pl.lit(i))
    nq = len(c.qualities)
    gq = (
        pl.when(_col("_quality").is_null())
        .then(pl.lit(nq))
        .otherwise(
            _col("_quality")
            .cast(pl.Enum(c.qualities or ("",)), strict=False)
            .to_physical()
            .cast(pl.Int64)
            .fill_null(nq + 1)
        )
    )
    if not c.qualities:
        gq = pl.when(_col("_quality").is_null()).then(pl.lit(0)).otherwise(pl.lit(1))
    special = pl.lit(0, dtype=pl.Int64)
    for i in reversed(range(c.n_special)):
        hit = (w == F(f"v_sp{i}_w")) & (h == F(f"v_sp{i}_h"))
        special = pl.when(hit).then(pl.lit(i + 1, dtype=pl.Int64)).otherwise(special)
    lf = lf.with_columns(
        _bracket=bracket,
        _q=_gather(c.quality_index, pl.col("_oi") * (nq + 2) + gq),
        _special=special,
    )
    so, sb, sq, ss = c.point_stride()
    per_version = so * len(OPERATIONS)
    pidx = (
        _col("_v") * per_version
        + _col("_op").cast(pl.Int64) * so
        + _col("_bracket") * sb
        + _col("_q") * sq
        + _col("_special") * ss
    )
    lf = lf.with_columns(_pidx=pl.when(_col("_q") >= 0).then(pidx))
    lf = lf.with_columns(_ps=_gather(c.points, _col("_pidx"))).unnest("_ps")

    # reasons that do not depend on the running volume, in quote()'s order
    steps = _col("_steps")
    checks: list[tuple[str, pl.Expr]] = [
        ("missing_offer", _col("offer_id").is_null()),
        ("unknown_offer", _col("_oi").is_null()),
        ("bad_timestamp", _col("_day").is_null()),
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
    if "model" in names:
        row_model = (
            pl.col("model")
            .cast(pl.String)
            .cast(pl.Enum(c.model_ids), strict=False)
            .to_physical()
            .cast(pl.Int64)
        )
        offer_model = _gather(c.offer_model_index, _col("_oi"))
        given = pl.col("model").is_not_null()
        checks.append(
            ("model_mismatch", given & (row_model.is_null() | (row_model != offer_model)))
        )
    sizes_ok = pl.lit(False)
    for i in range(c.n_sizes):
        sizes_ok = sizes_ok | ((w == F(f"v_size{i}_w")) & (h == F(f"v_size{i}_h")))
    op_bit = _gather(pl.Series([1 << i for i in range(len(OPERATIONS))]), _col("_op"))
    checks += [
        ("model_retired", _col("_state") == -3),
        ("offer_retired", _col("_state") == -2),
        ("no_version", _col("_state") == -1),
        ("operation", (F("v_ops") // op_bit) % 2 == 0),
        ("sizes", F("v_has_sizes") & ~sizes_ok),
        ("max_mp", px > F("v_max_px")),
        ("max_side", longest > F("v_max_side")),
        ("min_side", shortest < F("v_min_side")),
        (
            "multiple_of",
            ((w % F("v_multiple_of")) != 0) | ((h % F("v_multiple_of")) != 0),
        ),
        ("max_inputs", k > F("v_max_input_images")),
        ("min_steps", steps < F("v_min_steps")),
        ("max_steps", steps > F("v_max_steps")),
        ("bracket", _col("_bracket").is_null()),
        ("quality_required", _col("_q") == -2),
        ("quality_unknown", _col("_q") == -1),
        ("no_component", F("p_n") == 0),
        (
            "no_seconds",
            F("p_g") & _col("_seconds").is_null() & F("p_g_est_s").is_null(),
        ),
        ("no_token_row", F("p_tk") & F("p_tk_tokens").is_null()),
        (
            "no_text_price",
            F("p_tk") & (_col("_prompt_tokens") > 0) & F("p_tk_text").is_null(),
        ),
        ("no_input_tokens", F("p_tk") & (k > 0) & _col("_input_image_tokens").is_null()),
        ("no_image_input_price", F("p_tk") & (k > 0) & F("p_tk_in").is_null()),
        (
            "no_steps",
            F("p_st") & pl.coalesce(steps, F("p_st_default")).is_null(),
        ),
    ]
    code: Any = pl.when(checks[0][1]).then(pl.lit(CODE[checks[0][0]], dtype=pl.Int64))
    for name, cond in checks[1:]:
        code = code.when(cond).then(pl.lit(CODE[name], dtype=pl.Int64))
    lf = lf.with_columns(_code=code.otherwise(pl.lit(0, dtype=pl.Int64)))

    # running volume per account, offer and month, in timestamp order
    ok = _col("_code") == 0
    order = ["_ts", "_tb"] if ts is not None else ["_tb"]
    if c.needs_volume or (c.has_minimum and minimum_spend):
        lf = lf.with_columns(
            # ties in time are broken by the whole input row, so row order never matters
            _tb=pl.struct(names).hash(7),
            # one integer per (account, offer, month): cheaper to partition on than a struct
            _group=(
                _col("_account").cast(pl.Categorical).to_physical().cast(pl.Int64)
                * (len(c.offer_ids) + 1)
                + _col("_oi").fill_null(len(c.offer_ids))
            )
            * 1_000_000
            + _col("_month").dt.year().cast(pl.Int64) * 12
            + _col("_month").dt.month().cast(pl.Int64),
        )
    if c.needs_volume:
        # Every priced call counts towards the month, whichever version priced it. The
        # window runs on a narrow frame (parameters dropped, gathered again just after):
        # ordering a wide frame costs more than gathering twice.
        counted = pl.when(ok).then(_col("_count")).otherwise(0)
        lf = lf.drop([*c.versions.columns, *c.points.columns])
        lf = lf.with_columns(
            _prior=pl.when(_gather(c.versions["v_needs_volume"], _col("_v"))).then(
                (counted.cum_sum() - counted).over("_group", order_by=order)
            )
        )
        lf = lf.with_columns(
            _vs=_gather(c.versions, _col("_v")), _ps=_gather(c.points, _col("_pidx"))
        ).unnest("_vs", "_ps")
    else:
        lf = lf.with_columns(_prior=pl.lit(None, dtype=pl.Int64))

    lf = lf.with_columns(_money(c, F, committed))
    over_missing = _col("_over_qty") > 0
    lf = lf.with_columns(
        _code=pl.when(ok & over_missing & _col("_over_price").is_null())
        .then(pl.lit(CODE["no_overage"], dtype=pl.Int64))
        .otherwise(_col("_code"))
    )

    # month-level minimum spend on the month's last priced row
    if c.has_minimum and minimum_spend:
        priced = _col("_code") == 0
        part = pl.struct("_group", priced)
        month_total = pl.when(priced).then(_col("_total")).otherwise(0.0).sum().over(part)
        is_last = pl.int_range(pl.len()).over(part, order_by=order) == pl.len().over(part) - 1
        lf = lf.with_columns(
            _top_up=pl.when(priced & is_last & F("v_minimum").is_not_null())
            .then(pl.max_horizontal(F("v_minimum") - month_total, pl.lit(0.0)))
            .otherwise(0.0)
        )
    else:
        lf = lf.with_columns(_top_up=pl.lit(0.0))

    # currency conversion by the day's rates
    if fx_grid is not None and currency is not None:
        grid, first_day, length, target = fx_grid
        fpos = (_col("_day").cast(pl.Int32).cast(pl.Int64) - first_day + 1).clip(0, length - 1)
        to_rate = _gather(grid, pl.lit(target, dtype=pl.Int64) * length + fpos)
        from_rate = _gather(grid, F("v_currency_index") * length + fpos)
        same = F("v_currency") == currency
        factor = pl.when(same).then(pl.lit(1.0)).otherwise(to_rate / from_rate)
        lf = lf.with_columns(_fx=factor)
        lf = lf.with_columns(
            _code=pl.when((_col("_code") == 0) & _col("_fx").is_null())
            .then(pl.lit(CODE["no_fx"], dtype=pl.Int64))
            .otherwise(_col("_code"))
        )
        out_currency = pl.lit(currency).cast(pl.Categorical)
    else:
        lf = lf.with_columns(_fx=pl.lit(1.0))
        out_currency = F("v_currency")

    # outputs
    entity = (
        pl.when(_col("_code").is_between(CODE["model_mismatch"], CODE["no_version"]))
        .then(_col("_oi"))
        .when(_col("_code").is_between(CODE["operation"], CODE["no_overage"]))
        .then(_col("_v"))
        .otherwise(0)
    )
    offsets = pl.Series([c.reason_offsets[i] for i in range(len(REASONS))], dtype=pl.Int64)
    reason_idx = _gather(offsets, _col("_code")) + entity
    good = _col("_code") == 0
    fx = _col("_fx")

    def money(expr: pl.Expr) -> pl.Expr:
        return pl.when(good).then(expr * fx)

    outputs = [
        _gather(c.offer_provider, _col("_oi")).alias("provider"),
        F("v_version").alias("price_version"),
        F("v_source").alias("source_id"),
        _col("_day").alias("priced_on"),
        pl.when(good).then(_col("_prior")).alias("prior_images"),
        pl.when(_col("_v").is_not_null()).then(out_currency).alias("currency"),
        money(_col("_list")).alias("list_cost"),
        money(_col("_total") + _col("_top_up")).alias("cost"),
        money(_col("_high")).alias("cost_high"),
        money(_col("_fee")).alias("fee"),
        money(_col("_top_up")).alias("top_up"),
        pl.when(~good).then(_gather(c.reasons, reason_idx)).alias("reason"),
    ]
    if "model" not in names:
        outputs.insert(0, _gather(c.offer_model, _col("_oi")).alias("model"))
        added = ["model", *added]
    keep = [n for n in names if n not in PRICED_COLUMNS] + added
    lf = lf.with_columns(outputs)
    return lf.select([*keep, *PRICED_COLUMNS])


def _money(c: Compiled, F: Callable[[str], pl.Expr], committed: bool) -> list[pl.Expr]:  # noqa: N803
    """Every component's amount for the row's ``count`` images, then the row's totals."""
    n = _col("_count").cast(pl.Float64)
    w, h = _col("_width"), _col("_height")
    px = (w * h).cast(pl.Float64)
    k = _col("_input_images").cast(pl.Float64)
    in_px = (pl.coalesce(_col("_input_width"), w) * pl.coalesce(_col("_input_height"), h)).cast(
        pl.Float64
    )
    prior = _col("_prior").cast(pl.Float64).fill_null(0.0)
    zero = pl.lit(0.0)

    def increment(amount: pl.Expr, inc: pl.Expr) -> pl.Expr:
        return pl.when(inc.is_not_null()).then(_ceil(amount / inc) * inc).otherwise(amount)

    def mp_round(mp: pl.Expr, up: pl.Expr, minimum: pl.Expr) -> pl.Expr:
        mp = pl.when(up).then(mp.ceil()).otherwise(mp)
        return pl.max_horizontal(mp, minimum)  # ignores a null minimum

    # per image, flat or by volume tier
    image: Any = pl.when(F("p_img_price").is_not_null()).then(n * F("p_img_price"))
    if c.n_tiers:
        t_start = [F(f"p_t{i}_start") for i in range(c.n_tiers)]
        t_price = [F(f"p_t{i}_price") for i in range(c.n_tiers)]

        def cumulative(x: pl.Expr) -> pl.Expr:
            terms = []
            for i in range(c.n_tiers):
                span = t_start[i + 1] - t_start[i] if i + 1 < c.n_tiers else pl.lit(None)
                inside = pl.min_horizontal(pl.max_horizontal(x - t_start[i], zero), span)
                terms.append((t_price[i] * inside).fill_null(0.0))
            return pl.sum_horizontal(terms)

        last = prior + n - 1
        unit = pl.lit(None, dtype=pl.Float64)
        for i in range(c.n_tiers):
            unit = pl.when(last >= t_start[i]).then(t_price[i]).otherwise(unit)
        image = image.when(F("p_img_all_units")).then(n * unit)
        image = image.otherwise(cumulative(prior + n) - cumulative(prior))
    image = pl.when(F("p_img")).then(image).otherwise(zero)
    high_extra = (
        pl.when(F("p_img") & F("p_img_high").is_not_null())
        .then((F("p_img_high") - F("p_img_price")) * n)
        .otherwise(zero)
    )
    input_image = (
        pl.when(F("p_ii_price").is_not_null() & (k > 0))
        .then(k * n * F("p_ii_price"))
        .otherwise(zero)
    )

    # megapixels of the output, and of the input images
    mp_out = mp_round(px / F("v_mp_def"), F("p_mo_up"), F("p_mo_min"))
    per_out = (
        pl.when(F("p_mo_first").is_not_null())
        .then(F("p_mo_first") + pl.max_horizontal(mp_out - 1, zero) * F("p_mo_price"))
        .otherwise(mp_out * F("p_mo_price"))
    )
    mp_output = pl.when(F("p_mo")).then(n * increment(per_out, F("p_mo_inc"))).otherwise(zero)
    mp_in = mp_round(in_px / F("v_mp_def"), F("p_mi_up"), F("p_mi_min"))
    per_in = k * mp_in * F("p_mi_price")
    mp_input = (
        pl.when(F("p_mi") & (k > 0)).then(n * increment(per_in, F("p_mi_inc"))).otherwise(zero)
    )

    # GPU seconds: a call's run time, rounded to the granularity, at least the minimum
    step_scale = (
        pl.when(_col("_steps").is_not_null() & F("p_g_est_steps").is_not_null())
        .then(_col("_steps").cast(pl.Float64) / F("p_g_est_steps"))
        .otherwise(1.0)
    )
    estimate = F("p_g_est_s") * px / F("p_g_est_px") * step_scale
    run = pl.coalesce(_col("_seconds"), estimate) * n
    rounded = (
        pl.when(F("p_g_gran").is_not_null())
        .then(_ceil(run / F("p_g_gran")) * F("p_g_gran"))
        .otherwise(run)
    )
    billed = pl.max_horizontal(rounded, F("p_g_min"))
    gpu = pl.when(F("p_g")).then(billed * F("p_g_price")).otherwise(zero)

    credit = pl.when(F("p_cr").is_not_null()).then(F("p_cr") * n * F("v_credit")).otherwise(zero)

    million = 1_000_000.0
    prompt = _col("_prompt_tokens").cast(pl.Float64)
    token = (
        pl.when(F("p_tk"))
        .then(
            F("p_tk_tokens") * n * F("p_tk_out") / million
            + pl.when(prompt > 0).then(prompt * F("p_tk_text") / million).otherwise(zero)
            + pl.when(k > 0)
            .then(_col("_input_image_tokens").cast(pl.Float64) * F("p_tk_in") / million)
            .otherwise(zero)
        )
        .otherwise(zero)
    )

    steps = pl.coalesce(_col("_steps"), F("p_st_default")).cast(pl.Float64)
    area = pl.when(F("p_st_ref_px").is_not_null()).then(px / F("p_st_ref_px")).otherwise(1.0)
    step = pl.when(F("p_st")).then(steps * n * F("p_st_price") * area).otherwise(zero)

    # a plan: fee on the month's first call, then images or GPU time beyond the allowance
    fee = pl.when(F("p_sb") & (prior == 0)).then(F("p_sb_fee")).otherwise(zero)
    over_images = pl.max_horizontal(
        n - pl.max_horizontal(F("p_sb_images").cast(pl.Float64) - prior, zero), zero
    )
    per_s = F("p_sb_per_image_s")
    over_seconds = pl.max_horizontal(
        per_s * n - pl.max_horizontal(F("p_sb_seconds") - per_s * prior, zero), zero
    )
    over_qty = (
        pl.when(~F("p_sb"))
        .then(zero)
        .when(F("p_sb_images").is_not_null())
        .then(over_images)
        .when(F("p_sb_seconds").is_not_null())
        .then(over_seconds)
        .otherwise(zero)
    )
    over_price = (
        pl.when(F("p_sb_images").is_not_null())
        .then(F("p_sb_over_image"))
        .otherwise(F("p_sb_over_hour") / 3600.0)
    )
    overage = pl.when(over_qty > 0).then(over_qty * over_price).otherwise(zero).fill_null(0.0)

    listed = (
        image + input_image + mp_output + mp_input + gpu + credit + token + step + fee + overage
    )
    usage = listed - fee
    free = F("v_free").cast(pl.Float64)
    free_count = pl.max_horizontal(pl.min_horizontal(prior + n, free) - prior, zero)
    allowance = pl.when(free > 0).then(-free_count * usage / n).otherwise(zero)
    base = listed + allowance
    total = base
    if committed:
        total = (
            pl.when(F("v_discount").is_not_null())
            .then(base - base * F("v_discount"))
            .otherwise(base)
        )
    return [
        listed.alias("_list"),
        total.alias("_total"),
        pl.when(high_extra != 0).then(total + high_extra).alias("_high"),
        fee.alias("_fee"),
        over_qty.alias("_over_qty"),
        over_price.alias("_over_price"),
    ]


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

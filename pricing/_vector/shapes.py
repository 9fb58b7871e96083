"""What a request shape or row costs, as polars expressions.

For :mod:`pricing._vector.requests`, which prices each distinct request shape once
(:func:`price_shapes`: every reason check of ``quote()``, in its order, from
:mod:`pricing._vector.checks`, and the money), then prices again only the rows whose money
follows the month's running volume. The money is split in two for that:

- :func:`fixed_parts`: the components whose amount does not depend on the month's running
  volume (input images, megapixels, GPU seconds, credits, tokens, steps), computed per shape;
- :func:`volume_parts`: per-image prices (which may run in volume tiers), a plan's fee and
  overage, free allowances and the committed-use discount, which follow the images already
  billed that month (``_prior``). It reads the fixed parts from their columns, so a row whose
  volume is known only after the ordered window gets exactly the shape's fixed amounts and the
  same sum, in the same order, as a shape priced without volume.

Parameters are the columns gathered from :mod:`pricing._vector.compiled` (``v_*`` per version,
and per price point each unit's columns, read through its groups in
:mod:`pricing._vector.points`); the request's are ``_count``, ``_width``, ``_height`` and the
like.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from polars import col

from pricing._base.money import MILLION
from pricing._cards.fields import OPERATIONS
from pricing._vector.checks import no_fx, no_overage, reason_code
from pricing._vector.compiled import Compiled, FxGrid, gather
from pricing._vector.points import (
    CREDIT,
    GPU,
    IMAGE,
    INPUT_IMAGE,
    MP_INPUT,
    MP_OUTPUT,
    PLAN,
    STEPS,
    TOKENS,
    tier_columns,
)
from pricing._vector.reasons import CODE, REASONS

EPS = 1e-9  # guard for ceilings of float quotients that are whole numbers in exact arithmetic

#: Columns of a priced shape that a row priced again with its running volume starts from.
AGAIN_INPUTS = ("_code0", "_oi", "_v", "v_needs_volume", "v_minimum", "_fx")


def _ceil(x: pl.Expr) -> pl.Expr:
    return (x - EPS).ceil()


def price_shapes(
    shapes: pl.DataFrame,
    c: Compiled,
    *,
    names: list[str],
    has_model: bool,
    committed: bool,
    currency: str | None,
    fx_grid: FxGrid | None,
    monthly_offers: pl.Series,
) -> pl.DataFrame:
    """Price each shape (one row each) as if no image had been billed that month yet.

    ``shapes`` holds the parts of a shape (see :func:`pricing._vector.shape_keys.shape_parts`).
    Gives the priced columns ``names``, and keeps what the engine needs to price a row of the
    shape again with its running volume: ``_monthly`` (its offer runs one), the reason code
    before the volume (``_code0``), the exchange-rate factor and the money's volume inputs.
    """
    lf = shapes.lazy().with_columns(
        _given=col("_oi").is_not_null(),
        _oi=pl.when(col("_oi") >= 0).then(col("_oi")),
        _v=pl.when(col("_state") >= 0).then(col("_state")),
    )
    # One gather of the version's parameters (a struct, unnested), then one of the point's.
    lf = lf.with_columns(_vs=gather(c.versions, col("_v"))).unnest("_vs")
    lf = _with_point(lf, c)

    # reasons that do not depend on the running volume, in quote()'s order
    lf = lf.with_columns(_code0=reason_code(c, has_model))

    lf = lf.with_columns(fixed_parts())
    lf = lf.with_columns(_prior=pl.lit(None, dtype=pl.Int64), _code=col("_code0"))
    lf = lf.with_columns(volume_parts(c, committed))
    lf = lf.with_columns(no_overage(), _top_up=pl.lit(0.0))

    # currency conversion by the day's rates
    fx, out_currency = _fx_factor(fx_grid, currency)
    lf = lf.with_columns(_fx=fx)
    lf = lf.with_columns(no_fx())

    priced = outputs(c, out_currency)
    priced_shapes = lf.select(
        *[priced[n].alias(n) for n in names],
        gather(monthly_offers, col("_oi")).fill_null(False).alias("_monthly"),
        *AGAIN_INPUTS,
        *volume_inputs(c, committed),
    ).collect()
    return priced_shapes.rechunk()  # gathers from one chunk are much quicker


def _with_point(lf: pl.LazyFrame, c: Compiled) -> pl.LazyFrame:
    """Add the shape's size bracket, quality and special size, and gather its point's
    parameters (``p_*``) by the point index they make (``_pidx``)."""
    w, h = col("_width"), col("_height")
    px = (w * h).cast(pl.Float64)
    longest = pl.max_horizontal(w, h)
    bracket: Any = pl.when(col("v_n_brackets") == 0).then(pl.lit(0))
    for i in range(c.n_brackets):
        side, bpx = col(f"v_br{i}_side"), col(f"v_br{i}_px")
        fits = (side.is_null() | (longest <= side)) & (bpx.is_null() | (px <= bpx))
        bracket = bracket.when((col("v_n_brackets") > i) & fits).then(pl.lit(i))
    special = pl.lit(0, dtype=pl.Int64)
    for i in reversed(range(c.n_special)):
        hit = (w == col(f"v_sp{i}_w")) & (h == col(f"v_sp{i}_h"))
        special = pl.when(hit).then(pl.lit(i + 1, dtype=pl.Int64)).otherwise(special)
    nq = len(c.qualities)
    lf = lf.with_columns(
        _bracket=bracket,
        _q=gather(c.quality_index, col("_oi") * (nq + 2) + col("_gq")),
        _special=special,
    )
    so, sb, sq, ss = c.point_stride()
    pidx = (
        col("_v") * (so * len(OPERATIONS))
        + col("_op") * so
        + col("_bracket") * sb
        + col("_q") * sq
        + col("_special") * ss
    )
    lf = lf.with_columns(_pidx=pl.when(col("_q") >= 0).then(pidx))
    return lf.with_columns(_ps=gather(c.points, col("_pidx"))).unnest("_ps")


def _fx_factor(fx_grid: FxGrid | None, currency: str | None) -> tuple[pl.Expr, pl.Expr]:
    """The factor from the version's currency to ``currency`` on the shape's day (``_fpos``),
    null where there is no rate; and the output currency."""
    if fx_grid is not None and currency is not None:
        grid, _, length, target = fx_grid
        to_rate = gather(grid, pl.lit(target, dtype=pl.Int64) * length + col("_fpos"))
        from_rate = gather(grid, col("v_currency_index") * length + col("_fpos"))
        same = col("v_currency") == currency
        fx = pl.when(same).then(pl.lit(1.0)).otherwise(to_rate / from_rate)
        return fx, pl.lit(currency).cast(pl.Categorical)
    return pl.lit(1.0), col("v_currency")


def outputs(c: Compiled, out_currency: pl.Expr) -> dict[str, pl.Expr]:
    """The priced columns (and ``model``) from a row's or shape's final ``_code`` and money."""
    code = col("_code")
    entity = (
        pl.when(code.is_between(CODE["model_mismatch"], CODE["no_version"]))
        .then(col("_oi"))
        .when(code.is_between(CODE["operation"], CODE["no_overage"]))
        .then(col("_v"))
        .otherwise(0)
    )
    offsets = pl.Series([c.reason_offsets[i] for i in range(len(REASONS))], dtype=pl.Int64)
    reason_idx = gather(offsets, code) + entity
    good = code == 0

    def money(expr: pl.Expr) -> pl.Expr:
        return pl.when(good).then(expr * col("_fx"))

    return {
        "model": gather(c.offer_model, col("_oi")),
        "provider": gather(c.offer_provider, col("_oi")),
        "price_version": col("v_version"),
        "source_id": col("v_source"),
        "prior_images": pl.when(good).then(col("_prior")),
        "currency": pl.when(col("_v").is_not_null()).then(out_currency),
        "list_cost": money(col("_list")),
        "cost": money(col("_total") + col("_top_up")),
        "cost_high": money(col("_high")),
        "fee": money(col("_fee")),
        "top_up": money(col("_top_up")),
        "reason": pl.when(~good).then(gather(c.reasons, reason_idx)),
    }


# --------------------------------------------------------------------------- money

#: The fixed parts' columns, in the order they are summed after the per-image price.
FIXED = (
    "_m_input_image",
    "_m_mp_output",
    "_m_mp_input",
    "_m_gpu",
    "_m_credit",
    "_m_token",
    "_m_step",
)


def volume_inputs(c: Compiled, committed: bool) -> list[str]:
    """Columns :func:`volume_parts` reads besides ``_count`` and ``_prior``."""
    tiers = [tier_columns(i).name(x) for i in range(c.n_tiers) for x in ("start", "price")]
    return [
        *FIXED,
        "_m_high_extra",
        "_over_price",
        *(IMAGE.name(part) for part in ("", "price", "all_units")),
        *tiers,
        *(PLAN.name(part) for part in ("", "fee", "images", "per_image_s", "seconds")),
        "v_free",
        *(["v_discount"] if committed else []),
    ]


def fixed_parts() -> list[pl.Expr]:
    """Amounts of the components that do not follow the running volume, for ``count`` images."""
    n = col("_count").cast(pl.Float64)
    w, h = col("_width"), col("_height")
    px = (w * h).cast(pl.Float64)
    k = col("_input_images").cast(pl.Float64)
    zero = pl.lit(0.0)

    high_extra = (
        pl.when(IMAGE.col() & IMAGE.col("high").is_not_null())
        .then((IMAGE.col("high") - IMAGE.col("price")) * n)
        .otherwise(zero)
    )
    input_image = (
        pl.when(INPUT_IMAGE.col("price").is_not_null() & (k > 0))
        .then(k * n * INPUT_IMAGE.col("price"))
        .otherwise(zero)
    )
    mp_output, mp_input = _megapixels(n, k)
    gpu = _gpu_seconds(n, px)
    credit = (
        pl.when(CREDIT.col().is_not_null()).then(CREDIT.col() * n * col("v_credit")).otherwise(zero)
    )
    token = _tokens(n, k)

    steps = pl.coalesce(col("_steps"), STEPS.col("default")).cast(pl.Float64)
    area = pl.when(STEPS.col("ref_px").is_not_null()).then(px / STEPS.col("ref_px")).otherwise(1.0)
    step = pl.when(STEPS.col()).then(steps * n * STEPS.col("price") * area).otherwise(zero)

    over_price = (
        pl.when(PLAN.col("images").is_not_null())
        .then(PLAN.col("over_image"))
        .otherwise(PLAN.col("over_hour") / 3600.0)
    )
    amounts = (input_image, mp_output, mp_input, gpu, credit, token, step)
    return [
        *(amount.alias(name) for name, amount in zip(FIXED, amounts, strict=True)),
        high_extra.alias("_m_high_extra"),
        over_price.alias("_over_price"),
    ]


def _megapixels(n: pl.Expr, k: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Amounts by megapixels of the output, and of the ``k`` input images, for ``n`` images."""
    w, h = col("_width"), col("_height")
    px = (w * h).cast(pl.Float64)
    in_px = (pl.coalesce(col("_input_width"), w) * pl.coalesce(col("_input_height"), h)).cast(
        pl.Float64
    )
    zero = pl.lit(0.0)

    def increment(amount: pl.Expr, inc: pl.Expr) -> pl.Expr:
        return pl.when(inc.is_not_null()).then(_ceil(amount / inc) * inc).otherwise(amount)

    def mp_round(mp: pl.Expr, up: pl.Expr, minimum: pl.Expr) -> pl.Expr:
        mp = pl.when(up).then(mp.ceil()).otherwise(mp)
        return pl.max_horizontal(mp, minimum)  # ignores a null minimum

    out, inp = MP_OUTPUT.col, MP_INPUT.col
    mp_out = mp_round(px / col("v_mp_def"), out("up"), out("min"))
    per_out = (
        pl.when(out("first").is_not_null())
        .then(out("first") + pl.max_horizontal(mp_out - 1, zero) * out("price"))
        .otherwise(mp_out * out("price"))
    )
    mp_output = pl.when(out()).then(n * increment(per_out, out("inc"))).otherwise(zero)
    mp_in = mp_round(in_px / col("v_mp_def"), inp("up"), inp("min"))
    per_in = k * mp_in * inp("price")
    mp_input = pl.when(inp() & (k > 0)).then(n * increment(per_in, inp("inc"))).otherwise(zero)
    return mp_output, mp_input


def _gpu_seconds(n: pl.Expr, px: pl.Expr) -> pl.Expr:
    """GPU seconds: a call's run time, rounded to the granularity, at least the minimum."""
    step_scale = (
        pl.when(col("_steps").is_not_null() & GPU.col("est_steps").is_not_null())
        .then(col("_steps").cast(pl.Float64) / GPU.col("est_steps"))
        .otherwise(1.0)
    )
    estimate = GPU.col("est_s") * px / GPU.col("est_px") * step_scale
    run = pl.coalesce(col("_seconds"), estimate) * n
    rounded = (
        pl.when(GPU.col("gran").is_not_null())
        .then(_ceil(run / GPU.col("gran")) * GPU.col("gran"))
        .otherwise(run)
    )
    billed = pl.max_horizontal(rounded, GPU.col("min"))
    return pl.when(GPU.col()).then(billed * GPU.col("price")).otherwise(pl.lit(0.0))


def _tokens(n: pl.Expr, k: pl.Expr) -> pl.Expr:
    """Token prices: output tokens of ``n`` images, prompt tokens, image-input tokens."""
    zero = pl.lit(0.0)
    million = float(MILLION)  # per-million token prices
    prompt = col("_prompt_tokens").cast(pl.Float64)
    return (
        pl.when(TOKENS.col())
        .then(
            TOKENS.col("tokens") * n * TOKENS.col("out") / million
            + pl.when(prompt > 0).then(prompt * TOKENS.col("text") / million).otherwise(zero)
            + pl.when(k > 0)
            .then(col("_input_image_tokens").cast(pl.Float64) * TOKENS.col("in") / million)
            .otherwise(zero)
        )
        .otherwise(zero)
    )


def volume_parts(c: Compiled, committed: bool) -> list[pl.Expr]:
    """The row's totals from the fixed parts and the images already billed that month.

    Gives ``_list`` (before allowances and discounts), ``_total``, ``_high`` (the upper end of
    a price range, else null), ``_fee`` and ``_over_qty`` (usage beyond a plan's allowance).
    """
    n = col("_count").cast(pl.Float64)
    prior = col("_prior").cast(pl.Float64).fill_null(0.0)
    zero = pl.lit(0.0)

    image = _per_image(c, n, prior)
    fee, over_qty = _plan(n, prior)
    overage = (
        pl.when(over_qty > 0).then(over_qty * col("_over_price")).otherwise(zero).fill_null(0.0)
    )

    listed: pl.Expr = image
    for name in FIXED:
        listed = listed + col(name)
    listed = listed + fee + overage
    usage = listed - fee
    free = col("v_free").cast(pl.Float64)
    free_count = pl.max_horizontal(pl.min_horizontal(prior + n, free) - prior, zero)
    # the free share of the call's usage: a call wholly free comes to exactly 0, never a
    # float rounding below it (which the money guard would take for a negative price)
    allowance = pl.when(free > 0).then(-usage * (free_count / n)).otherwise(zero)
    base = listed + allowance
    total = base
    if committed:
        total = (
            pl.when(col("v_discount").is_not_null())
            .then(base - base * col("v_discount"))
            .otherwise(base)
        )
    high_extra = col("_m_high_extra")
    return [
        listed.alias("_list"),
        total.alias("_total"),
        pl.when(high_extra != 0).then(total + high_extra).alias("_high"),
        fee.alias("_fee"),
        over_qty.alias("_over_qty"),
    ]


def _per_image(c: Compiled, n: pl.Expr, prior: pl.Expr) -> pl.Expr:
    """Per-image prices of ``n`` images after ``prior`` ones: flat, or by volume tier."""
    zero = pl.lit(0.0)
    image: Any = pl.when(IMAGE.col("price").is_not_null()).then(n * IMAGE.col("price"))
    if c.n_tiers:
        t_start = [tier_columns(i).col("start") for i in range(c.n_tiers)]
        t_price = [tier_columns(i).col("price") for i in range(c.n_tiers)]

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
        image = image.when(IMAGE.col("all_units")).then(n * unit)
        image = image.otherwise(cumulative(prior + n) - cumulative(prior))
    return pl.when(IMAGE.col()).then(image).otherwise(zero)


def _plan(n: pl.Expr, prior: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """A plan's fee (on the month's first call) and the usage of ``n`` images beyond its
    allowance of images or GPU time, after ``prior`` ones."""
    zero = pl.lit(0.0)
    fee = pl.when(PLAN.col() & (prior == 0)).then(PLAN.col("fee")).otherwise(zero)
    over_images = pl.max_horizontal(
        n - pl.max_horizontal(PLAN.col("images").cast(pl.Float64) - prior, zero), zero
    )
    per_s = PLAN.col("per_image_s")
    over_seconds = pl.max_horizontal(
        per_s * n - pl.max_horizontal(PLAN.col("seconds") - per_s * prior, zero), zero
    )
    over_qty = (
        pl.when(~PLAN.col())
        .then(zero)
        .when(PLAN.col("images").is_not_null())
        .then(over_images)
        .when(PLAN.col("seconds").is_not_null())
        .then(over_seconds)
        .otherwise(zero)
    )
    return fee, over_qty

"""The money of a priced call as polars expressions, for :mod:`pricing._vector`.

Split in two so that the vectorised engine can price each distinct request shape once:

- :func:`fixed_parts`: the components whose amount does not depend on the month's running
  volume (input images, megapixels, GPU seconds, credits, tokens, steps), computed per shape;
- :func:`volume_parts`: per-image prices (which may run in volume tiers), a plan's fee and
  overage, free allowances and the committed-use discount, which follow the images already
  billed that month (``_prior``). It reads the fixed parts from their columns, so a row whose
  volume is known only after the ordered window gets exactly the shape's fixed amounts and the
  same sum, in the same order, as a shape priced without volume.

Parameters are the columns gathered from :mod:`pricing._compiled` (``v_*`` per version, ``p_*``
per price point); the request's are ``_count``, ``_width``, ``_height`` and the like.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pricing._compiled import Compiled

EPS = 1e-9  # guard for ceilings of float quotients that are whole numbers in exact arithmetic

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
    tiers = [f"p_t{i}_{x}" for i in range(c.n_tiers) for x in ("start", "price")]
    return [
        *FIXED,
        "_m_high_extra",
        "_over_price",
        "p_img",
        "p_img_price",
        "p_img_all_units",
        *tiers,
        "p_sb",
        "p_sb_fee",
        "p_sb_images",
        "p_sb_per_image_s",
        "p_sb_seconds",
        "v_free",
        *(["v_discount"] if committed else []),
    ]


def _col(name: str) -> pl.Expr:
    return pl.col(name)


def _ceil(x: pl.Expr) -> pl.Expr:
    return (x - EPS).ceil()


def fixed_parts() -> list[pl.Expr]:
    """Amounts of the components that do not follow the running volume, for ``count`` images."""
    n = _col("_count").cast(pl.Float64)
    w, h = _col("_width"), _col("_height")
    px = (w * h).cast(pl.Float64)
    k = _col("_input_images").cast(pl.Float64)
    in_px = (pl.coalesce(_col("_input_width"), w) * pl.coalesce(_col("_input_height"), h)).cast(
        pl.Float64
    )
    zero = pl.lit(0.0)

    def increment(amount: pl.Expr, inc: pl.Expr) -> pl.Expr:
        return pl.when(inc.is_not_null()).then(_ceil(amount / inc) * inc).otherwise(amount)

    def mp_round(mp: pl.Expr, up: pl.Expr, minimum: pl.Expr) -> pl.Expr:
        mp = pl.when(up).then(mp.ceil()).otherwise(mp)
        return pl.max_horizontal(mp, minimum)  # ignores a null minimum

    high_extra = (
        pl.when(_col("p_img") & _col("p_img_high").is_not_null())
        .then((_col("p_img_high") - _col("p_img_price")) * n)
        .otherwise(zero)
    )
    input_image = (
        pl.when(_col("p_ii_price").is_not_null() & (k > 0))
        .then(k * n * _col("p_ii_price"))
        .otherwise(zero)
    )

    # megapixels of the output, and of the input images
    mp_out = mp_round(px / _col("v_mp_def"), _col("p_mo_up"), _col("p_mo_min"))
    per_out = (
        pl.when(_col("p_mo_first").is_not_null())
        .then(_col("p_mo_first") + pl.max_horizontal(mp_out - 1, zero) * _col("p_mo_price"))
        .otherwise(mp_out * _col("p_mo_price"))
    )
    mp_output = pl.when(_col("p_mo")).then(n * increment(per_out, _col("p_mo_inc"))).otherwise(zero)
    mp_in = mp_round(in_px / _col("v_mp_def"), _col("p_mi_up"), _col("p_mi_min"))
    per_in = k * mp_in * _col("p_mi_price")
    mp_input = (
        pl.when(_col("p_mi") & (k > 0))
        .then(n * increment(per_in, _col("p_mi_inc")))
        .otherwise(zero)
    )

    # GPU seconds: a call's run time, rounded to the granularity, at least the minimum
    step_scale = (
        pl.when(_col("_steps").is_not_null() & _col("p_g_est_steps").is_not_null())
        .then(_col("_steps").cast(pl.Float64) / _col("p_g_est_steps"))
        .otherwise(1.0)
    )
    estimate = _col("p_g_est_s") * px / _col("p_g_est_px") * step_scale
    run = pl.coalesce(_col("_seconds"), estimate) * n
    rounded = (
        pl.when(_col("p_g_gran").is_not_null())
        .then(_ceil(run / _col("p_g_gran")) * _col("p_g_gran"))
        .otherwise(run)
    )
    billed = pl.max_horizontal(rounded, _col("p_g_min"))
    gpu = pl.when(_col("p_g")).then(billed * _col("p_g_price")).otherwise(zero)

    credit = (
        pl.when(_col("p_cr").is_not_null())
        .then(_col("p_cr") * n * _col("v_credit"))
        .otherwise(zero)
    )

    million = 1_000_000.0
    prompt = _col("_prompt_tokens").cast(pl.Float64)
    token = (
        pl.when(_col("p_tk"))
        .then(
            _col("p_tk_tokens") * n * _col("p_tk_out") / million
            + pl.when(prompt > 0).then(prompt * _col("p_tk_text") / million).otherwise(zero)
            + pl.when(k > 0)
            .then(_col("_input_image_tokens").cast(pl.Float64) * _col("p_tk_in") / million)
            .otherwise(zero)
        )
        .otherwise(zero)
    )

    steps = pl.coalesce(_col("_steps"), _col("p_st_default")).cast(pl.Float64)
    area = pl.when(_col("p_st_ref_px").is_not_null()).then(px / _col("p_st_ref_px")).otherwise(1.0)
    step = pl.when(_col("p_st")).then(steps * n * _col("p_st_price") * area).otherwise(zero)

    over_price = (
        pl.when(_col("p_sb_images").is_not_null())
        .then(_col("p_sb_over_image"))
        .otherwise(_col("p_sb_over_hour") / 3600.0)
    )
    amounts = (input_image, mp_output, mp_input, gpu, credit, token, step)
    return [
        *(amount.alias(name) for name, amount in zip(FIXED, amounts, strict=True)),
        high_extra.alias("_m_high_extra"),
        over_price.alias("_over_price"),
    ]


def volume_parts(c: Compiled, committed: bool) -> list[pl.Expr]:
    """The row's totals from the fixed parts and the images already billed that month.

    Gives ``_list`` (before allowances and discounts), ``_total``, ``_high`` (the upper end of
    a price range, else null), ``_fee`` and ``_over_qty`` (usage beyond a plan's allowance).
    """
    n = _col("_count").cast(pl.Float64)
    prior = _col("_prior").cast(pl.Float64).fill_null(0.0)
    zero = pl.lit(0.0)

    # per image, flat or by volume tier
    image: Any = pl.when(_col("p_img_price").is_not_null()).then(n * _col("p_img_price"))
    if c.n_tiers:
        t_start = [_col(f"p_t{i}_start") for i in range(c.n_tiers)]
        t_price = [_col(f"p_t{i}_price") for i in range(c.n_tiers)]

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
        image = image.when(_col("p_img_all_units")).then(n * unit)
        image = image.otherwise(cumulative(prior + n) - cumulative(prior))
    image = pl.when(_col("p_img")).then(image).otherwise(zero)

    # a plan: fee on the month's first call, then images or GPU time beyond the allowance
    fee = pl.when(_col("p_sb") & (prior == 0)).then(_col("p_sb_fee")).otherwise(zero)
    over_images = pl.max_horizontal(
        n - pl.max_horizontal(_col("p_sb_images").cast(pl.Float64) - prior, zero), zero
    )
    per_s = _col("p_sb_per_image_s")
    over_seconds = pl.max_horizontal(
        per_s * n - pl.max_horizontal(_col("p_sb_seconds") - per_s * prior, zero), zero
    )
    over_qty = (
        pl.when(~_col("p_sb"))
        .then(zero)
        .when(_col("p_sb_images").is_not_null())
        .then(over_images)
        .when(_col("p_sb_seconds").is_not_null())
        .then(over_seconds)
        .otherwise(zero)
    )
    overage = (
        pl.when(over_qty > 0).then(over_qty * _col("_over_price")).otherwise(zero).fill_null(0.0)
    )

    listed: pl.Expr = image
    for name in FIXED:
        listed = listed + _col(name)
    listed = listed + fee + overage
    usage = listed - fee
    free = _col("v_free").cast(pl.Float64)
    free_count = pl.max_horizontal(pl.min_horizontal(prior + n, free) - prior, zero)
    allowance = pl.when(free > 0).then(-free_count * usage / n).otherwise(zero)
    base = listed + allowance
    total = base
    if committed:
        total = (
            pl.when(_col("v_discount").is_not_null())
            .then(base - base * _col("v_discount"))
            .otherwise(base)
        )
    high_extra = _col("_m_high_extra")
    return [
        listed.alias("_list"),
        total.alias("_total"),
        pl.when(high_extra != 0).then(total + high_extra).alias("_high"),
        fee.alias("_fee"),
        over_qty.alias("_over_qty"),
    ]

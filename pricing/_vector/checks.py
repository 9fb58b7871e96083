"""Why a request shape or row has no price: the checks of ``quote()``, in its order, as expressions.

A shape's reason code (:func:`reason_code`) is the first check it fails, 0 when it passes
them all; the codes and their texts are in :mod:`pricing._vector.reasons`. Two checks follow
the money (:func:`no_overage`) and the currency conversion (:func:`no_fx`), so they run after.

Columns read: the shape's parts (``_oi``, ``_state``, ``_op``, ``_width``...), the version's
``v_*`` and the point's parameters (the unit column groups of :mod:`pricing._vector.points`),
and ``_bracket`` and ``_q`` (the point index's).
"""

from __future__ import annotations

from typing import Any

import polars as pl
from polars import col

from pricing._cards.fields import OPERATIONS
from pricing._vector.compiled import Compiled, gather
from pricing._vector.points import GPU, MATCHED, STEPS, TOKENS
from pricing._vector.reasons import CODE, MODEL_RETIRED, NO_VERSION, OFFER_RETIRED


def reason_code(c: Compiled, has_model: bool) -> pl.Expr:
    """``_code0``: the code of the first check that fails, before the running volume; 0: none."""
    checks = [*_request_checks(c, has_model), *_offer_checks(c)]
    code: Any = pl.when(checks[0][1]).then(pl.lit(CODE[checks[0][0]], dtype=pl.Int64))
    for name, cond in checks[1:]:
        code = code.when(cond).then(pl.lit(CODE[name], dtype=pl.Int64))
    coded: pl.Expr = code.otherwise(pl.lit(0, dtype=pl.Int64))
    return coded


def _request_checks(c: Compiled, has_model: bool) -> list[tuple[str, pl.Expr]]:
    """Checks of the request alone: offer given and known, readable day, numbers in range.

    The numbers were read by the number guard (:mod:`pricing._vector.guard`), which puts -1
    in place of a value out of its range, so each check below also refuses those."""
    w, h = col("_width"), col("_height")
    k = col("_input_images")
    steps = col("_steps")
    checks: list[tuple[str, pl.Expr]] = [
        ("missing_offer", ~col("_given")),
        ("unknown_offer", col("_oi").is_null()),
        ("bad_timestamp", col("_state").is_null()),
        ("bad_operation", col("_op").is_null()),
        (
            "bad_size",
            w.is_null()
            | h.is_null()
            | (w <= 0)
            | (h <= 0)
            | (col("_input_width") <= 0)
            | (col("_input_height") <= 0),
        ),
        ("bad_count", col("_count").is_null() | (col("_count") <= 0)),
        ("bad_input_images", k < 0),
        ("bad_steps", steps <= 0),
        ("bad_seconds", col("_seconds") <= 0),
        ("bad_prompt_tokens", col("_prompt_tokens") < 0),
        ("bad_input_image_tokens", col("_input_image_tokens") < 0),
    ]
    if has_model:
        row_model = pl.when(col("_model") >= 0).then(col("_model"))
        offer_model = gather(c.offer_model_index, col("_oi"))
        mismatch = col("_model").is_not_null() & (row_model.is_null() | (row_model != offer_model))
        checks.append(("model_mismatch", mismatch))
    return checks


def _offer_checks(c: Compiled) -> list[tuple[str, pl.Expr]]:
    """Checks against the offer and the version in force: retirement, limits, components."""
    w, h = col("_width"), col("_height")
    px = (w * h).cast(pl.Float64)
    longest, shortest = pl.max_horizontal(w, h), pl.min_horizontal(w, h)
    k = col("_input_images")
    steps = col("_steps")
    sizes_ok = pl.lit(False)
    for i in range(c.n_sizes):
        sizes_ok = sizes_ok | ((w == col(f"v_size{i}_w")) & (h == col(f"v_size{i}_h")))
    op_bit = gather(pl.Series([1 << i for i in range(len(OPERATIONS))]), col("_op"))
    return [
        ("model_retired", col("_state") == MODEL_RETIRED),
        ("offer_retired", col("_state") == OFFER_RETIRED),
        ("no_version", col("_state") == NO_VERSION),
        ("operation", (col("v_ops") // op_bit) % 2 == 0),
        ("sizes", col("v_has_sizes") & ~sizes_ok),
        ("max_mp", px > col("v_max_px")),
        ("max_side", longest > col("v_max_side")),
        ("min_side", shortest < col("v_min_side")),
        (
            "multiple_of",
            ((w % col("v_multiple_of")) != 0) | ((h % col("v_multiple_of")) != 0),
        ),
        ("max_inputs", k > col("v_max_input_images")),
        ("min_steps", steps < col("v_min_steps")),
        ("max_steps", steps > col("v_max_steps")),
        ("bracket", col("_bracket").is_null()),
        ("quality_required", col("_q") == -2),
        ("quality_unknown", col("_q") == -1),
        ("no_component", MATCHED.col() == 0),
        (
            "no_seconds",
            GPU.col() & col("_seconds").is_null() & GPU.col("est_s").is_null(),
        ),
        ("no_token_row", TOKENS.col() & TOKENS.col("tokens").is_null()),
        (
            "no_text_price",
            TOKENS.col() & (col("_prompt_tokens") > 0) & TOKENS.col("text").is_null(),
        ),
        ("no_input_tokens", TOKENS.col() & (k > 0) & col("_input_image_tokens").is_null()),
        ("no_image_input_price", TOKENS.col() & (k > 0) & TOKENS.col("in").is_null()),
        (
            "no_steps",
            STEPS.col() & pl.coalesce(steps, STEPS.col("default")).is_null(),
        ),
    ]


def no_overage() -> pl.Expr:
    """``_code``, or ``no_overage`` where a priced call goes beyond a plan without a price."""
    over_missing = (col("_over_qty") > 0) & col("_over_price").is_null()
    return (
        pl.when((col("_code") == 0) & over_missing)
        .then(pl.lit(CODE["no_overage"], dtype=pl.Int64))
        .otherwise(col("_code"))
        .alias("_code")
    )


def no_fx() -> pl.Expr:
    """``_code``, or ``no_fx`` where a priced call has no exchange rate (``_fx`` null)."""
    return (
        pl.when((col("_code") == 0) & col("_fx").is_null())
        .then(pl.lit(CODE["no_fx"], dtype=pl.Int64))
        .otherwise(col("_code"))
        .alias("_code")
    )

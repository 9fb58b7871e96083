"""The columns of a request table: what ``price_requests`` reads, fills in and adds.

A request table has one row per call. :data:`REQUEST_COLUMNS` gives each column's type and
default; the helpers here read a column in that type whatever the table holds (a categorical,
a missing column, an aware timestamp in any zone).
"""

from __future__ import annotations

import polars as pl

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


def typed_column(name: str, schema: pl.Schema) -> pl.Expr:
    """Request column ``name`` in its REQUEST_COLUMNS type, or its default when absent."""
    dtype, default, _ = REQUEST_COLUMNS[name]
    if name not in schema:
        return pl.lit(default, dtype=dtype)
    src = schema[name]
    if src == pl.Categorical or isinstance(src, pl.Enum):
        return pl.col(name).cast(pl.String)
    return pl.col(name).cast(dtype, strict=False)


def text_column(name: str, schema: pl.Schema) -> pl.Expr:
    """A text column to code with an Enum cast: as it is when categorical (the cast then maps
    its few categories, not every row's string), else as String; its default when absent."""
    dtype = schema.get(name)
    if dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return pl.col(name)
    return typed_column(name, schema)


def utc_timestamps(schema: pl.Schema) -> pl.Expr | None:
    """The ``timestamp`` column in UTC microseconds; None when the table has none.

    A naive Datetime is refused (its days are ambiguous); a Date is taken as midnight UTC.
    """
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

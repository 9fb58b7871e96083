"""Request shapes as dense integer keys: equal keys mean rows that cost the same at equal volume.

Logs repeat a few request *shapes*: all that a row's price depends on besides the running
volume (offer, the prices in force on its day, operation, size, count, quality and the other
request numbers). :func:`row_keys` reads what tells shapes apart as integers and packs them
into one Int64 per row (:func:`pricing._vector.shape_index.shape_index` then maps each row's key
to its shape's position among the distinct keys), so that each shape is priced once and its
results gathered back to its rows. :func:`shape_parts` gives the columns a shape is priced from,
read on one row of each shape.

A row's day is not part of its key: its *price segment* is (``Compiled.segments``: the run of
days of its offer on which the same versions are in force), so a log over a quarter has about
as many shapes as one over a day. Only when costs are converted by the day's exchange rate is
the day itself part of the key.
"""

from __future__ import annotations

import weakref

import polars as pl
from polars import col

from pricing._cards.fields import OPERATIONS
from pricing._price.bounds import BOUNDS
from pricing._vector.columns import REQUEST_COLUMNS, text_column
from pricing._vector.compiled import Compiled, gather
from pricing._vector.guard import guarded_value
from pricing._vector.shape_index import dense_codes

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
    """Everything a shape is priced from, as integers (``_seconds``: float).

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
        per_row.append(pl.when(model.is_not_null()).then(_model_index(c, model)).alias("_model"))
    constant: list[pl.Expr] = []
    for source, expr in _request_parts(c, schema).items():
        (per_row if source in schema else constant).append(expr)
    return per_row, constant


def _model_index(c: Compiled, model: pl.Expr) -> pl.Expr:
    """The model's index in the catalog's models; -1 for one it does not know."""
    index = model.cast(pl.Enum(c.model_ids), strict=False).to_physical().cast(pl.Int64)
    return index.fill_null(-1)


def _request_parts(c: Compiled, schema: pl.Schema) -> dict[str, pl.Expr]:
    """Operation, quality and request numbers as integers, by the column they come from."""
    quality = text_column("quality", schema)
    nq = len(c.qualities)
    if c.qualities:
        known = quality.cast(pl.Enum(c.qualities), strict=False).to_physical().cast(pl.Int64)
        gq = pl.when(quality.is_null()).then(pl.lit(nq)).otherwise(known.fill_null(nq + 1))
    else:
        gq = pl.when(quality.is_null()).then(pl.lit(0)).otherwise(pl.lit(1))
    operation = text_column("operation", schema)
    return {
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


#: A part of the key: values ``expr - lo`` in ``[0, radix)``.
_Part = tuple[pl.Expr, int, int]


def row_keys(
    df: pl.DataFrame, c: Compiled, day: pl.Expr, *, by_day: bool
) -> tuple[pl.DataFrame, int]:
    """Each row's pricing day (``_day``) and shape key (``_key``: equal keys, equal prices at
    equal volume), and the keys' span.

    The text columns are coded once (an Enum cast each, :func:`_text_codes`), then every part
    is read as an integer in a range and the parts are packed mixed radix (:func:`_packed`).
    ``_where`` codes the offer and its price segment on the row's day (0: no offer_id, 1: an
    unknown offer, then per offer without a day, then per segment), by one lookup in a table
    of offer x day; the day itself is a part only ``by_day`` (when the day's exchange rate
    applies). The model is read only as far as the price reads it: absent, the offer's, or
    another.
    """
    schema = df.schema
    codes = df.lazy().select(day.alias("_day"), *_text_codes(c, schema)).collect()
    read = [n for n in ("offer_id", "model", "quality", *_NUMBERS) if n in schema]
    frame = df.select(read).hstack(codes.get_columns())
    where_table, match_table = _key_tables(c)
    n_offers, n_days = len(c.offer_ids), c.n_days
    offer = col("_o").cast(pl.Int64)
    where = gather(where_table, offer * (n_days + 1) + _day_position(codes["_day"], c))
    if df["offer_id"].null_count():
        where = pl.when(col("offer_id").is_null()).then(pl.lit(0, dtype=pl.Int64)).otherwise(where)
    parts: list[_Part] = [(where, 0, 2 + n_offers + c.n_segments)]
    if "model" in schema:
        match = gather(match_table, col("_m").cast(pl.Int64) * (n_offers + 1) + offer)
        if df["model"].null_count():
            match = pl.when(col("model").is_null()).then(pl.lit(0, dtype=pl.Int64)).otherwise(match)
        parts.append((match, 0, 3))
    if by_day:
        parts += _number_parts(frame, {"_dayn": col("_day").to_physical().cast(pl.Int64)})
    parts += _text_parts(c, df, codes)
    numbers = {
        f"_{name}": guarded_value(name, schema, REQUEST_COLUMNS[name][1])
        for name in _NUMBERS
        if name in schema
    }
    parts += _number_parts(frame, numbers)
    return _packed(frame, parts)


def _day_position(days: pl.Series, c: Compiled) -> pl.Expr:
    """Column ``_day`` as 1 + its position in the version grid (0: no day)."""
    pos = col("_day").to_physical().cast(pl.Int64) - (c.day0 - 2)
    first, last = days.to_physical().min(), days.to_physical().max()
    if not (isinstance(first, int) and isinstance(last, int)):
        return pos.fill_null(0)  # no day at all
    if first < c.day0 - 1 or last > c.day0 - 2 + c.n_days:
        pos = pos.clip(1, c.n_days)  # before the first day, or after the last change
    return pos.fill_null(0) if days.null_count() else pos


def _text_codes(c: Compiled, schema: pl.Schema) -> list[pl.Expr]:
    """The physical codes of the text columns the table has, each cast once: ``_o`` the offer
    (``len(offer_ids)`` for an unknown or missing one), ``_m`` the model, ``_op`` the operation,
    ``_q`` the quality (the number of names: null, or a name the catalog does not know)."""
    out = [_code(text_column("offer_id", schema), c.offer_ids).alias("_o")]
    for name, values, alias in (
        ("model", c.model_ids, "_m"),
        ("operation", OPERATIONS, "_op"),
        ("quality", c.qualities, "_q"),
    ):
        if name in schema and (values or name != "quality"):
            out.append(_code(text_column(name, schema), values).alias(alias))
    return out


def _code(text: pl.Expr, values: tuple[str, ...] | list[str]) -> pl.Expr:
    """Position of ``text`` among ``values``; ``len(values)`` for null or another text."""
    return text.cast(pl.Enum(values), strict=False).to_physical().fill_null(len(values))


def _text_parts(c: Compiled, df: pl.DataFrame, codes: pl.DataFrame) -> list[_Part]:
    """Operation and quality: a null quality apart from a quality the catalog does not know
    (the offer's default, or a reason)."""
    out: list[_Part] = []
    if "_op" in codes.columns:
        out.append((col("_op").cast(pl.Int64), 0, len(OPERATIONS) + 1))
    if "quality" not in df.columns:
        return out
    nq = len(c.qualities)
    given = col("quality").is_not_null()
    if "_q" not in codes.columns:  # no offer prices by quality: given or not
        return [*out, (given.cast(pl.Int64), 0, 2)] if df["quality"].null_count() else out
    q = col("_q").cast(pl.Int64)
    unknown = (codes["_q"] == nq).sum() - df["quality"].null_count()
    if unknown:  # a quality no offer knows is not the same as none
        q = q + (given & (col("_q") == nq)).cast(pl.Int64)
    return [*out, (q, 0, nq + 2)]


def _number_parts(frame: pl.DataFrame, numbers: dict[str, pl.Expr]) -> list[_Part]:
    """Request numbers (none for a number the same on every row): whole numbers of a narrow
    range as they are (null as one below the least), others numbered densely. A column of
    whole numbers already in its range is read as it is (the guard would leave it so)."""
    plain = {n for n in numbers if n[1:] in frame.columns and frame[n[1:]].dtype.is_integer()}
    exprs = {n: col(n[1:]).cast(pl.Int64) if n in plain else e for n, e in numbers.items()}
    found = frame.lazy().select(
        *(exprs[n].null_count().alias(f"{n}:nulls") for n in exprs),
        *(exprs[n].min().alias(f"{n}:min") for n in exprs),
        *(exprs[n].max().alias(f"{n}:max") for n in exprs),
    )
    stats = found.collect() if exprs else pl.DataFrame()
    out: list[_Part] = []
    for name, expr in exprs.items():
        nulls, lo, hi = (stats[f"{name}:{x}"].item() for x in ("nulls", "min", "max"))
        whole = isinstance(lo, int) and isinstance(hi, int)  # else a float (seconds)
        if name in plain and nulls < frame.height and not _in_bounds(name[1:], lo, hi):
            expr = numbers[name]  # some value out of range: the guard's reading
            again = frame.lazy().select(
                expr.null_count().alias("nulls"), expr.min().alias("lo"), expr.max().alias("hi")
            )
            nulls, lo, hi = again.collect().row(0)
        if nulls == frame.height or (whole and nulls == 0 and lo == hi):
            continue  # the same on every row
        if whole and hi - lo < _WIDE:
            out.append((expr.fill_null(lo - 1) if nulls else expr, lo - 1, hi - lo + 2))
        else:
            dense, radix = dense_codes(frame.lazy().select(expr).collect().to_series())
            out.append((pl.lit(dense), 0, radix))
    return out


def _in_bounds(name: str, lo: int, hi: int) -> bool:
    """Whether numbers from ``lo`` to ``hi`` are all within request number ``name``'s range."""
    bound = BOUNDS[name]
    return (lo > bound.least if bound.above else lo >= bound.least) and hi <= bound.most


def _packed(frame: pl.DataFrame, parts: list[_Part]) -> tuple[pl.DataFrame, int]:
    """``_day`` and the parts packed mixed radix into ``_key``, and the key's span; the key
    is renumbered densely whenever packing one more part could overflow it."""
    terms: list[pl.Expr] = []
    span = 1
    for expr, lo, radix in parts:
        if span * radix >= _KEY_LIMIT:
            packed = pl.sum_horizontal(*terms)
            dense, span = dense_codes(frame.lazy().select(packed).collect().to_series())
            terms = [pl.lit(dense)]
        code = expr - lo if lo else expr  # in [0, radix): never beyond the key's range
        terms.append(code if span == 1 else code * span)
        span *= radix
    key = pl.sum_horizontal(*terms) if terms else pl.repeat(0, pl.len(), dtype=pl.Int64)
    rows = frame.lazy().select("_day", _key=key.cast(pl.Int64)).collect()
    return rows, span


_TABLES: dict[int, tuple[weakref.ref[Compiled], tuple[pl.Series, pl.Series]]] = {}


def _key_tables(c: Compiled) -> tuple[pl.Series, pl.Series]:
    """The code of ``_where`` by (offer, day position + 1; 0: no day) and of the model match
    by (model, offer), an unknown offer or model last in each: built once per catalog."""
    hit = _TABLES.get(id(c))
    if hit is not None and hit[0]() is c:
        return hit[1]
    n_offers, n_days, n_models = len(c.offer_ids), c.n_days, len(c.model_ids)
    cell = pl.int_range((n_offers + 1) * (n_days + 1), dtype=pl.Int64, eager=True)
    offer, pos = cell // (n_days + 1), cell % (n_days + 1)
    # (the unknown offer's cells read past the grid: one more segment, never taken)
    grid = pl.concat([c.segments.cast(pl.Int64), pl.Series([0], dtype=pl.Int64)])
    segment = grid.gather((offer * n_days + pos - 1).clip(0, grid.len() - 1))
    where = (
        pl.select(
            pl.when(offer == n_offers)
            .then(1)
            .when(pos == 0)
            .then(2 + offer)
            .otherwise(2 + n_offers + segment)
        )
        .to_series()
        .cast(pl.Int64)
    )
    pair = pl.int_range((n_models + 1) * (n_offers + 1), dtype=pl.Int64, eager=True)
    model, owner = pair // (n_offers + 1), pair % (n_offers + 1)
    own = pl.concat([c.offer_model_index, pl.Series([-2], dtype=pl.Int64)]).gather(owner)
    match = pl.select(pl.when(own == model).then(1).otherwise(2)).to_series().cast(pl.Int64)
    tables = (where, match)
    key = id(c)
    _TABLES[key] = (weakref.ref(c, lambda _: _TABLES.pop(key, None)), tables)
    return tables


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

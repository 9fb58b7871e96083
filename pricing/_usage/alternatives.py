"""A usage log re-priced on alternative offers, beside what the same calls cost as logged.

By default every call is re-priced on each offer that serves its model with a price the trust
policy allows (hardware-time offers, billed per GPU-second of a private deployment, are not
API alternatives); with ``against`` on the offers given, whatever model they serve
(substitutes). Each batch's re-priced rows are
summed by month, model and offer (:func:`alternative_costs`) and the batches' sums added up
with the saving against the logged cost (:func:`alternatives_frame`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from pricing._base.money import LEDGER_MONEY
from pricing._cards.catalog import Catalog
from pricing._evidence.trust import whole
from pricing._usage.aggregates import ledger_money, summed
from pricing._usage.batches import volume_offers
from pricing._usage.by_shape import CALLS, SHAPE_KEYS
from pricing._vector.requests import price_requests

#: Rows re-priced on volume-priced offers in one call, at least (a group of offers up to
#: twice the chunk's rows, or this many): each call has a fixed cost, and a month's chunk of
#: a few thousand rows would otherwise re-price an offer or two a call.
VOLUME_GROUP_ROWS = 1_000_000

#: Priced rows -> the same rows in another currency (``UsageFx.rows``).
Convert = Callable[[pl.DataFrame], pl.DataFrame]


def alternative_pairs(
    cat: Catalog, in_use: pl.Series, against: Sequence[str] | None
) -> pl.DataFrame:
    """(model, alt_offer) pairs to re-price on, for the models of the offers ``in_use`` (an
    offer the trust policy left no price still names its model)."""
    model_of = {o.id: o.model for _, o in whole(cat).all_offers()}
    used_models = sorted({model_of[o] for o in in_use.to_list() if o in model_of})
    rows: list[tuple[str, str]] = []
    for m in used_models:
        # hardware-time offers (per GPU-second) are deployments, not API alternatives
        targets = (
            list(against)
            if against is not None
            else [o.id for o in cat.offers(model=m) if o.kind != "hardware-time"]
        )
        rows += [(m, t) for t in targets]
    return pl.DataFrame(rows, schema={"_model": pl.String, "alt_offer": pl.String}, orient="row")


def alternative_costs(
    chunk: pl.DataFrame,
    priced: pl.DataFrame,
    pairs: pl.DataFrame,
    cat: Catalog,
    substitute: bool,
    convert: Convert | None = None,
) -> pl.DataFrame:
    """The chunk's rows re-priced on each alternative offer of their model (``pairs``),
    summed by month, model, offer, provider and currency, beside what the same rows cost as
    logged (``priced``). ``convert`` turns re-priced rows into the currency of ``priced``
    (each at its day's rate), so that both sides of a saving are in one currency.

    On an offer without running volumes a call's price depends on its request and day only,
    not on its account or the other calls: the chunk's rows are first summed by request shape
    and day (:func:`_shapes`), and those shapes re-priced on every such alternative in one
    call, each weighing as the rows it stands for. Rows re-priced on offers with running
    volumes (tiers, allowances, plans, minimum spend) are priced row by row, a group of offers
    at a time, each group up to twice the chunk's rows or :data:`VOLUME_GROUP_ROWS` if more
    (every row of an offer in one group: its running volumes need them all), so that memory
    follows the chunk, not the chunk times the alternatives. Offers and models are coded as enums.
    """
    offers = [o for _, o in whole(cat).all_offers()]  # logged offers may be left unpriced
    offer_type = pl.Enum([o.id for o in offers])
    model_type = pl.Enum(sorted({o.model for o in offers}))
    model_of = pl.Series([o.model for o in offers], dtype=model_type)  # by offer position
    code = pl.col("offer_id").cast(offer_type, strict=False).to_physical()
    rows = chunk.with_columns(
        _model=pl.lit(model_of).gather(code),
        _actual=priced["cost"],
        priced_on=priced["priced_on"],
    ).drop("offer_id")
    if substitute:
        rows = rows.drop("model", strict=False)
    models = set(rows["_model"].unique().drop_nulls().to_list())
    serves: dict[str, list[str]] = {}  # alternative offer -> the models it re-prices
    for model, alt in pairs.iter_rows():
        if model in models:
            serves.setdefault(alt, []).append(model)
    volume = volume_offers(cat)
    flat = {alt: ms for alt, ms in serves.items() if alt not in volume}
    sums = [_flat_sums(rows, flat, cat, convert, offer_type)] if flat else []
    sums += _volume_sums(rows, {a: m for a, m in serves.items() if a in volume}, cat, convert)
    if not sums:  # nothing to re-price: the sums of no rows, in their types
        none = _shapes(rows.clear()).with_columns(offer_id=pl.lit(None, dtype=offer_type))
        return _alternative_sums(none, cat, convert)
    return pl.concat(sums)


def _shapes(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` summed by request and day: a timestamp of each (its first row's), the rows
    (``_n``), their images, the rows with a logged cost (``_n_actual``) and that cost summed
    at ledger scale (``_actual``), by every column that prices a call but the time and the
    account. ``rows`` may be shapes already, each standing for its ``_n`` calls
    (:func:`pricing._usage.by_shape.by_shape`)."""
    keys = [c for c in rows.columns if c in SHAPE_KEYS]
    actual = pl.col("_actual")
    if CALLS in rows.columns:  # calls by shape: each row weighs as the calls it stands for
        n = pl.col(CALLS)
        sums = [
            n.sum().alias("_n"),
            (_count(rows.columns) * n).sum().alias("_images"),
            (actual.is_not_null().cast(pl.UInt32) * n).sum().alias("_n_actual"),
            (ledger_money(actual) * n).sum().cast(LEDGER_MONEY).alias("_actual"),
        ]
    else:
        sums = [
            pl.len().alias("_n"),
            _images(rows.columns),
            actual.is_not_null().sum().alias("_n_actual"),
            ledger_money(actual).sum().alias("_actual"),
        ]
    return (
        rows.lazy()
        .group_by("priced_on", "_model", *keys)
        .agg(pl.col("timestamp").first(), *sums)
        .collect()
    )


def _images(columns: list[str]) -> pl.Expr:
    """A group's images: its calls' ``count`` summed, or its calls where the log has no count
    column (one image each; not ``lit(1).sum()``, which is 1 whatever the group)."""
    return (pl.col("count").sum() if "count" in columns else pl.len().cast(pl.Int64)).alias(
        "_images"
    )


def _count(columns: list[str]) -> pl.Expr:
    """The images of each call: its ``count``, or one where the log has no count column."""
    return pl.col("count") if "count" in columns else pl.lit(1, dtype=pl.Int64)


def _flat_sums(
    rows: pl.DataFrame,
    serves: dict[str, list[str]],
    cat: Catalog,
    convert: Convert | None,
    offer_type: pl.Enum,
) -> pl.DataFrame:
    """The rows' shapes re-priced on the offers ``serves`` (without running volumes) at once."""
    shapes = _shapes(rows)
    on = pl.DataFrame(
        [(m, alt) for alt, ms in serves.items() for m in ms],
        schema={"_model": shapes.schema["_model"], "offer_id": offer_type},
        orient="row",
    )
    return _alternative_sums(shapes.join(on, on="_model"), cat, convert)


def _volume_sums(
    rows: pl.DataFrame, serves: dict[str, list[str]], cat: Catalog, convert: Convert | None
) -> list[pl.DataFrame]:
    """The rows re-priced row by row on offers with running volumes (``serves``), a group of
    offers at a time (see :func:`alternative_costs`)."""
    if not serves:
        return []
    if CALLS in rows.columns:  # by_shape leaves such chunks call by call
        raise ValueError("calls summed by shape cannot be re-priced on volume-priced offers")
    by_model = {m: part for (m,), part in rows.partition_by("_model", as_dict=True).items()}
    groups: list[list[str]] = [[]]
    size = 0
    for alt, models in serves.items():
        n = sum(by_model[m].height for m in models)
        if groups[-1] and size + n > max(2 * rows.height, VOLUME_GROUP_ROWS):
            groups.append([])
            size = 0
        groups[-1].append(alt)
        size += n
    offer_type = pl.Enum(sorted(serves))
    return [
        _alternative_sums(
            pl.concat(
                [
                    by_model[m].with_columns(
                        offer_id=pl.lit(alt, dtype=offer_type),
                        _n=pl.lit(1, dtype=pl.UInt32),
                        _images=_count(rows.columns),
                        _n_actual=pl.col("_actual").is_not_null().cast(pl.UInt32),
                        _actual=ledger_money(pl.col("_actual")).fill_null(0),
                    )
                    for alt in group
                    for m in serves[alt]
                ]
            ),
            cat,
            convert,
        )
        for group in groups
        if group
    ]


def _alternative_sums(long: pl.DataFrame, cat: Catalog, convert: Convert | None) -> pl.DataFrame:
    """``long`` (rows or shapes with an alternative ``offer_id``, ``_model``, the rows each
    stands for ``_n``, their images, the rows with a logged cost ``_n_actual`` and that cost
    ``_actual``) re-priced (and converted) and summed."""
    again = price_requests(long.drop("priced_on"), cat)
    if convert is not None:
        again = convert(again)
    priced = pl.col("reason").is_null()
    cost = ledger_money(pl.col("cost"))
    keys = ["_model", "offer_id", "provider", "currency"]
    return (
        again.lazy()
        .group_by("priced_on", *keys)
        .agg(
            requests=pl.col("_n").sum().cast(pl.UInt32),
            images=pl.col("_images").filter(priced).sum(),
            cost=pl.when(pl.col("cost").is_not_null().any()).then((cost * pl.col("_n")).sum()),
            unpriced=pl.col("_n").filter(~priced).sum().cast(pl.UInt32),
            actual_cost=pl.col("_actual").filter(priced).sum(),
            alt_cost_same_rows=(cost * pl.col("_n_actual")).filter(priced).sum(),
        )
        .group_by(
            pl.col("priced_on").dt.truncate("1mo").alias("month"),
            pl.col("_model").cast(pl.String).alias("model"),
            *[pl.col(k).cast(pl.String) for k in keys[1:]],
        )
        .agg(
            pl.col("requests", "images", "unpriced", "actual_cost", "alt_cost_same_rows").sum(),
            cost=pl.when(pl.col("cost").is_not_null().any()).then(pl.col("cost").sum()),
        )
        .collect()
    )


def alternatives_frame(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The batches' :func:`alternative_costs` added up, with the saving against the logged
    cost of the same rows (``saving``, ``saving_pct``): ``Replay.alternatives``."""
    keys = ["month", "model", "offer_id", "provider", "currency"]
    if not parts:
        return pl.DataFrame(schema=_ALT_SCHEMA)
    frame = summed(parts, keys)
    saving = pl.col("actual_cost") - pl.col("alt_cost_same_rows")
    return frame.with_columns(
        saving=saving,
        saving_pct=pl.when(pl.col("actual_cost") != 0).then(
            saving.cast(pl.Float64) / pl.col("actual_cost").cast(pl.Float64) * 100
        ),
    ).sort(["month", "model", "cost", "offer_id"], nulls_last=True)


_ALT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "month": pl.Date,
    "model": pl.String,
    "offer_id": pl.String,
    "provider": pl.String,
    "currency": pl.String,
    "requests": pl.UInt32,
    "images": pl.Int64,
    "cost": LEDGER_MONEY,
    "unpriced": pl.UInt32,
    "actual_cost": LEDGER_MONEY,
    "alt_cost_same_rows": LEDGER_MONEY,
    "saving": LEDGER_MONEY,
    "saving_pct": pl.Float64,
}

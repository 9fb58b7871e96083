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
from pricing._usage.aggregates import ledger_money, priced_sum, summed
from pricing._vector.requests import price_requests

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

    The alternatives are priced a group of offers at a time, each group up to about twice
    the chunk's rows (every row of an offer in one group: its running volumes need them
    all), so that memory follows the chunk, not the chunk times the alternatives; fewer,
    bigger groups would save little time (a call has a fixed cost of about 50 ms). Offers
    and models are coded as enums, each re-priced row takes its logged cost by position,
    and sums run by day on the coded keys before months and text.
    """
    offers = [o for _, o in whole(cat).all_offers()]  # logged offers may be left unpriced
    offer_type = pl.Enum([o.id for o in offers])
    model_type = pl.Enum(sorted({o.model for o in offers}))
    model_of = pl.Series([o.model for o in offers], dtype=model_type)  # by offer position
    code = pl.col("offer_id").cast(offer_type, strict=False).to_physical()
    rows = chunk.with_columns(
        _row=pl.int_range(pl.len(), dtype=pl.UInt32),
        _model=pl.lit(model_of).gather(code),
    ).drop("offer_id")
    if substitute:
        rows = rows.drop("model", strict=False)
    by_model = {m: part for (m,), part in rows.partition_by("_model", as_dict=True).items()}
    serves: dict[str, list[str]] = {}  # alternative offer -> the models it re-prices
    for model, alt in pairs.iter_rows():
        if model in by_model:
            serves.setdefault(alt, []).append(model)
    groups: list[list[str]] = [[]]
    size = 0
    for alt, models in serves.items():
        n = sum(by_model[m].height for m in models)
        if groups[-1] and size + n > 2 * max(chunk.height, 1):  # see the docstring
            groups.append([])
            size = 0
        groups[-1].append(alt)
        size += n
    sums = [
        _alternative_sums(
            pl.concat(
                [
                    by_model[m].with_columns(offer_id=pl.lit(alt, dtype=offer_type))
                    for alt in group
                    for m in serves[alt]
                ]
            ),
            priced["cost"],
            cat,
            convert,
        )
        for group in groups
        if group
    ]
    if not sums:  # nothing to re-price: the sums of no rows, in their types
        none = rows.clear().with_columns(offer_id=pl.lit(None, dtype=offer_type))
        return _alternative_sums(none, priced["cost"], cat, convert)
    return pl.concat(sums)


def _alternative_sums(
    long: pl.DataFrame, actual: pl.Series, cat: Catalog, convert: Convert | None
) -> pl.DataFrame:
    """``long`` (rows with an alternative ``offer_id``, ``_model`` and ``_row``, their
    position in the chunk) re-priced (and converted) and summed, beside their ``actual``
    logged costs."""
    again = price_requests(long, cat)
    if convert is not None:
        again = convert(again)
    both = pl.col("reason").is_null() & pl.col("_actual").is_not_null()
    keys = ["_model", "offer_id", "provider", "currency"]
    return (
        again.lazy()
        .with_columns(_actual=pl.lit(actual).gather(pl.col("_row")))
        .group_by("priced_on", *keys)
        .agg(
            requests=pl.len(),
            images=pl.col("count").filter(pl.col("reason").is_null()).sum(),
            cost=priced_sum(pl.col("cost")),
            unpriced=pl.col("reason").is_not_null().sum(),
            actual_cost=ledger_money(pl.col("_actual").filter(both)).sum(),
            alt_cost_same_rows=ledger_money(pl.col("cost").filter(both)).sum(),
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

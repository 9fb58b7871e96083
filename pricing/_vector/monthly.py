"""Running monthly volumes: rows priced again with the images already billed in their month.

Tiers, free allowances, plans and minimum spend follow the running image volume per account,
offer and calendar month, in timestamp order. :func:`monthly_offers` says which offers run
one; :func:`monthly_rows` prices the rows on them again, each with the images counted before
it in its month (``_prior``) and the month's minimum-spend top-up on its last priced row.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from polars import col

from pricing._base.dates import day_of
from pricing._vector.checks import no_fx, no_overage
from pricing._vector.columns import REQUEST_COLUMNS, typed_column
from pricing._vector.compiled import Compiled
from pricing._vector.guard import guarded_value
from pricing._vector.shapes import AGAIN_INPUTS, outputs, volume_inputs, volume_parts

#: Columns that follow the running volume, recomputed on rows of offers that run one.
MONTHLY_OUTPUTS = ["prior_images", "list_cost", "cost", "cost_high", "fee", "top_up", "reason"]


@dataclass(frozen=True)
class MonthlyRows:
    """The rows of a request table that are priced again with their running volume."""

    at: pl.Series  # the positions of the rows whose offer runs a monthly volume or minimum
    shape_of: pl.Series  # their shapes (positions in the table of priced shapes)
    ts: pl.Expr | None  # the table's UTC timestamps, if it has them
    ts_day: pl.Expr  # the day of each row (the one day priced when there are no timestamps)


def monthly_offers(c: Compiled, minimum_spend: bool) -> pl.Series:
    """Per offer index: whether a version of the offer runs a monthly volume or minimum."""
    v = c.versions
    runs = v["v_needs_volume"]
    if minimum_spend:
        runs = runs | v["v_minimum"].is_not_null()
    offers = set(v.filter(runs)["v_offer"].to_list())
    return pl.Series([i in offers for i in range(len(c.offer_ids))], dtype=pl.Boolean)


def monthly_rows(
    df: pl.DataFrame,
    rows: MonthlyRows,
    shapes: pl.DataFrame,
    c: Compiled,
    *,
    committed: bool,
    minimum_spend: bool,
) -> pl.DataFrame:
    """The volume-dependent outputs of the ``rows`` on offers with running volumes.

    Every priced call counts towards its account's month on the offer, whichever version
    priced it; the images before a row (``_prior``) are summed in timestamp order, ties broken
    by a hash of the whole input row so that row order never matters. Only tied rows are
    hashed: the others' order does not depend on it.
    """
    # the shapes' parameters: a literal where all monthly shapes agree, else gathered per row
    # (those all in one gather)
    monthly = shapes.filter("_monthly")
    names = [*AGAIN_INPUTS, *volume_inputs(c, committed)]
    alike = {n for n in names if monthly[n].n_unique() == 1}
    varied = [n for n in names if n not in alike]
    gathered = shapes.select(varied).gather(rows.shape_of) if varied else shapes.clear()
    param = {
        n: pl.lit(monthly[n][0], dtype=shapes[n].dtype) if n in alike else pl.lit(gathered[n])
        for n in names
    }
    frame = _volume_frame(df, rows, param["_oi"], param["_code0"], len(c.offer_ids))
    frame, tb = _with_prior(frame, df, rows.at)
    lf = frame.lazy().select(
        "_ts",
        "_group",
        "_count",
        *(value.alias(n) for n, value in param.items()),
        _tb=tb,
        _prior=pl.when(param["v_needs_volume"]).then(col("_prior")),
        _code=param["_code0"],
    )
    order = ["_ts", "_tb"] if rows.ts is not None else ["_tb"]
    lf = lf.with_columns(volume_parts(c, committed))
    lf = lf.with_columns(no_overage())
    lf = lf.with_columns(_top_up=_top_up(c, minimum_spend, order))
    lf = lf.with_columns(no_fx())
    columns = outputs(c, pl.lit(None))
    return lf.select(columns[n].alias(n) for n in MONTHLY_OUTPUTS).collect()


def _volume_frame(
    df: pl.DataFrame, rows: MonthlyRows, oi: pl.Expr, code0: pl.Expr, n_offers: int
) -> pl.DataFrame:
    """The rows' ``_ts``, ``_group`` (one integer per account, offer ``oi`` and month),
    ``_count`` and ``_counted`` (the images that count towards the month: priced calls')."""
    schema = df.schema
    # a null account is the default account (as when there is no column); a row without a
    # month has a month 0
    default = REQUEST_COLUMNS["account"][1]
    account = (
        typed_column("account", schema)
        .fill_null(default)
        .cast(pl.Categorical)
        .to_physical()
        .cast(pl.Int64)
    )
    used = [n for n in ("timestamp", "account", "count") if n in schema]
    frame = df.select(used).gather(rows.at) if used else pl.DataFrame({"_at": rows.at})
    ts = rows.ts
    frame = frame.with_columns(
        _ts=ts if ts is not None else pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    )
    if ts is not None:
        month = pl.lit(_months(frame.select(day_of(col("_ts"))).to_series()))
    else:  # every row on the one day priced
        month = rows.ts_day.dt.year().cast(pl.Int64) * 12 + rows.ts_day.dt.month().cast(pl.Int64)
    count = guarded_value("count", schema, REQUEST_COLUMNS["count"][1])
    return frame.with_columns(
        # one integer per (account, offer, month): cheaper to partition on than a struct
        _group=(account * (n_offers + 1) + oi) * 1_000_000 + month.fill_null(0),
        _count=count,
        _counted=pl.when(code0 == 0).then(count).otherwise(0),
    ).select("_ts", "_group", "_count", "_counted")


def _with_prior(
    frame: pl.DataFrame, df: pl.DataFrame, at: pl.Series
) -> tuple[pl.DataFrame, pl.Series]:
    """``frame`` with ``_prior``, the images before each row in its group, in time order;
    and the tie-breaker ``_tb`` of rows at the same time (a hash of the input row ``at``)."""
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
    return frame, tb


def _top_up(c: Compiled, minimum_spend: bool, order: list[str]) -> pl.Expr:
    """Month-level minimum spend, on the month's last priced row (in ``order``); else 0."""
    if not (c.has_minimum and minimum_spend):
        return pl.lit(0.0)
    priced = col("_code") == 0
    part = pl.struct("_group", priced)
    month_total = pl.when(priced).then(col("_total")).otherwise(0.0).sum().over(part)
    is_last = pl.int_range(pl.len()).over(part, order_by=order) == pl.len().over(part) - 1
    return (
        pl.when(priced & is_last & col("v_minimum").is_not_null())
        .then(pl.max_horizontal(col("v_minimum") - month_total, pl.lit(0.0)))
        .otherwise(0.0)
    )


def _months(days: pl.Series) -> pl.Series:
    """``year * 12 + month`` of each day (Date), looked up in a table of the days spanned."""
    n = days.cast(pl.Int32)
    lo, hi = n.min(), n.max()
    if not isinstance(lo, int) or not isinstance(hi, int) or hi - lo > 1_000_000:
        return days.dt.year().cast(pl.Int64) * 12 + days.dt.month().cast(pl.Int64)
    table = pl.int_range(lo, hi + 1, dtype=pl.Int32, eager=True).cast(pl.Date)
    month = table.dt.year().cast(pl.Int64) * 12 + table.dt.month().cast(pl.Int64)
    return month.gather((n - lo).cast(pl.UInt32))

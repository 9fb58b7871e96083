"""Vectorised pricing of request tables: every unit and rule of ``quote()`` as polars expressions.

A request table has one row per call (its columns: :mod:`pricing._vector.columns`). Each row
is priced with the price version in force on its own day (the one ``quote()`` would pick), and
monthly tiers, free allowances, plan allowances and minimum spend follow the running image
volume per account, offer and calendar month, in timestamp order. Nothing here loops over rows
in Python: parameters are gathered from the dense tables of :mod:`pricing._vector.compiled` by
computed indices, then combined by expressions.

Logs repeat a few request *shapes* (:mod:`pricing._vector.shape_keys`). Each distinct shape is
priced once (:mod:`pricing._vector.shapes`; the version in force and the FX rate are looked up
per shape, not per row) and its results are gathered back to its rows; only rows on offers
that run monthly volumes or minimums are then ordered within their month and priced again with
the images already billed (:mod:`pricing._vector.monthly`), in a thread of their own while the
other columns are gathered.

Money is float64 here, unrounded; a property test proves agreement with ``quote()`` (Decimal).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import overload

import polars as pl
from polars import col

from pricing._base.dates import day_of, to_date
from pricing._cards.catalog import Catalog
from pricing._dataset import DataSet, pick_catalog
from pricing._evidence.grades import TrustPolicy
from pricing._evidence.trust import trusted
from pricing._vector.columns import (
    FILLED_COLUMNS,
    PRICED_COLUMNS,
    REQUEST_COLUMNS,
    text_column,
    utc_timestamps,
)
from pricing._vector.compiled import Compiled, FxGrid, compile_catalog, fx_grid, gather
from pricing._vector.fallback import with_fallbacks
from pricing._vector.guard import check_rates, finite_money
from pricing._vector.monthly import MonthlyRows, monthly_offers, monthly_rows
from pricing._vector.reasons import UNKNOWN_OFFER
from pricing._vector.shape_keys import (
    edit_inputs,
    shape_domains,
    shape_index,
    shape_key,
    shape_parts,
)
from pricing._vector.shapes import price_shapes
from pricing.errors import PricingError

#: Columns of a priced shape that rows take as they are (``priced_on`` is the row's own day).
_SHAPE_OUTPUTS = [n for n in PRICED_COLUMNS if n != "priced_on"]


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
    data: DataSet | None = ...,
    evidence: TrustPolicy | str | None = ...,
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
    data: DataSet | None = ...,
    evidence: TrustPolicy | str | None = ...,
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
    data: DataSet | None = None,
    evidence: TrustPolicy | str | None = None,
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
    fx : DataFrame, optional
        Exchange rates as :func:`pricing.load_fx` returns them (default: the catalog's
        data directory's, or ``data.fx``).
    max_fx_age_days : int  [days]
        Oldest rate accepted for a row's day.
    data : DataSet, optional
        The data set to price with: its catalog and FX rates (instead of ``catalog``/``fx``).
    evidence : TrustPolicy or str, optional
        Which prices may be used (default: official, provider and third-party prices with no
        excluding flag; a price stale on ``as_of`` (default today) prices the days before it
        turned stale only; ``"all"``: every price). A row whose offer has no trusted price
        that day is left unpriced, with the excluded prices and their reasons in ``reason``.

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
    full = pick_catalog(catalog, data)
    if fx is None and data is not None:
        fx = data.fx
    day = to_date(as_of) if as_of is not None else None
    trust = trusted(full, evidence, day)
    cat = trust.catalog
    compiled = compile_catalog(cat)
    if offers is not None:
        offers = list(offers)
        for offer_id in offers:
            full.offer(offer_id)  # raises with close-match hints
    if currency is not None and not (len(currency) == 3 and currency.isupper()):
        raise PricingError(f"currency {currency!r} is not an ISO 4217 code such as 'USD'")
    if currency is not None and fx is not None:
        check_rates(fx)
    grid = fx_grid(cat, compiled, currency, fx, max_fx_age_days) if currency else None
    engine = _Engine(
        compiled,
        dropped=trust.dropped,
        offers=offers,
        day=day,
        currency=currency,
        committed=committed,
        minimum_spend=minimum_spend,
        fx_grid=grid,
    )
    if isinstance(requests, pl.LazyFrame):
        # Shapes and months span the whole table, so the plan prices it in one piece. Pricing
        # an empty table of the same schema checks the columns now and gives the output schema.
        schema = engine.price(pl.DataFrame(schema=requests.collect_schema())).schema
        return requests.map_batches(engine.price, schema=schema, streamable=False)
    return engine.price(requests)


# --------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class _Engine:
    """The terms of one ``price_requests`` call, and the pricing of a table on them."""

    compiled: Compiled
    dropped: dict[str, str]
    offers: list[str] | None
    day: date | None
    currency: str | None
    committed: bool
    minimum_spend: bool
    fx_grid: FxGrid | None

    def price(self, df: pl.DataFrame) -> pl.DataFrame:
        """The priced table (see :func:`price_requests`), in the input's row order."""
        c = self.compiled
        df = _with_offers(df, self.offers)
        schema = df.schema
        names = df.columns
        df = _pieces(df)
        ts = utc_timestamps(schema)
        ts_day = day_of(ts) if ts is not None else pl.lit(self.day or to_date(None), dtype=pl.Date)
        price_day = pl.lit(self.day, dtype=pl.Date) if self.day is not None else ts_day
        oi = (
            text_column("offer_id", schema)
            .cast(pl.Enum(c.offer_ids), strict=False)
            .to_physical()
            .cast(pl.Int64)
        )
        base = {"_oi": oi, "_day": price_day}

        # 1. per row: one integer key per distinct shape
        parts, constant = shape_parts(c, schema)
        lf = df.lazy().with_columns(**base)
        key, span = shape_key(lf, df.height, parts, shape_domains(c))
        rows = lf.with_columns(_key=key).select("_day", "_key").collect()
        first = rows["_key"].arg_unique()
        distinct = rows["_key"].gather(first)

        # 2. per shape: reasons and money, the running volume taken as zero
        out_names = [*_SHAPE_OUTPUTS, *([] if "model" in names else ["model"])]
        shape_in = (
            df.gather(first)
            .lazy()
            .with_columns(**base)
            .select(*parts, *constant)
            .with_columns(edit_inputs())
            .with_columns(_lookups(c, self.fx_grid))
            .collect()
        )
        shapes = self._price_shapes(shape_in, out_names, has_model="model" in names)

        # 3. back to the rows; rows on offers with running volumes are priced again in order
        shape = shape_index(distinct, span, rows.height)
        priced = self._to_rows(df, rows, shape, shapes, out_names, ts, ts_day)

        added = [n for n in FILLED_COLUMNS if n not in names]
        out = df.select(n for n in names if n not in PRICED_COLUMNS).with_columns(
            priced["model"] if n == "model" else pl.lit(default, dtype=dtype).alias(n)
            for n in added
            for dtype, default, _ in [REQUEST_COLUMNS[n]]
        )
        out = out.with_columns(
            rows["_day"].alias(n) if n == "priced_on" else priced[n] for n in PRICED_COLUMNS
        )
        return finite_money(self._say_dropped(out))

    def _say_dropped(self, out: pl.DataFrame) -> pl.DataFrame:
        """Rows on offers the trust policy left no price: why, instead of "unknown offer".
        Only the rows with that reason are touched (a lookup on them, not on the table)."""
        if not self.dropped or "offer_id" not in out.columns:
            return out
        unknown = (out["reason"] == UNKNOWN_OFFER).fill_null(False)
        if not unknown.any():
            return out
        rows = unknown.arg_true()
        why = (
            out["offer_id"].gather(rows).cast(pl.String).replace_strict(self.dropped, default=None)
        )
        known = why.is_not_null()
        reason = out["reason"].clone()
        reason.scatter(rows.filter(known), why.filter(known).cast(reason.dtype))
        return out.with_columns(reason)

    def _price_shapes(
        self, shape_in: pl.DataFrame, out_names: list[str], *, has_model: bool
    ) -> pl.DataFrame:
        """Each shape priced on its primary version, or the next one that can price it."""
        c = self.compiled
        price = partial(
            price_shapes,
            c=c,
            names=out_names,
            has_model=has_model,
            committed=self.committed,
            currency=self.currency,
            fx_grid=self.fx_grid,
            monthly_offers=monthly_offers(c, self.minimum_spend),
        )
        return with_fallbacks(shape_in, c, price)

    def _to_rows(
        self,
        df: pl.DataFrame,
        rows: pl.DataFrame,
        shape: pl.Expr,
        shapes: pl.DataFrame,
        out_names: list[str],
        ts: pl.Expr | None,
        ts_day: pl.Expr,
    ) -> dict[str, pl.Series | pl.Expr]:
        """The priced columns ``out_names`` of every row, from its ``shape``'s; rows on offers
        with running volumes are priced again in order (in a thread of their own)."""
        monthly = shapes["_monthly"]
        mapped = (
            rows.lazy()
            .select(
                shape.alias("_shape"),
                *([gather(monthly, shape).alias("_in")] if monthly.any() else []),
            )
            .collect()
        )
        shape_of = mapped["_shape"]
        in_month = mapped["_in"] if "_in" in mapped.columns else None
        if in_month is None or not in_month.any():
            return _spread(shapes.select(out_names), shape_of)
        at = in_month.arg_true()
        again_rows = MonthlyRows(in_month, at, shape_of.filter(in_month), ts, ts_day)
        # the rows of monthly offers are priced again in a thread of their own (polars frees
        # the interpreter while it works), while this one spreads the shapes' columns
        with ThreadPoolExecutor(1) as pool:
            job = pool.submit(
                monthly_rows,
                df,
                again_rows,
                shapes,
                self.compiled,
                committed=self.committed,
                minimum_spend=self.minimum_spend,
            )
            priced = _spread(shapes.select(out_names), shape_of)
            again = job.result()
        # monthly outputs: the shape's, or the row's own where priced again (every row of a
        # monthly shape is, so the shape's value is only a placeholder there)
        _overwrite(priced, shapes, shape_of, at, again, shapes.filter(~monthly))
        return priced


def _with_offers(df: pl.DataFrame, offers: list[str] | None) -> pl.DataFrame:
    """The table in long form on ``offers`` (rows x offers), or as it is; it needs offer ids."""
    if offers is not None:
        if "offer_id" in df.columns:
            raise PricingError(
                "the requests already have an offer_id column; drop it to re-price on offers=, "
                "or leave offers=None to price each row on its own offer"
            )
        on = pl.DataFrame({"offer_id": offers}, schema={"offer_id": pl.String})
        return df.join(on, how="cross", maintain_order="left_right")
    if "offer_id" not in df.columns:
        raise PricingError(
            "the requests have no offer_id column; add one (see `pricing cards list`) "
            "or pass offers=[...] to price every row on given offers"
        )
    return df


def _lookups(c: Compiled, fx_grid: FxGrid | None) -> list[pl.Expr]:
    """A shape's ``_state`` (the version in force or a negative grid code; null: no day or no
    offer) and ``_fpos`` (its day's position in the FX grid), from ``_oi`` and ``_dayn``."""
    day = col("_dayn")
    pos = (day - c.day0 + 1).clip(0, c.n_days - 1)
    oi = pl.when(col("_oi") >= 0).then(col("_oi"))
    out = [gather(c.grid, oi * c.n_days + pos).cast(pl.Int64).alias("_state")]
    if fx_grid is not None:
        _, first_day, length, _ = fx_grid
        out.append((day - first_day + 1).clip(0, length - 1).alias("_fpos"))
    return out


def _pieces(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` in one chunk per thread (zero-copy slices), so that per-row work runs on all cores.

    Polars evaluates an expression chunk by chunk in parallel; a table in one chunk (as most
    are after reading a file) would otherwise keep string lookups on a single core.
    """
    threads = pl.thread_pool_size()
    if threads < 2 or df.height < 100_000 or df.n_chunks() >= threads:
        return df
    size = -(-df.height // threads)
    return pl.concat([df.slice(i, size) for i in range(0, df.height, size)], rechunk=False)


def _spread(table: pl.DataFrame, index: pl.Series) -> dict[str, pl.Series | pl.Expr]:
    """Columns ``table[index]``; a literal for a column whose values are all one value.

    The table is small (one row per shape), so the gathers are cheap; those that write a
    column are done together, which spreads them over the cores. A column equal to an
    earlier one (``cost`` and ``list_cost`` without discounts) shares its memory.
    """
    out: dict[str, pl.Series | pl.Expr] = {}
    many: list[str] = []
    twins: dict[str, str] = {}
    for name in table.columns:
        column = table[name]
        if table.height and _single(column):
            out[name] = pl.lit(column[0], dtype=column.dtype).alias(name)
            continue
        twin = next((m for m in many if _same(table[m], column)), None)
        if twin is None:
            many.append(name)
        else:
            twins[name] = twin
    gathered = table.select(many).gather(index) if many else pl.DataFrame()
    for name in many:
        out[name] = gathered.drop_in_place(name)  # its only owner, so it can be written over
    for name, twin in twins.items():
        out[name] = out[twin].alias(name)
    return out


def _same(a: pl.Series, b: pl.Series) -> bool:
    """Whether two columns hold the same values (nulls alike) in the same type."""
    return a.dtype == b.dtype and a.equals(b, check_names=False, null_equal=True)


def _overwrite(
    spread: dict[str, pl.Series | pl.Expr],
    table: pl.DataFrame,
    index: pl.Series,
    at: pl.Series,
    again: pl.DataFrame,
    others: pl.DataFrame,
) -> None:
    """Write the rows priced ``again`` (at positions ``at``) over the ``spread`` columns.

    ``others`` are the table's rows that the other rows point to: a column whose values on
    those and on the rows priced again are all one value becomes a literal. A column that
    equals one written before it, on the table and on the rows priced again, shares its
    memory.
    """
    written: list[str] = []
    for name in again.columns:
        parts = [part for part in (again[name], others[name]) if part.len()]
        firsts = pl.concat([part.head(1) for part in parts])
        if all(_single(v) for v in [*parts, firsts]):
            spread[name] = pl.lit(firsts[0], dtype=firsts.dtype).alias(name)
            continue
        twin = next(
            (w for w in written if _same(table[w], table[name]) and _same(again[w], again[name])),
            None,
        )
        if twin is not None:
            spread[name] = spread[twin].alias(name)
            continue
        column = spread.pop(name)
        if isinstance(column, pl.Expr):  # one value on the shapes, not on the rows priced again
            column = table[name].gather(index)
        spread[name] = column.scatter(at, again[name])
        written.append(name)


def _single(values: pl.Series) -> bool:
    """Whether all ``values`` are one value (bit for bit), or all null."""
    nulls = values.null_count()
    if nulls:
        return nulls == values.len()
    if values.dtype.is_float():  # equal and not NaN, and zeros of one sign
        lo, hi = values.min(), values.max()
        if lo != hi or values.is_nan().any():
            return False
        infinities = 1.0 / values  # zeros of one sign give infinities of one sign
        return lo != 0 or infinities.min() == infinities.max()
    if values.dtype.is_integer():
        return bool(values.min() == values.max())
    return values.n_unique() == 1

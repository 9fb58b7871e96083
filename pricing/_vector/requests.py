"""Vectorised pricing of request tables: every unit and rule of ``quote()`` as polars expressions.

A request table has one row per call (its columns: :mod:`pricing._vector.columns`). Each row
is priced with the price version in force on its own day (the one ``quote()`` would pick), and
monthly tiers, free allowances, plan allowances and minimum spend follow the running image
volume per account, offer and calendar month, in timestamp order. Nothing here loops over rows
in Python: parameters are gathered from the dense tables of :mod:`pricing._vector.compiled` by
computed indices, then combined by expressions.

Logs repeat a few request *shapes* (:mod:`pricing._vector.shape_keys`; a row's day is part of
its shape only through the prices in force that day). Each distinct shape is priced once
(:mod:`pricing._vector.shapes`; the version in force and the FX rate are looked up per shape,
not per row); only rows on offers that run monthly volumes or minimums are then ordered within
their month and priced again with the images already billed (:mod:`pricing._vector.monthly`),
in a thread of their own while the columns that do not follow the volume are written. Every
output column of every row is one gather from a small table: of priced shapes, and of rows
priced again for the columns that follow the volume (:mod:`pricing._vector.spread`).

Money is float64 here, unrounded; a property test proves agreement with ``quote()`` (Decimal).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from os import PathLike
from typing import Literal, overload

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
from pricing._vector.monthly import MONTHLY_OUTPUTS, MonthlyRows, monthly_offers, monthly_rows
from pricing._vector.ray_price import RayTerms, check_engine, price_on_ray
from pricing._vector.reasons import UNKNOWN_OFFER
from pricing._vector.shape_index import shape_index
from pricing._vector.shape_keys import edit_inputs, row_keys, shape_parts
from pricing._vector.shapes import price_shapes
from pricing._vector.spread import Table, priced_table, spread
from pricing.errors import PricingError

#: Columns of a priced shape that rows take as they are (``priced_on`` is the row's own day).
_SHAPE_OUTPUTS = [n for n in PRICED_COLUMNS if n != "priced_on"]
#: What ``engine="ray"`` prices: a frame, or a Parquet file or directory (a path or a URL).
RayRequests = pl.DataFrame | pl.LazyFrame | str | PathLike[str]


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
    engine: Literal["local"] = ...,
    address: None = ...,
    out: None = ...,
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
    engine: Literal["local"] = ...,
    address: None = ...,
    out: None = ...,
) -> pl.LazyFrame: ...
@overload
def price_requests(
    requests: RayRequests,
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
    engine: Literal["ray"],
    address: str | None = ...,
    out: str | PathLike[str] | None = ...,
) -> pl.DataFrame: ...
def price_requests(
    requests: RayRequests,
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
    engine: Literal["local", "ray"] = "local",
    address: str | None = None,
    out: str | PathLike[str] | None = None,
) -> pl.DataFrame | pl.LazyFrame:
    """Price every row of a request table; a LazyFrame in gives a LazyFrame out.

    Parameters
    ----------
    requests : DataFrame or LazyFrame, or with ``engine="ray"`` a Parquet path or URL
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

    engine : {"local", "ray"}
        ``"local"``: in this process. ``"ray"``: on a Ray cluster (``pip install
        'pricing[ray]'``), which also reads ``requests`` given as a Parquet file or directory
        (Hive-partitioned or not), on this machine or in object storage (``"s3://bucket/
        usage/"``); rows on offers with running monthly volumes are priced in one call per
        (account, offer, month), the others batch by batch. The answer is the local engine's.
    address : str, optional
        With ``engine="ray"``: the cluster (``"ray://head:10001"``, ``"auto"``; default: the
        one connected to, ``RAY_ADDRESS``, or a local one for the call).
    out : str, optional
        With ``engine="ray"``: a new or empty directory (or URL) the workers write the priced
        rows to as Parquet files, in no order and with categorical columns as text; the rows
        never come to this process, which gets the files' ``path`` and ``rows`` instead.

    Returns
    -------
    With ``engine="ray"``: a DataFrame, whatever came in, its rows in the order of the
    requests (a directory's files laid end to end in the order of their paths); with
    ``out``, one row per file written: its ``path`` (or URL) and ``rows``.
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
    check_engine(requests, engine, address, out)
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
    pricer = _Engine(
        compiled,
        dropped=trust.dropped,
        offers=offers,
        day=day,
        currency=currency,
        committed=committed,
        minimum_spend=minimum_spend,
        fx_grid=grid,
    )
    if engine == "ray":  # imports ray
        runs = monthly_offers(compiled, minimum_spend)
        whole = frozenset(o for o, m in zip(compiled.offer_ids, runs, strict=True) if m)
        long = None if offers is None else tuple(offers)
        terms = RayTerms(replace(pricer, offers=None).price, whole, long)
        return price_on_ray(requests, terms, pricer.price, address, out)
    if isinstance(requests, pl.LazyFrame):
        # Shapes and months span the whole table, so the plan prices it in one piece. Pricing
        # an empty table of the same schema checks the columns now and gives the output schema.
        schema = pricer.price(pl.DataFrame(schema=requests.collect_schema())).schema
        return requests.map_batches(pricer.price, schema=schema, streamable=False)
    assert isinstance(requests, pl.DataFrame)  # check_engine refused the others
    return pricer.price(requests)


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
        rows, span = row_keys(df, c, price_day, by_day=self.fx_grid is not None)
        first = rows["_key"].arg_unique()
        distinct = rows["_key"].gather(first)

        # 2. per shape (priced from its first row): reasons and money, the volume taken as zero
        parts, constant = shape_parts(c, schema)
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
        shape_of = shape_index(rows["_key"], distinct, span)
        priced = self._to_rows(df, shape_of, shapes, out_names, ts, ts_day)

        added = [n for n in FILLED_COLUMNS if n not in names]
        out = df.select(n for n in names if n not in PRICED_COLUMNS).with_columns(
            priced["model"] if n == "model" else pl.lit(default, dtype=dtype).alias(n)
            for n in added
            for dtype, default, _ in [REQUEST_COLUMNS[n]]
        )
        out = out.with_columns(
            rows["_day"].alias(n) if n == "priced_on" else priced[n] for n in PRICED_COLUMNS
        )
        return self._say_dropped(out, shapes["reason"])

    def _say_dropped(self, out: pl.DataFrame, reasons: pl.Series) -> pl.DataFrame:
        """Rows on offers the trust policy left no price: why, instead of "unknown offer".
        Only the rows with that reason are touched (a lookup on them, not on the table), and
        only when a shape has it (``reasons``: the shapes')."""
        if not self.dropped or "offer_id" not in out.columns:
            return out
        if not (reasons == UNKNOWN_OFFER).any():
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
        shape_of: pl.Series,
        shapes: pl.DataFrame,
        out_names: list[str],
        ts: pl.Expr | None,
        ts_day: pl.Expr,
    ) -> dict[str, pl.Series | pl.Expr]:
        """The priced columns ``out_names`` of every row, from its shape's (``shape_of``);
        rows on offers with running volumes are priced again in order. Money that is not a
        finite, non-negative amount is taken out on the table, before it reaches the rows.

        The rows priced again take the columns that do not follow the volume (provider,
        version...) from their shape, so those are written while they are priced, in a
        thread of their own (polars frees the interpreter while it works)."""
        monthly = shapes["_monthly"]
        at = monthly.gather(shape_of).arg_true() if monthly.any() else None
        if at is None or not at.len():
            return spread(Table(finite_money(shapes.select(out_names)), shape_of, None))
        volume = [n for n in out_names if n in MONTHLY_OUTPUTS]
        again_rows = MonthlyRows(at, shape_of.gather(at), ts, ts_day)
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
            fixed = shapes.select(n for n in out_names if n not in volume)
            priced = spread(Table(fixed, shape_of, None)) if fixed.width else {}
            again = job.result()
        lines = priced_table(shapes.select(volume), shape_of, at, again, ~monthly)
        priced |= spread(replace(lines, lines=finite_money(lines.lines)))
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

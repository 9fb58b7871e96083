"""A large usage log in batches: streamed rows, and whole months where running volumes need them.

Logs larger than memory are read lazily in batches (the streaming engine); only aggregates are
kept. When an offer in use has volume tiers, allowances, plans or a minimum spend, its running
monthly volume needs every row of a month at once: :func:`log_chunks` spills those rows to disk
by month (and group of accounts) while it streams the others, then hands out each month whole.
The spill directory is the caller's to remove (``replay`` does, in a ``finally``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from pricing._cards.catalog import Catalog
from pricing._vector.compiled import compile_catalog, needs_volume

#: A month whose rows are priced whole: its first day, its first bucket and its buckets.
_Month = tuple[datetime, int, int]


def volume_offers(cat: Catalog) -> set[str]:
    """Offers whose price depends on the month's running volume (tiers, allowances, plans)."""
    return {
        offer.id
        for _, offer in cat.all_offers()
        for v in offer.versions
        if needs_volume(v) or v.minimum_monthly_spend is not None
    }


def month_offers(
    cat: Catalog, in_use: set[str], pairs: pl.DataFrame | None, against: Sequence[str] | None
) -> set[str]:
    """Offers in use whose rows must be priced a whole month at a time.

    A row needs its whole month when its own offer, or an offer it is re-priced on, runs a
    monthly volume: tiers, allowances and plans depend on every earlier call of the month.
    """
    compiled = compile_catalog(cat)
    if not (compiled.needs_volume or compiled.has_minimum):
        return set()
    volume = volume_offers(cat)
    model_of = {o.id: o.model for _, o in cat.all_offers()}
    if against is not None and volume & set(against):
        return set(in_use)
    whole = in_use & volume
    if pairs is not None:  # rows re-priced on a volume-priced offer of their model
        models = {m for m, alt in pairs.iter_rows() if alt in volume}
        whole |= {o for o in in_use if model_of.get(o) in models}
    return whole


def _batches(lf: pl.LazyFrame, size: int) -> Iterator[pl.DataFrame]:
    """Batches of a lazy query, produced no faster than they are consumed.

    ``collect_batches`` lets the streaming engine run ahead and queue every batch the consumer
    has not taken yet, so a slow consumer (pricing) holds the whole log in memory. Here the
    engine runs in a thread whose callback blocks on a one-slot queue: memory stays at about
    one batch in flight.
    """
    slot: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def hand_over(item: object) -> bool | None:
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.1)
                return None
            except queue.Full:
                continue
        return True  # the consumer has gone: stop the query

    def run() -> None:
        try:
            lf.sink_batches(hand_over, chunk_size=size, engine="streaming")
            hand_over(done)
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over(exc)

    worker = threading.Thread(target=run, name="replay-batches", daemon=True)
    worker.start()
    try:
        while True:
            item = slot.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, pl.DataFrame)
            yield item
    finally:
        stop.set()
        worker.join()


def log_chunks(
    requests: pl.LazyFrame,
    counts: pl.DataFrame,
    whole_months: set[str],
    batch_rows: int,
    spill: Path,
) -> Generator[tuple[pl.DataFrame, str, int, int]]:
    """Batches of rows streamed from the log, then whole calendar months of the rows whose
    offers run monthly volumes (``whole_months``); ``counts`` has the rows per offer and
    month. Each comes with a label (``rows`` or the month), the rows handed out so far and
    the rows in all.

    A month's running volumes are per account, so a month of more than ``batch_rows`` such
    rows is split into buckets of accounts (by hash). The one streaming pass that hands out
    the other rows spills every (month, bucket) to its own Parquet files in a temporary
    directory (removed afterwards), read back one at a time afterwards: the log is scanned
    once, not once per bucket, and the spill holds those rows on disk, compressed.

    The spill goes to the directory ``spill`` (made here), which the caller removes: the
    caller's ``finally`` runs whether the chunks were all taken, or an error or an interrupt
    stopped it half way (a generator's own cleanup would wait for its garbage collection).
    """
    total = int(counts["rows"].sum())
    done = 0
    has_account = "account" in requests.collect_schema().names()
    months = _months(counts, whole_months, batch_rows, has_account)
    whole = pl.col("offer_id").is_in(sorted(whole_months))
    marked = (
        requests.with_columns(_part=pl.when(whole).then(_bucket(months)))
        if whole_months
        else requests
    )
    spill.mkdir(parents=True, exist_ok=True)
    for n, batch in enumerate(_batches(marked, batch_rows)):
        if whole_months:
            held = batch.filter(pl.col("_part").is_not_null())
            for (key,), piece in held.partition_by("_part", as_dict=True).items():
                (spill / str(key)).mkdir(exist_ok=True)
                piece.drop("_part").write_parquet(spill / str(key) / f"{n:06d}.parquet")
            batch = batch.filter(pl.col("_part").is_null()).drop("_part")
        if batch.height:
            done += batch.height
            yield batch, "rows", done, total
    batch = pl.DataFrame()  # not held while the months are read back
    for start, b0, nb in months:
        for b in range(b0, b0 + nb):
            folder = spill / str(b)
            if not folder.is_dir():  # no account hashed to this bucket
                continue
            files = sorted(folder.iterdir())
            chunk = pl.read_parquet(files, glob=False)
            done += chunk.height
            yield chunk, start.strftime("%Y-%m"), done, total
    if total == 0:
        yield requests.collect(), "rows", 0, 0


def _months(
    counts: pl.DataFrame, whole_months: set[str], batch_rows: int, has_account: bool
) -> list[_Month]:
    """The months of the rows on the offers ``whole_months``, each split into buckets of about
    ``batch_rows`` rows (by account; one bucket when the log has no accounts)."""
    sizes = (
        counts.filter(pl.col("offer_id").is_in(sorted(whole_months)))
        .group_by("month")
        .agg(pl.col("rows").sum())
        .sort("month")
    )
    buckets = [max(1, -(-n // batch_rows)) if has_account else 1 for n in sizes["rows"]]
    first = [sum(buckets[:i]) for i in range(len(buckets))]  # each month's first bucket
    return list(zip(sizes["month"], first, buckets, strict=True))


def _bucket(months: list[_Month]) -> pl.Expr:
    """The bucket of each row by its month and account (null outside ``months``).

    When/then on scalars, not replace_strict on a Series, which the streaming engine would
    answer by holding every row; months compared as microsecond ranges, not truncated per row.
    """
    us = pl.col("timestamp").dt.cast_time_unit("us").to_physical()
    part = pl.lit(None, dtype=pl.Int64)
    for start, b0, nb in months:
        slot = pl.lit(b0, dtype=pl.Int64)
        if nb > 1:
            slot = slot + (pl.col("account").hash(11) % nb).cast(pl.Int64)
        lo, hi = _micros(start), _micros(_next_month(start))
        part = pl.when((us >= lo) & (us < hi)).then(slot).otherwise(part)
    return part


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _next_month(moment: datetime) -> datetime:
    return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)

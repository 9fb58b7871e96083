"""What a Ray worker does with a batch of a usage log: Arrow batch in, Arrow batch out.

Pure polars inside, no ray: each function takes a batch of the log as Ray Data read it (a
``pyarrow.Table``) and returns one, so that :mod:`pricing._usage.ray_engine` can hand them to
``map_batches`` and ``map_groups``:

- :func:`scan_batch` checks the batch's rows as ``replay`` does on one machine
  (:func:`~pricing._usage.offers.prepare_log`, :func:`~pricing._usage.tally.tally`), and
  returns its quarantine, its readable rows per offer and month, where its rows lie in their
  files, and the sums of its rows on offers without running volumes, priced there;
- :func:`whole_batch` returns the request rows of offers with running volumes, each with its
  bucket (``_part``): a hash of its (account, unit, month), where the unit is the offer, or the
  model whose offers the row is re-priced on when one of them runs a volume;
- :func:`price_group` prices one bucket, every row of its (account, unit, month) groups at once.

Pricing is :func:`~pricing._usage.sums.price_chunk`, the function of the local engine, and a
batch's sums travel as one row of Arrow IPC blobs (:func:`pack_sums`, :func:`unpack_sums`). The
catalog and the rest of the job (:class:`Job`) are pickled once per run and unpickled once per
worker process (:func:`job`), so each worker compiles the catalog once.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import polars as pl

from pricing._cards.catalog import Catalog
from pricing._usage.focus_parts import FocusParts
from pricing._usage.offers import prepare_log, request_table
from pricing._usage.sums import ChunkSums, Pricing, price_chunk
from pricing._usage.tally import tally
from pricing._vector.arrow_batches import arrow, bucket, frame_of, plain, unpickled

#: The column Ray Data names each row's file with (``include_paths=True``).
PATH = "path"
#: The columns of a batch's packed sums: one row per priced chunk.
SUM_FRAMES = (
    "days",
    "unpriced",
    "billed",
    "alternatives",
    "focus_usage",
    "focus_fees",
    "focus_top_ups",
    "focus_problems",
    "conversions",
)
#: The columns of a batch's packed tally: one row per batch.
TALLY_FRAMES = ("quarantine", "counts", "runs", "defaults")


@dataclass(frozen=True)
class Job:
    """What every worker needs to read and price the log: the same on every worker."""

    full: Catalog  # reads the rows: every offer, whatever the trust policy
    month: str | None
    mapping: Mapping[str, str] | None
    offer_map: Mapping[str, str] | None
    how: Pricing | None = None  # prices them
    whole: frozenset[str] = frozenset()  # offers whose rows need their whole month
    units: Mapping[str, str] | None = None  # offer -> the unit its running volumes run over


def job(token: str, blob: bytes) -> Job:
    """The job pickled as ``blob``, unpickled once per worker process and run (``token``)."""
    found = unpickled(token, blob)
    assert isinstance(found, Job)
    return found


def requests_of(frame: pl.DataFrame, work: Job) -> tuple[pl.DataFrame, list[str], dict[str, str]]:
    """The readable rows of a batch of the log as a request table, the log's columns and
    its ambiguous providers (the reading, checks and offer resolution of the local engine)."""
    prepared = prepare_log(frame, work.full, work.month, work.mapping, work.offer_map)
    good = prepared.resolved.filter(pl.col("_bad").is_null())
    requests = request_table(good, prepared.names).collect()
    return requests, prepared.names, prepared.ambiguous


def scan_batch(batch: Any, token: str, blob: bytes) -> Any:
    """A batch read once: its tally and the sums of its rows on offers without running
    volumes, as one packed row. The tally: the quarantine (each row with its file and its
    position among the batch's rows of that file), the readable rows per offer and month, the
    runs of rows per file in order, and the rows at a default size and count."""
    work = job(token, blob)
    frame = frame_of(batch)
    paths = frame.select(pl.col(PATH).cast(pl.String))
    prepared = prepare_log(frame.drop(PATH), work.full, work.month, work.mapping, work.offer_map)
    prepared = replace(prepared, resolved=prepared.resolved.collect().lazy())  # checked once
    quarantine, counts, (size, count) = tally(prepared)
    where = paths.with_row_index("line", offset=1).select(
        pl.col("line").cast(pl.Int64),
        pl.col(PATH).alias("_path"),
        _pos=pl.int_range(pl.len(), dtype=pl.Int64).over(PATH),
    )
    quarantine = quarantine.join(where, on="line", how="left", maintain_order="left")
    runs = (
        paths.with_columns(_run=(pl.col(PATH) != pl.col(PATH).shift()).fill_null(True).cum_sum())
        .group_by("_run", maintain_order=True)
        .agg(pl.col(PATH).first(), rows=pl.len().cast(pl.Int64))
        .drop("_run")
    )
    defaults = pl.DataFrame(
        {"size": [size], "count": [count]}, schema={"size": pl.Int64, "count": pl.Int64}
    )
    good = prepared.resolved.filter(pl.col("_bad").is_null())
    requests = request_table(good, prepared.names).collect()
    chunk = requests.filter(~pl.col("offer_id").is_in(sorted(work.whole)))
    assert work.how is not None
    sums = price_chunk(chunk, work.how) if chunk.height else None
    tallied = dict(zip(TALLY_FRAMES, (quarantine, counts, runs, defaults), strict=True))
    return _packed({**tallied, **_sum_frames(sums)}, _sum_numbers(sums))


def whole_batch(batch: Any, token: str, blob: bytes, buckets: int) -> Any:
    """A batch's rows on offers with running volumes, as request rows with their bucket (one
    of ``buckets``)."""
    work = job(token, blob)
    requests, _, _ = requests_of(frame_of(batch), work)
    rows = requests.filter(pl.col("offer_id").is_in(sorted(work.whole)))
    account = pl.col("account") if "account" in rows.columns else pl.lit("default")
    unit = pl.col("offer_id").replace_strict(dict(work.units or {}), default=pl.col("offer_id"))
    month = pl.col("timestamp").dt.strftime("%Y-%m")
    part = bucket([account, unit, month], buckets)
    return arrow(plain(rows.with_columns(_part=part)))


def price_group(group: Any, token: str, blob: bytes) -> Any:
    """The sums of one bucket of whole-month rows, priced at once."""
    work = job(token, blob)
    assert work.how is not None
    return pack_sums(price_chunk(frame_of(group).drop("_part"), work.how))


# --------------------------------------------------------------------------- packing


def _ipc(frame: pl.DataFrame | None) -> bytes | None:
    if frame is None:
        return None
    out = io.BytesIO()
    frame.write_ipc(out)
    return out.getvalue()


def _frame(blob: bytes | None) -> pl.DataFrame | None:
    return None if blob is None else pl.read_ipc(io.BytesIO(blob))


def _packed(frames: Mapping[str, pl.DataFrame | None], numbers: Mapping[str, int]) -> Any:
    """One row: each frame as Arrow IPC bytes (null for None), each number as an int64."""
    columns = [pl.Series(n, [_ipc(f)], dtype=pl.Binary) for n, f in frames.items()]
    columns += [pl.Series(n, [v], dtype=pl.Int64) for n, v in numbers.items()]
    return arrow(pl.DataFrame(columns))


def _sum_frames(sums: ChunkSums | None) -> dict[str, pl.DataFrame | None]:
    """A chunk's sums as frames (each null for None)."""
    if sums is None:
        return dict.fromkeys(SUM_FRAMES)
    conversions = pl.DataFrame(
        list(sums.conversions), schema={"day": pl.Date, "currency": pl.String}, orient="row"
    )
    frames = [sums.days, sums.unpriced, sums.billed, sums.alternatives]
    focus = sums.focus
    parts = [] if focus is None else [focus.usage, focus.fees, focus.top_ups, focus.problems]
    frames += [pl.concat(p, how="vertical") for p in parts] or [None] * 4
    frames.append(conversions)
    return dict(zip(SUM_FRAMES, frames, strict=True))


def _sum_numbers(sums: ChunkSums | None) -> dict[str, int]:
    return {
        "rows": 0 if sums is None else sums.rows,
        "unpriced_fx": 0 if sums is None else sums.unpriced_fx,
    }


def pack_sums(sums: ChunkSums) -> Any:
    """A chunk's sums as one packed row."""
    return _packed(_sum_frames(sums), _sum_numbers(sums))


def unpack_sums(row: Mapping[str, Any], granularity: Any) -> ChunkSums | None:
    """The chunk's sums of a packed row, if it has any (``granularity``: the FOCUS sums')."""
    if row["days"] is None:
        return None
    got = {n: _frame(row[n]) for n in SUM_FRAMES}
    focus = None
    if got["focus_usage"] is not None:
        focus = FocusParts(granularity)
        for name in ("usage", "fees", "top_ups", "problems"):
            part = got[f"focus_{name}"]
            getattr(focus, name).append(part)
    conversions = got["conversions"]
    days, unpriced = got["days"], got["unpriced"]
    assert days is not None
    assert unpriced is not None
    assert conversions is not None
    pairs: list[tuple[date, str]] = list(conversions.iter_rows())
    return ChunkSums(
        rows=int(row["rows"]),
        days=days,
        unpriced=unpriced,
        billed=got["billed"],
        alternatives=got["alternatives"],
        focus=focus,
        unpriced_fx=int(row["unpriced_fx"]),
        conversions=tuple(pairs),
    )


def unpack_tally(row: Mapping[str, Any]) -> dict[str, pl.DataFrame]:
    """The tally frames of a packed row (:func:`scan_batch`)."""
    got = {n: _frame(row[n]) for n in TALLY_FRAMES}
    return {n: f for n, f in got.items() if f is not None}

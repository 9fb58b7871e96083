"""``replay(engine="ray")``: a Parquet usage log priced on a Ray cluster, to the cent as here.

Ray Data reads the log, a Parquet file or a directory of them (Hive-partitioned or not), on
this machine or in object storage (``s3://bucket/usage/``), and the workers run the local
engine's own steps on each Arrow batch (:mod:`pricing._usage.ray_tasks`); this process only
adds up small sums. Two passes, as on one machine:

1. the tally: every batch's rows checked and offer-resolved, its quarantine and its readable
   rows per offer and month, in the log's order (so that a quarantined row gets its line: its
   1-based row in the files laid end to end in the order of their paths, as the local engine
   numbers a directory);
2. the pricing: rows of offers without running volumes are priced batch by batch where they
   were read; rows of offers with running monthly volumes (tiers, allowances, plans, minimum
   spend) are grouped so that every row of an (account, unit, month) is priced in one call,
   the unit being the offer, or its model when the rows are re-priced on a volume-priced offer
   of it (all the offers' rows then share that offer's volume), or the whole account-month
   when ``against`` names one. Groups are hashed into buckets of about ``batch_rows`` rows
   (``groupby(...).map_groups``), at least two per CPU of the cluster.

Each priced chunk's sums (:class:`~pricing._usage.sums.ChunkSums`) come back to be added up
exactly as the local engine adds its batches' (:class:`~pricing._usage.sums.Sums`). Ray is
imported only here, when this engine is asked for.
"""

from __future__ import annotations

import math
import pickle
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from pricing._base.progress import Progress
from pricing._base.ray_session import import_ray, plain_error, quiet, session, url_location
from pricing._cards.catalog import Catalog
from pricing._usage.batches import month_offers
from pricing._usage.focus_parts import FocusParts
from pricing._usage.log import unknown_columns
from pricing._usage.offers import prepare_log
from pricing._usage.parquet_dir import PARQUET_EXTENSIONS, parquet_files
from pricing._usage.ray_tasks import (
    PATH,
    Job,
    price_group,
    requests_of,
    scan_batch,
    unpack_sums,
    unpack_tally,
    whole_batch,
)
from pricing._usage.reading import LogReading
from pricing._usage.sums import Pricing, Sums, Tallied, Terms, plan, price_chunk
from pricing._usage.tally import tally
from pricing._vector.arrow_batches import frame_of
from pricing.errors import PricingError


def ray_sums(
    log: object, full: Catalog, cat: Catalog, terms: Terms, progress: Progress | None
) -> tuple[Tallied, Sums]:
    """The tally and the sums of a Parquet log priced with ``cat`` on a Ray cluster (the one
    at ``terms.address``, the one ``ray.init`` finds, or a local one for the call).

    Raises
    ------
    PricingError
        Ray is not installed, the cluster is out of reach, the log is not Parquet or cannot
        be read, or a worker failed (with the worker's own error, without its traceback).
    """
    ray = import_ray()
    source, directory = parquet_source(log)  # pyarrow came with ray
    try:
        with session(ray, terms.address), quiet(ray):
            return _run(ray, source, directory, full, cat, terms, progress)
    except PricingError:
        raise
    except (ray.exceptions.RayError, OSError, ValueError) as exc:  # pyarrow's are ValueErrors
        raise plain_error(
            exc,
            f"cannot read the usage log {source}: {{cause}}; check that it is valid Parquet",
        ) from None


def parquet_source(log: object) -> tuple[str, bool]:
    """The log as Ray Data reads it (an absolute path or a URL), and whether it is a
    directory; a PricingError for anything but a Parquet file or a directory of them."""
    if not isinstance(log, str | Path):
        raise PricingError(
            "engine='ray' reads a Parquet file or directory, on this machine or in object "
            "storage (s3://...): give its path or URL; replay a polars frame with engine='local'"
        )
    text = str(log)
    if "://" in text:
        return _url_source(text)
    path = Path(text)
    if path.is_dir():
        parquet_files(path)  # refuses a directory without Parquet files
        return str(path.resolve()), True
    if not path.exists():
        raise PricingError(f"usage log {path} does not exist (the path is read as it is spelt)")
    _check_suffix(path.name)
    return str(path.resolve()), False


def _url_source(url: str) -> tuple[str, bool]:
    """A URL's file or directory, as pyarrow's file systems see it."""
    if url_location(url, "usage log"):
        return url.rstrip("/"), True
    _check_suffix(url)
    return url, False


def _check_suffix(name: str) -> None:
    if name.lower().rsplit(".", 1)[-1] not in PARQUET_EXTENSIONS:
        raise PricingError(
            f"engine='ray' reads Parquet logs (.parquet, .pq, or a directory of them), not "
            f"{name}; convert it to Parquet, or replay it with engine='local'"
        )


def _run(
    ray: Any,
    source: str,
    directory: bool,
    full: Catalog,
    cat: Catalog,
    terms: Terms,
    progress: Progress | None,
) -> tuple[Tallied, Sums]:
    """Both passes over the log, on the cluster."""
    partitioning = None
    if directory:  # partition folders below the log's directory only, as the local engine
        partitioning = ray.data.datasource.Partitioning("hive", base_dir=source)

    def read(paths: bool) -> Any:
        return ray.data.read_parquet(
            source,
            file_extensions=list(PARQUET_EXTENSIONS),
            partitioning=partitioning,
            include_paths=paths,
        )

    plain = read(False)
    empty = frame_of(plain.schema().base_schema.empty_table())
    if PATH in empty.columns:
        raise PricingError(
            f"the log has a column named {PATH!r}, the name Ray Data gives each row's file; "
            "rename it in the files, or replay the log with engine='local'"
        )
    # Whether a row needs its whole month depends on its offer only: planned for every offer
    # of the catalog, the rows of the others are priced in the pass that tallies them.
    every = pl.DataFrame({"offer_id": [o.id for _, o in full.all_offers()]})
    how, whole = plan(cat, every, terms)
    units = _units(full, how, whole, terms.against)
    work = Job(full, terms.month, terms.mapping, terms.offer_map, how, frozenset(whole), units)
    none, names, ambiguous = requests_of(empty, work)  # refuses a bad mapping here
    if terms.fx is not None:
        terms.fx.converter.fx  # noqa: B018 - loaded here, so the workers need no data folder
    sums = Sums("billed_cost" in names, terms.fx)
    sums.focus = None if terms.focus is None else FocusParts(terms.focus)
    job = {"token": uuid.uuid4().hex, "blob": pickle.dumps(work)}
    # the rows to price are known once the first pass is done: until then 0, "not known yet"
    tallied = _scan(read(True), job, work, empty, (names, ambiguous), sums, (progress, 0))
    held = tallied.counts.filter(pl.col("offer_id").is_in(sorted(whole)))["rows"].sum()
    if held:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        buckets = max(math.ceil(held / max(terms.batch_rows, 1)), 2 * cpus)
        rows = plain.map_batches(
            whole_batch, batch_format="pyarrow", fn_kwargs={**job, "buckets": buckets}
        )
        groups = rows.groupby("_part", num_partitions=buckets)
        priced = groups.map_groups(price_group, batch_format="pyarrow", fn_kwargs=job)
        for row in _rows(priced):
            _add(row, sums, (progress, int(tallied.counts["rows"].sum())))
    if not sums.rows:  # no readable row: the sums of none, in their types
        sums.add(price_chunk(none, how))
    return tallied, sums


def _scan(
    ds: Any,
    job: Mapping[str, object],
    work: Job,
    empty: pl.DataFrame,
    read: tuple[list[str], dict[str, str]],
    sums: Sums,
    progress: tuple[Progress | None, int],
) -> Tallied:
    """The first pass, in the log's order: every batch tallied, and its rows of offers
    without running volumes priced (their sums added to ``sums``). The tally: the quarantine
    (each row at its line), the readable rows per offer and month, the rows at a default size
    or count."""
    ds.context.execution_options.preserve_order = True  # batches of a file in its order
    scanned = ds.map_batches(scan_batch, batch_format="pyarrow", batch_size=None, fn_kwargs=job)
    seen: dict[str, int] = {}  # rows of each file read so far
    bad: list[pl.DataFrame] = []
    counts: list[pl.DataFrame] = []
    defaults = [0, 0]
    for row in _rows(scanned):
        got = unpack_tally(row)
        starts = {}
        for path, rows in got["runs"].iter_rows():
            starts[path] = seen.get(path, 0)
            seen[path] = starts[path] + rows
        quarantine = got["quarantine"]
        if quarantine.height:
            start = pl.col("_path").replace_strict(starts, return_dtype=pl.Int64)
            bad.append(quarantine.with_columns(_in_file=start + pl.col("_pos")))
        counts.append(got["counts"])
        size, count = got["defaults"].row(0)
        defaults = [defaults[0] + size, defaults[1] + count]
        _add(row, sums, progress)
    prepared = prepare_log(empty, work.full, work.month, work.mapping, work.offer_map)
    first, no_counts, _ = tally(prepared)
    names, ambiguous = read
    return Tallied(
        quarantine=_lines(first, bad, seen),
        counts=pl.concat([no_counts, *counts], how="vertical_relaxed")
        .group_by("offer_id", "month")
        .agg(pl.col("rows").sum()),
        reading=LogReading(unknown_columns(names), defaults[0], defaults[1]),
        names=names,
        ambiguous=ambiguous,
    )


def _rows(ds: Any) -> Iterator[dict[str, Any]]:
    """The rows of a dataset of packed rows, in its order."""
    for table in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        yield from table.to_pylist()


def _add(row: Mapping[str, Any], sums: Sums, progress: tuple[Progress | None, int]) -> None:
    """Add a packed row's chunk sums, if it has any, to ``sums``; tell ``progress``."""
    part = unpack_sums(row, None if sums.focus is None else sums.focus.granularity)
    if part is None:
        return
    sums.add(part)
    report, total = progress
    if report is not None:
        report(sums.rows, total, "rows")


def _lines(empty: pl.DataFrame, bad: list[pl.DataFrame], rows: Mapping[str, int]) -> pl.DataFrame:
    """The quarantine in line order: each row's line is its row in its file (``_in_file``,
    from 0) after the rows of the files before it, in the order of their paths, plus 1."""
    before: dict[str, int] = {}
    total = 0
    for path in sorted(rows):
        before[path] = total
        total += rows[path]
    placed = [
        frame.with_columns(
            line=pl.col("_path").replace_strict(before, return_dtype=pl.Int64)
            + pl.col("_in_file")
            + 1
        ).select(empty.columns)
        for frame in bad
    ]
    return pl.concat([empty, *placed], how="vertical_relaxed").sort("line")


def _units(
    full: Catalog, how: Pricing, whole: set[str], against: Sequence[str] | None
) -> dict[str, str]:
    """The unit each whole-month offer's running volumes run over, beside account and month:
    the offer; its model when its rows are re-priced on a volume-priced offer of the model;
    every offer (the account's month) when ``against`` names a volume-priced offer."""
    if against is not None and month_offers(full, set(against), None, None):
        return dict.fromkeys(whole, "*")
    model_of = {o.id: o.model for _, o in full.all_offers()}
    models: set[str] = set()
    if how.pairs is not None:
        alternatives = set(how.pairs["alt_offer"].to_list())
        volume = month_offers(full, alternatives, None, None)
        models = {m for m, alt in how.pairs.iter_rows() if alt in volume}
    return {o: f"model:{model_of[o]}" if model_of.get(o) in models else o for o in whole}

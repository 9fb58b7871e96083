"""A directory of Parquet files read as one usage log, Hive-partitioned or not.

Usage logs kept by a data platform are a folder of Parquet files, often partitioned the Hive
way (``month=2026-03/part-0.parquet``): each ``key=value`` folder below the directory gives the
rows of its files a column ``key`` holding ``value`` (as text, URL-decoded). The files are read
in the order of their paths (as text), so each row's line is its 1-based row in the files laid
end to end. The same rules pick the files as Ray Data's ``read_parquet`` (the ``ray`` engine of
``replay``): files ending ``.parquet`` or ``.pq``, except those whose path below the directory
starts with ``.`` or ``_`` (``_SUCCESS``, ``_temporary/``, hidden files). Every file goes
through the damaged-file check (:func:`~pricing._usage.parquet_check.check_parquet`) before
this process reads it.
"""

from __future__ import annotations

import os
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from pathlib import Path

import polars as pl

from pricing._usage.parquet_check import check_parquet
from pricing.errors import PricingError

#: The extensions of the files a directory log is made of (without the dot).
PARQUET_EXTENSIONS = ("parquet", "pq")
#: A file whose path below the directory starts with one of these is not part of the log.
SKIPPED_PREFIXES = (".", "_")

#: One file of a directory log and the partition values its folders give it.
PartFile = tuple[Path, tuple[tuple[str, str], ...]]


def partitions(relative: str) -> tuple[tuple[str, str], ...]:
    """The Hive partition values of a file's path below the log's directory: each folder
    ``key=value`` (one ``=``) gives ``(key, value)``, the value URL-decoded, as Ray Data reads
    them."""
    folders = relative.split("/")[:-1]
    return tuple(
        (key, urllib.parse.unquote(value))
        for key, value in (f.split("=") for f in folders if f.count("=") == 1)
    )


def parquet_files(directory: Path) -> list[PartFile]:
    """The Parquet files of a directory log, in the order of their paths, with their
    partition values.

    Raises
    ------
    PricingError
        The directory holds no Parquet file.
    """
    found: list[PartFile] = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory).as_posix()
        if relative.startswith(SKIPPED_PREFIXES) or not path.is_file():
            continue
        if path.suffix.lower().lstrip(".") in PARQUET_EXTENSIONS:
            found.append((path, partitions(relative)))
    if not found:
        raise PricingError(
            f"usage log {directory} is a directory; give one log file, or combine several "
            'yourself, e.g. replay(pl.scan_csv("logs/*.csv", infer_schema=False)); a directory '
            "is read as one log when it holds Parquet files (.parquet, .pq), and it holds none"
        )
    return sorted(found, key=lambda part: str(part[0]))


def scan_parquet_dir(directory: Path) -> tuple[pl.LazyFrame, list[str]]:
    """The Parquet files of ``directory`` as one LazyFrame (their partition values as text
    columns after the files' own), and its columns; every file checked first.

    Raises
    ------
    PricingError
        No Parquet file in the directory, a damaged file, or files that do not fit together
        (a column of two types, columns that differ).
    """
    files = parquet_files(directory)
    workers = max(1, min(len(files), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:  # each check is a child process
        list(pool.map(check_parquet, [path for path, _ in files]))
    try:
        runs = [
            pl.scan_parquet(
                [path for path, _ in run], glob=False, hive_partitioning=False
            ).with_columns(pl.lit(value, dtype=pl.String).alias(key) for key, value in values)
            for values, run in ((v, list(r)) for v, r in groupby(files, key=lambda f: f[1]))
        ]
        lf = runs[0] if len(runs) == 1 else pl.concat(runs, how="vertical_relaxed")
        names = lf.collect_schema().names()
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        text = str(exc).strip()
        raise PricingError(
            f"cannot read the usage log {directory} as one Parquet log: "
            f"{text.splitlines()[0] if text else type(exc).__name__}; check that its files "
            "are valid Parquet with the same columns"
        ) from exc
    return lf, names


def log_files_state(log: object) -> tuple[tuple[str, int, int], ...]:
    """The path, size and modification time of each file a log path reads (a file, or a
    directory's files, all of them); nothing for a table, a query or a missing path. Taken
    before and after a replay that reads the log more than once: any change means the reads
    did not see the same rows."""
    if not isinstance(log, str | Path) or "://" in str(log):
        return ()
    path = Path(log)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    state = []
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue  # gone: the next reading of the state tells the difference
        state.append((str(file), stat.st_size, stat.st_mtime_ns))
    return tuple(state)

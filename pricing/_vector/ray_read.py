"""The requests of ``price_requests(engine="ray")`` as a Ray dataset, every row with its place.

A request table comes as a polars frame, a Parquet file, or a directory of Parquet files
(Hive-partitioned or not), on this machine or in object storage (``s3://bucket/usage/``).
Every row gets its place: ``_file`` (0 for a frame; else its file's rank, the files taken in the
order of their paths) and ``_pos`` (its row in the frame or file, from 0), so the priced rows
can be put back in the order the local engine keeps: the files laid end to end, each in its
own order. A directory's files are chosen by the rules of ``replay`` (and Ray Data's
``read_parquet``): files ending ``.parquet`` or ``.pq``, except those whose path below the
directory starts with ``.`` or ``_``; each ``key=value`` folder below it gives its files' rows
a text column ``key``.

The files are read on the workers (:func:`read_file`: one task per file, in batches of
:data:`READ_ROWS` rows) with pyarrow's file systems, which is what Ray Data's own reader uses:
the driver only lists the files and reads the first one's schema.
"""

from __future__ import annotations

import importlib
import math
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from pricing._base.ray_session import url_location
from pricing._vector.arrow_batches import arrow, frame_of, plain
from pricing.errors import PricingError

#: The columns that place a row: its file, and its row in it.
FILE, POS = "_file", "_pos"
PLACE = (FILE, POS)
#: Rows per batch read from a file, and rows per block of a frame.
READ_ROWS = 250_000
#: The extensions of Parquet files (without the dot).
EXTENSIONS = ("parquet", "pq")
#: A file whose path below the directory starts with one of these is not a part.
SKIPPED = (".", "_")


@dataclass(frozen=True)
class Source:
    """Where the requests come from: a frame, or Parquet files (their paths in the file
    system of ``root``, a URL, or "" for this machine's, and each one's path below the
    directory)."""

    name: str
    frame: pl.DataFrame | None = None
    root: str = ""
    files: tuple[tuple[str, str], ...] = ()

    def empty(self) -> pl.DataFrame:
        """No rows, the columns of the requests (of the first file, and its partitions)."""
        if self.frame is not None:
            return self.frame.clear()
        path, relative = self.files[0]
        schema = importlib.import_module("pyarrow.parquet").read_schema(
            _filesystem(self.root).open_input_file(path)
        )
        return _with_parts(frame_of(schema.empty_table()), relative)

    def dataset(self, ray: Any, blocks: int) -> Any:
        """The requests as a Ray dataset of Arrow blocks, with their places."""
        if self.frame is not None:
            frame = self.frame.with_columns(
                pl.lit(0, dtype=pl.Int64).alias(FILE),
                pl.int_range(pl.len(), dtype=pl.Int64).alias(POS),
            )
            size = max(1, min(READ_ROWS, math.ceil(frame.height / max(blocks, 1))))
            pieces = [plain(frame.slice(at, size)) for at in range(0, frame.height, size)]
            return ray.data.from_arrow([arrow(p) for p in pieces or [plain(frame)]])
        items = [{"file": i, "path": p, "relative": r} for i, (p, r) in enumerate(self.files)]
        listed = ray.data.from_items(items, override_num_blocks=len(items))
        return listed.map_batches(
            read_file, batch_format="pyarrow", batch_size=1, fn_kwargs={"root": self.root}
        )


def source_of(requests: object) -> Source:
    """The requests' source; a PricingError for a path that is not Parquet or not there."""
    if isinstance(requests, pl.LazyFrame):
        return Source("the request table", frame=requests.collect())
    if isinstance(requests, pl.DataFrame):
        return Source("the request table", frame=requests)
    if not isinstance(requests, str | os.PathLike):
        raise PricingError(
            "engine='ray' prices a polars DataFrame or LazyFrame, or a Parquet file or "
            f"directory (a path, or a URL such as s3://bucket/usage/), not {type(requests)}"
        )
    text = os.fspath(requests)
    if "://" in text:
        return _url_files(text)
    path = Path(text)
    if not path.exists():
        raise PricingError(f"requests {path} do not exist (the path is read as it is spelt)")
    if path.is_dir():
        found = [
            (str(p.resolve()), p.relative_to(path).as_posix())
            for p in path.rglob("*")
            if p.is_file() and _is_part(p.relative_to(path).as_posix())
        ]
        return _files(str(path), "", found)
    _check_name(path.name)
    return Source(str(path), files=((str(path.resolve()), path.name),))


def _url_files(url: str) -> Source:
    """The Parquet files at a URL: a file, or a directory's files."""
    if not url_location(url, "requests"):
        _check_name(url)
        _, inner = importlib.import_module("pyarrow.fs").FileSystem.from_uri(url)
        return Source(url, root=url, files=((inner, url.rsplit("/", 1)[-1]),))
    fs_module = importlib.import_module("pyarrow.fs")
    filesystem, base = fs_module.FileSystem.from_uri(url)
    base = base.rstrip("/")
    infos = filesystem.get_file_info(fs_module.FileSelector(base, recursive=True))
    found = [
        (info.path, info.path[len(base) + 1 :])
        for info in infos
        if info.type == fs_module.FileType.File and _is_part(info.path[len(base) + 1 :])
    ]
    return _files(url, url, found)


def _files(name: str, root: str, found: list[tuple[str, str]]) -> Source:
    if not found:
        raise PricingError(
            f"requests {name} are a directory without Parquet files (.parquet, .pq); files "
            "whose path below it starts with '.' or '_' are not read"
        )
    return Source(name, root=root, files=tuple(sorted(found)))


def _is_part(relative: str) -> bool:
    """Whether a file of a directory (its path below it) is one of its Parquet files."""
    suffix = relative.rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower()
    return not relative.startswith(SKIPPED) and suffix in EXTENSIONS


def _check_name(name: str) -> None:
    if name.lower().rsplit(".", 1)[-1] not in EXTENSIONS:
        raise PricingError(
            f"engine='ray' reads Parquet files (.parquet, .pq, or a directory of them), not "
            f"{name}; convert it to Parquet, or read it with polars and price the frame"
        )


def _filesystem(root: str) -> Any:
    fs_module = importlib.import_module("pyarrow.fs")
    return fs_module.FileSystem.from_uri(root)[0] if root else fs_module.LocalFileSystem()


def _with_parts(frame: pl.DataFrame, relative: str) -> pl.DataFrame:
    """``frame`` with the Hive partition values of its file's folders as text columns."""
    folders = relative.split("/")[:-1]
    parts = [f.split("=") for f in folders if f.count("=") == 1]
    return frame.with_columns(
        pl.lit(urllib.parse.unquote(value), dtype=pl.String).alias(key) for key, value in parts
    )


def read_file(item: Any, root: str) -> Iterator[Any]:
    """The rows of one file (``item``: a row of its rank, path and path below the
    directory), in batches, with their partition values and places."""
    row = item.to_pylist()[0]
    parquet = importlib.import_module("pyarrow.parquet")
    reader = parquet.ParquetFile(_filesystem(root).open_input_file(row["path"]))
    start = 0
    for batch in reader.iter_batches(batch_size=READ_ROWS):
        frame = _with_parts(frame_of(batch), row["relative"]).with_columns(
            pl.lit(row["file"], dtype=pl.Int64).alias(FILE),
            pl.int_range(start, start + batch.num_rows, dtype=pl.Int64).alias(POS),
        )
        start += batch.num_rows
        yield arrow(plain(frame))

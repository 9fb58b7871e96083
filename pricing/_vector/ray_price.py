"""``price_requests(engine="ray")``: a request table priced on a Ray cluster, row for row as here.

The requests (a polars frame, or Parquet files on this machine or in object storage, with
every row's place: :mod:`pricing._vector.ray_read`) are priced by the workers with the local
engine's own pricing (``price_requests``' terms, pickled once per run), Arrow batch in, Arrow
batch out:

- rows on offers without running monthly volumes are priced batch by batch where they were
  read (:func:`price_flat`): a row's price does not depend on the other rows;
- rows on offers with running monthly volumes (tiers, allowances, plans, minimum spend) need
  every row of their (account, offer, month) in one call: they are hashed into buckets of
  about :data:`BUCKET_ROWS` rows, at least two per CPU of the cluster, by that key
  (:func:`whole_rows`), and each bucket is priced at once (``groupby().map_groups``,
  :func:`price_whole`). A priced row does not depend on the order of the rows of its month
  (ties are broken by the row's content), so each row is priced as the local engine prices it.

With ``offers=`` every row is put on each offer first (the long form), on the worker.
The priced rows either come back to this process, put back in the requests' order by their
places, or are written as Parquet files by the workers (``out=``) and never come here. Ray is
imported only when this engine is asked for.
"""

from __future__ import annotations

import importlib
import math
import os
import pickle
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import polars as pl

from pricing._base.choices import ENGINES
from pricing._base.dates import day_of
from pricing._base.ray_session import first_line, import_ray, plain_error, quiet, session
from pricing._vector.arrow_batches import arrow, bucket, frame_of, plain, unpickled
from pricing._vector.columns import REQUEST_COLUMNS, text_column, typed_column, utc_timestamps
from pricing._vector.ray_read import PLACE, POS, Source, source_of
from pricing.errors import PricingError

#: Rows per bucket of rows priced by (account, offer, month), about.
BUCKET_ROWS = 1_000_000
#: Buckets a row's key is hashed to first, before the rows are counted.
_HASHES = 1 << 30


@dataclass(frozen=True)
class RayTerms:
    """What every worker needs: the same on each."""

    price: Callable[[pl.DataFrame], pl.DataFrame]  # a request table (long form), in order
    whole: frozenset[str]  # offers whose rows need their account's month in one call
    offers: tuple[str, ...] | None  # every row on each of these, when given


def check_engine(requests: object, engine: str, address: str | None, out: object) -> None:
    """Refuse an unknown engine, and Ray's arguments (or files) without it."""
    if engine not in ENGINES:
        raise PricingError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine == "ray":
        return
    if address is not None:
        raise PricingError("address= names a Ray cluster: give it with engine='ray'")
    if out is not None:
        raise PricingError(
            "out= has the Ray workers write the priced rows: give it with engine='ray'; the "
            "local engine returns them (write them with .write_parquet(path))"
        )
    if not isinstance(requests, pl.DataFrame | pl.LazyFrame):
        raise PricingError(
            "the local engine prices a polars DataFrame or LazyFrame: read files with "
            "pl.scan_parquet(...), or price Parquet files (or s3://... URLs) with engine='ray'"
        )


def price_on_ray(
    requests: object,
    terms: RayTerms,
    check: Callable[[pl.DataFrame], pl.DataFrame],
    address: str | None,
    out: str | PathLike[str] | None,
) -> pl.DataFrame:
    """The priced requests (see ``price_requests``), or the files written (``out``): their
    ``path`` and ``rows``.
    ``check`` prices a table as the local engine does: on the driver, no rows, to check the
    columns and learn the output's types.

    Raises
    ------
    PricingError
        Ray is not installed, the cluster is out of reach, the requests are not Parquet or
        cannot be read, ``out`` is not an empty directory, or a worker failed (with the
        worker's own error, without its traceback).
    """
    ray = import_ray()
    source = source_of(requests)
    target = None if out is None else _target(os.fspath(out))
    try:
        schema = check(source.empty()).schema  # the local engine's errors, before Ray's
        with session(ray, address), quiet(ray):
            return _run(ray, source, terms, schema, target)
    except PricingError:
        raise
    except (ray.exceptions.RayError, OSError, ValueError) as exc:  # pyarrow's are ValueErrors
        raise plain_error(
            exc,
            f"the Ray job cannot read {source.name} (or write out=): {{cause}}; check that the "
            "files are valid Parquet with the same columns",
        ) from None


def _run(
    ray: Any, source: Source, terms: RayTerms, schema: pl.Schema, target: str | None
) -> pl.DataFrame:
    """Both kinds of rows priced on the cluster, then collected or written."""
    cpus = int(ray.cluster_resources().get("CPU", 1))
    rows = source.dataset(ray, 2 * cpus)
    job = {"token": uuid.uuid4().hex, "blob": pickle.dumps(terms)}
    priced = rows.map_batches(price_flat, batch_format="pyarrow", batch_size=None, fn_kwargs=job)
    if terms.whole:
        held = rows.map_batches(
            whole_rows, batch_format="pyarrow", batch_size=None, fn_kwargs=job
        ).materialize()
        count = held.count()
        if count:
            buckets = max(math.ceil(count / BUCKET_ROWS), 2 * cpus)
            parts = held.map_batches(
                in_bucket, batch_format="pyarrow", batch_size=None, fn_kwargs={"buckets": buckets}
            )
            groups = parts.groupby("_part", num_partitions=buckets)
            whole = groups.map_groups(price_whole, batch_format="pyarrow", fn_kwargs=job)
            priced = priced.union(whole)
    if target is not None:
        priced.drop_columns(list(PLACE)).write_parquet(target)
        return _written(target)
    frames = [frame_of(t) for t in priced.iter_batches(batch_format="pyarrow", batch_size=None)]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=schema)
    got = pl.concat(frames, how="diagonal_relaxed").sort(PLACE)
    return got.select(
        pl.col(n) if got.schema[n] == dtype else pl.col(n).cast(dtype)
        for n, dtype in schema.items()
    )


def _target(out: str) -> str:
    """Where ``out=`` writes: a new or empty directory, on this machine or a URL."""
    if "://" in out:
        fs_module = importlib.import_module("pyarrow.fs")
        try:
            filesystem, inner = fs_module.FileSystem.from_uri(out)
            info = filesystem.get_file_info(inner)
            full = info.type == fs_module.FileType.Directory and filesystem.get_file_info(
                fs_module.FileSelector(inner, recursive=False)
            )
        except (OSError, ValueError) as exc:
            raise PricingError(f"cannot reach out={out}: {first_line(exc)}") from None
        if info.type == fs_module.FileType.File or full:
            raise PricingError(f"out={out} is not empty: give a new or empty directory")
        return out
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise PricingError(
            f"out={out} is not empty: give a new or empty directory (the priced rows are "
            "written there as Parquet files)"
        )
    return str(path.resolve())


def _written(target: str) -> pl.DataFrame:
    """The Parquet files in ``target``: their paths (URLs for a URL) and rows, from their
    footers."""
    fs_module = importlib.import_module("pyarrow.fs")
    parquet = importlib.import_module("pyarrow.parquet")
    scheme = target.split("://", 1)[0] + "://" if "://" in target else ""
    if scheme:
        filesystem, inner = fs_module.FileSystem.from_uri(target)
    else:
        filesystem, inner = fs_module.LocalFileSystem(), target
    infos = filesystem.get_file_info(fs_module.FileSelector(inner, recursive=True))
    files = sorted(i.path for i in infos if i.type == fs_module.FileType.File)
    files = [f for f in files if f.endswith(".parquet")]
    rows = [parquet.read_metadata(f, filesystem=filesystem).num_rows for f in files]
    return pl.DataFrame(
        {"path": [scheme + f for f in files], "rows": rows},
        schema={"path": pl.String, "rows": pl.Int64},
    )


# --------------------------------------------------------------------------- on the workers


def _terms(token: str, blob: bytes) -> RayTerms:
    found = unpickled(token, blob)
    assert isinstance(found, RayTerms)
    return found


def _long(frame: pl.DataFrame, offers: Sequence[str] | None) -> pl.DataFrame:
    """Every row on each of ``offers`` (the long form, a row's place ``_pos * n + k`` on its
    ``k``-th offer), or the rows as they are."""
    if offers is None:
        return frame
    on = pl.DataFrame(
        {"offer_id": list(offers), "_k": range(len(offers))},
        schema={"offer_id": pl.String, "_k": pl.Int64},
    )
    long = frame.join(on, how="cross", maintain_order="left_right")
    return long.with_columns(pl.col(POS) * len(offers) + pl.col("_k")).drop("_k")


def _whole(frame: pl.DataFrame, terms: RayTerms) -> pl.Expr:
    """Whether each row is on an offer with running volumes."""
    if "offer_id" not in frame.columns:
        return pl.lit(False)
    offer = text_column("offer_id", frame.schema).cast(pl.String)
    return offer.is_in(sorted(terms.whole)).fill_null(False)


def _priced(frame: pl.DataFrame, terms: RayTerms) -> Any:
    """Rows priced without their places (a tie in a month is broken by a row's content),
    then placed again."""
    place = frame.select(PLACE)
    return arrow(plain(terms.price(frame.drop(PLACE)).hstack(place)))


def price_flat(batch: Any, token: str, blob: bytes) -> Any:
    """A batch's rows on offers without running volumes, priced."""
    terms = _terms(token, blob)
    frame = _long(frame_of(batch), terms.offers)
    return _priced(frame.filter(~_whole(frame, terms)), terms)


def whole_rows(batch: Any, token: str, blob: bytes) -> Any:
    """A batch's rows on offers with running volumes, each with a hash of its (account,
    offer, month), as the local engine groups them (``_hash``)."""
    terms = _terms(token, blob)
    frame = _long(frame_of(batch), terms.offers)
    rows = frame.filter(_whole(frame, terms))
    schema = rows.schema
    account = typed_column("account", schema).fill_null(REQUEST_COLUMNS["account"][1])
    offer = text_column("offer_id", schema).cast(pl.String)
    ts = utc_timestamps(schema)
    month = pl.lit("") if ts is None else day_of(ts).dt.strftime("%Y-%m").fill_null("")
    return arrow(plain(rows.with_columns(_hash=bucket([account, offer, month], _HASHES))))


def in_bucket(batch: Any, buckets: int) -> Any:
    """Rows with their bucket (``_part``), one of ``buckets``, from their hash."""
    frame = frame_of(batch)
    return arrow(frame.with_columns(_part=pl.col("_hash") % buckets).drop("_hash"))


def price_whole(group: Any, token: str, blob: bytes) -> Any:
    """One bucket's rows, every (account, offer, month) of it priced in one call."""
    return _priced(frame_of(group).drop("_part"), _terms(token, blob))

"""What the Ray tests share: logs written as Hive-partitioned Parquet directories, the rows
such a directory holds as Ray Data reads it, and a real local Ray cluster.

``HAS_RAY``/``needs_ray`` skip a test where ray cannot be imported (``uv sync`` installs it
with the dev group).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(
    not HAS_RAY,
    reason="ray cannot be imported: `uv sync` installs it (dev group), pip install 'pricing[ray]'",
)


def write_hive(frame: pl.DataFrame, root: Path, month: pl.Series, first: int | None) -> Path:
    """``frame`` as ``root/month=YYYY-MM/part-0.parquet`` and ``part-1.parquet`` (the first
    ``first`` rows of the month, default half, then the rest), beside a job's ``_SUCCESS``
    marker, which is not part of the log. ``month`` is each row's ``YYYY-MM``."""
    for key in sorted(set(month.to_list())):
        folder = root / f"month={key}"
        folder.mkdir(parents=True)
        part = frame.filter(month == key)
        head = part.height // 2 if first is None else first
        part.head(head).write_parquet(folder / "part-0.parquet")
        part.slice(head).write_parquet(folder / "part-1.parquet")
    (root / "_SUCCESS").write_text("", encoding="utf-8")
    return root


def as_one(hive: Path) -> pl.DataFrame:
    """The directory's rows as the Ray engine reads them: its files end to end in the order
    of their paths, each with its partition value as text."""
    parts = sorted(hive.rglob("*.parquet"), key=str)
    return pl.concat(
        pl.read_parquet(p, hive_partitioning=False).with_columns(month=pl.lit(p.parent.name[6:]))
        for p in parts
    )


@contextmanager
def local_cluster(*, sort_shuffle: bool = False) -> Iterator[Any]:
    """A real local Ray cluster of 2 CPUs and a 200 MiB object store, shut down afterwards.
    ``sort_shuffle``: Ray Data's sort shuffle, which starts no actors (a third of the hash
    shuffle's time on 2 CPUs; the rows of each group, and so the answer, are the same)."""
    # Workers run this interpreter as it is (not a `uv run` copy of the project per worker).
    before = os.environ.get("RAY_ENABLE_UV_RUN_RUNTIME_ENV")
    os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
    import ray
    from ray.data.context import DataContext, ShuffleStrategy

    ray.init(
        num_cpus=2, object_store_memory=200 * 1024**2, include_dashboard=False, log_to_driver=False
    )
    context = DataContext.get_current()
    strategy = context.shuffle_strategy
    if sort_shuffle:
        context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    try:
        yield ray
    finally:
        context.shuffle_strategy = strategy
        ray.shutdown()
        if before is None:
            os.environ.pop("RAY_ENABLE_UV_RUN_RUNTIME_ENV", None)
        else:
            os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = before

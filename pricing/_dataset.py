"""One data set: the rate cards, GPU offers, throughput profiles, licences and FX rates of a
data directory, loaded and checked together.

Every entry point that reads more than the rate cards takes ``data=`` (``simulate``,
``break_even``, ``build_dashboard``, ``load_workload``, ``list_workloads``, ``price_requests``,
``replay``); the command line's ``--data DIR`` builds one with :func:`load_data_set`. Without
it, each reads the bundled ``data/``. A data set never mixes directories: its catalog, GPU
data and FX rates come from the same place, and a call given ``catalog=`` and ``data=`` from
two different directories is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from pricing._cards.catalog import Catalog, load_catalog
from pricing._cards.loader import bundled_data_dir
from pricing._fx.store import load_fx
from pricing._gpus.gpus import GpuData, load_gpus
from pricing._gpus.licences import ModelLicence, load_licences
from pricing._gpus.profiles import ThroughputData, bundled_throughput, load_throughput
from pricing.errors import PricingError


@dataclass(frozen=True)
class DataSet:
    """Everything the engine reads from one data directory.

    Attributes
    ----------
    catalog : Catalog
        Sources, models and rate cards (``sources.toml``, ``models.toml``, ``rate-cards/``).
    gpus : GpuData
        GPU types, rented offers and owned hardware (``gpus/``).
    throughput : ThroughputData
        Seconds per image by model, GPU and precision (``throughput.toml``).
    licences : dict of str to ModelLicence
        Licence terms of open-weights models (``licences.toml``).
    fx : DataFrame
        ECB reference rates (``fx/*.csv``): ``date``, ``currency``, ``per_eur``, ``source``.
    """

    catalog: Catalog
    gpus: GpuData
    throughput: ThroughputData
    licences: dict[str, ModelLicence]
    fx: pl.DataFrame

    @property
    def root(self) -> Path:
        """The data directory."""
        return self.catalog.root

    @property
    def workloads_dir(self) -> Path:
        """Where the data set's workload files are (``workloads/``)."""
        return self.root / "workloads"


def load_data_set(root: str | Path | None = None) -> DataSet:
    """Load and check every file of a data directory (default: the bundled ``data/``).

    Each part is cached until one of its files changes, so calling this again is cheap.

    Raises
    ------
    RateCardError
        Listing every problem found in the first file set that has any.
    """
    path = (Path(root) if root is not None else bundled_data_dir()).resolve()
    if not (path / "sources.toml").is_file():
        raise PricingError(
            f"{path} is not a data directory (no sources.toml); pass the folder that holds "
            "sources.toml, rate-cards/ and gpus/, e.g. a copy of the bundled data/"
        )
    return _load_cached(path, _stamp(path))


def _stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cache key that changes whenever a data file changes."""
    files = sorted(p for p in root.rglob("*") if p.suffix in (".toml", ".csv") and p.is_file())
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


@lru_cache(maxsize=4)
def _load_cached(root: Path, stamp: tuple[tuple[str, int, int], ...]) -> DataSet:
    bundled = root == bundled_data_dir().resolve()
    return DataSet(
        catalog=load_catalog(root),
        gpus=load_gpus(root),
        throughput=bundled_throughput() if bundled else load_throughput(root),
        licences=load_licences(root),
        fx=load_fx(root),
    )


def pick_catalog(catalog: Catalog | None, data: DataSet | None) -> Catalog:
    """The catalog of a call that takes both ``catalog=`` and ``data=``: one of them, or bundled."""
    if data is None:
        return catalog if catalog is not None else load_catalog()
    if catalog is not None and catalog.root != data.catalog.root:
        raise PricingError(
            f"catalog= ({catalog.root}) and data= ({data.root}) are different data directories; "
            "pass only data= (its catalog is data.catalog)"
        )
    return catalog if catalog is not None else data.catalog

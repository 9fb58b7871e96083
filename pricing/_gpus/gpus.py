"""GPU types, rented GPU offers and owned hardware: the self-hosting inputs in ``data/gpus/``.

Three files, each checked against the others and against ``data/sources.toml``:

- ``gpus/gpus.toml``: GPU types (memory and power where a source gives them);
- ``gpus/offers.toml``: rented GPU capacity, with the price exactly as published (per second,
  hour or month; for the instance or per GPU) and its billing granularity;
- ``gpus/owned.toml``: buying the hardware (purchase price, life, power, PUE, electricity).

Disagreeing sources are kept as separate offers (ids ``provider/sku-category`` plus a ``.tag``
suffix such as ``.2026-11``); nothing is averaged. In the :class:`~pricing.errors.Problem`
objects raised by :func:`load_gpus`, ``offer`` names the entry (GPU id, offer id, owned id).

The models are in :mod:`pricing._gpus.offers`; the reading of ``[[entries]]`` files, shared
with the throughput and licence data, in :mod:`pricing._gpus.entries`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pricing._cards.loader import bundled_data_dir, load_model, relative_path
from pricing._cards.schema import Source, SourcesFile
from pricing._gpus.entries import (
    check_gpu,
    check_source,
    check_unique,
    read_entries,
)
from pricing._gpus.offers import (
    GpuOffer,
    GpuOffersFile,
    GpusFile,
    GpuType,
    OwnedFile,
    OwnedHardware,
)
from pricing.errors import Problem, RateCardError


@dataclass(frozen=True)
class GpuData:
    """Everything in ``data/gpus/``, checked, with the sources it cites."""

    root: Path
    sources: dict[str, Source]
    gpus: dict[str, GpuType]
    offers: tuple[GpuOffer, ...]
    owned: tuple[OwnedHardware, ...]
    #: provider id -> its name (``data/gpus/offers.toml``'s ``[[provider]]`` entries)
    providers: dict[str, str] = field(default_factory=dict)

    def offer(self, offer_id: str) -> GpuOffer:
        """The offer with this id; ``KeyError`` naming a few known ids otherwise."""
        for o in self.offers:
            if o.id == offer_id:
                return o
        known = ", ".join(o.id for o in self.offers[:5])
        raise KeyError(f"unknown GPU offer {offer_id!r}; known: {known}, ...")


def load_gpus(root: Path | None = None) -> GpuData:
    """Load and check ``data/gpus/*.toml`` against ``data/sources.toml``.

    Parameters
    ----------
    root : Path, optional
        A ``data/`` directory; default: the bundled one.

    Raises
    ------
    RateCardError
        Listing every problem found, each naming file, entry, field and the fix.
    """
    root = bundled_data_dir() if root is None else Path(root)
    problems: list[Problem] = []
    sources = load_model(root / "sources.toml", SourcesFile, root, problems)
    gpus = read_entries(root / "gpus" / "gpus.toml", GpusFile, root, problems)
    offers = read_entries(root / "gpus" / "offers.toml", GpuOffersFile, root, problems)
    owned = read_entries(root / "gpus" / "owned.toml", OwnedFile, root, problems)
    if sources is None or gpus is None or offers is None or owned is None or problems:
        raise RateCardError(problems)
    source_ids = {s.id for s in sources.source}
    gpu_file, offer_file = (
        relative_path(root / "gpus" / "gpus.toml", root),
        relative_path(root / "gpus" / "offers.toml", root),
    )
    owned_file = relative_path(root / "gpus" / "owned.toml", root)
    problems.extend(check_unique(gpu_file, [g.id for g in gpus.gpu], "GPU id"))
    problems.extend(check_unique(offer_file, [o.id for o in offers.offer], "offer id"))
    problems.extend(check_unique(owned_file, [o.id for o in owned.owned], "owned id"))
    for g in gpus.gpu:
        for name in ("memory_source", "power_source"):
            problems.extend(check_source(gpu_file, g.id, name, getattr(g, name), source_ids))
    gpu_ids = {g.id for g in gpus.gpu}
    problems.extend(check_unique(offer_file, [p.id for p in offers.provider], "provider id"))
    for o in offers.offer:
        problems.extend(_check_offer(offer_file, o, gpu_ids, source_ids))
    for w in owned.owned:
        problems.extend(check_gpu(owned_file, w.id, w.gpu, gpu_ids))
        for name in ("purchase_source", "power_source", "assumptions_source", "hosting_source"):
            problems.extend(check_source(owned_file, w.id, name, getattr(w, name), source_ids))
        for i, sid in enumerate(w.confirmed_by):
            problems.extend(check_source(owned_file, w.id, f"confirmed_by[{i}]", sid, source_ids))
    if problems:
        raise RateCardError(problems)
    return GpuData(
        root,
        {s.id: s for s in sources.source},
        {g.id: g for g in gpus.gpu},
        tuple(offers.offer),
        tuple(owned.owned),
        {p.id: p.name for p in offers.provider},
    )


def _check_offer(rel: str, o: GpuOffer, gpu_ids: set[str], source_ids: set[str]) -> list[Problem]:
    out = check_gpu(rel, o.id, o.gpu, gpu_ids)
    out += check_source(rel, o.id, "source", o.source, source_ids)
    for i, sid in enumerate(o.confirmed_by):
        out += check_source(rel, o.id, f"confirmed_by[{i}]", sid, source_ids)
    if o.id.split("/", 1)[0] != o.provider:
        out.append(
            Problem(
                rel,
                f"offer id must start with the provider id {o.provider!r}",
                f"rename it to {o.provider}/{o.id.split('/', 1)[-1]}",
                offer=o.id,
                field="id",
            )
        )
    if o.source in o.confirmed_by:
        out.append(
            Problem(
                rel,
                f"`confirmed_by` repeats the offer's own source {o.source!r}",
                "remove it from `confirmed_by`",
                offer=o.id,
                field="confirmed_by",
            )
        )
    return out


# ----------------------------------------------------------------------------- tables


def gpu_offers_table(data: GpuData | None = None, gpu: str | None = None) -> pl.DataFrame:
    """One row per GPU offer, with hourly prices per instance and per GPU.

    Parameters
    ----------
    data : GpuData, optional
        Default: :func:`load_gpus` of the bundled data.
    gpu : str, optional
        Keep only offers of this GPU id.

    Returns
    -------
    polars.DataFrame
        ``offer_id, provider, sku, gpu, gpu_name, gpus, region, category, price`` [as
        published], ``per, price_basis, currency, instance_hourly`` [currency/h],
        ``gpu_hourly`` [currency/GPU-h], ``granularity_s`` [s; 3600 when unknown],
        ``granularity_known, minimum_s, effective, source, source_kind, confirmed_by,
        confidence, notes``.
    """
    data = load_gpus() if data is None else data
    if gpu is not None and gpu not in data.gpus:
        raise KeyError(f"unknown GPU {gpu!r}; known: {', '.join(sorted(data.gpus))}")
    rows = [o for o in data.offers if gpu is None or o.gpu == gpu]
    return pl.DataFrame(
        {
            "offer_id": [o.id for o in rows],
            "provider": [o.provider for o in rows],
            "sku": [o.sku for o in rows],
            "gpu": [o.gpu for o in rows],
            "gpu_name": [data.gpus[o.gpu].name for o in rows],
            "gpus": [o.gpus for o in rows],
            "region": [o.region for o in rows],
            "category": [o.category for o in rows],
            "price": [float(o.price) for o in rows],
            "per": [o.per for o in rows],
            "price_basis": [o.price_basis for o in rows],
            "currency": [o.currency for o in rows],
            "instance_hourly": [float(o.hourly_price) for o in rows],
            "gpu_hourly": [float(o.gpu_hourly_price) for o in rows],
            "granularity_s": [o.billing_granularity_s for o in rows],
            "granularity_known": [o.granularity_s is not None for o in rows],
            "minimum_s": [o.minimum_s for o in rows],
            "effective": [o.effective for o in rows],
            "source": [o.source for o in rows],
            "source_kind": [data.sources[o.source].kind for o in rows],
            "confirmed_by": [list(o.confirmed_by) for o in rows],
            "confidence": [o.confidence for o in rows],
            "notes": [o.notes for o in rows],
        },
        schema={
            "offer_id": pl.String,
            "provider": pl.String,
            "sku": pl.String,
            "gpu": pl.String,
            "gpu_name": pl.String,
            "gpus": pl.Int64,
            "region": pl.String,
            "category": pl.String,
            "price": pl.Float64,
            "per": pl.String,
            "price_basis": pl.String,
            "currency": pl.String,
            "instance_hourly": pl.Float64,
            "gpu_hourly": pl.Float64,
            "granularity_s": pl.Int64,
            "granularity_known": pl.Boolean,
            "minimum_s": pl.Int64,
            "effective": pl.Date,
            "source": pl.String,
            "source_kind": pl.String,
            "confirmed_by": pl.List(pl.String),
            "confidence": pl.String,
            "notes": pl.String,
        },
    )

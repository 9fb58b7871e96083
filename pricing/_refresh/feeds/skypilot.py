"""What a refresh adds from row-shaped sources: SkyPilot GPU offers and ECB exchange rates.

See :mod:`pricing._refresh.additions` for the rule that decides what is new or changed; nothing
here writes.

SkyPilot lists one row per availability zone. Rows of one instance, region and price category
become one offer per region when every zone of the region has the same price, and one offer
per zone (its id ending in the zone) when the zones differ: prices are never averaged.
SkyPilot prices are per instance-hour [USD/h]; GCP rows price the GPUs alone (the host VM is a
separate row, not imported), which the offer's notes say.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl
from pydantic import ValidationError

from pricing._gpus.gpus import GpuOffer
from pricing._refresh.additions import Additions, Context, _pct, _slug
from pricing._refresh.http import RefreshError
from pricing._refresh.sources import SkyPilotRow, validation_reason

#: SkyPilot ``AcceleratorName`` -> GPU id of ``data/gpus/gpus.toml``.
SKYPILOT_GPUS: dict[str, str] = {
    "H100": "h100-sxm",
    "H100-SXM": "h100-sxm",
    "H200": "h200",
    "H200-SXM": "h200",
    "GH200": "gh200",
    "B200": "b200",
    "B300": "b300",
    "A100": "a100-40gb",
    "A100-80GB": "a100-80gb",
    "A10G": "a10g",
    "A10": "a10",
    "A40": "a40",
    "L40S": "l40s",
    "L40": "l40",
    "L4": "l4",
    "T4": "t4",
    "V100": "v100",
    "V100-32GB": "v100",
    "A6000": "rtx-a6000",
    "A5000": "rtx-a5000",
    "A4500": "rtx-a4500",
    "A4000": "rtx-a4000",
    "RTX6000": "quadro-rtx-6000",
    "RTX6000-Ada": "rtx-6000-ada",
    "RTX4090": "rtx-4090",
    "RTX3090": "rtx-3090",
}
#: The PCIe variant of a GPU id, used when the instance type or GpuInfo says "PCIe".
PCIE_VARIANTS = {
    "h100-sxm": "h100-pcie",
    "a100-80gb": "a100-80gb-pcie",
    "a100-40gb": "a100-40gb-pcie",
}
_TAG = re.compile(r"\.\d{4}-\d{2}-\d{2}(-\d+)?$")


@dataclass(frozen=True)
class _Key:
    sku: str
    slug: str
    accelerator: str
    gpu: str
    gpus: int
    region: str
    category: str


def _gpu_id(row: SkyPilotRow, known: set[str]) -> tuple[str | None, str]:
    """(GPU id, "") for a row, or (None, why it has none)."""
    gpu = SKYPILOT_GPUS.get(row.accelerator)
    if gpu is None:
        return None, f"SkyPilot GPU {row.accelerator!r} is not mapped to a GPU id"
    said = f"{row.instance_type} {row.gpu_name or ''}".lower()
    if "pcie" in said and gpu in PCIE_VARIANTS:
        gpu = PCIE_VARIANTS[gpu]
    if gpu not in known:
        return None, f"GPU {gpu!r} (SkyPilot {row.accelerator!r}) is not in data/gpus/gpus.toml"
    return gpu, ""


def _latest_by_base(offers: tuple[GpuOffer, ...]) -> dict[str, GpuOffer]:
    """The latest entry of each offer id, dated tags (``.YYYY-MM-DD``) folded onto their base."""
    latest: dict[str, GpuOffer] = {}
    for o in offers:
        base = _TAG.sub("", o.id)
        if base not in latest or o.effective >= latest[base].effective:
            latest[base] = o
    return latest


def _same_price(a: GpuOffer, b: GpuOffer) -> bool:
    fields = ("price", "per", "price_basis", "currency", "gpus", "gpu")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def _group(
    rows: list[SkyPilotRow], known: set[str], adds: Additions, source: str
) -> dict[_Key, list[tuple[str | None, Decimal]]]:
    groups: dict[_Key, list[tuple[str | None, Decimal]]] = defaultdict(list)
    cpu = 0
    unknown: Counter[str] = Counter()
    for row in rows:
        if not row.accelerator or row.count is None:
            cpu += 1
            continue
        gpu, why = _gpu_id(row, known)
        if gpu is None:
            unknown[why] += 1
            continue
        if row.instance_type:
            sku = row.instance_type
            slug = _slug(re.sub(r"_(SECURE|COMMUNITY)$", "", sku))
        else:
            sku, slug = f"{row.accelerator} x{row.count}", _slug(f"{row.accelerator}-x{row.count}")
        on_demand = "on-demand"
        if sku.endswith("_SECURE"):
            on_demand = "secure"
        elif sku.endswith("_COMMUNITY"):
            on_demand = "community"
        for category, price in ((on_demand, row.price), ("spot", row.spot_price)):
            if price is not None:
                key = _Key(sku, slug, row.accelerator, gpu, row.count, row.region, category)
                groups[key].append((row.zone, price))
    if cpu:
        adds.skip(source, "CPU-only rows", f"{cpu} row(s) without a GPU")
    for why, n in sorted(unknown.items()):
        adds.skip(source, "unmapped GPU", f"{why}: {n} row(s) not imported")
    return groups


def plan_skypilot(
    rows: list[SkyPilotRow], ctx: Context, source: str, cloud: str, sid: str
) -> Additions:
    """GPU offers (on demand and spot, per region or zone) from a SkyPilot catalog."""
    adds = Additions()
    latest = _latest_by_base(ctx.gpus.offers)
    taken = {o.id for o in ctx.gpus.offers}
    for key, entries in _group(rows, set(ctx.gpus.gpus), adds, source).items():
        zones = sorted({z for z, _ in entries if z})
        if len({p for _, p in entries}) == 1:
            items: list[tuple[str | None, Decimal]] = [(None, entries[0][1])]
        else:
            by_zone: dict[str, Decimal] = {}
            for zone, price in entries:
                by_zone.setdefault(zone or "", price)
            items = sorted(by_zone.items())
        for zone, price in items:
            base = f"{cloud}/{key.slug}-{key.category}-{_slug(key.region)}"
            notes = f"SkyPilot v8 {cloud} catalog: {key.accelerator} x{key.gpus}"
            if zone:
                base += f"-{_slug(zone)}"
                notes += f"; zone {zone} (the zones of {key.region} differ in price)"
            elif len(zones) > 1:
                notes += f"; same price in {len(zones)} zones"
            if " x" in key.sku:
                notes += "; GPUs only, the host VM is billed separately (not included)"
            offer = _offer(source, base, cloud, key, price, ctx.day, sid, notes + ".")
            prior = latest.get(base)
            if prior is not None and _same_price(prior, offer):
                adds.unchanged += 1
                continue
            offer_id = _free_id(source, base, ctx.day, taken)
            taken.add(offer_id)
            offer = offer.model_copy(update={"id": offer_id})
            adds.gpu_offers.append(offer)
            adds.change(
                source,
                offer_id,
                f"{key.gpu} x{key.gpus}, {key.category}, {key.region}",
                None if prior is None else f"{prior.hourly_price.normalize():f} USD/h ({prior.id})",
                f"{offer.hourly_price.normalize():f} USD/h",
                None if prior is None else _pct(prior.hourly_price, offer.hourly_price),
            )
    return adds


def _offer(
    source: str, oid: str, cloud: str, key: _Key, price: Decimal, day: date, sid: str, notes: str
) -> GpuOffer:
    raw = {
        "id": oid,
        "provider": cloud,
        "sku": key.sku,
        "gpu": key.gpu,
        "gpus": key.gpus,
        "region": key.region,
        "category": key.category,
        "price": price,
        "per": "hour",
        "price_basis": "instance",
        "effective": day,
        "source": sid,
        "notes": notes,
    }
    try:
        return GpuOffer.model_validate(raw)
    except ValidationError as exc:
        raise RefreshError(source, f"{oid}: invalid GPU offer: {validation_reason(exc)}") from None


def _free_id(source: str, base: str, day: date, taken: set[str]) -> str:
    """``base`` if unused, else ``base.YYYY-MM-DD`` (then ``-2``, ``-3``...)."""
    if base not in taken:
        candidates: Iterable[str] = [base]
    else:
        candidates = (f"{base}.{day}{f'-{n}' if n > 1 else ''}" for n in range(1, 100))
    for oid in candidates:
        if oid not in taken:
            if len(oid) > 120:
                raise RefreshError(source, f"offer id {oid!r} is longer than 120 characters")
            return oid
    raise RefreshError(source, f"no free id for {base!r} on {day}")  # pragma: no cover


# --------------------------------------------------------------------------- ECB


def plan_fx(frame: pl.DataFrame, ctx: Context, source: str) -> Additions:
    """New dated rates; a rate already recorded for that day and currency is never replaced."""
    adds = Additions()
    existing: dict[tuple[date, str], Decimal] = {}
    history: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for day, code, rate, _ in ctx.fx.select("date", "currency", "per_eur", "source").iter_rows():
        existing[(day, code)] = rate
        history[code].append((day, rate))
    for day, code, rate, sid in frame.select("date", "currency", "per_eur", "source").iter_rows():
        known = existing.get((day, code))
        if known is not None:
            if known == rate:
                adds.unchanged += 1
            else:
                adds.skip(
                    source,
                    f"{code} on {day}",
                    f"the download says {rate.normalize():f}, data/fx has "
                    f"{known.normalize():f}; kept the recorded rate (remove that row by hand "
                    "if the ECB corrected it)",
                )
            continue
        adds.fx_rows.append((day, code, rate, sid))
        if code == "EUR":
            continue
        before = [(d, r) for d, r in history.get(code, []) if d < day]
        old = max(before) if before else None
        adds.change(
            source,
            code,
            f"{code} per EUR on {day}",
            None if old is None else f"{old[1].normalize():f} (on {old[0]})",
            f"{rate.normalize():f}",
            None if old is None else _pct(old[1], rate),
        )
    return adds

"""SkyPilot's GPU price catalogs, schema v8 (``catalogs/v8/<cloud>/vms.csv``), as GPU offers.

The catalog's ``GpuInfo`` column is a Python literal: it is read with a regular expression,
never evaluated. See :mod:`pricing._refresh.additions` for the rule that decides what is new or
changed; nothing here writes.

SkyPilot lists one row per availability zone. Rows of one instance, region and price category
become one offer per region when every zone of the region has the same price, and one offer
per zone (its id ending in the zone) when the zones differ: prices are never averaged.
SkyPilot prices are per instance-hour [USD/h]; GCP rows price the GPUs alone (the host VM is a
separate row, not imported), which the offer's notes say.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from pricing._cards.plausible import LARGEST
from pricing._gpus.offers import GpuOffer
from pricing._refresh.additions import Additions, Context, pct, slug, validation_reason
from pricing._refresh.changes import value_change
from pricing._refresh.feed import Feed, FeedFetch, body_text
from pricing.errors import RefreshError

#: Columns a SkyPilot v8 ``vms.csv`` must have (their order differs between clouds).
SKYPILOT_COLUMNS = ("InstanceType", "AcceleratorName", "AcceleratorCount", "Price", "Region")
_GPU_NAME = re.compile(r"'Name':\s*'([^']*)'")
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


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class SkyPilotRow:
    """One row of a SkyPilot v8 catalog. Prices are per instance-hour [USD/h]."""

    line: int
    instance_type: str
    accelerator: str  # "" on CPU-only rows
    count: int | None
    price: Decimal | None  # on demand; None when the cell is empty
    spot_price: Decimal | None
    region: str
    zone: str | None
    gpu_name: str | None  # GpuInfo's 'Name', e.g. 'A100 PCIe'


def _price_cell(text: str, column: str, line: int, source: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RefreshError(source, f"line {line}: {column} {text!r} is not a number") from None
    if not value.is_finite():
        raise RefreshError(source, f"line {line}: {column} {text!r} is not a finite number")
    if value < 0:
        raise RefreshError(source, f"line {line}: {column} {text!r} is negative")
    if value > LARGEST:
        raise RefreshError(source, f"line {line}: {column} {text!r} is larger than any real price")
    if value == 0:
        raise RefreshError(
            source, f"line {line}: {column} is 0; an empty cell means no price, zero is refused"
        )
    return value


def _count_cell(text: str, line: int, source: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RefreshError(
            source, f"line {line}: AcceleratorCount {text!r} is not a number"
        ) from None
    if not value.is_finite() or value != value.to_integral_value() or not 1 <= value <= 1024:
        raise RefreshError(
            source, f"line {line}: AcceleratorCount {text!r} is not a whole number of GPUs"
        )
    return int(value)


def parse_skypilot_csv(data: bytes, source: str) -> list[SkyPilotRow]:
    """Rows of a SkyPilot v8 ``vms.csv``, columns mapped by header name (orders differ).

    Raises
    ------
    RefreshError
        Not UTF-8, not CSV, a header without the v8 columns, a row of the wrong width, or a
        price that is not a positive number (the line is named).
    """
    text = body_text(data, source, "the catalog")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[SkyPilotRow] = []
    try:
        header = [h.strip() for h in next(reader)]
        missing = [c for c in SKYPILOT_COLUMNS if c not in header]
        if missing:
            raise RefreshError(
                source,
                f"not a SkyPilot v8 catalog: the header lacks {', '.join(missing)} "
                f"(found {','.join(header)[:120]!r})",
            )
        col = {name: header.index(name) for name in header}
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise RefreshError(
                    source, f"line {line}: {len(row)} fields, the header has {len(header)}"
                )

            def cell(name: str, row: list[str] = row) -> str:
                return row[col[name]].strip() if name in col else ""

            info = _GPU_NAME.search(cell("GpuInfo"))
            region = cell("Region")
            if not region:
                raise RefreshError(source, f"line {line}: Region is empty")
            rows.append(
                SkyPilotRow(
                    line=line,
                    instance_type=cell("InstanceType"),
                    accelerator=cell("AcceleratorName"),
                    count=_count_cell(cell("AcceleratorCount"), line, source),
                    price=_price_cell(cell("Price"), "Price", line, source),
                    spot_price=_price_cell(cell("SpotPrice"), "SpotPrice", line, source),
                    region=region,
                    zone=cell("AvailabilityZone") or None,
                    gpu_name=info.group(1) if info else None,
                )
            )
    except StopIteration:
        raise RefreshError(source, "the catalog has no header line") from None
    except csv.Error as exc:
        raise RefreshError(source, f"not valid CSV at line {reader.line_num} ({exc})") from None
    if not rows:
        raise RefreshError(source, "the catalog has a header but no rows")
    return rows


# --------------------------------------------------------------------------- planning


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
            sku_slug = slug(re.sub(r"_(SECURE|COMMUNITY)$", "", sku))
        else:
            sku = f"{row.accelerator} x{row.count}"
            sku_slug = slug(f"{row.accelerator}-x{row.count}")
        on_demand = "on-demand"
        if sku.endswith("_SECURE"):
            on_demand = "secure"
        elif sku.endswith("_COMMUNITY"):
            on_demand = "community"
        for category, price in ((on_demand, row.price), ("spot", row.spot_price)):
            if price is not None:
                key = _Key(sku, sku_slug, row.accelerator, gpu, row.count, row.region, category)
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
            base = f"{cloud}/{key.slug}-{key.category}-{slug(key.region)}"
            notes = f"SkyPilot v8 {cloud} catalog: {key.accelerator} x{key.gpus}"
            if zone:
                base += f"-{slug(zone)}"
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
            if prior is not None:
                large = value_change(offer_id, prior.hourly_price, offer.hourly_price, "USD/h")
                if large is not None:
                    adds.large.append(f"{large}, replacing {prior.id}")
            adds.change(
                source,
                offer_id,
                f"{key.gpu} x{key.gpus}, {key.category}, {key.region}",
                None if prior is None else f"{prior.hourly_price.normalize():f} USD/h ({prior.id})",
                f"{offer.hourly_price.normalize():f} USD/h",
                None if prior is None else pct(prior.hourly_price, offer.hourly_price),
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


def run(feed: Feed, ctx: Context, sid: str, fetch: FeedFetch) -> Additions:
    """Fetch one cloud's catalog, parse it and compare its GPU offers with the data."""
    rows = parse_skypilot_csv(fetch(feed.url).body, feed.name)
    return plan_skypilot(rows, ctx, feed.name, feed.cloud or "", sid)

"""Parsers of the five refresh sources: bytes in, validated records out, or a RefreshError.

- rate cards in this project's own format (TOML, or JSON of the same shape) from a registry;
- SkyPilot GPU price catalogs, schema v8 (``catalogs/v8/<cloud>/vms.csv``);
- OpenRouter's models API (``GET /api/v1/models``);
- fal's pricing API (``GET /v1/models/pricing``);
- the European Central Bank's reference rates XML (via :func:`pricing._fx.store.parse_ecb_xml`).

Each parser either returns records that passed the same pydantic models as local data, or
raises :class:`~pricing._refresh.http.RefreshError` naming the source and what is wrong. None of them
evaluates the input (SkyPilot's ``GpuInfo`` column is a Python literal: it is read with a
regular expression, never ``eval``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pricing._cards.loader import _problems_from_validation
from pricing._cards.schema import Currency, RateCard
from pricing._fx.store import parse_ecb_xml
from pricing._refresh.http import RefreshError
from pricing.errors import FxError

#: Columns a SkyPilot v8 ``vms.csv`` must have (their order differs between clouds).
SKYPILOT_COLUMNS = ("InstanceType", "AcceleratorName", "AcceleratorCount", "Price", "Region")
_GPU_NAME = re.compile(r"'Name':\s*'([^']*)'")


def _text(data: bytes, source: str, what: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RefreshError(source, f"{what} is not UTF-8 text ({exc})") from None
    if not text.strip():
        raise RefreshError(source, f"{what} is empty")
    return text


def validation_reason(exc: ValidationError, limit: int = 3) -> str:
    """The first ``limit`` errors of ``exc`` as ``field: message (got value)``."""
    parts = []
    for err in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "document"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {str(value)[:60]!r})"
        parts.append(f"{loc}: {err['msg']}{shown}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _json(data: bytes, source: str, what: str) -> Any:
    text = _text(data, source, what)
    try:
        return json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise RefreshError(source, f"{what} is not valid JSON ({exc})") from None


# --------------------------------------------------------------------------- rate cards


def parse_cards(data: bytes, source: str) -> list[RateCard]:
    """Rate cards from a registry: one TOML card, or JSON of one card or a list of cards.

    Raises
    ------
    RefreshError
        Not UTF-8, not TOML/JSON, or a card the :class:`~pricing.RateCard` model rejects (the
        message locates the offer, version and field, as ``pricing cards validate`` does).
    """
    text = _text(data, source, "the rate card")
    head = text.lstrip()[:1]
    raws: list[Any]
    if head in ("{", "["):
        doc = _json(data, source, "the rate card")
        if isinstance(doc, dict) and isinstance(doc.get("cards"), list):
            raws = doc["cards"]
        else:
            raws = doc if isinstance(doc, list) else [doc]
    else:
        try:
            raws = [tomllib.loads(text, parse_float=Decimal)]
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            raise RefreshError(source, f"the rate card is not valid TOML ({exc})") from None
    if not raws:
        raise RefreshError(source, "the document holds no rate card")
    cards: list[RateCard] = []
    for i, raw in enumerate(raws):
        if not isinstance(raw, dict):
            raise RefreshError(source, f"card #{i + 1} is not a table/object of a rate card")
        try:
            cards.append(RateCard.model_validate(raw))
        except ValidationError as exc:
            problems = _problems_from_validation(f"card #{i + 1}", raw, exc)
            shown = "; ".join(str(p) for p in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise RefreshError(source, f"invalid rate card: {shown}{more}") from None
    providers = [c.provider for c in cards]
    if len(set(providers)) != len(providers):
        raise RefreshError(source, f"the document repeats a provider: {providers}")
    return cards


# --------------------------------------------------------------------------- SkyPilot


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
    text = _text(data, source, "the catalog")
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


# --------------------------------------------------------------------------- OpenRouter


class _Lenient(BaseModel):
    """API records: unknown fields are ignored (APIs grow), values are still checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class OpenRouterPricing(_Lenient):
    """USD per token (``prompt``, ``completion``, ``image``, ``image_output``); -1 = variable."""

    prompt: Decimal | None = None
    completion: Decimal | None = None
    image: Decimal | None = None
    image_output: Decimal | None = None

    @field_validator("prompt", "completion", "image", "image_output")
    @classmethod
    def _price(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (not value.is_finite() or (value < 0 and value != -1)):
            raise ValueError(f"price {value} is not a non-negative number (or -1 for variable)")
        return value

    @property
    def variable(self) -> bool:
        """OpenRouter's -1: the price depends on the model a router picks per request."""
        prices = (self.prompt, self.completion, self.image, self.image_output)
        return any(v is not None and v < 0 for v in prices)


class OpenRouterArchitecture(_Lenient):
    input_modalities: list[str] = Field(default_factory=list)
    output_modalities: list[str] = Field(default_factory=list)


class OpenRouterModel(_Lenient):
    id: str = Field(min_length=1, max_length=200)
    name: str | None = None
    architecture: OpenRouterArchitecture = Field(default_factory=OpenRouterArchitecture)
    pricing: OpenRouterPricing

    @property
    def makes_images(self) -> bool:
        return "image" in self.architecture.output_modalities


class OpenRouterModels(_Lenient):
    data: list[OpenRouterModel]


def parse_openrouter(data: bytes, source: str) -> list[OpenRouterModel]:
    """Models of an OpenRouter ``/api/v1/models`` response (``{"data": [...]}``).

    Raises
    ------
    RefreshError
        Not JSON, no ``data`` list, a model without ``id`` or ``pricing``, or a price that is
        negative (other than OpenRouter's -1 for variable prices) or not a number.
    """
    doc = _json(data, source, "the models response")
    if not isinstance(doc, dict):
        raise RefreshError(source, 'the models response is not a JSON object {"data": [...]}')
    try:
        return OpenRouterModels.model_validate(doc).data
    except ValidationError as exc:
        raise RefreshError(
            source, f"unexpected models response: {validation_reason(exc)}"
        ) from None


# --------------------------------------------------------------------------- fal


class FalPrice(_Lenient):
    """One endpoint's price: ``unit_price`` [currency per ``unit``]."""

    endpoint_id: str = Field(min_length=1, max_length=200)
    unit_price: Decimal = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1)
    currency: Currency


class FalPricing(_Lenient):
    prices: list[FalPrice]
    next_cursor: str | None = None
    has_more: bool = False


def parse_fal(data: bytes, source: str) -> FalPricing:
    """One page of fal's ``/v1/models/pricing`` response.

    Raises
    ------
    RefreshError
        Not JSON, no ``prices`` list, or a price without endpoint, unit, currency, or with a
        negative or non-numeric ``unit_price``.
    """
    doc = _json(data, source, "the pricing response")
    if not isinstance(doc, dict):
        raise RefreshError(source, 'the pricing response is not a JSON object {"prices": [...]}')
    try:
        return FalPricing.model_validate(doc)
    except ValidationError as exc:
        raise RefreshError(
            source, f"unexpected pricing response: {validation_reason(exc)}"
        ) from None


# --------------------------------------------------------------------------- ECB


def parse_ecb(data: bytes, source: str, source_id: str) -> pl.DataFrame:
    """ECB reference rates as an FX frame (see :func:`pricing.parse_ecb_xml`), rows citing
    ``source_id``; :class:`RefreshError` instead of ``FxError`` on a bad document."""
    try:
        return parse_ecb_xml(data, source=source_id)
    except FxError as exc:
        raise RefreshError(source, str(exc).removeprefix(f"{source_id}: ")) from None

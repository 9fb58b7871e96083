"""JSON Schemas of the data files, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pricing._cards.coverage import CoverageFile
from pricing._cards.schema import ModelsFile, RateCard, SourcesFile
from pricing._gpus.licences import LicencesFile
from pricing._gpus.offers import GpuOffersFile, GpusFile, OwnedFile
from pricing._gpus.profiles import ThroughputFile
from pricing._workloads.model import Workload

_DOCUMENTS: dict[str, tuple[type[BaseModel], str]] = {
    "rate-card.json": (RateCard, "Rate card: data/rate-cards/<provider>.toml"),
    "sources.json": (SourcesFile, "Sources: data/sources.toml"),
    "models.json": (ModelsFile, "Models: data/models.toml"),
    "gpus.json": (GpusFile, "GPU types: data/gpus/gpus.toml"),
    "gpu-offers.json": (GpuOffersFile, "GPU offers: data/gpus/offers.toml"),
    "owned.json": (OwnedFile, "Owned hardware: data/gpus/owned.toml"),
    "throughput.json": (ThroughputFile, "Throughput profiles: data/throughput.toml"),
    "licences.json": (LicencesFile, "Self-hosting licences: data/licences.toml"),
    "workload.json": (Workload, "Workload: data/workloads/<name>.toml"),
    "coverage.json": (CoverageFile, "LiteLLM models not covered, and why: data/coverage.toml"),
}


def schema_documents() -> dict[str, str]:
    """File name -> JSON Schema text, exactly as committed under ``data/schema/``."""
    out = {}
    for name, (model, title) in _DOCUMENTS.items():
        schema: dict[str, Any] = model.model_json_schema(mode="validation")
        schema["title"] = title
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(directory: str | Path) -> list[Path]:
    """Write every schema document into ``directory``; return the paths written."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_documents().items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written

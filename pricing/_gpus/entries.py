"""Files of ``[[entries]]`` in ``data/`` (GPUs, throughput, licences): reading and checks.

:func:`read_entries` reads one file into its pydantic model, checking its ``#:schema`` line 1
and locating validation errors by entry (its id, or model/gpu/precision) and field; the
``check_*`` functions report repeated ids and unknown GPU or source ids as
:class:`~pricing.errors.Problem` rows that name the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pricing._cards.loader import load_model, validation_fix, validation_message
from pricing.errors import Problem

M = TypeVar("M", bound=BaseModel)


def check_unique(rel: str, ids: list[str], what: str) -> list[Problem]:
    """One problem per repeated id in ``ids``."""
    seen: set[str] = set()
    out = []
    for i in ids:
        if i in seen:
            out.append(Problem(rel, f"duplicate {what}", "give each entry its own id", offer=i))
        seen.add(i)
    return out


def check_source(
    rel: str, entry: str, field: str, source: str | None, known: set[str]
) -> list[Problem]:
    """A problem when ``source`` is set but not a source id in ``data/sources.toml``."""
    if source is None or source in known:
        return []
    return [
        Problem(
            rel,
            f"unknown source {source!r}",
            "add it to data/sources.toml or cite an existing source id",
            offer=entry,
            field=field,
        )
    ]


def check_gpu(rel: str, entry: str, gpu: str, known: set[str]) -> list[Problem]:
    """A problem when ``gpu`` is not an id in ``data/gpus/gpus.toml``."""
    if gpu in known:
        return []
    return [
        Problem(
            rel,
            f"unknown GPU {gpu!r}",
            f"add it to data/gpus/gpus.toml or use a known id ({', '.join(sorted(known)[:8])} ...)",
            offer=entry,
            field="gpu",
        )
    ]


def read_entries(path: Path, model: type[M], root: Path, problems: list[Problem]) -> M | None:
    """Read one TOML file of ``[[entries]]`` into ``model``; record problems by entry id.

    Line 1 must be ``#:schema <relative path to data/schema/<name>.json>``; the schema name is
    the file's entry in :data:`SCHEMA_NAMES`.
    """
    return load_model(
        path, model, root, problems, schema_line=schema_line(path, root), explain=_explain
    )


def _explain(rel: str, raw: dict[str, Any], exc: ValidationError) -> list[Problem]:
    """Validation errors located by entry (its id or model/gpu/precision) and field."""
    out = []
    for err in exc.errors():
        entry, field = _locate(raw, list(err["loc"]))
        out.append(
            Problem(
                rel,
                validation_message(err),
                validation_fix(err, field or ""),
                offer=entry,
                field=field,
            )
        )
    return out


#: Data file (relative to ``data/``) -> its generated JSON Schema in ``data/schema/``.
SCHEMA_NAMES: dict[str, str] = {
    "gpus/gpus.toml": "gpus.json",
    "gpus/offers.toml": "gpu-offers.json",
    "gpus/owned.toml": "owned.json",
    "throughput.toml": "throughput.json",
    "licences.toml": "licences.json",
}


def schema_line(path: Path, root: Path) -> str | None:
    """The ``#:schema`` line 1 expected in a data file, or None if it has no schema."""
    try:
        key = path.relative_to(root).as_posix()
    except ValueError:
        return None
    name = SCHEMA_NAMES.get(key)
    if name is None:
        return None
    up = "../" * key.count("/")
    return f"#:schema {up}schema/{name}"


def entry_label(item: Any, index: int) -> str:
    """How an entry is named in messages: its id, else model/gpu/precision, else its number."""
    if isinstance(item, dict):
        if "id" in item:
            return str(item["id"])
        parts = [str(item[k]) for k in ("model", "gpu", "precision") if k in item]
        if parts:
            return "/".join(parts)
    return f"#{index + 1}"


def _locate(raw: dict[str, Any], loc: list[Any]) -> tuple[str | None, str | None]:
    """(entry label, dotted field path) of a pydantic error location in a file of entries."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        items = raw.get(loc[0])
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        entry: str | None = entry_label(item, loc[1])
        rest = loc[2:]
    else:
        entry, rest = None, loc
    parts: list[str] = []
    for key in rest:
        if isinstance(key, int) and parts:
            parts[-1] += f"[{key}]"
        else:
            parts.append(str(key))
    return entry, ".".join(parts) or None

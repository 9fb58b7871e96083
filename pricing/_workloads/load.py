"""Workloads: what image work a team will run, month by month (``data/workloads/*.toml``).

A workload is a list of segments (one kind of request each: operation, acceptable models,
sizes, monthly volume, latency target), a traffic shape over the week, and optional
self-hosting assumptions. The engine prices it on hosted offers and on self-hosted GPUs.

This module loads and checks workload files. The model is in
:mod:`pricing._workloads.model`, problems and their fixes in :mod:`pricing._workloads.problems`,
the demand tables and traffic curves in :mod:`pricing._workloads.demand`, the uncertain inputs
in :mod:`pricing._workloads.inputs`.
"""

from __future__ import annotations

import errno
import re
import tomllib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pricing._cards.catalog import close_model_ids
from pricing._cards.fields import OPERATIONS
from pricing._cards.loader import bundled_data_dir
from pricing._cards.schema import ImageModel, ModelsFile
from pricing._workloads.model import (
    Workload,
)
from pricing._workloads.problems import problems_from_validation
from pricing.errors import Problem, WorkloadError

if TYPE_CHECKING:
    from pricing._cards.catalog import Catalog
    from pricing._dataset import DataSet


#: The bundled workload used when none is named.
DEFAULT_WORKLOAD = "ecommerce"
SCHEMA_LINE = "#:schema ../schema/workload.json"
#: Largest workload file read [bytes]: a workload is a few kilobytes; this stops a device or a
#: pipe that never ends (``/dev/zero``) from filling the memory.
MAX_BYTES = 4 * 1024 * 1024
#: Deepest nesting of tables and arrays read: a workload needs about five levels
#: (segments, a segment, its resolutions, one resolution, a distribution).
MAX_DEPTH = 32


def workloads_dir(data: DataSet | None = None) -> Path:
    """The ``workloads/`` directory of a data set (default: the bundled ``data/``)."""
    return data.workloads_dir if data is not None else bundled_data_dir() / "workloads"


def list_workloads(data: DataSet | None = None) -> list[str]:
    """Names of the workloads of a data set (``load_workload(name)`` loads one).

    Default: the bundled ``data/workloads``.
    """
    return sorted(p.stem for p in workloads_dir(data).glob("*.toml"))


def load_workload(
    path_or_name: str | Path = DEFAULT_WORKLOAD,
    catalog: Catalog | None = None,
    *,
    data: DataSet | None = None,
) -> Workload:
    """Load and check a workload: a name (``"ecommerce"``) or a path to a TOML file.

    A name is looked up in the data set's ``workloads/`` (default: the bundled one). Model ids
    and operations are checked against ``catalog.models`` (else the data set's, else the
    bundled ``data/models.toml``).

    Raises
    ------
    WorkloadError
        Listing every problem, each with its file, segment, field and fix.
    """
    path, shown = _resolve(path_or_name, data)
    raw = _parse(_read(path, shown), shown)
    if catalog is None and data is not None:
        catalog = data.catalog
    models = catalog.models if catalog is not None else _bundled_models()
    problems = list(_cross_check(shown, raw, models))
    try:
        workload = Workload.model_validate(raw)
    except ValidationError as exc:
        raise WorkloadError(_validation_problems(shown, raw, exc) + problems) from None
    if problems:
        raise WorkloadError(problems)
    return workload


def _read(path: Path, shown: str) -> str:
    """The text of a workload file, or a :class:`WorkloadError` saying why it cannot be read."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _error(shown, "file not found", "check the path, or use a bundled name") from None
    except IsADirectoryError:
        raise _error(
            shown, "is a directory, not a workload file", "give the path of a .toml file in it"
        ) from None
    except ValueError as exc:  # a NUL byte in the path
        raise _error(shown, f"cannot be read: {exc}", "check the path") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            message = "is a symbolic link that loops (it points back at itself)"
            raise _error(shown, message, "point the link at a real .toml file") from None
        reason = exc.strerror or type(exc).__name__
        raise _error(
            shown, f"cannot be read: {reason}", "check the path and its permissions"
        ) from None
    if len(data) > MAX_BYTES:
        raise _error(
            shown,
            f"is larger than {MAX_BYTES // (1024 * 1024)} MiB, far more than a workload",
            "give the workload's .toml file (a few kilobytes)",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = Problem(
            shown,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8 (most editors have a 'save with encoding' choice)",
            line=line,
        )
        raise WorkloadError([problem]) from None


def _parse(text: str, shown: str) -> dict[str, Any]:
    """The TOML tables of ``text``, or a :class:`WorkloadError` naming the line to fix."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        problem = Problem(
            shown, f"not valid TOML: {exc}", "fix the TOML syntax at that line", line=line
        )
        raise WorkloadError([problem]) from None
    except RecursionError:
        raise _error(shown, *_too_deep("arrays or inline tables")) from None
    except (ValueError, ArithmeticError):  # 5000-digit integers, 1e99999999999999999999
        message = "holds a number that cannot be read (thousands of digits, or a huge exponent)"
        raise _error(shown, message, "write every number with at most a few dozen digits") from None
    if _depth(raw) > MAX_DEPTH:
        raise _error(shown, *_too_deep("tables or arrays")) from None
    return raw


def _too_deep(what: str) -> tuple[str, str]:
    return (
        f"nests {what} too deeply (more than {MAX_DEPTH} levels)",
        "a workload needs a few levels (segments, their fields, distributions); "
        "remove the extra nesting",
    )


def _depth(value: object) -> int:
    """How deeply tables and arrays nest in ``value`` (counted without recursion)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            return level
        deepest = max(deepest, level)
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, level + 1) for child in children)
    return deepest


def _validation_problems(shown: str, raw: dict[str, Any], exc: ValidationError) -> list[Problem]:
    """The problems of a failed validation, located by segment and field; should a value
    defeat that (an exact decimal too large to test for a fraction), pydantic's own words
    and locations, so that a bad file is still an error that names what to fix."""
    try:
        return problems_from_validation(shown, raw, exc)
    except (ArithmeticError, ValueError, TypeError, RecursionError):
        return [
            Problem(
                shown,
                str(err["msg"]),
                "see data/schema/workload.json for what the field takes",
                field=".".join(str(k) for k in err["loc"]) or None,
            )
            for err in exc.errors(include_input=False)
        ]


def _error(shown: str, message: str, fix: str) -> WorkloadError:
    return WorkloadError([Problem(shown, message, fix)])


def _resolve(path_or_name: str | Path, data: DataSet | None) -> tuple[Path, str]:
    if isinstance(path_or_name, Path) or re.search(r"[/\\]|\.toml$", path_or_name):
        return Path(path_or_name), str(path_or_name)
    path = workloads_dir(data) / f"{path_or_name}.toml"
    if not path.is_file():
        known = ", ".join(list_workloads(data))
        raise WorkloadError(
            [
                Problem(
                    path_or_name,
                    f"unknown workload {path_or_name!r}",
                    f"use a bundled name ({known}) or the path of a .toml file",
                )
            ]
        )
    return path, (f"data/workloads/{path.name}" if data is None else str(path))


def _bundled_models() -> dict[str, ImageModel]:
    path = bundled_data_dir() / "models.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return {m.id: m for m in ModelsFile.model_validate(raw).model}


def _cross_check(
    shown: str, raw: dict[str, Any], models: Mapping[str, ImageModel]
) -> Iterator[Problem]:
    """Model ids exist and serve the segment's operation (checked on the raw file)."""
    segments = raw.get("segments")
    for i, seg in enumerate(segments if isinstance(segments, list) else []):
        if not isinstance(seg, dict) or not isinstance(seg.get("models"), list):
            continue
        name = str(seg.get("name", f"#{i + 1}"))
        operation = seg.get("operation")
        for j, model_id in enumerate(seg["models"]):
            if not isinstance(model_id, str):
                continue
            model = models.get(model_id)
            if model is None:
                close = close_model_ids(model_id, models)
                hint = f"did you mean {', '.join(close)}?" if close else "see data/models.toml"
                message = f"unknown model {model_id!r}"
                fix = f"use a model id from data/models.toml ({hint})"
            elif operation in OPERATIONS and operation not in model.operations:
                message = f"model {model_id!r} does not do {operation!r} (only {model.operations})"
                fix = f"remove {model_id!r} from `models` or change `operation`"
            else:
                continue
            yield Problem(shown, message, fix, segment=name, segment_index=i, field=f"models[{j}]")
        steps = seg.get("model_steps")
        for model_id in steps if isinstance(steps, dict) else {}:
            if model_id not in models:
                close = close_model_ids(str(model_id), models)
                hint = f"did you mean {', '.join(close)}?" if close else "see data/models.toml"
                yield Problem(
                    shown,
                    f"unknown model {model_id!r} in model_steps",
                    f"use a model id from data/models.toml ({hint})",
                    segment=name,
                    segment_index=i,
                    field="model_steps",
                )

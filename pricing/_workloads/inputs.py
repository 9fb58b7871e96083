"""A workload's uncertain inputs: where each distribution sits, and scenarios of them.

:func:`uncertain_inputs` lists every input given as a distribution (its path and a label);
:func:`with_values` replaces some of them with plain numbers for one scenario.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from pricing._workloads.distributions import (
    Distribution,
    LogNormal,
    Normal,
    SourcesRange,
    Triangular,
    Uniform,
)
from pricing._workloads.model import Workload, central
from pricing._workloads.problems import problems_from_validation
from pricing.errors import PricingError, WorkloadError

_DISTRIBUTIONS = (Uniform, Triangular, Normal, LogNormal, SourcesRange)
InputPath = tuple[str | int, ...]


@dataclass(frozen=True)
class UncertainInput:
    """A workload input given as a distribution, where it sits and how to show it."""

    path: InputPath  # e.g. ("segments", 0, "volume", "base")
    label: str  # e.g. "product edits: volume.base"
    distribution: Distribution

    @property
    def central(self) -> float:
        return central(self.distribution)


def uncertain_inputs(workload: Workload) -> list[UncertainInput]:
    """Every input of the workload given as a distribution, in file order."""
    return [
        UncertainInput(path, _label(workload, path), dist) for path, dist in _walk(workload, ())
    ]


def _walk(node: object, path: InputPath) -> Iterator[tuple[InputPath, Distribution]]:
    if isinstance(node, SourcesRange):
        return  # `prices`: the catalog's prices are sampled, not a workload number
    if isinstance(node, _DISTRIBUTIONS):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _walk(getattr(node, name), (*path, name))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, (*path, i))
    elif isinstance(node, dict):  # `fx`: one input per exchange rate
        for key, item in node.items():
            yield from _walk(item, (*path, str(key)))


def _label(workload: Workload, path: InputPath) -> str:
    if path[0] == "segments" and isinstance(path[1], int):
        head, rest = workload.segments[path[1]].name, path[2:]
    else:
        head, rest = str(path[0]), path[1:]
    text = ""
    for key in rest:
        text += f"[{key}]" if isinstance(key, int) else f".{key}"
    return f"{head}: {text.lstrip('.')}" if text else head


def with_values(workload: Workload, values: Mapping[InputPath, float]) -> Workload:
    """A copy of ``workload`` with the inputs at ``values``' paths set to plain numbers.

    Paths are those of :func:`uncertain_inputs` (any numeric input's path works too).
    """
    data: dict[str, Any] = workload.model_dump()
    for path, value in values.items():
        node: Any = data
        for key in path[:-1]:
            node = _step(node, key, path)
        _step(node, path[-1], path)  # must exist
        node[path[-1]] = float(value)
    try:
        return Workload.model_validate(data)
    except ValidationError as exc:
        raise WorkloadError(problems_from_validation("<with_values>", data, exc)) from None


def _step(node: Any, key: str | int, path: InputPath) -> Any:
    try:
        if isinstance(node, dict) and isinstance(key, str):
            return node[key]
        if isinstance(node, list) and isinstance(key, int):
            return node[key]
    except (KeyError, IndexError):
        pass
    raise PricingError(
        f"no workload input at {path!r}; use a path from uncertain_inputs(), "
        "e.g. ('segments', 0, 'volume', 'base')"
    )

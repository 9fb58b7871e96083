"""The values a simulation is evaluated at, and each segment's demand under them.

:class:`Inputs` holds one value per Monte Carlo sample for each uncertain input of the
workload (the centre for the others); :func:`segment_demand` turns them into a segment's
images per month and p95 target, arrays of shape (samples, months).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pricing._workloads.inputs import InputPath
from pricing._workloads.model import Segment, central


@dataclass
class Inputs:
    """Values of the workload's uncertain inputs for each sample (others at their centre).

    ``spread`` holds, for each price sampled across its sources (hosted option ids, and
    ``gpu:<offer id>`` for GPU offers), where each sample falls in its range (0 = the
    cheapest source, 1 = the dearest).
    """

    samples: int
    values: dict[InputPath, np.ndarray] = field(default_factory=dict)
    spread: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, path: InputPath, given: Any) -> np.ndarray | float:
        """Per-sample values (shape (samples, 1)) of a sampled input, else its centre."""
        if path in self.values:
            return self.values[path].reshape(-1, 1)
        return central(given)

    def price(self, key: str, low: Any, high: Any) -> Any:
        """A price across its sources: ``low + u (high - low)`` where sampled, else None."""
        u = self.spread.get(key)
        if u is None:
            return None
        return low + u.reshape(-1, 1) * (high - low)


def segment_demand(
    seg: Segment, index: int, months: int, inputs: Inputs
) -> tuple[np.ndarray, np.ndarray | float]:
    """Images per month (samples, months) and the p95 target [s] of segment ``index``."""
    base = ("segments", index, "volume")
    vol = seg.volume
    if vol.series is not None:
        cols = [
            np.broadcast_to(inputs.get((*base, "series", m), v), (inputs.samples, 1))
            for m, v in enumerate(vol.series)
        ]
        images = np.concatenate(cols, axis=1).astype(np.float64)
    else:
        b = inputs.get((*base, "base"), vol.base)
        g = inputs.get((*base, "growth"), vol.growth) if vol.growth is not None else 0.0
        m = np.arange(months, dtype=np.float64)[None, :]
        images = np.broadcast_to(b * (1 + np.asarray(g)) ** m, (inputs.samples, months))
    target: np.ndarray | float = (
        math.inf
        if seg.p95_latency_s is None
        else inputs.get(("segments", index, "p95_latency_s"), seg.p95_latency_s)
    )
    return np.maximum(images, 0.0), target

"""Throughput profiles (``data/throughput.toml``): seconds per image of a model on a GPU.

A profile covers one model x GPU x precision and is fitted on published benchmarks (the
formula is in :mod:`pricing._gpus.throughput`, which answers questions from the profiles).
:func:`load_throughput` checks every profile against the models, GPUs and sources.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from pricing._cards.fields import Id, Strict
from pricing._cards.loader import bundled_data_dir, load_model, relative_path
from pricing._cards.schema import ModelsFile, SourcesFile
from pricing._gpus.entries import check_gpu, check_source, check_unique, read_entries
from pricing._gpus.offers import Confidence, GpusFile, GpuType
from pricing.errors import Problem, RateCardError, ThroughputUnknown

#: Precision and compilation of a deployment:
#:
#: - ``fp32`` / ``fp16`` / ``bf16``: weights and compute in that dtype, eager PyTorch;
#: - ``bf16-compiled``: bf16 with ``torch.compile`` (lossless apart from numerics);
#: - ``fp8`` / ``fp8-compiled``: fp8 quantisation (lossy), eager or compiled;
#: - ``int8-compiled``: dynamic int8 quantisation with ``torch.compile`` (lossy);
#: - ``fp4``: 4-bit floating point (NVFP4/FP4) kernels (lossy).
Precision = Literal[
    "fp32", "fp16", "bf16", "bf16-compiled", "fp8", "fp8-compiled", "int8-compiled", "fp4"
]
PRECISIONS: tuple[str, ...] = Precision.__args__  # type: ignore[attr-defined]
#: Pixels per image token along each side (FLUX packs 2 x 2 patches of the 8x-downsampled latent).
TOKEN_PX = 16


def image_tokens(width: int, height: int) -> int:
    """FLUX image tokens of a ``width`` x ``height`` image: ``ceil(w/16) * ceil(h/16)``."""
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    return math.ceil(width / TOKEN_PX) * math.ceil(height / TOKEN_PX)


class PublishedPoint(Strict):
    """A published timing of one image at batch 1; ``used_in_fit`` marks the fitted ones."""

    width: int = Field(gt=0, description="[px]")
    height: int = Field(gt=0, description="[px]")
    steps: int = Field(gt=0)
    seconds: Decimal = Field(gt=0, description="[s per image]")
    source: Id
    used_in_fit: bool
    note: str | None = None


class BatchPoint(Strict):
    """Wall time of one batch of ``batch`` images, as published."""

    batch: int = Field(ge=1)
    seconds: Decimal = Field(gt=0, description="[s for the whole batch]")
    source: Id


class MemoryPoint(Strict):
    """Peak GPU memory at the reference resolution for a batch size, as published."""

    batch: int = Field(ge=2)
    peak_gb: Decimal = Field(gt=0, description="[GB]")
    source: Id


class ThroughputProfile(Strict):
    """Seconds per image of one model on one GPU at one precision (see the module docstring)."""

    model: Id
    gpu: Id
    precision: Precision
    overhead_s: Decimal = Field(ge=0, description="fixed time per image [s]")
    step_s: Decimal = Field(gt=0, description="time per denoising step at ref_tokens [s]")
    ref_tokens: int = Field(gt=0, description="image tokens at which step_s holds")
    token_exponent: Decimal | None = Field(
        default=None, gt=0, description="per-step time grows as tokens ** exponent; None = unknown"
    )
    default_steps: int = Field(gt=0, description="steps when the caller gives none")
    batch: list[BatchPoint] = Field(default_factory=list)
    memory_gb: Decimal | None = Field(
        default=None, gt=0, description="peak memory at 1024x1024, batch 1 [GB]"
    )
    memory_source: Id | None = None
    memory_batch: list[MemoryPoint] = Field(default_factory=list)
    points: list[PublishedPoint] = Field(min_length=1)
    sources: list[Id] = Field(min_length=1, description="sources of the fitted parameters")
    confidence: Confidence
    fit: str = Field(min_length=1, description="how the parameters follow from which figures")
    notes: str | None = None

    @property
    def id(self) -> str:
        return f"{self.model}/{self.gpu}/{self.precision}"

    @model_validator(mode="after")
    def _consistent(self) -> ThroughputProfile:
        if not any(p.used_in_fit for p in self.points):
            raise ValueError("at least one of `points` must have used_in_fit = true")
        sizes = [b.batch for b in self.batch]
        if sizes and (sizes[0] != 1 or sizes != sorted(set(sizes))):
            raise ValueError(f"`batch` sizes must start at 1 and ascend strictly, got {sizes}")
        mem_sizes = [m.batch for m in self.memory_batch]
        if mem_sizes != sorted(set(mem_sizes)):
            raise ValueError(f"`memory_batch` sizes must ascend strictly, got {mem_sizes}")
        if (self.memory_gb is None) != (self.memory_source is None):
            raise ValueError("give `memory_gb` and `memory_source` together")
        if self.memory_batch and self.memory_gb is None:
            raise ValueError("`memory_batch` needs `memory_gb` (batch 1)")
        return self

    def step_seconds(self, tokens: int) -> float:
        """Time of one denoising step at ``tokens`` image tokens [s]."""
        if tokens == self.ref_tokens:
            return float(self.step_s)
        if self.token_exponent is None:
            side = int(math.sqrt(self.ref_tokens)) * TOKEN_PX
            raise ThroughputUnknown(
                f"profile {self.id} has no basis for scaling with resolution (no "
                f"token_exponent); it prices {self.ref_tokens} image tokens (e.g. {side}x{side}) "
                "only. Give the seconds per image yourself or add a sourced token_exponent"
            )
        scale: float = (tokens / self.ref_tokens) ** float(self.token_exponent)
        return float(self.step_s) * scale

    def batch_factor(self, batch: int) -> float:
        """Per-image time at ``batch`` over that at batch 1 (1.0 without batch timings)."""
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        if not self.batch:
            return 1.0
        xs = [b.batch for b in self.batch]
        ys = [float(b.seconds) / b.batch / float(self.batch[0].seconds) for b in self.batch]
        return interpolate(xs, ys, batch, extrapolate=False)

    def seconds(self, width: int, height: int, steps: int | None = None, batch: int = 1) -> float:
        """Seconds per image [s] (module docstring formula)."""
        n = self.default_steps if steps is None else steps
        if n < 1:
            raise ValueError(f"steps must be at least 1, got {n}")
        step = self.step_seconds(image_tokens(width, height))
        return (float(self.overhead_s) + step * n) * self.batch_factor(batch)


def interpolate(xs: list[int], ys: list[float], x: int, *, extrapolate: bool) -> float:
    """Piecewise-linear y(x); beyond the last point hold it, or extend the last segment."""
    if x <= xs[0]:
        return ys[0]
    for i in range(1, len(xs)):
        x0, y0, x1, y1 = xs[i - 1], ys[i - 1], xs[i], ys[i]
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    if extrapolate and len(xs) >= 2:
        slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        return ys[-1] + slope * (x - xs[-1])
    return ys[-1]


class ThroughputFile(Strict):
    """``data/throughput.toml``."""

    profile: list[ThroughputProfile]


@dataclass(frozen=True)
class ThroughputData:
    """Throughput profiles with the GPU types they refer to."""

    root: Path
    profiles: tuple[ThroughputProfile, ...]
    gpus: dict[str, GpuType]

    def for_model(self, model: str) -> list[ThroughputProfile]:
        return [p for p in self.profiles if p.model == model]


def load_throughput(root: Path | None = None) -> ThroughputData:
    """Load and check ``data/throughput.toml`` (models, GPUs and sources must exist).

    Raises
    ------
    RateCardError
        Listing every problem found, each naming file, profile, field and the fix.
    """
    root = bundled_data_dir() if root is None else Path(root)
    problems: list[Problem] = []
    sources = load_model(root / "sources.toml", SourcesFile, root, problems)
    models = load_model(root / "models.toml", ModelsFile, root, problems)
    gpus = read_entries(root / "gpus" / "gpus.toml", GpusFile, root, problems)
    data = read_entries(root / "throughput.toml", ThroughputFile, root, problems)
    if sources is None or models is None or gpus is None or data is None or problems:
        raise RateCardError(problems)
    rel = relative_path(root / "throughput.toml", root)
    source_ids = {s.id for s in sources.source}
    model_ids = {m.id for m in models.model}
    gpu_ids = {g.id for g in gpus.gpu}
    problems.extend(
        check_unique(rel, [p.id for p in data.profile], "profile (model/gpu/precision)")
    )
    for p in data.profile:
        if p.model not in model_ids:
            problems.append(
                Problem(
                    rel,
                    f"unknown model {p.model!r}",
                    "add it to data/models.toml or use a known model id",
                    offer=p.id,
                    field="model",
                )
            )
        problems.extend(check_gpu(rel, p.id, p.gpu, gpu_ids))
        cited = [(f"sources[{i}]", s) for i, s in enumerate(p.sources)]
        cited += [(f"points[{i}].source", x.source) for i, x in enumerate(p.points)]
        cited += [(f"batch[{i}].source", x.source) for i, x in enumerate(p.batch)]
        cited += [(f"memory_batch[{i}].source", x.source) for i, x in enumerate(p.memory_batch)]
        cited += [("memory_source", p.memory_source)] if p.memory_source else []
        for field, sid in cited:
            problems.extend(check_source(rel, p.id, field, sid, source_ids))
    if problems:
        raise RateCardError(problems)
    return ThroughputData(root, tuple(data.profile), {g.id: g for g in gpus.gpu})


@lru_cache(maxsize=1)
def bundled_throughput() -> ThroughputData:
    return load_throughput()


Profiles = ThroughputData | Sequence[ThroughputProfile]


def profiles_of(profiles: Profiles | None) -> tuple[ThroughputProfile, ...]:
    if profiles is None:
        return bundled_throughput().profiles
    if isinstance(profiles, ThroughputData):
        return profiles.profiles
    return tuple(profiles)

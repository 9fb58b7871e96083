"""Throughput profiles (``data/throughput.toml``): seconds per image of a model on a GPU.

A profile covers one model x GPU x precision and is fitted on published benchmarks (the
formula is in :mod:`pricing._gpus.throughput`, which answers questions from the profiles).
:func:`load_throughput` checks every profile against the models, GPUs and sources, and against
physics (:func:`physics_problems`): at its reference point (``ref_tokens``, ``default_steps``,
its fastest published batch) a profile with ``flops_per_step`` implies

    FLOP/s = flops_per_step * default_steps / seconds per image

which must not exceed the GPU's dense peak for the profile's precision (``[[peak]]`` entries),
nor :data:`MAX_UNSOURCED_PEAK_FRACTION` of it unless ``peak_fraction_source`` cites a source
that confirms so fast a run; and a ``memory_gb`` above the GPU's memory needs an ``offload`` or
``multi-gpu`` ``layout``. A profile without ``flops_per_step``, a GPU without a peak for the
precision class, or a GPU or profile without memory skips that part of the check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
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
#: Precisions that run the published weights without quantisation: the default of every
#: estimate. A quantised one (fp8, int8, fp4) changes the images and is used only when asked.
LOSSLESS: frozenset[str] = frozenset({"fp32", "fp16", "bf16", "bf16-compiled"})
#: Precision class whose dense peak bounds a precision (fp16, fp32 and int8: no peak recorded).
PeakClass = Literal["bf16", "fp8", "fp4"]
PEAK_CLASS: dict[str, PeakClass] = {
    "bf16": "bf16",
    "bf16-compiled": "bf16",
    "fp8": "fp8",
    "fp8-compiled": "fp8",
    "fp4": "fp4",
}
#: Above this share of the dense peak a profile must cite ``peak_fraction_source``.
MAX_UNSOURCED_PEAK_FRACTION = 0.70
#: How the model is laid out: whole on one GPU, partly offloaded to CPU memory, or sharded.
Layout = Literal["single-gpu", "offload", "multi-gpu"]
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
    layout: Layout = Field(
        default="single-gpu",
        description="single-gpu: the whole model in one GPU's memory; offload: part of it in CPU "
        "memory; multi-gpu: sharded over several GPUs (memory_gb may then exceed one GPU's)",
    )
    flops_per_step: Decimal | None = Field(
        default=None, gt=0, description="model FLOPs per denoising step at ref_tokens [FLOP]"
    )
    flops_source: Id | None = None
    peak_fraction_source: Id | None = Field(
        default=None,
        description="source confirming a run above 70% of the GPU's dense peak (physics check)",
    )
    stack: str | None = Field(
        default=None, min_length=1, description="software stack of the timing (e.g. TensorRT)"
    )
    year: int | None = Field(
        default=None, ge=2015, le=2100, description="year of the benchmark (software vintage)"
    )
    input_tokens: int | None = Field(
        default=None,
        gt=0,
        description="image tokens each input image adds to every step (edit models that run "
        "the inputs in the same sequence); None = no source says, so edits cannot be priced",
    )
    max_pixels: int | None = Field(
        default=None, gt=0, description="largest output the model makes [px]; None = no limit"
    )
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
        if (self.flops_per_step is None) != (self.flops_source is None):
            raise ValueError("give `flops_per_step` and `flops_source` together")
        return self

    def reference_seconds(self) -> float:
        """Fastest published per-image time at ref_tokens and default_steps [s/image]."""
        best = min([1.0] + [self.batch_factor(b.batch) for b in self.batch])
        return (float(self.overhead_s) + float(self.step_s) * self.default_steps) * best

    def implied_flops(self) -> float | None:
        """Model FLOP/s the reference point implies [FLOP/s]; None without flops_per_step."""
        if self.flops_per_step is None:
            return None
        return float(self.flops_per_step) * self.default_steps / self.reference_seconds()

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

    def seconds(
        self, width: int, height: int, steps: int | None = None, batch: int = 1, inputs: int = 0
    ) -> float:
        """Seconds per image [s] (module docstring formula), with ``inputs`` input images
        adding :attr:`input_tokens` each to the sequence."""
        n = self.default_steps if steps is None else steps
        if n < 1:
            raise ValueError(f"steps must be at least 1, got {n}")
        if self.max_pixels is not None and width * height > self.max_pixels:
            raise ThroughputUnknown(
                f"{self.model} makes images of at most {self.max_pixels:,} px; "
                f"{width}x{height} is larger (profile {self.id})"
            )
        tokens = image_tokens(width, height)
        if inputs:
            if self.input_tokens is None:
                raise ThroughputUnknown(
                    f"no source says how input images add to the work of {self.model}; "
                    f"profile {self.id} prices generation only"
                )
            tokens += inputs * self.input_tokens
        step = self.step_seconds(tokens)
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


class GpuPeak(Strict):
    """Dense (no sparsity) peak tensor throughput of a GPU type per precision class."""

    gpu: Id
    tflops: dict[PeakClass, Decimal] = Field(
        min_length=1, description="dense peak per precision class [TFLOP/s]"
    )
    source: Id
    notes: str | None = None


class DerivedModel(Strict):
    """A model that runs another's transformer: every profile of ``runs_as`` gives one of
    ``model`` (same GPU, precision, timings and memory) with its own steps, output limit and
    input-image tokens."""

    model: Id
    runs_as: Id
    default_steps: int = Field(gt=0)
    input_tokens: int | None = Field(default=None, gt=0)
    max_pixels: int | None = Field(default=None, gt=0)
    sources: list[Id] = Field(min_length=1)
    fit: str = Field(min_length=1, description="why the base model's timings hold")

    def profile_from(self, base: ThroughputProfile) -> ThroughputProfile:
        """``base`` as a profile of :attr:`model` (low confidence: derived)."""
        return base.model_copy(
            update={
                "model": self.model,
                "default_steps": self.default_steps,
                "input_tokens": self.input_tokens,
                "max_pixels": self.max_pixels,
                "sources": [*base.sources, *self.sources],
                "confidence": "low",
                "fit": f"Derived from {base.id}: {self.fit} Base fit: {base.fit}",
            }
        )


class ThroughputFile(Strict):
    """``data/throughput.toml``."""

    peak: list[GpuPeak] = Field(default_factory=list)
    profile: list[ThroughputProfile]
    derived: list[DerivedModel] = Field(default_factory=list)


@dataclass(frozen=True)
class ThroughputData:
    """Throughput profiles with the GPU types they refer to."""

    root: Path
    profiles: tuple[ThroughputProfile, ...]
    gpus: dict[str, GpuType]
    peaks: dict[str, GpuPeak] = field(default_factory=dict)

    def for_model(self, model: str) -> list[ThroughputProfile]:
        return [p for p in self.profiles if p.model == model]


def load_throughput(root: Path | None = None) -> ThroughputData:
    """Load and check ``data/throughput.toml`` (models, GPUs, sources and physics).

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
    gpu_types = {g.id: g for g in gpus.gpu}
    problems.extend(
        check_unique(rel, [p.id for p in data.profile], "profile (model/gpu/precision)")
    )
    problems.extend(check_unique(rel, [f"peak {k.gpu}" for k in data.peak], "GPU in [[peak]]"))
    for k in data.peak:
        problems.extend(check_gpu(rel, f"peak {k.gpu}", k.gpu, set(gpu_types)))
        problems.extend(check_source(rel, f"peak {k.gpu}", "source", k.source, source_ids))
    peaks = {k.gpu: k for k in data.peak}
    for d in data.derived:
        problems.extend(_derived_problems(rel, d, model_ids, source_ids, data.profile))
    for p in data.profile:  # a derived profile has its base's timing, memory and FLOPs
        problems.extend(_reference_problems(rel, p, model_ids, set(gpu_types), source_ids))
        problems.extend(physics_problems(rel, p, peaks.get(p.gpu), gpu_types.get(p.gpu)))
    if problems:
        raise RateCardError(problems)
    derived = [
        d.profile_from(p) for d in data.derived for p in data.profile if p.model == d.runs_as
    ]
    return ThroughputData(root, (*data.profile, *derived), gpu_types, peaks)


def _derived_problems(
    rel: str,
    d: DerivedModel,
    model_ids: set[str],
    source_ids: set[str],
    profiles: list[ThroughputProfile],
) -> list[Problem]:
    """A derived model must be a known model, not profiled itself, and run a profiled one."""
    where = f"derived {d.model}"

    def problem(name: str, message: str, fix: str) -> Problem:
        return Problem(rel, message, fix, offer=where, field=name)

    out = [
        problem("model", f"unknown model {m!r}", "add it to data/models.toml")
        for m in (d.model, d.runs_as)
        if m not in model_ids
    ]
    out += [
        problem("sources", f"unknown source {s!r}", "add it to data/sources.toml")
        for s in d.sources
        if s not in source_ids
    ]
    if not any(p.model == d.runs_as for p in profiles):
        out.append(problem("runs_as", f"{d.runs_as} has no profile", "profile it first"))
    if any(p.model == d.model for p in profiles):
        out.append(problem("model", f"{d.model} has profiles of its own", "keep one of the two"))
    return out


def _reference_problems(
    rel: str, p: ThroughputProfile, model_ids: set[str], gpu_ids: set[str], source_ids: set[str]
) -> list[Problem]:
    """Unknown model, GPU or source ids cited by one profile."""
    out: list[Problem] = []
    if p.model not in model_ids:
        out.append(
            Problem(
                rel,
                f"unknown model {p.model!r}",
                "add it to data/models.toml or use a known model id",
                offer=p.id,
                field="model",
            )
        )
    out.extend(check_gpu(rel, p.id, p.gpu, gpu_ids))
    cited = [(f"sources[{i}]", s) for i, s in enumerate(p.sources)]
    cited += [(f"points[{i}].source", x.source) for i, x in enumerate(p.points)]
    cited += [(f"batch[{i}].source", x.source) for i, x in enumerate(p.batch)]
    cited += [(f"memory_batch[{i}].source", x.source) for i, x in enumerate(p.memory_batch)]
    optional = ("memory_source", "flops_source", "peak_fraction_source")
    cited += [(name, getattr(p, name)) for name in optional if getattr(p, name)]
    for name, sid in cited:
        out.extend(check_source(rel, p.id, name, sid, source_ids))
    return out


def peak_fraction(p: ThroughputProfile, peak: GpuPeak | None) -> float | None:
    """Implied FLOP/s over the GPU's dense peak for the profile's precision; None if unknown."""
    implied = p.implied_flops()
    cls = PEAK_CLASS.get(p.precision)
    if implied is None or peak is None or cls is None or cls not in peak.tflops:
        return None
    return implied / (float(peak.tflops[cls]) * 1e12)


def physics_problems(
    rel: str, p: ThroughputProfile, peak: GpuPeak | None, gpu: GpuType | None
) -> list[Problem]:
    """A profile faster than its GPU's dense peak, above 70% of it unsourced, or too big.

    Parts without data (no ``flops_per_step``, no peak for the precision class, no memory of
    the GPU or the profile) are skipped.
    """
    out: list[Problem] = []
    fraction = peak_fraction(p, peak)
    if fraction is not None and peak is not None:
        cls = PEAK_CLASS[p.precision]
        implied = f"{(p.implied_flops() or 0) / 1e12:,.0f} TFLOP/s"
        at = f"{p.reference_seconds():.3g} s for {p.default_steps} steps at {p.ref_tokens} tokens"
        dense = f"{p.gpu}'s dense {cls} peak of {peak.tflops[cls]} TFLOP/s ({peak.source})"
        if fraction > 1:
            out.append(
                Problem(
                    rel,
                    f"profile {p.id} is physically impossible: {at} implies {implied}, "
                    f"{fraction:.1f}x {dense}",
                    "correct the timing, steps, resolution or precision from the source, or "
                    "remove the profile",
                    offer=p.id,
                    field="step_s",
                )
            )
        elif fraction > MAX_UNSOURCED_PEAK_FRACTION and p.peak_fraction_source is None:
            out.append(
                Problem(
                    rel,
                    f"profile {p.id}: {at} implies {implied}, {fraction:.0%} of {dense}, above "
                    f"{MAX_UNSOURCED_PEAK_FRACTION:.0%} with no source saying so",
                    "cite a source confirming so fast a run in `peak_fraction_source`, or "
                    "correct the timing",
                    offer=p.id,
                    field="peak_fraction_source",
                )
            )
    out.extend(_memory_problems(rel, p, gpu))
    return out


def _memory_problems(rel: str, p: ThroughputProfile, gpu: GpuType | None) -> list[Problem]:
    if gpu is None or gpu.memory_gb is None or p.memory_gb is None or p.layout != "single-gpu":
        return []
    if p.memory_gb <= gpu.memory_gb:
        return []
    return [
        Problem(
            rel,
            f"profile {p.id} needs {p.memory_gb} GB but one {p.gpu} has {gpu.memory_gb} GB",
            'state `layout = "offload"` or `"multi-gpu"` if the source\'s run did so, '
            "or use a lower precision or a larger GPU",
            offer=p.id,
            field="memory_gb",
        )
    ]


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

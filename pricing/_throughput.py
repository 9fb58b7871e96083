"""Seconds per image on a GPU (``data/throughput.toml``) and licence terms (``data/licences.toml``).

A throughput profile covers one model x GPU x precision and is fitted on published benchmarks::

    tokens = ceil(width / 16) * ceil(height / 16)                          [image tokens]
    t1     = overhead_s + step_s * (tokens / ref_tokens) ** token_exponent * steps     [s]
    t(b)   = t1 * f(b)                                     [s per image at batch size b]

``tokens`` is FLUX's count (16 x 16 px per token, 4,096 at 1024 x 1024). ``f(b)`` is the
published per-image time at batch ``b`` over that at batch 1, interpolated linearly between the
measured batch sizes and held at the last one beyond them; a profile without batch timings
assumes no gain from batching (``f = 1``). A profile without ``token_exponent`` has no basis for
resolution scaling and prices its reference resolution only.

Memory need is a property of the model and precision, not of the GPU: :func:`fits` looks it up
in any profile of the same model and precision that records it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from pricing._gpus import (
    Confidence,
    GpusFile,
    GpuType,
    check_gpu,
    check_source,
    check_unique,
    read_entries,
)
from pricing._loader import _load_model, _rel, bundled_data_dir
from pricing._schema import Currency, Id, ModelsFile, Money, SourcesFile, Strict
from pricing.errors import PriceNotFound, PricingError, Problem, RateCardError

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


class ProfileNotFound(PricingError):  # noqa: N818 - reads as a statement, like PriceNotFound
    """No throughput profile for the model x GPU x precision asked for."""


class ThroughputUnknown(PricingError):  # noqa: N818 - reads as a statement, like PriceNotFound
    """A profile exists but the sources cannot answer (resolution scaling, memory at a batch)."""


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
        return _interpolate(xs, ys, batch, extrapolate=False)

    def seconds(self, width: int, height: int, steps: int | None = None, batch: int = 1) -> float:
        """Seconds per image [s] (module docstring formula)."""
        n = self.default_steps if steps is None else steps
        if n < 1:
            raise ValueError(f"steps must be at least 1, got {n}")
        step = self.step_seconds(image_tokens(width, height))
        return (float(self.overhead_s) + step * n) * self.batch_factor(batch)


def _interpolate(xs: list[int], ys: list[float], x: int, *, extrapolate: bool) -> float:
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
    sources = _load_model(root / "sources.toml", SourcesFile, root, problems)
    models = _load_model(root / "models.toml", ModelsFile, root, problems)
    gpus = read_entries(root / "gpus" / "gpus.toml", GpusFile, root, problems)
    data = read_entries(root / "throughput.toml", ThroughputFile, root, problems)
    if sources is None or models is None or gpus is None or data is None or problems:
        raise RateCardError(problems)
    rel = _rel(root / "throughput.toml", root)
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
def _bundled() -> ThroughputData:
    return load_throughput()


Profiles = ThroughputData | Sequence[ThroughputProfile]


def _profiles(profiles: Profiles | None) -> tuple[ThroughputProfile, ...]:
    if profiles is None:
        return _bundled().profiles
    if isinstance(profiles, ThroughputData):
        return profiles.profiles
    return tuple(profiles)


def _not_found(
    model: str, gpu: str, precision: str | None, all_: Iterable[ThroughputProfile]
) -> ProfileNotFound:
    mine = [p for p in all_ if p.model == model]
    on_gpu = sorted(p.precision for p in mine if p.gpu == gpu)
    if precision is not None and on_gpu:
        return ProfileNotFound(
            f"no throughput profile for {model} on {gpu} at {precision}; precisions profiled "
            f"there: {', '.join(on_gpu)}"
        )
    by_gpu: dict[str, list[str]] = {}
    for p in mine:
        by_gpu.setdefault(p.gpu, []).append(p.precision)
    known = "; ".join(f"{g} ({', '.join(sorted(ps))})" for g, ps in sorted(by_gpu.items()))
    what = f"{model} on {gpu}" + (f" at {precision}" if precision else "")
    return ProfileNotFound(
        f"no throughput profile for {what}; profiles exist for: {known or 'none of this model'}"
    )


def find_profile(
    model: str, gpu: str, precision: str, profiles: Profiles | None = None
) -> ThroughputProfile:
    """The profile of ``model`` on ``gpu`` at ``precision``; :class:`ProfileNotFound` if none."""
    all_ = _profiles(profiles)
    for p in all_:
        if (p.model, p.gpu, p.precision) == (model, gpu, precision):
            return p
    raise _not_found(model, gpu, precision, all_)


def seconds_per_image(
    model: str,
    gpu: str,
    *,
    width: int,
    height: int,
    steps: int | None = None,
    precision: str | None = None,
    batch: int = 1,
    profiles: Profiles | None = None,
) -> float:
    """Estimated GPU time per image [s/image].

    Parameters
    ----------
    model, gpu : str
        Ids from ``data/models.toml`` and ``data/gpus/gpus.toml``.
    width, height : int  [px]
    steps : int, optional
        Denoising steps; default: the profile's ``default_steps``.
    precision : str, optional
        One of :data:`PRECISIONS`; default: the fastest profiled on this GPU (which may be a
        lossy quantisation such as fp8 or fp4).
    batch : int
        Images per batch; the result is the per-image share of the batch's time [s/image].
    profiles : ThroughputData or sequence of ThroughputProfile, optional
        Default: the bundled ``data/throughput.toml``.

    Raises
    ------
    ProfileNotFound
        No profile for the model on the GPU (at the precision); the message lists those known.
    ThroughputUnknown
        The profile cannot scale to this resolution.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    all_ = _profiles(profiles)
    if precision is not None:
        return find_profile(model, gpu, precision, all_).seconds(width, height, steps, batch)
    candidates = [p for p in all_ if p.model == model and p.gpu == gpu]
    if not candidates:
        raise _not_found(model, gpu, None, all_)
    times: list[float] = []
    unknown: ThroughputUnknown | None = None
    for p in candidates:
        try:
            times.append(p.seconds(width, height, steps, batch))
        except ThroughputUnknown as exc:
            unknown = exc
    if not times and unknown is not None:
        raise unknown
    return min(times)


def memory_need_gb(
    model: str, precision: str, batch: int = 1, profiles: Profiles | None = None
) -> float | None:
    """Peak memory of ``model`` at ``precision`` for a batch at 1024 x 1024 [GB], or None.

    Taken from any profile of that model and precision that records memory (the largest batch-1
    figure when several do). For ``batch > 1`` the published batch peaks are interpolated
    linearly and extended along the last measured segment (C2's H100 figures grow nearly
    linearly, 33.9 -> 39.5 -> 47.5 -> 61.5 GB at batch 1 / 4 / 8 / 16).

    Raises
    ------
    ThroughputUnknown
        Memory is known at batch 1 but no source gives it for larger batches.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    rows = [
        p
        for p in _profiles(profiles)
        if (p.model, p.precision) == (model, precision) and p.memory_gb
    ]
    if not rows:
        return None
    base = max(float(p.memory_gb or 0) for p in rows)
    if batch == 1:
        return base
    measured = [p for p in rows if p.memory_batch]
    if not measured:
        raise ThroughputUnknown(
            f"peak memory of {model} at {precision} is known for batch 1 only ({base} GB); no "
            f"source gives it at batch {batch}"
        )
    p = max(measured, key=lambda q: q.memory_batch[-1].batch)
    xs = [1, *(m.batch for m in p.memory_batch)]
    ys = [float(p.memory_gb or 0), *(float(m.peak_gb) for m in p.memory_batch)]
    return _interpolate(xs, ys, batch, extrapolate=True)


def fits(
    model: str,
    gpu: str,
    precision: str,
    batch: int = 1,
    *,
    profiles: ThroughputData | None = None,
) -> bool:
    """Whether ``model`` at ``precision`` and ``batch`` fits in one ``gpu``'s memory.

    Compares :func:`memory_need_gb` with the GPU's ``memory_gb``. When either is unknown, a
    batch-1 profile of exactly this model, GPU and precision counts as proof that it fits
    (someone ran it).

    Raises
    ------
    ThroughputUnknown
        Neither the comparison nor a measured run can answer.
    """
    data = _bundled() if profiles is None else profiles
    if gpu not in data.gpus:
        raise KeyError(f"unknown GPU {gpu!r}; known: {', '.join(sorted(data.gpus))}")
    have = data.gpus[gpu].memory_gb
    need = memory_need_gb(model, precision, batch, data)
    if need is not None and have is not None:
        return need <= float(have)
    ran = any((p.model, p.gpu, p.precision) == (model, gpu, precision) for p in data.profiles)
    if ran and batch == 1:
        return True
    missing = "the GPU's memory" if have is None else f"the memory need of {model} at {precision}"
    raise ThroughputUnknown(
        f"cannot tell whether {model} at {precision}, batch {batch}, fits on {gpu}: "
        f"{missing} is not in the sources"
    )


def throughput_table(profiles: Profiles | None = None) -> pl.DataFrame:
    """One row per throughput profile, with its time per image at default steps.

    Returns
    -------
    polars.DataFrame
        ``profile_id, model, gpu, precision, overhead_s`` [s], ``step_s`` [s at ref_tokens],
        ``ref_tokens, token_exponent, default_steps, seconds_ref`` [s/image at ref_tokens and
        default steps], ``seconds_1024`` [s/image at 1024 x 1024, default steps; null when the
        profile cannot scale there], ``memory_gb`` [GB], ``confidence, sources, fit``.
    """
    rows = _profiles(profiles)

    def at_1024(p: ThroughputProfile) -> float | None:
        try:
            return p.seconds(1024, 1024)
        except ThroughputUnknown:
            return None

    return pl.DataFrame(
        {
            "profile_id": [p.id for p in rows],
            "model": [p.model for p in rows],
            "gpu": [p.gpu for p in rows],
            "precision": [p.precision for p in rows],
            "overhead_s": [float(p.overhead_s) for p in rows],
            "step_s": [float(p.step_s) for p in rows],
            "ref_tokens": [p.ref_tokens for p in rows],
            "token_exponent": [
                None if p.token_exponent is None else float(p.token_exponent) for p in rows
            ],
            "default_steps": [p.default_steps for p in rows],
            "seconds_ref": [float(p.overhead_s) + float(p.step_s) * p.default_steps for p in rows],
            "seconds_1024": [at_1024(p) for p in rows],
            "memory_gb": [None if p.memory_gb is None else float(p.memory_gb) for p in rows],
            "confidence": [p.confidence for p in rows],
            "sources": [list(p.sources) for p in rows],
            "fit": [p.fit for p in rows],
        },
        schema={
            "profile_id": pl.String,
            "model": pl.String,
            "gpu": pl.String,
            "precision": pl.String,
            "overhead_s": pl.Float64,
            "step_s": pl.Float64,
            "ref_tokens": pl.Int64,
            "token_exponent": pl.Float64,
            "default_steps": pl.Int64,
            "seconds_ref": pl.Float64,
            "seconds_1024": pl.Float64,
            "memory_gb": pl.Float64,
            "confidence": pl.String,
            "sources": pl.List(pl.String),
            "fit": pl.String,
        },
    )


# ----------------------------------------------------------------------------- licences


class ModelLicence(Strict):
    """Terms for self-hosting an open-weights model commercially, as far as the sources say.

    ``free_commercial_use``: True = commercial use needs no paid licence; False = it needs one;
    None = the sources do not say. ``fee_known`` is False whenever a fee may apply but is not in
    the sources: the cost is then unknown, never $0.
    """

    model: Id
    licence: str | None = Field(default=None, description="name as the sources give it")
    free_commercial_use: bool | None = None
    fee_known: bool
    currency: Currency = "USD"
    monthly_fee: Money | None = Field(default=None, description="[currency/month]")
    included_images: int | None = Field(default=None, ge=0, description="[images/month]")
    overage_per_image: Money | None = Field(default=None, description="[currency/image]")
    sources: list[Id] = Field(min_length=1)
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelLicence:
        fees = (self.monthly_fee, self.included_images, self.overage_per_image)
        if self.free_commercial_use is True and (not self.fee_known or any(fees)):
            raise ValueError("free commercial use means fee_known = true and no fee fields")
        if self.free_commercial_use is None and self.fee_known:
            raise ValueError("fee_known = true needs free_commercial_use = true or false")
        if not self.fee_known and any(f is not None for f in fees):
            raise ValueError("fee fields need fee_known = true")
        if self.free_commercial_use is False and self.fee_known and self.monthly_fee is None:
            raise ValueError("a known paid licence needs `monthly_fee`")
        return self

    def monthly_cost(self, images: int) -> Decimal:
        """Licence cost of a month with ``images`` commercial images [currency/month].

        Raises
        ------
        PriceNotFound
            The terms are not in the sources; ask the user for them (never priced as $0).
        """
        if images < 0:
            raise ValueError(f"images must not be negative, got {images}")
        if self.free_commercial_use is True:
            return Decimal(0)
        if not self.fee_known or self.monthly_fee is None:
            need = (
                "needs a paid commercial licence"
                if self.free_commercial_use is False
                else ("has commercial terms the sources do not state")
            )
            raise PriceNotFound(
                f"{self.model} {need}; its fee is not in data/licences.toml. Supply the licence "
                "terms (monthly fee, included images, overage) to price self-hosting"
            )
        extra = max(0, images - (self.included_images or 0))
        if extra and self.overage_per_image is None:
            raise PriceNotFound(
                f"{self.model}: {images} images exceed the {self.included_images} included and "
                "no overage price is in the sources"
            )
        return self.monthly_fee + extra * (self.overage_per_image or Decimal(0))


class LicencesFile(Strict):
    """``data/licences.toml``."""

    licence: list[ModelLicence]


def load_licences(root: Path | None = None) -> dict[str, ModelLicence]:
    """Load ``data/licences.toml``: model id -> licence terms (open-weights models only).

    A model missing from the file has unknown terms, like ``fee_known = false``.
    """
    root = bundled_data_dir() if root is None else Path(root)
    problems: list[Problem] = []
    sources = _load_model(root / "sources.toml", SourcesFile, root, problems)
    models = _load_model(root / "models.toml", ModelsFile, root, problems)
    data = read_entries(root / "licences.toml", LicencesFile, root, problems)
    if sources is None or models is None or data is None or problems:
        raise RateCardError(problems)
    rel = _rel(root / "licences.toml", root)
    source_ids = {s.id for s in sources.source}
    by_id = {m.id: m for m in models.model}
    problems.extend(check_unique(rel, [x.model for x in data.licence], "licence model"))
    for x in data.licence:
        model = by_id.get(x.model)
        if model is None or not model.open_weights:
            what = "unknown model" if model is None else "model without open weights"
            problems.append(
                Problem(
                    rel,
                    f"{what} {x.model!r}",
                    "licences are for open-weights models in data/models.toml",
                    offer=x.model,
                    field="model",
                )
            )
        for i, sid in enumerate(x.sources):
            problems.extend(check_source(rel, x.model, f"sources[{i}]", sid, source_ids))
    if problems:
        raise RateCardError(problems)
    return {x.model: x for x in data.licence}

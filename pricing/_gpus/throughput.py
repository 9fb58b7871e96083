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

The profiles and their loading are in :mod:`pricing._gpus.profiles`, licence terms in
:mod:`pricing._gpus.licences`.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from pricing._gpus.profiles import (
    LOSSLESS,
    Profiles,
    ThroughputData,
    ThroughputProfile,
    bundled_throughput,
    interpolate,
    profiles_of,
)
from pricing.errors import ProfileNotFound, ThroughputUnknown


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
    all_ = profiles_of(profiles)
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
    inputs: int = 0,
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
        One of :data:`PRECISIONS`; default: the fastest lossless profile on this GPU (the
        published weights, bf16/fp16/fp32, compiled or not). A quantised precision (fp8, int8,
        fp4) changes the images and is used only when named.
    batch : int
        Images per batch; the result is the per-image share of the batch's time [s/image].
    inputs : int
        Input images of an edit: each adds the profile's ``input_tokens`` to every step (an
        edit model that runs its inputs in the same sequence, such as FLUX.1 Kontext [dev]).
        A profile that does not say how inputs cost raises :class:`ThroughputUnknown`.
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
    all_ = profiles_of(profiles)
    if precision is not None:
        return find_profile(model, gpu, precision, all_).seconds(
            width, height, steps, batch, inputs
        )
    every = [p for p in all_ if p.model == model and p.gpu == gpu]
    if not every:
        raise _not_found(model, gpu, None, all_)
    candidates = [p for p in every if p.precision in LOSSLESS]
    if not candidates:
        lossy = ", ".join(sorted(p.precision for p in every))
        raise ThroughputUnknown(
            f"{model} on {gpu} has only quantised profiles ({lossy}), which change the images; "
            f"pass precision={every[0].precision!r} to accept one"
        )
    times: list[float] = []
    unknown: ThroughputUnknown | None = None
    for p in candidates:
        try:
            times.append(p.seconds(width, height, steps, batch, inputs))
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
        for p in profiles_of(profiles)
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
    return interpolate(xs, ys, batch, extrapolate=True)


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
    data = bundled_throughput() if profiles is None else profiles
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
    rows = profiles_of(profiles)

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

"""What a simulation says beside its figures: why a segment has no self-hosted option, how
shared costs are split, and the terms deployment options were priced under."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pricing._cards.catalog import Catalog
from pricing._dataset import DataSet
from pricing._plan.option_costs import SegmentRun
from pricing._selfhost.setups import no_setup_reason
from pricing._workloads.model import Deployment, Segment, Workload, central


def why_no_self(
    wl: Workload,
    seg: Segment,
    data: DataSet,
    cat: Catalog,
    modes: Sequence[str],
    gpus: Sequence[str] | None,
) -> str:
    """Why ``seg`` has no self-hosted set-up (see :func:`no_setup_reason`)."""
    if not set(modes) - {"api"}:
        return "no self-hosted mode was asked for"
    return no_setup_reason(wl, seg, data, cat, gpus)


def none_can_serve(runs: list[SegmentRun], monthly: pl.DataFrame) -> dict[str, str]:
    """Segments whose self-hosted options were all evaluated and none can serve a month, with
    the commonest reason (its share of the options): a verdict, not a 0% probability."""
    own = monthly.filter(pl.col("kind") == "self-hosted")
    out = {}
    for run in runs:
        mine = own.filter(pl.col("segment") == run.segment.name)
        if not run.selfhosted or mine.height == 0 or mine["feasible"].any():
            continue
        per_option = mine.group_by("option").agg(pl.col("reason").drop_nulls().first())
        top = per_option.group_by("reason").len().sort("len", "reason", descending=[True, False])
        reason, count = top.row(0) if top.height else ("no reason recorded", per_option.height)
        out[run.segment.name] = (
            f"with every input at its centre, none of its {per_option.height} self-hosted "
            f"options can serve it ({count} of them: {reason})"
        )
    return out


def sharing_note(wl: Workload, runs: list[SegmentRun]) -> list[str]:
    """How self-hosting costs are shared, when several segments can be self-hosted."""
    if len(wl.segments) < 2 or not any(run.selfhosted for run in runs):
        return []
    notes = [
        "licence, operations, storage and egress are the workload's, paid once: each "
        "segment's self-hosted options carry them in proportion to its images"
    ]
    groups = {
        tuple(m.segment.name for m in members) for run in runs for members in run.shared.values()
    }
    for names in sorted(groups):
        notes.append(
            f"segments {', '.join(names)} share one fleet per self-hosted set-up (same model, "
            "GPU offer and mode): sized for their combined requests and the strictest p95 "
            "target, its GPU cost carried in proportion to each segment's busy GPU time; the "
            "shares assume each of them is served by that fleet, so self-hosting only some of "
            "them costs more than their shares (a segment whose own target an idle GPU meets "
            "but the strictest does not keeps its own fleet)"
        )
    return notes


def deployment_note(wl: Workload, runs: list[SegmentRun]) -> list[str]:
    """The terms deployment options were priced under, with where the defaults come from."""
    if not any(s.mode == "deployment" for run in runs for s in run.selfhosted):
        return []
    sh = wl.self_hosting
    given = sh.deployment if sh is not None else None
    terms = given if given is not None else Deployment()
    how = (
        "the workload's self_hosting.deployment"
        if given is not None
        else "defaults: Replicate scales deployments to 0 instances by default and keeps an "
        "instance idle 'for a few minutes' after its last request (Replicate's billing docs), "
        "taken as 180 s; the 15 s set-up is an assumption (the docs say 'a few seconds', "
        "weights included); set self_hosting.deployment to change them"
    )
    return [
        f"deployment options (a provider's per-second hardware running your own model) bill "
        f"set-up, idle and active time: {terms.min_instances} instance(s) always online, "
        f"{central(terms.setup_s):g} s set-up per new instance, {central(terms.idle_s):g} s "
        f"idle before scaling down ({how})"
    ]

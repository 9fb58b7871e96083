"""The terms a self-hosted fleet runs under, beside its GPUs: latency, peaks, licence, people.

:class:`HostingTerms` groups what :func:`pricing.break_even` needs besides the request and the
GPU; :func:`segment_terms` reads them from a workload (each uncertain input at its centre), so
that the dashboard and the CLI state the same assumptions the simulation used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pricing._workloads.demand import peak_to_mean
from pricing._workloads.model import Segment, Workload, central
from pricing.errors import PricingError


@dataclass(frozen=True)
class HostingTerms:
    """How a dedicated fleet is run, and its fixed monthly costs.

    Parameters
    ----------
    p95_latency_s : float, optional  [s]
        Latency target the fleet must meet at the peak hour; ``None`` = utilisation only.
    peak_to_mean : float  [-]
        The peak hour's request rate over the month's mean rate (1 = flat traffic).
    max_utilisation : float  [-]
        Highest busy fraction allowed per GPU, in (0, 1].
    licence_per_month : float  [currency/month]
        The model licence's fixed fee.
    licence_included_images : float, optional  [images/month]
        Images the fee covers; beyond them ``licence_overage_per_image`` is billed (BFL's
        self-serve [dev] licence bills overage above 100,000 images a month).
    licence_overage_per_image : float  [currency/image]
        Licence charge per image beyond the included ones (all images when none are included).
    ops_per_month : float  [currency/month]
        People time to run the fleet.
    precision : str, optional
        Weights' precision of the throughput profile (default: the profile's lossless one).
    """

    p95_latency_s: float | None = None
    peak_to_mean: float = 1.0
    max_utilisation: float = 1.0
    licence_per_month: float = 0.0
    ops_per_month: float = 0.0
    precision: str | None = None
    licence_included_images: float | None = None
    licence_overage_per_image: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "peak_to_mean": (self.peak_to_mean, self.peak_to_mean >= 1, "at least 1"),
            "max_utilisation": (
                self.max_utilisation,
                0 < self.max_utilisation <= 1,
                "above 0 and at most 1",
            ),
            "licence_per_month": (self.licence_per_month, self.licence_per_month >= 0, "≥ 0"),
            "ops_per_month": (self.ops_per_month, self.ops_per_month >= 0, "≥ 0"),
            "licence_overage_per_image": (
                self.licence_overage_per_image,
                self.licence_overage_per_image >= 0,
                "≥ 0",
            ),
        }
        if self.licence_included_images is not None:
            checks["licence_included_images"] = (
                self.licence_included_images,
                self.licence_included_images >= 0,
                "≥ 0",
            )
        if self.p95_latency_s is not None:
            checks["p95_latency_s"] = (self.p95_latency_s, self.p95_latency_s > 0, "above 0")
        for name, (value, ok, want) in checks.items():
            if not math.isfinite(value) or not ok:
                raise PricingError(
                    f"hosting terms: {name} must be a finite number {want}, got {value}"
                )

    @property
    def fixed_per_month(self) -> float:
        """Licence fee and operations together [currency/month]."""
        return self.licence_per_month + self.ops_per_month

    def licence_overage(self, images: np.ndarray) -> np.ndarray:
        """Licence overage of a month of ``images`` [currency/month]."""
        included = self.licence_included_images or 0.0
        return np.maximum(np.asarray(images, dtype=np.float64) - included, 0.0) * (
            self.licence_overage_per_image
        )


#: The fields of :class:`HostingTerms` a workload sets (precision is the deployment's choice).
HOSTING_FIELDS = (
    "p95_latency_s",
    "peak_to_mean",
    "max_utilisation",
    "licence_per_month",
    "ops_per_month",
    "licence_included_images",
    "licence_overage_per_image",
)


def segment_terms(work: Workload, segment: Segment) -> HostingTerms:
    """The hosting terms of ``segment`` as the workload states them, each at its centre.

    Without a ``[self_hosting]`` table the terms are the defaults: no licence fee, no
    operations cost, full utilisation; the segment's latency target and traffic still apply.
    """
    traffic = segment.traffic or work.traffic
    p95 = None if segment.p95_latency_s is None else central(segment.p95_latency_s)
    hosting = work.self_hosting
    if hosting is None:
        return HostingTerms(p95_latency_s=p95, peak_to_mean=peak_to_mean(traffic))
    terms = hosting.licence
    return HostingTerms(
        p95_latency_s=p95,
        peak_to_mean=peak_to_mean(traffic),
        max_utilisation=central(hosting.max_utilisation),
        licence_per_month=central(terms.monthly_fee) if terms is not None else 0.0,
        ops_per_month=central(hosting.ops_hours_per_month) * central(hosting.ops_hourly_rate),
        licence_included_images=None if terms is None else central(terms.included_images),
        licence_overage_per_image=0.0 if terms is None else central(terms.overage_per_image),
    )

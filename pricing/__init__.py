"""Cost planning and pricing analytics for image generation.

Versioned provider rate cards (``data/``) feed an exact pricing engine::

    >>> import pricing
    >>> req = pricing.ImageRequest("flux-2-pro", width=1024, height=1024)   # doctest: +SKIP
    >>> pricing.quote(req, "bfl/flux-2-pro").total                         # doctest: +SKIP

Money is ``Decimal`` on this path; see ``DESIGN.md`` for the rules that keep numbers honest.
Chart builders and dashboards (altair, vl-convert) are imported on first use, so that
``import pricing`` stays fast.
"""

import importlib as _importlib
import typing as _typing

from pricing._cards.catalog import Catalog, load_catalog
from pricing._cards.schema import ImageModel, Offer, PriceVersion, RateCard, Source
from pricing._dataset import DataSet, load_data_set
from pricing._evidence.grades import Evidence, Flag, TrustPolicy
from pricing._evidence.table import evidence_frame
from pricing._evidence.trust import Trusted, trusted
from pricing._fx.convert import Conversion, Converter
from pricing._fx.ecb import parse_ecb_xml
from pricing._fx.rates import fx_rate
from pricing._fx.store import load_fx
from pricing._gpus.gpus import gpu_offers_table, load_gpus
from pricing._gpus.licences import load_licences
from pricing._gpus.offers import GpuOffer, OwnedHardware
from pricing._gpus.profiles import load_throughput
from pricing._gpus.throughput import fits, seconds_per_image, throughput_table
from pricing._json_schemas import schema_documents, write_schemas
from pricing._plan.breakeven import BreakEven, break_even
from pricing._plan.simulate import Simulation, simulate
from pricing._plan.summary import plan_options
from pricing._price.request import ImageRequest
from pricing._price.units import LineItem
from pricing._queue.mgc import FleetSize, erlang_c, latency_quantile, size_fleet, size_fleet_array
from pricing._queue.simulation import simulate_queue
from pricing._quote.compare import compare
from pricing._quote.quote import Quote, SourcePrice, Spread, monthly_cost, quote
from pricing._refresh.http import FetchPolicy
from pricing._refresh.pull import pull_cards, pull_fx, pull_gpus
from pricing._refresh.run import RefreshReport, refresh
from pricing._selfhost.terms import HostingTerms
from pricing._usage.budget import Budget, BudgetStatus, budget_status
from pricing._usage.focus import focus_excluded, to_focus
from pricing._usage.focus_columns import FOCUS_COLUMNS, FOCUS_VERSION
from pricing._usage.log import LOG_COLUMNS, scan_log
from pricing._usage.offers import log_requests
from pricing._usage.replay import Replay, replay
from pricing._vector.columns import PRICED_COLUMNS, REQUEST_COLUMNS
from pricing._vector.requests import price_requests
from pricing._workloads.demand import monthly_demand, peak_to_mean, traffic_profile
from pricing._workloads.distributions import latin_hypercube
from pricing._workloads.inputs import uncertain_inputs, with_values
from pricing._workloads.load import list_workloads, load_workload
from pricing._workloads.model import Workload
from pricing.errors import (
    FxError,
    PriceExcluded,
    PriceNotFound,
    PricingError,
    Problem,
    ProfileNotFound,
    RateCardError,
    RefreshError,
    RequestError,
    ThroughputUnknown,
    UnsupportedRequest,
    WorkloadError,
)

__all__ = [
    "FOCUS_COLUMNS",
    "FOCUS_VERSION",
    "LOG_COLUMNS",
    "PRICED_COLUMNS",
    "REQUEST_COLUMNS",
    "BreakEven",
    "Budget",
    "BudgetStatus",
    "Catalog",
    "Conversion",
    "Converter",
    "DataSet",
    "Evidence",
    "FetchPolicy",
    "Flag",
    "FleetSize",
    "FxError",
    "GpuOffer",
    "HostingTerms",
    "ImageModel",
    "ImageRequest",
    "LineItem",
    "Offer",
    "OwnedHardware",
    "PriceExcluded",
    "PriceNotFound",
    "PriceVersion",
    "PricingError",
    "Problem",
    "ProfileNotFound",
    "Quote",
    "RateCard",
    "RateCardError",
    "RefreshError",
    "RefreshReport",
    "Replay",
    "RequestError",
    "Simulation",
    "Source",
    "SourcePrice",
    "Spread",
    "ThroughputUnknown",
    "TrustPolicy",
    "Trusted",
    "UnsupportedRequest",
    "Workload",
    "WorkloadError",
    "break_even",
    "budget_status",
    "compare",
    "erlang_c",
    "evidence_frame",
    "fits",
    "focus_excluded",
    "fx_rate",
    "gpu_offers_table",
    "latency_quantile",
    "latin_hypercube",
    "list_workloads",
    "load_catalog",
    "load_data_set",
    "load_fx",
    "load_gpus",
    "load_licences",
    "load_throughput",
    "load_workload",
    "log_requests",
    "monthly_cost",
    "monthly_demand",
    "parse_ecb_xml",
    "peak_to_mean",
    "plan_options",
    "price_requests",
    "pull_cards",
    "pull_fx",
    "pull_gpus",
    "quote",
    "refresh",
    "replay",
    "scan_log",
    "schema_documents",
    "seconds_per_image",
    "simulate",
    "simulate_queue",
    "size_fleet",
    "size_fleet_array",
    "throughput_table",
    "to_focus",
    "traffic_profile",
    "trusted",
    "uncertain_inputs",
    "with_values",
    "write_schemas",
]

#: Public names imported on first use: name -> private module that defines it.
_LAZY = {
    "Dashboard": "pricing._charts.dashboard",
    "break_even_chart": "pricing._charts.selfhost",
    "budget_chart": "pricing._charts.usage",
    "build_dashboard": "pricing._charts.dashboard",
    "cost_heatmap": "pricing._charts.prices",
    "cost_per_image_chart": "pricing._charts.prices",
    "export_dashboard": "pricing._charts.dashboard",
    "fan_chart": "pricing._charts.plans",
    "fleet_chart": "pricing._charts.selfhost",
    "price_history_chart": "pricing._charts.prices",
    "replay_chart": "pricing._charts.usage",
    "spend_chart": "pricing._charts.plans",
    "tornado_chart": "pricing._charts.plans",
}
__all__ += sorted(_LAZY)

if _typing.TYPE_CHECKING:
    from pricing._charts.dashboard import Dashboard as Dashboard
    from pricing._charts.dashboard import build_dashboard as build_dashboard
    from pricing._charts.dashboard import export_dashboard as export_dashboard
    from pricing._charts.plans import fan_chart as fan_chart
    from pricing._charts.plans import spend_chart as spend_chart
    from pricing._charts.plans import tornado_chart as tornado_chart
    from pricing._charts.prices import cost_heatmap as cost_heatmap
    from pricing._charts.prices import cost_per_image_chart as cost_per_image_chart
    from pricing._charts.prices import price_history_chart as price_history_chart
    from pricing._charts.selfhost import break_even_chart as break_even_chart
    from pricing._charts.selfhost import fleet_chart as fleet_chart
    from pricing._charts.usage import budget_chart as budget_chart
    from pricing._charts.usage import replay_chart as replay_chart


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pricing' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

"""Cost planning and pricing analytics for image generation.

Versioned provider rate cards (``data/``) feed an exact pricing engine::

    >>> import pricing
    >>> req = pricing.ImageRequest("flux-2-pro", width=1024, height=1024)   # doctest: +SKIP
    >>> pricing.quote(req, "bfl/flux-2-pro").total                         # doctest: +SKIP

Money is ``Decimal`` on this path; see ``DESIGN.md`` for the rules that keep numbers honest.
Every public name but the exceptions is imported on first use (``_LAZY``), so that
``import pricing`` stays fast: polars, pydantic's models, numpy, scipy, altair and vl-convert
load only when a name that needs them is first used.
"""

import importlib as _importlib
import typing as _typing

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
    "Catalog": "pricing._cards.catalog",
    "load_catalog": "pricing._cards.catalog",
    "ImageModel": "pricing._cards.schema",
    "Offer": "pricing._cards.schema",
    "PriceVersion": "pricing._cards.schema",
    "RateCard": "pricing._cards.schema",
    "Source": "pricing._cards.schema",
    "DataSet": "pricing._dataset",
    "load_data_set": "pricing._dataset",
    "Evidence": "pricing._evidence.grades",
    "Flag": "pricing._evidence.grades",
    "TrustPolicy": "pricing._evidence.grades",
    "evidence_frame": "pricing._evidence.table",
    "Trusted": "pricing._evidence.trust",
    "trusted": "pricing._evidence.trust",
    "Conversion": "pricing._fx.convert",
    "Converter": "pricing._fx.convert",
    "parse_ecb_xml": "pricing._fx.ecb",
    "fx_rate": "pricing._fx.rates",
    "load_fx": "pricing._fx.store",
    "gpu_offers_table": "pricing._gpus.gpus",
    "load_gpus": "pricing._gpus.gpus",
    "load_licences": "pricing._gpus.licences",
    "GpuOffer": "pricing._gpus.offers",
    "OwnedHardware": "pricing._gpus.offers",
    "load_throughput": "pricing._gpus.profiles",
    "fits": "pricing._gpus.throughput",
    "seconds_per_image": "pricing._gpus.throughput",
    "throughput_table": "pricing._gpus.throughput",
    "schema_documents": "pricing._json_schemas",
    "write_schemas": "pricing._json_schemas",
    "BreakEven": "pricing._plan.breakeven",
    "break_even": "pricing._plan.breakeven",
    "Simulation": "pricing._plan.simulate",
    "simulate": "pricing._plan.simulate",
    "plan_options": "pricing._plan.summary",
    "ImageRequest": "pricing._price.request",
    "LineItem": "pricing._price.units",
    "FleetSize": "pricing._queue.mgc",
    "erlang_c": "pricing._queue.mgc",
    "latency_quantile": "pricing._queue.mgc",
    "size_fleet": "pricing._queue.mgc",
    "size_fleet_array": "pricing._queue.mgc",
    "simulate_queue": "pricing._queue.simulation",
    "compare": "pricing._quote.compare",
    "Quote": "pricing._quote.quote",
    "SourcePrice": "pricing._quote.quote",
    "Spread": "pricing._quote.quote",
    "monthly_cost": "pricing._quote.quote",
    "quote": "pricing._quote.quote",
    "FetchPolicy": "pricing._refresh.http",
    "pull_cards": "pricing._refresh.pull",
    "pull_fx": "pricing._refresh.pull",
    "pull_gpus": "pricing._refresh.pull",
    "RefreshReport": "pricing._refresh.run",
    "refresh": "pricing._refresh.run",
    "HostingTerms": "pricing._selfhost.terms",
    "Budget": "pricing._usage.budget",
    "BudgetStatus": "pricing._usage.budget",
    "budget_status": "pricing._usage.budget",
    "focus_excluded": "pricing._usage.focus",
    "to_focus": "pricing._usage.focus",
    "FOCUS_COLUMNS": "pricing._usage.focus_columns",
    "FOCUS_VERSION": "pricing._usage.focus_columns",
    "LOG_COLUMNS": "pricing._usage.log",
    "scan_log": "pricing._usage.log",
    "log_requests": "pricing._usage.offers",
    "Replay": "pricing._usage.replay",
    "replay": "pricing._usage.replay",
    "PRICED_COLUMNS": "pricing._vector.columns",
    "REQUEST_COLUMNS": "pricing._vector.columns",
    "price_requests": "pricing._vector.requests",
    "monthly_demand": "pricing._workloads.demand",
    "peak_to_mean": "pricing._workloads.demand",
    "traffic_profile": "pricing._workloads.demand",
    "latin_hypercube": "pricing._workloads.distributions",
    "uncertain_inputs": "pricing._workloads.inputs",
    "with_values": "pricing._workloads.inputs",
    "list_workloads": "pricing._workloads.load",
    "load_workload": "pricing._workloads.load",
    "Workload": "pricing._workloads.model",
}
#: Chart builders and dashboards (altair, vl-convert), also imported on first use.
_CHARTS = {
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
__all__ += sorted(_CHARTS)
_LAZY.update(_CHARTS)

if _typing.TYPE_CHECKING:
    from pricing._cards.catalog import Catalog as Catalog
    from pricing._cards.catalog import load_catalog as load_catalog
    from pricing._cards.schema import ImageModel as ImageModel
    from pricing._cards.schema import Offer as Offer
    from pricing._cards.schema import PriceVersion as PriceVersion
    from pricing._cards.schema import RateCard as RateCard
    from pricing._cards.schema import Source as Source
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
    from pricing._dataset import DataSet as DataSet
    from pricing._dataset import load_data_set as load_data_set
    from pricing._evidence.grades import Evidence as Evidence
    from pricing._evidence.grades import Flag as Flag
    from pricing._evidence.grades import TrustPolicy as TrustPolicy
    from pricing._evidence.table import evidence_frame as evidence_frame
    from pricing._evidence.trust import Trusted as Trusted
    from pricing._evidence.trust import trusted as trusted
    from pricing._fx.convert import Conversion as Conversion
    from pricing._fx.convert import Converter as Converter
    from pricing._fx.ecb import parse_ecb_xml as parse_ecb_xml
    from pricing._fx.rates import fx_rate as fx_rate
    from pricing._fx.store import load_fx as load_fx
    from pricing._gpus.gpus import gpu_offers_table as gpu_offers_table
    from pricing._gpus.gpus import load_gpus as load_gpus
    from pricing._gpus.licences import load_licences as load_licences
    from pricing._gpus.offers import GpuOffer as GpuOffer
    from pricing._gpus.offers import OwnedHardware as OwnedHardware
    from pricing._gpus.profiles import load_throughput as load_throughput
    from pricing._gpus.throughput import fits as fits
    from pricing._gpus.throughput import seconds_per_image as seconds_per_image
    from pricing._gpus.throughput import throughput_table as throughput_table
    from pricing._json_schemas import schema_documents as schema_documents
    from pricing._json_schemas import write_schemas as write_schemas
    from pricing._plan.breakeven import BreakEven as BreakEven
    from pricing._plan.breakeven import break_even as break_even
    from pricing._plan.simulate import Simulation as Simulation
    from pricing._plan.simulate import simulate as simulate
    from pricing._plan.summary import plan_options as plan_options
    from pricing._price.request import ImageRequest as ImageRequest
    from pricing._price.units import LineItem as LineItem
    from pricing._queue.mgc import FleetSize as FleetSize
    from pricing._queue.mgc import erlang_c as erlang_c
    from pricing._queue.mgc import latency_quantile as latency_quantile
    from pricing._queue.mgc import size_fleet as size_fleet
    from pricing._queue.mgc import size_fleet_array as size_fleet_array
    from pricing._queue.simulation import simulate_queue as simulate_queue
    from pricing._quote.compare import compare as compare
    from pricing._quote.quote import Quote as Quote
    from pricing._quote.quote import SourcePrice as SourcePrice
    from pricing._quote.quote import Spread as Spread
    from pricing._quote.quote import monthly_cost as monthly_cost
    from pricing._quote.quote import quote as quote
    from pricing._refresh.http import FetchPolicy as FetchPolicy
    from pricing._refresh.pull import pull_cards as pull_cards
    from pricing._refresh.pull import pull_fx as pull_fx
    from pricing._refresh.pull import pull_gpus as pull_gpus
    from pricing._refresh.run import RefreshReport as RefreshReport
    from pricing._refresh.run import refresh as refresh
    from pricing._selfhost.terms import HostingTerms as HostingTerms
    from pricing._usage.budget import Budget as Budget
    from pricing._usage.budget import BudgetStatus as BudgetStatus
    from pricing._usage.budget import budget_status as budget_status
    from pricing._usage.focus import focus_excluded as focus_excluded
    from pricing._usage.focus import to_focus as to_focus
    from pricing._usage.focus_columns import FOCUS_COLUMNS as FOCUS_COLUMNS
    from pricing._usage.focus_columns import FOCUS_VERSION as FOCUS_VERSION
    from pricing._usage.log import LOG_COLUMNS as LOG_COLUMNS
    from pricing._usage.log import scan_log as scan_log
    from pricing._usage.offers import log_requests as log_requests
    from pricing._usage.replay import Replay as Replay
    from pricing._usage.replay import replay as replay
    from pricing._vector.columns import PRICED_COLUMNS as PRICED_COLUMNS
    from pricing._vector.columns import REQUEST_COLUMNS as REQUEST_COLUMNS
    from pricing._vector.requests import price_requests as price_requests
    from pricing._workloads.demand import monthly_demand as monthly_demand
    from pricing._workloads.demand import peak_to_mean as peak_to_mean
    from pricing._workloads.demand import traffic_profile as traffic_profile
    from pricing._workloads.distributions import latin_hypercube as latin_hypercube
    from pricing._workloads.inputs import uncertain_inputs as uncertain_inputs
    from pricing._workloads.inputs import with_values as with_values
    from pricing._workloads.load import list_workloads as list_workloads
    from pricing._workloads.load import load_workload as load_workload
    from pricing._workloads.model import Workload as Workload


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pricing' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

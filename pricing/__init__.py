"""Cost planning and pricing analytics for image generation.

Versioned provider rate cards (``data/``) feed an exact pricing engine::

    >>> import pricing
    >>> req = pricing.ImageRequest("flux-2-pro", width=1024, height=1024)   # doctest: +SKIP
    >>> pricing.quote(req, "bfl/flux-2-pro").total                         # doctest: +SKIP

Money is ``Decimal`` on this path; see ``DESIGN.md`` for the rules that keep numbers honest.
"""

from pricing._catalog import Catalog, load_catalog
from pricing._components import LineItem
from pricing._focus import FOCUS_COLUMNS, FOCUS_VERSION, focus_excluded, to_focus
from pricing._fx import fx_rate, load_fx, parse_ecb_xml
from pricing._quote import Quote, SourcePrice, Spread, compare, monthly_cost, quote
from pricing._replay import LOG_COLUMNS, Replay, log_requests, replay, scan_log
from pricing._request import ImageRequest
from pricing._schema import ImageModel, Offer, PriceVersion, RateCard, Source
from pricing._schema_export import schema_documents, write_schemas
from pricing._vector import PRICED_COLUMNS, REQUEST_COLUMNS, price_requests
from pricing.errors import (
    FxError,
    PriceNotFound,
    PricingError,
    Problem,
    RateCardError,
    UnsupportedRequest,
)

__all__ = [
    "FOCUS_COLUMNS",
    "FOCUS_VERSION",
    "LOG_COLUMNS",
    "PRICED_COLUMNS",
    "REQUEST_COLUMNS",
    "Catalog",
    "FxError",
    "ImageModel",
    "ImageRequest",
    "LineItem",
    "Offer",
    "PriceNotFound",
    "PriceVersion",
    "PricingError",
    "Problem",
    "Quote",
    "RateCard",
    "RateCardError",
    "Replay",
    "Source",
    "SourcePrice",
    "Spread",
    "UnsupportedRequest",
    "compare",
    "focus_excluded",
    "fx_rate",
    "load_catalog",
    "load_fx",
    "log_requests",
    "monthly_cost",
    "parse_ecb_xml",
    "price_requests",
    "quote",
    "replay",
    "scan_log",
    "schema_documents",
    "to_focus",
    "write_schemas",
]

"""Cost planning and pricing analytics for image generation.

Versioned provider rate cards (``data/``) feed an exact pricing engine::

    >>> import pricing
    >>> req = pricing.ImageRequest("flux-2-pro", width=1024, height=1024)   # doctest: +SKIP
    >>> pricing.quote(req, "bfl/flux-2-pro").total                         # doctest: +SKIP

Money is ``Decimal`` on this path; see ``DESIGN.md`` for the rules that keep numbers honest.
"""

from pricing._catalog import Catalog, load_catalog
from pricing._components import LineItem
from pricing._quote import Quote, SourcePrice, Spread, compare, monthly_cost, quote
from pricing._request import ImageRequest
from pricing._schema import ImageModel, Offer, PriceVersion, RateCard, Source
from pricing._schema_export import schema_documents, write_schemas
from pricing.errors import (
    PriceNotFound,
    PricingError,
    Problem,
    RateCardError,
    UnsupportedRequest,
)

__all__ = [
    "Catalog",
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
    "Source",
    "SourcePrice",
    "Spread",
    "UnsupportedRequest",
    "compare",
    "load_catalog",
    "monthly_cost",
    "quote",
    "schema_documents",
    "write_schemas",
]

"""Money scales: the polars decimal types money is carried in, and the constants of units.

``quote()`` is exact in ``Decimal``; tables of quotes use :data:`QUOTE_MONEY`. Usage ledgers
(replay, budgets, FOCUS, exchange rates) sum many rows and keep :data:`LEDGER_PLACES` places.

The two polars types are made on first use (``from pricing._base.money import QUOTE_MONEY``
works as for any constant): a command that prices one request never imports polars.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import polars as pl

    QUOTE_MONEY: pl.Decimal  # [currency] one quote's total or line item
    LEDGER_MONEY: pl.Decimal  # [currency] usage costs and their sums

QUOTE_PLACES: Final = 12  # places of QUOTE_MONEY
LEDGER_PLACES: Final = 10  # places kept per usage row before any sum
MILLION: Final = Decimal(1_000_000)  # per-million prices (tokens, pixels)


def __getattr__(name: str) -> pl.Decimal:
    places = {"QUOTE_MONEY": QUOTE_PLACES, "LEDGER_MONEY": LEDGER_PLACES}
    if name not in places:  # (the import system asks for others, e.g. ``__path__``)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import polars as pl

    dtype = pl.Decimal(38, places[name])
    globals()[name] = dtype
    return dtype

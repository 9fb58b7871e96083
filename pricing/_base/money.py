"""Money scales: the polars decimal types money is carried in, and the constants of units.

``quote()`` is exact in ``Decimal``; tables of quotes use :data:`QUOTE_MONEY`. Usage ledgers
(replay, budgets, FOCUS, exchange rates) sum many rows and keep :data:`LEDGER_PLACES` places.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import polars as pl

QUOTE_MONEY: Final = pl.Decimal(38, 12)  # [currency] one quote's total or line item
LEDGER_PLACES: Final = 10  # places kept per usage row before any sum
LEDGER_MONEY: Final = pl.Decimal(38, LEDGER_PLACES)  # [currency] usage costs and their sums
MILLION: Final = Decimal(1_000_000)  # per-million prices (tokens, pixels)

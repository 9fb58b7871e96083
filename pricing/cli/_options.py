"""The options several commands share, as typer declares them (``--data``, ``--json``,
``--as-of``, ``--evidence``, ``--currency``, ``--fx``, ``--max-fx-age-days``).

Kept apart from :mod:`pricing.cli._common` and :mod:`pricing.cli._currency`, which do the work
of the options and import no typer: the quick commands (:mod:`pricing.cli.quick`) run without
it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pricing.cli._currency import remember_fx

DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory (default: the bundled data/).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Price date YYYY-MM-DD (default: today, UTC).")
]
EvidenceOption = Annotated[
    str | None,
    typer.Option(
        "--evidence",
        help="Which prices may answer: default (official, provider and third-party prices "
        "with no excluding flag), official, provider, all, or grades such as "
        "official,third-party (+flagged lets flagged prices in). Excluded prices are listed "
        "as unverified leads.",
    ),
]
CurrencyOption = Annotated[
    str | None,
    typer.Option(
        "--currency",
        help="Report money in this ISO 4217 currency (e.g. EUR, GBP), converted with the ECB "
        "reference rates of data/fx; each conversion is printed with its rate, day and source.",
    ),
]
FxOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fx",
        callback=remember_fx,
        help="Your exchange rate, used on every day instead of the ECB's, e.g. --fx "
        "EURUSD=1.08 (1 EUR = 1.08 USD); repeat for more pairs. Reported as source: user.",
    ),
]
MaxFxAgeOption = Annotated[
    int,
    typer.Option(
        "--max-fx-age-days",
        min=0,
        help="Oldest ECB rate accepted for a day \\[days]; the ECB publishes on business days "
        "only, so 7 bridges weekends and holidays.",
    ),
]

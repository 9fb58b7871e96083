"""What ``pricing cards list`` does: the offers of the catalog, one row each.

The command's options are declared (for typer) in :mod:`pricing.cli.cards`; this module imports
no typer, so that :mod:`pricing.cli.quick` can run the listing without it.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from pricing.cli._common import fail, load_catalog_or_fail, print_json, show_table
from pricing.errors import PricingError


def list_offers(
    *, provider: str | None, model: str | None, as_of: str | None, data: Path | None, as_json: bool
) -> None:
    """The offers (of ``provider``, of ``model``; in force on ``as_of``) with their provider,
    model, operations, versions and sources, as a table or JSON."""
    cat = load_catalog_or_fail(data)
    try:
        if as_of is not None:
            cat = cat.as_of(as_of)
        offers = cat.offers(provider=provider, model=model)
    except PricingError as exc:
        raise fail(str(exc)) from exc
    rows = [
        {
            "offer_id": o.id,
            "provider": cat.provider_of(o),
            "model": o.model,
            "operations": list(o.operations),
            "versions": len(o.versions),
            "sources": sorted({v.source for v in o.versions}),
        }
        for o in offers
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} offers" + (f" in force on {cat.snapshot}" if as_of else ""))
    for col in ("offer", "model", "operations", "versions", "sources"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            escape(str(r["offer_id"])),
            escape(str(r["model"])),
            ", ".join(r["operations"]),  # type: ignore[arg-type]
            str(r["versions"]),
            ", ".join(r["sources"]),  # type: ignore[arg-type]
        )
    show_table(table)

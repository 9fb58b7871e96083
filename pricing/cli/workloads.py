"""``pricing workloads``: the bundled example workloads."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from pricing.cli._common import DataOption, JsonOption, fail, load_data_or_fail, out, print_json
from pricing.errors import PricingError

app = typer.Typer(help="Bundled example workloads.", no_args_is_help=True)


@app.command("list")
def workloads_list(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Bundled example workloads (pass a name to `pricing simulate`)."""
    from pricing._workloads.load import list_workloads, load_workload

    dataset = load_data_or_fail(data)
    rows: list[dict[str, Any]] = []
    for name in list_workloads(dataset):
        try:
            wl = load_workload(name, data=dataset)
        except PricingError as exc:
            raise fail(str(exc)) from exc
        rows.append(
            {
                "name": name,
                "title": wl.name,
                "months": wl.months,
                "segments": [s.name for s in wl.segments],
                "description": wl.description,
            }
        )
    if as_json:
        print_json(rows)
        return
    show = Table(title="Bundled workloads", title_justify="left")
    for col in ("name", "title", "months", "segments"):
        show.add_column(col)
    for r in rows:
        show.add_row(
            r["name"], escape(r["title"]), str(r["months"]), escape(", ".join(r["segments"]))
        )
    out.print(show)

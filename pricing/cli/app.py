"""The tree of the ``pricing`` command line: the root ``app``, its commands and groups.

The only module that knows the whole tree. Command modules define plain functions (and a
group its own ``typer.Typer``) and import nothing of it; the order of registration here is
the order of ``pricing --help``: commands first, then groups.
"""

from __future__ import annotations

import typer

from pricing.cli import (
    budget,
    cards,
    dashboard,
    fx,
    gpus,
    plan,
    quote,
    refresh,
    replay,
    workloads,
)

app = typer.Typer(
    help="Cost planning for image generation: rate cards, exact quotes, comparisons.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.command("quote")(quote.quote_cmd)
app.command("replay", help=replay.HELP)(replay.replay_cmd)
app.command("simulate")(plan.simulate_cmd)
app.command("breakeven")(plan.breakeven_cmd)
app.command("refresh")(refresh.refresh_cmd)
app.command("budget", help=budget.HELP)(budget.budget_cmd)
app.command("dashboard", help=dashboard.HELP)(dashboard.dashboard_cmd)

app.add_typer(cards.app, name="cards")
app.add_typer(gpus.app, name="gpus")
app.add_typer(workloads.app, name="workloads")
app.add_typer(fx.app, name="fx")

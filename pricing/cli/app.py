"""The tree of the ``pricing`` command line: the root ``app``, its commands and groups.

The only module that knows the whole tree. Command modules define plain functions (and a
group its own ``typer.Typer``) and import nothing of it; the order of registration here is
the order of ``pricing --help``: commands first, then groups.

Running the tree (``pricing ...``) also turns SIGINT (Ctrl-C) and SIGTERM into an exception
that unwinds the work like any other, so that ``finally`` blocks remove temporary files and
copies, then ends with one line and the exit status of the signal (130, 143); an error no
command expected is one line too, never a traceback (``PRICING_DEBUG=1`` shows it).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import typer
from rich.markup import escape

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
from pricing.cli._common import err

#: The signals that stop a command, and what the one line says of each.
STOP_SIGNALS = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}


class Stopped(BaseException):
    """A stop signal, raised where the main thread is: not an ``Exception``, so that nothing
    catches it by accident, and every ``finally`` block and context manager runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    for stop in STOP_SIGNALS:  # once stopping, a second signal must not cut the clean-up short
        signal.signal(stop, signal.SIG_IGN)
    raise Stopped(signum)


@contextmanager
def signals_stop_the_work() -> Iterator[None]:
    """For the time of the block, SIGINT and SIGTERM raise :class:`Stopped` (unless ignored
    when the program started, as ``nohup`` and background jobs ask)."""
    if not _main_thread():  # signal handlers can only be set from the main thread
        yield
        return
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for stop, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(stop, _raise_stopped)
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class PricingApp(typer.Typer):
    """The root of the tree: a ``typer.Typer`` whose run ends cleanly on a stop signal or an
    unexpected error (see the module's docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with signals_stop_the_work():
            try:
                return super().__call__(*args, **kwargs)
            except Stopped as stop:
                err.print(f"[bold red]{STOP_SIGNALS[signal.Signals(stop.signum)]}:[/] stopped")
                sys.exit(128 + stop.signum)
            except Exception as exc:
                if os.environ.get("PRICING_DEBUG") == "1":
                    raise
                what = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                err.print(
                    f"[bold red]error:[/] unexpected {type(exc).__name__}"
                    f"{': ' + escape(what) if what else ''}. This is a bug: run again with "
                    "PRICING_DEBUG=1 for the details, and report it.",
                    highlight=False,
                    soft_wrap=True,
                )
                sys.exit(1)


app = PricingApp(
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

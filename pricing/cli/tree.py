"""The tree of the ``pricing`` command line: the root (``pricing.cli.app``), its commands
and groups.

The only module that knows the whole tree. Command modules define plain functions (and a
group its own ``typer.Typer``) and import nothing of it; the order of registration here is
the order of ``pricing --help``: commands first, then groups. Command modules are named, not
imported, here: a tree imports only the modules of the commands it holds, so that
``pricing quote`` loads neither polars nor the replay, simulation and chart code.

Running the tree (``pricing ...``) also turns SIGINT (Ctrl-C) and SIGTERM into an exception
that unwinds the work like any other, so that ``finally`` blocks remove temporary files and
copies, then ends with one line and the exit status of the signal (130, 143); an error no
command expected is one line too, never a traceback (``PRICING_DEBUG=1`` shows it).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

import typer
from rich.markup import escape

from pricing.cli._common import RECEIVED, Stopped, err

__all__ = ["COMMANDS", "GROUPS", "PricingApp", "Stopped", "app_for", "signals_stop_the_work"]

#: The signals that stop a command, and what the one line says of each.
STOP_SIGNALS = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    for stop in STOP_SIGNALS:  # once stopping, a second signal must not cut the clean-up short
        signal.signal(stop, signal.SIG_IGN)
    RECEIVED.append(signum)
    raise Stopped(signum)


@contextmanager
def signals_stop_the_work() -> Iterator[None]:
    """For the time of the block, SIGINT and SIGTERM raise :class:`Stopped` (unless ignored
    when the program started, as ``nohup`` and background jobs ask)."""
    if not _main_thread():  # signal handlers can only be set from the main thread
        yield
        return
    RECEIVED.clear()
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for stop, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(stop, _raise_stopped)
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
        RECEIVED.clear()


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _end_stopped(signum: int) -> NoReturn:
    """The one line of a run a stop signal ended, and its exit status (130, 143)."""
    err.print(f"[bold red]{STOP_SIGNALS[signal.Signals(signum)]}:[/] stopped")
    sys.exit(128 + signum)


class PricingApp(typer.Typer):
    """The root of the tree: a ``typer.Typer`` whose run ends cleanly on a stop signal or an
    unexpected error (see the module's docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with signals_stop_the_work():
            try:
                return super().__call__(*args, **kwargs)
            except Stopped as stop:
                _end_stopped(stop.signum)
            except Exception as exc:
                if RECEIVED:  # the stop, come back as another error (see stop_received)
                    _end_stopped(RECEIVED[0])
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


#: The commands of the tree, in the order of ``pricing --help``: name -> (module of
#: ``pricing.cli``, its function, the module's help text or None for the docstring's).
COMMANDS: dict[str, tuple[str, str, str | None]] = {
    "quote": ("quote", "quote_cmd", None),
    "replay": ("replay", "replay_cmd", "HELP"),
    "simulate": ("plan", "simulate_cmd", None),
    "breakeven": ("plan", "breakeven_cmd", None),
    "refresh": ("refresh", "refresh_cmd", None),
    "budget": ("budget", "budget_cmd", "HELP"),
    "dashboard": ("dashboard", "dashboard_cmd", "HELP"),
}
#: The groups of the tree, after the commands: name -> the module whose ``app`` it is.
GROUPS: dict[str, str] = {"cards": "cards", "gpus": "gpus", "workloads": "workloads", "fx": "fx"}
_HELP = "Cost planning for image generation: rate cards, exact quotes, comparisons."
#: The whole tree, once built (:func:`whole`).
_WHOLE: list[PricingApp] = []


def _tree(names: list[str]) -> PricingApp:
    """A root holding the commands and groups ``names``, importing only their modules (a
    quick command never imports the modules of the others, nor what they import)."""
    root = PricingApp(help=_HELP, no_args_is_help=True, pretty_exceptions_enable=False)
    for name in names:
        if name in COMMANDS:
            module_name, function, text = COMMANDS[name]
            module = importlib.import_module(f"pricing.cli.{module_name}")
            help_text = None if text is None else getattr(module, text)
            root.command(name, help=help_text)(getattr(module, function))
        else:
            module = importlib.import_module(f"pricing.cli.{GROUPS[name]}")
            root.add_typer(module.app, name=name)
    return root


def whole() -> PricingApp:
    """The whole tree (``pricing.cli.app``), built on first use."""
    if not _WHOLE:
        _WHOLE.append(_tree([*COMMANDS, *GROUPS]))
    return _WHOLE[0]


def app_for(args: list[str]) -> PricingApp:
    """The tree that runs ``pricing ARGS``: the whole tree, or, when ``args`` starts with a
    command or group, a root holding only that one (typer builds every command it holds
    before running any: a tenth of a second for the whole tree). The root keeps a callback,
    so that a single command is still called by its name."""
    if not args or args[0] not in {*COMMANDS, *GROUPS}:
        return whole()
    one = _tree([args[0]])
    one.callback()(_root)
    return one


def _root() -> None:
    """Cost planning for image generation: rate cards, exact quotes, comparisons."""

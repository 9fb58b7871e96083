"""The tree of the ``pricing`` command line: the root (``pricing.cli.app``), its commands
and groups.

The only module that knows the whole tree. Command modules define plain functions (and a
group its own ``typer.Typer``) and import nothing of it; the order of registration here is
the order of ``pricing --help``: commands first, then groups. Command modules are named, not
imported, here: a tree imports only the modules of the commands it holds, so that
``pricing quote`` loads neither polars nor the replay, simulation and chart code.

Running the tree (``pricing ...``) goes through :func:`pricing.cli._guard.run_guarded`: a stop
signal (Ctrl-C, SIGTERM) unwinds the work like any other exception, so that ``finally`` blocks
remove temporary files, then ends with one line and the exit status of the signal (130, 143);
an error no command expected is one line too, never a traceback (``PRICING_DEBUG=1`` shows it).
The quick commands (``pricing quote``, ``pricing cards list``) usually run without the tree:
see :mod:`pricing.cli.quick`.
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import Any

import typer

from pricing.cli._common import Stopped
from pricing.cli._guard import run_guarded, signals_stop_the_work

__all__ = ["COMMANDS", "GROUPS", "PricingApp", "Stopped", "app_for", "signals_stop_the_work"]


class PricingApp(typer.Typer):
    """The root of the tree: a ``typer.Typer`` whose run ends cleanly on a stop signal or an
    unexpected error (see :func:`pricing.cli._guard.run_guarded`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return run_guarded(partial(super().__call__, *args, **kwargs))


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

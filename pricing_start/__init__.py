"""The ``pricing`` command's first instructions: a signal while it starts stops it quietly.

Starting takes a moment (the data models; polars for most commands). Until the command
tree takes signal handling over (:class:`pricing.cli.tree.PricingApp`, which makes SIGINT and
SIGTERM unwind the work so that temporary files are removed), Ctrl-C or SIGTERM end the
program with the same one line and exit status (130, 143) as later, instead of Python's
traceback or a silent kill: nothing has been written yet, so there is nothing to clean up.

This package is the console script's entry point because it imports nothing of
:mod:`pricing` before the handlers are set (importing ``pricing.cli`` would import all of
``pricing`` first).

The command line also turns off the discovery of pydantic plugins (``PYDANTIC_DISABLE_PLUGINS``,
unless set): they would instrument the validation of the rate cards, which no command needs,
and finding them reads the metadata of every installed package, a tenth of a quick
``pricing quote``. Typer does the same for the validators of its options; the library
(``import pricing``) leaves it alone.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

#: What the one line says of each stop signal (the same words as pricing.cli.tree).
LINES = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}


def _stop_now(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write(f"{LINES[signal.Signals(signum)]}: stopped\n")
    sys.stderr.flush()
    os._exit(128 + signum)  # nothing to unwind yet: the command has not started


def main() -> None:
    """Run the ``pricing`` command line (see the module docstring)."""
    for stop in LINES:
        if signal.getsignal(stop) is not signal.SIG_IGN:  # keep nohup's and background jobs'
            signal.signal(stop, _stop_now)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    from pricing.cli.quick import run_quick

    if run_quick(sys.argv[1:]):  # pricing quote, pricing cards list: without typer
        return
    from pricing.cli.tree import app_for

    app_for(sys.argv[1:])()

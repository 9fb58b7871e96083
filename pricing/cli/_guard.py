"""How a run of a command ends: a stop signal unwinds the work, an unexpected error is one line.

While a command runs, SIGINT (Ctrl-C) and SIGTERM raise :class:`~pricing.cli._common.Stopped`
where the main thread is, so that ``finally`` blocks remove temporary files and copies; the
run then ends with one line and the exit status of the signal (130, 143). An error no command
expected is one line too, never a traceback (``PRICING_DEBUG=1`` shows it). Both the typer
tree (:mod:`pricing.cli.tree`) and the quick commands (:mod:`pricing.cli.quick`) run their
work through :func:`run_guarded`; it imports no typer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn, TypeVar

from rich.markup import escape

from pricing.cli._common import RECEIVED, Stopped, err

T = TypeVar("T")

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


def end_stopped(signum: int) -> NoReturn:
    """The one line of a run a stop signal ended, and its exit status (130, 143)."""
    err.print(f"[bold red]{STOP_SIGNALS[signal.Signals(signum)]}:[/] stopped")
    sys.exit(128 + signum)


def _silence_stdout() -> None:
    """Point standard output at the null device, so that Python's last flush of what is left
    does not fail again (the way Python's documentation handles a closed pipe)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run_guarded(work: Callable[[], T]) -> T:
    """``work()``, with stop signals unwinding it and any unexpected error said in one line
    (see the module's docstring); ``SystemExit`` (a command's own exit) passes through, and a
    closed pipe on standard output ends quietly with status 1, as under typer."""
    with signals_stop_the_work():
        try:
            return work()
        except Stopped as stop:
            end_stopped(stop.signum)
        except BrokenPipeError:  # the reader left (`pricing cards list | head`): as click does
            _silence_stdout()
            sys.exit(1)
        except Exception as exc:
            if RECEIVED:  # the stop, come back as another error (see stop_received)
                end_stopped(RECEIVED[0])
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

"""A Ray cluster for one call: ``engine="ray"`` of ``replay`` and ``price_requests``.

Ray is imported here only when a caller asks for it (:func:`import_ray`), never when
``pricing`` is: ``import pricing`` works without it. :func:`session` connects to the cluster
(the one already connected to, the one at an address, the one ``ray.init`` finds, or a local
one started for the call), :func:`quiet` keeps Ray Data's progress bars and banners out of
the caller's output, and :func:`root_cause` finds the error a worker raised under Ray's
wrappers. :func:`url_location` says whether a URL in object storage is a file or a directory.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl

from pricing.errors import PricingError

#: What to install for the Ray engine.
INSTALL = "pip install 'pricing[ray]'"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a PricingError saying how to install it."""
    try:
        ray = importlib.import_module("ray")
        importlib.import_module("ray.data")
    except ImportError as exc:
        raise PricingError(
            f"engine='ray' needs Ray Data, which is not installed: {INSTALL} (or use the "
            f"default engine='local'); {first_line(exc)}"
        ) from None
    return ray


@contextmanager
def session(ray: Any, address: str | None) -> Iterator[None]:
    """Connected to a Ray cluster: the one already connected to (left as it is), or one
    connected to (or started) here and shut down on the way out."""
    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        where = address or "found by ray.init (RAY_ADDRESS, or a local one)"
        raise PricingError(
            f"cannot connect to the Ray cluster {where}: {first_line(exc)}"
        ) from None
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def quiet(ray: Any) -> Iterator[None]:
    """Ray Data without its progress bars, execution banners and log lines below errors, as
    it was afterwards."""
    context = ray.data.DataContext.get_current()
    kept = (context.enable_progress_bars, context.print_on_execution_start)
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    chatter = logging.getLogger("ray.data")
    level = chatter.level
    chatter.setLevel(logging.ERROR)
    try:
        yield
    finally:
        context.enable_progress_bars, context.print_on_execution_start = kept
        chatter.setLevel(level)


def root_cause(exc: BaseException) -> BaseException:
    """The error under Ray's wrappers: the last of the chain of causes (a worker's error is
    the ``cause`` of Ray's ``RayTaskError``)."""
    original = exc
    seen: set[int] = set()
    while id(original) not in seen:
        seen.add(id(original))
        deeper = getattr(original, "cause", None) or original.__cause__
        if not isinstance(deeper, BaseException):
            break
        original = deeper
    return original


def url_location(url: str, what: str) -> bool:
    """Whether ``url`` (``what`` it holds, for the messages) is a directory, as pyarrow's
    file systems see it; a PricingError when it cannot be reached or does not exist."""
    fs_module = importlib.import_module("pyarrow.fs")
    try:
        filesystem, inner = fs_module.FileSystem.from_uri(url)
        info = filesystem.get_file_info(inner)
    except (OSError, ValueError) as exc:  # unknown scheme, no credentials, no such bucket
        raise PricingError(f"cannot reach the {what} {url}: {first_line(exc)}") from None
    if info.type == fs_module.FileType.NotFound:
        raise PricingError(f"{what} {url} does not exist")
    return bool(info.type == fs_module.FileType.Directory)


def plain_error(exc: BaseException, unreadable: str) -> Exception:
    """A Ray failure as the error it stands for, without a worker's traceback: the worker's
    own PricingError or polars error, a PricingError saying ``unreadable`` and the cause for
    a file that could not be read (pyarrow's ArrowInvalid is a ValueError), else a
    PricingError of one line."""
    original = root_cause(exc)
    if isinstance(original, PricingError | pl.exceptions.PolarsError) and not isinstance(
        original, type(exc)
    ):
        return original
    if isinstance(original, OSError | ValueError):
        return PricingError(unreadable.replace("{cause}", first_line(original)))
    return PricingError(f"the Ray job failed: {type(original).__name__}: {first_line(original)}")

"""The ``pricing`` command line: typer + rich over the public functions.

Commands are plain functions in one module per group or command; only :mod:`pricing.cli.tree`
assembles them into the tree, and no command module imports it. ``app``, the whole tree, is
built on first use (the console script builds only the command it runs). The two quick
commands, ``pricing quote`` and ``pricing cards list``, keep their work in modules that import
no typer (:mod:`pricing.cli.quoting`, :mod:`pricing.cli.listing`), which the console script
runs directly when their options are plain (:mod:`pricing.cli.quick`).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pricing.cli.tree import PricingApp

    app: PricingApp

__all__ = ["app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from pricing.cli.tree import whole

        return whole()
    raise AttributeError(f"module 'pricing.cli' has no attribute {name!r}")

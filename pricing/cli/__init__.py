"""The ``pricing`` command line: typer + rich over the public functions.

Commands are plain functions in one module per group or command; only :mod:`pricing.cli.app`
assembles them into the tree, and no command module imports it.
"""

from pricing.cli.app import app

__all__ = ["app"]

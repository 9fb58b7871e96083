"""The public surface is exactly ``pricing.__all__``."""

from __future__ import annotations

import importlib
import pkgutil

import pricing


def test_all_lists_every_public_name() -> None:
    public = {n for n in vars(pricing) if not n.startswith("_")}
    modules = {m.name for m in pkgutil.iter_modules(pricing.__path__)}
    assert public - modules == set(pricing.__all__)


def test_all_names_resolve() -> None:
    for name in pricing.__all__:
        assert getattr(pricing, name) is not None


def test_private_modules_are_underscored() -> None:
    public_modules = {
        m.name for m in pkgutil.iter_modules(pricing.__path__) if not m.name.startswith("_")
    }
    assert public_modules == {"cli", "errors"}
    for name in public_modules:
        importlib.import_module(f"pricing.{name}")

"""The public surface is exactly ``pricing.__all__``."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pricing


def test_all_lists_every_public_name() -> None:
    # Chart builders are public but imported on first use (``pricing._LAZY``).
    public = {n for n in vars(pricing) if not n.startswith("_")} | set(pricing._LAZY)
    modules = {m.name for m in pkgutil.iter_modules(pricing.__path__)}
    assert public - modules == set(pricing.__all__)
    assert len(pricing.__all__) == len(set(pricing.__all__))


def test_import_pricing_leaves_charting_unimported() -> None:
    code = (
        "import sys, pricing; "
        "print(sorted(m for m in ('altair', 'vl_convert') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    unknown = "no_such_builder"
    with pytest.raises(AttributeError, match=unknown):
        getattr(pricing, unknown)


def test_all_names_resolve() -> None:
    for name in pricing.__all__:
        assert getattr(pricing, name) is not None


def test_private_modules_are_underscored() -> None:
    public_modules = {
        m.name for m in pkgutil.iter_modules(pricing.__path__) if not m.name.startswith("_")
    }
    assert public_modules == {"cli", "errors", "notebook"}
    for name in public_modules:
        importlib.import_module(f"pricing.{name}")


def test_api_snapshot() -> None:
    # The snapshot is kept by hand: a change to the public surface shows in its diff.
    snapshot = Path(__file__).parent / "fixtures" / "public_api.txt"
    assert sorted(pricing.__all__) == snapshot.read_text(encoding="utf-8").split()


def test_dashboards_are_public_and_lazy() -> None:
    code = (
        "import sys, pricing; "
        "print('pricing._charts.dashboard' in sys.modules, 'altair' in sys.modules); "
        "pricing.build_dashboard; "
        "print('pricing._charts.dashboard' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False", "True"]
    assert pricing.Dashboard.__name__ == "Dashboard"
    assert callable(pricing.export_dashboard)

"""The package's layout rules (DESIGN.md, "Layout"), checked on the source tree.

- no module in ``pricing/`` passes 500 lines (400 is the normal ceiling), and no function's
  body passes 60 lines (its docstring not counted);
- an underscored name is used only in its own module: no module imports another module's
  ``_name`` (rename it when a second module needs it);
- a subpackage's ``__init__.py`` holds only its docstring (``cli`` also exports ``app``);
- the layers of DESIGN.md hold: ``lint-imports`` passes with the contracts in pyproject.toml.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pricing"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 500


def _rel(path: Path) -> str:
    return (
        str(path.relative_to(PACKAGE.parent)) if path.is_relative_to(PACKAGE.parent) else path.name
    )


def test_the_package_has_modules() -> None:
    # Guards the tests below against passing on an empty glob.
    assert len(MODULES) > 50
    assert (PACKAGE / "_base" / "dates.py") in MODULES


def test_no_module_passes_500_lines() -> None:
    long = {
        _rel(p): n
        for p in MODULES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (at most {MAX_LINES} lines): {long}"


MAX_FUNCTION_LINES = 60


def _long_functions(path: Path) -> dict[str, int]:
    """Functions of ``path`` whose body, without the docstring, passes the limit."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = node.body
        has_doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        start = body[0].end_lineno + 1 if has_doc and body[0].end_lineno else node.lineno
        length = (node.end_lineno or start) - start + 1
        if length > MAX_FUNCTION_LINES:
            found[f"{_rel(path)}:{node.lineno} {node.name}"] = length
    return found


def test_long_functions_are_found(tmp_path: Path) -> None:
    # The checker itself, on a 61-line body under a docstring, and a 60-line one.
    lines = "\n".join(f"    x{i} = {i}" for i in range(61))
    probe = tmp_path / "probe.py"
    probe.write_text(f'def f():\n    """Doc."""\n{lines}\n', encoding="utf-8")
    assert _long_functions(probe) == {"probe.py:1 f": 61}
    probe.write_text(f'def f():\n    """Doc."""\n{lines[: lines.rindex(chr(10))]}\n')
    assert _long_functions(probe) == {}


def test_no_function_passes_60_lines() -> None:
    long = {k: v for path in MODULES for k, v in _long_functions(path).items()}
    assert long == {}, f"split these functions by phase (at most {MAX_FUNCTION_LINES}): {long}"


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pricing"):
            found += [
                f"{_rel(path)}:{node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            ]
    return found


def test_private_imports_are_found() -> None:
    # The checker itself: a line that breaks the rule is reported.
    probe = PACKAGE.parent / "tests" / "_layout_probe.py"
    try:
        probe.write_text("from pricing._quote.quote import _secret\n", encoding="utf-8")
        assert _private_imports(probe) == [
            "tests/_layout_probe.py:1: from pricing._quote.quote import _secret"
        ]
    finally:
        probe.unlink(missing_ok=True)


def test_no_module_imports_another_modules_private_name() -> None:
    found = [hit for path in MODULES for hit in _private_imports(path)]
    assert found == [], "rename these names without the underscore:\n" + "\n".join(found)


def test_subpackage_inits_hold_only_a_docstring() -> None:
    for init in sorted(PACKAGE.glob("*/**/__init__.py")):
        body = ast.parse(init.read_text(encoding="utf-8")).body
        assert body, f"{_rel(init)} needs a docstring saying what the room holds"
        assert isinstance(body[0], ast.Expr), f"{_rel(init)} must start with its docstring"
        assert isinstance(body[0].value, ast.Constant)
        rest = body[1:]
        if init.parent.name == "cli":
            # `pricing.cli.app`, the whole tree of cli/tree.py, is built on first use.
            lazy = ast.ImportFrom | ast.Import | ast.If | ast.Assign | ast.AnnAssign
            rest = [n for n in rest if not isinstance(n, lazy)]
            rest = [n for n in rest if not _named(n, "__getattr__")]
        assert rest == [], f"{_rel(init)} holds code; move it into a module of the room"


def _named(node: ast.stmt, name: str) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name == name


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is missing: run `uv sync` (import-linter is in the dev group)")
    run = subprocess.run(
        [exe], cwd=PACKAGE.parent, capture_output=True, text=True, check=False, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr

"""The notebooks in ``notebooks/``: stored clean, public API only, and each runs top to bottom.

Every notebook is executed with nbclient in a fresh kernel of this environment's Python
(jupyter_client starts the ``python3`` kernel with ``sys.executable`` when ipykernel is
installed), in a temporary working directory so that nothing is written into the repository.
Each notebook imports ``pricing.notebook``, whose renderer shows a chart as ``text/html`` with
Vega, Vega-Lite and Vega-Embed inlined (no script loaded from a CDN); that is what the last
cell of each notebook must display. Every assumption is in the first code cell: no later code
cell sets an upper-case constant. Notebooks 02 and 03 end with ipywidgets controls, built and
run once here (no kernel interaction is needed to run them top to bottom).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = [
    "01-quickstart.ipynb",
    "02-hosted-vs-self-hosted.ipynb",
    "03-workload-mix-and-monte-carlo.ipynb",
    "04-usage-replay-and-budget.ipynb",
    "05-price-history-and-sources.ipynb",
]
CELL_TIMEOUT_S = 300
PRIVATE = re.compile(r"\bpricing\._\w")
VEGA_LITE_SCHEMA = re.compile(r"https://vega\.github\.io/schema/vega-lite/v\d")
#: A line that sets an upper-case constant (an assumption): ``BUDGET = 6_500``, ``A, B = 1, 2``.
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*(\s*,\s*[A-Z][A-Z0-9_]*)*\s*=[^=]", re.MULTILINE)
SCRIPT_SOURCE = re.compile(r"<script[^>]*\bsrc\s*=", re.IGNORECASE)
WIDGET = "application/vnd.jupyter.widget-view+json"
WITH_CONTROLS = {"02-hosted-vs-self-hosted.ipynb", "03-workload-mix-and-monte-carlo.ipynb"}


def read(name: str) -> nbformat.NotebookNode:
    # nbformat.read has no annotations (nbformat 5.11).
    nb: nbformat.NotebookNode = nbformat.read(  # type: ignore[no-untyped-call]
        NOTEBOOKS / name, as_version=nbformat.NO_CONVERT
    )
    return nb


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def charts(cell: nbformat.NotebookNode) -> list[str]:
    """The Vega-Lite charts a cell displayed: a Vega-Lite mimetype or altair's HTML embed."""
    found = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        found += [mime for mime in data if mime.startswith("application/vnd.vegalite.")]
        html = str(data.get("text/html", ""))
        if "vegaEmbed(" in html and VEGA_LITE_SCHEMA.search(html):
            found.append("text/html")
    return found


def test_exactly_the_expected_notebooks() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_without_outputs(name: str) -> None:
    nb = read(name)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{name}: cells {dirty} keep outputs or an execution count; clear them before "
        "committing (JupyterLab: Edit > Clear Outputs of All Cells, then save)"
    )


@pytest.mark.parametrize("name", EXPECTED)
def test_tells_a_story_with_the_public_api(name: str) -> None:
    nb = read(name)
    assert nb.cells[0].cell_type == "markdown", f"{name} starts with a title cell"
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds.count("markdown") >= 4, f"{name}: explain the numbers between code cells"
    private = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and PRIVATE.search(cell.source)
    ]
    assert not private, f"{name}: cells {private} use private modules; use `import pricing`"


@pytest.mark.parametrize("name", EXPECTED)
def test_assumptions_come_first(name: str) -> None:
    cells = code_cells(read(name))
    first = cells[0].source
    assert "from pricing import notebook as nb" in first, f"{name}: charts need the helper"
    assert "# ---- Assumptions" in first, f"{name}: the first code cell holds the assumptions"
    assert CONSTANT.search(first)
    later = {
        i: CONSTANT.findall(cell.source)
        for i, cell in enumerate(cells[1:], 1)
        if CONSTANT.search(cell.source)
    }
    assert not later, f"{name}: code cells {sorted(later)} set assumptions; move them to the first"


def html_outputs(cells: list[nbformat.NotebookNode]) -> list[str]:
    return [
        str(output.get("data", {}).get("text/html", ""))
        for cell in cells
        for output in cell.outputs
        if "text/html" in output.get("data", {})
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_runs_top_to_bottom_and_ends_with_a_chart(name: str, tmp_path: Path) -> None:
    nb = read(name)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError with the failing cell and its traceback

    cells = code_cells(nb)
    stderr = [
        f"cell {cells.index(cell)}: {output.text.strip()}"
        for cell in cells
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stderr"
    ]
    assert not stderr, f"{name} printed warnings or errors:\n" + "\n".join(stderr)
    assert all(cell.execution_count is not None for cell in cells)
    assert charts(cells[-1]), f"{name}: the last cell displayed no chart: {cells[-1].outputs}"
    pages = html_outputs(cells)
    assert not [p for p in pages if SCRIPT_SOURCE.search(p) or "https://cdn" in p], (
        f"{name}: an output loads a script from the network; charts must draw offline"
    )
    assert not [p for p in pages if "pricing-chart" in p and "__pricingVega" not in p]
    if name in WITH_CONTROLS:
        shown = [mime for output in cells[-1].outputs for mime in output.get("data", {})]
        assert WIDGET in shown, f"{name}: the last cell shows no controls"

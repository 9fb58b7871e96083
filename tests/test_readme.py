"""The README's Python example runs as written, and its Quickstart has exactly two commands."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    namespace: dict[str, object] = {}  # one namespace: the README reads top to bottom
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)


def test_quickstart_has_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)```", section, flags=re.S)[0].strip().splitlines()
    assert commands == ["uv run pricing dashboard", "uv run pytest"]

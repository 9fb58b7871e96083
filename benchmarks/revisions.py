"""Another revision of the code, for benchmarks that time it beside the working tree."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The repository the benchmarks belong to.
REPO = Path(__file__).resolve().parents[1]


@contextmanager
def worktree(rev: str | None) -> Iterator[Path | None]:
    """A temporary git worktree of ``rev`` (removed afterwards), or None when ``rev`` is."""
    if rev is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-against-") as tmp:
        path = Path(tmp) / "tree"
        git = ["git", "-C", str(REPO)]
        subprocess.run([*git, "worktree", "add", "--quiet", "--detach", str(path), rev], check=True)
        try:
            yield path
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(path)], check=True)

"""One atomic writer: a file is either its old bytes or its new ones, never half written."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` beside ``path`` in a temporary file, sync it, then rename it over ``path``.

    Text is written as UTF-8 with the newlines given. An existing file keeps its mode; a new one
    gets the usual ``0666`` minus the umask (``mkstemp`` alone would make it private).
    """
    atomic_write_all([(path, data)])


def atomic_write_all(files: Sequence[tuple[Path, bytes | str]]) -> None:
    """Write every file as :func:`atomic_write` does, all or none: each goes to a temporary
    file beside it first, and only when every one is written are they renamed into place.

    A failure (a full disk, an interruption) leaves the old files as they were and no
    temporary file behind.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            staged.append((_stage(path, data), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _stage(path: Path, data: bytes | str) -> str:
    """``data`` written and synced in a temporary file beside ``path``; its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    import tempfile  # here: a command that writes nothing need not import it

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def unwritable(folder: Path) -> str | None:
    """Why no file can be written in ``folder`` ("Read-only file system", "Permission denied"),
    or ``None`` when it can: a probe file is created there and removed at once.

    Asking the file itself is the one reliable test: permission bits say nothing of read-only
    mounts, full quotas or a superuser's rights.
    """
    try:
        import tempfile

        fd, probe = tempfile.mkstemp(dir=folder, prefix=".pricing-probe-", suffix=".tmp")
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(probe)
    return None


def blocking_file(path: Path) -> Path | None:
    """The file that stands where ``path`` needs a directory (``out.txt`` of ``out.txt/a/b``),
    if ``path`` or one of its parents is a file rather than a directory."""
    for part in (path, *path.parents):
        try:
            if part.exists():
                return None if part.is_dir() else part
        except OSError:  # a link loop, a name too long: not a file standing in the way
            return None
    return None

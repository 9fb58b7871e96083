"""Reading a data file's text: every way a path can fail, as a located problem.

A data file can be missing, a directory, a symbolic link to nothing or a link loop,
unreadable, or not UTF-8; each becomes a :class:`~pricing.errors.Problem` naming the file and
the fix, never an ``OSError`` or ``UnicodeDecodeError``.
"""

from __future__ import annotations

import errno
from pathlib import Path

from pricing.errors import Problem


def read_text(path: Path, rel: str, problems: list[Problem]) -> str | None:
    """The UTF-8 text of a data file, or None with the reason recorded in ``problems``: a
    missing file, a directory, a symbolic-link loop, unreadable bytes, not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if path.is_symlink():
            problems.append(
                Problem(rel, "is a symbolic link to nothing", "point it at a file, or remove it")
            )
        else:
            problems.append(Problem(rel, "file is missing", f"create {rel}"))
        return None
    except IsADirectoryError:
        problems.append(
            Problem(rel, "is a directory, not a file", f"replace {rel} with a TOML file")
        )
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problems.append(
                Problem(
                    rel,
                    "is a symbolic link loop (it leads back to itself)",
                    "point the link at a real file, or remove it",
                )
            )
        else:
            problems.append(
                Problem(rel, f"cannot be read ({exc.strerror or exc})", "check its permissions")
            )
        return None
    try:
        # Universal newlines, as ``Path.read_text`` reads them.
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(
                rel,
                f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                "save the file as UTF-8",
            )
        )
        return None

"""A Parquet log is decoded once in a separate process before it is read here.

A damaged Parquet file can make the reader ask for an impossible amount of memory (a length
field of 2**61 bytes) or panic on two threads at once; either ends the process with an abort
that no ``except`` can catch, and a notebook kernel or a CLI run would die with it. So
:func:`check_parquet` decodes every column of the file in a child Python process first: if the
child fails or is killed, the file is refused with a short reason and this process never
touches the damaged bytes. The check costs one more decode of the file; a file checked once is
not checked again while its size and modification time stay the same.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pricing.errors import PricingError

# Every value of every column is decoded (``is_null`` reads each one) in streaming batches,
# so the child's memory stays small whatever the size of the log.
_DECODE = (
    "import sys, polars as pl\n"
    "pl.scan_parquet(sys.argv[1], glob=False).select(pl.all().is_null().sum())"
    ".collect(engine='streaming')\n"
)
_checked: set[tuple[str, int, int]] = set()


def check_parquet(path: Path) -> None:
    """Refuse ``path`` with a short reason if decoding it fails or kills the decoder."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise PricingError(f"cannot read the usage log {path}: {exc.strerror}") from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _checked:
        return
    proc = subprocess.run(
        [sys.executable, "-c", _DECODE, str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    if proc.returncode != 0:
        raise PricingError(
            f"cannot read the usage log {path} as Parquet: {_reason(proc)}; check that it is "
            "a valid Parquet file (write it again, or convert it to CSV)"
        )
    _checked.add(key)


def _reason(proc: subprocess.CompletedProcess[str]) -> str:
    if proc.returncode < 0:
        return f"the Parquet reader crashed on it (signal {-proc.returncode}), so it is damaged"
    lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
    head = [ln.split(":")[0] for ln in lines]
    errors = [ln for ln, h in zip(lines, head, strict=True) if h.endswith(("Error", "Exception"))]
    last = (errors or lines or ["the Parquet reader failed"])[-1]
    return last[:300]

"""Print a page to PDF with a headless Chromium, where one is installed.

The page is the dashboard's own HTML (scripts run, so the charts print as vector graphics);
its print stylesheet hides the controls and the hints. Chromium is looked up on ``PATH``
(``chromium``, ``chromium-browser``, ``google-chrome``) and at ``/usr/bin/chromium``;
without one, :func:`find_chromium` returns None and callers skip the PDF with a note.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from pricing.errors import PricingError

#: Flags of a headless Chromium that makes no network request of its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
)
#: How long the page's scripts may run before it is printed [ms of virtual time].
RENDER_BUDGET_MS = 30_000
#: How long printing may take in all [s].
PRINT_TIMEOUT_S = 180
#: The note printed when there is no browser to print with.
NO_CHROMIUM = (
    "no PDF: no headless Chromium found (install Debian's `chromium`, or put `chromium` on "
    "PATH); open index.html and use the browser's Print > Save as PDF instead"
)


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    fallback = Path("/usr/bin/chromium")
    return str(fallback) if fallback.exists() else None


def print_pdf(page_html: str, files: dict[str, bytes | str] | None = None) -> bytes:
    """``page_html`` printed to PDF (A4, as its print stylesheet lays it out).

    ``files`` are written beside the page first (pictures it refers to). Raises
    :class:`PricingError` naming the cause when there is no Chromium or it prints nothing.
    """
    chromium = find_chromium()
    if chromium is None:
        raise PricingError(NO_CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="pricing-pdf-") as tmp:
        root = Path(tmp)
        page_path = root / "index.html"
        page_path.write_text(page_html, encoding="utf-8")
        for name, content in (files or {}).items():
            target = root / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        out = root / "page.pdf"
        args = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={root / 'profile'}",
            "--window-size=860,1200",
            "--no-pdf-header-footer",
            f"--virtual-time-budget={RENDER_BUDGET_MS}",
            f"--print-to-pdf={out}",
            page_path.as_uri(),
        ]
        try:
            run = subprocess.run(args, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PricingError(f"could not print the page to PDF with {chromium}: {exc}") from None
        pdf = out.read_bytes() if out.exists() else b""
        if not pdf.startswith(b"%PDF"):
            said = (run.stderr or run.stdout).strip().splitlines()
            raise PricingError(
                f"{chromium} printed no PDF (exit {run.returncode}"
                + (f": {said[-1]}" if said else "")
                + "); open index.html and use Print > Save as PDF instead"
            )
        return pdf

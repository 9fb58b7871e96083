"""Debian's Chromium for the browser tests, driven by Playwright (no browser download).

``CHROMIUM`` is the binary (``chromium`` on ``PATH``, else ``/usr/bin/chromium``), ``FLAGS``
the switches every test starts it with. :func:`require` skips a test module when Chromium is
not installed, unless ``PRICING_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs it),
where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pricing._charts.pdf import CHROMIUM_FLAGS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: the switches the product itself starts Chromium with (``pricing dashboard --format pdf``)
FLAGS = list(CHROMIUM_FLAGS)
NOT_INSTALLED = "Debian's chromium is not installed (apt-get install chromium)"


def installed() -> bool:
    """Whether the browser is there, or must be (``PRICING_REQUIRE_BROWSER=1``)."""
    return Path(CHROMIUM).exists() or os.environ.get("PRICING_REQUIRE_BROWSER") == "1"


def require() -> None:
    """Skip the calling test module without Chromium; fail instead where CI requires it."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("PRICING_REQUIRE_BROWSER") == "1":
        raise RuntimeError("PRICING_REQUIRE_BROWSER=1 but chromium is not installed")
    pytest.skip(NOT_INSTALLED, allow_module_level=True)


@contextmanager
def launched() -> Iterator[Any]:
    """A running headless Chromium (a Playwright ``Browser``), closed afterwards."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError("PRICING_REQUIRE_BROWSER=1 but chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()

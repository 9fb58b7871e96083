"""The European Central Bank's reference-rate XML (``eurofxref``) as an FX frame.

The document is scanned for DOCTYPE and ENTITY declarations before it is parsed, so entity
expansion (billion laughs, external entities) can never happen.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import NoReturn
from xml.parsers import expat

import polars as pl

from pricing._fx.frame import check_currency, check_date, check_rate, fx_frame
from pricing.errors import FxError

#: Namespace of the ECB ``eurofxref`` vocabulary (daily, 90-day and historical files).
ECB_NS = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
_CUBE = f"{{{ECB_NS}}}Cube"


class _DtdRefusedError(Exception):
    """A DTD construct found while pre-scanning the XML."""


def _reject_dtd(data: bytes) -> None:
    """Scan ``data`` with expat, refusing DOCTYPE and ENTITY declarations before any expansion.

    Raises ``_DtdRefusedError`` naming the construct, or ``expat.ExpatError`` when it is not XML.
    """
    parser = expat.ParserCreate()

    def doctype(*_: object) -> NoReturn:
        raise _DtdRefusedError("a DOCTYPE declaration")

    def entity(*_: object) -> NoReturn:
        raise _DtdRefusedError("an ENTITY declaration")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = entity
    parser.Parse(data, True)


def parse_ecb_xml(data: bytes, *, source: str = "ecb-eurofxref") -> pl.DataFrame:
    """Parse European Central Bank reference rates (``eurofxref-daily.xml``, ``-hist.xml``).

    Parameters
    ----------
    data
        The XML document as downloaded (bytes). Each ``<Cube time="YYYY-MM-DD">`` holds
        ``<Cube currency="USD" rate="1.1831"/>`` children: units of currency per 1 EUR.
    source
        Source id written in the ``source`` column (an id of ``data/sources.toml``).

    Returns
    -------
    polars.DataFrame
        Columns ``date`` (Date), ``currency`` (String, ISO 4217), ``per_eur``
        (Decimal(38, 10), exact from the text [currency/EUR]) and ``source``; one extra row
        ``EUR`` = 1 per day. Sorted by currency, then date.

    Raises
    ------
    FxError
        Naming ``source`` and what is wrong: empty, not XML, DOCTYPE/ENTITY declarations
        (refused to avoid entity expansion), no ``<Cube time=...>``, a bad date, a bad, zero or
        negative rate, a bad currency code or a currency twice on one day. Nothing is returned
        unless the whole document is valid.
    """

    def fail(what: str) -> NoReturn:
        raise FxError(
            f"{source}: ECB reference-rate XML {what}; nothing was read (check the download "
            "or the file, e.g. https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml)"
        )

    if not data.strip():
        fail("is empty")
    try:
        _reject_dtd(data)
        root = ET.fromstring(data)
    except _DtdRefusedError as exc:
        fail(f"contains {exc} (refused: entity expansion is not allowed)")
    except (expat.ExpatError, ET.ParseError, ValueError, LookupError) as exc:
        fail(f"is not well-formed XML ({exc})")

    dates, currencies, rates = _rows(root, fail)
    return fx_frame(dates, currencies, rates, [source] * len(dates))


def _rows(
    root: ET.Element, fail: Callable[[str], NoReturn]
) -> tuple[list[date], list[str], list[Decimal]]:
    """(dates, currencies, rates) of every dated ``<Cube>``, with EUR = 1 on each day."""
    days = [c for c in root.iter(_CUBE) if "time" in c.attrib]
    if not days:
        fail(f'has no <Cube time="YYYY-MM-DD"> element in namespace {ECB_NS}')
    used: set[int] = set()
    dates: list[date] = []
    currencies: list[str] = []
    rates: list[Decimal] = []
    seen_days: set[date] = set()
    for day_cube in days:
        day = check_date(day_cube.attrib["time"])
        if isinstance(day, str):
            fail(f"has a bad <Cube time>: {day}")
        if day in seen_days:
            fail(f"lists day {day} twice")
        seen_days.add(day)
        children = [c for c in day_cube if c.tag == _CUBE]
        if not children:
            fail(f"has no rates for day {day}")
        for code, rate in [*_day_rates(day, children, used, fail), ("EUR", Decimal(1))]:
            dates.append(day)
            currencies.append(code)
            rates.append(rate)
    stray = [c for c in root.iter(_CUBE) if "currency" in c.attrib and id(c) not in used]
    if stray:
        code = stray[0].attrib["currency"]
        fail(f'has a rate for {code!r} outside a dated <Cube time="...">')
    return dates, currencies, rates


def _day_rates(
    day: date, children: list[ET.Element], used: set[int], fail: Callable[[str], NoReturn]
) -> list[tuple[str, Decimal]]:
    """(currency, rate) of one day's ``<Cube currency rate>`` children, checked; records each
    child's id in ``used``."""
    out: list[tuple[str, Decimal]] = []
    on_day: set[str] = set()
    for cube in children:
        used.add(id(cube))
        code = cube.attrib.get("currency")
        text = cube.attrib.get("rate")
        if code is None or text is None:
            fail(f"has a <Cube> on {day} without both `currency` and `rate` attributes")
        bad_code = check_currency(code)
        if bad_code is not None:
            fail(f"on {day}: {bad_code}")
        if code == "EUR":
            fail(f"on {day}: lists EUR itself (the base currency has no rate)")
        if code in on_day:
            fail(f"on {day}: currency {code} appears twice")
        on_day.add(code)
        rate = check_rate(text)
        if isinstance(rate, str):
            fail(f"on {day}: {code} {rate}")
        out.append((code, rate))
    return out

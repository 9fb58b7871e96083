"""Money in another currency: the converter a call asks for, and exact products with its rates.

Every bundled price is in its rate card's currency (mostly USD). ``currency=`` asks a quote, a
comparison, a replay or a budget for another; each amount is then multiplied by the rate of a
:class:`~pricing._fx.convert.Conversion`, which states the rate, its day, its source and its
kind (``published``: the ECB reference rate of the day; ``planning``: the latest one held for a
later day, an assumption; ``user``: a rate you gave). The ``fx=`` argument of those calls is
one of:

- ``None``: the ECB rates of the catalog's data directory (``data/fx``);
- a DataFrame of rates as :func:`pricing.load_fx` returns them;
- your rates, ``["EURUSD=1.08"]`` or ``{"EURUSD": "1.08"}`` (1 EUR = 1.08 USD), used on every
  day instead of the ECB's (and reported as source ``user``);
- a :class:`~pricing._fx.convert.Converter`, used as it is (its target is the currency).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Context, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from pricing.errors import FxError

if TYPE_CHECKING:
    import polars as pl

    from pricing._fx.convert import Converter

#: What ``fx=`` takes: rates, your rates, or a ready converter (see the module's docstring).
#: (Named, not built: a call that converts nothing imports neither polars nor the FX code.)
FxInput: TypeAlias = "pl.DataFrame | Converter | Mapping[str, object] | Sequence[str] | str | None"

#: Wide enough that ``amount x rate`` is exact: a rate has 28 significant digits, an amount
#: of a quote fewer than 40.
_EXACT = Context(prec=80)


def times(amount: Decimal, rate: Decimal) -> Decimal:
    """``amount x rate`` exactly (no rounding): converted line items still add up to the
    converted total, and ``quantity x unit price`` still makes each amount."""
    return _EXACT.multiply(amount, rate)


def converter_for(
    currency: str | None,
    fx: FxInput,
    max_fx_age_days: int,
    *,
    root: Path | None,
    planning: bool,
) -> Converter | None:
    """The converter into ``currency`` that ``fx`` asks for; None when no conversion is asked.

    Parameters
    ----------
    currency : str, optional
        ISO 4217 code of the answer; None keeps each price's own currency (then ``fx`` must
        be None or a Converter, whose target is then the currency).
    fx : see :data:`FxInput`
    max_fx_age_days : int  [days]
        Oldest ECB rate accepted for a day (7 bridges weekends and holidays).
    root : Path, optional
        The data directory whose ``fx/`` rates are read when ``fx`` gives none.
    planning : bool
        Whether a day after the ECB data ends may use its latest rate as a stated planning
        rate (quotes and forecasts: yes; usage, which happened on its day: no).

    Raises
    ------
    FxError
        A bad currency code or rate, ``fx`` without ``currency``, or a Converter into another
        currency than ``currency``.
    """
    if currency is None and fx is None:  # the usual call: nothing to convert
        return None
    import polars as pl

    from pricing._fx.convert import Converter

    if isinstance(fx, Converter):
        if currency is not None and currency != fx.target:
            raise FxError(
                f"currency={currency!r} but the Converter given as fx= converts into "
                f"{fx.target}; pass one of them, or a Converter into {currency}"
            )
        return fx
    if currency is None:
        if fx is not None:
            raise FxError(
                "fx= gives exchange rates, but no currency= to convert into; pass e.g. "
                "currency='EUR'"
            )
        return None
    if isinstance(fx, pl.DataFrame):
        return Converter(
            currency, fx=fx, max_age_days=max_fx_age_days, planning=planning, root=root
        )
    overrides = [fx] if isinstance(fx, str) else fx
    return Converter(
        currency, root=root, overrides=overrides, max_age_days=max_fx_age_days, planning=planning
    )


def check_target(converter: Converter) -> None:
    """:class:`FxError` up front when no rate can ever reach the converter's currency: it is
    not EUR, no rate of yours names it and the FX data has none (a typo such as ``EUX``)."""
    target = converter.target
    if target == "EUR" or any(target in (pair[:3], pair[3:]) for pair in converter.overrides):
        return
    if converter.last_day(target) is None:
        known = sorted({*converter.fx["currency"].unique().to_list(), "EUR"})
        shown = ", ".join(known[:40]) + (", ..." if len(known) > 40 else "")
        raise FxError(
            f"no exchange rate for {target} in the FX data (known currencies: {shown}); check "
            f"the code, or give a rate, e.g. --fx EUR{target}=..."
        )


def planning_twin(converter: Converter) -> Converter:
    """The same rates (the ECB's and yours) in a converter that may plan: for the days of a
    forecast, which are after the data."""
    from pricing._fx.convert import Converter

    if converter.planning:
        return converter
    return Converter(
        converter.target,
        fx=converter.fx,
        overrides=converter.overrides,
        max_age_days=converter.max_age_days,
        planning=True,
    )

"""The range every request number must lie in before it is priced: one table for every path.

``quote()`` (through :class:`pricing.ImageRequest` and :func:`check_numbers`),
``price_requests`` and ``replay`` (through the polars guard of :mod:`pricing._vector.guard`)
read the same :data:`BOUNDS`, so a number one of them refuses is refused by all: a size over
100,000 px, a fractional or astronomically large image count, a non-finite run time. The
limits are far beyond any real call and far inside exact arithmetic: every product the engine
forms of them (pixels, images x price, a month's running volume) stays an exact integer in
float64 and int64.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from typing import Any, NamedTuple

from pricing.errors import PricingError

#: Largest integer float64 holds exactly [1]; counts and volumes beyond it are refused.
MAX_EXACT = 2**53


class Bound(NamedTuple):
    """The accepted range of one request number.

    ``least`` is the smallest accepted value (exclusive when ``above``), ``most`` the largest;
    ``whole`` numbers refuse fractions (2.0 is whole, 2.7 is not).
    """

    least: int
    most: int
    unit: str
    whole: bool = True
    above: bool = False

    def describe(self) -> str:
        """The range in words, e.g. "a whole number from 1 to 100,000 px"."""
        unit = f" {self.unit}" if self.unit else ""
        if self.above:
            return f"a finite number above {self.least:,} and at most {self.most:,}{unit}"
        kind = "a whole number" if self.whole else "a finite number"
        return f"{kind} from {self.least:,} to {self.most:,}{unit}"

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not in range (a short phrase), or None when it is."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
            return "is not a number"  # numpy's numbers are Real too
        number: int | float | Decimal
        if isinstance(value, numbers.Integral):
            number = int(value)  # exact, however large
        elif isinstance(value, Decimal):
            number = value
        else:
            number = float(value)
        if isinstance(number, Decimal) and not number.is_finite():
            return "is not a finite number"
        if isinstance(number, float) and not math.isfinite(number):
            return "is not a finite number"
        if self.whole and number != int(number):
            return "is not a whole number"
        if number < self.least or (self.above and number == self.least):
            return "is negative" if self.least == 0 and not self.above else "is zero or negative"
        if number > self.most:
            return f"is over {self.most:,}"
        return None


PX = Bound(1, 100_000, "px")
#: Every request number, by its column name (``price_requests``, usage logs) and field name
#: (``ImageRequest``): the range it must lie in.
BOUNDS: dict[str, Bound] = {
    "width": PX,
    "height": PX,
    "input_width": PX,
    "input_height": PX,
    "count": Bound(1, 1_000_000_000, "images"),
    "input_images": Bound(0, 1_000, "images"),
    "steps": Bound(1, 10_000, "steps"),
    "seconds": Bound(0, 86_400, "s", whole=False, above=True),
    "prompt_tokens": Bound(0, 10_000_000, "tokens"),
    "input_image_tokens": Bound(0, 10_000_000, "tokens"),
    "billed_cost": Bound(0, 1_000_000_000, "", whole=False),
}
#: Images already billed in a month (``quote(monthly_volume=)``), and a month's images.
VOLUME = Bound(0, MAX_EXACT, "images")
#: Calls in a month (``monthly_cost(requests=)``).
CALLS = Bound(1, MAX_EXACT, "calls")


def out_of_range(name: str, value: Any, bound: Bound | None = None) -> str | None:
    """The message for ``name`` = ``value`` out of its range (``BOUNDS[name]`` by default),
    naming the number, what is wrong and the range; None when it is in range."""
    bound = bound or BOUNDS[name]
    what = bound.problem(value)
    if what is None:
        return None
    return f"{name} {value!r} {what}; give {bound.describe()}"


def check_number(name: str, value: Any, bound: Bound | None = None) -> None:
    """Raise :class:`PricingError` when ``value`` is out of the range of ``name``."""
    message = out_of_range(name, value, bound)
    if message is not None:
        raise PricingError(message)

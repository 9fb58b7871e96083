"""One number guard: ``quote()``, ``price_requests`` and ``replay`` refuse the same numbers.

Every request number must be finite, whole where it counts things, and within its range (the
table in ``pricing._price.bounds``, stated in the README): sides 1 to 100,000 px, 1 to
1,000,000,000 images a call, 0 to 1,000 input images, 1 to 10,000 steps, above 0 and at most
86,400 s, 0 to 10,000,000 tokens, a billed cost from 0 to 1,000,000,000. A value outside is
refused by a quote, unpriced with the reason by ``price_requests`` and quarantined with the
reason by ``replay``, whatever the column's type or the log's format, and never truncated
(2.7 images are not 2). Expected prices are worked out by hand from the synthetic rates.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import pricing
from pricing import PricingError, price_requests, quote, replay
from pricing.errors import FocusError
from tests.conftest import offer, request, version, write_data

#: acme/flat: $0.04 an image whatever its size; acme/gpu: $0.001 a GPU-second;
#: acme/step: $0.0005 a step at 1024x1024.
CARDS = {
    "acme": offer(version('{ unit = "image", price = 0.04 }'), offer_id="acme/flat")
    + offer(
        version('{ unit = "gpu_second", hardware = "A100", price = 0.001 }'), offer_id="acme/gpu"
    )
    + offer(version('{ unit = "step", price = 0.0005 }'), offer_id="acme/step"),
}
MARCH = datetime(2026, 3, 2, 10, tzinfo=UTC)
SIZE_REASON = (
    "missing, zero or negative width or height, or one out of range: sizes (input sizes too) "
    "are each a whole number from 1 to 100,000 px"
)
COUNT_REASON = (
    "missing, zero or negative count, or one out of range: count is the images made by the "
    "call, a whole number from 1 to 1,000,000,000 images"
)
SECONDS_REASON = "seconds out of range; give a finite number above 0 and at most 86,400 s"
STEPS_REASON = "steps out of range; give a whole number from 1 to 10,000 steps"
NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    return pricing.load_catalog(write_data(tmp_path_factory.mktemp("guard-numbers"), CARDS))


def table(column: str, values: list[Any], dtype: pl.DataType, offer_id: str) -> pl.DataFrame:
    """One call per value of ``column`` (typed ``dtype``) on ``offer_id``, in March."""
    if dtype == pl.String:
        cells: list[Any] = [None if v is None else str(v) for v in values]
    elif dtype.is_decimal():
        cells = [None if v is None else Decimal(str(v)) for v in values]
    else:
        cells = values
    return pl.DataFrame(
        {
            "timestamp": [MARCH] * len(values),
            "offer_id": [offer_id] * len(values),
            column: pl.Series(cells, dtype=dtype, strict=False),
        }
    )


def outcome(priced: pl.DataFrame) -> list[tuple[float | None, str | None]]:
    return [
        (None if c is None else round(c, 9), r)
        for c, r in zip(priced["cost"].to_list(), priced["reason"].cast(pl.String), strict=True)
    ]


# --------------------------------------------------------------------------- price_requests

#: (width, expected): a flat $0.04 an image, or refused
WIDTHS: list[tuple[Any, tuple[float | None, str | None]]] = [
    (1024, (0.04, None)),
    (100_000, (0.04, None)),  # the largest side
    (100_001, (None, SIZE_REASON)),
    (2**32, (None, SIZE_REASON)),  # w x h wraps to 0 in int64: once priced $0
    (3_037_000_500, (None, SIZE_REASON)),  # w x h wraps negative: once -$219.9B
    (0, (None, SIZE_REASON)),
    (-1024, (None, SIZE_REASON)),
]
#: (count, expected)
COUNTS: list[tuple[Any, tuple[float | None, str | None]]] = [
    (1, (0.04, None)),
    (1_000_000_000, (40_000_000.0, None)),  # the largest count: 1e9 x 0.04
    (1_000_000_001, (None, COUNT_REASON)),
    (2**63 - 1, (None, COUNT_REASON)),  # once overflowed running volumes to -9.2e18
    (0, (None, COUNT_REASON)),
]
#: fractional and non-finite counts, in the types that can hold them
ODD_COUNTS: list[tuple[Any, tuple[float | None, str | None]]] = [
    (2.0, (0.08, None)),  # a whole number written as a float
    (2.7, (None, COUNT_REASON)),  # never truncated to 2
    (0.5, (None, COUNT_REASON)),
    (1e19, (None, COUNT_REASON)),
]


#: fractional and non-finite sides, in the types that can hold them
ODD_WIDTHS: list[tuple[Any, tuple[float | None, str | None]]] = [
    (1024.0, (0.04, None)),
    (1024.5, (None, SIZE_REASON)),  # never truncated to 1024
    (NAN, (None, SIZE_REASON)),
    (INF, (None, SIZE_REASON)),
]


@pytest.mark.parametrize("dtype", [pl.Int64(), pl.UInt64(), pl.Float64(), pl.String()])
def test_price_requests_refuses_sides_out_of_range(cat: pricing.Catalog, dtype: Any) -> None:
    odd = ODD_WIDTHS if dtype in (pl.Float64, pl.String) else []
    cases = [(w, want) for w, want in WIDTHS + odd if not (dtype == pl.UInt64 and w < 0)]
    frame = table("width", [w for w, _ in cases], dtype, "acme/flat")
    assert outcome(price_requests(frame, cat)) == [want for _, want in cases]


@pytest.mark.parametrize("dtype", [pl.Int64(), pl.Float64(), pl.String(), pl.Decimal(38, 4)])
def test_price_requests_refuses_counts_out_of_range(cat: pricing.Catalog, dtype: Any) -> None:
    cases = [
        (n, want)
        for n, want in COUNTS + (ODD_COUNTS if dtype != pl.Int64 else [])
        if not (dtype.is_decimal() and abs(n) >= 10**30)
    ]
    frame = table("count", [n for n, _ in cases], dtype, "acme/flat")
    assert outcome(price_requests(frame, cat)) == [want for _, want in cases]


@pytest.mark.parametrize("dtype", [pl.Float64(), pl.String()])
def test_nan_and_infinite_numbers_are_refused(cat: pricing.Catalog, dtype: Any) -> None:
    counts = table("count", [NAN, INF, -INF], dtype, "acme/flat")
    assert outcome(price_requests(counts, cat)) == [(None, COUNT_REASON)] * 3
    seconds = table("seconds", [2.0, NAN, INF, 0.0, -1.0, 86_400.0, 86_400.5], dtype, "acme/gpu")
    # 2 s x $0.001 = $0.002; 86,400 s (a day, the longest run) x $0.001 = $86.40
    assert outcome(price_requests(seconds, cat)) == [
        (0.002, None),
        *[(None, SECONDS_REASON)] * 4,
        (86.4, None),
        (None, SECONDS_REASON),
    ]


def test_steps_out_of_range_are_refused(cat: pricing.Catalog) -> None:
    frame = table("steps", [28.0, 10_000.0, 10_001.0, 2.5, 0.0], pl.Float64(), "acme/step")
    # 28 x $0.0005 = $0.014; 10,000 x $0.0005 = $5.00 (1024x1024 is the reference size)
    assert outcome(price_requests(frame, cat)) == [
        (0.014, None),
        (5.0, None),
        *[(None, STEPS_REASON)] * 3,
    ]


def test_booleans_are_not_counts(cat: pricing.Catalog) -> None:
    frame = table("count", [True, False], pl.Boolean(), "acme/flat")
    assert outcome(price_requests(frame, cat)) == [(None, COUNT_REASON)] * 2


def test_an_unpriced_row_is_never_zero_negative_or_infinite(cat: pricing.Catalog) -> None:
    # the rows that once priced at $0, at -$219.9B and at +inf: all unpriced, the sum positive
    frame = pl.DataFrame(
        {
            "timestamp": [MARCH] * 4,
            "offer_id": ["acme/flat", "acme/flat", "acme/gpu", "acme/flat"],
            "width": [2**32, 3_037_000_500, 1024, 1024],
            "height": [2**32, 3_037_000_500, 1024, 1024],
            "seconds": [None, None, INF, None],
        }
    )
    priced = price_requests(frame, cat)
    assert priced["cost"].to_list() == [None, None, None, 0.04]
    assert priced["cost"].sum() == pytest.approx(0.04)


# --------------------------------------------------------------------------- quote()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("width", 100_001),
        ("height", 2**32),
        ("count", 1_000_000_001),
        ("count", 2.7),
        ("count", True),
        ("steps", 10_001),
        ("seconds", NAN),
        ("seconds", INF),
        ("seconds", 0),
        ("seconds", 86_401),
        ("prompt_tokens", 10_000_001),
        ("input_image_tokens", -1),
        ("input_images", 1_001),
    ],
)
def test_a_request_refuses_what_price_requests_refuses(field: str, value: Any) -> None:
    with pytest.raises(pricing.RequestError, match=f"invalid ImageRequest: {field}=") as caught:
        request(**{field: value})
    assert isinstance(caught.value, ValueError)  # what pydantic's ValidationError also was
    assert caught.value.__cause__ is None
    assert "pydantic" not in str(caught.value)


def test_quote_checks_numbers_of_requests_made_without_validation(cat: pricing.Catalog) -> None:
    for unchecked in (
        request().model_copy(update={"width": 2**32}),
        pricing.ImageRequest.model_construct(model="m", width=1024, height=1024, count=10**19),
    ):
        with pytest.raises(PricingError, match="is over"):
            quote(unchecked, "acme/flat", catalog=cat, as_of=date(2026, 3, 2))
    with pytest.raises(
        PricingError, match=r"width 4294967296 is over 100,000; give a whole number from 1 to"
    ):
        quote(request().model_copy(update={"width": 2**32}), "acme/flat", catalog=cat)


def test_quote_and_price_requests_agree_at_the_limits(cat: pricing.Catalog) -> None:
    largest = request(width=100_000, height=1024, count=1_000_000_000)
    q = quote(largest, "acme/flat", catalog=cat, as_of=date(2026, 3, 2))
    assert q.total == Decimal("40000000.00")  # 1e9 images x $0.04
    frame = pl.DataFrame(
        {"timestamp": [MARCH], "offer_id": ["acme/flat"], "width": [100_000], "count": [10**9]}
    )
    assert price_requests(frame, cat)["cost"].to_list() == [pytest.approx(40_000_000.0)]


@pytest.mark.parametrize("volume", [-1, 2**53 + 1, 2.5, True])
def test_monthly_volume_out_of_range_is_refused(cat: pricing.Catalog, volume: Any) -> None:
    with pytest.raises(PricingError, match="monthly_volume"):
        quote(request(), "acme/flat", catalog=cat, as_of=date(2026, 3, 2), monthly_volume=volume)


def test_a_month_of_requests_beyond_exact_integers_is_refused(cat: pricing.Catalog) -> None:
    with pytest.raises(PricingError, match=r"images \(count x requests\)"):
        pricing.monthly_cost(request(count=2), "acme/flat", requests=2**52 + 1, catalog=cat)
    with pytest.raises(PricingError, match=r"requests 1\.5 is not a whole number"):
        pricing.monthly_cost(request(), "acme/flat", requests=1.5, catalog=cat)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- money out


def fx_table(jpy_per_eur: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [date(2026, 3, 1)] * 2,
            "currency": ["USD", "JPY"],
            "per_eur": [1.0, jpy_per_eur],
            "source": ["test", "test"],
        }
    )


def test_money_that_overflows_float64_is_unpriced_not_infinite(cat: pricing.Catalog) -> None:
    # 1 image: $0.04 x 1e305 JPY/USD = 4e303 JPY, finite; 1e9 images: 4e312 JPY, beyond float64
    frame = pl.DataFrame(
        {"timestamp": [MARCH] * 2, "offer_id": ["acme/flat"] * 2, "count": [1, 10**9]}
    )
    priced = price_requests(frame, cat, currency="JPY", fx=fx_table(1e305))
    assert priced["cost"][0] == pytest.approx(4e303, rel=1e-12)
    assert priced["cost"][1] is None
    assert priced["list_cost"][1] is None
    assert str(priced["reason"][1]).startswith("the price is not a finite, non-negative amount")


@pytest.mark.parametrize("rate", [0.0, -150.0, NAN, INF])
def test_exchange_rates_that_are_not_positive_finite_numbers_are_refused(
    cat: pricing.Catalog, rate: float
) -> None:
    frame = pl.DataFrame({"timestamp": [MARCH], "offer_id": ["acme/flat"]})
    with pytest.raises(PricingError, match="JPY on 2026-03-01"):
        price_requests(frame, cat, currency="JPY", fx=fx_table(rate))


@pytest.mark.parametrize("bad", [NAN, INF, -0.04])
def test_to_focus_refuses_costs_that_are_not_finite_and_positive(
    cat: pricing.Catalog, bad: float
) -> None:
    frame = pl.DataFrame({"timestamp": [MARCH] * 2, "offer_id": ["acme/flat"] * 2})
    priced = price_requests(frame, cat).with_columns(
        cost=pl.Series([0.04, bad]), list_cost=pl.Series([0.04, bad])
    )
    with pytest.raises(FocusError, match="NaN, infinite or negative on 1 row"):
        pricing.to_focus(priced)


# --------------------------------------------------------------------------- replay

#: One log, three formats: (count, seconds, billed_cost) per call on acme/flat.
CALLS: list[tuple[float, float, float]] = [
    (1.0, 1.0, 0.04),  # priced: $0.04
    (2.7, 1.0, 0.04),  # 2.7 images: never 2
    (2.0, 1.0, 0.08),  # priced: 2 x $0.04
    (1e19, 1.0, 0.04),
    (1.0, INF, 0.04),
    (1.0, NAN, 0.04),
    (1.0, 1.0, NAN),  # a NaN bill
    (1.0, 1.0, -0.04),  # a negative bill
    (-3.0, 1.0, 0.04),
    (1.0, 0.0, 0.04),
]
#: (row, reason, value as the log spells it in CSV) of each quarantined call
REASONS = [
    (2, "count is not a whole number", "2.7"),
    (4, "count is over 1,000,000,000 images", "1e+19"),
    (5, "seconds is not a finite number", "inf"),
    (6, "seconds is not a finite number", "NaN"),
    (7, "billed_cost is not a finite number", "NaN"),
    (8, "negative billed_cost", "-0.04"),
    (9, "zero or negative count", "-3.0"),
    (10, "zero or negative seconds", "0.0"),
]


def write_calls(path: Path) -> Path:
    """CALLS as a log in ``path``'s format, written by polars (NDJSON by hand: polars writes a
    NaN or an infinity as null, where a JSON log spells them NaN and Infinity)."""
    frame = pl.DataFrame(
        {
            "timestamp": ["2026-03-02T10:00:00Z"] * len(CALLS),
            "offer_id": ["acme/flat"] * len(CALLS),
            "count": [c for c, _, _ in CALLS],
            "seconds": [s for _, s, _ in CALLS],
            "billed_cost": [b for _, _, b in CALLS],
        }
    )
    if path.suffix == ".csv":
        frame.write_csv(path)
    elif path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dicts()), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".ndjson"])
def test_replay_quarantines_the_same_numbers_in_every_format(
    cat: pricing.Catalog, tmp_path: Path, suffix: str
) -> None:
    result = replay(write_calls(tmp_path / f"usage{suffix}"), catalog=cat, alternatives=False)
    assert result.total() == {"USD": Decimal("0.12")}  # $0.04 + 2 x $0.04
    got = result.quarantine.select("line", "reason").rows()
    header = 1 if suffix == ".csv" else 0  # a CSV's first row is its line 2
    assert got == [(row + header, reason) for row, reason, _ in REASONS]
    if suffix == ".csv":
        assert result.quarantine["value"].to_list() == [value for _, _, value in REASONS]
    assert (result.rows_read, result.rows_priced, result.rows_quarantined) == (10, 2, 8)
    assert result.reconciliation is not None
    assert result.reconciliation["billed"].to_list() == [Decimal("0.12")]


def test_replay_of_sides_that_once_priced_negative(cat: pricing.Catalog, tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "timestamp": ["2026-03-02T10:00:00Z"] * 3,
            "offer_id": ["acme/flat"] * 3,
            "width": [3_037_000_500, 2**32, 1024],
            "height": [3_037_000_500, 2**32, 1024],
        }
    )
    frame.write_parquet(tmp_path / "usage.parquet")
    result = replay(tmp_path / "usage.parquet", catalog=cat, alternatives=False)
    assert result.total() == {"USD": Decimal("0.04")}
    assert result.quarantine.select("line", "reason").rows() == [
        (1, "width is over 100,000 px"),
        (2, "width is over 100,000 px"),
    ]
    assert all(math.isfinite(float(c)) and c > 0 for c in result.costs["cost"].to_list())

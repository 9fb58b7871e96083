"""Monthly budgets: month-to-date spend by day, run rate, forecast, run-out day and alerts.

Every expectation is worked out here by hand from the synthetic rates (acme/m $0.04 per image;
gamma/m $0.04 per image for the month's first 1,000 images, then $0.03), never read back
from the code. March 2026 has 31 days.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import pricing
from pricing import Budget, PricingError, budget_status, replay
from pricing.cli import app
from tests.conftest import offer, version, write_data

PRICE = Decimal("0.04")  # acme/m, per image
TIER_LOW, TIER_HIGH, TIER_AT = Decimal("0.04"), Decimal("0.03"), 1000  # gamma/m, graduated
PER_DAY = 50  # images a day in the standard log: 50 x $0.04 = $2.00 a day
CARDS = {
    "acme": offer(
        version('{ unit = "image", price = 0.04 }'), offer_id="acme/m", operations='["generate"]'
    ),
    "gamma": offer(
        version(
            '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 1000, price = 0.03 }] }"
        ),
        offer_id="gamma/m",
        operations='["generate"]',
    ),
}
HEADER = "timestamp,provider,model,operation,count"
runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_data(tmp_path_factory.mktemp("budget-data"), CARDS)


@pytest.fixture(scope="module")
def cat(data: Path) -> pricing.Catalog:
    return pricing.load_catalog(data)


def write_log(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def day_rows(days: range, images: int = PER_DAY, provider: str = "acme") -> list[str]:
    return [f"2026-03-{d:02d}T12:00:00Z,{provider},m,generate,{images}" for d in days]


@pytest.fixture
def ten_days(tmp_path: Path) -> Path:
    """$2.00 a day on March 1-10, and one February call (an earlier month, not counted)."""
    return write_log(
        tmp_path / "usage.csv",
        "2026-02-27T09:00:00Z,acme,m,generate,1000",
        *day_rows(range(1, 11)),
    )


def status(log: Path, cat: pricing.Catalog, monthly: Any, **kw: Any) -> pricing.BudgetStatus:
    alerts = kw.pop("alerts", (0.8, 1.0))
    result = replay(log, catalog=cat, alternatives=False)
    return budget_status(result, Budget(monthly=monthly, alerts=alerts), catalog=cat, **kw)


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1e-10"))


# --------------------------------------------------------------------------- the numbers


def test_month_to_date_run_rate_forecast_and_run_out(ten_days: Path, cat: pricing.Catalog) -> None:
    s = status(ten_days, cat, 50)
    daily_cost = PER_DAY * PRICE  # $2.00
    assert s.month == date(2026, 3, 1)
    assert s.as_of == date(2026, 3, 10)  # the last day with a call
    assert (s.days_in_month, s.days_elapsed) == (31, 10)
    assert s.spent == 10 * daily_cost == Decimal("20.00")
    assert s.run_rate == daily_cost
    assert s.forecast == 31 * daily_cost == Decimal("62.00")
    # $50 / $2.00 a day = 25 days: the cumulative spend reaches $50 at the end of March 25
    assert s.run_out == date(2026, 3, 25)
    assert s.used == pytest.approx(0.4)
    assert not s.over_budget
    assert s.daily["cumulative"].to_list() == [d * daily_cost for d in range(1, 11)]
    assert s.daily["cost"].to_list() == [daily_cost] * 10
    # the forecast starts where the spend stands and ends at month end
    assert s.projection["day_of_month"].to_list() == list(range(10, 32))
    assert s.projection["cumulative"][0] == s.spent
    assert s.projection["cumulative"][-1] == s.forecast
    # 80% = $40, reached at $2.00 a day on day 20; 100% on day 25; neither yet
    alerts = s.alerts.to_dicts()
    assert [(a["threshold"], a["amount"], a["crossed"]) for a in alerts] == [
        (0.8, Decimal("40"), False),
        (1.0, Decimal("50"), False),
    ]
    assert [a["forecast_on"] for a in alerts] == [date(2026, 3, 20), date(2026, 3, 25)]
    assert s.crossed == ()
    assert s.forecast_crossed == (0.8, 1.0)
    # where the numbers come from
    prices = s.prices.row(0, named=True)
    assert (prices["offer_id"], prices["source_id"]) == ("acme/m", "acme-docs")
    assert prices["requests"] == 10


def test_as_of_counts_up_to_that_day(ten_days: Path, cat: pricing.Catalog) -> None:
    s = status(ten_days, cat, 50, as_of=date(2026, 3, 4))
    assert (s.days_elapsed, s.spent, s.run_rate) == (4, 4 * PER_DAY * PRICE, PER_DAY * PRICE)
    assert s.requests == 4
    assert s.notes == ("6 call(s) after 2026-03-04 are not counted",)


def test_as_of_after_the_last_call_lowers_the_run_rate(
    ten_days: Path, cat: pricing.Catalog
) -> None:
    # $20.00 over 21 days: 0.952380952380... a day; the month at that rate: 20 x 31 / 21
    s = status(ten_days, cat, 25, as_of="2026-03-21")
    spent = 10 * PER_DAY * PRICE
    assert s.days_elapsed == 21
    assert s.run_rate == money(spent / 21) == Decimal("0.9523809524")
    assert s.forecast == money(spent * 31 / 21) == Decimal("29.5238095238")
    # $25 / (20/21 a day) = 26.25 days: reached during March 27
    assert s.run_out == date(2026, 3, 27)
    # 80% of $25 = $20: reached on March 10 already (the actual day, not a forecast)
    assert s.alerts["crossed_on"].to_list() == [date(2026, 3, 10), None]
    assert s.crossed == (0.8,)


def test_run_out_beyond_the_month_is_none(ten_days: Path, cat: pricing.Catalog) -> None:
    # $2.00 a day x 31 days = $62 < $100
    s = status(ten_days, cat, 100)
    assert s.run_out is None
    assert s.alerts["forecast_on"].to_list() == [None, None]  # $80 needs 40 days
    assert s.forecast_crossed == ()


def test_days_without_calls_count_as_elapsed(tmp_path: Path, cat: pricing.Catalog) -> None:
    log = write_log(tmp_path / "gaps.csv", *day_rows(range(1, 2)), *day_rows(range(5, 6)))
    s = status(log, cat, 50)
    assert s.days_elapsed == 5  # up to the last day with a call
    assert s.daily["cost"].to_list() == [Decimal("2"), 0, 0, 0, Decimal("2")]
    assert s.run_rate == Decimal("0.8")  # $4.00 / 5 days


def test_over_budget_runs_out_on_the_actual_day(ten_days: Path, cat: pricing.Catalog) -> None:
    s = status(ten_days, cat, 10)  # $2.00 a day reaches $10 on March 5
    assert s.over_budget
    assert s.run_out == date(2026, 3, 5)
    assert s.crossed == (0.8, 1.0)
    assert s.alerts["crossed_on"].to_list() == [date(2026, 3, 4), date(2026, 3, 5)]


@pytest.mark.parametrize(
    ("monthly", "crossed"),
    [
        (Decimal("25"), (0.8,)),  # 80% of $25 is $20.00: exactly what is spent
        (Decimal("25.01"), ()),  # 80% of $25.01 is $20.008: a fraction of a cent short
    ],
)
def test_alert_at_exactly_the_threshold(
    ten_days: Path, cat: pricing.Catalog, monthly: Decimal, crossed: tuple[float, ...]
) -> None:
    s = status(ten_days, cat, monthly)
    assert s.spent == Decimal("20.00")
    assert s.crossed == crossed


def test_tiers_follow_the_month_day_by_day(tmp_path: Path, cat: pricing.Catalog) -> None:
    # 300 images a day on gamma/m: the 1,000-image tier boundary falls inside March 4
    log = write_log(tmp_path / "tiers.csv", *day_rows(range(1, 6), 300, "gamma"))
    by_hand = [
        300 * TIER_LOW,  # images 1-300
        300 * TIER_LOW,  # 301-600
        300 * TIER_LOW,  # 601-900
        100 * TIER_LOW + 200 * TIER_HIGH,  # 901-1000, then 1001-1200
        300 * TIER_HIGH,  # 1201-1500
    ]
    result = replay(log, catalog=cat, alternatives=False)
    s = budget_status(result, Budget(monthly=100), catalog=cat)
    assert s.daily["cost"].to_list() == by_hand
    assert s.spent == sum(by_hand) == Decimal("55.00")
    # the days add up to the replay's month exactly
    assert sum(s.daily["cost"].to_list()) == result.total()["USD"]


def test_unpriced_calls_are_counted_never_as_zero(tmp_path: Path, cat: pricing.Catalog) -> None:
    # acme/m does not serve edits: the March 2 edit has no price
    log = write_log(
        tmp_path / "edits.csv",
        *day_rows(range(1, 2)),
        "2026-03-02T12:00:00Z,acme,m,edit,7",
        *day_rows(range(3, 4)),
    )
    s = status(log, cat, 50)
    assert (s.requests, s.unpriced) == (3, 1)
    assert s.spent == 2 * PER_DAY * PRICE
    assert s.daily["cost"].to_list() == [Decimal("2"), None, Decimal("2")]
    assert s.daily["unpriced"].to_list() == [0, 1, 0]
    reasons = s.prices.drop_nulls("reason")
    assert reasons["requests"].to_list() == [1]


def test_a_different_log_does_not_reconcile(
    ten_days: Path, tmp_path: Path, cat: pricing.Catalog
) -> None:
    result = replay(ten_days, catalog=cat, alternatives=False)
    other = write_log(tmp_path / "other.csv", *day_rows(range(1, 4)))
    with pytest.raises(PricingError, match="does not add up to the replay of 2026-03"):
        budget_status(result, Budget(monthly=50), log=other, catalog=cat)


def test_a_replayed_frame_needs_the_log(ten_days: Path, cat: pricing.Catalog) -> None:
    frame = pl.read_csv(ten_days, infer_schema=False)
    result = replay(frame, catalog=cat, alternatives=False)
    with pytest.raises(PricingError, match="pass log="):
        budget_status(result, Budget(monthly=50), catalog=cat)
    s = budget_status(result, Budget(monthly=50), log=frame, catalog=cat)
    assert s.spent == Decimal("20.00")


def test_a_budget_counts_one_currency(ten_days: Path, cat: pricing.Catalog) -> None:
    result = replay(ten_days, catalog=cat, alternatives=False)
    with pytest.raises(PricingError, match="priced in USD, and the budget is in EUR"):
        budget_status(result, Budget(monthly=50, currency="EUR"), catalog=cat)


# --------------------------------------------------------------------------- Budget


def test_budget_amounts_are_exact() -> None:
    assert Budget(monthly=0.1).monthly == Decimal("0.1")
    assert Budget(monthly="5000.10").monthly == Decimal("5000.10")
    assert Budget(monthly=5000).alerts == (0.8, 1.0)
    assert Budget(monthly=10, alerts=0.5).alerts == (0.5,)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"monthly": 0}, "must be a positive amount"),
        ({"monthly": -5}, "must be a positive amount"),
        ({"monthly": float("nan")}, "must be a positive amount"),
        ({"monthly": "lots"}, "'lots' is not an amount"),
        ({"monthly": True}, "is not an amount"),
        ({"monthly": 5, "currency": "usd"}, "not an ISO 4217 code"),
        ({"monthly": 5, "alerts": (1.0, 0.8)}, r"ascending without repeats; write \(0.8, 1.0\)"),
        ({"monthly": 5, "alerts": (0.8, 0.8)}, r"write \(0.8\)"),
        ({"monthly": 5, "alerts": (0, 1)}, r"alert 0.0 is outside \(0, 2\]"),
        ({"monthly": 5, "alerts": (2.5,)}, r"alert 2.5 is outside \(0, 2\]"),
        ({"monthly": 5, "alerts": "high"}, "must be fractions of the budget"),
    ],
)
def test_bad_budgets_say_what_to_fix(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(PricingError, match=message):
        Budget(**fields)


def test_budget_is_frozen() -> None:
    budget = Budget(monthly=5)
    with pytest.raises(ValueError, match="frozen"):
        budget.monthly = Decimal(6)  # type: ignore[misc]


# --------------------------------------------------------------------------- CLI


def run(log: Path, data: Path, *args: str) -> Any:
    return runner.invoke(app, ["budget", str(log), "--data", str(data), *args])


def test_cli_prints_the_status_and_writes_the_chart(
    ten_days: Path, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "charts" / "budget.html"
    out.parent.mkdir()
    result = run(ten_days, data, "--monthly", "50", "--out", str(out), "--format", "html,png,json")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    for expected in (
        "USD 50.00",  # budget
        "USD 20.00",  # spent so far
        "40.0%",  # used
        "USD 2.00",  # run rate
        "USD 62.00",  # forecast
        "Wed 2026-03-25",  # run-out
        "80%, 100%",  # alerts forecast ...
        "on 2026-03-20, 2026-03-25",  # ... and when
        "source acme-docs",
    ):
        assert expected in text, expected
    # how the figures are made, under the table (not squeezed into its width)
    assert "run rate = spent / 10 day(s) elapsed; forecast = run rate x days in the month" in text
    html = out.read_text(encoding="utf-8")
    assert "vegaEmbed" in html
    assert "<script src=" not in html  # scripts inlined: the page works offline
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    spec = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert spec["layer"]


def test_cli_json_and_exit_status(ten_days: Path, data: Path) -> None:
    result = run(ten_days, data, "--monthly", "15", "--alert", "1.0", "--alert", "0.5", "--json")
    assert result.exit_code == 1, result.output  # $20.00 spent: the $15 budget is reached
    payload = json.loads(result.stdout)
    assert payload["budget"] == {"monthly": "15", "currency": "USD", "alerts": [0.5, 1.0]}
    assert Decimal(payload["spent"]) == Decimal("20")
    assert Decimal(payload["run_rate"]) == Decimal("2")
    assert Decimal(payload["forecast"]) == Decimal("62")
    # $2.00 a day: $7.50 (50%) is passed on March 4, $15 on March 8
    assert payload["run_out"] == "2026-03-08"
    assert [a["crossed_on"] for a in payload["alerts"]] == ["2026-03-04", "2026-03-08"]
    assert payload["over_budget"] is True


def test_cli_as_of(ten_days: Path, data: Path) -> None:
    result = run(ten_days, data, "--monthly", "50", "--as-of", "2026-03-04", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["as_of"], payload["days_elapsed"]) == ("2026-03-04", 4)
    assert Decimal(payload["spent"]) == 4 * PER_DAY * PRICE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--monthly", "-1"], "must be a positive amount"),
        (["--monthly", "50", "--alert", "3"], r"outside \(0, 2\]"),
        (["--monthly", "50", "--currency", "dollars"], "not an ISO 4217 code"),
        (["--monthly", "50", "--as-of", "March"], "is not a date"),
        (["--monthly", "50", "--format", "png"], "--format png needs --out"),
        (["--monthly", "50", "--out", "b.pdf", "--format", "pdf"], "unknown chart format pdf"),
    ],
)
def test_cli_errors_exit_2(ten_days: Path, data: Path, args: list[str], message: str) -> None:
    result = run(ten_days, data, *args)
    assert result.exit_code == 2
    assert re.search(message, " ".join(result.stderr.split())), result.stderr

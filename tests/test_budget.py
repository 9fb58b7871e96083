"""Monthly budgets: month-to-date spend by day, run rate, forecast, run-out day and alerts.

Every expectation is worked out here by hand from the synthetic rates (acme/m $0.04 per image;
gamma/m $0.04 per image for the month's first 1,000 images, then $0.03; delta/m $0.05 per
image with a $10.00 minimum monthly spend), never read back from the code. March 2026 has 31
days. ``budget_status`` reads the replay's day sums: it never reads the log.
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

D = Decimal
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
    "delta": offer(
        version('{ unit = "image", price = 0.05 }', settings="  minimum_monthly_spend = 10"),
        offer_id="delta/m",
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
    return budget_status(result, Budget(monthly=monthly, alerts=alerts), **kw)


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
    s = budget_status(result, Budget(monthly=100))
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


#: A month of three offers, read in batches of two rows (by hand, USD):
#:   Mar 1  acme 10 images 0.40; gamma 600 images 600 x 0.04 = 24.00     day 24.40
#:   Mar 2  acme edit, 3 images: acme/m serves no edit, no price; gamma 600 images:
#:          400 x 0.04 + 200 x 0.03 = 22.00 (the 1,000-image tier)         day 22.00
#:   Mar 3  delta 20 images 1.00, the month's only delta call, so it carries the top-up to
#:          the $10.00 minimum: 1.00 + 9.00                                 day 10.00
#:   Mar 4  acme 5 images 0.20                                              day  0.20
#: and a February call on acme (1,000 images) that no March budget counts.
MIXED = (
    "2026-02-27T09:00:00Z,acme,m,generate,1000",
    "2026-03-01T08:00:00Z,acme,m,generate,10",
    "2026-03-01T09:00:00Z,gamma,m,generate,600",
    "2026-03-02T10:00:00Z,acme,m,edit,3",
    "2026-03-02T11:00:00Z,gamma,m,generate,600",
    "2026-03-03T12:00:00Z,delta,m,generate,20",
    "2026-03-04T13:00:00Z,acme,m,generate,5",
)


def test_a_month_of_several_offers_by_hand(tmp_path: Path, cat: pricing.Catalog) -> None:
    log = write_log(tmp_path / "mixed.csv", *MIXED)
    result = replay(log, catalog=cat, alternatives=False, batch_rows=2)
    s = budget_status(result, Budget(monthly=100))
    days = [D("24.40"), D("22.00"), D("10.00"), D("0.20")]
    assert (s.month, s.as_of, s.days_elapsed) == (date(2026, 3, 1), date(2026, 3, 4), 4)
    assert s.daily["cost"].to_list() == days
    assert s.daily["cumulative"].to_list() == [D("24.40"), D("46.40"), D("56.40"), D("56.60")]
    assert s.daily["requests"].to_list() == [2, 2, 1, 1]
    assert s.daily["images"].to_list() == [610, 600, 20, 5]  # priced calls' images
    assert s.daily["unpriced"].to_list() == [0, 1, 0, 0]
    assert (s.requests, s.unpriced) == (6, 1)
    assert s.spent == D("56.60")
    assert s.run_rate == D("14.15")  # 56.60 / 4
    assert s.forecast == D("438.65")  # 14.15 x 31
    # $80 (80%) at 14.15 a day: 80 / 14.15 = 5.65 days, March 6; $100: 7.07 days, March 8
    assert s.alerts["forecast_on"].to_list() == [date(2026, 3, 6), date(2026, 3, 8)]
    assert s.run_out == date(2026, 3, 8)
    assert s.crossed == ()
    prices = s.prices.select("offer_id", "requests", "images", "cost").rows()
    assert prices == [
        ("acme/m", 1, 3, None),  # the edit: no price, never 0 (a reason sorts before none)
        ("acme/m", 2, 15, D("0.60")),  # 10 + 5 images at 0.04
        ("delta/m", 1, 20, D("10.00")),
        ("gamma/m", 2, 1200, D("46.00")),
    ]
    assert s.prices["reason"].is_null().to_list() == [False, True, True, True]
    left_out = (
        "1 unpriced call(s) are in neither the spend nor the forecast; estimate=True counts "
        "them in the forecast at their offer's nearest price"
    )
    assert s.notes == (
        "a minimum-spend top-up is booked on the month's last priced call, as if the month "
        "were complete",
        left_out,
    )
    assert (s.estimated, s.estimated_calls) == (D("0"), 0)
    # up to March 2: neither the delta call (and its top-up) nor the March 4 call
    early = budget_status(result, Budget(monthly=100), as_of="2026-03-02")
    assert (early.spent, early.requests, early.unpriced) == (D("46.40"), 4, 1)
    assert early.run_rate == D("23.20")  # 46.40 / 2
    assert early.forecast == D("719.20")  # 23.20 x 31
    assert early.notes == ("2 call(s) after 2026-03-02 are not counted", left_out)


def test_unpriced_calls_are_estimated_at_the_offers_nearest_price(
    tmp_path: Path, cat: pricing.Catalog
) -> None:
    # MIXED by hand: the unpriced edit (3 images on acme/m, March 2) at acme/m's nearest price,
    # March 1: 0.40 for 10 images = 0.04 an image -> 0.12, in the forecast, never in the spend
    log = write_log(tmp_path / "mixed.csv", *MIXED)
    result = replay(log, catalog=cat, alternatives=False)
    s = budget_status(result, Budget(monthly=100), estimate=True)
    assert s.spent == D("56.60")
    assert (s.estimated, s.estimated_calls, s.unpriced) == (D("0.12"), 1, 1)
    assert s.run_rate == D("14.18")  # (56.60 + 0.12) / 4
    assert s.forecast == D("439.58")  # 14.18 x 31
    # $80: 56.72 + 2 days x 14.18 = 85.08 on March 6; $100: + 4 days = 113.44 on March 8
    assert s.alerts["forecast_on"].to_list() == [date(2026, 3, 6), date(2026, 3, 8)]
    assert s.run_out == date(2026, 3, 8)
    (row,) = s.estimates.rows(named=True)
    assert (row["day"], row["offer_id"], row["images"]) == (date(2026, 3, 2), "acme/m", 3)
    assert (row["per_image"], row["cost"]) == (D("0.04"), D("0.12"))
    assert s.notes[-1] == (
        "forecast includes an estimate of 1 unpriced call(s) at their offer's nearest price: "
        "USD 0.12 (acme/m's price per image on 2026-03-01); the spend so far does not"
    )
    # the projection starts from the spend and the estimate: 56.72 on March 4
    assert s.projection["cumulative"][0] == D("56.72")


def test_the_log_is_not_read_again(tmp_path: Path, cat: pricing.Catalog) -> None:
    log = write_log(tmp_path / "usage.csv", *day_rows(range(1, 11)))
    result = replay(log, catalog=cat, alternatives=False)
    log.unlink()  # the budget needs only the replay
    s = budget_status(result, Budget(monthly=50))
    assert s.spent == 10 * PER_DAY * PRICE == D("20.00")
    assert s.source == str(log)


def test_a_replayed_frame_needs_no_log(ten_days: Path, cat: pricing.Catalog) -> None:
    frame = pl.read_csv(ten_days, infer_schema=False)
    result = replay(frame, catalog=cat, alternatives=False)
    s = budget_status(result, Budget(monthly=50))
    assert s.spent == D("20.00")
    assert s.source == "DataFrame"


def test_a_replay_of_one_month_budgets_only_that_month(
    ten_days: Path, cat: pricing.Catalog
) -> None:
    result = replay(ten_days, catalog=cat, alternatives=False, month="2026-03")
    assert budget_status(result, Budget(monthly=50)).spent == D("20.00")
    # February has a call, but this replay did not read February: it cannot say what it cost
    with pytest.raises(PricingError, match=r"covers 2026-03 only .* month='2026-02'"):
        budget_status(result, Budget(monthly=50), as_of="2026-02-27")


def test_a_month_without_calls_spends_nothing(ten_days: Path, cat: pricing.Catalog) -> None:
    result = replay(ten_days, catalog=cat, alternatives=False)
    s = budget_status(result, Budget(monthly=50), as_of="2026-04-03")
    assert (s.spent, s.requests, s.days_elapsed) == (D(0), 0, 3)
    assert s.daily["cost"].to_list() == [D(0)] * 3
    assert s.notes == ("the log has no calls in 2026-04 up to 2026-04-03",)


def test_a_budget_in_another_currency_without_rates_counts_no_call(
    ten_days: Path, cat: pricing.Catalog
) -> None:
    # USD calls, a EUR budget, and no exchange rate in the data: each call is left unpriced
    # with the reason, never converted at a guessed rate and never counted as 0 (conversions
    # with rates: tests/test_currency_usage.py)
    result = replay(ten_days, catalog=cat, alternatives=False)
    s = budget_status(result, Budget(monthly=50, currency="EUR"))
    assert (s.spent, s.requests, s.unpriced) == (D(0), 10, 10)
    assert s.daily["cost"].to_list() == [None] * 10
    (reason,) = s.prices["reason"].to_list()
    assert reason.startswith("no USD to EUR exchange rate within 7 day(s)")
    assert s.conversions == ()


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

"""Usage replays and budgets in another currency: each call at the rate of its own day.

The rates are a small hand-made ECB table (units per 1 EUR) in a data directory of the test's
own: Monday 2026-03-02 USD 1.16, GBP 0.86; Tuesday 2026-03-03 USD 1.20, GBP 0.88; Friday
2026-03-06 USD 1.18, GBP 0.87; the data ends on that Friday. acme/m lists $0.04 per image,
beta/m $0.03. Usage is priced per call, converted, then kept at ledger scale (10 places, per
call) before any sum, as every replay is. Every expected amount is worked out here by hand
from a price and a rate, never read back from the code.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import pricing
from pricing import Budget, budget_status, replay
from pricing._fx.convert import Converter
from pricing.cli import app
from pricing.errors import FxError
from tests.conftest import SOURCES, offer, version, write_data

D = Decimal
MON, TUE, WED, FRI, SAT = (date(2026, 3, d) for d in (2, 3, 4, 6, 7))
PRICE, BETA = D("0.04"), D("0.03")  # USD per image
USD = {MON: D("1.16"), TUE: D("1.20"), FRI: D("1.18")}  # USD per EUR
GBP = {MON: D("0.86"), TUE: D("0.88"), FRI: D("0.87")}  # GBP per EUR

ECB_SOURCE = """
[[source]]
id = "ecb-eurofxref"
title = "Euro foreign exchange reference rates"
publisher = "European Central Bank"
kind = "official"
seen = 2026-03-07
"""
CARDS = {
    "acme": offer(
        version('{ unit = "image", price = 0.04 }'), offer_id="acme/m", operations='["generate"]'
    ),
    "beta": offer(
        version('{ unit = "image", price = 0.03 }'), offer_id="beta/m", operations='["generate"]'
    ),
}
HEADER = "timestamp,provider,model,operation,count"
#: Monday 10 images, Tuesday 5, Saturday 1 (Friday's rate), and March 20: 14 days after the
#: last rate, more than the 7 days allowed, so that call has no rate.
LOG = (
    "2026-03-02T10:00:00Z,acme,m,generate,10",
    "2026-03-03T10:00:00Z,acme,m,generate,5",
    "2026-03-07T10:00:00Z,acme,m,generate,1",
    "2026-03-20T10:00:00Z,acme,m,generate,2",
)
runner = CliRunner()


def ledger(value: Decimal) -> Decimal:
    """A call's cost as a replay keeps it: 10 places."""
    return value.quantize(D("1e-10"))


def write_log(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_data(tmp_path_factory.mktemp("fx-usage"), CARDS, sources=SOURCES + ECB_SOURCE)
    (root / "fx").mkdir()
    lines = ["date,currency,per_eur,source"]
    for day in (MON, TUE, FRI):
        lines += [f"{day},USD,{USD[day]},ecb-eurofxref", f"{day},GBP,{GBP[day]},ecb-eurofxref"]
    (root / "fx" / "ecb.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def cat(data: Path) -> pricing.Catalog:
    return pricing.load_catalog(data)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_log(tmp_path / "usage.csv", *LOG)


# --------------------------------------------------------------------------- replay()


def test_each_call_converts_at_its_own_days_rate(log: Path, cat: pricing.Catalog) -> None:
    r = replay(log, catalog=cat, currency="EUR", alternatives=False)
    monday = ledger(10 * PRICE / USD[MON])  # $0.40 at 1.16 = 0.3448275862
    tuesday = ledger(5 * PRICE / USD[TUE])  # $0.20 at 1.20 = 0.1666666667
    saturday = ledger(PRICE / USD[FRI])  # $0.04 at Friday's 1.18 = 0.0338983051
    days = r.days.filter(pl.col("reason").is_null()).sort("day")
    assert days["day"].to_list() == [MON, TUE, SAT]
    assert days["cost"].to_list() == [monday, tuesday, saturday]
    assert set(r.days["currency"].to_list()) == {"EUR"}
    assert r.currency == "EUR"
    assert r.totals() == {"EUR": monday + tuesday + saturday}
    rates = r.fx_rates.sort("day")
    assert rates.select("day", "from", "to", "rate_day", "source", "kind").rows() == [
        (MON, "USD", "EUR", MON, "ecb-eurofxref", "published"),
        (TUE, "USD", "EUR", TUE, "ecb-eurofxref", "published"),
        (SAT, "USD", "EUR", FRI, "ecb-eurofxref", "published"),  # a Saturday: Friday's rate
    ]
    assert [c.rate for c in r.conversions] == [1 / USD[MON], 1 / USD[TUE], 1 / USD[FRI]]


def test_a_call_with_no_rate_within_the_age_is_unpriced_with_the_reason(
    log: Path, cat: pricing.Catalog
) -> None:
    r = replay(log, catalog=cat, currency="EUR", alternatives=False)
    assert (r.rows_read, r.rows_priced, r.rows_unpriced, r.rows_quarantined) == (4, 3, 1, 0)
    assert r.rows_unpriced_fx == 1
    (reason,) = r.unpriced["reason"].to_list()
    assert reason.startswith(
        "no USD to EUR exchange rate within 7 day(s) before the call's day (USD rates: "
        "2026-03-02 to 2026-03-06)"
    )
    assert "--fx EURUSD=" in reason
    late = r.days.filter(pl.col("day") == date(2026, 3, 20)).row(0, named=True)
    assert (late["cost"], late["requests"]) == (None, 1)  # never 0
    # a longer allowance reaches Friday's rate: $0.08 at 1.18
    wide = replay(log, catalog=cat, currency="EUR", alternatives=False, max_fx_age_days=14)
    assert wide.rows_unpriced == 0
    assert wide.days["cost"].to_list()[-1] == ledger(2 * PRICE / USD[FRI])


def test_a_cross_rate_and_your_rate(log: Path, cat: pricing.Catalog) -> None:
    gbp = replay(log, catalog=cat, currency="GBP", alternatives=False)
    monday = gbp.days.filter(pl.col("day") == MON)["cost"].item()
    assert monday == ledger(10 * PRICE * GBP[MON] / USD[MON])  # USD -> EUR -> GBP
    assert all(c.via_eur for c in gbp.conversions)
    yours = replay(log, catalog=cat, currency="EUR", fx=["EURUSD=1.25"], alternatives=False)
    assert yours.rows_unpriced == 0  # your rate holds on every day
    calls = (10, 5, 1, 2)  # images of each call, at $0.04
    assert yours.totals() == {"EUR": sum(ledger(n * PRICE / D("1.25")) for n in calls)}
    assert {(c.kind, c.source) for c in yours.conversions} == {("user", "user")}


def test_alternatives_are_converted_too(log: Path, cat: pricing.Catalog) -> None:
    r = replay(log, catalog=cat, currency="EUR")
    beta = r.alternatives_by_model().filter(pl.col("offer_id") == "beta/m").row(0, named=True)
    # the three calls with a rate, on beta/m at $0.03 an image
    by_hand = ledger(10 * BETA / USD[MON]) + ledger(5 * BETA / USD[TUE]) + ledger(BETA / USD[FRI])
    assert (beta["currency"], beta["cost"]) == ("EUR", by_hand)
    as_logged = r.totals()["EUR"]
    assert beta["saving"] == as_logged - by_hand


def test_focus_stays_in_the_currency_billed(log: Path, cat: pricing.Catalog) -> None:
    r = replay(log, catalog=cat, currency="EUR", alternatives=False, focus="day")
    assert r.focus is not None
    assert r.focus["BillingCurrency"].unique().to_list() == ["USD"]
    # every call has a USD price, the March 20 call too: 18 images at $0.04
    assert r.focus["BilledCost"].sum() == 18 * PRICE


def test_a_planning_converter_is_refused_for_usage(log: Path, cat: pricing.Catalog) -> None:
    planner = Converter("EUR", root=cat.root, planning=True)
    with pytest.raises(FxError, match="never a planning rate"):
        replay(log, catalog=cat, fx=planner)
    with pytest.raises(FxError, match="no exchange rate for XYZ"):
        replay(log, catalog=cat, currency="XYZ")


# --------------------------------------------------------------------------- budgets


def budget_log(tmp_path: Path) -> Path:
    """$2.00 a day (50 images) on Monday, Tuesday and Wednesday March 2-4."""
    days = ("2026-03-02", "2026-03-03", "2026-03-04")
    return write_log(tmp_path / "budget.csv", *(f"{d}T12:00:00Z,acme,m,generate,50" for d in days))


def test_a_gbp_budget_of_a_usd_log(tmp_path: Path, cat: pricing.Catalog) -> None:
    result = replay(budget_log(tmp_path), catalog=cat, alternatives=False)  # in USD
    s = budget_status(result, Budget(monthly=20, currency="GBP"))
    # each day at its own rate; Wednesday (no ECB rate of its own yet) at Tuesday's
    monday = ledger(D("2.00") * GBP[MON] / USD[MON])  # 1.4827586207
    tuesday = ledger(D("2.00") * GBP[TUE] / USD[TUE])  # 1.4666666667
    assert s.daily["cost"].to_list() == [0, monday, tuesday, tuesday]
    assert s.spent == monday + 2 * tuesday == D("4.4160919541")
    # the rest of the month at the rate known on March 4 (Tuesday's), a planning rate:
    # $6.00 / 4 days x 0.88 / 1.20 = GBP 1.10 a day
    assert s.run_rate == D("1.1")
    assert s.forecast == s.spent + 27 * D("1.1") == D("34.1160919541")
    # GBP 20: 4.4160919541 + 1.10 x 15 days = 20.916... on day 4 + 15 = March 19
    assert s.run_out == date(2026, 3, 19)
    assert s.projection["cumulative"][0] == s.spent
    assert s.projection["cumulative"][-1] == s.forecast
    kinds = [(c.asked, c.day, c.kind) for c in s.conversions]
    assert kinds == [
        (MON, MON, "published"),
        (TUE, TUE, "published"),
        (WED, TUE, "published"),
        (date(2026, 3, 31), TUE, "planning"),
    ]
    assert "planning rate" in s.conversions[-1].describe()
    assert s.fx_rates["kind"].to_list() == ["published"] * 3 + ["planning"]
    assert any("converted into GBP" in note for note in s.notes)


def test_a_budget_day_without_a_rate_is_not_counted(tmp_path: Path, cat: pricing.Catalog) -> None:
    # March 2 ($2.00) has a rate; March 20 ($2.00) is 14 days after the data ends
    log = write_log(
        tmp_path / "late.csv",
        "2026-03-02T12:00:00Z,acme,m,generate,50",
        "2026-03-20T12:00:00Z,acme,m,generate,50",
    )
    s = budget_status(
        replay(log, catalog=cat, alternatives=False), Budget(monthly=50, currency="EUR")
    )
    assert s.spent == ledger(D("2.00") / USD[MON])
    assert (s.requests, s.unpriced) == (2, 1)
    assert s.daily["cost"].to_list()[-1] is None  # never 0
    # the forecast plans at the latest rate (Friday's), and says it is an assumption
    planned = s.conversions[-1]
    assert (planned.kind, planned.day) == ("planning", FRI)
    # $2.00 counted over 20 days, at 1 / 1.18 EUR per USD
    assert abs(s.run_rate - D("2.00") / 20 / USD[FRI]) < D("1e-10")


def test_a_replay_already_in_the_budgets_currency(tmp_path: Path, cat: pricing.Catalog) -> None:
    result = replay(budget_log(tmp_path), catalog=cat, alternatives=False, currency="GBP")
    s = budget_status(result, Budget(monthly=20, currency="GBP"))
    assert s.spent == D("4.4160919541")  # the same days at the same rates
    assert [c.kind for c in s.conversions] == ["published"] * 3  # the replay's, stated


# --------------------------------------------------------------------------- the CLI


def cli(command: str, log: Path, data: Path, *args: str) -> Any:
    return runner.invoke(app, [command, str(log), "--data", str(data), *args])


def test_cli_replay_in_eur(log: Path, data: Path) -> None:
    result = cli("replay", log, data, "--currency", "EUR", "--no-alternatives")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "EUR 0.55" in text  # 0.3448275862 + 0.1666666667 + 0.0338983051 = 0.545...
    assert "Exchange rates used" in text
    assert (
        "2026-03-07: 1 USD = 0.847458 EUR (ECB reference rate of 2026-03-06, 1 days before "
        "2026-03-07; source: ecb-eurofxref)" not in text
    )  # one day old is not stale
    assert "2026-03-07: 1 USD = 0.847458 EUR (ECB reference rate of 2026-03-06; source" in text
    assert "no USD to EUR exchange rate within 7 day(s)" in text


def test_cli_replay_json_has_the_fx_list(log: Path, data: Path) -> None:
    result = cli("replay", log, data, "--currency", "eur", "--json", "--no-alternatives")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["currency"] == "EUR"
    assert [f["asked"] for f in payload["fx"]] == ["2026-03-02", "2026-03-03", "2026-03-07"]
    assert {f["kind"] for f in payload["fx"]} == {"published"}
    total = ledger(10 * PRICE / USD[MON]) + ledger(5 * PRICE / USD[TUE]) + ledger(PRICE / USD[FRI])
    assert D(payload["totals"]["EUR"]) == total
    assert payload["rows_unpriced"] == 1


def test_cli_replay_with_your_rate(log: Path, data: Path) -> None:
    result = cli("replay", log, data, "--currency", "EUR", "--fx", "EURUSD=1.25", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {(f["kind"], f["source"]) for f in payload["fx"]} == {("user", "user")}
    assert payload["rows_unpriced"] == 0


def test_cli_budget_in_gbp(tmp_path: Path, data: Path) -> None:
    log = budget_log(tmp_path)
    result = cli("budget", log, data, "--monthly", "20", "--currency", "GBP")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "GBP 4.42" in text  # spent
    assert "GBP 1.10" in text  # run rate
    assert "Exchange rates used" in text
    assert (
        "2026-03-31: 1 USD = 0.733333 GBP (planning rate: the latest ECB reference rate, of "
        "2026-03-03, held for 2026-03-31; an assumption" in text
    )
    assert "at the planning rate" in text
    payload = json.loads(
        cli("budget", log, data, "--monthly", "20", "--currency", "GBP", "--json").stdout
    )
    assert D(payload["spent"]) == D("4.4160919541")
    assert [f["kind"] for f in payload["fx"]] == ["published"] * 3 + ["planning"]


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("replay", ["--currency", "EURO"], "is not an ISO 4217 code"),
        ("replay", ["--currency", "XYZ"], "no exchange rate for XYZ"),
        ("replay", ["--currency", "EUR", "--fx", "EURUSD=nope"], "is not understood"),
        ("replay", ["--fx", "EURUSD=1.1"], "no --currency to convert into"),
        ("budget", ["--monthly", "5", "--currency", "GBP", "--fx", "GBPGBP=1"], "to itself"),
        ("budget", ["--monthly", "5", "--currency", "XYZ"], "no exchange rate for XYZ"),
    ],
)
def test_cli_bad_code_or_rate_is_one_error_line(
    log: Path, data: Path, command: str, args: list[str], message: str
) -> None:
    result = cli(command, log, data, *args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.stderr.split())
    assert text.startswith("error:")
    assert message in text
    assert "Traceback" not in result.output

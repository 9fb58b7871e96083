"""The plan and the headline of a simulation never rest on an option that misses a month.

A hand-built simulation of one segment over three months: option A is the cheapest in
January and February but has no price in March; option B costs $10 every month.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pricing._plan.frames import MONTHLY_SCHEMA, cheapest
from pricing._plan.simulate import Simulation
from pricing._plan.summary import headline, option_totals, plan_options

MONTHS = [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]


def _row(option: str, month: date, cost: float | None) -> dict[str, object]:
    return {
        "segment": "s",
        "option": option,
        "kind": "hosted",
        "mode": "api",
        "month": month,
        "images": 1000.0,
        "cost": cost,
        "cost_per_image": None if cost is None else cost / 1000,
        "cost_per_image_busy": None if cost is None else cost / 1000,
        "gpus": None,
        "utilisation": None,
        "keys_needed": None,
        "feasible": cost is not None,
        "reason": "no price in this month" if cost is None else None,
    }


def _simulation(a_costs: list[float | None]) -> Simulation:
    rows = [_row("api:a", m, c) for m, c in zip(MONTHS, a_costs, strict=True)]
    rows += [_row("api:b", m, 10.0) for m in MONTHS]
    monthly = pl.DataFrame(rows, schema=MONTHLY_SCHEMA)
    options = pl.DataFrame(
        {
            "segment": ["s", "s"],
            "option": ["api:a", "api:b"],
            "grade": ["official", "third-party"],
            "source_id": ["a-docs", "b-aggregator"],
            "shared_with": [None, None],
        },
        schema_overrides={"shared_with": pl.String},
    )
    return Simulation(
        workload="hand",
        currency="USD",
        as_of=date(2026, 12, 7),
        seed=None,
        samples=0,
        options=options,
        monthly=monthly,
        line_items=pl.DataFrame(),
        cheapest=cheapest(monthly),
    )


def test_the_plan_serves_every_month() -> None:
    sim = _simulation([4.0, 4.0, None])
    # A is the cheapest in 2 of 3 months, but cannot serve March: B ($30) is bought.
    assert plan_options(sim).rows() == [("s", "api:b")]
    totals = option_totals(sim).rows(named=True)
    assert [(r["option"], r["horizon_cost"], r["feasible"], r["reason"]) for r in totals] == [
        ("api:b", 30.0, True, None),
        ("api:a", None, False, "no price in this month"),  # never the partial sum $8
    ]
    row = headline(sim, {}).row(0, named=True)
    assert (row["option"], row["horizon"], row["first_month"]) == ("api:b", 30.0, 10.0)
    # the headline names the grade and source of the price it rests on
    assert (row["grade"], row["source_id"]) == ("third-party", "b-aggregator")


def test_an_option_serving_every_month_keeps_its_months() -> None:
    sim = _simulation([4.0, 4.0, 12.0])
    # A serves every month and is the cheapest in two: A, at 4 + 4 + 12 = $20.
    assert plan_options(sim).rows() == [("s", "api:a")]
    assert headline(sim, {}).row(0, named=True)["horizon"] == 20.0

"""``replay()`` on small usage logs written to ``tmp_path``, against synthetic catalogs.

Every expected cost is worked out by hand from the synthetic rates below (Decimal), never from
running the code. Each log row is one call; a quarantined row's line is its 1-based line in the
file: a CSV's header is line 1, so its first row is line 2, while NDJSON lines and Parquet rows
count from 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.io.plugins import register_io_source
from polars.testing import assert_frame_equal

import pricing
from pricing import Budget, PricingError, Replay, budget_status, replay
from tests.conftest import offer, version, write_data

#: acme serves m (generate $0.04, edit $0.06) and n twice (n-a $0.02, n-b $0.025);
#: beta serves m ($0.03) and no n. Only acme/m serves edits.
GEN = '["generate"]'
FLAT_CARDS = {
    "acme": offer(
        version(
            '{ unit = "image", price = 0.04, when = { operation = "generate" } }, '
            '{ unit = "image", price = 0.06, when = { operation = "edit" } }'
        ),
        offer_id="acme/m",
    )
    + offer(
        version('{ unit = "image", price = 0.02 }'), offer_id="acme/n-a", model="n", operations=GEN
    )
    + offer(
        version('{ unit = "image", price = 0.025 }'), offer_id="acme/n-b", model="n", operations=GEN
    ),
    "beta": offer(version('{ unit = "image", price = 0.03 }'), offer_id="beta/m", operations=GEN),
}
#: gamma: graduated tiers 0.04 then 0.03 from the 1001st image of the month;
#: delta: the same tiers, all-units.
TIER_CARDS = {
    "gamma": offer(
        version(
            '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 1000, price = 0.03 }] }"
        ),
        offer_id="gamma/m",
    ),
    "delta": offer(
        version(
            '{ unit = "image", tier_mode = "all-units", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 1000, price = 0.03 }] }"
        ),
        offer_id="delta/m",
    ),
}

D = Decimal
FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
AMBIGUOUS = (
    'acme serves n as acme/n-a, acme/n-b; add an offer_id column or pass offer_map={"acme/n": '
    '"<offer id>"}'
)


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    return pricing.load_catalog(write_data(tmp_path_factory.mktemp("replay-flat"), FLAT_CARDS))


@pytest.fixture(scope="module")
def tiered(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    return pricing.load_catalog(write_data(tmp_path_factory.mktemp("replay-tiers"), TIER_CARDS))


# --------------------------------------------------------------------------- writing logs


def write_log(path: Path, records: Sequence[dict[str, Any]]) -> Path:
    """Write ``records`` as CSV, Parquet or NDJSON by the suffix of ``path``."""
    columns = list(records[0])
    if path.suffix == ".csv":
        lines = [",".join(columns)]
        for r in records:
            lines.append(",".join("" if r[c] is None else str(r[c]) for c in columns))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif path.suffix == ".parquet":
        pl.DataFrame(list(records), infer_schema_length=None).write_parquet(path)
    elif path.suffix == ".ndjson":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    else:  # pragma: no cover - a typo in a test
        raise AssertionError(path)
    return path


def call(
    timestamp: str | None,
    provider: str | None = "acme",
    model: str | None = "m",
    *,
    offer_id: str | None = None,
    operation: str | None = "generate",
    width: Any = 1024,
    height: Any = 1024,
    count: Any = 1,
    billed_cost: Any = None,
) -> dict[str, Any]:
    return {
        "timestamp": timestamp,
        "provider": provider,
        "model": model,
        "offer_id": offer_id,
        "operation": operation,
        "width": width,
        "height": height,
        "count": count,
        "billed_cost": billed_cost,
    }


#: Six good calls, hand-priced (USD):
#:   1 Feb 10, acme m generate x2  = 0.08        4 Mar 6 (no offset), beta m x5 = 0.15
#:   2 Feb 28 23:30 UTC, acme m x1 = 0.04        5 Mar 7 (date only), acme m x1 = 0.04
#:   3 Mar 5, acme m edit x3       = 0.18        6 Mar 31, acme/n-b x4         = 0.10
GOOD = [
    call("2026-02-10T10:00:00Z", count=2, billed_cost=0.10),
    call("2026-03-01T01:30:00+02:00", billed_cost=0.04),
    call("2026-03-05T12:00:00Z", operation="edit", count=3, billed_cost=0.18),
    call("2026-03-06T12:00:00", "beta", count=5, billed_cost=0.16),
    call("2026-03-07", billed_cost=0.04),
    call("2026-03-31T23:59:59Z", "acme", "n", offer_id="acme/n-b", count=4, billed_cost=0.10),
]
#: Rows every format can hold that must be quarantined: (row, reason, offending value); the
#: row is the line in an NDJSON or Parquet log, one line before it in a CSV (its header).
BAD = [
    call("not a time"),
    call("2026-03-08T10:00:00Z", "nobody"),
    call("2026-03-08T10:00:00Z", width=0),
    call("2026-02-08T10:00:00Z", width=-5),
    call("2026-03-08T10:00:00Z", model=None),
    call("2026-03-08T10:00:00Z", "acme", "n"),
    call("2026-03-08T10:00:00Z", "beta", "n"),
    call("2026-03-08T10:00:00Z", "acme", "zzz"),
    call("2026-03-08T10:00:00Z", operation="paint"),
    call("2026-03-09T10:00:00Z", "nobody"),
]
BAD_REASONS = [
    (7, "unparseable timestamp", "not a time"),
    (8, "unknown provider", "nobody"),
    (9, "zero or negative width", "0"),
    (10, "zero or negative width", "-5"),
    (11, "missing model", None),
    (12, AMBIGUOUS, "acme/n"),
    (13, "the provider has no offer for the model", "beta/n"),
    (14, "unknown model", "zzz"),
    (15, "unknown operation", "paint"),
    (16, "unknown provider", "nobody"),
]
LOG = [*GOOD, *BAD]


def costs_table(result: Replay) -> dict[tuple[Any, ...], tuple[int, int, Decimal | None, int]]:
    return {
        (r["month"], r["provider"], r["model"], r["operation"], r["offer_id"], r["currency"]): (
            r["requests"],
            r["images"],
            r["cost"],
            r["unpriced"],
        )
        for r in result.costs.iter_rows(named=True)
    }


GOOD_COSTS = {
    (FEB, "acme", "m", "generate", "acme/m", "USD"): (2, 3, D("0.12"), 0),
    (MAR, "acme", "m", "edit", "acme/m", "USD"): (1, 3, D("0.18"), 0),
    (MAR, "acme", "m", "generate", "acme/m", "USD"): (1, 1, D("0.04"), 0),
    (MAR, "beta", "m", "generate", "beta/m", "USD"): (1, 5, D("0.15"), 0),
    (MAR, "acme", "n", "generate", "acme/n-b", "USD"): (1, 4, D("0.10"), 0),
}


def in_csv(reasons: list[tuple[int, str, str | None]]) -> list[tuple[int, str, str | None]]:
    """``reasons`` of rows 1, 2... at their lines in a CSV log: one further down (the header)."""
    return [(row + 1, reason, value) for row, reason, value in reasons]


def why(result: Replay) -> list[tuple[int, str, str | None]]:
    """(line, reason, offending value) of each quarantined row."""
    return [tuple(r) for r in result.quarantine.select("line", "reason", "value").rows()]


def balanced(result: Replay) -> None:
    assert result.rows_read == result.rows_priced + result.rows_unpriced + result.rows_quarantined


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".ndjson"])
def test_costs_and_quarantine_in_every_format(
    flat: pricing.Catalog, tmp_path: Path, suffix: str
) -> None:
    path = write_log(tmp_path / f"usage{suffix}", LOG)
    result = replay(path, catalog=flat)
    assert costs_table(result) == GOOD_COSTS
    assert result.costs["cost"].dtype == pl.Decimal(38, 10)
    assert result.total() == {"USD": D("0.59")}
    assert why(result) == (in_csv(BAD_REASONS) if suffix == ".csv" else BAD_REASONS)
    assert result.quarantine.columns == ["line", "reason", "value", *LOG[0]]
    assert result.quarantine["provider"].to_list()[1] == "nobody"
    assert (result.rows_read, result.rows_priced) == (16, 6)
    assert (result.rows_unpriced, result.rows_quarantined) == (0, 10)
    balanced(result)
    assert result.months == ("2026-02", "2026-03")
    assert result.source == str(path)


def test_quarantine_counts_by_reason(flat: pricing.Catalog, tmp_path: Path) -> None:
    result = replay(write_log(tmp_path / "usage.csv", LOG), catalog=flat)
    counts = result.quarantine_counts
    assert counts.columns == ["reason", "rows"]
    twice = ["unknown provider", "zero or negative width"]
    assert counts.rows()[:2] == [(twice[0], 2), (twice[1], 2)]  # most frequent first, by name
    assert dict(counts.rows()) == {
        **{reason: 1 for _, reason, _ in BAD_REASONS if reason not in twice},
        **dict.fromkeys(twice, 2),
    }
    assert int(counts["rows"].sum()) == result.rows_quarantined == 10


def test_csv_text_that_does_not_parse_is_quarantined(flat: pricing.Catalog, tmp_path: Path) -> None:
    log = [
        call("2026-03-02T10:00:00Z"),  # good: 0.04
        call("2026-03-02T10:00:00Z", width="abc"),
        call("2026-03-02T10:00:00Z", count="1.5"),
        call("2026-03-02T10:00:00Z", height=None),
        call("2026-03-02T10:00:00Z", provider=None),
        call(None),
        call("2026-03-02T10:00:00Z", offer_id="acme/zzz"),
        call("2026-03-02T10:00:00Z", billed_cost="lots"),
        call("2026-03-02T10:00:00Z", count=-2),
        call("2026-03-02T10:00:00Z", "acme", "n", offer_id="acme/n-a", count=2),  # good: 0.04
    ]
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=flat)
    assert why(result) == in_csv(
        [
            (2, "width is not a whole number", "abc"),
            (3, "count is not a whole number", "1.5"),
            (4, "missing height", None),
            (5, "missing provider", None),
            (6, "unparseable timestamp", "(empty)"),
            (7, "unknown offer_id", "acme/zzz"),
            (8, "billed_cost is not a number", "lots"),
            (9, "zero or negative count", "-2"),
        ]
    )
    assert result.total() == {"USD": D("0.08")}
    assert (result.rows_read, result.rows_priced, result.rows_quarantined) == (10, 2, 8)
    balanced(result)


def test_number_columns_typed_as_numbers_or_text_are_checked_alike(
    flat: pricing.Catalog, tmp_path: Path
) -> None:
    # Parquet keeps types: height is integers with a null, billed_cost all null (no type of
    # its own), count text with a blank cell. A null is missing, and so is a blank text cell.
    log = [
        call("2026-03-02T10:00:00Z"),  # good: 0.04
        call("2026-03-02T10:00:00Z", height=None),
        call("2026-03-02T10:00:00Z", count="  "),
        call("2026-03-02T10:00:00Z", count="2"),  # good: 0.08
    ]
    for row in log:
        row["count"] = None if row["count"] is None else str(row["count"])
    path = write_log(tmp_path / "usage.parquet", log)
    schema = pl.read_parquet_schema(path)
    assert schema["height"] == pl.Int64
    assert schema["count"] == pl.String
    assert schema["billed_cost"] == pl.Null
    result = replay(path, catalog=flat)
    assert why(result) == [(2, "missing height", None), (3, "missing count", None)]
    assert result.total() == {"USD": D("0.12")}
    assert (result.rows_read, result.rows_priced, result.rows_quarantined) == (4, 2, 2)
    balanced(result)


def test_unpriced_rows_are_counted_not_priced_as_zero(
    flat: pricing.Catalog, tmp_path: Path
) -> None:
    log = [
        call("2026-03-02T10:00:00Z", "beta", billed_cost=0.03),  # 0.03
        call("2026-03-03T10:00:00Z", "beta", operation="edit", billed_cost=0.05),  # not served
        call("2026-03-04T10:00:00Z", "beta", operation="edit", billed_cost=0.05),
    ]
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=flat)
    reason = "beta/m does not serve that operation; it serves generate"
    assert result.unpriced.rows() == [(reason, 2)]
    groups = costs_table(result)
    assert groups[(MAR, "beta", "m", "generate", "beta/m", "USD")] == (1, 1, D("0.03"), 0)
    # no call of the group has a price: its cost is unknown (null), never 0
    assert groups[(MAR, "beta", "m", "edit", "beta/m", "USD")] == (2, 0, None, 2)
    assert result.total() == {"USD": D("0.03")}
    assert (result.rows_read, result.rows_priced, result.rows_unpriced) == (3, 1, 2)
    balanced(result)
    assert result.reconciliation is not None
    assert result.reconciliation.select(
        "month", "provider", "billed", "computed", "billed_unpriced", "rows_unpriced", "variance"
    ).rows() == [(MAR, "beta", D("0.03"), D("0.03"), D("0.10"), 2, D(0))]


# --------------------------------------------------------------------------- offers


def test_offer_map_resolves_a_provider_with_several_offers(
    flat: pricing.Catalog, tmp_path: Path
) -> None:
    path = write_log(tmp_path / "usage.csv", LOG)
    result = replay(path, catalog=flat, offer_map={"acme/n": "acme/n-a"})
    # row 12 (acme n, 1 image on Mar 8; line 13 of the CSV) is now priced on acme/n-a at 0.02
    assert 13 not in result.quarantine["line"].to_list()
    assert costs_table(result)[(MAR, "acme", "n", "generate", "acme/n-a", "USD")] == (
        1,
        1,
        D("0.02"),
        0,
    )
    assert result.total() == {"USD": D("0.61")}
    assert (result.rows_priced, result.rows_quarantined) == (7, 9)
    balanced(result)


def test_a_log_of_offer_ids_needs_no_provider_or_model(
    flat: pricing.Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(
        "timestamp,offer_id,count\n"
        "2026-03-02T10:00:00Z,acme/n-a,3\n"
        "2026-03-02T10:00:00Z,beta/m,2\n"
        "2026-03-02T10:00:00Z,,1\n",
        encoding="utf-8",
    )
    result = replay(path, catalog=flat)
    assert costs_table(result) == {
        (MAR, "acme", "n", "generate", "acme/n-a", "USD"): (1, 3, D("0.06"), 0),
        (MAR, "beta", "m", "generate", "beta/m", "USD"): (1, 2, D("0.06"), 0),
    }
    assert why(result) == [(4, "missing offer_id", None)]  # line 4: the header is line 1
    balanced(result)


def test_an_offer_id_with_a_blank_model_is_priced_on_that_offer(
    flat: pricing.Catalog, tmp_path: Path
) -> None:
    """A row naming its offer_id needs no model (the checks skip "missing model" for it)."""
    log = [
        call("2026-03-02T10:00:00Z", "acme", None, offer_id="acme/n-a", count=3),
        call("2026-03-02T10:00:00Z", "acme", "m", count=1),
    ]
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=flat)
    assert result.quarantine.height == 0
    assert result.unpriced.height == 0, result.unpriced
    assert result.total() == {"USD": D("0.10")}  # 3 x 0.02 + 0.04


def test_offer_map_errors(flat: pricing.Catalog, tmp_path: Path) -> None:
    path = write_log(tmp_path / "usage.csv", GOOD)
    with pytest.raises(PricingError, match="unknown offer 'acme/n-c'"):
        replay(path, catalog=flat, offer_map={"acme/n": "acme/n-c"})
    with pytest.raises(PricingError, match='offer_map keys are "provider/model"'):
        replay(path, catalog=flat, offer_map={"acme": "acme/n-a"})


def test_notes_name_ambiguous_providers_the_log_uses(flat: pricing.Catalog, tmp_path: Path) -> None:
    # acme serves n as two offers; GOOD names the offer of its acme/n call, so needs no note
    assert replay(write_log(tmp_path / "good.csv", GOOD), catalog=flat).notes == ()
    log = [*GOOD, call("2026-03-09T10:00:00Z", "acme", "n")]
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=flat)
    assert result.notes == (
        "providers with several offers of one model need an offer_id column or offer_map: acme/n",
    )
    assert result.quarantine["reason"].to_list() == [
        "acme serves n as acme/n-a, acme/n-b; add an offer_id column or pass "
        'offer_map={"acme/n": "<offer id>"}'
    ]


# --------------------------------------------------------------------------- reading


def test_mapping_renames_columns(flat: pricing.Catalog, tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(
        "ts,vendor,model_name,n\n2026-03-02T10:00:00Z,acme,m,2\n2026-03-02T11:00:00Z,beta,m,1\n",
        encoding="utf-8",
    )
    mapping = {"ts": "timestamp", "vendor": "provider", "model_name": "model", "n": "count"}
    result = replay(path, catalog=flat, mapping=mapping)
    assert costs_table(result) == {
        (MAR, "acme", "m", "generate", "acme/m", "USD"): (1, 2, D("0.08"), 0),
        (MAR, "beta", "m", "generate", "beta/m", "USD"): (1, 1, D("0.03"), 0),
    }


def test_mapping_and_column_errors(flat: pricing.Catalog, tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text("ts,provider,model\n2026-03-02T10:00:00Z,acme,m\n", encoding="utf-8")
    with pytest.raises(PricingError, match="mapping names columns the log does not have: nope"):
        replay(path, catalog=flat, mapping={"nope": "timestamp"})
    with pytest.raises(PricingError, match="mapping targets time are not log columns"):
        replay(path, catalog=flat, mapping={"ts": "time"})
    with pytest.raises(PricingError, match="the log has no timestamp column"):
        replay(path, catalog=flat)
    with pytest.raises(PricingError, match="does not exist"):
        replay(tmp_path / "missing.csv", catalog=flat)
    odd = tmp_path / "usage.xlsx"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(PricingError, match=r"cannot tell the format of usage\.xlsx"):
        replay(odd, catalog=flat)


def test_timestamps_offsets_and_dates(flat: pricing.Catalog, tmp_path: Path) -> None:
    log = [
        call("2026-03-31T23:30:00Z"),  # March
        call("2026-04-01T01:30:00+02:00"),  # 23:30 UTC on March 31
        call("2026-04-01T00:30:00"),  # no offset: UTC, April
        call("2026-04-02"),  # a date: April
        call("2026-04-03 08:00:00+00:00"),  # space instead of T
        call("2026-04-04T08:00:00.250+0000"),  # fractions of a second, offset without colon
    ]
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=flat)
    assert result.quarantine.height == 0
    assert result.by("month").select("month", "requests", "cost").rows() == [
        (MAR, 2, D("0.08")),
        (APR, 4, D("0.16")),
    ]
    assert result.months == ("2026-03", "2026-04")


def test_iso_times_without_seconds(flat: pricing.Catalog, tmp_path: Path) -> None:
    """LOG_COLUMNS: timestamp is an "ISO 8601 time"; hh:mm (reduced precision) is one."""
    log = [call("2026-03-02T10:00Z"), call("2026-03-02T10:00+02:00"), call("2026-03-02T10:00")]
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=flat)
    assert why(result) == []
    assert result.total() == {"USD": D("0.12")}


def test_parquet_datetimes_keep_their_zone(flat: pricing.Catalog, tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "timestamp": ["2026-03-01 00:30", "2026-03-01 10:00"],
            "provider": ["acme", "acme"],
            "model": ["m", "m"],
        }
    ).with_columns(pl.col("timestamp").str.to_datetime().dt.replace_time_zone("Europe/Berlin"))
    path = tmp_path / "usage.parquet"
    frame.write_parquet(path)
    result = replay(path, catalog=flat)
    # 00:30 in Berlin on March 1 is 23:30 UTC on February 28
    assert result.by("month").select("month", "requests").rows() == [(FEB, 1), (MAR, 1)]
    naive = tmp_path / "naive.parquet"
    frame.with_columns(pl.col("timestamp").dt.replace_time_zone(None)).write_parquet(naive)
    result = replay(naive, catalog=flat)  # taken as UTC: both in March
    assert result.by("month").select("month", "requests").rows() == [(MAR, 2)]


def test_a_data_frame_log(flat: pricing.Catalog) -> None:
    frame = pl.DataFrame(
        {
            "timestamp": [datetime(2026, 3, 2, 10, tzinfo=UTC)],
            "provider": ["beta"],
            "model": ["m"],
            "count": [3],
        }
    )
    result = replay(frame, catalog=flat)
    assert result.total() == {"USD": D("0.09")}
    assert result.source == "DataFrame"


# --------------------------------------------------------------------------- summaries


def test_total_and_by(flat: pricing.Catalog, tmp_path: Path) -> None:
    result = replay(write_log(tmp_path / "usage.csv", LOG), catalog=flat)
    assert result.total() == {"USD": sum(result.costs["cost"].to_list(), D(0))}
    assert result.by("month").select("month", "currency", "requests", "images", "cost").rows() == [
        (FEB, "USD", 2, 3, D("0.12")),
        (MAR, "USD", 4, 13, D("0.47")),
    ]
    assert result.by("provider").select("provider", "cost").rows() == [
        ("acme", D("0.44")),
        ("beta", D("0.15")),
    ]
    assert result.by("model", "operation").select("model", "operation", "cost").rows() == [
        ("m", "edit", D("0.18")),
        ("m", "generate", D("0.31")),
        ("n", "generate", D("0.10")),
    ]


def alt_table(result: Replay) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {
        (r["month"], r["model"], r["offer_id"]): (
            r["requests"],
            r["cost"],
            r["unpriced"],
            r["actual_cost"],
            r["saving"],
        )
        for r in result.alternatives.iter_rows(named=True)
    }


def test_alternatives_default_to_every_offer_of_the_model(
    flat: pricing.Catalog, tmp_path: Path
) -> None:
    result = replay(write_log(tmp_path / "usage.csv", LOG), catalog=flat)
    assert alt_table(result) == {
        # February, m: rows 1-2 (3 images)
        (FEB, "m", "acme/m"): (2, D("0.12"), 0, D("0.12"), D(0)),
        (FEB, "m", "beta/m"): (2, D("0.09"), 0, D("0.12"), D("0.03")),
        # March, m: edit x3, beta x5, acme x1; beta/m does not serve the edit
        (MAR, "m", "acme/m"): (3, D("0.42"), 0, D("0.37"), D("-0.05")),
        (MAR, "m", "beta/m"): (3, D("0.18"), 1, D("0.19"), D("0.01")),
        # March, n: 4 images
        (MAR, "n", "acme/n-a"): (1, D("0.08"), 0, D("0.10"), D("0.02")),
        (MAR, "n", "acme/n-b"): (1, D("0.10"), 0, D("0.10"), D(0)),
    }
    pct = {
        (r["month"], r["offer_id"]): r["saving_pct"]
        for r in result.alternatives.iter_rows(named=True)
    }
    assert pct[(FEB, "beta/m")] == pytest.approx(25.0)
    assert pct[(MAR, "acme/n-a")] == pytest.approx(20.0)
    assert pct[(MAR, "acme/m")] == pytest.approx(-0.05 / 0.37 * 100)


def test_alternatives_against_substitutes(flat: pricing.Catalog, tmp_path: Path) -> None:
    result = replay(write_log(tmp_path / "usage.csv", LOG), catalog=flat, against=["acme/n-a"])
    # every row re-priced at 0.02 an image, whatever its model; acme/n-a serves no edits, so
    # March m compares rows 4-5 only: actual 0.15 + 0.04 against 0.10 + 0.02
    assert alt_table(result) == {
        (FEB, "m", "acme/n-a"): (2, D("0.06"), 0, D("0.12"), D("0.06")),
        (MAR, "m", "acme/n-a"): (3, D("0.12"), 1, D("0.19"), D("0.07")),
        (MAR, "n", "acme/n-a"): (1, D("0.08"), 0, D("0.10"), D("0.02")),
    }
    assert result.alternatives["saving_pct"][0] == pytest.approx(50.0)
    with pytest.raises(PricingError, match="unknown offer 'acme/q'"):
        replay(write_log(tmp_path / "usage.csv", LOG), catalog=flat, against=["acme/q"])


def test_alternatives_priced_by_shape_equal_every_row_priced(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Calls are re-priced on offers without running volumes once per request shape and day,
    # weighed by their number, and row by row on tiered offers: the same sums, to the last
    # place, as pricing every row on every alternative (repeated shapes, several accounts and
    # days, edits, sizes, tiers crossed within a month).
    cat = pricing.load_catalog(
        write_data(tmp_path_factory.mktemp("replay-shapes"), {**FLAT_CARDS, **TIER_CARDS})
    )
    rows = [
        {
            "timestamp": datetime(2026, 3 + i % 2, 1 + i % 28, i % 24, tzinfo=UTC),
            "offer_id": ["acme/m", "beta/m", "gamma/m", "acme/n-a", "acme/n-b"][i % 5],
            "account": f"a{i % 3}",
            "operation": "edit" if i % 5 == 0 and i % 7 == 0 else "generate",
            "width": 512 if i % 9 == 0 else 1024,
            "height": 1024,
            "count": 1 + i % 4 * 100,
        }
        for i in range(400)
    ]
    log = pl.DataFrame(rows)
    result = replay(log, catalog=cat, batch_rows=150)
    offers = {o.id: o.model for _, o in cat.all_offers()}
    logged = pricing.price_requests(log, cat)
    parts = []
    for alt, model in offers.items():
        mine = logged.filter(pl.col("offer_id").is_in([o for o, m in offers.items() if m == model]))
        again = pricing.price_requests(mine.select(log.columns).drop("offer_id"), cat, offers=[alt])
        parts.append(again.with_columns(model=pl.lit(model), _actual=mine["cost"]))
    cost = pl.col("cost").round(10).cast(pl.Decimal(38, 10))
    both = pl.col("reason").is_null() & pl.col("_actual").is_not_null()
    expected = (
        pl.concat(parts, how="diagonal_relaxed")
        .group_by(
            pl.col("priced_on").dt.truncate("1mo").alias("month"),
            "model",
            pl.col("offer_id").cast(pl.String),
        )
        .agg(
            requests=pl.len(),
            images=pl.col("count").filter(pl.col("reason").is_null()).sum(),
            cost=cost.sum(),
            unpriced=pl.col("reason").is_not_null().sum(),
            actual_cost=pl.col("_actual").round(10).cast(pl.Decimal(38, 10)).filter(both).sum(),
            alt_cost_same_rows=cost.filter(both).sum(),
        )
    )
    got = result.alternatives.select(expected.columns)
    keys = ["month", "model", "offer_id"]
    assert got.height == expected.height == 2 * (4 + 2)  # March and April, m and n
    assert_frame_equal(got.sort(keys), expected.sort(keys), check_dtypes=False)


def test_alternatives_can_be_skipped(flat: pricing.Catalog, tmp_path: Path) -> None:
    result = replay(write_log(tmp_path / "usage.csv", LOG), catalog=flat, alternatives=False)
    assert result.alternatives.height == 0
    assert result.total() == {"USD": D("0.59")}


def test_reconciliation_against_billed_cost(flat: pricing.Catalog, tmp_path: Path) -> None:
    result = replay(write_log(tmp_path / "usage.csv", LOG), catalog=flat)
    assert result.reconciliation is not None
    rec = result.reconciliation
    assert rec.select(
        "month", "provider", "currency", "billed", "computed", "variance", "rows_unpriced"
    ).rows() == [
        (FEB, "acme", "USD", D("0.14"), D("0.12"), D("0.02"), 0),
        (MAR, "acme", "USD", D("0.32"), D("0.32"), D(0), 0),
        (MAR, "beta", "USD", D("0.16"), D("0.15"), D("0.01"), 0),
    ]
    assert rec["variance_pct"].to_list() == [
        pytest.approx(0.02 / 0.12 * 100),
        pytest.approx(0.0),
        pytest.approx(0.01 / 0.15 * 100),
    ]


def test_no_billed_cost_no_reconciliation(flat: pricing.Catalog, tmp_path: Path) -> None:
    log = [{k: v for k, v in r.items() if k != "billed_cost"} for r in GOOD]
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=flat)
    assert result.reconciliation is None


# --------------------------------------------------------------------------- months and batches


def test_month_filter(flat: pricing.Catalog, tmp_path: Path) -> None:
    result = replay(write_log(tmp_path / "usage.csv", LOG), catalog=flat, month="2026-03")
    assert costs_table(result) == {k: v for k, v in GOOD_COSTS.items() if k[0] == MAR}
    assert result.total() == {"USD": D("0.47")}
    # rows of other months are not read; an unreadable timestamp cannot be placed, so it stays
    lines = [line for line, _, _ in in_csv(BAD_REASONS) if line != 11]
    assert result.quarantine["line"].to_list() == lines
    assert result.rows_read == 4 + len(lines)
    balanced(result)
    assert result.months == ("2026-03",)
    with pytest.raises(PricingError, match="is not YYYY-MM"):
        replay(tmp_path / "usage.csv", catalog=flat, month="2026-13")


def frames(result: Replay) -> list[pl.DataFrame | None]:
    return [
        result.costs,
        result.alternatives,
        result.reconciliation,
        result.quarantine,
        result.unpriced,
        result.days,
    ]


def test_small_batches_give_the_same_results(flat: pricing.Catalog, tmp_path: Path) -> None:
    path = write_log(tmp_path / "usage.csv", LOG)
    whole = replay(path, catalog=flat)
    calls: list[tuple[int, int, str]] = []
    batched = replay(
        path, catalog=flat, batch_rows=3, progress=lambda *a: calls.append((a[0], a[1], a[2]))
    )
    for a, b in zip(frames(whole), frames(batched), strict=True):
        assert a is not None
        assert b is not None
        assert_frame_equal(a, b)
    assert (whole.rows_read, whole.rows_priced) == (batched.rows_read, batched.rows_priced)
    # progress: rows done so far, of the 6 readable rows, rising to the total
    done = [d for d, _, _ in calls]
    assert done == sorted(set(done))
    assert done[-1] == 6
    assert {(t, label) for _, t, label in calls} == {(6, "rows")}
    assert len(calls) >= 2


TIER_LOG = [
    call("2026-03-20T10:00:00Z", "gamma", count=600),
    call("2026-03-02T10:00:00Z", "gamma", count=600),
    call("2026-04-01T10:00:00Z", "gamma", count=600),
    call("2026-03-10T10:00:00Z", "gamma", count=600),
]


@pytest.mark.parametrize("batch_rows", [2, 500_000])
def test_tiers_over_whole_months(tiered: pricing.Catalog, tmp_path: Path, batch_rows: int) -> None:
    calls: list[tuple[int, int, str]] = []
    result = replay(
        write_log(tmp_path / "usage.csv", TIER_LOG),
        catalog=tiered,
        batch_rows=batch_rows,
        progress=lambda *a: calls.append((a[0], a[1], a[2])),
    )
    # March in time order: 600 x 0.04; 400 x 0.04 + 200 x 0.03; 600 x 0.03. April: 600 x 0.04
    assert costs_table(result) == {
        (MAR, "gamma", "m", "generate", "gamma/m", "USD"): (3, 1800, D("64.00"), 0),
        (APR, "gamma", "m", "generate", "gamma/m", "USD"): (1, 600, D("24.00"), 0),
    }
    # one call per whole month, done rising to the total (rows or months, as the engine counts)
    assert [label for _, _, label in calls] == ["2026-03", "2026-04"]
    done = [d for d, _, _ in calls]
    assert done == sorted(set(done))
    assert {t for _, t, _ in calls} == {done[-1]}
    # all-units on delta: March 600 x 0.04, then 600 x 0.03 twice (positions reach 1000)
    assert alt_table(result) == {
        (MAR, "m", "delta/m"): (3, D("60.00"), 0, D("64.00"), D("4.00")),
        (MAR, "m", "gamma/m"): (3, D("64.00"), 0, D("64.00"), D(0)),
        (APR, "m", "delta/m"): (1, D("24.00"), 0, D("24.00"), D(0)),
        (APR, "m", "gamma/m"): (1, D("24.00"), 0, D("24.00"), D(0)),
    }


MIXED_LOG = [
    call("2026-03-20T10:00:00Z", "gamma", count=600),
    call("2026-03-06T10:00:00Z", "beta", count=5),
    call("2026-03-02T10:00:00Z", "gamma", count=600),
    call("2026-03-31T10:00:00Z", "acme", "n", offer_id="acme/n-b", count=4),
    call("2026-04-01T10:00:00Z", "gamma", count=600),
    call("2026-03-10T10:00:00Z", "gamma", count=600),
]


@pytest.mark.parametrize("batch_rows", [2, 500_000])
def test_flat_and_tiered_offers_in_one_log(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, batch_rows: int
) -> None:
    cat = pricing.load_catalog(
        write_data(tmp_path_factory.mktemp("replay-mixed"), {**FLAT_CARDS, **TIER_CARDS})
    )
    result = replay(
        write_log(tmp_path / "usage.csv", MIXED_LOG), catalog=cat, batch_rows=batch_rows
    )
    assert costs_table(result) == {
        (MAR, "gamma", "m", "generate", "gamma/m", "USD"): (3, 1800, D("64.00"), 0),
        (APR, "gamma", "m", "generate", "gamma/m", "USD"): (1, 600, D("24.00"), 0),
        (MAR, "beta", "m", "generate", "beta/m", "USD"): (1, 5, D("0.15"), 0),
        (MAR, "acme", "n", "generate", "acme/n-b", "USD"): (1, 4, D("0.10"), 0),
    }
    # Re-priced, March's m rows share one running volume on each alternative, in time order:
    # Mar 2 600, Mar 6 5, Mar 10 600, Mar 20 600 (1805 images; actual 64.00 + 0.15)
    #   acme/m 1805 x 0.04; beta/m 1805 x 0.03;
    #   gamma/m 24 + 0.20 + (395 x 0.04 + 205 x 0.03) + 18 = 64.15;
    #   delta/m (all-units) 24 + 0.20 + 18 + 18 = 60.20
    assert alt_table(result) == {
        (MAR, "m", "acme/m"): (4, D("72.20"), 0, D("64.15"), D("-8.05")),
        (MAR, "m", "beta/m"): (4, D("54.15"), 0, D("64.15"), D("10.00")),
        (MAR, "m", "gamma/m"): (4, D("64.15"), 0, D("64.15"), D(0)),
        (MAR, "m", "delta/m"): (4, D("60.20"), 0, D("64.15"), D("3.95")),
        (APR, "m", "acme/m"): (1, D("24.00"), 0, D("24.00"), D(0)),
        (APR, "m", "beta/m"): (1, D("18.00"), 0, D("24.00"), D("6.00")),
        (APR, "m", "gamma/m"): (1, D("24.00"), 0, D("24.00"), D(0)),
        (APR, "m", "delta/m"): (1, D("24.00"), 0, D("24.00"), D(0)),
        (MAR, "n", "acme/n-a"): (1, D("0.08"), 0, D("0.10"), D("0.02")),
        (MAR, "n", "acme/n-b"): (1, D("0.10"), 0, D("0.10"), D(0)),
    }
    balanced(result)


@pytest.mark.parametrize("batch_rows", [1, 500_000])  # 1: a month split by account
def test_tiers_run_per_account(tiered: pricing.Catalog, tmp_path: Path, batch_rows: int) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(
        "timestamp,provider,model,count,account\n"
        "2026-03-02T10:00:00Z,gamma,m,600,a\n"
        "2026-03-03T10:00:00Z,gamma,m,600,b\n"
        "2026-03-04T10:00:00Z,gamma,m,600,a\n"
        "2026-03-05T10:00:00Z,gamma,m,600,\n",
        encoding="utf-8",
    )
    result = replay(path, catalog=tiered, batch_rows=batch_rows)
    # a: 600 x 0.04 + (400 x 0.04 + 200 x 0.03); b: 600 x 0.04; no account ("default"): 600 x 0.04
    assert result.total() == {"USD": D("94.00")}
    # all-units: a: 600 x 0.04 + 600 x 0.03; b and default: 600 x 0.04 each
    assert alt_table(result)[(MAR, "m", "delta/m")] == (4, D("90.00"), 0, D("94.00"), D("4.00"))


@pytest.mark.parametrize("body", ["", "not a time,acme,m\n"])
def test_logs_with_nothing_to_price(flat: pricing.Catalog, tmp_path: Path, body: str) -> None:
    path = tmp_path / "usage.csv"
    path.write_text("timestamp,provider,model\n" + body, encoding="utf-8")
    calls: list[tuple[int, int, str]] = []
    result = replay(path, catalog=flat, progress=lambda *a: calls.append((a[0], a[1], a[2])))
    assert result.total() == {}
    assert result.costs.height == 0
    assert result.rows_priced == 0
    assert result.rows_read == result.rows_quarantined == (1 if body else 0)
    assert calls == [(0, 0, "rows")]


# --------------------------------------------------------------------------- days and summaries

V, S = "2026-01-01/acme-docs", "acme-docs"  # every synthetic offer's price version, source


def test_days_sum_each_day_and_price_and_make_the_months(
    flat: pricing.Catalog, tmp_path: Path
) -> None:
    # GOOD, and a March 6 edit on beta/m, which serves generate only: no price
    log = [*GOOD, call("2026-03-06T15:00:00Z", "beta", operation="edit", count=2)]
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=flat, batch_rows=2)
    days = result.days.drop("reason").rows()
    acme, beta, n_b = ("acme", "m"), ("beta", "m"), ("acme", "n")
    assert days == [  # day, provider, model, operation, offer, version, source, currency, sums
        (date(2026, 2, 10), *acme, "generate", "acme/m", V, S, "USD", 1, 2, D("0.08"), 0),
        # 01:30 at +02:00 on March 1 is 23:30 UTC on February 28
        (date(2026, 2, 28), *acme, "generate", "acme/m", V, S, "USD", 1, 1, D("0.04"), 0),
        (date(2026, 3, 5), *acme, "edit", "acme/m", V, S, "USD", 1, 3, D("0.18"), 0),
        (date(2026, 3, 6), *beta, "edit", "beta/m", V, S, "USD", 1, 2, None, 0),
        (date(2026, 3, 6), *beta, "generate", "beta/m", V, S, "USD", 1, 5, D("0.15"), 0),
        (date(2026, 3, 7), *acme, "generate", "acme/m", V, S, "USD", 1, 1, D("0.04"), 0),
        (date(2026, 3, 31), *n_b, "generate", "acme/n-b", V, S, "USD", 1, 4, D("0.10"), 0),
    ]
    assert result.days["reason"].is_null().to_list() == [True] * 3 + [False] + [True] * 3
    # the months are the days added up; the unpriced edit has no cost (never 0)
    assert costs_table(result) == {
        **GOOD_COSTS,
        (MAR, "beta", "m", "edit", "beta/m", "USD"): (1, 0, None, 1),
    }


def test_summaries_of_a_replay(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    cat = pricing.load_catalog(
        write_data(tmp_path_factory.mktemp("replay-sums"), {**FLAT_CARDS, **TIER_CARDS})
    )
    log = [*MIXED_LOG, call("2026-03-09T10:00:00Z", "beta", operation="edit")]  # no price
    result = replay(write_log(tmp_path / "usage.csv", log), catalog=cat, batch_rows=2)
    # 64.00 + 24.00 (gamma) + 0.15 (beta) + 0.10 (acme/n-b); the beta edit is unpriced
    assert result.totals() == {"USD": D("88.25")}
    shown = result.costs_shown().filter(pl.col("operation") == "edit").row(0, named=True)
    assert (shown["requests"], shown["unpriced"], shown["cost"]) == (1, 1, None)
    # MIXED_LOG's alternatives (test_flat_and_tiered_offers_in_one_log) over March and April,
    # with the 1-image edit of March 9 (after the 605 images of March 2 and 6). The saving is
    # on the calls priced both as logged and on the offer: the edit is not one of them, so
    # the actual cost is 64.15 + 24.00 = 88.15 everywhere. Cheapest first, beta/m last: it
    # serves no edit and leaves that call unpriced.
    by_model = result.alternatives_by_model()
    rows = by_model.select("model", "offer_id", "cost", "unpriced", "actual_cost", "saving")
    assert rows.rows() == [
        # all-units: 600 x 0.04 + 5 x 0.04 + 1 x 0.04 + 600 x 0.03 x 2; April 600 x 0.04
        ("m", "delta/m", D("84.24"), 0, D("88.15"), D("3.95")),  # 88.15 - (84.24 - 0.04)
        # graduated: 24 + 0.20 + 0.04 + (394 x 0.04 + 206 x 0.03) + 18; April 24: the edit
        # moved the tier boundary by one image, so the same other calls cost 88.14 here
        ("m", "gamma/m", D("88.18"), 0, D("88.15"), D("0.01")),
        # 1805 x 0.04 + 0.06 (the edit) + 24.00; without the edit 96.20
        ("m", "acme/m", D("96.26"), 0, D("88.15"), D("-8.05")),
        ("m", "beta/m", D("72.15"), 1, D("88.15"), D("16.00")),  # 1805 x 0.03 + 600 x 0.03
        ("n", "acme/n-a", D("0.08"), 0, D("0.10"), D("0.02")),
        ("n", "acme/n-b", D("0.10"), 0, D("0.10"), D(0)),
    ]


# --------------------------------------------------------------------------- one pass


def counted(frame: pl.DataFrame) -> tuple[pl.LazyFrame, list[int]]:
    """``frame`` as a LazyFrame whose every scan is counted (an IO source polars calls once
    per read of the log), and the list that counts them."""
    reads: list[int] = []

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Any:
        reads.append(1)
        out = frame if with_columns is None else frame.select(with_columns)
        out = out if predicate is None else out.filter(predicate)
        yield out if n_rows is None else out.head(n_rows)

    return register_io_source(source, schema=frame.schema), reads


def test_focus_and_budgets_price_the_log_in_one_pass(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    cat = pricing.load_catalog(
        write_data(tmp_path_factory.mktemp("replay-once"), {**FLAT_CARDS, **TIER_CARDS})
    )
    frame = pl.DataFrame(MIXED_LOG).with_columns(pl.all().cast(pl.String))
    log, reads = counted(frame)
    replay(log, catalog=cat, batch_rows=2)
    # one streaming pass checks the log and writes its request table to a temporary file,
    # which is counted (to plan the months priced whole) and priced
    assert len(reads) == 1
    reads.clear()
    result = replay(log, catalog=cat, batch_rows=2, focus="day")
    assert len(reads) == 1  # the FOCUS rows are built by the pass that prices
    assert result.focus is not None
    assert result.focus["BilledCost"].sum() == D("88.25")  # the total of MIXED_LOG
    reads.clear()
    status = budget_status(result, Budget(monthly=100), as_of="2026-03-31")
    assert reads == []  # the budget reads the replay's days, not the log
    assert status.spent == D("64.25")  # March: gamma 64.00, beta 0.15, acme/n-b 0.10


# --------------------------------------------------------------------------- column names

#: BFL FLUX.2 [pro] (bundled, from 2026-01-24): $0.03 the first MP + $0.015 per further MP.
#: 1536x1024 = 1.572864 MP: 0.03 + 0.572864 x 0.015 = $0.03859296 an image; 1024x1024 =
#: 1.048576 MP: 0.03 + 0.048576 x 0.015 = $0.03072864.
FLUX_1536x1024, FLUX_1024 = D("0.03859296"), D("0.03072864")


def bfl_log(**columns: list[str | None]) -> pl.DataFrame:
    rows = len(next(iter(columns.values())))
    return pl.DataFrame(
        {
            "timestamp": ["2026-03-01T10:00:00Z"] * rows,
            "provider": ["bfl"] * rows,
            "model": ["flux-2-pro"] * rows,
            **columns,
        }
    )


def test_openai_request_names_price_like_standard_columns(tmp_path: Path) -> None:
    openai = bfl_log(n=["2", "1"], size=["1536x1024", "1536 X 1024"], quality=["high", "high"])
    standard = bfl_log(count=["2", "1"], width=["1536", "1536"], height=["1024", "1024"])
    a = replay(openai, alternatives=False)
    b = replay(write_log(tmp_path / "usage.csv", standard.to_dicts()), alternatives=False)
    assert a.total() == b.total() == {"USD": 3 * FLUX_1536x1024}
    assert a.unknown_columns == b.unknown_columns == {}
    assert (a.rows_default_size, a.rows_default_count) == (0, 0)
    assert a.notes == b.notes == ()


def test_auto_or_empty_size_is_priced_at_the_default_and_said(tmp_path: Path) -> None:
    log = bfl_log(n=["1", "1", "1"], size=["auto", "1536x1024", None])
    result = replay(log, alternatives=False)
    assert result.total() == {"USD": 2 * FLUX_1024 + FLUX_1536x1024}
    assert result.rows_default_size == 2
    assert result.rows_default_count == 0
    assert result.notes == (
        '2 call(s) have no size (no width and height or size column, or size "auto" or '
        "empty): priced at 1024x1024",
    )


def test_malformed_size_is_quarantined_with_its_line() -> None:
    log = bfl_log(size=["1536x1024", "big", "0x5", "1024x", "1536x1024"])
    result = replay(log, alternatives=False)
    assert why(result) == [
        (2, 'size is not "WIDTHxHEIGHT" or "auto"', "big"),
        (3, "zero or negative size", "0x5"),
        (4, 'size is not "WIDTHxHEIGHT" or "auto"', "1024x"),
    ]
    assert result.total() == {"USD": 2 * FLUX_1536x1024}
    assert result.rows_default_count == 2  # no count or n column: one image each
    balanced(result)


def test_typo_is_reported_with_a_hint_and_its_rows_priced_at_the_default() -> None:
    log = bfl_log(widht=["1536", "1536"], height=["1024", "1024"], request_id=["r1", "r2"])
    result = replay(log, alternatives=False)
    assert result.unknown_columns == {"widht": "width", "request_id": None}
    assert result.rows_default_size == 2  # a height without a width is no size
    assert result.total() == {"USD": 2 * FLUX_1024}
    assert result.notes[:2] == (
        "column 'widht' is not a log column and is not read; did you mean width? "
        "(map it: --map widht=width, or mapping={'widht': 'width'})",
        "column 'request_id' is not a log column and is not read",
    )
    mapped = replay(log, mapping={"widht": "width"}, alternatives=False)
    assert mapped.unknown_columns == {"request_id": None}
    assert mapped.total() == {"USD": 2 * FLUX_1536x1024}


@pytest.mark.parametrize(
    ("column", "others", "hint"),
    [
        ("widht", ["height"], "width"),  # a typo
        ("acount", [], "account"),
        ("hieght", ["width"], "height"),
        ("model_name", [], "model"),  # a standard column as a word of the name
        ("image_count", [], "count"),
        ("num_input_images", [], "input_images"),
        ("billed_cost_usd", [], "billed_cost"),
        ("user_id", [], "account"),  # a name logs use for it
        ("cost", [], "billed_cost"),
        ("time", [], "timestamp"),
        ("Created At", [], "timestamp"),
        ("month", [], None),  # a Hive partition: not count (difflib's ratio 0.6)
        ("cost", ["billed_cost"], None),  # never a column the log has
        ("model_name", ["model"], None),
        ("Created At", ["timestamp"], None),
        ("image_count", ["count"], None),
        ("widht", ["width"], None),
        ("request_id", [], None),
        ("note", [], None),
    ],
)
def test_an_unread_column_is_offered_as_a_standard_one_only_when_likely(
    column: str, others: list[str], hint: str | None
) -> None:
    from pricing._usage.log import unknown_columns

    required = [c for c in ("timestamp", "provider", "model") if c != hint]
    assert unknown_columns([*required, *others, column]) == {column: hint}


def test_standard_columns_win_over_openai_names() -> None:
    # count and n disagree: count is read, n is reported, never summed or guessed between
    log = bfl_log(count=["1"], n=["3"], width=["1536"], height=["1024"], size=["1024x1024"])
    result = replay(log, alternatives=False)
    assert result.total() == {"USD": FLUX_1536x1024}
    assert result.unknown_columns == {"n": "count", "size": "width"}
    assert "column 'n' is not read: the log's count column is read instead" in result.notes


def test_log_without_size_or_count_says_so() -> None:
    result = replay(bfl_log(operation=["generate"] * 3), alternatives=False)
    assert (result.rows_default_size, result.rows_default_count) == (3, 3)
    assert result.total() == {"USD": 3 * FLUX_1024}
    assert result.notes == (
        '3 call(s) have no size (no width and height or size column, or size "auto" or '
        "empty): priced at 1024x1024",
        "3 call(s) have no image count (no count or n column): priced as 1 image each",
    )

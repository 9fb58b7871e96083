"""``pricing replay``: usage logs through the command line, on a synthetic catalog.

Every expected cost is arithmetic on the rates written here (acme/m $0.04 per image, beta/m
$0.03, acme/m-fast $0.05, gamma/n $0.01), never a number read back from the code or the
bundled rate cards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from pricing import LOG_COLUMNS
from pricing.cli import app
from tests.conftest import offer, version, write_data

runner = CliRunner()

ACME = Decimal("0.04")  # acme/m, per image
BETA = Decimal("0.03")  # beta/m, per image
FAST = Decimal("0.05")  # acme/m-fast, per image
GAMMA = Decimal("0.01")  # gamma/n, per image (another model: a substitute)

HEADER = "timestamp,provider,model,count"


def per_image(price: Decimal, *, offer_id: str, model: str = "m", ops: str = "") -> str:
    return offer(
        version(f'{{ unit = "image", price = {price} }}'),
        offer_id=offer_id,
        model=model,
        **({"operations": ops} if ops else {}),
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """acme serves m twice (acme/m, acme/m-fast), beta serves m, gamma serves n."""
    return write_data(
        tmp_path / "data",
        {
            "acme": per_image(ACME, offer_id="acme/m") + per_image(FAST, offer_id="acme/m-fast"),
            "beta": per_image(BETA, offer_id="beta/m"),
            "gamma": per_image(GAMMA, offer_id="gamma/n", model="n", ops='["generate"]'),
        },
    )


def write_csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run(log: Path, data: Path, *args: str) -> Result:
    return runner.invoke(app, ["replay", str(log), "--data", str(data), *args])


def run_json(log: Path, data: Path, *args: str) -> dict[str, Any]:
    result = run(log, data, *args, "--json")
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def assert_adds_up(payload: dict[str, Any]) -> None:
    assert payload["rows_read"] == (
        payload["rows_priced"] + payload["rows_unpriced"] + payload["rows_quarantined"]
    )


def three_calls(tmp_path: Path, name: str = "log.csv") -> Path:
    """3 calls x 2 images on acme/m in March 2026: 6 images x $0.04 = $0.24."""
    return write_csv(
        tmp_path / name,
        "2026-03-01T10:00:00Z,acme,m,2",
        "2026-03-02T11:30:00+02:00,acme,m,2",
        "2026-03-03 08:00:00,acme,m,2",
    )


# --------------------------------------------------------------------------- costs


def test_csv_log_total_is_exact(tmp_path: Path, data: Path) -> None:
    payload = run_json(three_calls(tmp_path), data)
    assert payload["rows_read"] == 3
    assert payload["rows_priced"] == 3
    assert_adds_up(payload)
    assert payload["months"] == ["2026-03"]
    assert isinstance(payload["totals"]["USD"], str)
    assert Decimal(payload["totals"]["USD"]) == 3 * 2 * ACME
    [row] = payload["costs"]
    assert row["month"] == "2026-03"
    assert (row["provider"], row["model"], row["operation"], row["offer_id"]) == (
        "acme",
        "m",
        "generate",
        "acme/m",
    )
    assert (row["requests"], row["images"]) == (3, 6)
    assert Decimal(row["cost"]) == Decimal("0.24")


def test_human_output_sections_in_order(tmp_path: Path, data: Path) -> None:
    log = three_calls(tmp_path)
    result = run(log, data)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "3 = 3 priced + 0 unpriced + 0 quarantined" in text
    assert "USD 0.24" in text
    assert "2026-03" in text
    order = [
        text.index("usage replay"),
        text.index("cost by month, provider, model and operation"),
        text.index("on each offer, cheapest first"),
    ]
    assert order == sorted(order)
    assert result.stderr == ""  # no progress bar without a terminal


@pytest.mark.parametrize("kind", ["parquet", "ndjson"])
def test_parquet_and_ndjson_logs(tmp_path: Path, data: Path, kind: str) -> None:
    frame = pl.DataFrame(
        {
            "timestamp": [
                datetime(2026, 3, 1, 10, tzinfo=UTC),
                datetime(2026, 3, 2, 10, tzinfo=UTC),
                datetime(2026, 3, 3, 10, tzinfo=UTC),
            ],
            "provider": ["acme", "acme", "beta"],
            "model": ["m", "m", "m"],
            "count": [2, 2, 4],
            "width": [1024, 1024, 1024],
        }
    )
    log = tmp_path / f"log.{kind}"
    if kind == "parquet":
        frame.write_parquet(log)
    else:
        frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_ndjson(log)
    payload = run_json(log, data)
    assert payload["rows_priced"] == 3
    assert_adds_up(payload)
    # acme: 4 images x $0.04 = $0.16; beta: 4 images x $0.03 = $0.12
    assert Decimal(payload["totals"]["USD"]) == 4 * ACME + 4 * BETA
    by_provider = {r["provider"]: Decimal(r["cost"]) for r in payload["costs"]}
    assert by_provider == {"acme": Decimal("0.16"), "beta": Decimal("0.12")}


def test_map_renames_log_columns(tmp_path: Path, data: Path) -> None:
    log = write_csv(
        tmp_path / "log.csv",
        "2026-03-01T10:00:00Z,acme,m,3",
        header="ts,vendor,model,n_images",
    )
    args = ["--map", "ts=timestamp", "--map", "vendor=provider", "--map", "n_images=count"]
    payload = run_json(log, data, *args)
    assert Decimal(payload["totals"]["USD"]) == 3 * ACME  # $0.12


def test_offer_map_picks_the_offer(tmp_path: Path, data: Path) -> None:
    payload = run_json(three_calls(tmp_path), data, "--offer-map", "acme/m=acme/m-fast")
    assert Decimal(payload["totals"]["USD"]) == 6 * FAST  # $0.30
    assert {r["offer_id"] for r in payload["costs"]} == {"acme/m-fast"}


def test_month_keeps_one_month(tmp_path: Path, data: Path) -> None:
    log = write_csv(
        tmp_path / "log.csv",
        "2026-02-28T23:59:59Z,acme,m,1",
        "2026-03-01T00:00:00Z,acme,m,2",
        "2026-03-31T23:59:59Z,acme,m,3",
        "2026-04-01T00:00:00Z,acme,m,4",
    )
    payload = run_json(log, data, "--month", "2026-03")
    assert payload["month"] == "2026-03"
    assert payload["months"] == ["2026-03"]
    assert payload["rows_priced"] == 2
    assert_adds_up(payload)
    assert Decimal(payload["totals"]["USD"]) == 5 * ACME  # $0.20


# --------------------------------------------------------------------------- alternatives


def test_alternatives_cheapest_first_with_saving(tmp_path: Path, data: Path) -> None:
    log = three_calls(tmp_path)
    payload = run_json(log, data)
    alt = {r["offer_id"]: r for r in payload["alternatives"]}
    assert set(alt) == {"acme/m", "acme/m-fast", "beta/m"}
    beta = alt["beta/m"]
    assert Decimal(beta["cost"]) == 6 * BETA  # $0.18
    assert Decimal(beta["saving"]) == 6 * (ACME - BETA)  # $0.06
    assert beta["saving_pct"] == pytest.approx(25.0)  # 0.06 / 0.24
    fast = alt["acme/m-fast"]
    assert Decimal(fast["saving"]) == 6 * (ACME - FAST)  # -$0.06
    assert fast["saving_pct"] == pytest.approx(-25.0)

    text = run(log, data).stdout
    lines = [line for line in text.splitlines() if "/m" in line and "│" in line]
    offers = [next(o for o in ("beta/m", "acme/m-fast", "acme/m") if o in line) for line in lines]
    assert offers == ["beta/m", "acme/m", "acme/m-fast"]  # $0.18, $0.24, $0.30
    assert "USD 0.06" in text
    assert "+25.0%" in text
    assert "-25.0%" in text


def test_against_substitute_offer(tmp_path: Path, data: Path) -> None:
    payload = run_json(three_calls(tmp_path), data, "--against", "gamma/n")
    [row] = payload["alternatives"]
    assert (row["model"], row["offer_id"]) == ("m", "gamma/n")
    assert Decimal(row["cost"]) == 6 * GAMMA  # $0.06
    assert Decimal(row["saving"]) == 6 * (ACME - GAMMA)  # $0.18
    assert row["saving_pct"] == pytest.approx(75.0)


def test_no_alternatives(tmp_path: Path, data: Path) -> None:
    log = three_calls(tmp_path)
    payload = run_json(log, data, "--no-alternatives")
    assert payload["alternatives"] == []
    result = run(log, data, "--no-alternatives")
    assert "cheapest first" not in result.stdout


def test_top_ten_alternatives_and_how_many_more(tmp_path: Path) -> None:
    # 12 providers of model m at $0.01 .. $0.12 per image.
    cards = {f"p{i:02d}": per_image(Decimal(i) / 100, offer_id=f"p{i:02d}/m") for i in range(1, 13)}
    data = write_data(tmp_path / "data", cards)
    log = write_csv(tmp_path / "log.csv", "2026-03-01T10:00:00Z,p05,m,1")
    result = run(log, data)
    assert result.exit_code == 0, result.output
    assert "p01/m" in result.stdout
    assert "p10/m" in result.stdout
    assert "p11/m" not in result.stdout
    assert "and 2 more offer(s) for m" in result.stdout
    assert len(run_json(log, data)["alternatives"]) == 12


# --------------------------------------------------------------------------- reconciliation


def test_billed_cost_reconciliation(tmp_path: Path, data: Path) -> None:
    log = write_csv(
        tmp_path / "log.csv",
        "2026-03-01T10:00:00Z,acme,m,2,0.09",  # computed 0.08
        "2026-03-05T10:00:00Z,acme,m,1,0.04",  # computed 0.04
        "2026-03-06T10:00:00Z,beta,m,2,0.05",  # computed 0.06
        "2026-04-01T10:00:00Z,acme,m,1,0.04",  # computed 0.04
        header=HEADER + ",billed_cost",
    )
    payload = run_json(log, data)
    rec = {(r["month"], r["provider"]): r for r in payload["reconciliation"]}
    march_acme = rec[("2026-03", "acme")]
    assert Decimal(march_acme["billed"]) == Decimal("0.13")
    assert Decimal(march_acme["computed"]) == Decimal("0.12")
    assert Decimal(march_acme["variance"]) == Decimal("0.01")
    assert march_acme["variance_pct"] == pytest.approx(100 / 12)  # 0.01 / 0.12
    march_beta = rec[("2026-03", "beta")]
    assert Decimal(march_beta["variance"]) == Decimal("-0.01")
    assert march_beta["variance_pct"] == pytest.approx(-100 / 6)  # -0.01 / 0.06
    assert Decimal(rec[("2026-04", "acme")]["variance"]) == 0

    text = run(log, data).stdout
    assert "billed vs computed" in text
    assert "USD 0.13" in text
    assert "+8.3%" in text
    assert "-16.7%" in text


def test_no_billed_cost_no_reconciliation(tmp_path: Path, data: Path) -> None:
    log = three_calls(tmp_path)
    assert run_json(log, data)["reconciliation"] is None
    assert "billed vs computed" not in run(log, data).stdout


# --------------------------------------------------------------------------- bad rows


BAD_LOG = (  # lines of the file; the header is line 1
    "2026-03-01T10:00:00Z,acme,m,2",  # line 2: priced, $0.08
    "yesterday,acme,m,1",  # line 3: bad timestamp
    "2026-03-02T10:00:00Z,nobody,m,1",  # line 4: unknown provider
    "2026-03-03T10:00:00Z,acme,m,two",  # line 5: count not a number
    "2026-03-04T10:00:00Z,acme,m,0",  # line 6: zero count
    "2026-03-05T10:00:00Z,acme,m,1",  # line 7: priced, $0.04
)


def test_bad_rows_are_quarantined_and_counted(tmp_path: Path, data: Path) -> None:
    log = write_csv(tmp_path / "log.csv", *BAD_LOG)
    payload = run_json(log, data)
    assert payload["rows_read"] == 6
    assert payload["rows_priced"] == 2
    assert payload["rows_quarantined"] == 4
    assert_adds_up(payload)
    assert Decimal(payload["totals"]["USD"]) == 3 * ACME  # $0.12
    counts = {r["reason"]: r["rows"] for r in payload["quarantine_counts"]}
    assert counts == {
        "unparseable timestamp": 1,
        "unknown provider": 1,
        "count is not a whole number": 1,
        "zero or negative count": 1,
    }
    text = run(log, data).stdout
    assert "6 = 2 priced + 0 unpriced + 4 quarantined" in text
    assert "4 quarantined row(s), by reason" in text
    assert "unknown provider" in text


def test_quarantine_csv_has_lines_reasons_and_columns(tmp_path: Path, data: Path) -> None:
    log = write_csv(tmp_path / "log.csv", *BAD_LOG)
    out = tmp_path / "bad.csv"
    result = run(log, data, "--quarantine", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote 4 quarantined row(s) to {out}" in result.stdout.replace("\n", "")
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.columns == ["line", "reason", "value", "timestamp", "provider", "model", "count"]
    assert frame["line"].to_list() == ["3", "4", "5", "6"]
    assert frame.row(0) == (
        "3",
        "unparseable timestamp",
        "yesterday",
        "yesterday",
        "acme",
        "m",
        "1",
    )
    assert frame["value"].to_list() == ["yesterday", "nobody", "two", "0"]
    assert frame["count"].to_list() == ["1", "1", "two", "0"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unpriced_calls_are_counted_not_zero(tmp_path: Path, data: Path) -> None:
    # acme/m serves generate and edit; model m also has inpaint, which no offer serves.
    log = write_csv(
        tmp_path / "log.csv",
        "2026-03-01T10:00:00Z,acme,m,2,generate",
        "2026-03-02T10:00:00Z,acme,m,1,inpaint",
        header=HEADER + ",operation",
    )
    payload = run_json(log, data)
    assert (payload["rows_priced"], payload["rows_unpriced"]) == (1, 1)
    assert_adds_up(payload)
    assert Decimal(payload["totals"]["USD"]) == 2 * ACME
    inpaint = next(r for r in payload["costs"] if r["operation"] == "inpaint")
    assert inpaint["cost"] is None  # a missing price is never $0
    assert sum(r["rows"] for r in payload["unpriced"]) == 1
    text = run(log, data).stdout
    assert "2 = 1 priced + 1 unpriced + 0 quarantined" in text
    assert "1 unpriced call(s), by reason" in text


# --------------------------------------------------------------------------- FOCUS


@pytest.mark.parametrize("granularity", ["row", "day", "month"])
def test_focus_billed_cost_equals_total(tmp_path: Path, data: Path, granularity: str) -> None:
    log = write_csv(tmp_path / "log.csv", *BAD_LOG, "2026-04-02T10:00:00Z,beta,m,3")
    out = tmp_path / "focus.parquet"
    payload = run_json(log, data, "--focus", str(out), "--focus-granularity", granularity)
    focus = pl.read_parquet(out)
    total = Decimal(payload["totals"]["USD"])
    assert total == 3 * ACME + 3 * BETA  # $0.21
    assert focus["BilledCost"].sum() == total
    assert set(focus["BillingCurrency"].to_list()) == {"USD"}
    assert payload["outputs"]["focus"]["excluded_unpriced"] == 0
    assert payload["outputs"]["focus"]["rows"] == focus.height
    assert Decimal(payload["outputs"]["focus"]["billed_cost"]["USD"]) == total
    assert "FOCUS" not in " ".join(payload["notes"])


def test_focus_respects_month_and_counts_unpriced(tmp_path: Path, data: Path) -> None:
    log = write_csv(
        tmp_path / "log.csv",
        "2026-03-01T10:00:00Z,acme,m,2,generate",
        "2026-03-02T10:00:00Z,acme,m,1,inpaint",
        "2026-04-01T10:00:00Z,acme,m,5,generate",
        header=HEADER + ",operation",
    )
    out = tmp_path / "focus.parquet"
    result = run(log, data, "--month", "2026-03", "--focus", str(out))
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out)["BilledCost"].sum() == 2 * ACME
    assert "1 unpriced call(s) left out" in result.stdout


# --------------------------------------------------------------------------- errors


def assert_clear_error(result: Result, *needles: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    for needle in needles:
        assert needle in lines[0]


def test_missing_log(tmp_path: Path, data: Path) -> None:
    assert_clear_error(run(tmp_path / "nope.csv", data), "nope.csv does not exist")


def test_unknown_format(tmp_path: Path, data: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text("timestamp,provider,model\n", encoding="utf-8")
    assert_clear_error(run(log, data), "cannot tell the format of log.txt", ".csv, .parquet")


def test_corrupt_parquet(tmp_path: Path, data: Path) -> None:
    log = tmp_path / "log.parquet"
    log.write_bytes(b"this is not parquet")
    assert_clear_error(run(log, data), "cannot read", "log.parquet")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--map", "ts"], ["--map 'ts' must look like LOGCOL=COLUMN", "ts=timestamp"]),
        (["--map", "=timestamp"], ["must look like LOGCOL=COLUMN"]),
        (["--map", "a=timestamp", "--map", "a=provider"], ["maps 'a' twice"]),
        (["--map", "timestamp=when"], ["--map targets when are not log columns"]),
        (["--map", "ts=timestamp"], ["--map names columns the log does not have: ts"]),
        (["--offer-map", "acme/m"], ["must look like PROVIDER/MODEL=OFFER"]),
        (["--offer-map", "m=acme/m"], ["must be PROVIDER/MODEL"]),
        (["--offer-map", "acme/m=acme/nope"], ["unknown offer 'acme/nope'"]),
        (["--against", "nobody/m"], ["unknown offer 'nobody/m'"]),
        (["--month", "2026-13"], ["month '2026-13' is not YYYY-MM"]),
        (["--month", "March"], ["month 'March' is not YYYY-MM"]),
    ],
)
def test_bad_options(tmp_path: Path, data: Path, args: Sequence[str], needles: list[str]) -> None:
    assert_clear_error(run(three_calls(tmp_path), data, *args), *needles)


def test_missing_required_column(tmp_path: Path, data: Path) -> None:
    log = write_csv(tmp_path / "log.csv", "2026-03-01T10:00:00Z,acme,m,1", header="when,a,b,c")
    assert_clear_error(run(log, data), "the log has no timestamp, provider, model column")


def test_output_directory_must_exist(tmp_path: Path, data: Path) -> None:
    target = tmp_path / "missing" / "focus.parquet"
    assert_clear_error(run(three_calls(tmp_path), data, "--focus", str(target)), "create it")
    assert not target.parent.exists()


def test_output_never_overwrites_the_log(tmp_path: Path, data: Path) -> None:
    log = three_calls(tmp_path)
    before = log.read_bytes()
    assert_clear_error(run(log, data, "--quarantine", str(log)), "would overwrite the log")
    assert log.read_bytes() == before


def test_error_leaves_no_files(tmp_path: Path, data: Path) -> None:
    log = three_calls(tmp_path)
    bad, focus = tmp_path / "bad.csv", tmp_path / "focus.parquet"
    result = run(log, data, "--month", "2026-13", "--quarantine", str(bad), "--focus", str(focus))
    assert_clear_error(result, "is not YYYY-MM")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "log.csv"]


def test_failed_write_leaves_no_partial_files(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = three_calls(tmp_path)
    bad, focus = tmp_path / "bad.csv", tmp_path / "focus.parquet"
    bad.write_text("old\n", encoding="utf-8")

    def broken(self: pl.DataFrame, file: Path, **kwargs: object) -> None:
        Path(file).write_bytes(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", broken)
    result = run(log, data, "--quarantine", str(bad), "--focus", str(focus))
    assert_clear_error(result, "cannot write", "No space left on device", "no partial file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "data", "log.csv"]
    assert bad.read_text(encoding="utf-8") == "old\n"  # the earlier file is untouched


# --------------------------------------------------------------------------- help


def test_help_lists_log_columns() -> None:
    result = runner.invoke(app, ["replay", "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for name, (required, _) in LOG_COLUMNS.items():
        need = "required" if required else "optional"
        assert re.search(rf"^\s+{name}\s+{need}\s", result.stdout, re.MULTILINE), name
    assert "billed_cost" in result.stdout
    assert "--map" in result.stdout


def test_minimum_spend_replays_whole_months(tmp_path: Path) -> None:
    # $0.04 per image with a $5.00 minimum monthly spend: March (3 images, $0.12) and April
    # (1 image, $0.04) are each topped up to $5.00.
    data = write_data(
        tmp_path / "data",
        {
            "acme": offer(
                version('{ unit = "image", price = 0.04 }', settings="  minimum_monthly_spend = 5")
            )
        },
    )
    log = write_csv(
        tmp_path / "log.csv",
        "2026-03-01T10:00:00Z,acme,m,1",
        "2026-03-20T10:00:00Z,acme,m,2",
        "2026-04-02T10:00:00Z,acme,m,1",
    )
    out = tmp_path / "focus.parquet"
    payload = run_json(log, data, "--focus", str(out), "--focus-granularity", "month")
    assert {r["month"]: Decimal(r["cost"]) for r in payload["costs"]} == {
        "2026-03": Decimal(5),
        "2026-04": Decimal(5),
    }
    assert Decimal(payload["totals"]["USD"]) == Decimal(10)
    focus = pl.read_parquet(out)
    assert focus["BilledCost"].sum() == Decimal(10)
    assert "Adjustment" in focus["ChargeCategory"].to_list()


def test_calls_without_a_billed_cost_are_not_compared(tmp_path: Path, data: Path) -> None:
    log = write_csv(
        tmp_path / "log.csv",
        "2026-03-01T10:00:00Z,acme,m,2,0.09",  # computed 0.08
        "2026-03-02T10:00:00Z,acme,m,1,",  # no bill: not compared
        "2026-03-03T10:00:00Z,beta,m,1,",  # beta's only call, no bill
        header=HEADER + ",billed_cost",
    )
    rec = {r["provider"]: r for r in run_json(log, data)["reconciliation"]}
    acme, beta = rec["acme"], rec["beta"]
    assert (Decimal(acme["billed"]), Decimal(acme["computed"])) == (Decimal("0.09"), 2 * ACME)
    assert (acme["rows_compared"], acme["rows_unbilled"]) == (1, 1)
    assert (beta["rows_compared"], beta["rows_unbilled"], beta["variance_pct"]) == (0, 1, None)

    text = run(log, data).stdout
    table = text[text.index("billed vs computed") :]
    beta_line = next(line for line in table.splitlines() if " beta " in line)
    # nothing to compare: no amounts (0.00 against 0.00 would read as a match), and why
    assert "USD" not in beta_line
    assert "1 call(s) without a billed cost" in beta_line
    acme_line = next(line for line in table.splitlines() if " acme " in line)
    assert "USD 0.09" in acme_line
    assert "1 call(s) without a billed cost" in acme_line


def test_amounts_under_a_cent_do_not_read_as_zero(tmp_path: Path) -> None:
    # tiny/n at $0.001 an image; acme/m at $0.04 and acme/m-dear at $0.0405
    data = write_data(
        tmp_path / "data",
        {
            "tiny": per_image(Decimal("0.001"), offer_id="tiny/n", model="n", ops='["generate"]'),
            "acme": per_image(ACME, offer_id="acme/m")
            + per_image(Decimal("0.0405"), offer_id="acme/m-dear"),
        },
    )
    log = write_csv(
        tmp_path / "log.csv", "2026-03-01T10:00:00Z,tiny,n,4", "2026-03-01T11:00:00Z,acme,m,1"
    )
    result = runner.invoke(
        app, ["replay", str(log), "--data", str(data)], env={"COLUMNS": "160"}, terminal_width=160
    )
    assert result.exit_code == 0, result.output
    costs = result.stdout[: result.stdout.index("the same")]
    tiny = next(line for line in costs.splitlines() if " tiny " in line)
    assert "USD 0.0040" in tiny  # 4 x 0.001, not "USD 0.00"
    # the one acme call on acme/m-dear: saving 0.04 - 0.0405 = -0.0005
    dear = next(line for line in result.stdout.splitlines() if "acme/m-dear" in line)
    assert "USD -0.00050" in dear
    # what saving means, once, on one line under the tables
    explained = (
        "saving = as-logged cost - offer cost, on the calls both price; offers that cannot "
        "price every call come last"
    )
    assert result.stdout.count(explained) == 1


# --------------------------------------------------------------------------- column names


def test_unknown_columns_and_default_sizes_are_reported(tmp_path: Path) -> None:
    # OpenAI's n and size read as count, width and height; widht is a typo: its calls have no
    # size. Bundled BFL FLUX.2 [pro]: 1536x1024 is $0.03859296 an image, 1024x1024 $0.03072864.
    log = write_csv(
        tmp_path / "openai.csv",
        "2026-03-01T10:00:00Z,bfl,flux-2-pro,2,1536x1024,x",
        "2026-03-01T11:00:00Z,bfl,flux-2-pro,1,auto,x",
        "2026-03-01T12:00:00Z,bfl,flux-2-pro,1,big,x",
        header="timestamp,provider,model,n,size,widht",
    )
    result = runner.invoke(app, ["replay", str(log), "--no-alternatives"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "did you mean width?" in result.stdout
    assert "1 call(s) have no size" in result.stdout
    assert "priced at 1024x1024" in result.stdout
    payload = json.loads(
        runner.invoke(app, ["replay", str(log), "--no-alternatives", "--json"]).stdout
    )
    assert payload["unknown_columns"] == {"widht": "width"}
    assert payload["rows_default_size"] == 1
    assert payload["rows_default_count"] == 0
    total = Decimal(payload["totals"]["USD"])
    assert total == 2 * Decimal("0.03859296") + Decimal("0.03072864")
    assert payload["rows_quarantined"] == 1
    assert_adds_up(payload)


def test_help_lists_openai_names() -> None:
    result = runner.invoke(app, ["replay", "--help"], env={"COLUMNS": "160"})
    assert re.search(r"^\s+n\s+optional\s+OpenAI's name for count", result.stdout, re.MULTILINE)
    assert re.search(r"^\s+size\s+optional\s+OpenAI's \"WIDTHxHEIGHT\"", result.stdout, re.M)

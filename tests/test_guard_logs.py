"""Usage logs: a path is a path, a malformed line is quarantined with its line and the rest is
priced, ambiguity is refused, and nothing but a clear error or a quarantine comes out of any
bytes or rows.

Each log is built here in ``tmp_path``: with polars where polars can write it, byte by byte
where the point is bytes no writer makes (a ragged row, a Latin-1 byte, a broken JSON line).
Costs are hand-worked from the synthetic rates: acme/m $0.04 an image, beta/m $0.03, and
gamma/m $0.04 for the first 1,000 images of a month then $0.03 (priced a month at a time).
A quarantined line is its 1-based line in the file (a CSV's header is line 1).
"""

from __future__ import annotations

import json
import math
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import pricing
from pricing import PricingError, Replay, replay
from pricing.cli import app
from tests.conftest import offer, version, write_data

D = Decimal
CARDS = {
    "acme": offer(version('{ unit = "image", price = 0.04 }'), offer_id="acme/m"),
    "beta": offer(version('{ unit = "image", price = 0.03 }'), offer_id="beta/m"),
    "gamma": offer(
        version(
            '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, '
            "{ start = 1000, price = 0.03 }] }"
        ),
        offer_id="gamma/m",
    ),
}
T = "2026-03-02T10:00:00Z"
HEADER = "timestamp,provider,model,count,seconds,billed_cost"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_data(tmp_path_factory.mktemp("guard-logs"), CARDS)


@pytest.fixture(scope="module")
def cat(data: Path) -> pricing.Catalog:
    return pricing.load_catalog(data)


def calls(path: Path, counts: list[int], provider: str = "acme") -> Path:
    """A log of one acme/m call per count, written by polars in ``path``'s format."""
    frame = pl.DataFrame(
        {
            "timestamp": [T] * len(counts),
            "provider": [provider] * len(counts),
            "model": ["m"] * len(counts),
            "count": counts,
        }
    )
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    elif path.suffix == ".ndjson":
        frame.write_ndjson(path)
    else:
        frame.write_csv(path)
    return path


def why(result: Replay) -> list[tuple[int, str]]:
    return [(line, reason) for line, reason in result.quarantine.select("line", "reason").rows()]


def balanced(result: Replay) -> None:
    assert result.rows_read == result.rows_priced + result.rows_unpriced + result.rows_quarantined


# --------------------------------------------------------------------------- a path is a path


def test_a_path_with_pattern_characters_is_that_file(cat: pricing.Catalog, tmp_path: Path) -> None:
    calls(tmp_path / "usage[1].csv", [1])  # $0.04
    calls(tmp_path / "usage1.csv", [768])  # what a glob of usage[1].csv matches: $30.72
    result = replay(tmp_path / "usage[1].csv", catalog=cat, alternatives=False)
    assert result.total() == {"USD": D("0.04")}
    assert result.source == str(tmp_path / "usage[1].csv")


def test_the_command_line_reads_the_path_as_spelt(data: Path, tmp_path: Path) -> None:
    calls(tmp_path / "usage[1].csv", [1])
    calls(tmp_path / "usage1.csv", [768])
    run = CliRunner().invoke(
        app, ["replay", str(tmp_path / "usage[1].csv"), "--data", str(data), "--json"]
    )
    assert run.exit_code == 0, run.output
    assert {k: D(v) for k, v in json.loads(run.stdout)["totals"].items()} == {"USD": D("0.04")}


@pytest.mark.parametrize("name", ["b*.csv", "b?.csv", "b[12].csv"])
def test_a_pattern_is_not_expanded(cat: pricing.Catalog, tmp_path: Path, name: str) -> None:
    calls(tmp_path / "b1.csv", [1])
    calls(tmp_path / "b2.csv", [2])
    with pytest.raises(PricingError, match=r"does not exist \(the path is read as it is spelt\)"):
        replay(tmp_path / name, catalog=cat)


def test_a_directory_is_an_error_that_says_how_to_read_several(
    cat: pricing.Catalog, tmp_path: Path
) -> None:
    calls(tmp_path / "b1.csv", [1])
    with pytest.raises(PricingError, match=r"is a directory; give one log file.*scan_csv"):
        replay(tmp_path, catalog=cat)
    # asked for explicitly, several files are one log
    calls(tmp_path / "b2.csv", [2])
    both = pl.scan_csv(str(tmp_path / "b*.csv"), infer_schema=False)
    assert replay(both, catalog=cat, alternatives=False).total() == {"USD": D("0.12")}


# --------------------------------------------------------------------------- malformed lines

#: A CSV log with one of each malformed line between good ones (file lines on the right).
CSV_LINES = [
    (HEADER + ",note").encode(),  # 1
    f"{T},acme,m,1,,,".encode(),  # 2: $0.04
    f"{T},acme,m,1".encode(),  # 3: ragged, too few fields
    f"{T},acme,m,1,,,,9".encode(),  # 4: ragged, too many
    f'"{T},acme,m,1,,,'.encode(),  # 5: a quote that never closes
    f"{T},acme,m,1,,,caf\xe9".encode("latin-1"),  # 6: Latin-1, not UTF-8
    f"{T},acme,m,1,inf,,".encode(),  # 7: infinite seconds
    f"{T},acme,m,1,,nan,".encode(),  # 8: a NaN bill
    b"",  # 9: blank, skipped
    f'{T},acme,m,2,,"0.08",'.encode(),  # 10: $0.08, a quoted field
    f'{T},beta,m,3,,0.09,"billed late,\nby a day"'.encode(),  # 11-12: two lines ($0.09)
    f"{T},acme,m,1,,,".encode(),  # 13: $0.04
]


def test_each_malformed_csv_line_is_quarantined_and_the_rest_priced(
    cat: pricing.Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes(b"\r\n".join(CSV_LINES) + b"\r\n")  # Windows line ends
    result = replay(path, catalog=cat, alternatives=False)
    assert why(result) == [
        (3, "row has 4 field(s); the header has 7"),
        (4, "row has 8 field(s); the header has 7"),
        (5, 'unbalanced quote: a quoted field (") opens and never closes'),
        (6, "line is not UTF-8 text; save the log as UTF-8"),
        (7, "seconds is not a finite number"),
        (8, "billed_cost is not a finite number"),
    ]
    assert result.quarantine["value"][2] == f'"{T},acme,m,1,,,'  # the whole line, as text
    assert "caf\ufffd" in result.quarantine["value"][3]  # the bad byte shown, the line kept
    assert result.total() == {"USD": D("0.25")}  # 0.04 + 0.08 + 0.09 + 0.04
    assert (result.rows_read, result.rows_priced, result.rows_quarantined) == (10, 4, 6)
    assert result.unknown_columns == {"note": None}
    balanced(result)


def test_a_bom_and_a_gzipped_log_read_alike(cat: pricing.Catalog, tmp_path: Path) -> None:
    import gzip

    body = "\n".join([HEADER, f"{T},acme,m,1,,", f"{T},acme,m,1"]) + "\n"
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + body.encode())
    (tmp_path / "usage.csv.gz").write_bytes(gzip.compress(body.encode()))
    for name in ("bom.csv", "usage.csv.gz"):
        result = replay(tmp_path / name, catalog=cat, alternatives=False)
        assert result.total() == {"USD": D("0.04")}
        assert why(result) == [(3, "row has 4 field(s); the header has 6")]


def ndjson_lines() -> list[bytes]:
    good = {"timestamp": T, "provider": "acme", "model": "m", "count": 1}
    return [
        json.dumps(good).encode(),  # 1: $0.04
        b'{"timestamp": "' + T.encode() + b'", "provider": "acme", "model": "m", "count": ',
        b"[1, 2]",  # 3: JSON, not an object
        json.dumps({**good, "count": 2}).encode()[:-1] + b', "count": 5}',  # 4: count twice
        json.dumps({**good, "model": "m\xe9"}).encode().replace(b"\\u00e9", b"\xe9"),  # 5
        json.dumps({**good, "seconds": float("inf")}).encode(),  # 6: Infinity
        json.dumps({**good, "billed_cost": float("nan")}).encode(),  # 7: NaN
        b"",  # 8: blank, skipped
        json.dumps({**good, "count": 2.7}).encode(),  # 9: never 2 images
        json.dumps({**good, "count": 2, "account": "a"}).encode(),  # 10: $0.08, a new key
    ]


def test_each_malformed_ndjson_line_is_quarantined_and_the_rest_priced(
    cat: pricing.Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "usage.ndjson"
    path.write_bytes(b"\n".join(ndjson_lines()) + b"\n")
    result = replay(path, catalog=cat, alternatives=False)
    assert why(result) == [
        (2, "line is not valid JSON"),
        (3, "line is not a JSON object"),
        (4, "key 'count' appears more than once"),
        (5, "line is not UTF-8 text; save the log as UTF-8"),
        (6, "seconds is not a finite number"),
        (7, "billed_cost is not a finite number"),
        (9, "count is not a whole number"),
    ]
    assert result.total() == {"USD": D("0.12")}  # 0.04 + 0.08
    assert result.unknown_columns == {}  # account, first seen on line 10, is read
    assert (result.rows_read, result.rows_priced, result.rows_quarantined) == (9, 2, 7)
    balanced(result)


def test_a_corrupt_parquet_file_is_a_clear_error(cat: pricing.Catalog, tmp_path: Path) -> None:
    path = tmp_path / "usage.parquet"
    path.write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(PricingError, match=r"usage.parquet.*check that it is a valid Parquet"):
        replay(path, catalog=cat)


def test_an_empty_log_is_a_clear_error(cat: pricing.Catalog, tmp_path: Path) -> None:
    for name in ("empty.csv", "blank.csv"):
        (tmp_path / name).write_text("" if name == "empty.csv" else "\n\n", encoding="utf-8")
        with pytest.raises(PricingError, match="the usage log is empty; it needs a header"):
            replay(tmp_path / name, catalog=cat)


def test_scan_log_refuses_malformed_lines_and_log_requests_keeps_the_good_rows(
    cat: pricing.Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes(b"\n".join(CSV_LINES[:4]) + b"\n")
    with pytest.raises(PricingError, match=r"2 line\(s\) that are not rows, the first at line 3"):
        pricing.scan_log(path)
    good = pricing.log_requests(path, catalog=cat).collect()
    assert good["count"].to_list() == [1]


# --------------------------------------------------------------------------- ambiguity


def test_a_column_named_twice_is_refused(cat: pricing.Catalog, tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(f"timestamp,provider,model,count,count\n{T},acme,m,1,5\n", encoding="utf-8")
    with pytest.raises(PricingError, match=r"names the column\(s\) 'count' more than once"):
        replay(path, catalog=cat)


def test_a_mapping_that_makes_a_column_twice_is_refused(
    cat: pricing.Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(f"timestamp,provider,model,count,n\n{T},acme,m,1,5\n", encoding="utf-8")
    with pytest.raises(PricingError, match="mapping would give the log two count columns"):
        replay(path, catalog=cat, mapping={"n": "count"})


def test_a_provider_that_contradicts_its_offer_id_is_quarantined(
    cat: pricing.Catalog, tmp_path: Path
) -> None:
    frame = pl.DataFrame(
        {
            "timestamp": [T] * 3,
            "provider": ["acme", "beta", None],
            "offer_id": ["acme/m", "acme/m", "beta/m"],
            "count": [1, 1, 1],
        }
    )
    frame.write_parquet(tmp_path / "usage.parquet")
    result = replay(tmp_path / "usage.parquet", catalog=cat, alternatives=False)
    assert why(result) == [(2, "provider does not match offer_id")]
    assert result.quarantine["value"].to_list() == ["provider beta but offer_id acme/m"]
    assert result.total() == {"USD": D("0.07")}  # acme/m 0.04 + beta/m 0.03


# --------------------------------------------------------------------------- the spill


def spill_dirs(root: Path) -> list[Path]:
    return sorted(root.glob("pricing-replay-*"))


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit, RuntimeError])
def test_the_spill_is_removed_when_replay_is_stopped(
    cat: pricing.Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: type
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # TMPDIR, as a user would set it
    # gamma/m has tiers: its months are spilled to disk and priced after the other rows
    log = tmp_path / "usage.csv"
    log.write_text(
        "timestamp,provider,model,count\n"
        + "".join(f"2026-0{m}-02T10:00:00Z,{p},m,600\n" for m in (3, 4) for p in ("acme", "gamma")),
        encoding="utf-8",
    )
    seen: list[list[Path]] = []

    def interrupt(done: int, total: int, label: str) -> None:
        seen.append([p for d in spill_dirs(temp) for p in d.rglob("*") if p.is_file()])
        raise stop("stopped by the user")

    with pytest.raises(stop):
        replay(log, catalog=cat, batch_rows=1, progress=interrupt)
    assert seen  # stopped at the first progress call
    assert seen[0]  # and the spill held files then
    assert spill_dirs(temp) == []
    result = replay(log, catalog=cat, batch_rows=1)  # and after a run to the end
    # acme: 2 x 600 x 0.04; gamma: 600 x 0.04 in March and again in April
    assert result.total() == {"USD": D("96.00")}
    assert spill_dirs(temp) == []


# --------------------------------------------------------------------------- fuzzing

SUFFIXES = [".csv", ".tsv", ".ndjson", ".parquet"]
CSV_HEAD = b"timestamp,provider,model,count\n"


def checked(result: Replay) -> None:
    """What any replay must give: every row accounted for, and no price that is not a
    positive, finite amount (a row priced at $0, below 0, NaN or infinite)."""
    balanced(result)
    for cost in result.costs["cost"].drop_nulls().to_list():
        assert math.isfinite(float(cost))
        assert cost > 0
    focus = result.focus
    assert focus is not None
    for billed, unit, quantity in focus.select(
        "BilledCost", "ListUnitPrice", "PricingQuantity"
    ).iter_rows():
        assert billed > 0
        assert unit in (D("0.04"), D("0.03"))  # acme/m or beta/m
        assert billed == unit * quantity
        assert quantity == quantity.to_integral_value()  # a whole number of images


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    suffix=st.sampled_from(SUFFIXES),
    head=st.sampled_from([b"", CSV_HEAD, b'{"timestamp": "2026-03-02T10:00:00Z", ']),
    body=st.binary(max_size=600),
)
def test_random_bytes_give_a_clear_error_or_a_quarantine(
    cat: pricing.Catalog, tmp_path: Path, suffix: str, head: bytes, body: bytes
) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(head + body)
    try:
        result = replay(path, catalog=cat, focus="row")
    except PricingError:
        return
    checked(result)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=1, max_size=8), at=st.integers(0, 10_000))
@example(data=b"\x2f", at=548)  # made the Parquet reader abort the process in CI
def test_a_damaged_parquet_file_gives_a_clear_error_or_a_quarantine(
    cat: pricing.Catalog, tmp_path: Path, data: bytes, at: int
) -> None:
    path = calls(tmp_path / "fuzz.parquet", list(range(1, 41)))
    raw = bytearray(path.read_bytes())
    at %= len(raw)
    raw[at : at + len(data)] = data
    path.write_bytes(bytes(raw))
    try:
        result = replay(path, catalog=cat, focus="row")
    except PricingError:
        return
    checked(result)


TEXT = st.text(max_size=12) | st.sampled_from(
    ["", " ", "1", "2.0", "2.7", "1e3", "-1", "0", "NaN", "inf", "-inf", "true", "1,5", "9" * 25]
)
NUMBER = (
    st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, 2, 100_000, 100_001, 10**9, 10**9 + 1, 2**32, 2**53 + 1])
)
COLUMNS: dict[str, st.SearchStrategy[Any]] = {
    "timestamp": st.sampled_from([T, "2026-03-05", "2026-13-40T99:00", "yesterday", ""]) | TEXT,
    "provider": st.sampled_from(["acme", "beta", "nobody", " acme "]) | TEXT,
    "model": st.sampled_from(["m", "n", "zzz"]) | TEXT,
    "offer_id": st.sampled_from(["acme/m", "beta/m", "acme/zzz"]) | TEXT,
}
NUMBERS = ["count", "width", "height", "steps", "seconds", "input_images", "billed_cost"]


@st.composite
def logs(draw: st.DrawFn) -> pl.DataFrame:
    """A random log: the identity columns as text, each number column as integers, floats
    or text (chosen per column), any cell possibly empty."""
    n = draw(st.integers(1, 8))
    chosen = draw(st.lists(st.sampled_from(NUMBERS), unique=True, max_size=4))
    kept = [c for c in COLUMNS if c != "offer_id" or draw(st.booleans())]
    columns: dict[str, pl.Series] = {}
    for name in kept:
        values = draw(st.lists(st.none() | COLUMNS[name], min_size=n, max_size=n))
        columns[name] = pl.Series(name, values, dtype=pl.String)
    for name in chosen:
        kind = draw(st.sampled_from(["int", "float", "text"]))
        cell = {"int": st.integers(-(2**63), 2**63 - 1), "float": NUMBER, "text": TEXT}[kind]
        values = draw(st.lists(st.none() | cell, min_size=n, max_size=n))
        dtype = {"int": pl.Int64, "float": pl.Float64, "text": pl.String}[kind]
        if kind == "float":
            values = [None if v is None else float(v) for v in values]
        columns[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(columns)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=logs(), suffix=st.sampled_from([".csv", ".ndjson", ".parquet"]))
def test_random_rows_in_every_format_are_priced_or_quarantined(
    cat: pricing.Catalog, tmp_path: Path, frame: pl.DataFrame, suffix: str
) -> None:
    path = tmp_path / f"fuzz{suffix}"
    if suffix == ".csv":
        frame.write_csv(path)
    elif suffix == ".ndjson":
        frame.write_ndjson(path)
    else:
        frame.write_parquet(path)
    result = replay(path, catalog=cat, focus="row")
    assert result.rows_read == frame.height  # every row written is read back, none lost
    checked(result)


# --------------------------------------------------------------------------- distinct values

#: Spellings of each text column: clean, padded, in upper case, unknown, empty and missing.
MESSY = {
    "provider": ["acme", " acme", "ACME ", "Beta", "beta\t", "gamma", "nope", "", None],
    "offer_id": ["acme/m", " acme/m ", "ACME/m", "Beta/m", "gamma/M", "x/m", "m", "", None],
    "model": ["m", " m", "M", "n", "", None],
    "operation": ["generate", " generate ", "edit", "Generate", "paint", None],
    "quality": ["high", " high", "", None],
    "account": ["a", " a ", "B", "", None],
}


@st.composite
def messy_logs(draw: st.DrawFn) -> pl.DataFrame:
    """A log of text columns (a random subset beside timestamp) spelt every which way."""
    n = draw(st.integers(1, 12))
    columns = draw(st.sets(st.sampled_from(sorted(MESSY)), min_size=1))
    if "offer_id" not in columns:
        columns |= {"provider", "model"}
    data: dict[str, list[Any]] = {"timestamp": [T] * n, "count": [1] * n}
    for name in sorted(columns):
        data[name] = draw(st.lists(st.sampled_from(MESSY[name]), min_size=n, max_size=n))
    return pl.DataFrame(data, schema={n: pl.String if n != "count" else pl.Int64 for n in data})


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=messy_logs())
def test_checks_on_distinct_values_equal_the_checks_of_each_row(
    cat: pricing.Catalog, frame: pl.DataFrame
) -> None:
    # a table is checked with its distinct text values read first; a query (read once) is
    # checked row by row: the same quarantine, lines, reasons, values and costs either way
    fast = replay(frame, catalog=cat, alternatives=False)
    slow = replay(frame.lazy(), catalog=cat, alternatives=False)
    assert fast.quarantine.equals(slow.quarantine)
    assert (fast.rows_priced, fast.rows_unpriced) == (slow.rows_priced, slow.rows_unpriced)
    assert fast.total() == slow.total()
    balanced(fast)

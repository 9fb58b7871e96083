"""``replay(engine="ray")`` on a real local Ray cluster gives the local engine's answer, to the
cent; and the local engine reads a directory of Parquet files as one log.

The log is a few thousand calls over two months and two accounts, on offers of the bundled
catalog (per-megapixel FLUX.2 [pro], token-priced GPT Image 1, a Midjourney subscription) and a
volume-tiered FLUX.2 [pro] offer added to a copy of the bundled data (no bundled card has
tiers), with bad rows (quarantined), unpriced rows and a billed_cost column. It is written as a
Hive-partitioned directory (``month=2026-03/part-0.parquet``), a flat directory, and one file;
every answer is compared with the local engine's on the same data, never with a number read
back from the code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import pricing
from pricing import PricingError, Replay, replay
from pricing.cli import app
from tests.ray_logs import as_one, local_cluster, needs_ray, write_hive

TIER_CARD = """#:schema ../schema/rate-card.json
provider = "tiers"
name = "Synthetic tiered provider (tests only)"

[[offers]]
id = "tiers/flux-2-pro"
model = "flux-2-pro"
operations = ["generate"]

  [[offers.versions]]
  effective_from = 2025-01-01
  source = "tiers-synthetic"
  components = [{ unit = "image", tiers = [
    { start = 0, price = 0.05 },
    { start = 300, price = 0.04 },
    { start = 1200, price = 0.03 },
  ] }]
"""
TIER_SOURCE = """
[[source]]
id = "tiers-synthetic"
title = "Synthetic tiered prices for the tests"
publisher = "pricing tests"
kind = "third-party"
seen = 2026-11-21
"""
#: (provider, model, offer_id or None, quality): the offers the calls are drawn from.
OFFERS = [
    ("bfl", "flux-2-pro", None, None),  # per megapixel
    ("openai", "gpt-image-1", None, "medium"),  # tokens
    ("midjourney", "midjourney-v7", "midjourney/standard", None),  # a monthly plan
    ("tiers", "flux-2-pro", None, None),  # volume tiers per account and month
]
#: Every frame of a Replay that the engines must agree on.
FRAMES = ("costs", "days", "alternatives", "reconciliation", "quarantine", "unpriced", "focus")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled data with the tiered card added."""
    root = tmp_path_factory.mktemp("ray-data") / "data"
    shutil.copytree(pricing.load_catalog().root, root)
    (root / "rate-cards" / "tiers.toml").write_text(TIER_CARD, encoding="utf-8")
    with (root / "sources.toml").open("a", encoding="utf-8") as f:
        f.write(TIER_SOURCE)
    return root


@pytest.fixture(scope="module")
def cat(data: Path) -> pricing.Catalog:
    return pricing.load_catalog(data)


def usage(n: int = 3000, seed: int = 7) -> pl.DataFrame:
    """``n`` calls in March and April 2026 (in time order), with bad and unpriced rows."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    seconds = np.sort(rng.integers(0, 61 * 86400, size=n))
    which = rng.integers(0, len(OFFERS), size=n)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        provider, model, offer_id, quality = OFFERS[which[i]]
        rows.append(
            {
                "timestamp": (start + timedelta(seconds=int(seconds[i]))).isoformat(),
                "provider": provider,
                "model": model,
                "offer_id": offer_id,
                "account": f"acct-{rng.integers(0, 2)}",
                "width": int(rng.choice([1024, 1536])),
                "height": 1024,
                "count": int(rng.integers(1, 4)),
                "quality": quality,
                "billed_cost": None if rng.random() < 0.1 else round(float(rng.random()), 4),
            }
        )
    rows[5]["timestamp"] = "yesterday"  # quarantined: unreadable timestamp
    rows[17]["provider"] = "nobody"  # unknown provider
    rows[40]["count"] = -2  # a count below 1
    rows[1500]["billed_cost"] = -1.0  # a refund row
    rows[41] |= {"provider": "midjourney", "model": "midjourney-v7", "offer_id": None}  # ambiguous
    for i in (60, 61, 62):  # unpriced: no such quality
        rows[i] |= {"provider": "openai", "model": "gpt-image-1", "offer_id": None}
        rows[i]["quality"] = "ultra"
    return pl.DataFrame(rows, infer_schema_length=None)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same log as a Hive-partitioned directory, a flat one, and one file each.

    The files of a directory are read in the order of their paths, so each single file is
    their rows in that order (with the partition column for the Hive one)."""
    root = tmp_path_factory.mktemp("ray-logs")
    log = usage()
    month = log["timestamp"].str.slice(0, 7)
    hive = write_hive(log, root / "hive", month, first=None)
    flat = root / "flat"
    flat.mkdir()
    for i, start in enumerate(range(0, log.height, 700)):
        log.slice(start, 700).write_parquet(flat / f"usage-{i:02d}.parquet")
    as_one(hive).write_parquet(root / "hive.parquet")
    log.write_parquet(root / "flat.parquet")
    return {
        "hive": hive,
        "flat": flat,
        "hive.parquet": root / "hive.parquet",
        "flat.parquet": root / "flat.parquet",
    }


def assert_same(a: Replay, b: Replay) -> None:
    """Two replays of one log agree on every number, row and note (not on their source)."""
    assert a.total() == b.total()  # exact Decimals: to the cent and below
    assert (a.rows_read, a.rows_priced, a.rows_unpriced, a.rows_quarantined) == (
        b.rows_read,
        b.rows_priced,
        b.rows_unpriced,
        b.rows_quarantined,
    )
    for name in FRAMES:
        left, right = getattr(a, name), getattr(b, name)
        if left is None or right is None:
            assert left is right, name
        else:
            try:
                assert_frame_equal(left, right, check_exact=True)
            except AssertionError as exc:
                raise AssertionError(f"Replay.{name} differs: {exc}") from None
    assert_frame_equal(a.by("month", "provider", "model"), b.by("month", "provider", "model"))
    assert_frame_equal(a.quarantine_counts, b.quarantine_counts)
    assert_frame_equal(a.alternatives_by_model(), b.alternatives_by_model())
    assert (a.months, a.notes, a.unknown_columns) == (b.months, b.notes, b.unknown_columns)
    assert (a.rows_default_size, a.rows_default_count) == (
        b.rows_default_size,
        b.rows_default_count,
    )
    assert (a.currency, a.conversions, a.rows_unpriced_fx) == (
        b.currency,
        b.conversions,
        b.rows_unpriced_fx,
    )


# --------------------------------------------------------------------------- local engine


@pytest.mark.parametrize("kind", ["hive", "flat"])
def test_a_directory_is_the_log_its_files_make(
    cat: pricing.Catalog, logs: dict[str, Path], kind: str
) -> None:
    from_dir = replay(logs[kind], catalog=cat, focus="day")
    assert_same(from_dir, replay(logs[f"{kind}.parquet"], catalog=cat, focus="day"))
    assert from_dir.rows_read == 3000
    assert from_dir.rows_quarantined == 5
    assert from_dir.rows_unpriced == 3
    assert from_dir.totals()["USD"] > 0
    hive_column = [note for note in from_dir.notes if "'month'" in note]
    # a partition column is a column of the log, not read, and never offered as another one
    # (difflib finds "month" close to "count"; mapped so, every row would be quarantined)
    assert hive_column == (
        ["column 'month' is not a log column and is not read"] if kind == "hive" else []
    )
    assert from_dir.unknown_columns == ({"month": None} if kind == "hive" else {})


def test_a_directory_without_parquet_files_says_how_to_read_several(
    cat: pricing.Catalog, tmp_path: Path
) -> None:
    (tmp_path / "usage.csv").write_text("timestamp,provider,model\n", encoding="utf-8")
    with pytest.raises(PricingError, match=r"is a directory; give one log file.*holds none"):
        replay(tmp_path, catalog=cat)


def test_a_damaged_file_in_a_directory_is_named(
    cat: pricing.Catalog, logs: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "usage"
    shutil.copytree(logs["flat"], folder)
    (folder / "usage-03.parquet").write_bytes(b"PAR1 this is not Parquet PAR1")
    with pytest.raises(PricingError, match=r"usage-03\.parquet"):
        replay(folder, catalog=cat)


# --------------------------------------------------------------------------- engine choice


def test_an_unknown_engine_or_a_stray_address_is_refused(
    cat: pricing.Catalog, logs: dict[str, Path]
) -> None:
    with pytest.raises(PricingError, match="unknown engine 'spark'"):
        replay(logs["flat.parquet"], catalog=cat, engine="spark")  # type: ignore[arg-type]
    with pytest.raises(PricingError, match="address= names a Ray cluster"):
        replay(logs["flat.parquet"], catalog=cat, address="ray://head:10001")
    with pytest.raises(PricingError, match="engine='ray'"):
        replay("s3://bucket/usage/", catalog=cat)


def test_without_ray_the_ray_engine_says_how_to_install_it(
    cat: pricing.Catalog, logs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails
    with pytest.raises(PricingError, match=r"pip install 'pricing\[ray\]'"):
        replay(logs["flat"], catalog=cat, engine="ray")


def test_the_ray_engine_reads_parquet_files_only(cat: pricing.Catalog, tmp_path: Path) -> None:
    text = tmp_path / "usage.csv"
    text.write_text("timestamp,provider,model\n", encoding="utf-8")
    with pytest.raises(PricingError, match="reads Parquet logs"):
        replay(text, catalog=cat, engine="ray")
    with pytest.raises(PricingError, match="replay a polars frame with engine='local'"):
        replay(pl.DataFrame({"timestamp": []}), catalog=cat, engine="ray")
    with pytest.raises(PricingError, match="does not exist"):
        replay(tmp_path / "nothing", catalog=cat, engine="ray")


def test_import_pricing_does_not_import_ray() -> None:
    code = "import sys, pricing; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- on a cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A real local Ray cluster of 2 CPUs for the module, shut down afterwards."""
    with local_cluster() as ray:
        yield ray


@needs_ray
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_ray_engine_gives_the_local_answer_to_the_cent(
    cluster: Any, cat: pricing.Catalog, logs: dict[str, Path]
) -> None:
    local = replay(logs["hive"], catalog=cat, focus="day")
    told: list[tuple[int, int, str]] = []
    on_ray = replay(
        str(logs["hive"]),
        catalog=cat,
        focus="day",
        engine="ray",
        batch_rows=700,
        progress=lambda done, total, label: told.append((done, total, label)),
    )
    assert_same(local, on_ray)
    assert told[-1] == (3000 - 5, 3000 - 5, "rows")  # every readable row, of all of them
    assert on_ray.source == str(logs["hive"])
    assert local.rows_quarantined == 5
    assert local.rows_unpriced == 3
    assert local.reconciliation is not None
    assert local.reconciliation.height
    assert local.focus is not None
    assert local.focus.height
    # every kind of offer is in the answer: plan, tiers, tokens, megapixels
    assert {
        "midjourney/standard",
        "tiers/flux-2-pro",
        "openai/gpt-image-1",
        "bfl/flux-2-pro",
    } <= set(local.costs["offer_id"].to_list())


@needs_ray
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_substitutes_currencies_and_row_focus_agree_on_a_cluster(
    cluster: Any, cat: pricing.Catalog, logs: dict[str, Path]
) -> None:
    # Re-priced on a volume-tiered substitute, every account's month is one unit of work.
    terms: dict[str, Any] = {
        "catalog": cat,
        "against": ["tiers/flux-2-pro", "openai/gpt-image-1"],
        "currency": "EUR",
        "focus": "row",
        "month": "2026-04",
    }
    local = replay(logs["flat.parquet"], **terms)
    on_ray = replay(logs["flat.parquet"], engine="ray", batch_rows=500, **terms)
    assert_same(local, on_ray)
    assert local.currency == "EUR"
    assert local.conversions


@needs_ray
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_command_line_replays_on_ray(cluster: Any, data: Path, tmp_path: Path) -> None:
    # Offers without running volumes only: the cluster reads the log once.
    folder = tmp_path / "usage"
    folder.mkdir()
    calls = usage().filter(pl.col("provider").is_in(["bfl", "openai"])).head(300)
    calls.head(100).write_parquet(folder / "a.parquet")
    calls.slice(100).write_parquet(folder / "b.parquet")
    runner = CliRunner()

    def report(*extra: str) -> dict[str, Any]:
        args = ["replay", str(folder), "--data", str(data), "--no-alternatives", "--json"]
        run = runner.invoke(app, [*args, *extra])
        assert run.exit_code == 0, run.output
        payload: dict[str, Any] = json.loads(run.stdout)
        return payload

    local, on_ray = report(), report("--engine", "ray")
    assert local["rows_read"] == calls.height
    for key in ("totals", "rows_read", "rows_priced", "rows_unpriced", "rows_quarantined", "costs"):
        assert on_ray[key] == local[key], key


def test_an_address_needs_the_ray_engine_on_the_command_line(tmp_path: Path) -> None:
    stray = CliRunner().invoke(app, ["replay", str(tmp_path), "--address", "ray://head:10001"])
    assert stray.exit_code != 0
    assert "Traceback" not in stray.output
    assert stray.stderr.strip().splitlines() == [
        "error: --address names a Ray cluster: add --engine ray"
    ]

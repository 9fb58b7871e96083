"""``price_requests(engine="ray")`` on a real local Ray cluster prices every row as the local
engine does: same columns, same order, same values to the bit.

The request table is a few thousand calls over two months and three accounts (one of them the
null account), with many ties in time, on a volume-tiered offer added to a copy of the bundled
data (tiers per account and month), a Midjourney subscription (a plan's allowance and fee),
per-megapixel and token-priced offers, an unknown offer and rows without an offer. It is written
as a Hive-partitioned directory of Parquet files (``month=2026-03/part-0.parquet``), and every
answer is compared with the local engine's on the same rows, never with numbers read back from
the code.
"""

from __future__ import annotations

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

import pricing
from pricing import PricingError, price_requests
from tests.ray_logs import as_one, local_cluster, needs_ray, write_hive
from tests.test_ray_engine import TIER_CARD, TIER_SOURCE

#: The offers the calls are on (None: no offer).
OFFERS = [
    *["tiers/flux-2-pro"] * 3,  # volume tiers per account and month
    "midjourney/standard",  # a monthly plan: allowance and fee
    "bfl/flux-2-pro",  # per megapixel
    "openai/gpt-image-1",  # tokens
    "nobody/nothing",  # unknown
    None,
]


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    """The bundled catalog with the tiered card added."""
    root = tmp_path_factory.mktemp("ray-price-data") / "data"
    shutil.copytree(pricing.load_catalog().root, root)
    (root / "rate-cards" / "tiers.toml").write_text(TIER_CARD, encoding="utf-8")
    with (root / "sources.toml").open("a", encoding="utf-8") as f:
        f.write(TIER_SOURCE)
    return pricing.load_catalog(root)


def calls(n: int = 3000, seed: int = 11) -> pl.DataFrame:
    """``n`` calls in March and April 2026, not in time order, many at the same hour."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    hours = rng.integers(0, 61 * 24, size=n)
    which = rng.integers(0, len(OFFERS), size=n)
    accounts = ["acct-0", "acct-1", None]
    return pl.DataFrame(
        {
            "request_id": np.arange(n),
            "timestamp": [start + timedelta(hours=int(h)) for h in hours],
            "offer_id": [OFFERS[w] for w in which],
            "account": [accounts[a] for a in rng.integers(0, 3, size=n)],
            "width": rng.choice([1024, 1536], size=n),
            "height": np.full(n, 1024),
            "count": rng.integers(1, 4, size=n),
            "quality": [("medium" if OFFERS[w] == "openai/gpt-image-1" else None) for w in which],
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The calls as a Hive-partitioned directory: two files a month, and a job's marker."""
    root = tmp_path_factory.mktemp("ray-price-log") / "usage"
    table = calls()
    return write_hive(table, root, table["timestamp"].dt.strftime("%Y-%m"), first=400)


# --------------------------------------------------------------------------- without a cluster


def test_an_unknown_engine_or_ray_arguments_without_ray_are_refused(log: Path) -> None:
    frame = calls(10)
    with pytest.raises(PricingError, match=r"unknown engine 'spark'; use one of local, ray"):
        price_requests(frame, engine="spark")  # type: ignore[call-overload]
    with pytest.raises(PricingError, match="address= names a Ray cluster"):
        price_requests(frame, address="ray://head:10001")  # type: ignore[call-overload]
    with pytest.raises(PricingError, match="out= has the Ray workers write"):
        price_requests(frame, out="priced/")  # type: ignore[call-overload]
    with pytest.raises(PricingError, match=r"local engine prices a polars DataFrame.*scan_parquet"):
        price_requests(log)  # type: ignore[call-overload]


def test_without_ray_the_ray_engine_says_how_to_install_it(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails
    with pytest.raises(PricingError, match=r"pip install 'pricing\[ray\]'"):
        price_requests(log, engine="ray")


def test_pricing_locally_does_not_import_ray() -> None:
    code = (
        "import sys, polars as pl, pricing; "
        "pricing.price_requests(pl.DataFrame({'offer_id': ['bfl/flux-2-pro']})); "
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@needs_ray
def test_bad_requests_and_outputs_are_refused_before_the_cluster(
    cat: pricing.Catalog, log: Path, tmp_path: Path
) -> None:
    # each is refused before Ray connects: no cluster is started here
    text = tmp_path / "calls.csv"
    text.write_text("timestamp,offer_id\n", encoding="utf-8")
    with pytest.raises(PricingError, match=r"reads Parquet files.*not calls\.csv"):
        price_requests(text, catalog=cat, engine="ray")
    with pytest.raises(PricingError, match="do not exist"):
        price_requests(tmp_path / "nothing", catalog=cat, engine="ray")
    with pytest.raises(PricingError, match="a directory without Parquet files"):
        price_requests(tmp_path, catalog=cat, engine="ray")
    with pytest.raises(PricingError, match="is not empty: give a new or empty directory"):
        price_requests(log, catalog=cat, engine="ray", out=tmp_path)
    with pytest.raises(PricingError, match="prices a polars DataFrame or LazyFrame, or a Parquet"):
        price_requests(42, catalog=cat, engine="ray")  # type: ignore[call-overload]
    naive = tmp_path / "naive"
    naive.mkdir()
    calls(5).with_columns(pl.col("timestamp").dt.replace_time_zone(None)).write_parquet(
        naive / "part-0.parquet"
    )
    with pytest.raises(PricingError, match="no time zone"):  # the local engine's own check
        price_requests(naive, catalog=cat, engine="ray")
    with pytest.raises(PricingError, match="already have an offer_id column"):
        price_requests(log, catalog=cat, engine="ray", offers=["bfl/flux-2-pro"])


# --------------------------------------------------------------------------- on a cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A real local Ray cluster of 2 CPUs for the module, shut down afterwards."""
    with local_cluster(sort_shuffle=True) as ray:
        yield ray


@pytest.fixture(scope="module")
def on_ray(cluster: Any, cat: pricing.Catalog, log: Path) -> pl.DataFrame:
    """The directory priced on the cluster, collected."""
    return price_requests(log, catalog=cat, engine="ray")


@needs_ray
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_ray_engine_prices_a_partitioned_directory_as_the_local_engine(
    cat: pricing.Catalog, log: Path, on_ray: pl.DataFrame
) -> None:
    local = price_requests(as_one(log), catalog=cat)
    assert_frame_equal(on_ray, local, check_exact=True)  # columns, types, order, every bit
    assert on_ray.height == 3000
    # every kind of row is there: tiers past their first step, a plan's fee, unknown offers
    tiers = local.filter(pl.col("offer_id") == "tiers/flux-2-pro")
    assert (tiers["prior_images"] > 300).any()  # past the first step
    assert local.filter(pl.col("offer_id") == "midjourney/standard")["fee"].sum() > 0
    assert local.filter(pl.col("offer_id") == "nobody/nothing")["cost"].null_count() > 0
    assert local["offer_id"].null_count() > 0
    assert local["account"].null_count() > 0  # the default account


@needs_ray
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_out_writes_the_same_rows_as_parquet_files(
    cat: pricing.Catalog, log: Path, on_ray: pl.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "priced"
    written = price_requests(log, catalog=cat, engine="ray", out=out)
    assert written.columns == ["path", "rows"]
    assert sorted(written["path"]) == sorted(str(f.resolve()) for f in out.rglob("*.parquet"))
    assert written["rows"].sum() == on_ray.height
    back = pl.concat([pl.read_parquet(f) for f in written["path"]], how="vertical_relaxed")
    assert back.columns == on_ray.columns  # no column of the engine's own
    back = back.select(pl.col(n).cast(t) for n, t in on_ray.schema.items())
    assert_frame_equal(back.sort("request_id"), on_ray.sort("request_id"), check_exact=True)


@needs_ray
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_lazy_frame_in_long_form_and_another_currency_agree(
    cluster: Any, cat: pricing.Catalog
) -> None:
    requests = calls(1500, seed=3).drop("offer_id").lazy()
    terms: dict[str, Any] = {
        "catalog": cat,
        "offers": ["tiers/flux-2-pro", "openai/gpt-image-1", "midjourney/standard"],
        "currency": "EUR",
    }
    local = price_requests(requests, **terms).collect()
    got = price_requests(requests, engine="ray", **terms)
    assert isinstance(got, pl.DataFrame)  # collected, whatever came in
    assert_frame_equal(got, local, check_exact=True)
    assert got.height == 3 * 1500
    assert set(got["currency"].drop_nulls().to_list()) == {"EUR"}


@needs_ray
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_damaged_file_is_one_error_line(
    cluster: Any, cat: pricing.Catalog, log: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "usage"
    shutil.copytree(log, folder)
    (folder / "month=2026-04" / "part-1.parquet").write_bytes(b"PAR1 this is not Parquet PAR1")
    with pytest.raises(PricingError, match=r"the Ray job cannot read .*usage") as caught:
        price_requests(folder, catalog=cat, engine="ray")
    assert "\n" not in str(caught.value)

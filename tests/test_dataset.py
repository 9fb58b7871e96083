"""One data set read by every entry point: ``load_data_set`` and ``data=`` / ``--data``.

A copy of the bundled data with one GPU price changed must change the answers that use it,
and only through the data set passed: the expected figures are hand calculations from the
changed rate.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pricing
from pricing._cards.loader import bundled_data_dir
from pricing.cli import app

runner = CliRunner()
OFFER = "runpod/h100-sxm-community"


@pytest.fixture(scope="module")
def cheaper_gpu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled data with RunPod's community H100 at $2.00 instead of $2.69 a GPU-hour,
    and one extra workload file."""
    root = tmp_path_factory.mktemp("data") / "data"
    shutil.copytree(bundled_data_dir(), root)
    offers = root / "gpus" / "offers.toml"
    text = offers.read_text(encoding="utf-8")
    block = text.index(f'id = "{OFFER}"')
    price = text.index("price = 2.69", block)
    offers.write_text(text[:price] + "price = 2.00" + text[price + 12 :], encoding="utf-8")
    shutil.copy(root / "workloads" / "small.toml", root / "workloads" / "my-team.toml")
    return root


def test_bundled_data_set_is_the_bundled_data() -> None:
    data = pricing.load_data_set()
    assert data.root == bundled_data_dir().resolve()
    assert data is pricing.load_data_set()  # cached until a file changes
    assert data.gpus.offer(OFFER).gpu_hourly_price == Decimal("2.69")
    assert "flux-1-dev" in data.licences
    assert set(data.fx["currency"]) >= {"USD", "GBP"}
    assert data.catalog.offer("bfl/flux-2-pro").model == "flux-2-pro"


def test_break_even_reads_the_gpu_price_of_its_data_set(cheaper_gpu: Path) -> None:
    data = pricing.load_data_set(cheaper_gpu)
    assert data.gpus.offer(OFFER).gpu_hourly_price == Decimal("2.00")
    # $2.00/h x 730 h = $1,460 = 58,400 images at $0.025 (bundled: $2.69 -> 78,548)
    # FLUX.1 [dev] with its licence stated as free (no source prices it)
    free = pricing.HostingTerms()
    assert pricing.break_even("flux-1-dev", OFFER, 0.025, data=data, hosting=free).volume == 58_400
    assert pricing.break_even("flux-1-dev", OFFER, 0.025, hosting=free).volume == 78_548


def test_simulate_and_workload_names_come_from_the_data_set(cheaper_gpu: Path) -> None:
    data = pricing.load_data_set(cheaper_gpu)
    assert "my-team" in pricing.list_workloads(data)
    assert "my-team" not in pricing.list_workloads()
    sim = pricing.simulate("my-team", data=data, gpus=[OFFER], modes=("dedicated",))
    rows = sim.options.filter(sim.options["offer_id"] == OFFER)
    assert rows.height > 0
    with pytest.raises(pricing.WorkloadError, match="unknown workload 'my-team'"):
        pricing.load_workload("my-team")


def test_catalog_and_data_from_two_directories_are_refused(cheaper_gpu: Path) -> None:
    data = pricing.load_data_set(cheaper_gpu)
    with pytest.raises(pricing.PricingError, match="different data directories"):
        pricing.simulate("small", pricing.load_catalog(), data=data)


def test_a_folder_that_is_not_a_data_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(pricing.PricingError, match=r"not a data directory \(no sources.toml\)"):
        pricing.load_data_set(tmp_path)
    result = runner.invoke(app, ["gpus", "list", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a data directory" in result.output
    assert "Traceback" not in result.output


def test_cli_commands_take_data(cheaper_gpu: Path) -> None:
    result = runner.invoke(
        app, ["gpus", "list", "--gpu", "h100", "--json", "--data", str(cheaper_gpu)]
    )
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.output) if r["offer_id"] == OFFER)
    assert row["gpu_hourly"] == "2"  # money in --json: an exact decimal string

    result = runner.invoke(app, ["workloads", "list", "--json", "--data", str(cheaper_gpu)])
    assert result.exit_code == 0, result.output
    assert "my-team" in {r["name"] for r in json.loads(result.output)}

    args = ["breakeven", "--model", "flux-1-dev", "--gpu", OFFER, "--hosted", "0.025", "--json"]
    args += ["--licence", "0"]
    result = runner.invoke(app, [*args, "--data", str(cheaper_gpu)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["volume"] == 58_400


def test_replay_and_price_requests_price_with_the_data_set(tmp_path: Path) -> None:
    # A copy of the data without BFL's FLUX.2 [pro] offer: the call cannot be priced there.
    root = tmp_path / "data"
    shutil.copytree(bundled_data_dir(), root)
    card = root / "rate-cards" / "bfl.toml"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace('id = "bfl/flux-2-pro"', 'id = "bfl/flux-2-pro-gone"', 1))
    log = tmp_path / "usage.csv"
    log.write_text(
        "timestamp,offer_id,width,height\n2026-11-02T10:00:00Z,bfl/flux-2-pro,1024,1024\n",
        encoding="utf-8",
    )
    # 1024 x 1024 = 1.048576 MP: $0.03 for the first MP + $0.015 x 0.048576 MP
    bundled = pricing.replay(log, alternatives=False)
    assert bundled.totals() == {"USD": Decimal("0.03072864")}
    # Priced with the copy, the offer does not exist: the call is quarantined, never $0.
    copy = pricing.replay(log, alternatives=False, data=pricing.load_data_set(root))
    assert copy.totals() == {}
    assert copy.quarantine["reason"].to_list() == ["unknown offer_id"]
    frame = pricing.log_requests(log).collect()
    priced = pricing.price_requests(frame, data=pricing.load_data_set(root))
    assert priced["cost"].to_list() == [None]
    assert priced["reason"][0] is not None

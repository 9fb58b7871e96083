"""Feeds that bring values no provider would charge: the refresh refuses or skips them, and a
failed or interrupted refresh leaves data/ byte-for-byte as it was.

A real server on 127.0.0.1 (tests/_http_server.py) serves the documents built here; the data
is a tmp_path copy of the bundled data/. Expected prices and factors are worked by hand from
the figures written in each test and the ranges of ``pricing/_cards/plausible.py`` (per 1M
tokens $0.01-$1,000, a change of more than 10x needs accepting).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import pricing
from pricing._base.atomic import atomic_write
from pricing._cards.components import ImagePrice, TokenPrice
from pricing._cards.loader import bundled_data_dir, load_data
from pricing._cards.plausible import LARGEST, figures
from pricing._cards.schema import PriceVersion
from pricing._fx.ecb import ECB_NS
from pricing._fx.store import load_fx
from pricing._gpus.gpus import load_gpus
from pricing._refresh.additions import Additions, Context
from pricing._refresh.feeds.cards import card_feed, check_providers, parse_cards, plan_cards
from pricing._refresh.feeds.ecb import parse_ecb, plan_fx
from pricing._refresh.feeds.fal import parse_fal, plan_fal
from pricing._refresh.feeds.openrouter import parse_openrouter, plan_openrouter
from pricing._refresh.feeds.skypilot import parse_skypilot_csv, plan_skypilot
from pricing._refresh.guard import guard
from pricing._refresh.http import FetchPolicy
from pricing._refresh.pull import pull_cards, pull_fx, pull_gpus
from pricing._refresh.run import refresh
from pricing._refresh.toml_edit import edit_card, offer_tables, version_table
from pricing.cli import app
from pricing.errors import RefreshError
from tests._http_server import FixtureServer, Reply, fixture
from tests.refresh.conftest import snapshot

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
#: gpt-image-1.5's token table as written in data/rate-cards/openai.toml (1024x1024 rows).
TOKENS = (
    '[{ size = "1024x1024", quality = "low", tokens = 272 }, '
    '{ size = "1024x1024", quality = "high", tokens = 4160 }]'
)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as s:
        yield s


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundled_data_dir(), tmp_path / "data"))


@pytest.fixture
def policy() -> FetchPolicy:
    return FetchPolicy(read_timeout=2.0, retries=0, trust_env=False, sleep=lambda _: None)


def openai_card(image_output: str, name: str = "GPT Image 1.5") -> bytes:
    """A registry card that names gpt-image-1.5 (an offer of the bundled openai card)."""
    return f"""\
provider = "openai"
name = "OpenAI"

[[offers]]
id = "openai/gpt-image-1.5"
model = "gpt-image-1.5"
name = "{name}"
operations = ["generate", "edit"]
qualities = ["low", "medium", "high"]

  [[offers.versions]]
  effective_from = 2026-11-01
  source = "registry"
  components = [{{ unit = "token", image_output = {image_output}, output_tokens = {TOKENS} }}]
""".encode()


def pull(url: str, data: Path, policy: FetchPolicy, **kwargs: Any) -> pricing.RefreshReport:
    kwargs.setdefault("now", NOW)
    return pull_cards(url, data_dir=data, policy=policy, cache_dir=data.parent / "cache", **kwargs)


# --------------------------------------------------------------------------- registries


def test_a_registry_may_not_write_another_providers_prices(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    before = snapshot(data)
    url = server.route("/cards/bfl.toml", Reply(openai_card("0.0001")))
    with pytest.raises(RefreshError) as info:
        pull(url, data, policy, kind="official")
    message = str(info.value)
    assert "card for provider 'openai', and it may write bfl only" in message
    assert "--provider openai" in message
    assert message.endswith("nothing was written")
    assert snapshot(data) == before


def test_an_implausible_price_is_refused_even_when_the_provider_is_allowed(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    before = snapshot(data)
    url = server.route("/cards/bfl.toml", Reply(openai_card("0.0001")))
    with pytest.raises(RefreshError) as info:
        pull(url, data, policy, kind="official", providers=["openai"])
    # $0.0001 per 1M tokens is below the $0.01 floor: a per-token figure, or nonsense.
    assert (
        "openai/gpt-image-1.5 (price version from 2026-12-01): `components[0].image_output` "
        "0.0001 USD/1M tokens is outside the plausible range 0.01 to 1000 USD/1M tokens"
    ) in str(info.value)
    assert snapshot(data) == before


def test_a_change_beyond_10x_needs_accepting(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    # In force on 2026-12-01: llmreference's $32 per 1M image-output tokens (openai.toml).
    # $2 is 16x below it: refused, naming the offer, the old and the new price.
    before = snapshot(data)
    url = server.route("/cards/openai.toml", Reply(openai_card("2")))
    with pytest.raises(RefreshError) as info:
        pull(url, data, policy)
    message = str(info.value)
    assert "1 price(s) moved more than 10x from the price they replace" in message
    assert "openai/gpt-image-1.5: token image_output 32 -> 2 USD (x0.0625)" in message
    assert "replacing version 2026-05-10/llmreference-gpt-image-1-5" in message
    assert "--accept-large-change" in message
    assert snapshot(data) == before
    report = pull(url, data, policy, accept_large_change=True)
    assert report.written
    new = pricing.load_catalog(data).offer("openai/gpt-image-1.5").versions[-1]
    (token,) = new.components
    assert isinstance(token, TokenPrice)
    assert (token.image_output, new.effective_from) == (Decimal(2), date(2026, 12, 1))


def test_a_zero_price_from_a_registry_is_skipped_not_written(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    before = snapshot(data)
    report = pull(server.route("/openai.json", Reply(openai_card("0"))), data, policy)
    (skip,) = report.skipped.to_dicts()
    assert skip["item"] == "openai/gpt-image-1.5"
    assert skip["reason"].startswith("a price of 0 is not imported")
    assert report.written == ()
    assert snapshot(data) == before


def acme_doc(name: str, price: float) -> bytes:
    """A registry card in JSON (json.dumps writes a lone surrogate as the escape \\ud800)."""
    version = {"effective_from": "2026-01-01", "source": "acme",
               "components": [{"unit": "image", "price": price}]}  # fmt: skip
    offer = {"id": "acme/flux-dev", "model": "flux-1-dev", "name": name,
             "operations": ["generate"], "versions": [version]}  # fmt: skip
    return json.dumps({"provider": "acme", "name": "Acme", "offers": [offer]}).encode()


def test_a_name_that_would_break_lines_is_made_plain_and_later_updates_still_work(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    name = "Acme\u2028[[offers]] # x\u2029\ud800 end"
    url = server.route("/acme.json", Reply(acme_doc(name, 0.02)))
    pull(url, data, policy)
    text = (data / "rate-cards/acme.toml").read_text(encoding="utf-8")
    assert 'name = "Acme [[offers]] # x \ufffd end"' in text
    assert "\u2028" not in text
    assert "\u2029" not in text
    server.route("/acme.json", Reply(acme_doc(name, 0.025)))
    report = pull(url, data, policy, now=LATER)
    assert report.changes.row(0, named=True)["change_pct"] == pytest.approx(25.0)
    offer = pricing.load_catalog(data).offer("acme/flux-dev")
    prices = [c.price for v in offer.versions for c in v.components if isinstance(c, ImagePrice)]
    assert prices == [Decimal("0.02"), Decimal("0.025")]


def test_a_card_already_holding_a_line_separator_can_still_be_edited() -> None:
    # Written before names were made plain: U+2028 inside a string is valid TOML.
    text = (
        'provider = "acme"\nname = "Acme"\n\n[[offers]]\nid = "acme/a"\nmodel = "m"\n'
        'name = "A\u2028[[offers]] # b"\noperations = ["generate"]\n\n  [[offers.versions]]\n'
        '  effective_from = 2026-01-01\n  source = "s"\n  components = [{ unit = "image", '
        "price = 0.02 }]\n"
    )
    version = pricing.RateCard.model_validate(
        {"provider": "acme", "name": "Acme", "offers": [{
            "id": "acme/a", "model": "m", "operations": ["generate"],
            "versions": [{"effective_from": "2026-02-01", "source": "t",
                          "components": [{"unit": "image", "price": "0.03"}]}],
        }]},
    ).offers[0].versions[0]  # fmt: skip
    edited = edit_card(text, "data/rate-cards/acme.toml", {"acme/a": [version]}, [], "x")
    assert edited.startswith(text)
    assert edited.endswith('components = [\n    { unit = "image", price = 0.03 },\n  ]\n')


def test_registry_urls_are_recorded_without_credentials(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    body = openai_card("40").replace(b"GPT Image 1.5", b"GPT Image 1.5 x")
    url = server.route("/openai.toml", Reply(body)) + "?token=s3cr3t-value"
    report = pull(url, data, policy)
    sid = report.sources["source_id"][0]
    source = pricing.load_catalog(data).sources[sid]
    assert source.url == url.replace("s3cr3t-value", "REDACTED")
    assert b"s3cr3t" not in b"".join((data / f).read_bytes() for f in snapshot(data))


# --------------------------------------------------------------------------- API feeds

OPENROUTER_CARD = """\
#:schema ../schema/rate-card.json
provider = "openrouter"
name = "OpenRouter"

[[offers]]
id = "openrouter/gpt-image-1.5"
model = "gpt-image-1.5"
name = "openai/gpt-image-1.5"
operations = ["generate"]
qualities = ["low", "high"]

  [[offers.versions]]
  effective_from = 2026-01-01
  source = "seed-000"
  components = [{ unit = "token", image_output = 32, output_tokens = TOKENS }]
""".replace("TOKENS", TOKENS)


def openrouter(image_output: str) -> bytes:
    model = {
        "id": "openai/gpt-image-1.5",
        "architecture": {"output_modalities": ["image"]},
        "pricing": {"image_output": image_output},
    }
    return json.dumps({"data": [model]}).encode()


@pytest.mark.parametrize(
    ("image_output", "outcome"),
    [
        ("0", "skipped: price 0 for image_output is not recorded"),
        ("9e999999", "failed: price 9.000e+999999 is larger than any real figure"),
        ("0.00000000001", "failed: 0.00001 USD/1M tokens is outside the plausible range"),
        ("0.0004", "failed: token image_output 32 -> 400 USD (x12.5)"),
    ],
)
def test_openrouter_values_no_provider_would_charge(
    server: FixtureServer, data: Path, policy: FetchPolicy, image_output: str, outcome: str
) -> None:
    (data / "rate-cards/openrouter.toml").write_text(OPENROUTER_CARD, encoding="utf-8")
    before = snapshot(data)
    url = server.route("/models", Reply(openrouter(image_output)))
    status, _, said = outcome.partition(": ")
    kwargs = {"data_dir": data, "urls": {"openrouter": url}, "policy": policy, "now": NOW}
    if status == "skipped":
        report = refresh(["openrouter"], cache_dir=data.parent / "cache", **kwargs)  # type: ignore[arg-type]
        assert said in report.skipped["reason"][0]
    else:
        with pytest.raises(RefreshError, match=r"^openrouter: ") as info:
            refresh(["openrouter"], cache_dir=data.parent / "cache", **kwargs)  # type: ignore[arg-type]
        assert said in str(info.value)
    assert snapshot(data) == before


ECB = fixture("ecb-eurofxref-daily.xml")


def test_ecb_rates_dated_in_the_future_are_refused(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    before = snapshot(data)
    future = ECB.replace(b"time='2015-01-07'", b"time='9999-12-31'")
    with pytest.raises(RefreshError) as info:
        pull_fx(server.route("/ecb.xml", Reply(future)), data_dir=data, policy=policy,
                cache_dir=data.parent / "cache", now=NOW)  # fmt: skip
    # 31 currencies and EUR itself, all on the one day
    assert "32 rate(s) dated 9999-12-31, after the fetch day 2026-12-01" in str(info.value)
    assert snapshot(data) == before


def test_an_ecb_rate_ten_times_the_last_one_needs_accepting(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    # USD was 1.1813 per EUR on Friday 2015-01-09 (the bundled ECB history); 11.9 on the
    # Saturday after, a day the history does not hold, is 10.07x.
    next_day = ECB.replace(b"time='2015-01-07'", b"time='2015-01-10'")
    jump = next_day.replace(b"rate='1.1831'", b"rate='11.9'")
    url = server.route("/ecb.xml", Reply(jump))
    before = snapshot(data)
    with pytest.raises(RefreshError) as info:
        pull_fx(url, data_dir=data, policy=policy, now=NOW, cache_dir=data.parent / "c")
    assert "USD on 2015-01-10: 1.1813 -> 11.9 per EUR (x10.1), after the rate of 2015-01-09" in str(
        info.value
    )
    assert snapshot(data) == before
    pull_fx(url, data_dir=data, policy=policy, now=NOW, cache_dir=data.parent / "c",
            accept_large_change=True)  # fmt: skip
    usd = pricing.load_fx(data).filter(currency="USD", date=date(2015, 1, 10))
    assert usd["per_eur"].to_list() == [Decimal("11.9")]


LAMBDA = fixture("skypilot-v8-lambda-vms.csv")
H100 = b"gpu_1x_h100_pcie,H100,1.0,26.0,200.0,3.29,us-east-1,"


@pytest.mark.parametrize(
    ("price", "said"),
    [
        # 0.004 an hour for one H100 is below the $0.01 floor of a GPU-hour
        (b"0.004", "the price of one GPU-hour, 0.004 USD/GPU-hour is outside the plausible"),
        # 3.29 -> 0.30 is 10.97x down
        (b"0.30", "lambda/gpu-1x-h100-pcie-on-demand-us-east-1.2026-12-15: 3.29 -> 0.3 USD/h"),
    ],
)
def test_gpu_prices_no_cloud_would_charge(
    server: FixtureServer, data: Path, policy: FetchPolicy, price: bytes, said: str
) -> None:
    url = server.route("/vms.csv", Reply(LAMBDA))
    pull_gpus(["lambda"], urls={"lambda": url}, data_dir=data, policy=policy,
              cache_dir=data.parent / "cache", now=NOW)  # fmt: skip
    before = snapshot(data)
    server.route("/vms.csv", Reply(LAMBDA.replace(H100, H100.replace(b"3.29", price))))
    with pytest.raises(RefreshError, match=r"^skypilot-lambda: ") as info:
        pull_gpus(["lambda"], urls={"lambda": url}, data_dir=data, policy=policy,
                  cache_dir=data.parent / "cache", now=LATER)  # fmt: skip
    assert said in str(info.value)
    assert snapshot(data) == before


# --------------------------------------------------------------------------- interruptions


def leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("pricing-refresh-"))


@pytest.mark.parametrize("how", ["KeyboardInterrupt", "SIGTERM"])
def test_an_interrupted_refresh_removes_its_staging_copy(
    server: FixtureServer,
    data: Path,
    policy: FetchPolicy,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    how: str,
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    seen: list[str] = []

    def interrupted(root: Path) -> NoReturn:
        seen.extend(leftovers(tmp))  # the staging copy exists while it is checked
        if how == "SIGTERM":
            os.kill(os.getpid(), signal.SIGTERM)  # the handler below raises SystemExit
        raise KeyboardInterrupt

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(143)

    monkeypatch.setattr("pricing._refresh.write.load_fx", interrupted)
    previous = signal.signal(signal.SIGTERM, stop)
    before = snapshot(data)
    try:
        with pytest.raises(SystemExit if how == "SIGTERM" else KeyboardInterrupt):
            pull_gpus(
                ["lambda"], urls={"lambda": server.route("/v", Reply(LAMBDA))}, data_dir=data,
                policy=policy, cache_dir=data.parent / "c", now=NOW,
            )  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert len(seen) == 1
    assert leftovers(tmp) == []
    assert snapshot(data) == before


def test_a_refresh_interrupted_while_moving_files_puts_the_old_ones_back(
    server: FixtureServer, data: Path, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []

    def second_interrupted(path: Path, text: bytes | str) -> None:
        calls.append(path)
        if len(calls) == 2:  # sources.toml is in place, gpus/offers.toml is not
            raise KeyboardInterrupt
        atomic_write(path, text)

    monkeypatch.setattr("pricing._refresh.write.atomic_write", second_interrupted)
    before = snapshot(data)
    with pytest.raises(KeyboardInterrupt):
        pull_gpus(["lambda"], urls={"lambda": server.route("/v", Reply(LAMBDA))},
                  data_dir=data, policy=policy, cache_dir=data.parent / "c", now=NOW)  # fmt: skip
    assert calls[:2] == [data / "sources.toml", data / "gpus/offers.toml"]
    assert snapshot(data) == before


# --------------------------------------------------------------------------- CLI


def test_cli_cards_pull_takes_provider_and_accept_large_change(
    server: FixtureServer, data: Path
) -> None:
    url = server.route("/cards/team.toml", Reply(openai_card("2")))
    common = [url, "--data", str(data), "--cache-dir", str(data.parent / "c"), "--dry-run"]
    runner = CliRunner()
    result = runner.invoke(app, ["cards", "pull", *common])
    assert result.exit_code == 1
    assert "--provider openai" in result.stderr
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["cards", "pull", *common, "--provider", "openai"])
    assert result.exit_code == 1
    assert "token image_output 32 -> 2 USD (x0.0625)" in result.stderr
    args = ["cards", "pull", *common, "--provider", "openai", "--accept-large-change", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changes"][0]["item"] == "openai/gpt-image-1.5"


# --------------------------------------------------------------------------- fuzzing
#
# Random payloads go through each feed's parser, its planning against the bundled data (plus
# an openrouter card, so that updates are planned too) and the guard. Either a RefreshError
# comes out, or every figure that would be written is positive, finite and no larger than
# LARGEST, every date at most a day after the fetch day, and every new version reads back
# from the TOML it would be written as.

SID = "fuzz-2026-12-01"
PRICES = ["0", "-1", "9e999999", "1e-30", "0.00004", "40", "NaN", "Infinity", "0.025", "3.29"]
NAMES = ["openai/gpt-image-1", "openai/gpt-image-1.5", "fal-ai/flux/dev", "fal-ai/flux-2-pro"]
text = st.text(max_size=12) | st.sampled_from(["a\u2028[[offers]] #", "\ud800", "\x00\x7f"])
#: Prices a feed could send (mostly), the edge cases above, any decimal.
plausible = st.decimals(min_value="0.001", max_value=50, places=4).map(str)


def mostly(
    good: st.SearchStrategy[str], other: st.SearchStrategy[str] = text
) -> st.SearchStrategy[str]:
    """``good`` about four times in five, else ``other``."""
    return st.integers(0, 4).flatmap(lambda k: other if k == 3 else good)


price = mostly(plausible, st.sampled_from(PRICES) | st.decimals().map(str))
#: OpenRouter's USD per token: $0.1 to $100 per 1M tokens.
per_token = st.decimals(min_value="0.0000001", max_value="0.0001", places=7).map(lambda d: f"{d:f}")
price_or_text = mostly(price)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    root = Path(shutil.copytree(bundled_data_dir(), tmp_path_factory.mktemp("fuzz") / "data"))
    (root / "rate-cards/openrouter.toml").write_text(OPENROUTER_CARD, encoding="utf-8")
    return Context(load_data(root), load_gpus(root), load_fx(root), NOW)


def openrouter_doc(draw: st.DrawFn) -> object:
    keys = st.sampled_from(["prompt", "image", "image_output", "completion"])
    model = st.fixed_dictionaries(
        {
            "id": mostly(st.sampled_from(NAMES)),
            "architecture": st.just({"output_modalities": ["image"]}),
            "pricing": st.dictionaries(keys, mostly(per_token, price_or_text)),
        }
    )
    return {"data": draw(st.lists(model, max_size=3))}


def fal_doc(draw: st.DrawFn) -> object:
    row = st.fixed_dictionaries(
        {
            "endpoint_id": mostly(st.sampled_from(NAMES)),
            "unit_price": price_or_text,
            "unit": mostly(st.sampled_from(["image", "megapixel", "second"])),
            "currency": mostly(st.sampled_from(["USD", "EUR", "JPY"])),
        }
    )
    return {"prices": draw(st.lists(row, max_size=3))}


def card_doc(draw: st.DrawFn) -> object:
    component = st.fixed_dictionaries(
        {"unit": st.sampled_from(["image", "megapixel"]), "price": price_or_text}
    )
    version = st.fixed_dictionaries(
        {
            "effective_from": st.just("2026-01-01"),
            "source": st.just("registry"),
            "components": st.lists(component, min_size=1, max_size=1),
        }
    )
    provider = draw(st.sampled_from(["fal", "fal", "acme"]))
    offer = st.fixed_dictionaries(
        {
            "id": st.sampled_from([f"{provider}/flux-1-dev", f"{provider}/x"]),
            "model": st.just("flux-1-dev"),
            "name": mostly(st.just("FLUX.1 [dev]")),
            "operations": st.just(["generate"]),
            "versions": st.lists(version, min_size=1, max_size=1),
        }
    )
    return {"provider": provider, "name": draw(text), "offers": draw(st.lists(offer, max_size=2))}


def as_json(doc: object) -> bytes:
    """JSON with the numeric-looking strings written as numbers, as APIs send them."""
    raw = json.dumps(doc, ensure_ascii=True)
    for p in PRICES:
        raw = raw.replace(f'"{p}"', p) if p[0].isdigit() else raw
    return raw.encode()


def skypilot_csv(draw: st.DrawFn) -> bytes:
    region = mostly(st.sampled_from(["1", "2"]))
    row = st.tuples(st.sampled_from(["H100", "A100", "L4"]), price_or_text, price, region)
    lines = [
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice"
    ]
    for gpu, on_demand, spot, zone in draw(st.lists(row, max_size=4)):
        lines.append(f"x_{gpu},{gpu},1.0,8,64,{on_demand},us-east-{zone or 1},,{spot}")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def ecb_xml(draw: st.DrawFn) -> bytes:
    day = draw(
        st.dates(date(2015, 1, 8), date(2026, 12, 3))
        | st.dates()
        | st.sampled_from([date(9999, 12, 31), date(2026, 12, 2), date(2026, 12, 3)])
    )
    rate = st.decimals(min_value="0.0001", max_value=10**6, places=4).map(lambda d: f"{d:f}")
    rates = draw(st.dictionaries(st.sampled_from(["USD", "JPY", "IDR"]), rate | price_or_text))
    cubes = "".join(f"<Cube currency='{c}' rate='{r}'/>" for c, r in rates.items())
    xml = f"<E xmlns='{ECB_NS}'><Cube><Cube time='{day}'>{cubes}</Cube></Cube></E>"
    return xml.encode("utf-8", "surrogatepass")


def plan(kind: str, data: bytes, ctx: Context) -> Additions:
    if kind == "openrouter":
        return plan_openrouter(parse_openrouter(data, "fuzz"), ctx, "fuzz", SID)
    if kind == "fal":
        return plan_fal([parse_fal(data, "fuzz")], ctx, "fuzz", SID)
    if kind == "skypilot":
        return plan_skypilot(parse_skypilot_csv(data, "fuzz"), ctx, "fuzz", "aws", SID)
    if kind == "ecb":
        return plan_fx(parse_ecb(data, "fuzz", SID), ctx, "fuzz")
    cards = parse_cards(data, "fuzz")
    check_providers(cards, card_feed("https://x.example/fal.toml", name="fuzz"))
    return plan_cards(cards, ctx, "fuzz", "https://x.example/fal.toml", "official", SID)


PAYLOADS = {
    "openrouter": st.composite(lambda draw: as_json(openrouter_doc(draw)))(),
    "fal": st.composite(lambda draw: as_json(fal_doc(draw)))(),
    "cards": st.composite(lambda draw: as_json(card_doc(draw)))(),
    "skypilot": st.composite(skypilot_csv)(),
    "ecb": st.composite(ecb_xml)(),
}


def assert_written_values_are_prices(adds: Additions, ctx: Context) -> None:
    versions = [v for by in adds.versions.values() for vs in by.values() for v in vs]
    offers = [o for os_ in adds.offers.values() for o in os_]
    offers += [o for card in adds.cards.values() for o in card.offers]
    for o in offers:
        versions += o.versions
        assert tomllib.loads(offer_tables(o), parse_float=Decimal)["offers"][0]["id"] == o.id
    for v in versions:
        values = [value for _, _, value in figures(v)]
        assert all(value.is_finite() and 0 < value <= LARGEST for value in values)
        back = tomllib.loads(version_table(v), parse_float=Decimal)["offers"]["versions"][0]
        assert PriceVersion.model_validate(back) == v
    assert all(0 < o.price <= LARGEST for o in adds.gpu_offers)
    for day, _, rate, _ in adds.fx_rows:
        assert 0 < rate <= LARGEST
        assert (day - ctx.day).days <= 1


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_payloads_are_refused_cleanly_or_give_real_prices(
    kind: str, data: st.DataObject, ctx: Context
) -> None:
    noise = st.binary(max_size=200) | st.text(max_size=200).map(
        lambda s: s.encode("utf-8", "surrogatepass")
    )
    raw = data.draw(st.one_of(PAYLOADS[kind], PAYLOADS[kind], PAYLOADS[kind], noise))
    try:
        adds = plan(kind, raw, ctx)
        guard(adds, ctx, "fuzz")
    except RefreshError as exc:
        said = str(exc)
        event("refused")
    else:
        said = "fuzz"
        event("would write" if adds.writes else "nothing to write")
        assert_written_values_are_prices(adds, ctx)
    assert said.startswith("fuzz")

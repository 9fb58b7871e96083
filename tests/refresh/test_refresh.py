"""Refreshes end to end: a real server on 127.0.0.1, a tmp_path copy of data/, real faults.

Every failure must leave the data directory byte-for-byte unchanged (a hash of every file is
compared) and name the source and the reason. Expected prices are read by hand from the
fixture files (the line is quoted).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pricing
from pricing._cards.components import ImagePrice, MegapixelPrice, TokenPrice
from pricing._refresh.http import FetchPolicy
from pricing._refresh.pull import pull_cards, pull_fx, pull_gpus
from pricing._refresh.run import refresh
from pricing.cli import app
from pricing.errors import RefreshError
from tests._http_server import FixtureServer, Reply, fixture
from tests.refresh.conftest import refresh_copy, snapshot

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
LAMBDA = fixture("skypilot-v8-lambda-vms.csv")
# line 264 of the lambda catalog
H100_PCIE_US_EAST_1 = b"gpu_1x_h100_pcie,H100,1.0,26.0,200.0,3.29,us-east-1,"
#: The header and the us-east-1 rows only: 22 GPU instance types and 2 CPU ones.
LAMBDA_US_EAST_1 = b"".join(
    line
    for i, line in enumerate(LAMBDA.splitlines(keepends=True))
    if i == 0 or b",us-east-1," in line
)


#: A refresh of the data copy, on ``NOW`` unless told another day.
run = partial(refresh_copy, now=NOW)


# --------------------------------------------------------------------------- GPU offers


def test_gpus_pull_appends_offers_that_cite_a_new_source(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    url = server.route("/lambda/vms.csv", Reply(LAMBDA))
    before = {p: (data / p).read_bytes() for p in ("sources.toml", "gpus/offers.toml")}
    others = {k: v for k, v in snapshot(data).items() if k not in before}
    report = pull_gpus(["lambda"], urls={"lambda": url}, data_dir=data, policy=policy,
                       cache_dir=data.parent / "cache", now=NOW)  # fmt: skip
    gpus = pricing.load_gpus(data)
    offer = gpus.offer("lambda/gpu-1x-h100-pcie-on-demand-us-east-1")
    assert (offer.price, offer.per, offer.price_basis) == (Decimal("3.29"), "hour", "instance")
    assert (offer.gpu, offer.gpus, offer.region, offer.category) == (
        "h100-pcie",
        1,
        "us-east-1",
        "on-demand",
    )
    assert (offer.effective, offer.source) == (date(2026, 12, 1), "skypilot-lambda-2026-12-01")
    # line: gpu_8x_h100_sxm5,H100,8.0,208.0,1800.0,31.92,us-east-1
    big = gpus.offer("lambda/gpu-8x-h100-sxm5-on-demand-us-east-1")
    assert (big.gpu, big.gpus, big.hourly_price) == ("h100-sxm", 8, Decimal("31.92"))
    source = gpus.sources["skypilot-lambda-2026-12-01"]
    assert (source.url, source.kind, source.seen) == (url, "third-party", date(2026, 12, 1))
    assert "2026-12-01T09:30:00Z" in (source.notes or "")
    # Append-only: the old bytes are a prefix of the new files; nothing else moved.
    for rel, old in before.items():
        assert (data / rel).read_bytes().startswith(old)
    assert {k: v for k, v in snapshot(data).items() if k not in before} == others
    # SOURCES.md: 374 GPU rows, one per instance type and region, SpotPrice always empty.
    row = report.sources.row(0, named=True)
    assert (row["status"], row["new"], row["changed"], row["unchanged"]) == ("ok", 374, 0, 0)
    assert report.skipped.filter(item="CPU-only rows")["reason"][0] == "34 row(s) without a GPU"
    assert report.written == (data / "sources.toml", data / "gpus/offers.toml")


def test_a_changed_gpu_price_becomes_a_new_dated_entry(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    url = server.route("/vms.csv", Reply(LAMBDA_US_EAST_1))
    run(["skypilot-lambda"], data, policy, {"skypilot-lambda": url})
    cheaper = LAMBDA_US_EAST_1.replace(
        H100_PCIE_US_EAST_1, H100_PCIE_US_EAST_1.replace(b"3.29", b"2.99")
    )
    server.route("/vms.csv", Reply(cheaper))
    report = run(["skypilot-lambda"], data, policy, {"skypilot-lambda": url}, now=LATER)
    gpus = pricing.load_gpus(data)
    base = "lambda/gpu-1x-h100-pcie-on-demand-us-east-1"
    assert gpus.offer(base).price == Decimal("3.29")  # history kept
    new = gpus.offer(f"{base}.2026-12-15")
    assert (new.price, new.effective, new.source) == (
        Decimal("2.99"),
        date(2026, 12, 15),
        "skypilot-lambda-2026-12-15",
    )
    (change,) = report.changes.to_dicts()
    assert change["status"] == "changed"
    assert change["old"] == f"3.29 USD/h ({base})"
    assert change["new"] == "2.99 USD/h"
    assert change["change_pct"] == pytest.approx((2.99 - 3.29) / 3.29 * 100)
    assert report.sources["unchanged"][0] == 21  # the other GPU instance types of us-east-1


def test_spot_prices_per_zone_and_gpu_only_rows(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    urls = {
        "skypilot-aws": server.route(
            "/aws.csv", Reply(fixture("skypilot-v8-aws-vms.gpu-subset.csv"))
        ),
        "skypilot-gcp": server.route(
            "/gcp.csv", Reply(fixture("skypilot-v8-gcp-vms.gpu-subset.csv"))
        ),
        "skypilot-runpod": server.route(
            "/runpod.csv", Reply(fixture("skypilot-v8-runpod-vms.trimmed.csv"))
        ),
    }
    report = run(list(urls), data, policy, urls)
    gpus = pricing.load_gpus(data)
    # Every us-east-1 zone lists p5.48xlarge at 55.04 on demand: one regional offer.
    assert gpus.offer("aws/p5.48xlarge-on-demand-us-east-1").price == Decimal("55.04")
    # Spot differs by zone (line 247: use1-az2 19.253100): one offer per zone.
    spot = gpus.offer("aws/p5.48xlarge-spot-us-east-1-use1-az2")
    assert (spot.price, spot.category, spot.region) == (Decimal("19.2531"), "spot", "us-east-1")
    # line 230: ap-northeast-2 has an empty SpotPrice: no spot offer there.
    ids = {o.id for o in gpus.offers}
    assert "aws/p5.48xlarge-on-demand-ap-northeast-2" in ids
    assert not any(i.startswith("aws/p5.48xlarge-spot-ap-northeast-2") for i in ids)
    # GCP line 2: A100 x1 in asia-southeast1, 1.70586 on demand, GPUs only.
    gcp = gpus.offer("gcp/a100-x1-on-demand-asia-southeast1")
    assert (gcp.price, gcp.gpu) == (Decimal("1.70586"), "a100-40gb")
    assert "host VM is billed separately" in (gcp.notes or "")
    # RunPod line 2: 1x_A100-80GB_SECURE in IN, 1.39; GpuInfo says 'A100 PCIe'.
    pod = gpus.offer("runpod/1x-a100-80gb-secure-in")
    assert (pod.price, pod.category, pod.gpu) == (Decimal("1.39"), "secure", "a100-80gb-pcie")
    reasons = report.skipped.filter(source="skypilot-gcp")["reason"].to_list()
    assert any("'P100'" in r for r in reasons)


def test_not_modified_uses_the_cache_and_writes_nothing(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    url = server.route("/vms.csv", Reply(LAMBDA_US_EAST_1, etag='"cat-1"'))
    run(["skypilot-lambda"], data, policy, {"skypilot-lambda": url})
    after_first = snapshot(data)
    report = run(["skypilot-lambda"], data, policy, {"skypilot-lambda": url}, now=LATER)
    assert server.requests("/vms.csv")[1].headers["if-none-match"] == '"cat-1"'
    row = report.sources.row(0, named=True)
    assert (row["status"], row["http_status"], row["unchanged"]) == ("not-modified", 304, 22)
    assert report.written == ()
    assert snapshot(data) == after_first


# --------------------------------------------------------------------------- FX


ECB = fixture("ecb-eurofxref-daily.xml")


def test_fx_pull_adds_a_new_day(server: FixtureServer, data: Path, policy: FetchPolicy) -> None:
    # The bundled history (data/fx/ecb-history.parquet) has every ECB business day up to
    # 2026-10-30: a Saturday, 2015-01-10, is a day it does not hold (Friday: USD 1.1813).
    next_day = ECB.replace(b"time='2015-01-07'", b"time='2015-01-10'").replace(
        b"rate='1.1831'", b"rate='1.1900'"
    )
    old = (data / "fx/ecb.csv").read_bytes()
    report = pull_fx(server.route("/ecb.xml", Reply(next_day)), data_dir=data, policy=policy,
                     cache_dir=data.parent / "cache", now=NOW)  # fmt: skip
    assert (data / "fx/ecb.csv").read_bytes().startswith(old)
    fx = pricing.load_fx(data)
    usd = fx.filter(currency="USD").sort("date").rows(named=True)
    usd = [r for r in usd if date(2015, 1, 9) <= r["date"] <= date(2015, 1, 12)]
    assert [(r["date"], r["per_eur"], r["source"]) for r in usd] == [
        (date(2015, 1, 9), Decimal("1.1813"), "ecb-eurofxref-hist"),
        (date(2015, 1, 10), Decimal("1.19"), "ecb-eurofxref-2026-12-01"),
        (date(2015, 1, 12), Decimal("1.1804"), "ecb-eurofxref-hist"),
    ]
    change = report.changes.filter(item="USD").row(0, named=True)
    assert (change["old"], change["new"]) == ("1.1813 (on 2015-01-09)", "1.19")
    assert change["change_pct"] == pytest.approx((1.19 - 1.1813) / 1.1813 * 100)
    source = pricing.load_catalog(data).sources["ecb-eurofxref-2026-12-01"]
    assert (source.kind, source.published) == ("official", date(2015, 1, 10))


def test_fx_rate_already_recorded_is_never_overwritten(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    before = snapshot(data)
    revised = ECB.replace(b"rate='1.1831'", b"rate='9.99'")
    report = run(["ecb"], data, policy, {"ecb": server.route("/ecb.xml", Reply(revised))})
    assert snapshot(data) == before
    (skip,) = report.skipped.to_dicts()
    assert skip["item"] == "USD on 2015-01-07"
    assert "kept the recorded rate" in skip["reason"]
    assert report.sources["unchanged"][0] == 31  # 30 other currencies and EUR


# --------------------------------------------------------------------------- offers


def test_fal_pull_adds_an_official_version_and_keeps_the_key_secret(
    server: FixtureServer, data: Path, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "fal-secret-0123")
    url = server.route("/v1/models/pricing", Reply(fixture("fal-pricing.json")))
    run(["fal"], data, policy, {"fal": url})
    (seen,) = server.requests("/v1/models/pricing")
    assert seen.headers["authorization"] == "Key fal-secret-0123"
    assert "endpoint_id=fal-ai%2Fflux%2Fdev" in seen.path
    catalog = pricing.load_catalog(data)
    new = catalog.offer("fal/flux-1-dev").versions[-1]
    assert (new.effective_from, new.source) == (date(2026, 12, 1), "fal-pricing-api-2026-12-01")
    assert new.components == [ImagePrice(unit="image", price=Decimal("0.025"))]
    assert catalog.sources[new.source].kind == "official"
    # The official version now wins over the third-party per-MP figures: $0.025 per image.
    quote = pricing.quote(
        pricing.ImageRequest(model="flux-1-dev", width=1024, height=1024),
        "fal/flux-1-dev",
        as_of=date(2026, 12, 2),
        catalog=catalog,
    )
    assert quote.total == Decimal("0.025")
    for path in [*data.rglob("*"), *(data.parent / "cache").rglob("*")]:
        if path.is_file():
            assert b"fal-secret" not in path.read_bytes()


def test_fal_named_without_its_key_fails_before_any_request(
    server: FixtureServer, data: Path, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    before = snapshot(data)
    url = server.route("/pricing", Reply(fixture("fal-pricing.json")))
    with pytest.raises(RefreshError, match=r"^fal: the environment variable FAL_KEY is not set"):
        run(["fal"], data, policy, {"fal": url})
    assert server.count("/pricing") == 0
    assert snapshot(data) == before


OPENROUTER_CARD = """\
#:schema ../schema/rate-card.json
provider = "openrouter"
name = "OpenRouter"

[[offers]]
id = "openrouter/gemini-3-pro-image"
model = "gemini-3-pro-image"
name = "google/gemini-3-pro-image"
operations = ["generate"]

  [[offers.versions]]
  effective_from = 2026-01-01
  source = "seed-000"
  components = [{ unit = "token", image_output = 100, output_tokens = [
    { size = "1024x1024", quality = "standard", tokens = 1120 },
  ] }]
"""


def test_openrouter_updates_token_prices_of_a_named_offer(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    with (data / "models.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[[model]]\nid = "gemini-3-pro-image"\nname = "Gemini 3 Pro Image"\n'
            'vendor = "Google"\nopen_weights = false\noperations = ["generate"]\n'
        )
    (data / "rate-cards/openrouter.toml").write_text(OPENROUTER_CARD, encoding="utf-8")
    url = server.route("/api/v1/models", Reply(fixture("openrouter-models.json")))
    report = run(["openrouter"], data, policy, {"openrouter": url})
    version = pricing.load_catalog(data).offer("openrouter/gemini-3-pro-image").versions[-1]
    (token,) = version.components
    assert isinstance(token, TokenPrice)
    # "image_output": "0.00012", "prompt": "0.000002", "image": "0.000002" USD per token
    assert (token.image_output, token.text_input, token.image_input) == (
        Decimal(120),
        Decimal(2),
        Decimal(2),
    )
    assert token.output_tokens[0].tokens == 1120  # kept from the version in force
    assert version.source == "openrouter-models-2026-12-01"
    change = report.changes.row(0, named=True)
    assert change["change_pct"] == pytest.approx(20.0)
    skipped = dict(zip(report.skipped["item"], report.skipped["reason"], strict=True))
    assert "-1" in skipped["openrouter/auto-beta"]


def card(provider: str, offer_id: str, model: str, component: str) -> bytes:
    return f"""\
#:schema ../schema/rate-card.json
provider = "{provider}"
name = "{provider.title()}"

[[offers]]
id = "{offer_id}"
model = "{model}"
operations = ["generate"]

  [[offers.versions]]
  effective_from = 2026-01-01
  source = "team-negotiated"
  components = [{component}]
""".encode()


def test_cards_pull_adds_a_version_then_finds_it_unchanged(
    server: FixtureServer, data: Path, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_PRICES_TOKEN", "team-token-42")
    body = card("fal", "fal/flux-1-dev", "flux-1-dev", '{ unit = "megapixel", price = 0.03 }')
    url = server.route("/cards/fal.toml", Reply(body))
    report = pull_cards(url, kind="official", auth_env="TEAM_PRICES_TOKEN", data_dir=data,
                        policy=policy, cache_dir=data.parent / "cache", now=NOW)  # fmt: skip
    assert server.requests()[0].headers["authorization"] == "Bearer team-token-42"
    sid = report.sources["source_id"][0]
    catalog = pricing.load_catalog(data)
    new = catalog.offer("fal/flux-1-dev").versions[-1]
    assert (new.source, new.effective_from) == (sid, date(2026, 12, 1))
    assert new.components == [MegapixelPrice(unit="megapixel", price=Decimal("0.03"))]
    assert "team-negotiated" in (new.notes or "")
    assert (catalog.sources[sid].url, catalog.sources[sid].kind) == (url, "official")
    change = report.changes.row(0, named=True)
    assert change["change_pct"] == pytest.approx(20.0)  # 0.025 -> 0.03 per MP
    after = snapshot(data)
    again = pull_cards(url, kind="official", auth_env="TEAM_PRICES_TOKEN", data_dir=data,
                       policy=policy, cache_dir=data.parent / "cache", now=LATER)  # fmt: skip
    assert again.sources["unchanged"][0] == 1
    assert snapshot(data) == after
    assert all(b"team-token" not in (data / f).read_bytes() for f in after)


def test_cards_pull_creates_a_new_card(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    body = card("acme", "acme/flux-dev", "flux-1-dev", '{ unit = "image", price = 0.02 }')
    url = server.route("/acme.toml", Reply(body))
    pull_cards(url, data_dir=data, policy=policy, cache_dir=data.parent / "cache", now=NOW)
    text = (data / "rate-cards/acme.toml").read_text(encoding="utf-8")
    assert text.startswith("#:schema ../schema/rate-card.json\n")
    offer = pricing.load_catalog(data).offer("acme/flux-dev")
    assert offer.versions[0].components == [ImagePrice(unit="image", price=Decimal("0.02"))]


# --------------------------------------------------------------------------- failures

NEGATIVE = LAMBDA.replace(H100_PCIE_US_EAST_1, H100_PCIE_US_EAST_1.replace(b"3.29", b"-3.29"))
UNKNOWN_MODEL = card("acme", "acme/x", "no-such-model", '{ unit = "image", price = 0.02 }')
NEGATIVE_CARD = card("acme", "acme/x", "flux-1-dev", '{ unit = "image", price = -0.02 }')
FAULTS = {
    "500": ("skypilot-lambda", [Reply(b"oops", 500)], "gave up after 3 attempt(s): HTTP 500", 3),
    "429": (
        "skypilot-lambda",
        [Reply(status=429, headers={"Retry-After": "1"})],
        "HTTP 429 Too Many Requests",
        3,
    ),
    "slow": ("skypilot-lambda", [Reply(LAMBDA, delay=5.0)], "timed out", 3),
    "truncated": (
        "skypilot-lambda",
        [Reply(LAMBDA[:1000], content_length=len(LAMBDA))],
        "broke before the whole response arrived",
        3,
    ),
    "bad-csv": ("skypilot-lambda", [Reply(b"<html>sorry</html>")], "not a SkyPilot v8 catalog", 1),
    "negative-price": (
        "skypilot-lambda",
        [Reply(NEGATIVE)],
        "line 264: Price '-3.29' is negative",
        1,
    ),
    "missing-columns": ("skypilot-lambda", [Reply(b"InstanceType,Price\nx,1\n")], "lacks", 1),
    "bad-json": ("openrouter", [Reply(b'{"data": [')], "not valid JSON", 1),
    "missing-pricing": ("openrouter", [Reply(b'{"data": [{"id": "a/b"}]}')], "data.0.pricing", 1),
    "bad-xml": ("ecb", [Reply(b"<gesmes:Envelope><Cube")], "not well-formed XML", 1),
    "fal-missing-price": (
        "fal",
        [Reply(b'{"prices": [{"endpoint_id": "fal-ai/flux/dev", "unit": "image"}]}')],
        "unit_price",
        1,
    ),
    "card-negative": ("card", [Reply(NEGATIVE_CARD)], "invalid rate card", 1),
    "card-unknown-model": ("card", [Reply(UNKNOWN_MODEL)], "unknown model 'no-such-model'", 1),
    "oversized": ("ecb", [Reply(b"x" * 5000)], "too large", 1),
    "redirect": ("ecb", [Reply(status=302, headers={"Location": "LOCALHOST"})], "another host", 1),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failed_refresh_leaves_data_unchanged_and_says_why(
    fault: str,
    server: FixtureServer,
    data: Path,
    policy: FetchPolicy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, replies, reason, requests = FAULTS[fault]
    monkeypatch.setenv("FAL_KEY", "k")
    if fault == "redirect":
        replies = [
            Reply(status=302, headers={"Location": server.url("/ecb.xml", host="localhost")})
        ]
    # A registry may write the provider its URL's file names: the cards here are acme's.
    path = "/feed/acme.toml" if source == "card" else "/feed"
    url = server.route(path, *replies)
    if fault == "oversized":
        policy = FetchPolicy(max_bytes=1000, retries=2, trust_env=False, sleep=lambda _: None)
    if fault == "slow":
        policy = FetchPolicy(read_timeout=0.1, retries=2, trust_env=False, sleep=lambda _: None)
    before = snapshot(data)
    name = url if source == "card" else source
    with pytest.raises(RefreshError) as info:
        run([name], data, policy, {} if source == "card" else {source: url})
    message = str(info.value)
    assert message.startswith(f"{name}:") or message.startswith(f"{name} (")
    assert reason in message
    assert "nothing was written" in message
    assert snapshot(data) == before
    assert server.count(path) == requests
    assert server.count("/ecb.xml") == 0


def test_one_failed_source_means_nothing_is_written(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    urls = {
        "skypilot-lambda": server.route("/vms.csv", Reply(LAMBDA_US_EAST_1)),
        "ecb": server.route("/ecb.xml", Reply(b"", 500)),
    }
    before = snapshot(data)
    with pytest.raises(RefreshError, match=r"^ecb .*HTTP 500.*nothing was written") as info:
        run(["skypilot-lambda", "ecb"], data, policy, urls)
    assert snapshot(data) == before
    statuses = dict(
        zip(info.value.report.sources["source"], info.value.report.sources["status"], strict=True)
    )
    assert statuses == {"skypilot-lambda": "ok", "ecb": "failed"}


def test_every_source_by_default_and_fal_skipped_without_its_key(
    server: FixtureServer, data: Path, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    urls = {
        "ecb": server.route("/ecb.xml", Reply(ECB)),
        "openrouter": server.route("/models", Reply(fixture("openrouter-models.json"))),
        "fal": server.route("/fal", Reply(fixture("fal-pricing.json"))),
        **{
            f"skypilot-{cloud}": server.route(f"/{cloud}.csv", Reply(LAMBDA_US_EAST_1))
            for cloud in ("aws", "gcp", "lambda", "runpod")
        },
    }
    report = refresh(data_dir=data, urls=urls, policy=policy, cache_dir=data.parent / "cache",
                     now=NOW, dry_run=True)  # fmt: skip
    statuses = dict(zip(report.sources["source"], report.sources["status"], strict=True))
    assert statuses == {
        "ecb": "ok",
        "skypilot-aws": "ok",
        "skypilot-gcp": "ok",
        "skypilot-lambda": "ok",
        "skypilot-runpod": "ok",
        "openrouter": "ok",
        "fal": "skipped",
    }
    assert report.sources.filter(source="fal")["reason"][0] == "FAL_KEY is not set"
    assert server.count("/fal") == 0
    with pytest.raises(RefreshError, match=r"^nope: unknown source; known: ecb, "):
        refresh(["nope"], data_dir=data, policy=policy)


def test_dry_run_reports_changes_and_writes_nothing(
    server: FixtureServer, data: Path, policy: FetchPolicy
) -> None:
    before = snapshot(data)
    url = server.route("/v", Reply(LAMBDA_US_EAST_1))
    report = run(["skypilot-lambda"], data, policy, {"skypilot-lambda": url}, dry_run=True)
    assert report.changes.height == 22
    assert report.written == ()
    assert snapshot(data) == before


def test_a_file_changed_during_the_refresh_stops_the_write(
    server: FixtureServer, data: Path, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pricing._refresh import write as _refresh_write

    validate = _refresh_write._validate_staged

    def meanwhile(root: Path, files: dict[str, str]) -> None:
        validate(root, files)
        with (root / "sources.toml").open("a", encoding="utf-8") as fh:
            fh.write("# an editor saved the file\n")

    monkeypatch.setattr(_refresh_write, "_validate_staged", meanwhile)
    offers = (data / "gpus/offers.toml").read_bytes()
    with pytest.raises(RefreshError, match=r"sources.toml changed while the refresh ran"):
        run(
            ["skypilot-lambda"],
            data,
            policy,
            {"skypilot-lambda": server.route("/v", Reply(LAMBDA_US_EAST_1))},
        )
    assert (data / "gpus/offers.toml").read_bytes() == offers


# --------------------------------------------------------------------------- CLI


def test_cli_refresh_prints_json_and_fails_with_the_reason(
    server: FixtureServer, data: Path
) -> None:
    runner = CliRunner()
    url = server.route("/vms.csv", Reply(LAMBDA_US_EAST_1))
    common = ["--data", str(data), "--cache-dir", str(data.parent / "cache"), "--dry-run"]
    result = runner.invoke(
        app, ["refresh", "skypilot-lambda", "--url", f"skypilot-lambda={url}", *common, "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sources"][0]["new"] == 22
    assert payload["written"] == []
    bad = server.route("/ecb.xml", Reply(b"", 500))
    result = runner.invoke(app, ["fx", "pull", "--url", bad, "--retries", "0", *common])
    assert result.exit_code == 1
    assert "ecb" in result.stderr
    assert "HTTP 500" in result.stderr
    result = runner.invoke(app, ["gpus", "pull", "lambda", "--url", f"lambda={url}", *common])
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was written" in result.stdout

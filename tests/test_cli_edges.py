"""The command line's rough edges (issue 21), one test each: an 80-column terminal, errors and
advice in command line words, words the prices do not know, file lines, separators, provider
names in any case, an offer's model, units in the help, simulate --as-of, workloads show, the
budget page and the estimate of unpriced calls.

Every expected figure is arithmetic on the rates written here, never a number read back from
the code or the bundled rate cards.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner, Result

import pricing
from pricing.cli import app
from pricing.cli.tree import COMMANDS, GROUPS, app_for
from tests.conftest import MODELS, offer, version, write_data

runner = CliRunner()

#: A model id long enough to be cut in a narrow table.
LONG = "studio-diffusion-xl-turbo-2026"
MODELS_HERE = (
    MODELS
    + f"""
[[model]]
id = "{LONG}"
name = "Studio Diffusion XL Turbo"
vendor = "Acme"
open_weights = false
operations = ["generate"]

[[model]]
id = "q"
name = "Model Q"
vendor = "Acme"
open_weights = false
operations = ["generate"]
"""
)
ACME = Decimal("0.04")  # acme/m, per image
STUDIO = Decimal("9.57")  # acme/<LONG>, per image: 250 images = 2,392.50
STUDIO_BETA = Decimal("9.60")  # beta/<LONG>, per image: 250 images = 2,400.00
LOW, HIGH = Decimal("0.01"), Decimal("0.04")  # openai/q by quality
DAY = "2026-06-01"


def _per_image(price: Decimal, **kw: Any) -> str:
    return offer(version(f'{{ unit = "image", price = {price} }}'), **kw)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    quality = version(
        f'{{ unit = "image", price = {LOW}, when = {{ quality = "low" }} }}, '
        f'{{ unit = "image", price = {HIGH}, when = {{ quality = "high" }} }}'
    )
    cards = {
        "acme": _per_image(ACME, offer_id="acme/m")
        + _per_image(STUDIO, offer_id=f"acme/{LONG}", model=LONG, operations='["generate"]'),
        "beta": _per_image(
            STUDIO_BETA, offer_id=f"beta/{LONG}", model=LONG, operations='["generate"]'
        ),
        "gamma": _per_image(ACME, offer_id="gamma/m-a") + _per_image(ACME, offer_id="gamma/m-b"),
        "openai": offer(
            quality,
            offer_id="openai/q",
            model="q",
            operations='["generate"]',
            settings='qualities = ["low", "high"]',
        ),
    }
    return write_data(tmp_path_factory.mktemp("edges"), cards, models=MODELS_HERE)


def cli(*args: str | Path, columns: int = 160) -> Result:
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns)})


def one_error(result: Result) -> str:
    """The one error line of a failed command (never a traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- 80 columns


def test_an_80_column_terminal_cuts_no_money_and_no_model_id(tmp_path: Path, data: Path) -> None:
    # 250 images on acme/<LONG> at 9.57 = 2,392.50; on beta at 9.60 = 2,400.00, saving -7.50
    log = write(
        tmp_path / "usage.csv",
        "timestamp,provider,model,count,billed_cost",
        f"2026-03-01T10:00:00Z,acme,{LONG},250,2400",
    )
    narrow = cli("replay", log, "--data", data, columns=80)
    assert narrow.exit_code == 0, narrow.output
    text = narrow.stdout
    assert max(len(line) for line in text.splitlines()) <= 80  # rich follows COLUMNS
    assert "…" not in text
    assert LONG in text
    for figure in ("USD 2,392.50", "USD 2,400.00", "USD -7.50", "USD 7.50"):  # 2,400 - 2,392.50
        assert figure in text
    wide = cli("replay", log, "--data", data, columns=200)
    assert max(len(line) for line in wide.stdout.splitlines()) > 80
    quoted = cli(
        "quote", "--model", LONG, "--count", "250", "--as-of", DAY, "--data", data, columns=80
    )
    assert quoted.exit_code == 0, quoted.output
    assert "…" not in quoted.stdout
    assert f"acme/{LONG}" in quoted.stdout
    assert "$2,392.5000" in quoted.stdout  # 4 places in the comparison
    assert max(len(line) for line in quoted.stdout.splitlines()) <= 80


# --------------------------------------------------------------------------- errors in CLI words


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--size", "0x1024"], "error: --size 0x1024: width must be 1 to 100,000 px"),
        (["--size", "1024x100001"], "error: --size 1024x100001: height must be 1 to 100,000 px"),
        (["--count", "-3"], "error: --count -3: must be 1 to 1,000,000,000 images"),
        (["--steps", "0"], "error: --steps 0: must be 1 to 10,000 steps"),
    ],
)
def test_a_number_out_of_range_is_said_as_its_option(
    data: Path, args: list[str], said: str
) -> None:
    line = one_error(cli("quote", "--model", "m", *args, "--data", data))
    assert line == said
    assert "pydantic" not in line
    assert "http" not in line
    assert "ImageRequest" not in line


def test_advice_names_the_options_not_python(tmp_path: Path, data: Path) -> None:
    python_style = re.compile(r"\b[a-z_]+=[.{(\[]|Decimal\(|Budget\(|HostingTerms\(")
    no_time = write(tmp_path / "nots.csv", "ts,provider,model", "2026-03-01T10:00:00Z,acme,m")
    missing = one_error(cli("replay", no_time, "--data", data))
    assert "--map YOURNAME=timestamp" in missing
    mapped = one_error(cli("replay", no_time, "--data", data, "--map", "when=timestamp"))
    assert mapped.startswith("error: --map names columns the log does not have: when")
    gpu = one_error(
        cli("breakeven", "--model", "flux-1-schnell", "--gpu", "a100-80gb", "--hosted", "0.025")
    )
    assert "--gpu-hour" in gpu
    amount = one_error(cli("budget", no_time, "--data", data, "--monthly", "lots"))
    assert (
        amount == "error: --monthly lots: must be a positive amount per month, e.g. --monthly 5000"
    )
    for line in (missing, mapped, gpu, amount):
        assert not python_style.search(line), line
    # gamma serves m twice: the quarantine's reason names --offer-map, not offer_map={...}
    two = write(tmp_path / "two.csv", "timestamp,provider,model", "2026-03-01T10:00:00Z,gamma,m")
    shown = cli("replay", two, "--data", data, columns=120)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert "--offer-map gamma/m=OFFER" in text
    assert "offer_map" not in text
    assert not python_style.search(text)


# --------------------------------------------------------------------------- known words


def test_an_unknown_quality_or_operation_is_refused_with_the_known_ones(data: Path) -> None:
    q = ("quote", "--model", "q", "--as-of", DAY, "--data", data)
    assert one_error(cli(*q, "--quality", "ultra")) == (
        "error: --quality ultra: unknown for the offers of q; use one of low, high"
    )
    ignored = one_error(cli("quote", "--model", "m", "--quality", "hd", "--data", data))
    assert "--quality hd: the offers of m price no quality levels" in ignored
    op = one_error(cli("quote", "--model", "m", "--operation", "paint", "--data", data))
    assert op == (
        "error: --operation paint: unknown; use one of generate, edit, inpaint, upscale, "
        "vectorize, remove-background"
    )
    high = cli(*q, "--quality", "high", "--json")
    assert high.exit_code == 0, high.output
    assert Decimal(json.loads(high.stdout)["offers"][0]["total"]) == HIGH


# --------------------------------------------------------------------------- log files


def test_quarantine_lines_are_the_files_lines(tmp_path: Path, data: Path) -> None:
    csv = write(
        tmp_path / "log.csv",
        "timestamp,provider,model,count",  # line 1: the header
        "2026-03-01T10:00:00Z,acme,m,1",  # line 2: priced
        "",  # line 3: blank, skipped
        "yesterday,acme,m,1",  # line 4: bad timestamp
        "2026-03-02T10:00:00Z,acme,m",  # line 5: a field short
        "2026-03-03T10:00:00Z,nobody,m,1",  # line 6: unknown provider
    )
    out = tmp_path / "bad.csv"
    assert cli("replay", csv, "--data", data, "--quarantine", out).exit_code == 0
    assert pl.read_csv(out, infer_schema=False)["line"].to_list() == ["4", "5", "6"]
    ndjson = write(
        tmp_path / "log.ndjson",
        '{"timestamp": "2026-03-01T10:00:00Z", "provider": "acme", "model": "m"}',  # line 1
        "not json",  # line 2
        '{"timestamp": "never", "provider": "acme", "model": "m"}',  # line 3
    )
    out = tmp_path / "bad-ndjson.csv"
    assert cli("replay", ndjson, "--data", data, "--quarantine", out).exit_code == 0
    assert pl.read_csv(out, infer_schema=False)["line"].to_list() == ["2", "3"]


@pytest.mark.parametrize("sep", [";", "\t", "|", ","])
def test_the_csv_separator_is_read_from_the_header(tmp_path: Path, data: Path, sep: str) -> None:
    # 2 + 3 images on acme/m at 0.04 = 0.20
    log = write(
        tmp_path / "log.csv",
        sep.join(["timestamp", "provider", "model", "count"]),
        sep.join(["2026-03-01T10:00:00Z", "acme", "m", "2"]),
        sep.join(["2026-03-02T10:00:00Z", "acme", "m", "3"]),
    )
    result = cli("replay", log, "--data", data, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["rows_priced"], payload["rows_quarantined"]) == (2, 0)
    assert Decimal(payload["totals"]["USD"]) == 5 * ACME


def test_provider_names_are_read_in_any_case(tmp_path: Path, data: Path) -> None:
    # ACME and Acme are acme: 1 + 2 images at 0.04; NoBody stays unknown, shown as written
    log = write(
        tmp_path / "log.csv",
        "timestamp,provider,model,count",
        "2026-03-01T10:00:00Z,ACME,m,1",
        "2026-03-02T10:00:00Z,Acme,m,2",
        "2026-03-03T10:00:00Z,NoBody,m,1",
    )
    out = tmp_path / "bad.csv"
    result = cli("replay", log, "--data", data, "--json", "--quarantine", out)
    payload = json.loads(result.stdout)
    assert (payload["rows_priced"], payload["rows_quarantined"]) == (2, 1)
    assert Decimal(payload["totals"]["USD"]) == 3 * ACME
    bad = pl.read_csv(out, infer_schema=False).row(0, named=True)
    assert (bad["reason"], bad["provider"]) == ("unknown provider", "NoBody")
    offer_log = write(tmp_path / "offers.csv", "timestamp,offer_id", "2026-03-01T10:00:00Z,ACME/m")
    by_offer = json.loads(cli("replay", offer_log, "--data", data, "--json").stdout)
    assert by_offer["rows_priced"] == 1
    quoted = cli("quote", "--offer", "ACME/m", "--as-of", DAY, "--data", data, "--json")
    assert quoted.exit_code == 0, quoted.output
    assert Decimal(json.loads(quoted.stdout)["total"]) == ACME


def test_cards_list_reads_a_provider_in_any_case(data: Path) -> None:
    upper = cli("cards", "list", "--provider", "ACME", "--data", data, "--json")
    assert upper.exit_code == 0, upper.output
    lower = cli("cards", "list", "--provider", "acme", "--data", data, "--json")
    assert json.loads(upper.stdout) == json.loads(lower.stdout)
    assert {row["provider"] for row in json.loads(upper.stdout)} == {"acme"}
    unknown = one_error(cli("cards", "list", "--provider", "NoBody", "--data", data))
    assert "unknown provider 'NoBody'" in unknown
    assert "acme" in unknown


def test_an_fx_rate_that_converts_nothing_is_said_to_be_unused(data: Path) -> None:
    # the offers are in USD and the answer too: EURGBP converts nothing, EURUSD is used
    args = ("quote", "--offer", "acme/m", "--as-of", DAY, "--data", data, "--currency", "EUR")
    result = cli(*args, "--fx", "EURUSD=1.25", "--fx", "EURGBP=0.85")
    assert result.exit_code == 0, result.output
    assert "--fx EURGBP=0.85 was not used" in result.output
    assert "--fx EURUSD=1.25 was not used" not in result.output
    assert "1 USD = 0.8 EUR" in result.output  # 1 / 1.25, the rate given, reported as used


@pytest.mark.parametrize("name", [*COMMANDS, *GROUPS])
def test_a_command_runs_the_same_on_a_tree_of_its_own(name: str) -> None:
    # the console script builds only the command it runs (pricing_start -> app_for)
    runner = CliRunner()
    alone = runner.invoke(app_for([name]), [name, "--help"], terminal_width=100)
    whole = runner.invoke(app, [name, "--help"], terminal_width=100)
    assert alone.exit_code == whole.exit_code == 0
    assert alone.output == whole.output
    assert app_for(["--help"]) is app
    assert app_for(["nosuch"]) is app  # an unknown command: the whole tree says so


def test_the_console_script_quotes_by_the_command_name(data: Path) -> None:
    args = ["quote", "--offer", "acme/m", "--as-of", DAY, "--data", str(data), "--json"]
    result = CliRunner().invoke(app_for(args), args)
    assert result.exit_code == 0, result.output
    assert Decimal(json.loads(result.stdout)["total"]) == ACME


#: What a quick command must not load (polars alone takes as long as the whole quote; typer
#: is left to the other commands: see pricing.cli.quick).
HEAVY = ("polars", "numpy", "scipy", "altair", "vl_convert", "ray", "httpx", "typer")
#: Runs the console script's entry point, then prints the heavy modules it loaded.
PROBE = (
    "import atexit, sys; "
    f"atexit.register(lambda: print('loaded:', *[m for m in {HEAVY!r} if m in sys.modules])); "
    "sys.argv[0] = 'pricing'; from pricing_start import main; main()"
)


@pytest.mark.parametrize(
    "args",
    [
        ["quote", "--model", "flux-2-pro", "--size", "2048x1024", "--count", "4"],
        ["quote", "--model", "gpt-image-1", "--all", "--json"],
        ["quote", "--offer", "bfl/flux-2-pro", "--quality", "nosuch"],  # an error too
        ["cards", "list"],
    ],
)
def test_a_quick_command_loads_no_heavy_module(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "COLUMNS": "200"}
    for _ in range(2):  # the first run fills the catalog cache, the second reads it
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env
        )
        *printed, loaded = done.stdout.strip().splitlines()
        assert loaded == "loaded:", (loaded, done.stderr)
        assert printed or done.stderr.startswith("error:")


# --------------------------------------------------------------------------- options


def test_an_offer_names_its_model(data: Path) -> None:
    result = cli(
        "quote", "--offer", "openai/q", "--quality", "low", "--as-of", DAY, "--data", data, "--json"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["request"]["model"], Decimal(payload["total"])) == ("q", LOW)


def test_money_and_time_options_state_their_units() -> None:
    breakeven = " ".join(cli("breakeven", "--help", columns=200).stdout.split())
    for unit in ("[USD/GPU-h]", "[USD/image]", "[USD/month]", "[images/month]", "[s]", "[px]"):
        assert unit in breakeven, unit
    quote = " ".join(cli("quote", "--help", columns=200).stdout.split())
    for unit in ("[s/image]", "[images/month]", "[images]", "[px]", "[tokens]"):
        assert unit in quote, unit
    budget = " ".join(cli("budget", "--help", columns=200).stdout.split())
    assert "[USD/month by default]" in budget


def test_simulate_prices_the_catalog_of_its_as_of_day() -> None:
    result = cli("simulate", "small", "--as-of", "2026-03-02", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["as_of"] == "2026-03-02"
    assert one_error(cli("simulate", "small", "--as-of", "soon")).startswith("error:")


def test_workloads_show_a_workload(tmp_path: Path) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text(
        'name = "Mine"\ncurrency = "EUR"\nstart = 2027-01-01\nmonths = 6\n'
        "fx = { EURUSD = 1.1 }\n"
        "[traffic]\npeak_to_mean = 2.0\n"
        '[[segments]]\nname = "covers"\noperation = "generate"\nmodels = ["flux-2-pro"]\n'
        "volume = { base = 1000, growth = 0.05 }\n"
        "resolutions = [{ width = 1024, height = 1536, share = 1.0 }]\n",
        encoding="utf-8",
    )
    shown = cli("workloads", "show", toml, columns=80)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    for said in (
        "Mine",
        "6 month(s) from 2027-01",
        "EUR",
        "EURUSD 1.1",
        "peak hour 2.00x the mean rate",
        "covers",
        "flux-2-pro",
        "1,000 images",
        "+5.0%/month",
        "1024x1536 (100%)",
        "no self-hosting terms",
    ):
        assert said in text, said
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    payload = json.loads(cli("workloads", "show", toml, "--json").stdout)
    assert (payload["currency"], payload["fx"], payload["months"]) == ("EUR", {"EURUSD": 1.1}, 6)
    assert payload["segments"][0]["volume"] == {"base": 1000.0, "growth": 0.05, "series": None}
    assert payload["peak_to_mean"] == {"covers": 2.0}
    unknown = cli("workloads", "show", "no-such-workload")
    assert unknown.exit_code == 2
    assert "unknown workload 'no-such-workload'" in unknown.stderr
    assert "Traceback" not in unknown.output


# --------------------------------------------------------------------------- budget


def _days(first: int, last: int, images: int = 50, operation: str = "generate") -> list[str]:
    return [
        f"2026-03-{d:02d}T12:00:00Z,acme,m,{operation},{images}" for d in range(first, last + 1)
    ]


HEADER = "timestamp,provider,model,operation,count"


def test_the_budget_page_holds_the_status_table_above_the_chart(tmp_path: Path, data: Path) -> None:
    # 10 days x 50 images x 0.04 = 20.00 spent; 2.00 a day
    log = write(tmp_path / "usage.csv", HEADER, *_days(1, 10))
    page = tmp_path / "budget.html"
    result = cli("budget", log, "--data", data, "--monthly", "50", "--out", page)
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    table = text.index("budget-status")
    assert table < text.index("vegaEmbed(")
    status = text[table : text.index("</table>", table)]
    for said in ("spent so far", "USD 20.00", "run rate", "USD 2.00", "forecast month end"):
        assert said in status, said


def test_alert_labels_sit_beyond_the_plot(tmp_path: Path, data: Path) -> None:
    log = write(tmp_path / "usage.csv", HEADER, *_days(1, 10))
    result = pricing.replay(log, catalog=pricing.load_catalog(data), alternatives=False)
    spec = pricing.budget_chart(
        pricing.budget_status(result, pricing.Budget(monthly=50, alerts=(0.5, 0.8, 1.0)))
    ).to_dict()
    texts = [layer for layer in spec["layer"] if _mark(layer) == "text"]
    alert = next(t for t in texts if t["mark"]["color"] != "#d62728")  # the budget's is red
    # right of the plot (x = its width, moved on), level with its rule: no line crosses it
    assert alert["encoding"]["x"] == {"value": "width"}
    assert (alert["mark"]["align"], alert["mark"]["baseline"]) == ("left", "middle")
    assert alert["mark"]["dx"] > 0


def _mark(layer: dict[str, Any]) -> str:
    mark = layer["mark"]
    return str(mark["type"] if isinstance(mark, dict) else mark)


def test_the_budget_forecasts_unpriced_calls_at_the_nearest_price(
    tmp_path: Path, data: Path
) -> None:
    # March 1-4: 50 images a day at 0.04 = 2.00 a day, 8.00; March 5: 10 inpaint images,
    # which acme/m does not serve: unpriced, estimated at acme/m's price on March 4, 0.04 an
    # image = 0.40. Run rate (8.00 + 0.40) / 5 = 1.68; forecast 1.68 x 31 = 52.08; the $50
    # budget: 8.40 + 1.68 x 25 days = 50.40 on March 30 (March 29: 48.72). Without the
    # estimate the run rate is 1.60 and the forecast 49.60: "not this month".
    log = write(tmp_path / "usage.csv", HEADER, *_days(1, 4), *_days(5, 5, 10, "inpaint"))
    result = cli("budget", log, "--data", data, "--monthly", "50", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert Decimal(payload["spent"]) == Decimal("8.00")
    assert (Decimal(payload["estimated"]), payload["estimated_calls"]) == (Decimal("0.40"), 1)
    assert Decimal(payload["run_rate"]) == Decimal("1.68")
    assert Decimal(payload["forecast"]) == Decimal("52.08")
    assert payload["run_out"] == "2026-03-30"
    assert any(
        n.startswith("forecast includes an estimate of 1 unpriced call(s)")
        for n in payload["notes"]
    )
    shown = " ".join(cli("budget", log, "--data", data, "--monthly", "50").stdout.split())
    assert "Mon 2026-03-30" in shown
    estimated = "forecast includes an estimate of 1 unpriced call(s) at their offer's nearest"
    assert f"{estimated} price: USD 0.40" in shown
    # calls no price can be found for are never left out silently
    alone = write(tmp_path / "alone.csv", HEADER, *_days(5, 5, 10, "inpaint"))
    said = " ".join(cli("budget", alone, "--data", data, "--monthly", "50").stdout.split())
    assert "not this month" in said
    assert "1 unpriced call(s) not estimated: may be sooner" in said
    assert "1 unpriced call(s) have no estimate" in said


def test_the_api_estimates_only_when_asked(tmp_path: Path, data: Path) -> None:
    log = write(tmp_path / "usage.csv", HEADER, *_days(1, 4), *_days(5, 5, 10, "inpaint"))
    replayed = pricing.replay(log, catalog=pricing.load_catalog(data), alternatives=False)
    plain = pricing.budget_status(replayed, pricing.Budget(monthly=50))
    assert (plain.forecast, plain.run_out) == (Decimal("49.60"), None)
    assert plain.estimated == 0
    assert any("in neither the spend nor the forecast" in n for n in plain.notes)
    asked = pricing.budget_status(replayed, pricing.Budget(monthly=50), estimate=True)
    assert (asked.forecast, asked.run_out) == (Decimal("52.08"), date(2026, 3, 30))

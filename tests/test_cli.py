"""The command line, run in-process through typer and once as the installed console script."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer.main
from typer.testing import CliRunner

import pricing
from pricing._cards.loader import bundled_data_dir
from pricing.cli import app
from pricing.cli._common import HELP_WIDTH

runner = CliRunner()


def test_quote_default_lists_providers_cheapest_first() -> None:
    result = runner.invoke(app, ["quote", "--as-of", "2026-11-21", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["request"]["model"] == "flux-2-pro"
    totals = [Decimal(r["total"]) for r in payload["offers"]]
    assert totals == sorted(totals)
    providers = {r["provider"] for r in payload["offers"]}
    assert {"bfl", "fal", "replicate", "together", "fireworks"} <= providers
    for row in payload["offers"]:
        assert row["source_id"]
        assert row["seen"]


def test_quote_table_names_sources_and_dates() -> None:
    result = runner.invoke(app, ["quote", "--as-of", "2026-11-21"])
    assert result.exit_code == 0, result.output
    assert "cheapest first" in result.stdout
    assert "bfl/flux-2-pro" in result.stdout
    assert "official" in result.stdout


def test_quote_one_offer_shows_line_items() -> None:
    # FLUX.2 [pro] at BFL: 3c first MP + 1.5c per extra MP, 1 MP = 10^6 px.
    result = runner.invoke(
        app,
        [
            "quote",
            "--offer",
            "bfl/flux-2-pro",
            "--size",
            "2048x1024",
            "--as-of",
            "2026-11-21",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    expected = Decimal("0.03") + (Decimal(2048 * 1024) / Decimal(10**6) - 1) * Decimal("0.015")
    assert Decimal(payload["total"]) == expected
    assert payload["source_kind"] == "official"


def test_quote_bad_size_is_a_clear_error() -> None:
    result = runner.invoke(app, ["quote", "--size", "1024by1024"])
    assert result.exit_code == 2
    assert "must look like 1024x1024" in result.stderr


def test_quote_unknown_model_names_known_ones() -> None:
    result = runner.invoke(app, ["quote", "--model", "flux-9"])
    assert result.exit_code == 2
    assert "unknown model 'flux-9'" in result.stderr
    assert "flux-2-pro" in result.stderr


def test_cards_list_show_history() -> None:
    listed = runner.invoke(app, ["cards", "list", "--provider", "bfl", "--json"])
    assert listed.exit_code == 0, listed.output
    ids = {r["offer_id"] for r in json.loads(listed.stdout)}
    assert "bfl/flux-2-flex" in ids
    shown = runner.invoke(app, ["cards", "show", "bfl/flux-2-flex"])
    assert shown.exit_code == 0, shown.output
    assert "flux-2-flex" in shown.stdout
    history = runner.invoke(app, ["cards", "history", "bfl/flux-2-flex", "--json"])
    assert history.exit_code == 0, history.output
    rows = json.loads(history.stdout)
    froms = [r["effective_from"] for r in rows]
    assert froms == sorted(froms)
    assert any(r["effective_to"] == "2026-01-28" for r in rows)  # the 6c -> 5c change


def test_cards_show_reads_as_words() -> None:
    # data/rate-cards/bfl.toml: flux-2-pro takes at most 4 MP, sides from 64 px in steps of
    # 16, up to 8 input images; one of its versions prices generate and edit apart
    shown = runner.invoke(app, ["cards", "show", "bfl/flux-2-pro"])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert (
        "limits: at most 4 MP, sides at least 64 px, sides a multiple of 16 px, "
        "at most 8 input image(s)"
    ) in text
    assert "when operation edit" in text
    # aigenerate reads 1K as a longest side up to 1024 px, 2K up to 2048 px
    brackets = runner.invoke(app, ["cards", "show", "aigenerate/flux-2-pro"])
    assert (
        "size brackets: 1K (longest side up to 1024 px), 2K (longest side up to 2048 px)"
        in brackets.stdout
    )
    for output in (shown.stdout, brackets.stdout):  # no Python reprs
        assert "Decimal(" not in output
        assert "{'" not in output


def test_cards_show_unknown_offer() -> None:
    result = runner.invoke(app, ["cards", "show", "bfl/nope"])
    assert result.exit_code == 2
    assert "unknown offer 'bfl/nope'" in result.stderr


def test_validate_ok_on_bundled_data() -> None:
    result = runner.invoke(app, ["cards", "validate"])
    assert result.exit_code == 0, result.output
    assert "ok:" in result.stdout


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_data_dir(), data)
    card = data / "rate-cards" / "bfl.toml"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace("[[offers]]", "[[offers]]\ncolour = 'blue'", 1), "utf-8")
    (data / "rate-cards" / "extra.toml").write_text(
        "#:schema ../schema/rate-card.json\n"
        'provider = "extra"\nname = "Extra"\n'
        '[[offers]]\nid = "extra/x"\nmodel = "flux-2-pro"\noperations = ["generate"]\n'
        '[[offers.versions]]\neffective_from = 2026-01-01\nsource = "no-such-source"\n'
        'components = [{ unit = "image", price = 0.01 }]\n',
        "utf-8",
    )
    result = runner.invoke(app, ["cards", "validate", str(data)])
    assert result.exit_code == 1
    assert "2 problem(s) found" in result.stderr
    assert "unknown source 'no-such-source'" in result.stderr
    assert "colour" in result.stderr


def test_console_script_runs_quickstart_command() -> None:
    exe = Path(sys.executable).with_name("pricing")
    result = subprocess.run(
        [str(exe), "quote", "--as-of", "2026-11-21"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "bfl/flux-2-pro" in result.stdout


# --------------------------------------------------------------------------- help texts


def _commands(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, [*path, name])


def test_help_paragraphs_are_wrapped_by_the_terminal_only() -> None:
    # typer keeps a help text's line breaks, so a paragraph wrapped in the source is wrapped
    # twice in an 80-column terminal; a line break may only separate indented table lines
    # that fit.
    commands = list(_commands(typer.main.get_command(app), []))
    assert len(commands) > 15
    for path, command in commands:
        paragraphs = (command.help or "").split("\n\n")[1:]
        for paragraph in paragraphs:
            lines = paragraph.splitlines()
            if len(lines) > 1:
                assert all(line.startswith(" ") for line in lines), (path, lines[0])
                assert max(len(line) for line in lines) <= HELP_WIDTH, (path, lines)


def test_replay_help_fits_an_80_column_terminal() -> None:
    result = runner.invoke(app, ["replay", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    text = result.stdout
    # a paragraph flows as one text: no line ends a few words short of the margin mid-sentence
    assert "one row per call, priced at each call's own timestamp" in " ".join(text.split())
    # a column's meaning that wraps continues under the meanings, not at the left margin
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if re.match(r"^\s+input_image_tokens\s", line))
    first = lines[at].index("optional") + len("optional  ")
    assert lines[at + 1][:first].strip() == ""
    assert lines[at + 1][first:].strip()


def test_a_source_without_a_date_is_shown_as_undated() -> None:
    # data/sources.toml: BFL's skills repository dates its commits (published 2026-01-28); the
    # docs pricing page shows no date, so its read date must not pass for a price date.
    req = pricing.ImageRequest(model="flux-2-flex")
    dated = pricing.quote(req, "bfl/flux-2-flex", as_of="2026-02-02", source="bfl-skills")
    assert dated.published is not None
    assert dated.published.isoformat() == "2026-01-28"
    undated = pricing.quote(req, "bfl/flux-2-flex", as_of="2026-02-02", source="bfl-docs-pricing")
    assert undated.published is None
    assert undated.to_dict()["published"] is None
    frame = pricing.compare(req, as_of="2026-02-02")
    row = frame.filter(frame["offer_id"] == "bfl/flux-2-flex").row(0, named=True)
    assert row["published"].isoformat() == "2026-01-28"

    args = ["quote", "--model", "flux-2-flex", "--offer", "bfl/flux-2-flex"]
    shown = runner.invoke(app, [*args, "--as-of", "2026-02-02"], terminal_width=200)
    assert "source bfl-skills (official), 2026-01-28:" in shown.stdout
    table = runner.invoke(app, ["quote", "--model", "flux-2-pro"], terminal_width=240)
    assert "source date" in table.stdout
    assert "undated, read 2026-11-15" in table.stdout
    history = pricing.load_catalog().history("bfl/flux-2-flex")
    dates = dict(zip(history["source_id"], history["published"], strict=True))
    assert dates["bfl-docs-pricing"] is None
    assert dates["bfl-skills"].isoformat() == "2026-01-28"
    shown = runner.invoke(app, ["cards", "history", "bfl/flux-2-flex"], terminal_width=240)
    assert "source date" in shown.stdout
    assert "undated" in shown.stdout
    assert "2026-11-15" not in shown.stdout  # a read date is not shown as the price's date

"""The quick commands' own reading of the command line (pricing.cli.quick) against typer's.

The quick path must read exactly what typer reads, or leave the command line to typer: the
option table is held to the typer declarations, the values read to typer's for generated
command lines, and the console script's output to the output of the same command run
through typer (``PRICING_QUICK=0``).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.cli.quick import QUICK, Opt, parse, run_quick
from pricing.cli.tree import app_for

#: typer's annotation for each kind of the quick table.
KINDS = {"str": str, "int": int, "float": float, "path": Path, "flag": bool, "list": list[str]}


def named(target: str) -> object:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def typer_command(words: tuple[str, ...]) -> tuple[Any, Any]:
    """The click command typer builds for ``pricing WORDS`` and the context of its parent."""
    command: Any = typer.main.get_command(app_for(list(words)))
    context = command.make_context("pricing", list(words), resilient_parsing=True)
    for word in words:
        command = command.get_command(context, word)
        if word != words[-1]:
            context = command.make_context(word, [], parent=context, resilient_parsing=True)
    return command, context


def typer_reads(words: tuple[str, ...], args: list[str]) -> dict[str, Any]:
    """The values typer passes to the command for ``pricing WORDS ARGS``."""
    command, parent = typer_command(words)
    params: dict[str, Any] = command.make_context(words[-1], list(args), parent=parent).params
    return params


@pytest.mark.parametrize("words", list(QUICK))
def test_the_quick_table_is_the_typer_declaration(words: tuple[str, ...]) -> None:
    command, _ = typer_command(words)
    _, options = QUICK[words]
    declared = {p.name: p for p in command.params}
    assert sorted(declared) == sorted(o.name for o in options)
    for opt in options:
        param = declared[opt.name]
        info = param.type_descriptor.parameter_info
        assert param.opts == [opt.flag], opt
        assert param.secondary_opts == [], opt
        assert param.default == opt.default, opt
        assert param.type_descriptor.annotation == KINDS[opt.kind], opt
        assert param.multiple == (opt.kind == "list"), opt
        assert info.min in (None, 0), opt  # digits are always in range
        assert info.max is None, opt
        assert param.envvar is None, opt
        callback = None if opt.callback is None else named(opt.callback)
        assert info.callback is callback, opt
    assert parse(options, []) == typer_reads(words, [])


# --------------------------------------------------------------------------- values


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12).filter(
    lambda s: not s.startswith("-")
)


def _value(opt: Opt) -> st.SearchStrategy[str]:
    if opt.kind == "int":
        return st.integers(0, 10**12).map(str) | st.from_regex(r"0[0-9]{1,4}", fullmatch=True)
    if opt.kind == "float":
        return st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,6})?", fullmatch=True)
    if opt.kind == "path":
        return st.sampled_from(["data", "./my data", "/tmp/cards", "a/../b", "~/x"])
    return _TEXT


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[tuple[str, ...], list[str]]:
    words = draw(st.sampled_from(list(QUICK)))
    _, options = QUICK[words]
    chosen = draw(st.lists(st.sampled_from(options), unique=True, max_size=8))
    args: list[str] = []
    for opt in chosen:
        if opt.kind == "flag":
            args.append(opt.flag)
            continue
        for value in draw(
            st.lists(_value(opt), min_size=1, max_size=3 if opt.kind == "list" else 1)
        ):
            args += [f"{opt.flag}={value}"] if draw(st.booleans()) else [opt.flag, value]
    return words, args


@settings(max_examples=300, deadline=None)
@given(command_lines())
def test_the_quick_path_reads_what_typer_reads(line: tuple[tuple[str, ...], list[str]]) -> None:
    words, args = line
    read = parse(QUICK[words][1], args)
    assert read is not None, args  # every plain form is read, never left to typer
    assert read == typer_reads(words, args)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--nosuch", "1"],
        ["--count", "2", "--count", "3"],  # repeated: typer's rule (the last wins) applies
        ["--count", "+4"],
        ["--count", "4.0"],
        ["--count", "-1"],
        ["--seconds", ".5"],
        ["--seconds", "1e3"],
        ["--model"],  # no value
        ["--model", "-x"],
        ["--json=yes"],
        ["-h"],
        ["--", "--model", "x"],
        ["flux-2-pro"],  # a positional argument
        ["--max-fx-age-days", "-1"],
    ],
)
def test_anything_but_the_plain_forms_is_left_to_typer(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert parse(QUICK[("quote",)][1], args) is None
    assert run_quick(["quote", *args]) is False
    assert capsys.readouterr() == ("", "")  # nothing done, nothing printed


def test_other_commands_and_the_switch_are_left_to_typer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["cards", "show", "bfl/flux-2-pro"], ["replay", "x"], ["cards"], [], ["--help"]):
        assert run_quick(argv) is False
    monkeypatch.setenv("PRICING_QUICK", "0")
    assert run_quick(["quote"]) is False
    assert capsys.readouterr() == ("", "")


def test_an_unexpected_error_is_one_line_as_under_typer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**_: object) -> None:
        raise KeyError("gone")

    monkeypatch.setattr("pricing.cli.listing.list_offers", broken)
    with pytest.raises(SystemExit) as ended:
        run_quick(["cards", "list"])
    assert ended.value.code == 1
    said = capsys.readouterr().err
    assert said.startswith("error: unexpected KeyError: 'gone'. This is a bug"), said
    assert "Trace" not in said


# --------------------------------------------------------------------------- end to end


#: Command lines whose output, error and exit status must not depend on the path taken.
LINES = [
    ["quote", "--model", "flux-2-pro", "--size", "2048x1024", "--count", "4"],
    ["quote", "--as-of", "2026-11-21", "--all"],
    ["quote", "--model=gpt-image-1", "--quality", "high", "--json"],
    ["quote", "--offer", "BFL/flux-2-pro", "--currency", "EUR", "--as-of", "2026-11-21"],
    ["quote", "--currency", "EUR", "--fx", "EURUSD=1.10", "--fx", "GBPUSD=1.30"],
    ["quote", "--model", "nosuch"],
    ["quote", "--count", "0"],
    ["quote", "--size", "1024by1024"],
    ["quote", "--evidence", "all", "--model", "flux-2-pro"],
    ["quote", "--data", "/nonexistent/data"],
    ["cards", "list"],
    ["cards", "list", "--provider", "BFL", "--json"],
    ["cards", "list", "--model", "flux-2-pro", "--as-of", "2026-01-01"],
    ["cards", "list", "--as-of", "yesterday"],
]


def _run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    script = "import sys; sys.argv[0] = 'pricing'; from pricing_start import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("args", LINES, ids=[" ".join(a) for a in LINES])
def test_the_console_script_answers_alike_on_both_paths(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "COLUMNS": "200"}
    through_typer = _run(args, {**env, "PRICING_QUICK": "0"})
    assert _run(args, env) == through_typer
    assert through_typer[1] or through_typer[2].startswith("error:")


@pytest.mark.parametrize("args", [["cards", "list", "--json"], ["quote", "--all"]])
def test_a_closed_pipe_ends_quietly_on_both_paths(args: list[str], tmp_path: Path) -> None:
    """``pricing cards list | head``: the reader is gone before the first write; typer (click)
    ends with status 1 and says nothing, and so must the quick path."""
    script = "import sys; sys.argv[0] = 'pricing'; from pricing_start import main; main()"
    ends = []
    for quick_path in ("1", "0"):
        read, write = os.pipe()
        os.close(read)
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PRICING_QUICK": quick_path}
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            stdout=write,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=120,
        )
        os.close(write)
        ends.append((done.returncode, done.stderr))
    assert ends == [(1, ""), (1, "")]


def test_text_from_the_data_is_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """No emoji codes: a note or title with ``:cd:`` in it is not turned into a picture."""
    from pricing.cli._common import err, out

    out.print("note: :cd: and :smile: stay", highlight=False)
    err.print(":warning: too", highlight=False)
    assert capsys.readouterr() == ("note: :cd: and :smile: stay\n", ":warning: too\n")

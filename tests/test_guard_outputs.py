"""Bad input never becomes a traceback or a file in the wrong place (issue 18, classes 5, 6).

- output paths are checked before the work: a file where a folder is wanted, a folder that
  takes no file, each named with the fix;
- every file a dashboard writes stays inside ``--out``, whatever the workload is called, and
  the page shows every name as text, whatever HTML it holds (checked in Chromium too);
- a write that fails after the work (a real ``File too large`` under ``RLIMIT_FSIZE``) comes
  after the report, never instead of it, and leaves no temporary file;
- SIGINT and SIGTERM stop a real ``pricing`` process with one line, 130 or 143, and no
  temporary file left in its ``TMPDIR``;
- any bytes given as a workload file end as a ``WorkloadError`` naming the file, never as
  another exception (hypothesis).
"""

from __future__ import annotations

import copy
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import pricing
from pricing._base.atomic import atomic_write_all, unwritable
from pricing._charts.dashboard import (
    build_dashboard,
    dashboard_folder,
    dashboard_name,
    export_dashboard,
    safe_name,
)
from pricing._charts.export import javascript_bundle, script_json
from pricing._workloads.load import MAX_DEPTH, load_workload
from pricing.cli import app
from pricing.cli._common import fail
from pricing.cli.tree import PricingApp, Stopped, signals_stop_the_work
from pricing.errors import PricingError, WorkloadError
from tests.conftest import offer, version, write_data

runner = CliRunner()
AS_OF = "2026-11-21"
#: The console script of this environment: what a user runs.
PRICING = Path(sys.executable).with_name("pricing")

#: Names that break a page that does not escape them in every context.
HOSTILE = [
    "<!--<script>",
    "</script><script>document.title='owned'</script>",
    "\"'&amp;<b>bold</b> -->",
    "line\u2028break\u2029here",
]


def workload_toml(name: str, segments: list[str]) -> str:
    """A small hosted-only workload on bundled models, one segment per name."""
    head = (
        f"name = {json.dumps(name)}\nstart = 2027-01-01\nmonths = 3\n[traffic]\npeak_to_mean = 2\n"
    )
    segs = "".join(
        f'[[segments]]\nname = {json.dumps(s)}\noperation = "generate"\n'
        'models = ["flux-2-pro"]\nvolume = { base = 1000 }\n'
        "resolutions = [{ width = 1024, height = 1024, share = 1.0 }]\n"
        for s in segments
    )
    return head + segs


def cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def one_error_line(result: Result, *needles: str) -> str:
    """The run failed with exit 2 and one ``error:`` line holding every needle, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder that takes no file, even for root (chmod, else ``chattr +i``)."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if unwritable(folder) is None and shutil.which("chattr"):
        immutable = (
            subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
        )
    if unwritable(folder) is None:
        folder.chmod(0o755)
        pytest.skip("cannot make a read-only folder here (root without chattr)")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


# --------------------------------------------------------------------------- output paths


def test_dashboard_out_at_a_file_is_refused_before_the_work(tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("keep me\n", encoding="utf-8")
    one_error_line(cli("dashboard", "--out", str(afile)), f"--out {afile} is a file", "directory")
    inner = afile / "dashboards"
    one_error_line(cli("dashboard", "--out", str(inner)), f"{afile} is a file")
    assert afile.read_text(encoding="utf-8") == "keep me\n"


def test_dashboard_out_in_a_read_only_folder_is_refused(readonly_dir: Path) -> None:
    line = one_error_line(cli("dashboard", "--out", str(readonly_dir)), str(readonly_dir))
    assert "cannot write in it" in line
    line = one_error_line(cli("dashboard", "--out", str(readonly_dir / "new")), "cannot create")
    assert list(readonly_dir.iterdir()) == []


def test_dashboard_out_is_created_and_probed_without_leftovers(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    result = cli("dashboard", "nope-not-a-workload", "--out", str(out))
    assert result.exit_code == 2
    assert "unknown workload" in result.stderr
    assert out.is_dir()
    assert list(out.iterdir()) == []  # the probe file was removed


def test_two_workloads_with_one_folder_are_refused(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "shop.toml").write_text(workload_toml("Shop", ["s"]), encoding="utf-8")
    out = tmp_path / "out"
    one_error_line(
        cli(
            "dashboard",
            str(tmp_path / "a/shop.toml"),
            str(tmp_path / "b/shop.toml"),
            "--out",
            str(out),
        ),
        "would both write",
        str(out / "shop"),
    )


@pytest.mark.parametrize("command", ["replay", "budget"])
def test_unwritable_outputs_are_refused_before_the_log_is_read(
    command: str, tmp_path: Path, readonly_dir: Path
) -> None:
    data = write_data(
        tmp_path / "data", {"acme": offer(version('{ unit = "image", price = 0.04 }'))}
    )
    log = tmp_path / "missing-log.csv"  # never read: the output is checked first
    option = "--focus" if command == "replay" else "--out"
    target = readonly_dir / ("focus.parquet" if command == "replay" else "budget.html")
    extra = ["--monthly", "100"] if command == "budget" else []
    result = cli(command, str(log), "--data", str(data), *extra, option, str(target))
    line = one_error_line(result, f"{option} {target}", "cannot write in")
    assert "missing-log.csv" not in line


# --------------------------------------------------------------------------- names and pages


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ecommerce", "ecommerce"),
        ("consumer-app", "consumer-app"),
        ("..", "workload"),
        ("../..", "workload"),
        ("...", "workload"),
        ("a/b\\c", "a-b-c"),
        ("Café crème", "Cafe-creme"),
        ("<!--<script>", "script"),
        ("con", "workload-con"),
        ("x" * 300, "x" * 80),
    ],
)
def test_safe_names(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@given(st.text())
def test_every_safe_name_is_one_plain_folder(name: str) -> None:
    slug = safe_name(name)
    assert slug
    assert slug not in (".", "..")
    assert len(slug) <= 80
    assert "/" not in slug
    assert "\\" not in slug
    assert not slug.startswith((".", "-"))
    assert slug.isascii()
    assert safe_name(slug) == slug


def test_workload_file_names_never_lead_out_of_out(tmp_path: Path) -> None:
    # `...toml` has the stem ".."; a Workload may be called anything
    assert dashboard_name(Path("...toml")) == "workload"
    assert dashboard_name("/x/../../y.toml") == "y"
    src = tmp_path / "src"
    src.mkdir()
    (src / "...toml").write_text(workload_toml("../..", ["s"]), encoding="utf-8")
    out = tmp_path / "deep" / "out"
    result = cli(
        "dashboard", str(src / "...toml"), "--out", str(out), "--format", "json",
        "--samples", "0", "--as-of", AS_OF,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written
    assert all(p.startswith("workload/") for p in written), written
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "src"]


def test_a_workload_object_named_dot_dot_stays_inside(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(workload_toml("../..", ["s"]), encoding="utf-8")
    board = build_dashboard(load_workload(path), samples=0, as_of=AS_OF)
    assert board.name == "workload"
    out = tmp_path / "out"
    files = export_dashboard(board, out, ["json"])
    assert files
    assert all(f.resolve().is_relative_to(out.resolve()) for f in files)


def test_a_link_out_of_out_is_refused(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "shop").symlink_to(elsewhere)
    with pytest.raises(PricingError, match="leads outside"):
        dashboard_folder(out, "shop")
    with pytest.raises(PricingError, match="not a plain folder name"):
        dashboard_folder(out, "..")
    (tmp_path / "w.toml").write_text(workload_toml("Shop", ["s"]), encoding="utf-8")
    shop = tmp_path / "shop.toml"
    shop.write_text(workload_toml("Shop", ["s"]), encoding="utf-8")
    one_error_line(cli("dashboard", str(shop), "--out", str(out)), "leads outside")
    assert list(elsewhere.iterdir()) == []


@given(
    st.recursive(
        st.text() | st.integers() | st.none(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_script_json_is_inert_in_a_script_and_reads_back(value: Any) -> None:
    text = script_json({"v": value})
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == {"v": value}


def test_the_inlined_bundle_cannot_end_its_script() -> None:
    bundle = javascript_bundle().lower()
    assert "</script" not in bundle
    assert "<!--" not in bundle or "<script" not in bundle


class Elements(HTMLParser):
    """The start tags of a page and the text of its <title> and <td> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.stack: list[str] = []
        self.text: dict[str, list[str]] = {"title": [], "td": [], "script": []}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] in self.text:
            self.text[self.stack[-1]].append(data)


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pricing.Workload]:
    root = tmp_path_factory.mktemp("hostile")
    path = root / "hostile.toml"
    path.write_text(
        workload_toml("<!-- evil </title><script>x</script>", HOSTILE), encoding="utf-8"
    )
    work = load_workload(path)
    board = build_dashboard(work, samples=0, as_of=AS_OF)
    export_dashboard(board, root / "out", ["html"])
    return root / "out" / board.name / "index.html", work


def test_hostile_names_are_text_in_every_context(hostile_page: tuple[Path, Any]) -> None:
    page_path, work = hostile_page
    text = page_path.read_text(encoding="utf-8")
    parser = Elements()
    parser.feed(text)
    parser.close()
    assert parser.tags.count("script") == 2  # the bundle and the embed: no name made a third
    assert "b" not in parser.tags
    assert "".join(parser.text["title"]) == f"{work.name}: cost plan"
    cells = "".join(parser.text["td"])
    for name in HOSTILE:
        assert name in cells
    spec_text = text.split("const spec = ", 1)[1].split(";\nvegaEmbed(", 1)[0]
    spec = json.loads(spec_text)
    every = "\n".join(_strings(spec))
    for name in HOSTILE:  # the script reads back each name as it was written
        assert name in every


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.slow
def test_hostile_names_page_draws_in_chromium(hostile_page: tuple[Path, Any]) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("PRICING_REQUIRE_BROWSER") == "1":
            raise RuntimeError("PRICING_REQUIRE_BROWSER=1 but chromium is not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    page_path, _ = hostile_page
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.as_uri())
            page.wait_for_function("document.body.dataset.ready !== undefined", timeout=60_000)
            assert page.evaluate("document.body.dataset.ready") == "1", errors
            assert errors == []
            assert (
                page.evaluate("document.title") == "<!-- evil </title><script>x</script>: cost plan"
            )
            assert page.evaluate("document.querySelectorAll('script').length") == 2
            svg = str(page.evaluate("document.querySelector('#vis svg').outerHTML"))
            assert svg.count("<g") > 20  # the charts were drawn
            cells = str(page.evaluate("document.querySelector('table.headline').innerText"))
            for name in HOSTILE[:3]:
                assert name in cells
        finally:
            browser.close()


# --------------------------------------------------------------------------- writes after the work


def replay_data(root: Path) -> Path:
    return write_data(root, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})


def small_log(path: Path) -> Path:
    """Ten calls of one image on acme/m ($0.40), and a row with a bad timestamp that holds
    200 KB of text: its quarantine CSV is larger than ``LIMIT``, any other file smaller."""
    rows = [f"2026-03-{d:02d}T10:00:00Z,acme,m,1" for d in range(1, 11)]
    bad = f"not-a-time,acme,{'x' * 200_000},1"
    path.write_text("\n".join(["timestamp,provider,model,count", *rows, bad]) + "\n")
    return path


#: Largest file the limited processes may write [bytes].
LIMIT = 64 * 1024


def run_limited(
    args: list[str], max_file_bytes: int, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``pricing ARGS`` in a real process that cannot write a file larger than the limit
    (writes past it fail with EFBIG, "File too large", as on a full disk)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [str(PRICING), *args], capture_output=True, text=True, preexec_fn=limit, timeout=300,
        env={**os.environ, "COLUMNS": "160", **(env or {})},
    )  # fmt: skip


def test_replay_reports_before_a_failed_write(tmp_path: Path) -> None:
    data, log = replay_data(tmp_path / "data"), small_log(tmp_path / "log.csv")
    out = tmp_path / "out"
    out.mkdir()
    focus, bad = out / "focus.parquet", out / "bad.csv"
    done = run_limited(
        ["replay", str(log), "--data", str(data), "--focus", str(focus), "--quarantine", str(bad)],
        LIMIT,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "0.40" in done.stdout  # the report: ten images at $0.04
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot write the output files")
    assert "File too large" in lines[0]
    assert "wrote" not in done.stdout
    assert list(out.iterdir()) == []  # all or none, and no temporary file


def test_replay_json_reports_before_a_failed_write(tmp_path: Path) -> None:
    data, log = replay_data(tmp_path / "data"), small_log(tmp_path / "log.csv")
    focus, bad = tmp_path / "focus.parquet", tmp_path / "bad.csv"
    args = ["--focus", str(focus), "--quarantine", str(bad), "--json"]
    done = run_limited(["replay", str(log), "--data", str(data), *args], LIMIT)
    assert done.returncode == 2
    payload = json.loads(done.stdout)
    assert payload["rows_priced"] == 10
    assert payload["outputs"] == {}
    assert "File too large" in payload["output_error"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "log.csv"]


def test_budget_reports_before_a_failed_chart(tmp_path: Path) -> None:
    data, log = replay_data(tmp_path / "data"), small_log(tmp_path / "log.csv")
    chart = tmp_path / "charts" / "budget.html"
    chart.parent.mkdir()
    done = run_limited(
        ["budget", str(log), "--data", str(data), "--monthly", "100", "--out", str(chart)],
        LIMIT,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "spent so far" in done.stdout
    assert "USD 0.40" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cannot write the chart" in lines[0]
    assert "File too large" in lines[0]
    assert list(chart.parent.iterdir()) == []


def test_dashboard_reports_before_a_failed_write(tmp_path: Path) -> None:
    work = tmp_path / "shop.toml"
    work.write_text(workload_toml("Shop", ["edits"]), encoding="utf-8")
    out = tmp_path / "out"
    args = ["dashboard", str(work), "--out", str(out), "--format", "html", "--samples", "0"]
    done = run_limited([*args, "--as-of", AS_OF], LIMIT)  # the page is ~1 MB
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "Shop (shop)" in done.stdout  # the headline table
    assert "edits" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {work}: cannot write its files (File too large")
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_atomic_write_all_is_all_or_none(tmp_path: Path) -> None:
    first, blocker = tmp_path / "first.txt", tmp_path / "blocker"
    first.write_text("old\n", encoding="utf-8")
    blocker.write_text("a file where a folder is wanted\n", encoding="utf-8")
    with pytest.raises(OSError, match=r"Not a directory|File exists"):
        atomic_write_all([(first, "new\n"), (blocker / "second.txt", "new\n")])
    assert first.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "first.txt"]


# --------------------------------------------------------------------------- signals


def volume_data(root: Path) -> Path:
    """An offer priced by monthly volume: a replay spills its rows to TMPDIR."""
    tiers = (
        '{ unit = "image", tiers = [{ start = 0, price = 0.04 }, { start = 1000, price = 0.03 }] }'
    )
    return write_data(root, {"gamma": offer(version(tiers), offer_id="gamma/m")})


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three million calls over a year: many seconds of replay."""
    path = tmp_path_factory.mktemp("big") / "log.parquet"
    n = 3_000_000
    start = pl.datetime(2026, 1, 1, time_zone="UTC")
    pl.select(
        timestamp=start + pl.duration(seconds=pl.int_range(n) * 10),
        provider=pl.lit("gamma"),
        model=pl.lit("m"),
        count=pl.lit(1),
        account=(pl.int_range(n) % 97).cast(pl.String),
    ).write_parquet(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
)
def test_a_signal_stops_cleanly_and_leaves_no_temporary_files(
    sig: signal.Signals, code: int, word: str, tmp_path: Path, big_log: Path
) -> None:
    data = volume_data(tmp_path / "data")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen(
        [str(PRICING), "replay", str(big_log), "--data", str(data), "--no-alternatives"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp), "COLUMNS": "160"},
        # a shell's background job starts with SIGINT ignored; a terminal's Ctrl-C does not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp.glob("pricing-replay-*")):  # the spill exists: work is under way
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the replay never spilled to TMPDIR"
            time.sleep(0.02)
        time.sleep(0.3)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        f"{word} ({'Ctrl-C' if code == 130 else 'SIGTERM'}): stopped"
    ]
    assert list(tmp.iterdir()) == []


def terminate_myself() -> None:
    with signals_stop_the_work():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # cut short: the handler raises at once


def test_the_signal_handlers_are_set_only_for_the_run() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Stopped) as stopped:
        terminate_myself()
    assert stopped.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_unexpected_error_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    boom = PricingApp()

    @boom.command()
    def explode() -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.delenv("PRICING_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        boom([], prog_name="pricing")
    assert exit_.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unexpected RuntimeError: disk on fire. This is a bug")
    assert "PRICING_DEBUG=1" in lines[0]
    monkeypatch.setenv("PRICING_DEBUG", "1")
    with pytest.raises(RuntimeError, match="disk on fire"):
        boom([], prog_name="pricing")


@pytest.mark.parametrize("through", ["fail", "error"])
def test_an_error_after_a_stop_signal_ends_as_the_stop(
    through: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # polars turns an exception raised while its Rust code calls Python into a panic, then a
    # "cannot read the usage log as Parquet" error: seen when Ctrl-C lands during a replay
    tree = PricingApp()

    @tree.command()
    def read() -> None:
        said = ""
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except Stopped as swallowed:  # what such a library makes of it
            said = f"cannot read the usage log: {swallowed!r}"
        if through == "fail":
            raise fail(said)
        raise RuntimeError(said)

    monkeypatch.delenv("PRICING_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        tree([], prog_name="pricing")
    assert exit_.value.code == 130
    assert capsys.readouterr().err.strip().splitlines() == ["interrupted (Ctrl-C): stopped"]


# --------------------------------------------------------------------------- workload files


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> pricing.Catalog:
    root = tmp_path_factory.mktemp("workload-data")
    return pricing.load_catalog(
        write_data(root, {"acme": offer(version('{ unit = "image", price = 0.04 }'))})
    )


def load_or_error(path: Path, catalog: pricing.Catalog) -> WorkloadError | None:
    """``None`` when ``path`` loads; its WorkloadError; anything else fails the test."""
    try:
        load_workload(path, catalog)
    except WorkloadError as exc:
        error = exc
    else:
        return None
    assert error.problems
    assert str(path) in str(error)
    return error


def test_non_utf8_workload_names_the_line(tmp_path: Path, catalog: pricing.Catalog) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "ok"\ndescription = "caf\xe9"\n'.encode("latin-1"))
    exc = load_or_error(path, catalog)
    assert exc is not None
    assert exc.problems[0].line == 2
    assert "not UTF-8" in str(exc)
    assert "0xe9" in str(exc)
    assert "save the file as UTF-8" in str(exc)


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 20_000 + "]" * 20_000,
        "a = " + "{b = " * 5_000 + "1" + "}" * 5_000,
        "a" + ".b" * 5_000 + " = 1",
        "[" + ".".join(["t"] * 3_000) + "]\nx = 1",
        "[[segments]]\nname" + ".a" * 5_000 + " = 1",
    ],
    ids=["arrays", "inline-tables", "dotted-keys", "table-header", "segment-name"],
)
def test_deep_nesting_is_a_workload_error(
    text: str, tmp_path: Path, catalog: pricing.Catalog
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(text, encoding="utf-8")
    exc = load_or_error(path, catalog)
    assert exc is not None
    assert f"too deeply (more than {MAX_DEPTH} levels)" in str(exc)
    assert "remove the extra nesting" in str(exc)


def test_directories_loops_and_devices_are_workload_errors(
    tmp_path: Path, catalog: pricing.Catalog
) -> None:
    loop = tmp_path / "loop.toml"
    loop.symlink_to(tmp_path / "loop2.toml")
    (tmp_path / "loop2.toml").symlink_to(loop)
    for path, words in [
        (tmp_path, "is a directory"),
        (loop, "symbolic link that loops"),
        (tmp_path / "none.toml", "file not found"),
        (Path("/dev/zero"), "larger than"),
    ]:
        exc = load_or_error(path, catalog)
        assert exc is not None, path
        assert words in str(exc), (path, str(exc))


@pytest.mark.parametrize("target", ["dir", "loop", "latin1", "deep"])
def test_simulate_says_what_is_wrong_with_the_workload(target: str, tmp_path: Path) -> None:
    path = {"dir": tmp_path, "loop": tmp_path / "loop.toml"}.get(target, tmp_path / "w.toml")
    if target == "loop":
        path.symlink_to(path)
    elif target == "latin1":
        path.write_bytes(b'name = "caf\xe9"\n')
    elif target == "deep":
        path.write_text("a = " + "[" * 50_000 + "]" * 50_000, encoding="utf-8")
    result = cli("simulate", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error:")
    assert str(path) in result.stderr


#: A valid workload on the models of tests/conftest.py, for the mutations below.
BASE: dict[str, Any] = {
    "name": "W",
    "currency": "USD",
    "start": date(2027, 1, 1),
    "months": 12,
    "traffic": {"peak_to_mean": 2.5},
    "segments": [
        {
            "name": "s",
            "operation": "generate",
            "models": ["m", "n"],
            "volume": {"base": 1000, "growth": 0.05},
            "resolutions": [{"width": 1024, "height": 1024, "share": 1.0}],
            "steps": 28,
            "p95_latency_s": 30.0,
        }
    ],
    "self_hosting": {
        "max_utilisation": 0.8,
        "autoscale": {"min_gpus": 1},
        "licence": {"monthly_fee": 10},
    },
}
KEYS = [
    *BASE, "peak_to_mean", "hourly", "weekday", "operation", "models", "volume", "base", "growth",
    "series", "images_per_request", "resolutions", "width", "height", "share", "steps",
    "model_steps", "input_images", "input_size", "quality", "p95_latency_s", "autoscale",
    "min_gpus", "max_gpus", "serverless", "deployment", "licence", "redundancy", "precisions",
    "prices", "evidence", "subscriptions", "dist", "low", "mode", "high", "mean", "sd", "median",
    "sigma", "m", "n",
]  # fmt: skip
LEAVES = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(-3, 3),
    st.floats(),
    st.floats(-2, 2),
    st.text(max_size=8),
    st.dates(),
    st.sampled_from(
        [
            "generate",
            "edit",
            "uniform",
            "triangular",
            "normal",
            "lognormal",
            "sources",
            "m",
            "n",
            "USD",
            "EUR",
            "official",
            "all",
            "fp8",
            "bf16",
        ]
    ),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


def toml_value(value: Any) -> str:
    """``value`` as TOML (JSON's string escapes are TOML's, but for DEL)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return value.isoformat() if isinstance(value, date) else str(value)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        yield from _paths(child, (*prefix, key))


PLACES = list(_paths(BASE))[1:]


@st.composite
def mutated_workloads(draw: st.DrawFn) -> str:
    """BASE with one to three fields replaced by random TOML values or removed, as TOML."""
    work = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        place = draw(st.sampled_from(PLACES))
        parent: Any = work
        try:
            for key in place[:-1]:
                parent = parent[key]
            if isinstance(parent, dict) and draw(st.booleans()):
                parent.pop(place[-1], None)
            else:
                parent[place[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue
    if draw(st.booleans()):
        work[draw(st.sampled_from(KEYS))] = draw(VALUES)
    return "\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in work.items())


TOKENS = st.sampled_from(
    ["[", "]", "[[", "]]", "{", "}", "=", ",", ".", '"', "'", '"""', "\n", " ", "#", "\\", "-",
     "+", "_", ":", "e", "0", "1", "9" * 30, "1e999999999999999999", "inf", "nan", "true",
     "2027-01-01", "T", "Z", "\x00", "\x7f", "é", "\u2028", "\ufeff", "\r", "\t",
     *KEYS, "segments", "[[segments]]", "[traffic]", "[self_hosting]"]
)  # fmt: skip


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the fuzzed files (each example overwrites the last)."""
    return tmp_path_factory.mktemp("fuzz")


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(raw=st.binary(max_size=400))
def test_random_bytes_load_or_fail_cleanly(
    raw: bytes, scratch: Path, catalog: pricing.Catalog
) -> None:
    path = scratch / "w.toml"
    path.write_bytes(raw)
    load_or_error(path, catalog)


@FUZZ
@given(text=st.lists(TOKENS, max_size=60).map("".join))
def test_random_toml_ish_text_loads_or_fails_cleanly(
    text: str, scratch: Path, catalog: pricing.Catalog
) -> None:
    path = scratch / "w.toml"
    path.write_text(text, encoding="utf-8")
    load_or_error(path, catalog)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=mutated_workloads())
def test_mutated_workloads_load_or_fail_cleanly(
    text: str, scratch: Path, catalog: pricing.Catalog
) -> None:
    path = scratch / "w.toml"
    path.write_text(text, encoding="utf-8")
    load_or_error(path, catalog)


def test_the_base_of_the_mutations_loads(tmp_path: Path, catalog: pricing.Catalog) -> None:
    path = tmp_path / "w.toml"
    path.write_text(
        "\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in BASE.items()), encoding="utf-8"
    )
    assert load_or_error(path, catalog) is None


def _catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a SIGTERM handler set (Linux: SigCgt of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [
        (signal.SIGINT, 130, "interrupted (Ctrl-C): stopped"),
        (signal.SIGTERM, 143, "terminated (SIGTERM): stopped"),
    ],
)
def test_a_signal_while_the_command_starts_is_one_line(
    sig: signal.Signals, code: int, line: str
) -> None:
    # The console script sets its handlers before `import pricing` (about a second): a signal
    # sent as soon as they are set lands while pricing is still being imported.
    proc = subprocess.Popen(
        [str(PRICING), "quote", "--help"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not _catches_sigterm(proc.pid):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the handlers were never set"
            time.sleep(0.001)
        # still starting: polars (imported by pricing) is not loaded yet
        early = "polars" not in Path(f"/proc/{proc.pid}/maps").read_text()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert early
    assert proc.returncode == code, stderr
    assert stderr.strip().splitlines() == [line]


def test_a_number_too_large_to_hold_is_a_workload_error(tmp_path: Path) -> None:
    # found by the fuzz test in CI: an unknown key holding 1e999999999999999999 must not be
    # turned into an integer to be shown in the message
    path = tmp_path / "w.toml"
    path.write_text("-=1e999999999999999999\n", encoding="utf-8")
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    shown = [p.message for p in info.value.problems if p.field == "-"]
    assert shown == ["Extra inputs are not permitted (got 1.000e+999999999999999999)"]

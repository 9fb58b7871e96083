"""How long the quick commands take, beside the floor of ``python -c "import polars"``.

    uv run python benchmarks/bench_cli.py [--repeat 15]

Each run is a new process, as a user's command is; the runs of all the commands are
interleaved (one of each, then again, ``--repeat`` times), so that a machine that drifts or
is shared drifts for all of them alike. Timed:

1. the floor: ``python -c "import polars"``, the yardstick of issue 22 (the quick commands
   import neither polars nor typer: their cost is Python, rich, pydantic and the rate card
   models, then the work and the table printed);
2. ``python -c "import pricing"``;
3. ``pricing quote --model flux-2-pro --size 2048x1024 --count 4`` (the README's first quote)
   with a warm catalog cache, and again with an empty cache (a new cache home each run: the
   cards are read and validated, then stored);
4. ``pricing cards list``, warm;
5. the same quote and ``cards list`` through typer (``PRICING_QUICK=0``), as every other
   command runs: what the quick path (``pricing.cli.quick``) saves;
6. ``pricing --help``;
7. with ``--against REV`` (e.g. ``--against HEAD``, the code before uncommitted changes):
   ``import pricing``, the warm quote and ``cards list`` of revision REV, from a temporary
   git worktree on ``PYTHONPATH``, interleaved with the others.

The cache home is a temporary ``XDG_CACHE_HOME`` (the user's ``~/.cache`` is never touched),
warmed by one untimed run; each command runs in a scratch directory, so that ``python -c``
imports the installed package (or REV's, on ``PYTHONPATH``), never one in the current
directory. Printed: the median and fastest wall time of each, the median
ratio to the floor's median, and the CPU time (user + system, median), which a busy machine
disturbs less than the wall time. Then the modules of note each command imported.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from revisions import worktree

#: The quote timed (the first line of the README's "Command line").
QUOTE = ["quote", "--model", "flux-2-pro", "--size", "2048x1024", "--count", "4"]
#: The modules whose import the report names (heavy ones, and those a quick command needs).
NOTED = ("polars", "pydantic", "typer", "numpy", "scipy", "altair", "vl_convert", "ray", "httpx")
#: Runs the command line in this process, then prints the noted modules it imported.
PROBE = (
    "import sys, atexit; "
    f"atexit.register(lambda: print('imported:', *[m for m in {NOTED!r} if m in sys.modules], "
    "file=sys.stderr)); "
    "sys.argv[0] = 'pricing'; from pricing_start import main; main()"
)


@dataclass
class Command:
    label: str
    argv: list[str]
    cold: bool = False  # an empty catalog cache each run
    prints: bool = True  # a run that prints nothing failed
    env: dict[str, str] = field(default_factory=dict)  # added to the run's environment
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def pricing_argv(*args: str) -> list[str]:
    """The ``pricing`` console script beside this Python, else the same entry point via -c."""
    script = Path(sys.executable).parent / "pricing"
    if script.is_file():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from pricing_start import main; main()", *args]


#: The ``pricing`` entry point, for a revision on ``PYTHONPATH`` (not the installed script's).
ENTRY = "import sys; sys.argv[0] = 'pricing'; from pricing_start import main; main()"


#: The environment that sends the quick commands through typer, as every other command.
TYPER = {"PRICING_QUICK": "0"}


def commands(against: Path | None, rev: str) -> list[Command]:
    py = sys.executable
    other = (
        []
        if against is None
        else [
            Command(
                f'{rev}: python -c "import pricing"', [py, "-c", "import pricing"], prints=False
            ),
            Command(f"{rev}: pricing quote ...", [py, "-c", ENTRY, *QUOTE]),
            Command(f"{rev}: pricing cards list", [py, "-c", ENTRY, "cards", "list"]),
        ]
    )
    for c in other:
        c.env = {"PYTHONPATH": str(against)}
    return [
        Command('python -c "import polars" (floor)', [py, "-c", "import polars"], prints=False),
        Command('python -c "import pricing"', [py, "-c", "import pricing"], prints=False),
        Command("pricing quote ... (warm cache)", pricing_argv(*QUOTE)),
        Command("pricing quote ... (cold cache)", pricing_argv(*QUOTE), cold=True),
        Command("pricing cards list (warm cache)", pricing_argv("cards", "list")),
        Command("pricing quote ... (typer)", pricing_argv(*QUOTE), env=TYPER),
        Command("pricing cards list (typer)", pricing_argv("cards", "list"), env=TYPER),
        Command("pricing --help", pricing_argv("--help")),
        *other,
    ]


def run_once(command: Command, env: dict[str, str], scratch: Path) -> None:
    """Time one run of ``command`` (wall and the child's CPU) and check it succeeded."""
    env = {**env, **command.env}
    if command.cold:
        env["XDG_CACHE_HOME"] = tempfile.mkdtemp(dir=scratch)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        command.argv, env=env, cwd=scratch, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or (command.prints and not done.stdout.strip()):
        raise SystemExit(f"{command.label} failed ({done.returncode}):\n{done.stderr}")
    command.wall.append(wall)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    command.cpu.append(cpu)
    if command.cold:
        shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)


def imported(args: list[str], env: dict[str, str]) -> str:
    """The noted modules a ``pricing`` command line imports."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("imported:")]
    return lines[-1].removeprefix("imported:").strip() if lines else "?"


def report(cmds: list[Command]) -> None:
    floor = statistics.median(cmds[0].wall)
    floor_cpu = statistics.median(cmds[0].cpu)
    print(f"{'command':<36} {'median':>8} {'fastest':>8} {'x floor':>8} {'CPU':>7} {'x floor':>8}")
    for c in cmds:
        wall, cpu = statistics.median(c.wall), statistics.median(c.cpu)
        print(
            f"{c.label:<36} {wall:>7.3f}s {min(c.wall):>7.3f}s {wall / floor:>7.2f}x "
            f"{cpu:>6.3f}s {cpu / floor_cpu:>7.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command")
    parser.add_argument("--against", metavar="REV", help="also time this git revision")
    args = parser.parse_args()
    with worktree(args.against) as against, tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        cmds = commands(against, args.against)
        scratch = Path(tmp)
        env = {**os.environ, "XDG_CACHE_HOME": str(scratch / "warm"), "COLUMNS": "160"}
        env.pop("PRICING_NO_CACHE", None)
        # as installed for a user: Python keeps its compiled modules (some machines, this one
        # among them, set PYTHONDONTWRITEBYTECODE, which would time the compiler instead)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for c in cmds:  # warm the cache (and the OS's file cache) once, untimed
            run_once(Command(c.label, c.argv, c.cold, c.prints, env=c.env), env, scratch)
        for _ in range(args.repeat):
            for c in cmds:
                run_once(c, env, scratch)
        python = sys.version.split()[0]
        print(f"{args.repeat} interleaved runs of each, {os.cpu_count()} CPUs, Python {python}")
        report(cmds)
        for label, argv in (
            ("quote", QUOTE),
            ("cards list", ["cards", "list"]),
            ("--help", ["--help"]),
        ):
            print(f"pricing {label} imports: {imported(argv, env)}")


if __name__ == "__main__":
    main()

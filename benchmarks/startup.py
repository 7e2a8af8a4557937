"""Start-up (issue 32): how long bakekit takes before it does anything, against the floor
of any bakekit process, ``python -c "import pandas, sqlalchemy"``, measured in the same
run (best of 5, alternating the floor and each command round by round).

``python -m benchmarks.startup [--quick]`` runs these rows alone and prints them;
``make bench`` (benchmarks/run.py) adds them to RESULTS.md.

Rows (each a fresh Python process):
- ``bakekit info`` on an existing database (the demo database), <= 1.0x the floor;
- ``bakekit levels`` on the same database, the same goal: a command that reads through a
  workspace (pandas, the models, a frame validated and printed as a table);
- ``bakekit --help`` and ``bakekit --version``, <= 0.5x;
- a new database created (``bakekit.open`` of a new SQLite file: every migration),
  <= 2x;
- ``bakekit.open()`` of an existing database from Python, <= 0.3x: the time of
  ``import bakekit; bakekit.open(path)`` inside a process that has imported pandas and
  SQLAlchemy already (what bakekit adds to them: a notebook has both loaded anyway; the
  floor's own import of SQLAlchemy alone is more than 0.3x of it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import CaseResult, Context

ROOT = Path(__file__).resolve().parent.parent
#: the name `python -m benchmarks.run --only` knows these rows by
NAME = "startup"
FLOOR = "import pandas, sqlalchemy"

#: the process that opens an existing database: the floor's imports first, then the
#: timed ``import bakekit; bakekit.open(path)``, whose seconds it prints
OPEN_EXISTING = """\
import sys, time
import pandas, sqlalchemy
start = time.perf_counter()
import bakekit
bakery = bakekit.open(sys.argv[1])
print(time.perf_counter() - start)
bakery.dispose()
"""
CREATE_NEW = "import sys, bakekit; bakekit.open(sys.argv[1]).dispose()"

#: (row key, case title, limit on ours / floor, goal as shown)
ROWS = (
    ("info", "start-up: `bakekit info` on the demo database vs import pandas, sqlalchemy",
     1.0, "<= 1.0x"),
    ("levels", "start-up: `bakekit levels` on the demo database (a read through a "
     "workspace: pandas, the models, a table printed) vs import pandas, sqlalchemy", 1.0,
     "<= 1.0x"),
    ("help", "start-up: `bakekit --help` vs import pandas, sqlalchemy", 0.5, "<= 0.5x"),
    ("version", "start-up: `bakekit --version` vs import pandas, sqlalchemy", 0.5,
     "<= 0.5x"),
    ("create", "start-up: a new database created (all migrations) vs import pandas, "
     "sqlalchemy", 2.0, "<= 2x"),
    ("open", "start-up: `bakekit.open()` of an existing database from Python (pandas and "
     "SQLAlchemy imported) vs import pandas, sqlalchemy", 0.3, "<= 0.3x"),
)

#: what any command that reads through a workspace must load, whatever bakekit does: the
#: floor's two, SQLAlchemy's ORM (the models) and its SQLite dialect, Typer (which parses
#: options with pydantic) and Rich; timed beside the rows, shown in the `levels` row's note
READ_FLOOR = ("import pandas, sqlalchemy.orm, sqlalchemy.dialects.sqlite, typer, rich, "
              "pydantic")

NOTE = ("each row and the floor (`python -c \"import pandas, sqlalchemy\"`) are fresh Python "
        "processes (wall time, best of {n}, the floor and every row alternating round by "
        "round); `bakekit.open()` is timed inside its process, after pandas and SQLAlchemy "
        "were imported (benchmarks/startup.py)")


def _environment() -> dict[str, str]:
    """The environment of each process: this checkout's bakekit first on the path."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ,
            "PYTHONPATH": str(ROOT) if not path else os.pathsep.join([str(ROOT), path])}


def _wall(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds a process takes from start to exit, and its standard output."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=600, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{args!r} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, done.stdout


def existing_database(ctx: Context) -> Path:
    """The database the rows on an existing database use: the demo database (an empty
    one at smoke size, which is quicker to make)."""
    import bakekit

    path = ctx.workdir / "startup-existing.db"
    if not path.exists():
        if ctx.quick:
            bakekit.open(str(path)).dispose()
        else:
            bakekit.demo(str(path)).dispose()
    return path


def run(ctx: Context) -> list[CaseResult]:
    """One row per start-up figure of issue 32, each against the floor of the same run."""
    env = _environment()
    existing = existing_database(ctx)
    counter = iter(range(1_000_000))

    def new_file() -> list[str]:
        path = ctx.workdir / f"startup-new-{next(counter)}.db"
        return ["-c", CREATE_NEW, str(path)]

    commands: dict[str, Callable[[], list[str]]] = {
        "info": lambda: ["-m", "bakekit.cli", "info", "--url", str(existing)],
        "levels": lambda: ["-m", "bakekit.cli", "levels", "--url", str(existing)],
        "help": lambda: ["-m", "bakekit.cli", "--help"],
        "version": lambda: ["-m", "bakekit.cli", "--version"],
        "create": new_file,
        "open": lambda: ["-c", OPEN_EXISTING, str(existing)],
    }
    floor = read_floor = float("inf")
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(ctx.repeats):
        floor = min(floor, _wall(["-c", FLOOR], env)[0])
        read_floor = min(read_floor, _wall(["-c", READ_FLOOR], env)[0])
        for key, args in commands.items():
            elapsed, stdout = _wall(args(), env)
            if key == "open":  # timed inside the process, after the floor's imports
                elapsed = float(stdout.strip().splitlines()[-1])
            best[key] = min(best[key], elapsed)
    notes = {"info": NOTE.format(n=ctx.repeats),
             "levels": f"a process importing only what any read through a workspace loads "
                       f"(`python -c \"{READ_FLOOR}\"`) took {read_floor:.3f} s in the same "
                       f"run, {read_floor / floor:.2f}x the floor: `bakekit levels` is "
                       f"{best['levels'] / read_floor:.2f}x that"}
    return [CaseResult(case=title, ours=best[key], baseline=floor, unit="s", limit=limit,
                       goal=goal, rows=ctx.repeats, note=notes.get(key, ""),
                       module="startup")
            for key, title, limit, goal in ROWS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round, an empty database")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bakekit-startup-") as folder:
        results = run(Context(workdir=Path(folder), quick=args.quick))
    for r in results:
        print(f"{r.ours:7.3f} s vs {r.baseline:.3f} s = {r.ratio:5.2f}x  "
              f"({r.goal}: {'met' if r.met else 'MISSED'})  {r.case}")
        if r.note and r.module == "startup" and "levels" in r.case:
            print(f"        {r.note}")
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

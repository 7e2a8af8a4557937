"""What a user waits for: ``bakekit import`` of the real bake-tracker v4.2 export from the
command line, end to end (a new Python process: start-up, imports, the import, commit,
the printed report), into a fresh copy of an empty bakery; against a new process that only
imports what any such tool would (``python -c "import pandas, sqlalchemy"``), measured in
the same run, alternating."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import bakekit
from benchmarks.cases.import_bake_tracker import SOURCE
from benchmarks.common import CaseResult, Context

GOAL = "<= 3x"

#: the command line a user types, run by this Python (so the bakekit under test is used)
COMMAND = [sys.executable, "-c", "import sys; from bakekit.cli import app; "
           "sys.argv[0] = 'bakekit'; app()", "import"]
BASELINE = [sys.executable, "-c", "import pandas, sqlalchemy"]


def _wall(command: list[str]) -> float:
    """Seconds a process takes from start to exit; it must succeed."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def run(ctx: Context) -> CaseResult:
    if not SOURCE.exists():
        raise FileNotFoundError(f"the bake-tracker v4.2 export is not at {SOURCE}")
    template = ctx.workdir / "cli-template.db"
    bakekit.open(str(template)).dispose()
    target = ctx.workdir / "cli-import.db"
    best_ours = best_base = float("inf")
    for k in range(ctx.repeats + 1):  # round 0 warms the file cache (bytecode, libraries)
        for extra in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            extra.unlink(missing_ok=True)
        shutil.copy(template, target)
        t_ours = _wall([*COMMAND, str(SOURCE), "--url", str(target)])
        t_base = _wall(BASELINE)
        if k:
            best_ours, best_base = min(best_ours, t_ours), min(best_base, t_base)
    bakery = bakekit.open(str(target))
    try:
        with bakery.session() as ws:
            imported = len(ws.inventory.lots())  # the import did happen
    finally:
        bakery.dispose()
    return CaseResult("`bakekit import` of the v4.2 export from the command line, end to end "
                      "(SQLite)", best_ours, best_base, "s", 3.0, GOAL, imported,
                      "baseline: a new Python process running `import pandas, sqlalchemy`; "
                      "ours a new process running `bakekit import FILE --url DB` into a "
                      "fresh copy of an empty bakery (start-up, the import, commit, the "
                      "printed report); wall time, best of alternating rounds after one "
                      "warm-up round")

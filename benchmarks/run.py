"""Run every benchmark case and write benchmarks/RESULTS.md (``make bench``).

``python -m benchmarks.run [--quick] [--only CASE ...] [--out PATH]``; each case is a
function ``run(ctx)`` in its own module under benchmarks/cases/, timed against a baseline
measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from benchmarks import startup
from benchmarks.cases import CASES
from benchmarks.common import CaseResult, Context, NotRun, machine

HERE = Path(__file__).resolve().parent

#: cases of the issue without a module in benchmarks/cases yet: (module, case, goal)
PENDING = (
    ("production",
     "production: 1,000 record calls of a 12-ingredient nested recipe vs hand-written SQL",
     "<= 2.5x"),
    ("what_if", "what-if overhead: record inside what_if() vs inside session() rolled back",
     "<= 1.2x"),
    ("shopping_list", "shopping list: 1,000 recipients x 3 packages vs 10 recipients",
     "<= 3x, same statement count"),
    ("import_bake_tracker",
     "import: import_bake_tracker of the v4.2 file vs json.load + executemany", "<= 3.5x"),
    ("reconcile", "reconcile: 100,000-row purchases CSV vs pd.read_csv + executemany",
     "<= 3x"),
)


def pending() -> list[NotRun]:
    """Rows for the cases not written yet, saying whether their area exists."""
    import bakekit.areas.events as events
    import bakekit.areas.io as io
    import bakekit.areas.production as production
    import bakekit.plan as plan

    built = {"production": hasattr(production.Production, "record"),
             "what_if": hasattr(plan, "Plan"),
             "shopping_list": hasattr(events.Events, "shopping_list"),
             "import_bake_tracker": hasattr(io.IO, "import_bake_tracker"),
             "reconcile": hasattr(io.IO, "reconcile")}
    return [NotRun(case, goal, "not run yet: case not written (area built after the "
                   "benchmarks' time box)" if built.get(module) else
                   "not run yet: area not built")
            for module, case, goal in PENDING if module not in CASES]


#: where the prose lives: what the profiles showed, and why a case missed its goal
NOTES = "benchmarks/NOTES.md"


#: the cases that need PostgreSQL, and their row's title when it is not there
POSTGRESQL_TITLES = {
    "lots_postgres": "read lots to a DataFrame (PostgreSQL)",
    "production_postgres": "production.record of a 12-ingredient nested recipe (PostgreSQL)",
}


def run_case(name: str, ctx: Context) -> CaseResult | NotRun:
    module = importlib.import_module(f"benchmarks.cases.{name}")
    if name in POSTGRESQL_TITLES and not ctx.pg_url:
        return NotRun(POSTGRESQL_TITLES[name], module.GOAL,
                      "not run: no PostgreSQL (BAKEKIT_TEST_PG_URL unset)")
    result: CaseResult = module.run(ctx)
    result.module = name
    return result


def table(results: list[CaseResult | NotRun]) -> str:
    lines = ["| case | ours | baseline | ratio | goal | met |", "|---|---|---|---|---|---|"]
    for r in results:
        if isinstance(r, NotRun):
            lines.append(f"| {r.case} | - | - | - | {r.goal} | {r.reason} |")
            continue
        met = "yes" if r.met else "**NO**"
        lines.append(f"| {r.case} | {r.ours:.3g} {r.unit} | {r.baseline:.3g} {r.unit} | "
                     f"{r.ratio:.2f}x | {r.goal} | {met} |")
    return "\n".join(lines)


def render(results: list[CaseResult | NotRun], *, quick: bool) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = [f"- {r.case}: {r.note}" for r in results if isinstance(r, CaseResult) and r.note]
    misses = [f"- {r.case}: missed ({r.ratio:.2f}x, goal {r.goal}); see `{r.module}` in "
              f"{NOTES}." for r in results if isinstance(r, CaseResult) and not r.met]
    parts = [
        f"# bakekit benchmarks on {machine()}",
        "",
        f"Run {when}{' (QUICK smoke sizes: not meaningful)' if quick else ''} with "
        "`make bench`. Each ratio is ours / baseline, both measured in the same run, "
        "best of several alternating runs (times) or one fresh subprocess each (memory).",
        "",
        table(results),
        "",
        "## How each baseline is measured",
        "",
        *notes,
        "",
    ]
    if misses:
        parts += ["## Goals missed", "", *misses, ""]
    parts += [f"What the profiles showed, and why a goal was missed: {NOTES}.", ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--only", nargs="*", default=None, help="case module names")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the table (default benchmarks/RESULTS.md; "
                             "a --quick run prints it instead)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bakekit-bench-"))
    ctx = Context(workdir=workdir, quick=args.quick,
                  pg_url=os.environ.get("BAKEKIT_TEST_PG_URL") or None)
    results: list[CaseResult | NotRun] = []
    failed = False
    try:
        for name in args.only or CASES:
            if name == startup.NAME:  # its own module, run below
                continue
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            try:
                result = run_case(name, ctx)
            except Exception:
                traceback.print_exc()
                failed = True
                continue
            results.append(result)
            if isinstance(result, CaseResult):
                print(f"bench: {name}: {result.ours:.4g} vs {result.baseline:.4g} "
                      f"{result.unit} = {result.ratio:.2f}x ({result.goal})", file=sys.stderr,
                      flush=True)
        if args.only is None or startup.NAME in args.only:
            try:  # benchmarks/startup.py: the start-up rows, against their own floor
                results += startup.run(ctx)
            except Exception:
                traceback.print_exc()
                failed = True
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.only is None:
        results += pending()
    text = render(results, quick=args.quick)
    out = args.out or (None if args.quick else HERE / "RESULTS.md")
    if out is None:
        print(text)
    else:
        out.write_text(text)
        print(f"bench: wrote {out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

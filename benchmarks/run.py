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
     "<= 1.15x"),
    ("shopping_list", "shopping list: 1,000 recipients x 3 packages vs 10 recipients",
     "<= 3x, same statement count"),
    ("import_bake_tracker",
     "import: import_bake_tracker of the v4.2 file vs json.load + executemany", "<= 3x"),
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


PROFILE_NOTES = """\
## What the profiles showed (pyinstrument)

- `lots()` before: 11.3 s for 1,000,000 lots, 2.1x the stdlib baseline. `DataFrame(...)`
  over SQLAlchemy `Row` objects took 7.3 s (pandas' slow path for non-tuple rows), the
  per-row Date conversion of `acquired_on` on SQLite and `Result.fetchall` building Rows
  another 1.6 s; the SQLite query itself (its sort) is the same in both.
- Fix (bakekit/db/reading.py `frame`, behind `ws.frame`): fetch plain tuples from the driver cursor
  of the workspace's own connection (`fetchmany` in chunks of 65,536, one DataFrame per
  chunk, concatenated), and apply SQLAlchemy's result converters column by column only
  where a column's type has one. `lots()` casts the date to text in SQL and parses it
  with one vectorized `pd.to_datetime`. Chunking also keeps the peak RSS near the frame's
  own size instead of holding a million tuples of Python objects.
- `lots()` against ORM objects, then 0.14x (goal 0.125x): cProfile of 1,000,000 lots
  showed the cursor's `fetchmany` at about 40% (SQLite sorting the join of every lot by the
  item slug, and the sqlite3 module making a Python string per slug), pandas turning those
  object columns into string arrays another 20%. Now `lots()` selects no ORDER BY and sorts
  the fetched frame instead (stable, by item, date, id: fetch 5.6 s -> 4.0 s under load),
  and reads items and products as integer ids, named from one small second statement over
  the item and product tables (`Series.map` then one `astype("str")`, ~0.07 s a column),
  so a million lots make ints, not two million slug strings (about 30% less fetch and
  frame building in the raw measurement: 10.2 s -> 6.9 s under load).
- `frames.validate` is no longer a factor for large frames: text columns that already
  have a string dtype are not round-tripped through Python objects.
- production and what-if: pyinstrument showed pandera's `DataFrameSchema.validate` at
  about 7 ms per call on frames of a few rows, called twice per `production.record`
  (availability, consumed) and four more times while a what-if builds its Plan, i.e. half
  of `record` and most of the Plan. `frames.validate` now applies pandera's own per-column
  coercion and dtype check and the null check of required columns itself (1.5 ms), tested
  equal to pandera's validate for every schema. Later tuning of `record` and
  the Plan (one FIFO statement for all ingredients, plain rows, frames built directly,
  lazy plan frames) is described in its miss reason (MISS_REASONS in benchmarks/run.py,
  shown under Goals missed whenever the row misses).
- Import and merge-back (issue 13): cProfile showed SQLAlchemy building each row's
  parameters (`construct_params` and the per-row processor list, ~3 us a row) as the
  largest cost of the v4.2 import outside SQLite. `db.dialect.insert_many` and
  `execute_many` compile a statement once per kind of database and hand the driver rows
  converted column by column by the columns' own bind processors (`exec_driver_sql`: the
  statement events, fault injection and statement counts see them as before); tested
  equal to Core's executemany for every column type. Import 2.95-3.04x -> 2.41-2.49x in
  alternating runs.
- The priced purchases view merge-back (issue 13), 5.9-6.1x -> ~3.0-3.1x in alternating
  runs (old code against new, best of 15): natural-key matching of 156 records against the
  catalog (~1.5 ms) was the review's largest cost although every record names its
  purchase, so a record naming a remembered purchase (id or uuid) is now that purchase,
  of its product, and the catalog is read only for records that name none; the remembered
  keys come with their purchases in one statement. The review frame (0.9 ms) and
  `counts()` on it (0.45 ms) are built only when read: `counts()` and `apply()` read the
  review's rows. The priced purchases' uncosted lots and their ledger rows come in one
  read (`costing.price_purchase_lots`, which the importer shares). `db.dialect.fetch`
  does for these SELECTs what `execute_many` does for the writes (compiled once, each
  list length rendered once, each column's distinct values converted once): 0.60 ->
  0.46 ms on the largest. Statements a round: 12 -> 9. The case collects garbage before
  each round, which leaves the CPU caches cold: that adds ~1.3 ms to ours (warm ~4.6 ms,
  cold ~6 ms; touching 64 MB instead of collecting costs the same).
- PostgreSQL: through psycopg rows the read was about 1.6-1.9x ADBC (rows and tuples
  built in Python). `Workspace.frame(..., bulk=True)` now sends `COPY (SELECT ...) TO
  STDOUT (FORMAT csv)` on the workspace's own connection and transaction and parses it
  with pyarrow. What remains: the server's sort of a million rows (about 2.5 s under
  EXPLAIN ANALYZE, paid by ADBC too) and psycopg handing over COPY data one row per call.
"""


#: why a case misses its goal, from its profile (shown only when it does miss)
MISS_REASONS = {
    "lots_orm": "ours no longer sorts in SQL nor fetches slug strings per lot (see the profile"
                " notes); what is left is the sqlite3 module making a Python value per cell and "
                "pandas building columns from them. The ORM side varies strongly with machine "
                "load (24.6 s to 72.9 s on this machine), and the ratio with it.",
    "production": "profiled and tuned from 15.2x to about 6x, 4x, then 2.8-3.5x; this "
                  "round 1.3-2.35x in six runs of this case under load 2-3.3 (2.84x in "
                  "RESULTS.md before; record ~2.5-2.8 ms against the baseline's ~1.3 ms "
                  "when the machine is quiet, each side's commit ~0.6 ms of it): a write "
                  "that begins its transaction "
                  "runs without SAVEPOINT/RELEASE (on failure the whole transaction is "
                  "rolled back, which undoes exactly the write), and the finished unit, "
                  "its component graph and its recipe lines are one statement (a recursive "
                  "CTE from the unit's recipe, UNION so a cycle ends it, then one UNION ALL "
                  "of the unit row, the edges and the lines) instead of three. 8 statements "
                  "a committed record on SQLite (BEGIN IMMEDIATE, the unit with its recipe "
                  "expanded, the FIFO first pages, the run row, the lot updates, the new "
                  "lot, the ledger rows, COMMIT), 7 on PostgreSQL (12 and 11 before). What "
                  "is left: "
                  "SQLAlchemy's per-statement cost (~0.05-0.1 ms against ~0.02 ms for a "
                  "bare sqlite3 call), the writes themselves, and the exact Decimal FIFO walk "
                  "and unit conversions the baseline skips (it takes floats).",
    "what_if": "profiled and tuned from 2.3x to 1.5x, 1.4x, then 1.2x; this round "
               "1.11-1.19x in six runs of this case under load 2-3.3 (1.22x in RESULTS.md "
               "before; process time, best of 12 alternating rounds: 1.14-1.15x, against "
               "1.18-1.21x with the block's end still reading the stock back): a plan "
               "no longer reads its ledger rows back. The FIFO takes and "
               "new lots record each row as written (item, kind, unit as stored, quantity, "
               "cost), and in a what-if the ledger INSERT also RETURNs the stock on hand of "
               "each row's item in its unit and the database id (correlated sums), so the "
               "block's end runs no statement (a what-if with any other kind of step, or an "
               "uncosted row, still reads its rows back in one statement); the rows and the "
               "summary are built when first needed. Then the sums (~0.12 ms: SQLite read "
               "every lot with stock of the 13 items touched, 50 each here) were taken off "
               "the table: migration 0006 puts unit and remaining into the partial FIFO "
               "indexes, so a sum reads the index alone (0.97-1.13x in four runs at load "
               "~1, against 1.11-1.38x without it, alternating; the wider index costs each "
               "update of remaining an index write, on both sides of this ratio and in the "
               "production case). What remains: recording the rows (~0.03 ms) and the plan "
               "object with its recorded operations (~0.05 ms); session() itself got three "
               "statements cheaper this round, so the same capture weighs more in the "
               "ratio. Issue 13's round made the session side's ledger insert cheaper "
               "(db.dialect.insert_many: 1.10-1.12x -> 1.13-1.15x, min of 300 alternating "
               "calls), and the what-if's captured INSERT ... RETURNING went the same way "
               "(db.dialect.insert_returning: one multi-row VALUES statement compiled once "
               "per row count): 1.10-1.11x again.",
    "import_bake_tracker": "measured warm on both sides (one engine, each round connect, "
                           "import, commit and close on a fresh copy). Profile (cProfile and "
                           "per-phase timers, best of 30, ~38 ms against ~11 ms): reading with "
                           "duplicate-key detection 2.5 ms (json.load alone ~1.4), parse ~5 ms "
                           "(7.1 before: JSON numbers straight to Decimal, absent fields in one "
                           "step, unit spellings normalised once, each density text parsed "
                           "once a file, unknown fields collected per section), what is there "
                           "+ resolve 2.5 ms, write ~21 ms of which SQLite itself ~7.7 ms (the "
                           "baseline's executemany of the same rows ~5.5 ms), report 1.2 ms, "
                           "commit and close ~4 ms. In the write: columns NULL in every new "
                           "row are not sent (SQLAlchemy processes every column of every row), "
                           "products kept as written instead of re-read, no read-back of a new "
                           "recipe's lines, ids matched back by their one key, each candidate "
                           "product's comparison fields worked out once in resolve. 35 -> 32 "
                           "statements. Old code vs new, same harness, alternating, best of "
                           "40, load ~1.5: 3.94-3.95x -> 3.39-3.49x (ours 43-46 -> 38-40 ms); "
                           "benchmarks.run once after: 3.30x. Then, on SQLite, many rows go "
                           "in with their ids known up front (max(id)+1 on, as SQLite gives "
                           "them) as one prepared executemany instead of multi-row INSERT ... "
                           "RETURNING parsed batch by batch: 1-1.7 ms faster (best of 40, "
                           "alternating); three full runs of this case since gave 3.11-3.33x "
                           "(the spread of this machine). What remains is spread thin: "
                           "SQLAlchemy's cost per statement (~0.1 ms x 32) and per row (~2 us "
                           "x 1,190, with Python bind processors for dates, times and flags), "
                           "the ingredient hierarchy's five INSERTs (one a level: a child "
                           "needs its parent's id), checking every field of every row "
                           "(~4 us a row, bound by function calls: an inlined short road "
                           "measured no faster) and the lots' ledger rows. Tried and dropped: "
                           "SQLite pages of 50 rows for INSERT ... RETURNING (a 333-row insert "
                           "1.96 -> 1.56 ms on a new connection) raise the statement count a "
                           "test pins. Then (this round) the per-row work left SQLAlchemy's "
                           "executemany on SQLite: db.dialect.insert_many compiles each INSERT "
                           "once per table and columns, converts values column by column with "
                           "the columns' own bind processors (each distinct naive date, "
                           "timestamp and flag once) and Python-side defaults, and hands "
                           "the driver tuples through exec_driver_sql; rows already of one "
                           "shape are not rebuilt; the report's frame is built when first "
                           "read. Old code vs new in alternating processes, best of 15, load "
                           "~0.7: 2.95-3.04x -> 2.41-2.49x (ours 33-34 -> 26.8 ms). Tried "
                           "and reverted: the ingredient hierarchy as one INSERT and one "
                           "UPDATE of parents (8 statements fewer, but the ~400-row UPDATE "
                           "cost 2 ms more). If this row misses, it is by the machine's "
                           "spread (3.05-3.13x in isolated runs of the old code at the start "
                           "of this round).",
    "reconcile_view": "at 156 records the merge-back is ~6-6.5 ms against ~2 ms of three "
                      "executemany UPDATEs (old code against new in alternating processes, "
                      "best of 15: 5.9-6.1x -> 3.0-3.1x; what changed is under the profile "
                      "notes). What remains, warm (~4.6 ms, best of 60): reviewing 156 "
                      "records ~1.0 ms (the remembered purchases read ~0.4 ms, checking "
                      "and judging each record ~3.5 us); json with the duplicate-key "
                      "check ~0.45 ms; the apply ~2.6 ms, of which SQLite runs the three "
                      "UPDATEs the baseline runs (~0.7 ms), the lots with their ledger "
                      "rows (0.24 ms) and the remembered keys (~0.15 ms). The case "
                      "collects garbage before each round, which leaves the CPU caches "
                      "cold: ~1.3 ms more for ours, little for the baseline's few calls. "
                      "A miss here is by the machine's spread around 3x.",
}


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
    misses = [f"- {r.case}: missed ({r.ratio:.2f}x, goal {r.goal}). "
              f"{MISS_REASONS.get(r.module, 'Not profiled yet.')}"
              for r in results if isinstance(r, CaseResult) and not r.met]
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
    parts += [PROFILE_NOTES]
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

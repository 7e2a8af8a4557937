"""Import the real bake-tracker v4.2 export: ``io.import_bake_tracker`` into an empty
bakery, against ``json.load`` plus plain executemany inserts of the very rows our import
wrote (captured from its result), each round into a fresh copy of the same empty database,
both warm (statements compiled once on one engine)."""

from __future__ import annotations

import functools
import shutil
import sqlite3
from pathlib import Path

import bakekit
from bakekit.db.models import LOCAL_TABLES, metadata
from benchmarks.common import CaseResult, Context, clock, sqlite_baseline

GOAL = "<= 3.5x"
SOURCE = (Path(__file__).resolve().parents[2] / "tests" / "data" / "bake-tracker"
          / "sample_data_all_v4.2.json")


def _rows(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    con = sqlite3.connect(path)
    try:
        out = {}
        for t in metadata.sorted_tables:
            if t.name in LOCAL_TABLES:  # the database's own identity: not imported data
                continue
            names = [c.name for c in t.columns]
            out[t.name] = (names, con.execute(
                f"SELECT {', '.join(names)} FROM {t.name}").fetchall())
        return out
    finally:
        con.close()


def executemany_rows(path: Path, source: Path,
                     rows: dict[str, tuple[list[str], list[tuple]]]) -> int:
    """The baseline: ``json.load`` the file, then one executemany per table of the same
    rows (parents first), foreign keys checked, one transaction. Returns rows written."""
    written = 0
    with sqlite_baseline(path, source) as con:
        for table, (names, values) in rows.items():
            if values:
                con.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                                f"({', '.join('?' * len(names))})", values)
                written += len(values)
        con.execute("COMMIT")
    return written


def _fresh(path: Path, template: Path) -> None:
    """``path`` becomes a copy of the empty template (no write-ahead log left over)."""
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    shutil.copy(template, path)


def run(ctx: Context) -> CaseResult:
    if not SOURCE.exists():
        raise FileNotFoundError(f"the bake-tracker v4.2 export is not at {SOURCE}")
    template = ctx.workdir / "import-template.db"
    bakekit.open(str(template)).dispose()
    ours_db, base_db = ctx.workdir / "import-ours.db", ctx.workdir / "import-base.db"
    _fresh(ours_db, template)
    # one engine for every round, so statements are compiled once (warm, as a long-lived
    # application is); each round a new connection to a fresh copy, as the baseline's
    bakery = bakekit.open(str(ours_db))
    bakery.dispose()

    def ours() -> None:  # connect, import, commit, close: what the baseline times
        with bakery.session() as ws:
            ws.io.import_bake_tracker(SOURCE)
            ws.commit()
        bakery.dispose()  # the connection closes (SQLite checkpoints the WAL, as the
        #                   baseline's close does); the compiled statements stay

    best_ours = best_base = float("inf")
    rows: dict[str, tuple[list[str], list[tuple]]] = {}
    written = 0
    try:
        for k in range(ctx.repeats + 1):  # round 0 is a warm-up
            _fresh(ours_db, template)
            t_ours, _ = clock(ours)
            rows = _rows(ours_db)
            _fresh(base_db, template)
            t_base, written = clock(functools.partial(executemany_rows, base_db, SOURCE, rows))
            if k:
                best_ours, best_base = min(best_ours, t_ours), min(best_base, t_base)
    finally:
        bakery.dispose()
    assert _rows(base_db) == rows
    return CaseResult("import_bake_tracker of the v4.2 export (SQLite)", best_ours, best_base,
                      "s", 3.5, GOAL, written,
                      f"baseline: json.load + one executemany per table of the same "
                      f"{written:,} rows our import wrote, one transaction, committed; both "
                      f"warm (one engine for all rounds: statements compiled once, then a "
                      f"warm-up round), each round connect, import, commit and close on a "
                      f"fresh copy of the empty bakery, both with bakekit's SQLite "
                      f"settings (WAL, synchronous NORMAL, foreign keys)")

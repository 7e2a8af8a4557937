"""Production: 1,000 ``production.record`` calls of a 12-ingredient nested recipe, each in
its own committed workspace, against the same lot updates, run and ledger rows written with
hand-written SQL (stdlib sqlite3, one transaction per run)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid

import bakekit
from benchmarks.cases._recipe import INGREDIENTS, recipe_database
from benchmarks.common import CaseResult, Context, clock

GOAL = "<= 2.5x"
#: committed calls of each side before timing (both warm)
WARM_UP = 20
#: a quantity's scale as SQLite stores it (bakekit.db.exact: value * 10**9)
Q = 10 ** 9
#: grams per batch: 15 g of each own ingredient, 20 g x 0.5 batch of each component one
NEEDS = {slug: (15.0 if k < 6 else 10.0) for k, slug in enumerate(INGREDIENTS)}


def handwritten(path: str, calls: int) -> int:
    """The baseline: FIFO by hand, per run one transaction: INSERT the run, SELECT the
    oldest lots per ingredient, executemany the lot updates and ledger rows, INSERT the
    finished-unit lot, UPDATE the run's cost. Returns the runs written. Numbers are kept
    as SQLite stores them (bakekit.db.exact): integers of quantity * 10**9 and money *
    10**10, so the arithmetic is on integers, as exact as ours."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        ids = dict(con.execute("SELECT slug, id FROM ingredients"))
        unit_id, recipe_id = con.execute(
            "SELECT id, recipe_id FROM finished_units WHERE slug = 'cookie'").fetchone()
        needs = sorted((ids[slug], round(grams * Q)) for slug, grams in NEEDS.items())
        for _ in range(calls):
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            con.execute("BEGIN IMMEDIATE")
            run_id = con.execute(
                "INSERT INTO runs (uuid, kind, finished_unit_id, recipe_id, batches, "
                "expected_quantity, quantity, loss, produced_at, snapshot, imported, "
                "created_at) VALUES (?, 'production', ?, ?, ?, ?, ?, 0, ?, ?, 0, ?) "
                "RETURNING id", (str(uuid.uuid4()), unit_id, recipe_id, Q, 24 * Q, 24 * Q, now,
                                 json.dumps(NEEDS), now)).fetchone()[0]
            updates, moves, total = [], [], 0
            for ingredient_id, need in needs:
                for lot_id, remaining, unit_cost in con.execute(
                        "SELECT id, remaining, unit_cost FROM lots WHERE ingredient_id = ? "
                        "AND remaining > 0 ORDER BY acquired_on, id LIMIT 64",
                        (ingredient_id,)):
                    take = min(need, remaining)
                    cost = (take * unit_cost + Q // 2) // Q
                    updates.append((remaining - take, lot_id))
                    moves.append((str(uuid.uuid4()), lot_id, run_id, "production", -take,
                                  -cost, now.date(), now))
                    total += cost
                    need -= take
                    if need <= 0:
                        break
            con.executemany("UPDATE lots SET remaining = ? WHERE id = ?", updates)
            per_unit = (total + 12) // 24
            lot_id = con.execute(
                "INSERT INTO lots (uuid, kind, finished_unit_id, run_id, acquired_on, "
                "quantity, remaining, unit, unit_cost, created_at) VALUES "
                "(?, 'finished_unit', ?, ?, ?, ?, ?, 'each', ?, ?) RETURNING id",
                (str(uuid.uuid4()), unit_id, run_id, now.date(), 24 * Q, 24 * Q, per_unit,
                 now)).fetchone()[0]
            moves.append((str(uuid.uuid4()), lot_id, run_id, "production", 24 * Q, total,
                          now.date(), now))
            con.executemany("INSERT INTO movements (uuid, lot_id, run_id, reason, quantity, "
                            "cost, posted_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            moves)
            con.execute("UPDATE runs SET total_cost = ?, per_unit_cost = ? WHERE id = ?",
                        (total, per_unit, run_id))
            con.execute("COMMIT")
    finally:
        con.close()
    return calls


def run(ctx: Context) -> CaseResult:
    calls = ctx.size(1_000, 3)
    url = recipe_database(ctx, lots_per_ingredient=ctx.size(40, 4))
    path = url.split("///", 1)[1]
    bakery = bakekit.open(url)

    def ours() -> int:
        for _ in range(calls):
            with bakery.session() as ws:
                ws.production.record("cookie", batches=1)
                ws.commit()
        return calls

    warm = ctx.size(WARM_UP, 1)
    try:
        # both warm: a few committed calls of each side first (our bakery's engine and
        # compiled-statement cache then stay warm, as a long-lived bakery's are)
        for _ in range(warm):
            with bakery.session() as ws:
                ws.production.record("cookie", batches=1)
                ws.commit()
        handwritten(path, warm)
        t_ours, made = clock(ours)  # each side commits: one round of each (stock runs down)
        t_base, written = clock(lambda: handwritten(path, calls))
        with bakery.session() as ws:
            runs = ws.production.history()
            audit = ws.inventory.audit()
    finally:
        bakery.dispose()
    assert made == written == calls and len(runs) == 2 * (calls + warm), (made, len(runs))
    assert audit.empty, audit  # the baseline kept lots and ledger consistent too
    return CaseResult(f"production.record x {calls:,}, 12-ingredient nested recipe (SQLite)",
                      t_ours / calls * 1000, t_base / calls * 1000, "ms/run", 2.5, GOAL,
                      len(runs), "baseline: hand-written FIFO SQL in sqlite3, one transaction "
                      f"per run; both warm ({warm} committed calls of each side first, one "
                      "bakery for all our calls); each side run once (both commit, so stock "
                      "runs down)")

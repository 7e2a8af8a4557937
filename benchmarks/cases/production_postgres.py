"""Production on PostgreSQL, where round trips cost: ``production.record`` of the
12-ingredient nested recipe against the same run written by hand-written FIFO SQL through
psycopg, and the statements each side sends per record (beside it: ours on SQLite)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

import bakekit
from benchmarks.cases._recipe import INGREDIENTS, recipe_database
from benchmarks.common import CaseResult, Context, race

GOAL = "<= 2.5x"
#: grams per batch: 15 g of each own ingredient, 20 g x 0.5 batch of each component one
NEEDS = {slug: Decimal(15 if k < 6 else 10) for k, slug in enumerate(INGREDIENTS)}
_PLACES = Decimal("1e-10")


class _Counting:
    """A psycopg cursor's execute/executemany calls, counted (one statement each)."""

    def __init__(self, cur: Any) -> None:
        self.cur, self.n = cur, 0

    def execute(self, sql: str, params: Any = None) -> Any:
        self.n += 1
        return self.cur.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> None:
        self.n += 1
        self.cur.executemany(sql, params)


def _one_run(cur: _Counting, unit_id: int, recipe_id: int,
             needs: list[tuple[int, Decimal]]) -> None:
    """One run by hand, as the SQLite baseline does it, with the lots locked FOR UPDATE."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = cur.execute(
        "INSERT INTO runs (uuid, kind, finished_unit_id, recipe_id, batches, "
        "expected_quantity, quantity, loss, produced_at, snapshot, imported, created_at) "
        "VALUES (%s, 'production', %s, %s, 1, 24, 24, 0, %s, %s, false, %s) RETURNING id",
        (str(uuid.uuid4()), unit_id, recipe_id, now,
         json.dumps({k: str(v) for k, v in NEEDS.items()}), now)).fetchone()[0]
    updates, moves, total = [], [], Decimal(0)
    for ingredient_id, need in needs:
        for lot_id, remaining, unit_cost in cur.execute(
                "SELECT id, remaining, unit_cost FROM lots WHERE ingredient_id = %s "
                "AND remaining > 0 ORDER BY acquired_on, id LIMIT 64 FOR UPDATE",
                (ingredient_id,)).fetchall():
            take = min(need, remaining)
            cost = (take * unit_cost).quantize(_PLACES)
            updates.append((remaining - take, lot_id))
            moves.append((str(uuid.uuid4()), lot_id, run_id, "production", -take, -cost,
                          now.date(), now))
            total += cost
            need -= take
            if need <= 0:
                break
    cur.executemany("UPDATE lots SET remaining = %s WHERE id = %s", updates)
    per_unit = (total / 24).quantize(_PLACES)
    lot_id = cur.execute(
        "INSERT INTO lots (uuid, kind, finished_unit_id, run_id, acquired_on, quantity, "
        "remaining, unit, unit_cost, created_at) VALUES "
        "(%s, 'finished_unit', %s, %s, %s, 24, 24, 'each', %s, %s) RETURNING id",
        (str(uuid.uuid4()), unit_id, run_id, now.date(), per_unit, now)).fetchone()[0]
    moves.append((str(uuid.uuid4()), lot_id, run_id, "production", 24, total, now.date(),
                  now))
    cur.executemany("INSERT INTO movements (uuid, lot_id, run_id, reason, quantity, cost, "
                    "posted_on, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", moves)
    cur.execute("UPDATE runs SET total_cost = %s, per_unit_cost = %s WHERE id = %s",
                (total, per_unit, run_id))


def handwritten(url: str, calls: int) -> tuple[int, float]:
    """The baseline: ``calls`` runs through psycopg, one transaction each. Returns the runs
    written and the statements sent per run (COMMIT included)."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as con, con.cursor() as raw:
        cur = _Counting(raw)
        ids = dict(cur.execute("SELECT slug, id FROM ingredients").fetchall())
        unit_id, recipe_id = cur.execute(
            "SELECT id, recipe_id FROM finished_units WHERE slug = 'cookie'").fetchone()
        needs = sorted((ids[slug], grams) for slug, grams in NEEDS.items())
        cur.n = 0
        for _ in range(calls):
            _one_run(cur, unit_id, recipe_id, needs)
            con.commit()
            cur.n += 1
    return calls, cur.n / calls


def statements_per_record(bakery: bakekit.Bakery, record: Callable[[], Any]) -> int:
    """The statements one committed ``record`` sends: every cursor statement (SAVEPOINTs,
    SQLite's explicit BEGIN) and the COMMIT; like the baseline's count, not the BEGIN
    that psycopg sends by itself."""
    seen: list[str] = []

    def on_execute(*args: Any) -> None:
        seen.append(args[2])

    def on_commit(*args: Any) -> None:
        seen.append("COMMIT")

    hooks = [("before_cursor_execute", on_execute), ("commit", on_commit)]
    for name, fn in hooks:
        event.listen(bakery.engine, name, fn)
    try:
        record()
    finally:
        for name, fn in hooks:
            event.remove(bakery.engine, name, fn)
    return len(seen)


def _recorder(bakery: bakekit.Bakery) -> Callable[[], None]:
    def record() -> None:
        with bakery.session() as ws:
            ws.production.record("cookie", batches=1)
            ws.commit()
    return record


def sqlite_statements(ctx: Context) -> int:
    """Ours on SQLite: the statements of one committed record of the same recipe."""
    bakery = bakekit.open(recipe_database(ctx, lots_per_ingredient=ctx.size(40, 4)))
    try:
        return statements_per_record(bakery, _recorder(bakery))
    finally:
        bakery.dispose()


def run(ctx: Context) -> CaseResult:
    calls = ctx.size(200, 3)
    lots = ctx.size(2 * (1 + ctx.repeats) * 200 // 60 + 5, 4)  # each run takes under a lot
    url = recipe_database(ctx, lots_per_ingredient=lots, postgresql=True)
    bakery = bakekit.open(url)
    record = _recorder(bakery)
    written: list[float] = []

    def ours() -> int:
        for _ in range(calls):
            record()
        return calls

    def baseline() -> int:
        made, per_run = handwritten(url, calls)
        written.append(per_run)
        return made

    try:
        ours_n = statements_per_record(bakery, record)  # also the warm-up
        baseline()
        t_ours, t_base, made, base_made = race(ours, baseline, ctx.repeats)
        with bakery.session() as ws:
            runs = len(ws.production.history())
            audit = ws.inventory.audit()
    finally:
        bakery.dispose()
    assert made == base_made == calls, (made, base_made)
    assert audit.empty, audit  # the baseline kept lots and ledger consistent too
    lite_n = sqlite_statements(ctx)
    return CaseResult(
        f"production.record x {calls:,}, 12-ingredient nested recipe (PostgreSQL); "
        f"statements per record: ours {ours_n} (SQLite {lite_n}), hand-written "
        f"{written[-1]:g}", t_ours / calls * 1000, t_base / calls * 1000, "ms/run", 2.5,
        GOAL, runs, "baseline: hand-written FIFO SQL through psycopg (lots locked FOR UPDATE, "
        "executemany for lot updates and ledger rows), one transaction per run; both warm "
        "(one round of each before timing), best of alternating rounds, both commit")

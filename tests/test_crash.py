"""Crash durability: a process recording production runs is killed with SIGKILL mid-way;
the database opens cleanly, every committed run survived, every run is wholly present or
wholly absent, and every lot still equals its ledger (SQLite WAL file and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Float, cast, func, select, text

import bakekit
from bakekit.db import tables
from tests.support.data import small_catalog

ROOT = Path(__file__).resolve().parents[1]
RUNS = 400  # more than the child can record before it is killed
COMMIT_EVERY = 7
FLOUR_CUPS, SUGAR_CUPS, BUTTER_CUPS = 2.25, 0.75, 1.0  # one batch

CHILD = """
import sys, bakekit
url, progress, runs, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
bakery = bakekit.open(url)
with bakery.session() as ws:
    for n in range(1, runs + 1):
        ws.production.record("cookie", batches=1, notes=f"run {n}")
        if n == 1:
            open(progress + ".started", "w").close()
        if n % every == 0:
            ws.commit()
            with open(progress, "w") as f:
                f.write(str(n))
    ws.commit()
"""


def _seed(bakery: bakekit.Bakery) -> None:
    with bakery.session() as ws:
        small_catalog(ws, packaging=False)
        # many small lots at different prices, so every run crosses lots
        for day in range(1, 29):
            on = f"2025-01-{day:02d}"
            ws.inventory.purchase("flour-2lb", packages=4, unit_cost=3 + day / 10,
                                  purchased_on=on)
            ws.inventory.purchase("sugar-1lb", packages=5, unit_cost=1 + day / 20,
                                  purchased_on=on)
            ws.inventory.purchase("butter-1lb", packages=8, unit_cost=4 + day / 7,
                                  purchased_on=on)
        ws.recipes.add("cookies", "Cookies",
                       ingredients=[("flour", FLOUR_CUPS, "cup"), ("sugar", SUGAR_CUPS, "cup"),
                                    ("butter", BUTTER_CUPS, "cup")],
                       finished_units=[("cookie", "Cookie", 24, "cookie")])
        ws.commit()


def _kill_mid_way(url: str, tmp_path: Path, delay: float) -> int:
    """Start the child, wait until it has committed twice, SIGKILL it ``delay`` seconds
    later; returns the number of runs it had reported committed."""
    progress = tmp_path / "progress"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(progress), str(RUNS), str(COMMIT_EVERY)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (progress.exists() and int(progress.read_text() or 0) >= 2 * COMMIT_EVERY):
            if child.poll() is not None:
                pytest.fail(f"the child ended before it was killed: {child.stderr.read()!r}")
            if time.monotonic() > deadline:
                pytest.fail("the child did not start writing within 60 s")
            time.sleep(0.01)
        time.sleep(delay)
        committed = int(progress.read_text() or 0)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, "the child finished before it was killed"
    assert (tmp_path / "progress.started").exists()
    return committed


@pytest.mark.parametrize("delay", [0.0, 0.137])
def test_sigkill_mid_record_leaves_whole_runs_and_a_sound_ledger(backend, tmp_path, delay):
    bakery = bakekit.open(backend)
    try:
        _seed(bakery)
        with bakery.session() as ws:
            bought = ws.inventory.movements()
        url = bakery.url
    finally:
        bakery.dispose()

    committed = _kill_mid_way(url, tmp_path, delay)

    reopened = bakekit.open(url)  # opens cleanly (WAL recovery / server-side rollback)
    try:
        with reopened.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            conn.rollback()
        with reopened.session() as ws:
            runs, lots, m = tables.runs, tables.lots, tables.movements
            history = ws.production.history()
            n = len(history)
            # every committed run survived; nothing after the last commit did
            assert n >= committed and n % COMMIT_EVERY == 0 and n < RUNS, (n, committed)
            assert list(history["run_id"]) == sorted(history["run_id"])
            assert ws.inventory.audit().empty, ws.inventory.audit()
            assert (ws.inventory.lots(include_empty=True)["remaining"] >= 0).all()

            # each run is whole: one finished-unit lot of 24 made, three ingredients
            # consumed, ledger cost of what it took equal to the run's total cost
            per_run = ws.frame(
                select(runs.c.id.label("run_id"),
                       cast(runs.c.total_cost, Float).label("total_cost"),
                       cast(runs.c.quantity, Float).label("quantity"))
                .order_by(runs.c.id))
            made = ws.frame(
                select(lots.c.run_id, func.count().label("lots"),
                       cast(func.sum(lots.c.quantity), Float).label("made"))
                .where(lots.c.kind == "finished_unit").group_by(lots.c.run_id))
            taken = ws.frame(
                select(m.c.run_id, func.count(func.distinct(lots.c.ingredient_id))
                       .label("ingredients"),
                       cast(-func.sum(m.c.cost), Float).label("cost"))
                .join(lots, lots.c.id == m.c.lot_id)
                .where(m.c.quantity < 0, m.c.run_id.isnot(None))
                .group_by(m.c.run_id))
            whole = per_run.merge(made, on="run_id", how="outer").merge(
                taken, on="run_id", how="outer")
            assert len(whole) == n
            assert (whole["lots"] == 1).all() and (whole["made"] == 24).all()
            assert (whole["quantity"] == 24).all()
            assert (whole["ingredients"] == 3).all()
            assert ((whole["cost"] - whole["total_cost"]).abs() < 1e-6).all(), whole

            # nothing was consumed outside the surviving runs, and exactly their need
            used = ws.inventory.movements()
            used = used[used["reason"] == "production"]
            used = used[used["kind"] == "ingredient"]
            cups = {"flour": FLOUR_CUPS * 4.25 / 16, "sugar": SUGAR_CUPS * 7.05 / 16,
                    "butter": BUTTER_CUPS * 8 / 16}  # lb per batch
            for item, lb in cups.items():
                total = -used.loc[used["item"] == item, "quantity"].sum()
                assert total == pytest.approx(n * lb, rel=1e-6), item
            still = ws.inventory.movements()
            assert len(still[still["reason"] == "purchase"]) == len(bought)
            # and the database takes new work
            ws.production.record("cookie", batches=1)
            ws.commit()
        with reopened.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM runs")).scalar() == n + 1
            conn.rollback()
    finally:
        reopened.dispose()

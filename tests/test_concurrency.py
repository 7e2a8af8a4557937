"""Concurrency: 4 processes x 100 mixed purchases, consumptions, productions, assemblies and
reversals of their own runs on the same few ingredients, each in its own committed
workspace, against one SQLite file and one PostgreSQL database. Every call succeeds or
raises InsufficientStockError (or, for a reversal of a run whose lot was used since, its
refusal); no lot goes negative; every lot equals its ledger; the ledger equals what the
calls reported."""

from __future__ import annotations

import multiprocessing
import random
import time
import traceback
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import text

import bakekit
from bakekit.errors import InsufficientStockError, ValidationError
from tests.support.data import small_catalog

PROCESSES = 4
OPERATIONS = 100
PRODUCTS = {"flour": "flour-2lb", "sugar": "sugar-1lb", "butter": "butter-1lb",
            "box": "box-10"}


def _seed(bakery: bakekit.Bakery) -> None:
    """Three ingredients and a packaging one, two recipes that list the same ingredients in
    opposite orders, a finished good; little stock, so that some calls run short."""
    with bakery.session() as ws:
        small_catalog(ws)
        for day, product in enumerate(PRODUCTS.values(), start=1):
            ws.inventory.purchase(product, packages=2, unit_cost=2 + day,
                                  purchased_on=f"2025-01-0{day}")
        ws.recipes.add("cookies", "Cookies",
                       ingredients=[("flour", 1, "cup"), ("sugar", 0.5, "cup"),
                                    ("butter", 0.5, "cup")],
                       finished_units=[("cookie", "Cookie", 12, "cookie")])
        ws.recipes.add("shortbread", "Shortbread",
                       ingredients=[("butter", 0.5, "cup"), ("sugar", 0.25, "cup"),
                                    ("flour", 1, "cup")],
                       finished_units=[("finger", "Shortbread finger", 12, "finger")])
        ws.assembly.add_finished_good("gift", "Gift",
                                      components=[("cookie", 4), ("finger", 4), ("box", 1)])
        ws.commit()


def _lot_deltas(frame: Any, sign: float) -> list[tuple[int, float, float]]:
    return [(int(r.lot_id), sign * float(r.quantity),
             0.0 if r.cost is None or r.cost != r.cost else sign * float(r.cost))
            for r in frame.itertuples()]


def _one(ws: bakekit.Workspace, rng: random.Random, day: int,
         runs: list[tuple[str, int]]) -> dict[str, Any]:
    """One random operation; returns what it reported: per lot (id, quantity, cost).
    ``runs``: this worker's runs so far (a reversal picks one; a refused one is "short")."""
    choice = rng.choices(["purchase", "consume", "production", "assembly", "reversal"],
                         weights=[3, 3, 4, 3, 2 if runs else 0])[0]
    if choice == "reversal":
        kind, run_id = runs.pop(rng.randrange(len(runs)))
        area = ws.production if kind == "production" else ws.assembly
        restored = area.reverse(run_id).restored
        return {"op": choice, "lots": [(int(r.lot_id), float(r.quantity),
                                        0.0 if r.cost is None or r.cost != r.cost
                                        else float(r.cost))
                                       for r in restored.itertuples()]}
    if choice == "purchase":
        product = rng.choice(list(PRODUCTS.values()))
        r = ws.inventory.purchase(product, packages=1, unit_cost=round(rng.uniform(1, 9), 2),
                                  purchased_on=f"2025-02-{day:02d}")
        return {"op": choice, "lots": [(r.lot_id, r.quantity, r.total_cost)]}
    if choice == "consume":
        item = rng.choice(["flour", "sugar", "butter"])
        c = ws.inventory.consume(item, rng.choice([0.25, 0.5, 1, 2]), "cup", reason="test")
        return {"op": choice, "lots": _lot_deltas(c.consumed, -1)}
    if choice == "production":
        unit = rng.choice(["cookie", "finger"])
        r = ws.production.record(unit, batches=rng.choice([0.5, 1]))
        runs.append(("production", r.run_id))
        return {"op": choice, "lots": [(r.lot_id, r.quantity, r.total_cost),
                                       *_lot_deltas(r.consumed, -1)]}
    r = ws.assembly.record("gift", quantity=rng.choice([1, 2]))
    runs.append(("assembly", r.run_id))
    return {"op": "assembly", "lots": [(r.lot_id, r.quantity, r.total_cost),
                                       *_lot_deltas(r.consumed, -1)]}


def _worker(url: str, number: int, start: Any, queue: Any) -> None:
    """A process: 100 operations, each in its own workspace, committed; results to queue."""
    results: list[dict[str, Any]] = []
    try:
        rng = random.Random(1000 + number)
        bakery = bakekit.open(url)
        start.wait(60)
        runs: list[tuple[str, int]] = []
        for n in range(OPERATIONS):
            mine = list(runs)
            try:
                with bakery.session() as ws:
                    outcome = _one(ws, rng, 1 + (n * PROCESSES + number) % 28, runs)
                    ws.commit()
                results.append({"status": "ok", **outcome})
            except InsufficientStockError as exc:
                runs[:] = mine
                results.append({"status": "short", "message": str(exc)})
            except ValidationError as exc:  # a reversal of a run whose lot was used since
                if "cannot be reversed" not in str(exc):
                    raise
                results.append({"status": "short", "message": str(exc)})
            except Exception as exc:  # noqa: BLE001  (anything else fails the test)
                results.append({"status": "error", "error": repr(exc),
                                "traceback": traceback.format_exc()})
        bakery.dispose()
    except Exception:  # noqa: BLE001
        results.append({"status": "error", "error": traceback.format_exc()})
    queue.put((number, results))


def _deadlocks(bakery: bakekit.Bakery) -> int | None:
    if bakery.engine.dialect.name != "postgresql":
        return None
    with bakery.engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        value = conn.execute(text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )).scalar()
        conn.rollback()
    return int(value or 0)


def test_four_processes_mixed_operations_keep_the_ledger_exact(backend):
    bakery = bakekit.open(backend)
    try:
        _seed(bakery)
        with bakery.session() as ws:
            before = ws.inventory.lots(include_empty=True).set_index("lot_id")
        deadlocks_before = _deadlocks(bakery)

        ctx = multiprocessing.get_context("spawn")
        start, queue = ctx.Event(), ctx.Queue()
        workers = [ctx.Process(target=_worker, args=(bakery.url, n, start, queue))
                   for n in range(PROCESSES)]
        for w in workers:
            w.start()
        started = time.monotonic()
        start.set()
        gathered = dict(queue.get(timeout=300) for _ in workers)
        elapsed = time.monotonic() - started
        for w in workers:
            w.join(timeout=30)

        results = [r for n in sorted(gathered) for r in gathered[n]]
        errors = [r for r in results if r["status"] == "error"]
        assert not errors, errors[0].get("traceback", errors[0]["error"])
        assert len(results) == PROCESSES * OPERATIONS
        ok = [r for r in results if r["status"] == "ok"]
        by_op = defaultdict(int)
        for r in ok:
            by_op[r["op"]] += 1
        short = len(results) - len(ok)
        print(f"\n[{bakery.engine.dialect.name}] {len(results)} calls in {elapsed:.1f} s: "
              f"{dict(by_op)}, {short} short")
        # the mix really happened: every kind of call succeeded, and some ran short
        assert set(by_op) == {"purchase", "consume", "production", "assembly", "reversal"}, \
            by_op

        # what the successful calls reported, per lot
        expected_qty: dict[int, float] = defaultdict(float)
        reported_cost = 0.0
        for r in ok:
            for lot_id, quantity, cost in r["lots"]:
                expected_qty[lot_id] += quantity
                if quantity < 0:
                    reported_cost += cost or 0.0
        with bakery.session() as ws:
            assert ws.inventory.audit().empty, ws.inventory.audit()
            lots = ws.inventory.lots(include_empty=True).set_index("lot_id")
            assert (lots["remaining"] >= 0).all(), lots[lots["remaining"] < 0]
            for lot_id, row in lots.iterrows():
                start_qty = float(before["remaining"].get(lot_id, 0.0))
                assert row["remaining"] == pytest.approx(
                    start_qty + expected_qty.get(int(lot_id), 0.0), abs=1e-6), lot_id
            assert set(expected_qty) <= set(lots.index)
            moves = ws.inventory.movements()
            taken = moves[moves["quantity"] < 0]
            assert taken["cost"].fillna(0).sum() == pytest.approx(reported_cost, abs=1e-6)
            # one ledger row per lot a call reported taking from (no double counting)
            assert len(taken) == sum(1 for r in ok for _, q, _ in r["lots"] if q < 0)
        deadlocks = _deadlocks(bakery)
        if deadlocks is not None:
            print(f"[postgresql] deadlocks detected by the server: "
                  f"{deadlocks - deadlocks_before}")
            assert deadlocks == deadlocks_before, "lots were locked in an unstable order"
    finally:
        bakery.dispose()

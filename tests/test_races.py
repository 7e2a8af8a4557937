"""Races between two workspaces: the first holds its transaction open after a write, the
second runs the same or another write workflow meanwhile and commits once the first has
committed. Whatever the pair, the second must see what the first committed: nothing lost
(the lots and stock equal the two calls done one after the other), and every lot equals
its ledger (``audit()`` clean). Every lot write is a read-modify-write under a row lock
(PostgreSQL) or the database's write lock (SQLite)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

import bakekit
from tests.support.data import small_catalog

#: a write workflow: what it does in a workspace
Op = Callable[[bakekit.Workspace, dict[str, int]], Any]

#: how long the first workspace holds its transaction open once it has written
HOLD = 0.4


def _seed(bakery: bakekit.Bakery) -> dict[str, int]:
    """Flour in two lots, sugar, butter, boxes; two cookie runs (the second to reverse) and
    one assembly of a gift (to reverse). Returns the ids the workflows name."""
    with bakery.session() as ws:
        small_catalog(ws)
        for product, day in (("flour-2lb", 1), ("flour-2lb", 2), ("sugar-1lb", 1),
                             ("butter-1lb", 1), ("box-10", 1)):
            ws.inventory.purchase(product, packages=1, unit_cost=3 + day,
                                  purchased_on=f"2025-01-0{day}")
        ws.recipes.add("cookies", "Cookies",
                       ingredients=[("flour", 1, "cup"), ("sugar", 0.5, "cup"),
                                    ("butter", 0.25, "cup")],
                       finished_units=[("cookie", "Cookie", 12, "cookie")])
        ws.assembly.add_finished_good("gift", "Gift", components=[("cookie", 4), ("box", 1)])
        first = ws.production.record("cookie", batches=1, produced_at="2025-01-03T10:00")
        second = ws.production.record("cookie", batches=1, produced_at="2025-01-03T11:00")
        gift = ws.assembly.record("gift", quantity=1)
        flour_lot = int(ws.inventory.lots("flour")["lot_id"].min())
        ws.commit()
    return {"run": second.run_id, "gift_run": gift.run_id, "cookie_lot": first.lot_id,
            "flour_lot": flour_lot}


OPS: dict[str, Op] = {
    "consume": lambda ws, ids: ws.inventory.consume("flour", 2, "cup", reason="race"),
    "production": lambda ws, ids: ws.production.record("cookie", batches=0.5),
    "assembly": lambda ws, ids: ws.assembly.record("gift", quantity=1),
    "adjust": lambda ws, ids: ws.inventory.adjust(ids["flour_lot"], 1.5, "lb",
                                                  reason="count"),
    "reverse production": lambda ws, ids: ws.production.reverse(ids["run"]),
    "reverse assembly": lambda ws, ids: ws.assembly.reverse(ids["gift_run"]),
}

#: every ordered pair of workflows, but a run reversed twice (the second is refused)
PAIRS = [(a, b) for a in OPS for b in OPS if not (a == b and a.startswith("reverse"))]


def _state(ws: bakekit.Workspace, lot_ids: list[int]) -> tuple[pd.Series, pd.Series]:
    """What remains of the seeded lots, and the stock on hand per item."""
    lots = ws.inventory.lots(include_empty=True).set_index("lot_id")["remaining"]
    levels = ws.inventory.levels().set_index("item")["on_hand"]
    return lots.loc[lot_ids].sort_index(), levels.sort_index()


def race(bakery: bakekit.Bakery, first: Op, second: Op, ids: dict[str, int]) -> None:
    """``first`` writes and holds its transaction open while ``second`` runs in another
    workspace (another thread, another connection); ``first`` commits after ``HOLD``
    seconds, then ``second`` commits. Re-raises what the second raised."""
    raised: list[BaseException] = []

    def run_second() -> None:
        try:
            with bakery.session() as ws:
                second(ws, ids)
                ws.commit()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            raised.append(exc)

    with bakery.session() as ws:
        first(ws, ids)
        thread = threading.Thread(target=run_second)
        thread.start()
        time.sleep(HOLD)
        ws.commit()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the second workspace never finished"
    if raised:
        raise raised[0]


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}|{b}" for a, b in PAIRS])
def test_two_workspaces_racing_lose_nothing(backend, first, second):
    bakery = bakekit.open(backend)
    try:
        ids = _seed(bakery)
        with bakery.session() as ws:
            lot_ids = sorted(ws.inventory.lots(include_empty=True)["lot_id"].astype(int))
            with ws.scenario():  # the two calls one after the other: what must come out
                OPS[first](ws, ids)
                OPS[second](ws, ids)
                expected = _state(ws, lot_ids)
        race(bakery, OPS[first], OPS[second], ids)
        with bakery.session() as ws:
            audit = ws.inventory.audit()
            assert audit.empty, audit
            lots, levels = _state(ws, lot_ids)
        pd.testing.assert_series_equal(lots, expected[0], check_exact=False, atol=1e-9)
        pd.testing.assert_series_equal(levels, expected[1], check_exact=False, atol=1e-9)
    finally:
        bakery.dispose()


def test_a_reversal_keeps_a_consumption_committed_meanwhile(backend):
    """The issue's case: B consumes 2 cups of flour and holds its transaction; A reverses
    a run that used the same flour lot, and must restore onto what B left, not onto what
    it read before B committed."""
    bakery = bakekit.open(backend)
    try:
        ids = _seed(bakery)
        with bakery.session() as ws:
            lots = ws.inventory.lots(include_empty=True).set_index("lot_id")["remaining"]
            before = float(lots[ids["flour_lot"]])
            moves = ws.inventory.movements()
            taken = float(moves[(moves["run_id"] == ids["run"])
                                & (moves["lot_id"] == ids["flour_lot"])]["quantity"].sum())
        assert taken < 0  # the run to reverse took from the first flour lot
        race(bakery, OPS["consume"], OPS["reverse production"], ids)
        with bakery.session() as ws:
            assert ws.inventory.audit().empty, ws.inventory.audit()
            after = ws.inventory.lots(include_empty=True).set_index("lot_id")["remaining"]
        # 2 cups of flour at 4.25 oz a cup = 0.53125 lb gone; the run's take back
        assert float(after[ids["flour_lot"]]) == pytest.approx(before - 0.53125 - taken,
                                                               abs=1e-9)
    finally:
        bakery.dispose()


def test_a_waiter_gives_up_with_a_concurrency_error_not_a_raw_one(backend, monkeypatch):
    """A write that waits for another workspace's lock gives up after the lock timeout
    (PostgreSQL's lock_timeout as SQLite's busy timeout) with ConcurrencyError, after its
    retries, instead of blocking without end or raising a raw driver error."""
    from bakekit import operations
    from bakekit.db import engine
    from bakekit.errors import ConcurrencyError

    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 300)
    monkeypatch.setattr(operations, "RETRY_ATTEMPTS", 2)
    bakery = bakekit.open(backend)
    try:
        _seed(bakery)
        with bakery.session() as holder:
            OPS["consume"](holder, {})
            started = time.monotonic()
            with bakery.session() as waiter, pytest.raises(ConcurrencyError):
                OPS["consume"](waiter, {})
            assert time.monotonic() - started < 20
        with bakery.session() as ws:
            assert ws.inventory.audit().empty
    finally:
        bakery.dispose()


def test_row_locks_go_in_one_order_when_a_first_page_runs_out(backend):
    """A record whose flour needs more lots than the first locked page holds: on
    PostgreSQL the first pages' locks are released (ROLLBACK TO SAVEPOINT) and every item
    is locked again page by page in one order (kind, item id), never going back past a
    later item's locked lots (which let two concurrent records deadlock). The consumption
    is the same FIFO walk either way."""
    from sqlalchemy import Engine, event

    from bakekit.stock.fifo import FIRST_PAGE_SIZE

    bakery = bakekit.open(backend)
    try:
        with bakery.session() as ws:
            small_catalog(ws, packaging=False)
            lots = FIRST_PAGE_SIZE + 2
            for day in range(1, lots + 1):
                ws.inventory.purchase("flour-2lb", packages=1, unit_cost=3,
                                      purchased_on=f"2025-01-{day:02d}")
            ws.inventory.purchase("sugar-1lb", packages=1, unit_cost=2,
                                  purchased_on="2025-01-01")
            ws.recipes.add("loaf", "Loaf", ingredients=[("flour", 34, "cup"),
                                                       ("sugar", 0.5, "cup")],
                           finished_units=[("loaf", "Loaf", 1, "each")])
            ids = {slug: int(frame["ingredient_id"]) for slug, frame in
                   ws.catalog.ingredients().set_index("item").iterrows()}
            ws.commit()
        seen: list[tuple[str, Any]] = []

        def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            seen.append((statement, parameters))

        event.listen(Engine, "before_cursor_execute", before)
        try:
            with bakery.session() as ws:
                result = ws.production.record("loaf", batches=1)
                ws.commit()
        finally:
            event.remove(Engine, "before_cursor_execute", before)
        flour = result.consumed[result.consumed["item"] == "flour"]
        assert len(flour) == FIRST_PAGE_SIZE + 1  # 34 cups: 5 lots of 2 lb (7.53 cups)
        assert list(flour["purchased_on"].dt.day) == list(range(1, FIRST_PAGE_SIZE + 2))
        locking = [(s, p) for s, p in seen if "FOR UPDATE" in s]
        if bakery.engine.dialect.name != "postgresql":
            assert locking == []
            return
        texts = [s.split()[0].upper() + (" " + s.split()[1].upper() if s.split()[0].upper()
                                         in ("ROLLBACK", "RELEASE") else "")
                 for s, _ in seen]
        rollback = texts.index("ROLLBACK TO")
        assert "SAVEPOINT" in texts[:rollback] and "UNION ALL" in locking[0][0]
        again = [p["item"] for s, p in seen[rollback:] if "FOR UPDATE" in s]
        # by item id (both are ingredients), each whole: one page each, none past its end
        assert again == [ids["flour"], ids["sugar"]], again
    finally:
        bakery.dispose()

"""Production: check and record in one workspace, FIFO cost, atomicity, counts, reversal."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import insert, select

from bakekit import frames
from bakekit.db import tables
from bakekit.errors import InsufficientStockError, NotFoundError, ValidationError
from bakekit.results import Availability
from tests.support.atomic import assert_atomic, counting, snapshot

# (sugar 100 g); yields 24 cookies


def add_cookie(ws):
    ws.recipes.add("glaze", "Glaze", ingredients=[("sugar", 100, "g")])
    ws.recipes.add("cookie", "Cookies",
                   ingredients=[("flour", 1, "lb"), ("sugar", 8, "oz"), ("butter", 1, "cup")],
                   components=[("glaze", 0.5)],
                   finished_units=[("cookie", "Cookie", 24, "each")])


@pytest.fixture
def kitchen(stocked):
    with stocked.session() as ws:
        add_cookie(ws)
        ws.commit()
    return stocked


SUGAR_LB = 453.59237  # g
# two batches: flour 2 lb @3.60 = 7.20; sugar 1 lb + 100 g @1.00/lb; butter 1 lb @5.75
TWO_BATCHES = 7.20 + 1.0 + 100 / SUGAR_LB + 5.75


def lot_levels(ws):
    lots = ws.inventory.lots(include_empty=True)
    return {int(r.lot_id): r.remaining for r in lots.itertuples()}


def test_record_consumes_fifo_and_makes_a_costed_lot(kitchen):
    with kitchen.session() as ws:
        result = ws.production.record("cookie", batches=2, actual_yield=40,
                                      produced_at="2025-04-01T10:00", notes="oven 2")
        assert (result.expected_quantity, result.quantity, result.loss) == (48, 40, 8)
        assert result.total_cost == pytest.approx(TWO_BATCHES, rel=1e-6)
        # loss is costed once: the 40 good cookies carry the whole cost
        assert result.per_unit_cost == pytest.approx(TWO_BATCHES / 40, rel=1e-6)
        consumed = result.consumed
        assert list(consumed.columns[:7]) == list(frames.RUN_CONSUMED.columns)
        assert set(consumed["item"]) == {"flour", "sugar", "butter"}
        assert consumed["cost"].sum() == pytest.approx(result.total_cost)
        flour = consumed[consumed["item"] == "flour"].iloc[0]
        assert (flour["quantity"], flour["unit"], flour["unit_cost"]) == (2.0, "lb", 3.6)
        stock = ws.production.stock()
        assert stock.to_dict("records")[0]["item"] == "cookie"
        assert stock.loc[0, "on_hand"] == 40
        assert stock.loc[0, "unit_cost"] == pytest.approx(result.per_unit_cost)
        history = ws.production.history()
        assert list(history.columns[:7]) == list(frames.HISTORY.columns)
        run = history.iloc[0]
        assert (run["run_id"], run["item"], run["recipe"], run["batches"],
                run["expected_quantity"], run["quantity"], run["loss"], run["reversed"]) == (
            result.run_id, "cookie", "cookie", 2.0, 48.0, 40.0, 8.0, False)
        assert run["produced_at"] == dt.datetime(2025, 4, 1, 10, 0)
        assert run["total_cost"] == pytest.approx(result.total_cost)
        moves = ws.inventory.movements()
        ours = moves[moves["run_id"] == result.run_id]
        assert set(ours["reason"]) == {"production"}
        assert ours["cost"].sum() == pytest.approx(0, abs=1e-6)  # cost moves, not made
        assert ws.inventory.audit().empty


def test_check_and_record_share_the_workspace(kitchen):
    with kitchen.session() as ws:
        check = ws.production.check("cookie", batches=10)
        assert isinstance(check, Availability) and not check.ok
        butter = check.frame.set_index("item").loc["butter"]
        assert (butter["needed"], butter["unit"]) == (10.0, "cup")
        assert butter["shortfall"] == pytest.approx(2.0, rel=1e-6)  # 4 lb = 8 cups on hand
        assert check.frame.set_index("item").loc["flour", "shortfall"] == 0
        ws.inventory.purchase("butter-1lb", packages=2, unit_cost=6.00,
                              purchased_on="2025-04-01")  # uncommitted, same workspace
        check = ws.production.check("cookie", batches=10)
        assert check.ok and check.frame["shortfall"].eq(0).all()
        result = ws.production.record("cookie", batches=10)
        assert result.quantity == 240
        assert ws.inventory.levels().set_index("item").loc["butter", "on_hand"] == (
            pytest.approx(1.0, rel=1e-6))


def test_record_is_atomic(kitchen):
    with kitchen.session() as ws:  # an event to name, so that lookup is in the workflow too
        ws.execute(insert(tables.events), {"name": "Holiday 2025", "date": dt.date(2025, 12,
                                                                                     20)})
        ws.commit()
    n = assert_atomic(kitchen, lambda ws: ws.production.record(
        "cookie", batches=3, actual_yield=70, event="Holiday 2025"), minimum_statements=7)
    # PostgreSQL: the unit with its recipe expanded, the event, the FIFO take, the run, the
    # lot updates, the new lot and the ledger rows (a first write needs no SAVEPOINT)
    assert n >= 7


def test_insufficient_stock_raises_with_availability_and_writes_nothing(kitchen):
    before = snapshot(kitchen)
    with kitchen.session() as ws:
        with pytest.raises(InsufficientStockError) as info:
            ws.production.record("cookie", batches=30)
        availability = info.value.availability
        assert isinstance(availability, Availability) and not availability.ok
        short = availability.frame[availability.frame["shortfall"] > 0]
        assert set(short["item"]) == {"flour", "sugar", "butter"}
        assert "flour" in str(info.value) and "short" in str(info.value)
        assert ws.production.history().empty
        ws.commit()
    assert snapshot(kitchen) == before


def _add_flour_lots(bakery, n):
    with bakery.session() as ws:
        for i in range(n):
            ws.inventory.purchase("flour-5lb", packages=1, unit_cost=20 + i % 7,
                                  purchased_on=dt.date(2025, 6, 1) + dt.timedelta(days=i % 300))
        ws.commit()


def _record_counts(bakery):
    with counting(bakery) as counts, bakery.session() as ws:
        ws.production.record("cookie", batches=2)
    return counts


def test_statement_count_of_record_does_not_grow_with_lots(kitchen):
    _add_flour_lots(kitchen, 10 - 3)  # 10 flour lots
    small = _record_counts(kitchen)
    _add_flour_lots(kitchen, 990)  # 1000 flour lots
    with kitchen.session() as ws:
        assert len(ws.inventory.lots("flour")) == 1000
    large = _record_counts(kitchen)
    assert small.n_statements == large.n_statements
    # begin 1 (SQLite; a write that begins its transaction needs no SAVEPOINT/RELEASE);
    # the unit with its recipe expanded 1 (was 3); the FIFO take of every ingredient 1
    # (and the ledger cost of lots it empties 1); the run row, the lot updates, the new
    # lot and every ledger row 4 (was up to 21 before the run row took its costs and the
    # takes and the new lot shared one ledger INSERT)
    assert small.n_statements <= 1 + 1 + 2 + 4


def test_one_session_and_one_connection_per_record(kitchen):
    counts = _record_counts(kitchen)
    assert counts.checkouts == 1
    assert len(counts.sessions) == 1


def test_reverse_restores_every_lot_exactly_and_twice_is_refused(kitchen):
    with kitchen.session() as ws:
        ws.production.record("cookie", batches=1)  # an earlier run, left in place
        ws.commit()
    with kitchen.session() as ws:
        before = lot_levels(ws)
        result = ws.production.record("cookie", batches=7)  # spans two flour lots
        assert (result.consumed["item"] == "flour").sum() == 2
        reversal = ws.production.reverse(result.run_id)
        after = lot_levels(ws)
        assert {k: v for k, v in after.items() if k != result.lot_id} == before
        assert after[result.lot_id] == 0
        assert set(reversal.restored["lot_id"]) == set(result.consumed["lot_id"]) | {
            result.lot_id}
        moves = ws.inventory.movements()
        back = moves[(moves["run_id"] == result.run_id) & (moves["reason"] == "reversal")]
        consumed_back = back[back["lot_id"] != result.lot_id]
        assert (consumed_back["quantity"] > 0).all() and (consumed_back["cost"] > 0).all()
        assert consumed_back["cost"].sum() == pytest.approx(result.total_cost)
        made_back = back[back["lot_id"] == result.lot_id].iloc[0]
        assert (made_back["quantity"], made_back["cost"]) == (
            -168.0, pytest.approx(-result.total_cost))
        assert ws.inventory.audit().empty
        history = ws.production.history().set_index("run_id")
        assert history.loc[result.run_id, "reversed"]
        assert len(history) == 2  # history is never deleted
        with pytest.raises(ValidationError, match="already reversed") as info:
            ws.production.reverse(result.run_id)
        assert (info.value.field, info.value.value) == ("run_id", result.run_id)
        with pytest.raises(NotFoundError, match="9999"):
            ws.production.reverse(9999)


def test_reverse_is_atomic(kitchen):
    with kitchen.session() as ws:
        run_id = ws.production.record("cookie", batches=3).run_id
        ws.commit()
    assert_atomic(kitchen, lambda ws: ws.production.reverse(run_id))


def test_reverse_of_a_run_whose_output_was_used_is_refused(kitchen):
    with kitchen.session() as ws:
        result = ws.production.record("cookie", batches=1)
        ws.inventory.consume("cookie", 1, "each", reason="tasting")
        with pytest.raises(ValidationError, match="already used") as info:
            ws.production.reverse(result.run_id)
        assert info.value.value == result.run_id
        assert not ws.production.history()["reversed"].any()
        assert ws.production.stock().loc[0, "on_hand"] == 23


def test_history_stays_true_after_the_recipe_is_edited(kitchen):
    with kitchen.session() as ws:
        result = ws.production.record("cookie", batches=2)
        run = tables.runs
        snap_before = ws.scalar(select(run.c.snapshot).where(run.c.id == result.run_id))
        history_before = ws.production.history()
        ws.recipes.update("cookie", ingredients=[("flour", 3, "lb")], components=[],
                          finished_units=[("cookie", "Cookie", 30, "each")])
        ws.recipes.update("glaze", ingredients=[("butter", 1, "lb")])
        assert ws.production.history().equals(history_before)
        assert ws.scalar(select(run.c.snapshot).where(run.c.id == result.run_id)) == (
            snap_before)
        snap = json.loads(snap_before)
        assert (snap["recipe"], snap["batches"], snap["items_per_batch"]) == ("cookie", "2",
                                                                              "24")
        assert {i["item"] for i in snap["ingredients"]} == {"flour", "sugar", "butter"}
        # and the new recipe is what the next run uses
        again = ws.production.record("cookie", batches=1)
        assert again.expected_quantity == 30
        assert set(again.consumed["item"]) == {"flour"}


def test_bad_input_names_field_and_value(kitchen):
    before = snapshot(kitchen)
    with kitchen.session() as ws:
        p = ws.production
        with pytest.raises(NotFoundError, match="muffin"):
            p.record("muffin", batches=1)
        with pytest.raises(NotFoundError, match="muffin"):
            p.check("muffin", batches=1)
        for bad in (0, -2, "lots"):
            with pytest.raises(ValidationError, match="batches") as info:
                p.record("cookie", batches=bad)
            assert (info.value.field, info.value.value) == ("batches", bad)
        with pytest.raises(ValidationError, match="actual_yield") as info:
            p.record("cookie", batches=1, actual_yield=0)
        assert info.value.value == 0
        with pytest.raises(NotFoundError, match="Easter"):
            p.record("cookie", batches=1, event="Easter")
        with pytest.raises(ValidationError, match="produced_at") as info:
            p.record("cookie", batches=1, produced_at="yesterday")
        with pytest.raises(ValidationError, match="run_id") as info:
            p.reverse("7")
        ws.commit()
    assert snapshot(kitchen) == before

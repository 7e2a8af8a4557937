"""Assembly: finished goods from finished units, nested goods and packaging, FIFO and costed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from bakekit import stock
from bakekit.db import tables
from bakekit.errors import (
    InsufficientStockError,
    NotFoundError,
    RecipeCycleError,
    ValidationError,
)
from tests.support.atomic import assert_atomic, snapshot


def seed_unit(ws, slug: str, lots=(), *, items_per_batch: int = 24) -> int:
    """A recipe with one finished unit, and finished-unit lots (date, quantity, unit_cost)."""
    recipes, units = tables.recipes, tables.finished_units
    from bakekit.db.models.base import utcnow

    recipe_id = ws.execute(insert(recipes).returning(recipes.c.id),
                           {"slug": f"{slug}-recipe", "name": slug,
                            "created_at": utcnow()}).scalar_one()
    unit_id = ws.execute(insert(units).returning(units.c.id),
                         {"slug": slug, "name": slug, "recipe_id": recipe_id,
                          "items_per_batch": items_per_batch, "item_unit": "each"}).scalar_one()
    item = stock.Item("finished_unit", int(unit_id), slug)
    for on, quantity, cost in lots:
        stock.new_lot(ws, item, quantity=Decimal(quantity), unit="each",
                     unit_cost=Decimal(str(cost)), acquired_on=dt.date.fromisoformat(on),
                     reason="production")
    return int(recipe_id)


@pytest.fixture
def shop(bakery):
    """Cookies in two lots (0.50 then 0.80), brownies, boxes and ribbon, a gift box."""
    with bakery.session() as ws:
        seed_unit(ws, "cookie", [("2025-01-01", 10, 0.50), ("2025-02-01", 10, 0.80)])
        seed_unit(ws, "brownie", [("2025-01-15", 6, 1.25)], items_per_batch=16)
        c = ws.catalog
        c.add_ingredient("box", "Gift box", is_packaging=True)
        c.add_ingredient("ribbon", "Ribbon", is_packaging=True)
        c.add_ingredient("flour", "Flour")
        c.add_product("box-10", "box", name="Boxes, 10", package_quantity=10,
                      package_unit="each")
        c.add_product("ribbon-10oz", "ribbon", name="Ribbon spool", package_quantity=10,
                      package_unit="oz")
        ws.inventory.purchase("box-10", packages=1, unit_cost=10.00, purchased_on="2025-01-02")
        ws.inventory.purchase("ribbon-10oz", packages=1, unit_cost=5.00,
                              purchased_on="2025-01-02")
        ws.assembly.add_finished_good("gift-box", "Gift box",
                                      components=[("cookie", 12), ("box", 1),
                                                  ("ribbon", 2, "oz")])
        ws.commit()
    return bakery


def _lot_remaining(ws) -> dict[int, float]:
    lots = ws.inventory.lots(include_empty=True)
    return dict(zip(lots["lot_id"], lots["remaining"], strict=True))


# -- definitions ----------------------------------------------------------------------------
def test_add_finished_good_lists_its_components(shop):
    with shop.session() as ws:
        ws.assembly.add_finished_good("tray", "Holiday tray",
                                      components=[("gift-box", 2), ("brownie", 4)])
        frame = ws.assembly.finished_goods()
    tray = frame[frame["finished_good"] == "tray"]
    assert list(tray["item"]) == ["gift-box", "brownie"]
    assert list(tray["kind"]) == ["finished_good", "finished_unit"]
    assert list(tray["quantity"]) == [2.0, 4.0]
    box = frame[frame["finished_good"] == "gift-box"].set_index("item")
    assert box.loc["ribbon", "unit"] == "oz" and box.loc["box", "unit"] == "each"


@pytest.mark.parametrize(("components", "field", "value"), [
    ([("cookie", -1)], "quantity", -1),
    ([("cookie", "lots")], "quantity", "lots"),
    ([("flour", 1)], "component", "flour"),
    ([], "components", []),
    ([("cookie", 1), ("cookie", 2)], "components", "cookie"),
    ([("cookie", 2, "oz")], "unit", "oz"),
    ([("cookie",)], "components", ("cookie",)),
])
def test_bad_components_name_field_and_value(shop, components, field, value):
    with shop.session() as ws, pytest.raises(ValidationError) as info:
        ws.assembly.add_finished_good("bad", "Bad", components=components)
    assert info.value.field == field
    assert info.value.value == value


def test_unknown_component_and_duplicate_slug_are_refused(shop):
    with shop.session() as ws:
        with pytest.raises(NotFoundError, match="nothing-such"):
            ws.assembly.add_finished_good("bad", "Bad", components=[("nothing-such", 1)])
        with pytest.raises(ValidationError) as info:
            ws.assembly.add_finished_good("gift-box", "Again", components=[("cookie", 1)])
        assert (info.value.field, info.value.value) == ("slug", "gift-box")


def test_cycles_are_refused_with_their_path(shop):
    with shop.session() as ws:
        with pytest.raises(RecipeCycleError) as info:
            ws.assembly.add_finished_good("loop", "Loop", components=[("loop", 1)])
        assert info.value.path == ["loop", "loop"]
        ws.assembly.add_finished_good("tray", "Tray", components=[("gift-box", 2)])
        ws.assembly.add_finished_good("crate", "Crate", components=[("tray", 2)])
        with pytest.raises(RecipeCycleError) as info:
            ws.assembly.update_finished_good("gift-box", components=[("crate", 1)])
        assert info.value.path == ["gift-box", "crate", "tray", "gift-box"]
        # refused without a trace: the gift box keeps its components
        box = ws.assembly.finished_goods()
        assert set(box[box["finished_good"] == "gift-box"]["item"]) == {"cookie", "box",
                                                                       "ribbon"}


# -- record -----------------------------------------------------------------------------------
def test_record_consumes_oldest_lots_first_and_carries_their_cost(shop):
    with shop.session() as ws:
        before = _lot_remaining(ws)
        result = ws.assembly.record("gift-box", quantity=1)
        after = _lot_remaining(ws)
        lots = ws.inventory.lots(include_empty=True)
        audit = ws.inventory.audit()
        history = ws.assembly.history()
        stock = ws.assembly.stock()
    # 10 cookies at 0.50 (oldest lot emptied) + 2 at 0.80 + a box at 1.00 + 2 oz ribbon at 0.50
    assert result.total_cost == pytest.approx(5.00 + 1.60 + 1.00 + 1.00)
    assert result.per_unit_cost == pytest.approx(8.60)
    assert result.quantity == 1.0
    cookies = lots[lots["item"] == "cookie"].sort_values("purchased_on")
    assert list(cookies["remaining"]) == [0.0, 8.0]
    consumed = result.consumed
    assert list(consumed[consumed["item"] == "cookie"]["quantity"]) == [10.0, 2.0]
    assert list(consumed[consumed["item"] == "cookie"]["lot_id"]) == list(cookies["lot_id"])
    made = lots[lots["lot_id"] == result.lot_id].iloc[0]
    assert made["item"] == "gift-box" and made["kind"] == "finished_good"
    assert made["unit"] == "each" and made["remaining"] == 1.0
    assert made["unit_cost"] == pytest.approx(8.60)
    assert made["run_id"] == result.run_id
    assert audit.empty
    assert sum(before.values()) - sum(after[k] for k in before) == pytest.approx(10 + 2 + 1 + 2)
    row = history.iloc[0]
    assert (row["run_id"], row["item"], row["quantity"], bool(row["reversed"])) == (
        result.run_id, "gift-box", 1.0, False)
    assert row["total_cost"] == pytest.approx(8.60)
    assert list(stock["item"]) == ["gift-box"]
    assert stock.iloc[0]["on_hand"] == 1.0
    assert stock.iloc[0]["unit_cost"] == pytest.approx(8.60)


def test_run_row_records_the_composition(shop):
    with shop.session() as ws:
        ws.events.create("Holidays", "2025-12-20")
        result = ws.assembly.record("gift-box", quantity=1, event="Holidays")
        runs = tables.runs
        run = ws.execute(select(runs).where(runs.c.id == result.run_id)).one()
        history = ws.assembly.history()
    assert run.kind == "assembly" and run.finished_unit_id is None
    assert Decimal(run.quantity) == Decimal(run.expected_quantity) == 1
    assert Decimal(run.loss) == 0
    assert "ribbon" in run.snapshot and "cookie" in run.snapshot
    assert history.iloc[0]["event"] == "Holidays"


def test_nested_goods_are_consumed_from_finished_good_lots(shop):
    with shop.session() as ws:
        first = ws.assembly.record("gift-box", quantity=1)
        ws.assembly.add_finished_good("tray", "Tray", components=[("gift-box", 1),
                                                                   ("brownie", 4)])
        tray = ws.assembly.record("tray", quantity=1)
        stock = ws.assembly.stock().set_index("item")
    assert tray.total_cost == pytest.approx(first.total_cost + 4 * 1.25)
    boxes = tray.consumed[tray.consumed["item"] == "gift-box"]
    assert list(boxes["lot_id"]) == [first.lot_id]
    assert "gift-box" not in stock.index  # the gift box went into the tray
    assert stock.loc["tray", "on_hand"] == 1.0


def test_check_reports_every_component(shop):
    with shop.session() as ws:
        ok = ws.assembly.check("gift-box", quantity=1)
        short = ws.assembly.check("gift-box", quantity=2)
    assert ok.ok and not short.ok
    frame = short.frame.set_index("item")
    assert set(frame.index) == {"cookie", "box", "ribbon"}
    assert frame.loc["cookie", "needed"] == 24.0
    assert frame.loc["cookie", "available"] == 20.0
    assert frame.loc["cookie", "shortfall"] == 4.0
    assert frame.loc["ribbon", "unit"] == "oz"


def test_insufficient_units_raise_with_availability_and_write_nothing(shop):
    before = snapshot(shop)
    with shop.session() as ws:
        movements = len(ws.inventory.movements())
        with pytest.raises(InsufficientStockError) as info:
            ws.assembly.record("gift-box", quantity=2)
        assert len(ws.inventory.movements()) == movements
        assert ws.assembly.history().empty
        ws.commit()
    availability = info.value.availability
    assert not availability.ok
    row = availability.frame.set_index("item").loc["cookie"]
    assert (row["needed"], row["available"], row["shortfall"]) == (24.0, 20.0, 4.0)
    assert "cookie" in str(info.value)
    assert snapshot(shop) == before


def test_record_bad_input_names_field_and_value(shop):
    with shop.session() as ws:
        with pytest.raises(ValidationError) as info:
            ws.assembly.record("gift-box", quantity=0)
        assert (info.value.field, info.value.value) == ("quantity", 0)
        with pytest.raises(NotFoundError, match="no-such-good"):
            ws.assembly.record("no-such-good", quantity=1)
        with pytest.raises(NotFoundError, match="No event"):
            ws.assembly.record("gift-box", quantity=1, event="No event")


def test_record_is_atomic(shop):
    assert_atomic(shop, lambda ws: ws.assembly.record("gift-box", quantity=1),
                  minimum_statements=5)


def test_add_finished_good_is_atomic(shop):
    assert_atomic(shop, lambda ws: ws.assembly.add_finished_good(
        "tray", "Tray", components=[("gift-box", 1), ("brownie", 2)]))


# -- reverse ------------------------------------------------------------------------------------
def test_reverse_restores_lots_exactly(shop):
    with shop.session() as ws:
        before = _lot_remaining(ws)
        result = ws.assembly.record("gift-box", quantity=1)
        reversal = ws.assembly.reverse(result.run_id)
        after = _lot_remaining(ws)
        audit = ws.inventory.audit()
        history = ws.assembly.history()
        moves = ws.inventory.movements()
        with pytest.raises(ValidationError, match="already reversed") as info:
            ws.assembly.reverse(result.run_id)
        assert (info.value.field, info.value.value) == ("run_id", result.run_id)
    assert after == {**before, result.lot_id: 0.0}
    assert audit.empty
    assert bool(history.iloc[0]["reversed"])
    inputs = reversal.restored[reversal.restored["quantity"] > 0]
    assert set(inputs["item"]) == {"cookie", "box", "ribbon"}
    assert inputs["cost"].sum() == pytest.approx(result.total_cost)
    made = reversal.restored[reversal.restored["quantity"] < 0]  # the lot taken back
    assert made[["lot_id", "item"]].values.tolist() == [[result.lot_id, "gift-box"]]
    assert reversal.restored["cost"].sum() == pytest.approx(0.0)
    reversal_rows = moves[moves["reason"] == "reversal"]
    assert len(reversal_rows) == len(result.consumed) + 1
    assert reversal_rows["cost"].sum() == pytest.approx(0.0)
    assert ws.closed


def test_reverse_refused_once_the_goods_are_used(shop):
    with shop.session() as ws:
        result = ws.assembly.record("gift-box", quantity=1)
        ws.inventory.consume("gift-box", 1, "each", reason="gift")
        with pytest.raises(ValidationError, match="already used"):
            ws.assembly.reverse(result.run_id)
        with pytest.raises(NotFoundError):
            ws.assembly.reverse(999_999)
        with pytest.raises(ValidationError) as info:
            ws.assembly.reverse("1")
        assert info.value.field == "run_id"


def test_reverse_is_atomic(shop):
    with shop.session() as ws:
        run_id = ws.assembly.record("gift-box", quantity=1).run_id
        ws.commit()
    assert_atomic(shop, lambda ws: ws.assembly.reverse(run_id), minimum_statements=4)


def test_assembly_of_produced_units_carries_the_production_cost(stocked):
    """Finished units made by ws.production: the oldest run's lot goes first, at its cost."""
    with stocked.session() as ws:
        ws.recipes.add("dough", "Cookie dough", ingredients=[("flour", 3, "lb")],
                       finished_units=[("cookie", "Cookie", 24, "each")])
        ws.catalog.add_ingredient("tin", "Tin", is_packaging=True)
        ws.catalog.add_product("tin-1", "tin", name="Tin", package_quantity=1,
                               package_unit="each")
        ws.inventory.purchase("tin-1", packages=2, unit_cost=2.00, purchased_on="2025-03-01")
        first = ws.production.record("cookie", batches=1, produced_at="2025-03-01T09:00")
        second = ws.production.record("cookie", batches=1, produced_at="2025-03-02T09:00")
        ws.assembly.add_finished_good("tin-of-30", "Tin of 30",
                                      components=[("cookie", 30), ("tin", 1)])
        result = ws.assembly.record("tin-of-30", quantity=1)
        cookies = ws.inventory.lots("cookie", include_empty=True).set_index("lot_id")
        audit = ws.inventory.audit()
    assert first.per_unit_cost < second.per_unit_cost  # the first run used cheaper flour
    taken = result.consumed[result.consumed["item"] == "cookie"]
    assert list(zip(taken["lot_id"], taken["quantity"], strict=True)) == [
        (first.lot_id, 24.0), (second.lot_id, 6.0)]
    assert cookies.loc[first.lot_id, "remaining"] == 0.0
    assert cookies.loc[second.lot_id, "remaining"] == 18.0
    expected = 24 * first.per_unit_cost + 6 * second.per_unit_cost + 2.00
    assert result.total_cost == pytest.approx(expected, abs=1e-6)
    assert audit.empty

"""Inventory: purchases become lots, FIFO consumption with unit conversion, stock-takes, reads."""

from __future__ import annotations

import contextlib
import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bakekit
from bakekit import frames
from bakekit.errors import (
    InsufficientStockError,
    InUseError,
    NotFoundError,
    UnitConversionError,
)
from tests.support.atomic import assert_atomic, counting, snapshot


def test_purchase_makes_a_lot_in_the_package_unit(bakery):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour")
        ws.catalog.add_product("ka-5lb", "flour", brand="KA", name="AP 5 lb",
                               package_quantity=5, package_unit="lb")
        r = ws.inventory.purchase("ka-5lb", packages=2, unit_cost=18.00,
                                  purchased_on="2025-11-01")
        assert (r.quantity, r.unit, r.package_cost, r.unit_cost, r.total_cost) == (
            10.0, "lb", 18.0, 3.6, 36.0)
        lots = ws.inventory.lots()
        assert list(lots["lot_id"]) == [r.lot_id]
        assert lots.loc[0, "remaining"] == 10.0 and lots.loc[0, "unit_cost"] == 3.6
        moves = ws.inventory.movements()
        assert list(moves["reason"]) == ["purchase"] and moves.loc[0, "cost"] == 36.0
        assert ws.catalog.products().loc[0, "price"] == 18.0


def test_fifo_takes_oldest_first_and_costs_exactly(stocked):
    with stocked.session() as ws:
        # 5 lb @3.60 (Jan), 5 lb @4.00 (Feb), 10 lb @4.50 (Mar): take 12 lb
        c = ws.inventory.consume("flour", 12, "lb", reason="big bake")
        assert list(c.consumed["quantity"]) == [5.0, 5.0, 2.0]
        assert list(c.consumed["unit_cost"]) == [3.6, 4.0, 4.5]
        assert list(c.consumed["purchased_on"].dt.date) == [
            dt.date(2025, 1, 5), dt.date(2025, 2, 5), dt.date(2025, 3, 5)]
        assert c.total_cost == 18.0 + 20.0 + 9.0
        assert c.shortfall == 0
        remaining = ws.inventory.lots("flour")["remaining"].tolist()
        assert remaining == [8.0]
        assert ws.inventory.audit().empty


def test_shortfall_raises_with_breakdown_and_writes_nothing(stocked):
    before = snapshot(stocked)
    with stocked.session() as ws:
        with pytest.raises(InsufficientStockError) as info:
            ws.inventory.consume("flour", 25, "lb", reason="too much")
        availability = info.value.availability
        assert not availability.ok
        columns = ["item", "needed", "available", "shortfall", "unit"]
        assert availability.frame[columns].values.tolist() == [["flour", 25.0, 20.0, 5.0, "lb"]]
        consumption = info.value.consumption
        assert consumption.shortfall == 5.0
        assert consumption.consumed["quantity"].sum() == 20.0
        ws.commit()
    assert snapshot(stocked) == before


def test_preview_consume_runs_the_same_engine_without_writing(stocked):
    before = snapshot(stocked)
    with stocked.session() as ws:
        preview = ws.inventory.preview_consume("flour", 12, "lb")
        real = ws.inventory.consume("flour", 12, "lb", reason="bake")
        pd.testing.assert_frame_equal(preview.consumed, real.consumed)
        assert preview.total_cost == real.total_cost
        assert ws.inventory.preview_consume("flour", 100, "lb").shortfall == 92.0
    assert snapshot(stocked) == before  # never committed


def test_cups_against_pounds_use_the_density(stocked):
    with stocked.session() as ws:
        c = ws.inventory.consume("flour", 16, "cup", reason="bread")  # 16 * 4.25 oz = 4.25 lb
        assert c.consumed["quantity"].tolist() == [pytest.approx(4.25, abs=1e-6)]
        assert c.total_cost == pytest.approx(4.25 * 3.6, abs=1e-6)
        assert c.consumed["requested_quantity"].sum() == pytest.approx(16)


def test_volume_without_density_names_the_ingredient(stocked):
    with stocked.session() as ws:
        with pytest.raises(UnitConversionError, match="cocoa") as info:
            ws.inventory.consume("cocoa", 1, "cup", reason="brownies")
        assert info.value.from_unit == "oz" and info.value.to_unit == "cup"


def test_adjust_sets_the_counted_quantity_and_records_the_difference(stocked):
    with stocked.session() as ws:
        lot = int(ws.inventory.lots("butter").loc[0, "lot_id"])
        a = ws.inventory.adjust(lot, 56, "oz", reason="stock-take")  # 3.5 lb of 4
        assert (a.before, a.after, a.difference, a.unit) == (4.0, 3.5, -0.5, "lb")
        assert a.cost == pytest.approx(-0.5 * 5.75)
        moves = ws.inventory.movements("butter")
        assert moves["reason"].tolist() == ["purchase", "stock-take"]
        assert ws.inventory.audit().empty


def test_reads_are_typed_even_when_empty(bakery):
    with bakery.session() as ws:
        for frame, schema in [(ws.inventory.lots(), frames.LOTS),
                              (ws.inventory.levels(), frames.LEVELS),
                              (ws.inventory.movements(), frames.MOVEMENTS),
                              (ws.catalog.ingredients(), frames.INGREDIENTS),
                              (ws.catalog.products(), frames.PRODUCTS),
                              (ws.catalog.suppliers(), frames.SUPPLIERS),
                              (ws.inventory.audit(), frames.AUDIT)]:
            assert frame.empty
            assert list(frame.columns)[: len(schema.columns)] == list(schema.columns)
            schema.validate(frame)
        assert ws.inventory.valuation()["item"].tolist() == ["TOTAL"]


def test_reads_match_their_schemas_with_data(stocked):
    with stocked.session() as ws:
        ws.inventory.consume("flour", 3, "cup", reason="x")
        lots = ws.inventory.lots()
        frames.LOTS.validate(lots)
        assert str(lots["lot_id"].dtype) == "Int64"
        assert str(lots["purchased_on"].dtype).startswith("datetime64")
        levels = ws.inventory.levels().set_index("item")
        assert levels.loc["flour", "on_hand"] == pytest.approx(20 - 3 * 4.25 / 16)
        assert levels.loc["flour", "unit"] == "lb"
        assert levels.loc["flour", "base_unit"] == "g"
        value = ws.inventory.valuation().set_index("item")
        expected = 18 + 20 + 45 + 8 + 23 + 6 - 3 * 4.25 / 16 * 3.6
        assert value.loc["TOTAL", "value"] == pytest.approx(expected)


def test_delete_in_use_is_refused_with_what_uses_it(stocked):
    with stocked.session() as ws:
        with pytest.raises(InUseError, match="products") as info:
            ws.catalog.delete_ingredient("flour")
        assert "lots" in str(info.value)
        ws.catalog.add_ingredient("salt", "Salt")
        ws.catalog.delete_ingredient("salt")
        assert "salt" not in set(ws.catalog.ingredients()["item"])


@pytest.mark.parametrize("call, field", [
    (lambda ws: ws.inventory.consume("nope", 1, "cup", reason="x"), None),
    (lambda ws: ws.inventory.consume("flour", 0, "cup", reason="x"), "quantity"),
    (lambda ws: ws.inventory.consume("flour", -2, "cup", reason="x"), "quantity"),
    (lambda ws: ws.inventory.consume("flour", float("nan"), "cup", reason="x"), "quantity"),
    (lambda ws: ws.inventory.consume("flour", 1, "smidgen", reason="x"), None),
    (lambda ws: ws.inventory.purchase("flour-5lb", unit_cost=1, purchased_on="05/01/2025"),
     "purchased_on"),
    (lambda ws: ws.inventory.purchase("flour-5lb", packages=0, unit_cost=1,
                                      purchased_on="2025-01-01"), "packages"),
    (lambda ws: ws.inventory.purchase("flour-5lb", unit_cost=-3, purchased_on="2025-01-01"),
     "unit_cost"),
    (lambda ws: ws.inventory.purchase("no-such", unit_cost=3, purchased_on="2025-01-01"), None),
    (lambda ws: ws.inventory.adjust(99999, 1, "lb", reason="x"), None),
    (lambda ws: ws.inventory.adjust(1, -1, "lb", reason="x"), "quantity"),
    (lambda ws: ws.catalog.add_ingredient("", "Empty"), "slug"),
    (lambda ws: ws.catalog.add_ingredient("flour", "Again"), "slug"),
    (lambda ws: ws.catalog.add_ingredient("x", "X", density="heavy"), "density"),
])
def test_bad_input_is_named_and_nothing_written(stocked, call, field):
    before = snapshot(stocked)
    with stocked.session() as ws:
        with pytest.raises(bakekit.BakekitError) as info:
            call(ws)
        if field is not None:
            assert field in str(info.value)
            assert getattr(info.value, "field", field) == field
        else:
            assert isinstance(info.value, (NotFoundError, UnitConversionError))
        ws.commit()
    assert snapshot(stocked) == before


def test_names_with_quotes_and_sql_are_stored_literally(bakery):
    nasty = "Robert'); DROP TABLE lots;--"
    with bakery.session() as ws:
        ws.catalog.add_supplier(nasty)
        ws.catalog.add_ingredient("crème-brûlée", "Crème \"brûlée\"")
        ws.commit()
    with bakery.session() as ws:
        assert ws.catalog.suppliers()["item"].tolist() == [nasty]
        assert ws.catalog.ingredients()["name"].tolist() == ['Crème "brûlée"']


def test_purchase_is_atomic(stocked):
    n = assert_atomic(stocked, lambda ws: ws.inventory.purchase(
        "flour-5lb", packages=3, unit_cost=21, purchased_on="2025-04-01"))
    assert n >= 4


def test_consume_is_atomic(stocked):
    assert assert_atomic(stocked, lambda ws: ws.inventory.consume(
        "flour", 12, "lb", reason="bake")) >= 4


def test_adjust_is_atomic(stocked):
    assert assert_atomic(stocked, lambda ws: ws.inventory.adjust(
        1, 2, "lb", reason="count")) >= 3


def test_catalog_writes_are_atomic(stocked):
    def workflow(ws):
        ws.catalog.add_supplier("Local Mill")
        ws.catalog.add_ingredient("rye", "Rye flour", parent="flour",
                                  density="1 cup = 3.6 oz")
        ws.catalog.add_product("rye-2lb", "rye", brand="Mill", name="Rye 2 lb",
                               package_quantity=2, package_unit="lb", supplier="Local Mill",
                               preferred=True)
        ws.catalog.update_ingredient("sugar", density="1 cup = 7 oz")
        ws.catalog.update_product("sugar-4lb", price=4.5)
    assert assert_atomic(stocked, workflow) >= 10


def _add_lots(bakery, n):
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "Flour", density="1 cup = 4.25 oz")
        ws.catalog.add_product("f", "flour", name="F", package_quantity=1, package_unit="lb")
        for i in range(n):
            ws.inventory.purchase("f", unit_cost=1 + i % 7,
                                  purchased_on=dt.date(2020, 1, 1) + dt.timedelta(days=i))
        ws.commit()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_statement_counts_do_not_grow_with_lots(backend, tmp_path):
    counts = {}
    for n in (10, 1000):
        url = backend
        if "postgresql" in url:
            from tests.support.backends import _truncate_postgres
            _truncate_postgres(url)
        else:
            url = str(tmp_path / f"lots{n}.db")
        bakery = bakekit.open(url)
        _add_lots(bakery, n)
        result = {}
        for name, call in [
            ("lots", lambda ws: ws.inventory.lots()),
            ("levels", lambda ws: ws.inventory.levels()),
            ("consume", lambda ws: ws.inventory.consume("flour", 2.5, "lb", reason="x")),
            ("valuation", lambda ws: ws.inventory.valuation()),
            ("movements", lambda ws: ws.inventory.movements()),
        ]:
            with bakery.session() as ws:
                ws.inventory.lots("nothing")  # open the transaction first
                with counting(bakery) as c:
                    call(ws)
                result[name] = c.n_statements
        counts[n] = result
        bakery.dispose()
    assert counts[10] == counts[1000]


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("purchase"), st.integers(1, 3), st.integers(0, 2000),
                  st.integers(0, 60)),
        st.tuples(st.just("consume"), st.integers(1, 400), st.sampled_from(["oz", "cup", "g"])),
        st.tuples(st.just("adjust"), st.integers(0, 9), st.integers(0, 200)),
    ),
    min_size=1, max_size=12,
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=_ops)
def test_ledger_invariant_holds_for_any_sequence(stocked, ops):
    with stocked.session() as ws:
        for op in ops:
            if op[0] == "purchase":
                _, packages, cents, day = op
                ws.inventory.purchase("flour-5lb", packages=packages, unit_cost=cents / 100,
                                      purchased_on=dt.date(2025, 1, 1) + dt.timedelta(days=day))
            elif op[0] == "consume":
                _, amount, unit = op
                with contextlib.suppress(InsufficientStockError):
                    ws.inventory.consume("flour", amount / 10, unit, reason="prop")
            else:
                _, index, tenths = op
                lots = ws.inventory.lots("flour", include_empty=True)
                lot = int(lots["lot_id"].iloc[index % len(lots)])
                ws.inventory.adjust(lot, tenths / 10, "lb", reason="count")
            lots = ws.inventory.lots(include_empty=True)
            assert (lots["remaining"] >= 0).all()
            assert ws.inventory.audit().empty
        ws.rollback()

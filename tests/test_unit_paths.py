"""Properties (hypothesis, both backends): buy in one unit, take in random convertible units
until the lot is empty: it empties exactly and the takes cost the price to the cent; a late
price keeps "stock value + consumed cost = bought cost" through production and assembly."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bakekit.db import tables
from bakekit.errors import InsufficientStockError
from bakekit.units import (
    QUANTITY_PLACES,
    QUANTITY_RESOLUTION,
    exact_factor,
    parse_density,
    to_places,
)
from tests.support.data import flour_and_boxes

MASS = ["g", "kg", "mg", "oz", "lb"]
VOLUME = ["ml", "l", "tsp", "tbsp", "cup", "fl oz", "pt", "qt", "gal"]
COUNT = ["each", "dozen"]
LENGTH = ["in", "ft", "yd", "m"]
DENSITY = "1 cup = 4.25 oz"

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@st.composite
def unit_paths(draw):
    group = draw(st.sampled_from(["mass-volume", "count", "length"]))
    units = {"mass-volume": MASS + VOLUME, "count": COUNT, "length": LENGTH}[group]
    lot_unit = draw(st.sampled_from(units))
    size = Decimal(draw(st.integers(1, 400))) / 4
    packages = draw(st.integers(1, 3))
    cents = draw(st.integers(1, 20000))
    takes = draw(st.lists(st.tuples(st.sampled_from(units), st.floats(0.01, 0.6)),
                          min_size=1, max_size=8))
    last = draw(st.sampled_from(units))
    return lot_unit, size, packages, cents, takes, last


def _remaining(ws) -> tuple[Decimal, str]:
    lots = tables.lots
    row = ws.execute(select(lots.c.remaining, lots.c.unit)).one()
    return Decimal(row.remaining), row.unit


@SETTINGS
@given(path=unit_paths())
# a take below the resolution (1.25e-7 g of a 0.25 mg lot) is refused, not asked for
@example(path=("mg", Decimal("0.25"), 1, 1, [("g", 0.5)], "kg"))
def test_any_unit_path_empties_the_lot_and_costs_the_price(bakery, path):
    lot_unit, size, packages, cents, takes, last = path
    g_per_ml = parse_density(DENSITY)
    with bakery.session() as ws:
        ws.catalog.add_ingredient("stuff", "Stuff", density=DENSITY, is_packaging=True)
        ws.catalog.add_product("stuff-pk", "stuff", brand="B", name="Stuff",
                               package_quantity=size, package_unit=lot_unit)
        price = Decimal(cents) / 100
        ws.inventory.purchase("stuff-pk", packages=packages, unit_cost=price,
                              purchased_on="2025-11-01")
        spent = Decimal(0)
        for unit, share in takes:
            left, stored_unit = _remaining(ws)
            if left == 0:
                break
            # a share of what is left, as a person would write it (4 significant digits)
            want = Fraction(left) * exact_factor(stored_unit, unit, g_per_ml=g_per_ml)
            amount = Decimal(format(float(want) * share, ".4g"))
            if amount < QUANTITY_RESOLUTION:  # refused as too small to tell from none
                continue
            c = ws.inventory.consume("stuff", amount, unit, reason="take")
            assert c.shortfall == 0
            spent += Decimal(str(c.total_cost))
        left, stored_unit = _remaining(ws)
        if left > 0:  # the rest, in another unit, written to the places the database keeps
            rest = to_places(Fraction(left) * exact_factor(stored_unit, last, g_per_ml=g_per_ml),
                             QUANTITY_PLACES)
            if rest < QUANTITY_RESOLUTION:  # too small to write in `last`: in the lot's unit
                rest, last = left, stored_unit
            if rest > 0:
                c = ws.inventory.consume("stuff", rest, last, reason="the rest")
                assert c.shortfall == 0, (rest, last, left, stored_unit)
                spent += Decimal(str(c.total_cost))
        assert _remaining(ws)[0] == 0, (_remaining(ws), path)
        assert ws.inventory.lots().empty
        assert round(spent, 2) == round(price * packages, 2)
        costs = [Decimal(str(x)) for x in ws.inventory.movements()["cost"]]
        assert sum(costs) == 0  # the purchase and the takes, to the last place
        assert ws.inventory.audit().empty
        ws.rollback()


# -- a late price through production and assembly -------------------------------------------
_steps = st.lists(st.one_of(
    st.tuples(st.just("buy"), st.booleans()),
    st.tuples(st.just("bake"), st.integers(1, 2)),
    st.tuples(st.just("box"), st.integers(1, 2)),
    st.tuples(st.just("use"), st.integers(1, 30)),
    st.tuples(st.just("price"), st.integers(100, 1500)),
), min_size=1, max_size=10)


def _books(ws) -> tuple[Decimal, Decimal, Decimal, bool]:
    moves = ws.inventory.movements()
    lots = ws.inventory.lots(include_empty=True)
    bought = Decimal(str(moves[moves["reason"] == "purchase"]["cost"].fillna(0).sum()))
    out = moves[moves["run_id"].isna() & (moves["reason"] != "purchase")]["cost"]
    value = Decimal(str((lots["remaining"] * lots["unit_cost"]).fillna(0).sum()))
    uncosted = bool(lots["unit_cost"].isna().any())
    return (round(bought, 2), round(value, 2), round(Decimal(str(-out.fillna(0).sum())), 2),
            uncosted)


@SETTINGS
@given(steps=_steps)
def test_a_late_price_keeps_the_books_balanced(bakery, steps):
    with bakery.session() as ws:
        flour_and_boxes(ws)
        ws.inventory.purchase("box-10", packages=3, unit_cost="10.00",
                              purchased_on="2025-11-01")
        ws.recipes.add("rolls", "Rolls", ingredients=[("flour", "1.5", "lb")],
                       finished_units=[("roll", "Roll", 1, "dozen")])
        ws.assembly.add_finished_good("roll-box", "Box of rolls",
                                      components=[("roll", 5), ("box", 1)])
        for step in steps:
            kind, arg = step
            with contextlib.suppress(InsufficientStockError):
                if kind == "buy":
                    ws.inventory.purchase("flour-10lb", packages=1,
                                          unit_cost="7.00" if arg else None,
                                          purchased_on="2025-11-02")
                elif kind == "bake":
                    ws.production.record("roll", batches=arg)
                elif kind == "box":
                    ws.assembly.record("roll-box", quantity=arg)
                elif kind == "use":
                    ws.inventory.consume("flour", Decimal(arg) / 10, "lb", reason="use")
                else:
                    frame = pd.DataFrame([{
                        "product_name": "Flour 10 lb", "brand": "KA", "package_qty": 10,
                        "package_unit": "lb", "ingredient_name": "Flour",
                        "unit_price": f"{arg / 100:.2f}"}])
                    ws.io.reconcile(frame, kind="prices").apply()
            assert ws.inventory.audit().empty
            bought, value, consumed, uncosted = _books(ws)
            if not uncosted:
                assert value + consumed == bought, (step, bought, value, consumed)
            runs = pd.concat([ws.production.history(), ws.assembly.history()])
            if not uncosted:
                assert runs["total_cost"].notna().all()
        ws.rollback()

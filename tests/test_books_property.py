"""The books balance, property-tested (issue 30): random sequences of purchases (some
without a price), takes in mixed units (each/dozen; lb/oz/g/cup/tbsp through a density),
production runs and their reversals, and late prices. After every step, for every lot,
``remaining`` and value equal the ledger's sums exactly, and a request for exactly what
``levels()`` shows on hand succeeds and leaves nothing.

Strategies are explicit and the search is derandomized, so the examples do not depend on
which other modules were imported (Hypothesis draws constants from loaded modules)."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import bakekit
from bakekit.costing import price_purchase_lots
from bakekit.db import tables
from bakekit.errors import InsufficientStockError, ValidationError

START = dt.date(2025, 1, 1)
#: (product, package quantity, unit): flour in pounds and ounces, eggs by the dozen and each
PRODUCTS = {"flour": [("flour-5lb", 5, "lb"), ("flour-32oz", 32, "oz")],
            "egg": [("egg-dozen", 1, "dozen"), ("egg-18", 18, "each")]}
UNITS = {"flour": ["lb", "oz", "g", "cup", "tbsp"], "egg": ["each", "dozen"]}

#: quantities as exact decimals: n / d
amounts = st.builds(lambda n, d: Decimal(n) / Decimal(d),
                    st.integers(min_value=1, max_value=400), st.sampled_from([1, 4, 8, 100]))
prices = st.one_of(st.none(), st.sampled_from(["4.20", "6", "1", "17.99", "3.33"]))
purchase = st.tuples(st.just("purchase"), st.sampled_from(sorted(PRODUCTS)),
                     st.integers(min_value=0, max_value=1), st.integers(1, 3), prices)
take = st.tuples(st.just("take"), st.sampled_from(sorted(PRODUCTS)), st.integers(0, 4),
                 amounts)
produce = st.tuples(st.just("produce"), st.integers(1, 3))
reverse = st.tuples(st.just("reverse"))
price_late = st.tuples(st.just("price"), st.sampled_from(["2.5", "6", "0.99"]))
steps = st.lists(st.one_of(purchase, take, take, produce, reverse, price_late),
                 min_size=3, max_size=14)


def _catalog(ws: bakekit.Workspace) -> None:
    c = ws.catalog
    c.add_ingredient("flour", "Flour", density="1 cup = 4.25 oz")
    c.add_ingredient("egg", "Egg")
    for item, products in PRODUCTS.items():
        for slug, size, unit in products:
            c.add_product(slug, item, brand="B", name=slug, package_quantity=size,
                          package_unit=unit)
    ws.recipes.add("cake", "Cake", ingredients=[("flour", "0.3", "cup"), ("egg", 2, "each")],
                   finished_units=[("cake", "Cake", 1, "each")])


def _check_books(ws: bakekit.Workspace) -> None:
    """Every lot's remaining and value equal its ledger rows' sums, exactly (read as
    Decimals row by row, summed in Python); an emptied lot holds no money."""
    lots, m = tables.lots, tables.movements
    rows: dict[int, list[Any]] = {}
    for lot_id, quantity, cost in ws.execute(select(m.c.lot_id, m.c.quantity, m.c.cost)):
        rows.setdefault(int(lot_id), []).append((Decimal(str(quantity)),
                                                 None if cost is None else Decimal(str(cost))))
    shown = ws.inventory.lots(include_empty=True).set_index("lot_id")
    for lot_id, remaining, unit_cost in ws.execute(select(lots.c.id, lots.c.remaining,
                                                          lots.c.unit_cost)):
        ledger = rows[int(lot_id)]
        held = sum((q for q, _ in ledger), Decimal(0))
        assert Decimal(str(remaining)) == held, (lot_id, remaining, held)
        value = shown.loc[int(lot_id), "value"]
        if unit_cost is None:
            assert value is pd.NA, (lot_id, value)
            continue
        money = sum((c for _, c in ledger if c is not None), Decimal(0))
        assert all(c is not None for _, c in ledger), lot_id
        assert Decimal(str(value)) == money.quantize(Decimal("1e-10")), (lot_id, value, money)
        if held == 0:
            assert money == 0, (lot_id, money)


def _take_all_shown(ws: bakekit.Workspace, day: dt.date) -> None:
    """Inside a savepoint: a request for exactly what ``levels()`` shows on hand succeeds
    and leaves no stock of the item."""
    for row in ws.inventory.levels().itertuples(index=False):
        if row.kind != "ingredient":
            continue
        with ws.scenario():
            used = ws.inventory.consume(row.item, repr(float(row.on_hand)), row.unit,
                                        reason="everything", on=day)
            assert used.shortfall == 0
            assert ws.inventory.lots(row.item).empty, row.item
            _check_books(ws)


def _run(bakery: bakekit.Bakery, sequence: list[tuple[Any, ...]]) -> None:
    with bakery.session() as ws:  # rolled back at the end: every example starts empty
        _catalog(ws)
        unpriced: list[int] = []
        runs: list[int] = []
        for n, step in enumerate(sequence):
            day = START + dt.timedelta(days=n)
            kind = step[0]
            if kind == "purchase":
                _, item, which, packages, price = step
                slug = PRODUCTS[item][which][0]
                receipt = ws.inventory.purchase(slug, packages=packages, unit_cost=price,
                                                purchased_on=day)
                if price is None:
                    unpriced.append(receipt.purchase_id)
            elif kind == "take":
                _, item, unit_index, amount = step
                unit = UNITS[item][unit_index % len(UNITS[item])]
                with contextlib.suppress(InsufficientStockError):
                    ws.inventory.consume(item, str(amount), unit, reason="use", on=day)
            elif kind == "produce":
                try:
                    made = ws.production.record("cake", batches=step[1],
                                                produced_at=f"{day.isoformat()}T12:00")
                    runs.append(made.run_id)
                except InsufficientStockError:
                    pass
            elif kind == "reverse" and runs:
                with contextlib.suppress(ValidationError):  # its cakes were used
                    ws.production.reverse(runs.pop(), on=day)
            elif kind == "price" and unpriced:
                price_purchase_lots(ws, {unpriced.pop(0): Decimal(step[1])})
            _check_books(ws)
            _take_all_shown(ws, day)


def test_the_books_balance_after_every_step(bakery, backend):
    # a modest search: every example is a fresh, rolled-back session of up to 14 steps
    examples = 5 if backend.startswith("postgresql") else 20

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(sequence=steps)
    def balanced(sequence: list[tuple[Any, ...]]) -> None:
        _run(bakery, sequence)

    balanced()

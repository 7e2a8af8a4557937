"""Every public read survives missing values: on a database where every nullable column
holds both values and NULLs, on both backends, under both of pandas' text storages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text, func, select

import bakekit
from bakekit.db.models import metadata
from tests.support.reads import every_read, walk

SAMPLE: list[tuple[type, Any]] = [
    (Boolean, True), (DateTime, dt.datetime(2025, 11, 2, 9, 30)), (Date, dt.date(2025, 11, 2)),
    (Numeric, 1), (Integer, None), (Text, "note"), (String, "x"),
]


def _sample(column: Any) -> Any:
    if column.foreign_keys:
        return None  # filled below from an existing row of the referenced table
    for kind, value in SAMPLE:
        if isinstance(column.type, kind):
            return value
    return None


def mix_nulls(bakery: bakekit.Bakery) -> list[str]:
    """Give every nullable column at least one NULL and one value, where the schema allows.

    Each change runs in its own SAVEPOINT and is kept only if the database accepts it (a
    CHECK such as "exactly one item per lot" refuses some). Returns the columns that could
    not be mixed, as "table.column: why".
    """
    left: list[str] = []
    with bakery.engine.connect() as conn:
        for table in metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            if len(pk) != 1:
                left.append(f"{table.name}: composite key, left as seeded")
                continue
            key = pk[0]
            rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if rows < 2:
                left.append(f"{table.name}: {rows} row(s)")
                continue
            for column in table.columns:
                if not column.nullable or column.primary_key:
                    continue
                nulls = conn.execute(select(func.count()).select_from(table)
                                     .where(column.is_(None))).scalar_one()
                if 0 < nulls < rows:
                    continue
                if nulls == 0:  # all filled: empty the newest row's value
                    target = conn.execute(select(func.max(key))).scalar_one()
                    value = None
                else:  # all NULL: fill the oldest row
                    target = conn.execute(select(func.min(key))).scalar_one()
                    value = _sample(column)
                    if column.foreign_keys:
                        ref = next(iter(column.foreign_keys)).column
                        value = conn.execute(select(func.min(ref))).scalar_one()
                    if value is None:
                        left.append(f"{table.name}.{column.name}: no sample value")
                        continue
                savepoint = conn.begin_nested()
                try:
                    conn.execute(table.update().where(key == target).values({column.name: value}))
                    savepoint.commit()
                except Exception as exc:  # noqa: BLE001 - a constraint refused it
                    savepoint.rollback()
                    left.append(f"{table.name}.{column.name}: {type(exc).__name__}")
        conn.commit()
    return left


@pytest.mark.parametrize("storage", ["python", "pyarrow"])
def test_every_read_survives_missing_values(seeded, storage):  # noqa: F811 (fixture)
    with seeded.session() as ws:  # NULLs that reads compute: a product never bought, etc.
        ws.catalog.add_ingredient("saffron-test", "Saffron")
        ws.catalog.add_product("never-bought-1g", "saffron-test", brand="Spice Co",
                               name="Saffron 1 g", package_quantity=1, package_unit="g")
        ws.commit()
    left = mix_nulls(seeded)
    with seeded.engine.connect() as conn:
        mixed = 0
        for table in metadata.sorted_tables:
            for column in table.columns:
                if column.nullable and not column.primary_key:
                    counts = conn.execute(select(func.count(), func.count(column))
                                          .select_from(table)).one()
                    mixed += 0 < counts[1] < counts[0]
    assert mixed >= 40, f"only {mixed} nullable columns hold both values and NULLs: {left}"
    called = 0
    with pd.option_context("mode.string_storage", storage), seeded.session() as ws:
        for key, result in every_read(ws, unfiltered=True):
            assert not walk(result, key), walk(result, key)
            called += 1
    assert called >= 25


def test_the_products_of_a_catalog_with_priced_and_unpriced_products(bakery):
    """The reported case: one product bought, one never bought (no price, no date)."""
    with bakery.session() as ws:
        ws.catalog.add_ingredient("flour", "All-purpose flour", density="1 cup = 4.25 oz")
        ws.catalog.add_product("flour-5lb", "flour", brand="King Arthur", name="AP 5 lb",
                               package_quantity=5, package_unit="lb")
        ws.catalog.add_product("flour-25lb", "flour", brand="King Arthur", name="AP 25 lb",
                               package_quantity=25, package_unit="lb")
        ws.inventory.purchase("flour-5lb", packages=2, unit_cost=18.00,
                              purchased_on="2025-11-01")
        with pd.option_context("mode.string_storage", "pyarrow"):
            products = ws.catalog.products().set_index("item")
    assert products.loc["flour-5lb", "price"] == pytest.approx(18.0)
    assert pd.isna(products.loc["flour-25lb", "price"])

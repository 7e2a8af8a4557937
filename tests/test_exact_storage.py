"""Exact storage on both backends (issue 30): quantities and money sum exactly in SQL on
SQLite (integers of value * 10**places) as in PostgreSQL's NUMERIC, and the migration to
it keeps every value a database held."""

from __future__ import annotations

import shutil
import sqlite3
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import Float, cast, create_engine, func, select

import bakekit
from bakekit.db import tables
from bakekit.db.engine import alembic_config, head_revision
from bakekit.db.exact import Exact, from_scaled, number, to_scaled
from bakekit.db.models import metadata

#: every exact column: (table, column, places)
EXACT = [(t.name, c.name, c.type.scale) for t in metadata.sorted_tables for c in t.columns
         if isinstance(c.type, Exact)]


def _eggs(ws: bakekit.Workspace) -> None:
    ws.catalog.add_ingredient("egg", "Egg")
    ws.catalog.add_product("egg-dz", "egg", brand="B", name="Eggs", package_quantity=1,
                           package_unit="dozen")
    ws.inventory.purchase("egg-dz", packages=2, unit_cost="4.20", purchased_on="2025-11-01")
    ws.inventory.consume("egg", 19, "each", reason="a", on="2025-11-02")
    ws.inventory.consume("egg", 5, "each", reason="b", on="2025-11-02")


def test_a_sql_sum_of_quantities_and_money_is_exact(bakery):
    # 2 dozen eggs, 19 then 5 used: the ledger's rows sum to exactly 0 in SQL (REAL
    # storage left 1.1e-16 dozen), and so does their money
    m = tables.movements
    with bakery.session() as ws:
        _eggs(ws)
        quantity, cost, zero = ws.execute(select(
            cast(func.sum(m.c.quantity), Float), cast(func.sum(m.c.cost), Float),
            func.sum(m.c.quantity) == 0)).one()
        assert (quantity, cost) == (0.0, 0.0)
        assert zero
        assert ws.execute(select(func.sum(m.c.quantity))).scalar_one() == 0
        assert ws.execute(select(tables.lots.c.remaining)).scalar_one() == 0


def test_a_product_of_exact_columns_is_refused_unless_written_as_numbers():
    lots = tables.lots
    with pytest.raises(TypeError, match="number\\(a\\) \\* number\\(b\\)"):
        _ = lots.c.remaining * lots.c.unit_cost
    with pytest.raises(TypeError, match="two exact expressions"):
        _ = lots.c.remaining / func.sum(lots.c.quantity)
    assert str(number(lots.c.remaining) * number(lots.c.unit_cost)) \
        == "(lots.remaining) * (lots.unit_cost)"


def test_products_and_float_casts_read_the_values_not_the_stored_integers(bakery):
    lots = tables.lots
    with bakery.session() as ws:
        _eggs(ws)
        ws.catalog.add_ingredient("flour", "Flour")
        ws.catalog.add_product("flour-5", "flour", brand="B", name="Flour",
                               package_quantity=5, package_unit="lb")
        ws.inventory.purchase("flour-5", packages=2, unit_cost="6.10", purchased_on="2025-11-01")
        row = ws.execute(select(
            cast(lots.c.remaining, Float), cast(lots.c.unit_cost, Float),
            func.sum(number(lots.c.remaining) * number(lots.c.unit_cost)),
            lots.c.remaining * 2, lots.c.remaining + 1)
            .where(lots.c.remaining > 0).group_by(lots.c.id)).one()
        assert row[:2] == (10.0, 1.22)
        assert float(row[2]) == pytest.approx(12.2, abs=1e-9)
        assert (row[3], row[4]) == (Decimal(20), Decimal(11))


def test_sqlite_keeps_exact_numbers_as_integers(tmp_path):
    path = tmp_path / "b.db"
    bakery = bakekit.open(path)
    with bakery.session() as ws:
        _eggs(ws)
        ws.commit()
    bakery.dispose()
    raw = sqlite3.connect(path)
    kinds = {(t, c): raw.execute(f"SELECT DISTINCT typeof({c}) FROM {t} "
                                 f"WHERE {c} IS NOT NULL").fetchall()
             for t, c, _ in EXACT if t in ("lots", "movements", "purchases", "products")}
    raw.close()
    assert kinds and all(found == [("integer",)] for found in kinds.values()), kinds


def test_scaling_rounds_to_the_nearest_and_reads_back_exactly():
    assert to_scaled(Decimal("0.0046484375000000030"), 9) == 4648438
    assert to_scaled(Decimal("-0.00000000025"), 9) == 0  # a tie: to even
    assert to_scaled(0.1, 10) == 1_000_000_000
    assert from_scaled(to_scaled(Decimal("1.583333333"), 9), 9) == Decimal("1.583333333")
    assert from_scaled(1.5e9, 9) == Decimal("1.500000000")


#: values a REAL column could hold, with the residues SQL arithmetic leaves
RESIDUES = [1.1e-16, 2.97e-14, -1.1102230246251565e-16, 0.1 + 0.2, 13.378905000000001,
            0.0046484375000000030, 2 - 1.583333333 - 0.416666667, 1234567.123456789,
            -0.30000000000000004, 26.7578125]


def test_upgrade_to_exact_storage_keeps_every_value(tmp_path, demo_file):
    """A database at 0007 (REAL storage) holding the demo's rows and values with residues
    upgrades to head with every value as bakekit read it before (the REAL to the column's
    places), and downgrades back to the same values."""
    path = tmp_path / "old.db"
    shutil.copy(demo_file, path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0007")
        conn.commit()
    engine.dispose()
    raw = sqlite3.connect(path)
    before = {}
    for n, (t, c, places) in enumerate(EXACT):
        ids = [i for (i,) in raw.execute(f"SELECT id FROM {t} ORDER BY id")]
        for k, row_id in enumerate(ids[:3]):  # residues into the first rows of each
            value = RESIDUES[(n + k) % len(RESIDUES)]
            if t != "movements":  # only the ledger's numbers carry a sign or are ~0
                value = abs(value) if abs(value) > 1e-9 else 1 + value
            raw.execute(f"UPDATE {t} SET {c} = ? WHERE id = ?", (value, row_id))
        for row_id, value in raw.execute(f"SELECT id, {c} FROM {t}"):
            assert value is None or isinstance(value, float | int), (t, c, value)
            # as the old Numeric read it: the REAL to the column's places
            before[t, c, row_id] = None if value is None else Decimal(f"{value:.{places}f}")
    raw.commit()
    raw.close()
    assert len({(t, c) for t, c, _ in before}) == len(EXACT)
    assert sum(v is not None for v in before.values()) > 200

    def stored() -> dict:
        bakery = bakekit.open(path)  # migrates to head
        out = {}
        with bakery.engine.connect() as conn:
            for t, c, _ in EXACT:
                table = metadata.tables[t]
                for row_id, value in conn.execute(select(table.c.id, table.c[c])):
                    out[t, c, row_id] = value
        bakery.dispose()
        return out

    after = stored()
    assert after == before
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == \
        (head_revision(),)
    assert raw.execute("SELECT DISTINCT typeof(remaining) FROM lots").fetchall() == \
        [("integer",)]
    raw.close()
    # down and up again: the same values
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0007")
        conn.commit()
        raw_kinds = conn.exec_driver_sql("SELECT DISTINCT typeof(remaining) FROM lots").all()
    engine.dispose()
    assert ("real",) in raw_kinds
    assert stored() == before

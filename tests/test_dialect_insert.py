"""What bakekit asks of the backends beyond plain Core: the row-lock helpers of
``db.dialect``, and new ids through SQLAlchemy's own ``insertmanyvalues`` (one INSERT
however many rows, the ids in the rows' order), on both backends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from bakekit import stock
from bakekit.db import tables
from bakekit.db.dialect import for_update, is_postgresql, locks_rows
from bakekit.db.models import metadata
from bakekit.db.models.base import new_uuid
from bakekit.io._sync import insert_with_ids
from tests.support.atomic import counting


def _run(statements: list[str]) -> list[str]:
    """The statements but a transaction's BEGIN."""
    return [s for s in statements if not s.upper().startswith("BEGIN")]


def _inserts(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith(f"INSERT INTO {table.upper()} ")]


def test_only_postgresql_locks_rows(bakery, backend):
    with bakery.session() as ws:
        conn = ws.connection
        postgres = conn.dialect.name == "postgresql"
        assert locks_rows(conn) is postgres and is_postgresql(conn) is postgres
        sql = str(for_update(sa.select(tables.lots), conn).compile(conn))
        assert ("FOR UPDATE" in sql) is postgres


def test_every_uuid_column_is_its_tables_insert_sentinel():
    """A table whose rows get a uuid in Python gets its ids back in order from one INSERT
    (SQLAlchemy's ``sort_by_parameter_order``) only if the uuid is its insert sentinel."""
    with_uuid = [t for t in metadata.sorted_tables
                 if "uuid" in t.c and t.c.uuid.default is not None
                 and getattr(t.c.uuid.default, "arg", None) is not None]
    assert {t.name for t in with_uuid} >= {"lots", "movements", "purchases", "runs"}
    for t in with_uuid:
        assert t.c.uuid._insert_sentinel, t.name


def test_many_lots_and_their_ledger_rows_go_in_one_insert_each_ids_in_order(demo_bakery):
    """300 lots: one INSERT for the lots, one for their ledger rows (no id read first,
    no statement per row), and each id is the id of its own row."""
    with demo_bakery.session() as ws:
        flour = stock.resolve_item(ws, "ingredient", "flour-ap")
        lots = [stock.NewLot(flour, Decimal(n), "lb", Decimal("0.5"),
                             dt.date(2025, 1, 1) + dt.timedelta(days=n % 30), "purchase")
                for n in range(1, 301)]
        with counting(demo_bakery) as counts:
            ids = stock.create_lots(ws, lots)
        assert len(_inserts(counts.statements, "lots")) == 1
        assert len(_inserts(counts.statements, "movements")) == 1
        assert len(_run(counts.statements)) == 2
        lt, m = tables.lots, tables.movements
        stored = dict(ws.execute(sa.select(lt.c.id, lt.c.quantity).where(lt.c.id.in_(ids))).all())
        assert [Decimal(str(stored[i])) for i in ids] == [lot.quantity for lot in lots]
        ledger = dict(ws.execute(sa.select(m.c.lot_id, m.c.quantity)
                                 .where(m.c.lot_id.in_(ids))).all())
        assert [Decimal(str(ledger[i])) for i in ids] == [lot.quantity for lot in lots]
        ws.rollback()


def test_insert_ids_by_uuid_returns_each_rows_id_in_order(demo_bakery):
    """The importers' ``insert_with_ids`` on a table with a uuid: one INSERT, ids in order."""
    p = tables.purchases
    with demo_bakery.session() as ws:
        product = ws.execute(sa.select(tables.products.c.id).limit(1)).scalar_one()
        rows = [{"uuid": new_uuid(), "product_id": product, "purchased_on": dt.date(2025, 2, 1),
                 "packages": Decimal(n), "unit_cost": None, "created_at": dt.datetime(2025, 2, 1)}
                for n in range(1, 151)]
        with counting(demo_bakery) as counts:
            ids = insert_with_ids(ws, p, rows, match=("uuid",))
        assert len(_run(counts.statements)) == 1
        by_id = dict(ws.execute(sa.select(p.c.id, p.c.uuid).where(p.c.id.in_(ids))).all())
        assert [by_id[i] for i in ids] == [r["uuid"] for r in rows]
        ws.rollback()


def test_insert_ids_by_natural_key_returns_each_rows_id_in_order(bakery):
    """A table without a uuid: one INSERT ... RETURNING id, name, matched back by the name
    (rows given in an order unlike any the database would choose)."""
    s = tables.suppliers
    names = [f"supplier {n:03d}" for n in range(120, 0, -1)]
    with bakery.session() as ws:
        with counting(bakery) as counts:
            ids = insert_with_ids(ws, s, [{"name": n} for n in names], match=("name",))
        assert len(_run(counts.statements)) == 1
        by_id = dict(ws.execute(sa.select(s.c.id, s.c.name).where(s.c.id.in_(ids))).all())
        assert [by_id[i] for i in ids] == names
        assert insert_with_ids(ws, s, [], match=("name",)) == []
        ws.rollback()

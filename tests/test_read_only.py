"""Read-only analysts: read_only=True on both backends, and a PostgreSQL role with SELECT only."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import bakekit
from bakekit.errors import ReadOnlyError


def _reads(ws):
    ws.catalog.ingredients()
    ws.catalog.products()
    ws.catalog.suppliers()
    ws.inventory.lots()
    ws.inventory.levels()
    ws.inventory.movements()
    ws.inventory.valuation()
    ws.inventory.audit()
    ws.inventory.preview_consume("flour", 2, "cup")


def _writes():
    return [
        lambda ws: ws.catalog.add_ingredient("salt", "Salt"),
        lambda ws: ws.catalog.update_ingredient("flour", name="Flour!"),
        lambda ws: ws.inventory.purchase("flour-5lb", unit_cost=3, purchased_on="2025-05-01"),
        lambda ws: ws.inventory.consume("flour", 1, "cup", reason="x"),
        lambda ws: ws.inventory.adjust(1, 1, "lb", reason="x"),
    ]


def test_read_only_bakery_reads_everything_and_refuses_writes(stocked):
    ro = bakekit.open(stocked.url, read_only=True)
    with ro.session() as ws:
        _reads(ws)
        for write in _writes():
            with pytest.raises(ReadOnlyError, match="read_only=True"):
                write(ws)
    ro.dispose()


def test_select_only_postgresql_role(stocked):
    if stocked.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL roles: the SQLite half is covered by read_only=True")
    role = f"analyst_{uuid.uuid4().hex[:8]}"
    admin = create_engine(stocked.url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'secret'"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    url = make_url(stocked.url).set(username=role, password="secret")
    try:
        analyst = bakekit.open(url.render_as_string(hide_password=False))
        with analyst.session() as ws:
            _reads(ws)
            for write in _writes():
                with pytest.raises(ReadOnlyError, match="refused the write"):
                    write(ws)
                ws.rollback()
        analyst.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
            conn.execute(text(f"REVOKE USAGE ON SCHEMA public FROM {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()

"""Read-only analysts: read_only=True on both backends, and a PostgreSQL role with SELECT only."""

from __future__ import annotations

import pytest

import bakekit
from bakekit.errors import ReadOnlyError
from tests.support.backends import select_only_role


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
    with select_only_role(stocked.url) as url:
        analyst = bakekit.open(url)
        with analyst.session() as ws:
            _reads(ws)
            for write in _writes():
                with pytest.raises(ReadOnlyError, match="refused the write"):
                    write(ws)
                ws.rollback()
        analyst.dispose()

"""Large-read paths of Workspace.frame: the bulk (PostgreSQL COPY) and cursor paths agree
value for value, see the workspace's own uncommitted writes, and are counted statements."""

from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import Float, String, cast, select

from bakekit import frames
from bakekit.areas._common import table
from tests.conftest import counting

AWKWARD = ['a,"b"\nc', "", None, "plain", "tab\there", "NULL", "\\N"]


def _stock(ws) -> None:
    ws.catalog.add_ingredient("flour", "Flour")
    ws.catalog.add_product("flour-5lb", "flour", name="AP flour 5 lb", package_quantity=5,
                           package_unit="lb")
    for k, location in enumerate(AWKWARD):
        ws.inventory.purchase("flour-5lb", unit_cost=None if k == 2 else 3.25 + k,
                              purchased_on=f"2025-01-{k + 1:02d}", location=location)


def _values(series: pd.Series) -> list[object]:
    return [None if (v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA)
            else v for v in series.tolist()]


def test_bulk_and_cursor_reads_agree_on_awkward_text_and_nulls(bakery):
    lots = table("lots")
    stmt = (select(lots.c.id.label("lot_id"), lots.c.location, lots.c.run_id,
                   cast(lots.c.unit_cost, Float).label("unit_cost"),
                   cast(lots.c.acquired_on, String).label("on"))
            .order_by(lots.c.id))
    with bakery.session() as ws:  # uncommitted: the read must see its own transaction
        _stock(ws)
        bulk = ws.frame(stmt, bulk=True)
        plain = ws.frame(stmt)
        assert list(bulk.columns) == list(plain.columns) == ["lot_id", "location", "run_id",
                                                             "unit_cost", "on"]
        for column in bulk.columns:
            assert _values(bulk[column]) == _values(plain[column]), column
        assert _values(bulk["location"]) == AWKWARD
        assert bulk["on"].tolist()[0] == "2025-01-01"


def test_bulk_read_of_nothing_has_every_column(bakery):
    lots = table("lots")
    stmt = select(lots.c.id.label("lot_id"), lots.c.unit, cast(lots.c.quantity, Float))
    with bakery.session() as ws:
        empty = ws.frame(stmt, bulk=True)
    assert empty.empty
    assert list(empty.columns) == ["lot_id", "unit", "quantity"]


def test_lots_read_is_one_counted_statement_with_contract_dtypes(bakery):
    with bakery.session() as ws:
        _stock(ws)
        ws.inventory.lots("nothing")
        with counting(bakery) as counts:
            frame = ws.inventory.lots()
    assert counts.n_statements == 1
    assert len(frame) == len(AWKWARD)
    expected = {"lot_id": "Int64", "item": "str", "kind": "str", "product": "str",
                "purchased_on": "datetime64[ns]", "quantity": "float64",
                "remaining": "float64", "unit": "str", "unit_cost": "float64",
                "value": "float64", "location": "str", "run_id": "Int64"}
    assert list(frame.columns) == list(frames.LOTS.columns)
    assert {c: str(frame[c].dtype) for c in expected} == expected
    assert frame["purchased_on"].iloc[0] == pd.Timestamp("2025-01-01")
    assert _values(frame["location"]) == AWKWARD
    assert frame["unit_cost"].isna().sum() == 1

"""Large-read paths of Workspace.frame: the bulk (PostgreSQL COPY) and cursor paths agree
value for value, see the workspace's own uncommitted writes, and are counted statements."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sqlalchemy import Float, String, cast, select

from bakekit import frames
from bakekit.db import tables
from tests.support.atomic import counting

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
    lots = tables.lots
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
    lots = tables.lots
    stmt = select(lots.c.id.label("lot_id"), lots.c.unit, cast(lots.c.quantity, Float))
    with bakery.session() as ws:
        empty = ws.frame(stmt, bulk=True)
    assert empty.empty
    assert list(empty.columns) == ["lot_id", "unit", "quantity"]


def test_lots_read_is_two_counted_statements_with_contract_dtypes(bakery):
    # one for the lots, one naming their items and products: neither grows with the lots
    with bakery.session() as ws:
        _stock(ws)
        ws.inventory.lots("nothing")
        with counting(bakery) as counts:
            frame = ws.inventory.lots()
    assert counts.n_statements == 2
    assert len(frame) == len(AWKWARD)
    expected = {"lot_id": "Int64", "item": "str", "kind": "str", "product": "str",
                "purchased_on": "datetime64[ns]", "quantity": "float64",
                "remaining": "float64", "unit": "str", "unit_cost": "Float64",
                "value": "Float64", "location": "str", "run_id": "Int64"}
    assert list(frame.columns) == list(frames.LOTS.columns)
    assert {c: str(frame[c].dtype) for c in expected} == expected
    assert frame["purchased_on"].iloc[0] == pd.Timestamp("2025-01-01")
    assert _values(frame["location"]) == AWKWARD
    assert frame["unit_cost"].isna().sum() == 1


# -- frames.validate matches pandera's own validate ------------------------------------------
def _schemas() -> list:
    import pandera.pandas as pa

    return [v for v in vars(frames).values() if isinstance(v, pa.DataFrameSchema)]


_SAMPLES = {
    frames.ID: [1, None, 3.0], frames.TEXT: ["a", None, "b"], frames.FLOAT: [1.5, None, 2],
    frames.MONEY: [1.5, None, 2],
    frames.DATE: ["2025-01-02", None, pd.Timestamp("2025-03-04")],
    frames.BOOL: [True, False, True],
}


def _sample(schema, *, fill_required: bool = True) -> pd.DataFrame:
    from pandera.engines import pandas_engine

    kinds = {str(pandas_engine.Engine.dtype(k)): k for k in _SAMPLES}
    data = {}
    for name, column in schema.columns.items():
        values = list(_SAMPLES[kinds[str(column.dtype)]])
        if not column.nullable and fill_required:
            values[1] = values[0]
        data[name] = pd.Series(values, dtype=object)
    data["extra"] = ["x", "y", "z"]
    return pd.DataFrame(data).iloc[::-1]  # reversed: the index is reset


def test_validate_equals_pandera_validate_for_every_schema():
    import pandera.errors

    schemas = _schemas()
    assert len(schemas) >= 15
    for schema in schemas:
        frame = _sample(schema)
        ours = frames.validate(frame.copy(), schema)
        prepared = frame.copy()
        for col, spec in schema.columns.items():
            if str(spec.dtype) == str(frames.LOTS.columns["item"].dtype):
                prepared[col] = prepared[col].astype(object).where(prepared[col].notna(), None)
        columns = list(schema.columns) + ["extra"]
        theirs = schema.validate(prepared[columns].reset_index(drop=True))
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True, obj=schema.name)
        if any(not c.nullable for c in schema.columns.values()):
            with pytest.raises(pandera.errors.SchemaError, match="missing values"):
                frames.validate(_sample(schema, fill_required=False), schema)


def test_validate_refuses_what_cannot_be_coerced():
    import pandera.errors

    frame = pd.DataFrame({"item": ["a"], "quantity": ["lots"], "unit": ["g"]})
    with pytest.raises(pandera.errors.SchemaError, match="quantity"):
        frames.validate(frame, frames.INGREDIENTS_FOR)

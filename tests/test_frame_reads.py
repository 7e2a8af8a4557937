"""Large-read paths of Workspace.frame: the bulk (PostgreSQL COPY) and cursor paths agree
value for value, see the workspace's own uncommitted writes, and are counted statements."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
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
def _schemas() -> list[frames.FrameSchema]:
    return [v for v in vars(frames).values() if isinstance(v, frames.FrameSchema)]


_SAMPLES = {
    frames.ID: [1, None, 3.0], frames.TEXT: ["a", None, "b"], frames.FLOAT: [1.5, None, 2],
    frames.MONEY: [1.5, None, 2],
    frames.DATE: ["2025-01-02", None, pd.Timestamp("2025-03-04")],
    frames.BOOL: [True, False, True],
}


def _sample(schema, *, fill_required: bool = True) -> pd.DataFrame:
    data = {}
    for name, dtype in schema.columns.items():
        values = list(_SAMPLES[dtype])
        if name in schema.required and fill_required:
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
        for col, dtype in schema.columns.items():
            if dtype == frames.TEXT:
                prepared[col] = prepared[col].astype(object).where(prepared[col].notna(), None)
        columns = list(schema.columns) + ["extra"]
        theirs = schema.pandera.validate(prepared[columns].reset_index(drop=True))
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True, obj=schema.name)
        if schema.required:
            with pytest.raises(pandera.errors.SchemaError, match="missing values"):
                frames.validate(_sample(schema, fill_required=False), schema)


def test_validate_refuses_what_cannot_be_coerced():
    import pandera.errors

    frame = pd.DataFrame({"item": ["a"], "quantity": ["lots"], "unit": ["g"]})
    with pytest.raises(pandera.errors.SchemaError, match="quantity"):
        frames.validate(frame, frames.INGREDIENTS_FOR)


# values of every kind a read hands to validate (driver values, pandas' own, mistakes)
_AWKWARD_VALUES = {
    "ints": [1, None, 3], "numpy_ints": [np.int64(1), np.int64(2), np.int64(3)],
    "whole_floats": [1.0, float("nan"), 3.0], "fractions": [1.5, None, 3.25],
    "decimals": [Decimal("1.50"), None, Decimal("2")], "text": ["a", None, "b"],
    "numbers_as_text": ["1", None, "2.5"],
    "dates": [dt.date(2025, 1, 2), None, dt.date(2025, 3, 4)],
    "date_text": ["2025-01-02", None, pd.Timestamp("2025-03-04")],
    "datetimes": [dt.datetime(2025, 1, 2, 3, 4, 5), None, dt.datetime(2025, 3, 4)],
    "bools": [True, False, True], "bools_and_none": [True, None, False],
    "missing": [float("nan"), None, pd.NA], "mixed": [1, "a", 2.5],
}


@pytest.mark.parametrize("dtype", [frames.ID, frames.TEXT, frames.FLOAT, frames.MONEY,
                                   frames.DATE, frames.BOOL])
def test_validate_coerces_like_pandera(dtype):
    """validate coerces with pandas alone; for every kind of value it gives what pandera's
    own validate gives, or refuses what pandera refuses (naming the column)."""
    import pandera.errors

    schema = frames.schema(f"one_{dtype}", {"x": dtype})
    agreed = refused = 0
    for kind, values in _AWKWARD_VALUES.items():
        frame = pd.DataFrame({"x": pd.Series(values, dtype=object)})
        prepared = frame.copy()
        if dtype == frames.TEXT:
            prepared["x"] = prepared["x"].astype(object).where(prepared["x"].notna(), None)
        try:
            theirs = schema.pandera.validate(prepared)
        except (pandera.errors.SchemaError, pandera.errors.SchemaErrors):
            with pytest.raises(pandera.errors.SchemaError, match="'x'"):
                frames.validate(frame, schema)
            refused += 1
            continue
        pd.testing.assert_frame_equal(frames.validate(frame, schema), theirs,
                                      check_exact=True, obj=f"{dtype} of {kind}")
        agreed += 1
    assert agreed >= 4 and agreed + refused == len(_AWKWARD_VALUES)

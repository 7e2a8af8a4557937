"""frames.build (the fast road for library-made frames) equals frames.validate of the same rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pandera.errors
import pytest

from bakekit import frames, plan

SCHEMAS = {name: value for module in (frames, plan) for name, value in vars(module).items()
           if isinstance(value, frames.FrameSchema)}

_SAMPLE = {"Int64": [3, None], "float64": [1.25, None], "Float64": [1.25, None],
           "bool": [True, False],
           "datetime64[ns]": [dt.date(2025, 1, 2), None]}


def _rows(schema: frames.FrameSchema) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [{}, {}]
    for col, dtype in schema.columns.items():
        values = ["flour", None] if dtype == frames.TEXT else list(_SAMPLE[dtype])
        if col in schema.required:
            values[1] = values[0]
        rows[0][col], rows[1][col] = values
    return rows


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_build_equals_validate(name):
    schema = SCHEMAS[name]
    rows = _rows(schema)
    pd.testing.assert_frame_equal(frames.build(rows, schema),
                                  frames.validate(pd.DataFrame(rows), schema))
    pd.testing.assert_frame_equal(frames.build([], schema),
                                  frames.validate(pd.DataFrame(), schema))


def test_build_refuses_missing_required_values():
    row = {"lot_id": None, "quantity": 1.0, "unit": "lb"}
    with pytest.raises(pandera.errors.SchemaError, match="lot_id"):
        frames.build([row], frames.CONSUMED)

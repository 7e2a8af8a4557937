"""ws.io.import_history: imported runs, duplicates reported and not inserted."""

from __future__ import annotations

import pandas as pd
import pytest

from bakekit.errors import ImportValidationError
from tests.support.atomic import assert_atomic
from tests.support.data import small_file

RUNS = pd.DataFrame([
    {"item": "cookie", "quantity": 48, "produced_at": "2025-01-10T09:00", "total_cost": 7.5},
    {"item": "cookie-box", "kind": "assembly", "quantity": 2, "produced_at": "2025-01-11"},
])


def test_history_import_and_duplicates(bakery, tmp_path):
    with bakery.session() as ws:
        ws.io.import_bake_tracker(small_file())
        before = ws.inventory.lots()
        report = ws.io.import_history(RUNS)
        assert report.counts("runs") == {"read": 2, "created": 2, "updated": 0,
                                         "unchanged": 0, "skipped": 0}
        pd.testing.assert_frame_equal(ws.inventory.lots(), before)  # no stock moved
        RUNS.to_csv(tmp_path / "runs.csv", index=False)
        again = ws.io.import_history(tmp_path / "runs.csv")
        assert again.counts("runs")["created"] == 0
        assert again.counts("runs")["unchanged"] == 2
        assert "already recorded" in again.frame["reasons"].iloc[0]


def test_history_import_rejects_unknown_items(bakery):
    with bakery.session() as ws:
        ws.io.import_bake_tracker(small_file())
        bad = pd.DataFrame([{"item": "nope", "quantity": 1, "produced_at": "2025-01-01"},
                            {"item": "cookie", "quantity": -1, "produced_at": "x"}])
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_history(bad)
        assert len(info.value.errors) == 3


@pytest.mark.parametrize("quantity", [None, float("nan"), "", "many"])
def test_history_import_rejects_a_row_without_a_quantity(bakery, quantity):
    with bakery.session() as ws:
        ws.io.import_bake_tracker(small_file())
        runs = len(ws.production.history())
        bad = pd.DataFrame([{"item": "cookie", "quantity": quantity,
                             "produced_at": "2025-01-01"}])
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_history(bad)
        assert list(info.value.errors["field"]) == ["quantity"]
        assert len(ws.production.history()) == runs


def test_history_import_is_atomic(bakery):
    with bakery.session() as ws:
        ws.io.import_bake_tracker(small_file())
        ws.commit()
    assert_atomic(bakery, lambda ws: ws.io.import_history(RUNS))

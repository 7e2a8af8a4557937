"""No ORM object escapes: every public read and write of every area (and Plan, and the
result objects) on the demo data returns only DataFrames, dataclasses of plain values,
and plain values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

import bakekit.areas.reports  # noqa: F401 (every area's class is a subclass of Area)
from bakekit.plan import Plan
from tests.support.reads import every_read, walk
from tests.support.workflows import ON_EMPTY, WORKFLOWS


def test_walker_catches_an_orm_row():
    from sqlalchemy import select

    import bakekit

    bakery = bakekit.open(":memory:")
    with bakery.session() as ws:
        row = ws.execute(select(1)).first()
        assert walk({"ok": [1, "a"], "row": row})
        assert walk(pd.DataFrame({"x": [row]}))
    assert not walk(pd.DataFrame({"x": [1.0, None], "d": [Decimal(1), dt.date(2025, 1, 1)]}))


@pytest.mark.parametrize("name", sorted(set(WORKFLOWS) - ON_EMPTY))
def test_every_write_returns_plain_values(seeded, name):  # noqa: F811 (fixture)
    with seeded.session() as ws:
        method = name.split(".", 1)[1]
        area = getattr(ws, name.split(".")[0])
        calls = []
        original = getattr(area, method.split(".")[1])

        def spy(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            calls.append(result)
            return result

        setattr(area, method.split(".")[1], spy)
        WORKFLOWS[name](ws)
        assert calls, f"the workflow did not call {name}"
        for result in calls:
            assert not walk(result), walk(result)


def test_every_read_returns_plain_values(seeded, tmp_path):  # noqa: F811 (fixture)
    called = 0
    with seeded.session() as ws:
        for key, result in every_read(ws):
            assert not walk(result, key), walk(result, key)
            called += 1
        exported = ws.io.export(tmp_path / "demo.json")
        assert not walk(exported)
        review = ws.io.reconcile(pd.DataFrame([
            {"product": "eggs-24", "packages": 1, "unit_cost": 7.79,
             "purchased_on": "2025-11-30", "supplier": "Costco"}]), kind="purchases")
        assert not walk(review), walk(review)
        assert not walk(review.counts())
    assert called >= 25


def test_plans_and_their_results_are_plain(seeded):  # noqa: F811 (fixture)
    with seeded.what_if() as ws:
        ws.inventory.consume("flour-ap", 2, "cup", reason="test")
        ws.production.record("sugar-cookie", batches=1)
        assert not walk(ws.changes())
    plan = ws.plan
    for value in (plan.operations, plan.changes, plan.summary(), plan.to_json()):
        assert not walk(value), walk(value)
    again = Plan.from_json(plan.to_json(), seeded)
    assert not walk(again.apply())

"""The one statement a what-if runs as its block ends captures what the separate reads
(ledger rows, stock after, database identity) would: the staleness check compares it."""

from __future__ import annotations

from bakekit.db.reading import read_identity
from bakekit.plan.ledger import (
    captured_stock,
    preview_rows,
    read_ledger_rows,
    recorded_ledger,
    stock_after,
    written_known,
    written_rows,
)
from tests.support.atomic import counting


def _writes(ws):
    ws.inventory.purchase("flour-5lb", packages=1, unit_cost=25.0, purchased_on="2025-04-01")
    ws.inventory.consume("flour", 22, "lb", reason="holiday bake")  # reaches the new lot
    ws.inventory.consume("sugar", 2, "cup", reason="holiday bake")
    ws.inventory.consume("flour", 1, "cup", reason="other unit")  # taken in lb lots


def _key(row):
    return (row["kind"], row["item_id"], row["unit"])


def test_preview_rows_equal_the_separate_reads(stocked):
    database_id = stocked.database_id
    with stocked.what_if() as ws:
        _writes(ws)
        steps = ws.recording.operations
        with counting(stocked) as counts:
            changes, after, here = preview_rows(ws, steps)
        assert counts.n_statements == 1  # one statement at the end of the block
        assert changes == read_ledger_rows(ws, steps)
        expected = sorted(stock_after(ws, changes), key=_key)
        assert sorted(after, key=_key) == expected
        assert here == read_identity(ws.connection) == database_id
    assert len(expected) == 2  # flour and sugar, one unit each


def test_rows_recorded_as_written_are_the_rows_read_back(stocked):
    """A what-if's ledger rows as their INSERT returned them (plan.capture: the values the
    database keeps, no rounding of bakekit's own on either backend) are the rows read back,
    for quantities finer than the column keeps; so is the stock they leave. No statement."""
    with stocked.what_if() as ws:
        _writes(ws)
        ws.inventory.consume("sugar", "0.12345678912345", "cup", reason="a pinch")
        steps = ws.recording.operations
        assert written_known(steps)
        with counting(stocked) as counts:
            written = recorded_ledger(ws, steps)
            after, here = captured_stock(steps, written)
            changes = written_rows(steps, written)
        assert counts.n_statements == 0
        assert changes == read_ledger_rows(ws, steps)
        assert sorted(after, key=_key) == sorted(stock_after(ws, changes), key=_key)
        assert here == read_identity(ws.connection)


def test_preview_rows_without_ledger_rows_read_the_identity_alone(stocked):
    database_id = stocked.database_id
    with stocked.what_if() as ws:
        ws.catalog.add_ingredient("salt", "Salt")  # an operation without ledger rows
        assert preview_rows(ws, ws.recording.operations) == ([], [], database_id)
    assert ws.plan.changes.empty


def test_plan_of_a_what_if_is_checked_when_saved(stocked):
    with stocked.what_if() as ws:
        _writes(ws)
    plan = ws.plan
    assert plan._unchecked  # nothing checked at the end of the block
    text = plan.to_json()
    assert not plan._unchecked
    assert plan.database_label == stocked.database_label
    assert '"label"' in text

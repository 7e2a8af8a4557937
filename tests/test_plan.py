"""What-if plans: recording, preview, apply with the staleness check, JSON, confirm panel."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import bakekit
from bakekit.cli import EXIT_STALE, app
from bakekit.errors import BakekitError, PlanAlreadyAppliedError, StalePlanError
from bakekit.nb import confirm
from bakekit.plan import Plan
from tests.support.atomic import snapshot


def _what_if(bakery):
    with bakery.what_if() as ws:
        ws.inventory.purchase("flour-5lb", packages=1, unit_cost=25.0, purchased_on="2025-04-01")
        ws.inventory.consume("flour", 22, "lb", reason="holiday bake")  # reaches the new lot
        ws.inventory.consume("sugar", 2, "cup", reason="holiday bake")
    return ws.plan


def test_what_if_records_operations_and_changes_and_leaves_the_database(stocked):
    before = snapshot(stocked)
    plan = _what_if(stocked)
    assert snapshot(stocked) == before
    ops = plan.operations
    assert ops[["area", "method"]].values.tolist() == [
        ["inventory", "purchase"], ["inventory", "consume"], ["inventory", "consume"]]
    assert ops["ledger_rows"].tolist() == [1, 4, 1]
    changes = plan.changes
    assert changes.loc[0, "lot"] == "new#1"  # the lot the plan itself creates
    assert changes[changes["step"] == 2]["lot"].tolist()[-1] == "new#1"
    summary = plan.summary().set_index("item")
    assert summary.loc["flour", "before"] == pytest.approx(20.0)
    assert summary.loc["flour", "change"] == pytest.approx(5 - 22)
    assert summary.loc["flour", "after"] == pytest.approx(3.0)
    assert "<table" in plan._repr_html_()


def test_apply_on_unchanged_data_commits_exactly_the_preview(stocked):
    plan = _what_if(stocked)
    rows = plan.apply()
    assert len(rows) == len(plan.changes)
    with stocked.session() as ws:
        moves = ws.inventory.movements()
        assert len(moves) == 6 + 6
        assert ws.inventory.lots("flour")["remaining"].sum() == pytest.approx(3.0)
        assert ws.inventory.audit().empty
    with pytest.raises(PlanAlreadyAppliedError):
        plan.apply()


def test_apply_after_someone_else_consumed_is_refused_and_changes_nothing(stocked):
    plan = _what_if(stocked)
    with stocked.session() as ws:
        ws.inventory.consume("flour", 1, "lb", reason="someone else")
        ws.commit()
    before = snapshot(stocked)
    with pytest.raises(StalePlanError) as info:
        plan.apply()
    assert snapshot(stocked) == before
    diff = info.value.diff
    assert not diff.empty and set(diff["status"]) <= {"changed", "missing", "extra", "drift"}
    assert "flour" in set(diff["item"])


def test_apply_refused_when_the_replay_itself_fails(stocked):
    plan = _what_if(stocked)
    with stocked.session() as ws:
        ws.inventory.consume("sugar", 8, "lb", reason="all the sugar")
        ws.commit()
    before = snapshot(stocked)
    with pytest.raises(StalePlanError, match="step 3") as info:
        plan.apply()
    assert info.value.diff["status"].tolist() == ["failed"]
    assert snapshot(stocked) == before


def test_plan_round_trips_through_json_and_applies(stocked):
    plan = _what_if(stocked)
    text = plan.to_json()
    again = Plan.from_json(text, stocked)
    assert again.operations.equals(plan.operations)
    assert again.changes.equals(plan.changes)
    again.apply()
    with stocked.session() as ws:
        assert ws.inventory.lots("flour")["remaining"].sum() == pytest.approx(3.0)


def test_bad_plan_json_is_a_clear_error(stocked):
    with pytest.raises(BakekitError, match="not valid"):
        Plan.from_json("{nope", stocked)
    with pytest.raises(BakekitError, match="not a bakekit plan"):
        Plan.from_json(json.dumps({"x": 1}), stocked)


def test_cli_applies_a_saved_plan_and_refuses_a_stale_one(stocked, tmp_path):
    runner = CliRunner()
    path = tmp_path / "plan.json"
    path.write_text(_what_if(stocked).to_json())
    shown = runner.invoke(app, ["plan", "show", str(path), "--url", stocked.url])
    assert shown.exit_code == 0, shown.output
    assert "consume" in shown.output and "flour" in shown.output
    stale = tmp_path / "stale.json"
    stale.write_text(_what_if(stocked).to_json())
    applied = runner.invoke(app, ["apply", str(path), "--url", stocked.url])
    assert applied.exit_code == 0, applied.output
    assert "applied" in applied.output
    refused = runner.invoke(app, ["apply", str(stale), "--url", stocked.url])
    assert refused.exit_code == EXIT_STALE
    assert "refused" in refused.output


def test_confirm_panel_commit_applies(stocked):
    panel = confirm(_what_if(stocked))
    assert "flour" in panel.summary_table.value
    assert panel.plot.value[:4] == b"\x89PNG"
    panel.commit_button.click()
    assert "Committed" in panel.status.value
    assert panel.commit_button.disabled and panel.discard_button.disabled
    with stocked.session() as ws:
        assert ws.inventory.lots("flour")["remaining"].sum() == pytest.approx(3.0)


def test_confirm_panel_on_a_stale_plan_shows_the_diff_and_commits_nothing(stocked):
    panel = confirm(_what_if(stocked))
    with stocked.session() as ws:
        ws.inventory.consume("flour", 1, "lb", reason="someone else")
        ws.commit()
    before = snapshot(stocked)
    panel.commit_button.click()
    assert "Not committed" in panel.status.value
    assert panel.diff is not None and not panel.diff.empty
    assert snapshot(stocked) == before


def test_confirm_panel_discard_writes_nothing(stocked):
    before = snapshot(stocked)
    panel = confirm(_what_if(stocked))
    panel.discard_button.click()
    assert "Discarded" in panel.status.value and panel.commit_button.disabled
    assert snapshot(stocked) == before


def test_scenarios_inside_a_what_if_are_not_recorded(stocked):
    with stocked.what_if() as ws:
        with ws.scenario():
            ws.inventory.consume("flour", 10, "lb", reason="maybe")
        ws.inventory.consume("flour", 2, "lb", reason="chosen")
    assert ws.plan.operations["arguments"].str.contains("chosen").tolist() == [True]


def test_what_if_that_raised_leaves_no_plan(stocked):
    with pytest.raises(RuntimeError), stocked.what_if() as ws:
        ws.inventory.consume("flour", 2, "lb", reason="x")
        raise RuntimeError("stop")
    with pytest.raises(bakekit.BakekitError, match="error"):
        ws.plan  # noqa: B018


@pytest.fixture
def demo_bakery(bakery):
    """The demo data, loaded through the public API into the backend under test."""
    from bakekit.sample import load_sample, sample_data

    data = sample_data()
    data["production"] = []  # no finished units yet: the plan's own lots feed its assembly
    with bakery.session() as ws:
        load_sample(ws, data)
        ws.commit()
    return bakery


def _production_and_assembly(bakery):
    with bakery.what_if() as ws:
        ws.production.record("chocolate-chip-cookie", batches=1)
        ws.production.record("sugar-cookie", batches=1)
        ws.assembly.record("cookie-box", quantity=2)
    return ws.plan


def test_what_if_of_production_and_assembly_leaves_every_table_unchanged(demo_bakery):
    before = snapshot(demo_bakery)
    plan = _production_and_assembly(demo_bakery)
    assert snapshot(demo_bakery) == before
    changes = plan.changes
    made = changes[changes["reason"].isin(["production", "assembly"]) & (changes["quantity"] > 0)]
    assert made["lot"].tolist() == ["new#1", "new#2", "new#3"]
    # the assembly (step 3) takes cookies from the lots the plan itself made
    taken = changes[(changes["step"] == 3) & (changes["quantity"] < 0)]
    assert {"new#1", "new#2"} <= set(taken["lot"])
    summary = plan.summary().set_index("item")
    assert summary.loc["cookie-box", "after"] == 2
    assert summary.loc["chocolate-chip-cookie", "change"] == 36 - 12


def test_apply_replays_production_and_assembly_matching_new_lots_by_order(demo_bakery):
    plan = _production_and_assembly(demo_bakery)
    rows = plan.apply()
    assert rows[["lot", "item", "quantity"]].equals(plan.changes[["lot", "item", "quantity"]])
    with demo_bakery.session() as ws:
        assert ws.assembly.stock().set_index("item").loc["cookie-box", "on_hand"] == 2
        assert ws.inventory.audit().empty
        assert len(ws.production.history()) == 2


def test_apply_is_stale_when_stock_moved_under_the_assembly(demo_bakery):
    plan = _production_and_assembly(demo_bakery)
    with demo_bakery.session() as ws:
        ws.inventory.consume("gift-box", 24, "each", reason="given away")
        ws.commit()
    before = snapshot(demo_bakery)
    with pytest.raises(StalePlanError) as info:
        plan.apply()
    assert "assembly.record" in str(info.value) or not info.value.diff.empty
    assert snapshot(demo_bakery) == before


def test_apply_commits_whole_or_not_at_all_at_every_statement(stocked):
    from tests.support.atomic import InjectedFault, _restore, counting, fault_after

    plan = _what_if(stocked)
    before = snapshot(stocked)
    with counting(stocked) as counts:
        Plan.from_json(plan.to_json(), stocked).apply()
    total = counts.n_statements
    assert snapshot(stocked) != before
    _restore(stocked, before)
    for k in range(1, total + 1):
        with fault_after(stocked, k), pytest.raises(InjectedFault):
            plan.apply()
        assert snapshot(stocked) == before, f"fault after statement {k}/{total} left changes"
        assert not plan.applied
    plan.apply()
    assert plan.applied

"""What the user confirmed is what gets committed: the diff pairs preview and replay rows by
step, item and lot; moved stock is a ``drift`` row and refuses the plan unless allowed."""

from __future__ import annotations

import pandas as pd
import pytest

from bakekit.errors import StalePlanError
from bakekit.frames import PLAN_CHANGES, build
from bakekit.plan import Plan, ledger_diff
from tests.support.atomic import snapshot


def _cookies(bakery, batches=2):
    with bakery.what_if() as ws:
        ws.production.record("chocolate-chip-cookie", batches=batches)
    return ws.plan


def _take(bakery, item, quantity, unit):
    with bakery.session() as ws:
        ws.inventory.consume(item, quantity, unit, reason="someone else")
        ws.commit()


def _on_hand(bakery, item):
    with bakery.session() as ws:
        return float(ws.inventory.lots(item)["remaining"].sum())


def test_diff_pairs_rows_by_item_and_lot_after_someone_took_flour(demo_bakery):
    plan = _cookies(demo_bakery)
    preview = plan.changes.set_index("item")
    first_lot = preview.loc["flour-ap", "lot"]
    need = -preview.loc["flour-ap", "quantity"]
    with demo_bakery.session() as ws:
        lots = ws.inventory.lots("flour-ap")
        first_remaining = float(lots.loc[lots["lot_id"] == int(first_lot[4:]),
                                         "remaining"].iloc[0])
        second_lot = f"lot#{int(lots['lot_id'].iloc[1])}"
    taken = first_remaining - 0.5  # leaves half a pound in the first lot: FIFO spills over
    _take(demo_bakery, "flour-ap", taken, "lb")
    before = snapshot(demo_bakery)
    with pytest.raises(StalePlanError) as info:
        plan.apply()
    assert snapshot(demo_bakery) == before
    diff = info.value.diff
    # only flour's rows differ, and the cookies' cost (flour from a dearer lot); egg,
    # butter... are paired with their own rows, not with the next row
    cookies = diff[diff["item"] == "chocolate-chip-cookie"]
    assert cookies["status"].tolist() == ["changed"]
    assert cookies["quantity_now"].tolist() == cookies["quantity_preview"].tolist()
    assert cookies["cost_now"].iloc[0] != pytest.approx(cookies["cost_preview"].iloc[0])
    rows = diff[~diff["status"].isin(["drift"]) & (diff["item"] != "chocolate-chip-cookie")]
    assert set(rows["item"]) == {"flour-ap"}
    changed = rows[rows["status"] == "changed"].iloc[0]
    assert changed["lot"] == first_lot
    assert changed["quantity_preview"] == pytest.approx(-need)
    assert changed["quantity_now"] == pytest.approx(-0.5)
    extra = rows[rows["status"] == "extra"].iloc[0]
    assert extra["lot"] == second_lot
    assert pd.isna(extra["quantity_preview"])
    assert extra["quantity_now"] == pytest.approx(-(need - 0.5))
    assert len(rows) == 2
    drift = diff[diff["status"] == "drift"]
    assert drift["item"].tolist() == ["flour-ap"]
    assert drift["unit"].tolist() == ["lb"]
    flour_before = plan.summary().set_index("item").loc["flour-ap", "before"]
    assert drift["quantity_preview"].iloc[0] == pytest.approx(flour_before)
    assert drift["quantity_now"].iloc[0] == pytest.approx(flour_before - taken)
    assert not plan.applied


def test_stock_drift_alone_refuses_the_plan_and_writes_nothing(demo_bakery):
    plan = _cookies(demo_bakery)
    chips = plan.summary().set_index("item").loc["chocolate-chips"]
    _take(demo_bakery, "chocolate-chips", 2, "oz")  # same lot, same rows: only the stock moved
    before = snapshot(demo_bakery)
    with pytest.raises(StalePlanError, match="chocolate-chips") as info:
        plan.apply()
    assert snapshot(demo_bakery) == before
    diff = info.value.diff
    assert diff["status"].tolist() == ["drift"]
    row = diff.iloc[0]
    assert (row["item"], row["unit"]) == ("chocolate-chips", "oz")
    assert row["quantity_preview"] == pytest.approx(chips["before"])
    assert row["quantity_now"] == pytest.approx(chips["before"] - 2)
    assert not plan.applied


def test_allow_drift_commits_when_the_rows_are_the_same(demo_bakery):
    plan = _cookies(demo_bakery)
    chips = plan.summary().set_index("item").loc["chocolate-chips"]
    _take(demo_bakery, "chocolate-chips", 2, "oz")
    rows = plan.apply(allow_drift=True)
    assert rows[["lot", "item", "quantity"]].equals(plan.changes[["lot", "item", "quantity"]])
    assert _on_hand(demo_bakery, "chocolate-chips") == pytest.approx(chips["after"] - 2)
    assert plan.applied


def test_allow_drift_does_not_waive_different_rows(demo_bakery):
    plan = _cookies(demo_bakery)
    _take(demo_bakery, "flour-ap", 30, "lb")  # the first lots run dry: other lots now
    before = snapshot(demo_bakery)
    with pytest.raises(StalePlanError) as info:
        plan.apply(allow_drift=True)
    assert snapshot(demo_bakery) == before
    assert {"drift"} < set(info.value.diff["status"])


def test_a_move_of_an_item_the_plan_does_not_touch_is_no_drift(demo_bakery):
    plan = _cookies(demo_bakery)
    touched = set(plan.summary()["item"])
    with demo_bakery.session() as ws:
        levels = ws.inventory.levels()
    other = levels[~levels["item"].isin(touched) & (levels["on_hand"] > 1)].iloc[0]
    _take(demo_bakery, other["item"], 1, other["unit"])
    plan.apply()
    assert plan.applied


def test_drift_is_checked_for_a_plan_read_from_json(demo_bakery):
    plan = Plan.from_json(_cookies(demo_bakery).to_json(), demo_bakery)
    _take(demo_bakery, "chocolate-chips", 2, "oz")
    with pytest.raises(StalePlanError) as info:
        plan.apply()
    assert info.value.diff["status"].tolist() == ["drift"]


def test_a_failed_replay_is_one_row_that_says_what_moved(demo_bakery):
    plan = _cookies(demo_bakery)
    _take(demo_bakery, "chocolate-chips", _on_hand(demo_bakery, "chocolate-chips") - 1, "oz")
    before = snapshot(demo_bakery)
    with pytest.raises(StalePlanError) as info:
        plan.apply()
    assert snapshot(demo_bakery) == before
    diff = info.value.diff
    assert diff["status"].tolist() == ["failed"]
    assert "chocolate-chips" in diff["message"].iloc[0]
    assert "now" in diff["message"].iloc[0]


def _rows(*rows):
    return build([{"step": s, "position": p, "lot": lot, "item": i, "kind": "ingredient",
                   "reason": "r", "quantity": q, "unit": "lb", "cost": q}
                  for s, p, lot, i, q in rows], PLAN_CHANGES)


def test_diff_never_pairs_by_position_alone():
    preview = _rows((1, 1, "lot#1", "flour", -2.0), (1, 2, "lot#9", "egg", -2.0),
                    (1, 3, "lot#4", "butter", -0.5))
    replay = _rows((1, 1, "lot#1", "flour", -1.0), (1, 2, "lot#2", "flour", -1.0),
                   (1, 3, "lot#9", "egg", -2.0), (1, 4, "lot#4", "butter", -0.5))
    diff = ledger_diff(preview, replay)
    assert diff[["status", "lot", "quantity_now"]].values.tolist() == [
        ["changed", "lot#1", -1.0], ["extra", "lot#2", -1.0]]
    assert diff["quantity_preview"].iloc[0] == -2.0 and pd.isna(diff["quantity_preview"].iloc[1])
    assert set(diff["item"]) == {"flour"}
    # the same rows in another order are the same rows; a lot written twice in one step
    # pairs by its order there
    same = _rows((1, 1, "lot#9", "egg", -2.0), (1, 2, "lot#1", "flour", -2.0),
                 (1, 3, "lot#4", "butter", -0.5))
    assert ledger_diff(preview, same).empty
    twice = _rows((1, 1, "lot#1", "flour", -2.0), (1, 2, "lot#1", "flour", -1.0))
    twice_now = _rows((1, 1, "lot#1", "flour", -2.0), (1, 2, "lot#1", "flour", -1.5))
    diff = ledger_diff(twice, twice_now)
    assert diff[["position", "quantity_preview", "quantity_now"]].values.tolist() == [
        [2, -1.0, -1.5]]
    missing = ledger_diff(preview, _rows((1, 1, "lot#1", "flour", -2.0),
                                         (1, 2, "lot#9", "egg", -2.0)))
    assert missing[["status", "item", "lot"]].values.tolist() == [["missing", "butter", "lot#4"]]
    assert "butter" in missing["message"].iloc[0]


def test_cli_apply_refuses_drift_and_allow_drift_applies_it(demo_bakery, tmp_path):
    from typer.testing import CliRunner

    from bakekit.cli import EXIT_STALE, app

    path = tmp_path / "plan.json"
    path.write_text(_cookies(demo_bakery).to_json())
    _take(demo_bakery, "chocolate-chips", 2, "oz")
    before = snapshot(demo_bakery)
    runner = CliRunner()
    refused = runner.invoke(app, ["apply", str(path), "--url", demo_bakery.url])
    assert refused.exit_code == EXIT_STALE, refused.output
    assert "chocolate-chips" in refused.output
    assert snapshot(demo_bakery) == before
    applied = runner.invoke(app, ["apply", str(path), "--url", demo_bakery.url,
                                  "--allow-drift"])
    assert applied.exit_code == 0, applied.output
    assert "applied" in applied.output
    assert snapshot(demo_bakery) != before

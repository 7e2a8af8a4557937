"""The confirm panel decides once, says in plain words what happened, and offers a fresh
preview after a refusal (handlers called directly, as a kernel would on each click)."""

from __future__ import annotations

import re
import threading

import pytest

from bakekit.nb import confirm
from bakekit.nb.confirm import money_text, quantity_text
from tests.support.atomic import snapshot


def _panel(bakery, batches=2):
    with bakery.what_if() as ws:
        ws.production.record("chocolate-chip-cookie", batches=batches)
    return confirm(ws.plan)


def _take(bakery, item, quantity, unit):
    with bakery.session() as ws:
        ws.inventory.consume(item, quantity, unit, reason="someone else")
        ws.commit()


def _runs(bakery):
    with bakery.session() as ws:
        return len(ws.production.history())


def test_commit_twice_commits_once_and_keeps_saying_committed(demo_bakery):
    panel = _panel(demo_bakery)
    panel._on_commit()
    status = panel.status.value
    assert status.count("Committed") == 1
    assert "2 batches of chocolate chip cookies, 10 stock changes" in status
    panel._on_commit()  # a click that reached the kernel before the button greyed
    assert panel.status.value == status and panel.outcome == "committed"
    assert _runs(demo_bakery) == 1


def test_discard_after_commit_changes_nothing(demo_bakery):
    panel = _panel(demo_bakery)
    panel._on_commit()
    status = panel.status.value
    panel._on_discard()
    assert panel.status.value == status and "Discarded" not in status
    assert panel.outcome == "committed" and _runs(demo_bakery) == 1


def test_commit_after_discard_writes_nothing(demo_bakery):
    before = snapshot(demo_bakery)
    panel = _panel(demo_bakery)
    panel._on_discard()
    panel._on_commit()
    panel._on_commit()
    assert panel.outcome == "discarded"
    assert "Discarded" in panel.status.value and "nothing was written" in panel.status.value
    assert snapshot(demo_bakery) == before
    assert not panel.plan.applied


def test_clicks_from_two_threads_at_once_decide_once(demo_bakery):
    panel = _panel(demo_bakery)
    start = threading.Barrier(4)

    def click(handler):
        start.wait()
        handler()

    threads = [threading.Thread(target=click, args=(h,)) for h in
               (panel._on_commit, panel._on_discard, panel._on_commit, panel._on_discard)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert panel.outcome in {"committed", "discarded"}
    assert _runs(demo_bakery) == (1 if panel.outcome == "committed" else 0)
    assert ("Committed" in panel.status.value) == (panel.outcome == "committed")


def test_refusal_says_what_moved_and_preview_again_makes_a_fresh_plan(demo_bakery):
    panel = _panel(demo_bakery, batches=1)
    _take(demo_bakery, "chocolate-chips", 2, "oz")
    before = snapshot(demo_bakery)
    panel._on_commit()
    assert panel.outcome == "refused" and snapshot(demo_bakery) == before
    status = panel.status.value
    assert "Not committed" in status and "Nothing was written" in status
    assert "Semisweet chocolate chips" in status and "34 oz" in status
    for jargon in ("ledger", ".diff", "finished_unit", "NaN", "&lt;NA&gt;"):
        assert jargon not in status
    panel._on_commit()
    panel._on_discard()
    assert panel.status.value == status
    assert panel.preview_again_button.layout.display != "none"
    panel._on_preview_again()
    fresh = panel.again
    assert fresh is not None and fresh.plan is not panel.plan
    chips = fresh.plan.summary().set_index("item").loc["chocolate-chips"]
    assert chips["before"] == pytest.approx(34.0)
    fresh._on_commit()
    assert fresh.outcome == "committed" and _runs(demo_bakery) == 1


def test_a_failed_replay_is_refused_in_words(demo_bakery):
    panel = _panel(demo_bakery, batches=1)
    with demo_bakery.session() as ws:
        left = float(ws.inventory.lots("chocolate-chips")["remaining"].sum())
    _take(demo_bakery, "chocolate-chips", left - 1, "oz")
    before = snapshot(demo_bakery)
    panel._on_commit()
    assert snapshot(demo_bakery) == before
    status = panel.status.value
    assert "Not committed" in status and "can no longer be done" in status
    assert "1 oz now" in status


def test_panel_of_an_applied_plan_never_writes_again(demo_bakery):
    with demo_bakery.what_if() as ws:
        ws.production.record("chocolate-chip-cookie", batches=1)
    ws.plan.apply()
    panel = confirm(ws.plan)
    assert panel.commit_button.disabled
    panel._on_commit()
    assert _runs(demo_bakery) == 1


def test_summary_speaks_a_bakers_words_with_money_and_short_numbers(demo_bakery):
    panel = _panel(demo_bakery)
    table = panel.summary_table.value
    assert "Semisweet chocolate chips" in table and "finished_unit" not in table
    assert "$" in table and "0.9868" not in table
    assert int(panel.plot.width) > 0
    assert panel.plot.layout.width == f"{panel.plot.width}px"  # shown at its pixel size


def test_numbers_and_money_for_people():
    assert quantity_text(0.98684) == "0.99"
    assert quantity_text(3.5) == "3.5"
    assert quantity_text(72, signed=True) == "+72"
    assert quantity_text(1234.4) == "1,234"
    assert money_text(-1.5515, signed=True) == "−$1.55"
    assert money_text(13.506) == "$13.51"


def test_preview_again_that_cannot_be_made_says_what_is_short_in_the_panels_unit(demo_bakery):
    panel = _panel(demo_bakery, batches=1)
    with demo_bakery.session() as ws:
        left = float(ws.inventory.lots("chocolate-chips")["remaining"].sum())
    needed = -panel.plan.summary().set_index("item").loc["chocolate-chips", "change"]
    _take(demo_bakery, "chocolate-chips", left - needed + 2, "oz")  # 2 oz short now
    before = snapshot(demo_bakery)
    panel._on_commit()
    panel._on_preview_again()
    assert panel.again is None and snapshot(demo_bakery) == before
    assert "not enough Semisweet chocolate chips (short 2 oz)" in panel.status.value
    assert not panel.preview_again_button.disabled  # may be tried again later


def test_a_drift_only_refusal_offers_commit_anyway_which_commits_once(demo_bakery):
    panel = _panel(demo_bakery)
    with demo_bakery.session() as ws:  # more flour arrives: the stock moved, the plan did not
        ws.inventory.purchase("ka-flour-5lb", unit_cost=6.49, purchased_on="2025-12-05")
        ws.commit()
    panel._on_commit()
    assert panel.outcome == "refused" and set(panel.diff["status"]) == {"drift"}
    assert panel.commit_anyway_button.layout.display is None  # shown
    assert "Commit anyway (only stock moved)" in panel.status.value
    assert "All-purpose flour" in panel.status.value  # says what moved
    assert _runs(demo_bakery) == 0
    panel._on_commit_anyway()
    assert panel.outcome == "committed" and _runs(demo_bakery) == 1
    panel._on_commit_anyway()  # a second click writes nothing more
    panel._on_commit()
    assert _runs(demo_bakery) == 1
    assert panel.commit_anyway_button.layout.display == "none"


def test_a_refusal_beyond_drift_offers_no_commit_anyway(demo_bakery):
    panel = _panel(demo_bakery)
    _take(demo_bakery, "flour-ap", 10, "lb")  # the replay would take other lots
    panel._on_commit()
    assert panel.outcome == "refused" and set(panel.diff["status"]) != {"drift"}
    assert panel.commit_anyway_button.layout.display == "none"
    assert "Commit anyway" not in panel.status.value


def test_the_header_follows_the_outcome_and_rows_follow_their_labels(demo_bakery):
    panel = _panel(demo_bakery)
    assert "Plan:" in panel.header.value and "On hand now" in panel.summary_table.value
    names = re.findall(r"<tr><td style='padding:2px 8px'>([^<]+) <span",
                       panel.summary_table.value)
    assert len(names) > 3 and names == sorted(names, key=str.casefold)
    panel._on_commit()
    assert "Committed:" in panel.header.value
    assert "On hand now" not in panel.summary_table.value
    assert "On hand before" in panel.summary_table.value

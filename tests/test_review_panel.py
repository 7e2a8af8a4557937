"""The review panel (issue 31): a reconciliation row by row, choices written into its frame,
previewed in the confirm panel, committed under the plan's rules; handlers called directly,
as the kernel does on each click. The browser test is tests/test_review_browser.py."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import pandas as pd
import pytest

import bakekit
from bakekit.errors import ValidationError
from bakekit.nb import review
from bakekit.plan import Plan
from tests.support.atomic import snapshot

PRICE_LIST = Path(__file__).resolve().parents[1] / "data" / "price-list.csv"


def _prices(bakery):
    with bakery.session() as ws:
        return ws.io.reconcile(PRICE_LIST, kind="prices")


def _purchases(bakery):
    bought = pd.DataFrame([
        {"product": "egs-24", "packages": 2, "unit_cost": 7.79, "purchased_on": "2025-11-30"},
        {"product": "costco-sugar-10lb", "packages": 1, "unit_cost": 9.99,
         "purchased_on": "2025-11-30"},
        {"product": "chips-36oz", "packages": 1, "unit_cost": 7.49,
         "purchased_on": "2025-11-30"},
    ])
    with bakery.session() as ws:
        ws.inventory.purchase("chips-36oz", unit_cost=7.49, purchased_on="2025-11-30")
        ws.commit()
        return ws.io.reconcile(bought, kind="purchases")


def _dropdowns(panel) -> dict[int, widgets.Dropdown]:
    out = {}
    for box in panel.rows_box.children:
        choice = box.children[1]
        row = int(next(c for c in choice._dom_classes if c.startswith("bakekit-review-row-"))
                  .rsplit("-", 1)[1])
        out[row] = choice
    return out


def _products(bakery) -> dict[str, float]:
    other = bakekit.open(bakery.url)  # a separate connection
    try:
        with other.session() as ws:
            return dict(zip(ws.catalog.products()["item"], ws.catalog.products()["price"],
                            strict=True))
    finally:
        other.dispose()


def test_review_is_a_widget_and_fuzzy_matches_start_undecided(demo_bakery):
    found = _prices(demo_bakery)
    panel = review(found)
    assert isinstance(panel, widgets.Widget)
    frame = found.frame
    # the two matches below score 100 (butter 95.7, eggs 98.6) are the analyst's to make
    assert frame.loc[frame["status"] == "undecided", "row"].tolist() == [2, 4]
    assert set(frame["choice"]) == {"as reviewed", "undecided"}
    assert panel.counts() == {"undecided": 2, "missing": 1, "changed": 2, "unchanged": 3,
                              "invalid": 1}
    labels = [label for label, _ in panel.filter.options]
    assert labels[0] == "All (9)" and "undecided (2)" in labels
    # code and widget agree: every dropdown shows the frame's choice
    for row, choice in _dropdowns(panel).items():
        assert choice.value == panel.value(row)
    # the missing row's candidates carry scores
    options = panel.options(7)
    assert options[0] == ("As reviewed: missing", "as reviewed")
    assert sum(label.startswith("Match: ") and "score" in label for label, _ in options) == 5
    assert options[-1] == ("Skip", "skip")


def test_accept_above_a_score_accepts_only_those(demo_bakery):
    found = _prices(demo_bakery)
    panel = review(found)
    assert panel.accept_above(98) == 1  # eggs at 98.6, not butter at 95.7
    frame = found.frame.set_index("row")
    assert frame.loc[4, "status"] == "changed" and frame.loc[4, "match"] == "eggs-24"
    assert frame.loc[2, "status"] == "undecided"
    # the dropdown follows the frame
    assert _dropdowns(panel)[4].value == "eggs-24"


def test_choices_in_the_widget_are_written_into_the_frame_and_commit(demo_bakery):
    found = _prices(demo_bakery)
    panel = review(found)
    rows = _dropdowns(panel)
    rows[2].value = "costco-butter-4lb"        # accept the proposal from the dropdown
    rows[4].value = "skip"                     # skip the eggs
    panel.choose(7, "salt-26oz")               # the unknown paste is (say) the sea salt
    frame = found.frame.set_index("row")
    assert frame.loc[2, ["status", "choice", "match"]].tolist() == [
        "changed", "match", "costco-butter-4lb"]
    assert frame.loc[4, ["status", "choice"]].tolist() == ["skipped", "skip"]
    assert frame.loc[7, ["status", "choice", "match"]].tolist() == [
        "changed", "match", "salt-26oz"]
    assert "chosen by you" in frame.loc[7, "message"]
    with pytest.raises(ValidationError, match="not one of its choices"):
        panel.choose(8, "skip-not")
    before = snapshot(demo_bakery)
    confirm = panel.preview()
    assert confirm is not None and snapshot(demo_bakery) == before  # a preview writes nothing
    assert "4 row(s) would be written" in panel.status.value
    assert "the prices review: 4 rows written" in confirm.header.value
    confirm._on_commit()
    assert confirm.outcome == "committed", confirm.status.value
    prices = _products(demo_bakery)
    assert prices["costco-butter-4lb"] == 14.99
    assert prices["salt-26oz"] == 18.00
    assert prices["eggs-24"] == 7.49           # skipped: unchanged
    assert prices["costco-flour-25lb"] == 12.49
    assert "committed" in panel.title.value
    with pytest.raises(ValidationError, match="committed"):
        panel.choose(2, "skip")


def test_a_purchases_review_choose_a_candidate_mark_new_and_skip(demo_bakery):
    found = _purchases(demo_bakery)
    panel = review(found)
    assert found.frame["status"].tolist() == ["missing", "new", "unchanged"]
    candidates = [value for _, value in panel.options(0)]
    assert candidates[1] == "eggs-24"          # the closest key first
    panel.choose(0, "eggs-24")
    panel.choose(1, "skip")
    assert ("New purchase", "new") in panel.options(2)
    panel.choose(2, "new")                     # a second bag bought that day
    assert found.frame["status"].tolist() == ["new", "skipped", "new"]
    panel.preview()._on_commit()
    assert panel.confirm_panel is not None and panel.confirm_panel.outcome == "committed"
    other = bakekit.open(demo_bakery.url)
    try:
        with other.session() as ws:
            lots = ws.inventory.lots()
            day = lots[lots["purchased_on"] == "2025-11-30"]
            assert sorted(day["product"]) == ["chips-36oz", "chips-36oz", "eggs-24"]
            assert day[day["product"] == "eggs-24"]["quantity"].tolist() == [48.0]
            assert not (lots["product"] == "costco-sugar-10lb").any() or \
                "2025-11-30" not in set(lots[lots["product"] == "costco-sugar-10lb"]
                                        ["purchased_on"].astype(str))
    finally:
        other.dispose()


def test_a_stale_review_is_refused_with_nothing_written(demo_bakery):
    found = _prices(demo_bakery)
    panel = review(found)
    panel.accept_above(90)
    with demo_bakery.session() as ws:  # someone prices the butter meanwhile
        ws.catalog.update_product("costco-butter-4lb", price=15.49)
        ws.commit()
    before = snapshot(demo_bakery)
    assert panel.preview() is None
    assert "Not previewed" in panel.status.value and "reconcile again" in panel.status.value
    assert snapshot(demo_bakery) == before


def test_a_review_gone_stale_after_its_preview_is_refused_at_commit(demo_bakery):
    found = _prices(demo_bakery)
    panel = review(found)
    panel.accept_above(90)
    confirm = panel.preview()
    assert confirm is not None
    with demo_bakery.session() as ws:
        ws.catalog.update_product("eggs-24", price=8.49)
        ws.commit()
    before = snapshot(demo_bakery)
    confirm._on_commit()
    assert confirm.outcome == "refused"
    assert "Not committed" in confirm.status.value
    assert "Nothing was written" in confirm.status.value
    assert snapshot(demo_bakery) == before


def test_a_reviewed_plan_survives_its_file(demo_bakery):
    found = _prices(demo_bakery)
    panel = review(found)
    panel.choose(4, "skip")
    confirm = panel.preview()
    assert confirm is not None
    again = Plan.from_json(confirm.plan.to_json(), demo_bakery)
    again.apply()
    prices = _products(demo_bakery)
    assert prices["eggs-24"] == 7.49 and prices["costco-flour-25lb"] == 12.49


def test_large_reviews_page_and_filter(demo_bakery):
    rows = [{"product_name": f"Mystery item {n}", "brand": "Nobody", "unit_price": 1 + n % 7}
            for n in range(1200)]
    rows[5] = {"product_name": "Large eggs 2 dozen", "brand": "Kirkland", "unit_price": 6.99}
    with demo_bakery.session() as ws:
        found = ws.io.reconcile(pd.DataFrame(rows), kind="prices")
    panel = review(found, page_size=50)
    assert len(panel.rows_box.children) == 50
    assert "page 1 of 24" in panel.page_label.value
    panel.next_button.click()
    assert "page 2 of 24" in panel.page_label.value
    assert min(_dropdowns(panel)) == 50
    panel.filter.value = "undecided"
    assert list(_dropdowns(panel)) == [5] and "page 1 of 1" in panel.page_label.value
    assert len(panel._candidates) <= 100  # candidates only for rows that were shown


def test_a_review_made_inside_an_open_workspace_reads_through_it(demo_bakery):
    """A notebook keeps its workspace open across cells: a review shown while that workspace
    holds uncommitted writes reads through it (and sees them), instead of opening a second
    transaction that waits on its lock (SQLite: 30 s, then 'database is locked')."""
    with demo_bakery.session() as ws:
        ws.catalog.add_product("chips-12oz-new", "chocolate-chips", brand="Test",
                               name="Chips 12 oz", package_quantity=12, package_unit="oz")
        found = ws.io.reconcile(PRICE_LIST, kind="prices")
        panel = review(found)
        assert "chips-12oz-new" in set(panel._things["slug"])  # the uncommitted product
        assert panel.stale() is None

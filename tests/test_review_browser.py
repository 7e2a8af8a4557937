"""The review panel in a real browser (issue 31): a purchases review served by Voila on a
temporary SQLite file, driven by Playwright with the system Chromium: choose a different
candidate, mark one new, skip one, preview, commit; the database is checked from this
process (the kernel is another one). A stale review is refused with nothing written. A
failing check saves a screenshot (and the Voila log) under its temporary folder."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bakekit
from tests.support.atomic import snapshot
from tests.support.browser import keep_evidence, page_fixtures

pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1400, "height": 900}
PAGE_READY_S = 90  # bounded waits, in seconds
OUTCOME_S = 60

NOTEBOOK = [
    "import os, urllib.parse\n"
    "import pandas as pd\n"
    "import bakekit\n"
    "from bakekit.nb import review\n"
    "query = urllib.parse.parse_qs(os.environ.get('QUERY_STRING', ''))\n"
    "bakery = bakekit.open(query['db'][0])",
    "with bakery.session() as ws:\n"
    "    found = ws.io.reconcile(query['csv'][0], kind='purchases')\n"
    "panel = review(found)\n"
    "panel",
]
#: the purchases file the analyst reviews: a misspelled product, a bag of sugar to skip,
#: and a bag of chips that equals one bought already (it was a second bag: new)
PURCHASES = ("product,packages,unit_cost,purchased_on\n"
             "egs-24,2,7.79,2025-11-30\n"
             "costco-sugar-10lb,1,9.99,2025-11-30\n"
             "chips-36oz,1,7.49,2025-11-30\n")


voila, browser = page_fixtures(NOTEBOOK, "voila-review")


class Review:
    """One page of the review panel: its database and the widgets a person uses."""

    def __init__(self, page: Any, db: Path, folder: Path, log: Path):
        self.page, self.db, self.folder, self.log = page, db, folder, log

    def select(self, row: int, starts_with: str) -> str:
        """Choose, in row ``row``'s dropdown, the option whose text starts so."""
        select = self.page.locator(f".bakekit-review-row-{row} select")
        labels = select.evaluate("s => [...s.options].map(o => o.text)")
        label = next((t for t in labels if t.replace("\xa0", " ").startswith(starts_with)),
                     None)
        assert label is not None, f"row {row}: no option {starts_with!r} in {labels}"
        select.select_option(label=label)
        return str(label).replace("\xa0", " ")

    def row_text(self, row: int) -> str:
        box = self.page.locator(f".widget-hbox:has(> .bakekit-review-row-{row})")
        return str(box.inner_text())

    def click(self, name: str) -> None:
        self.page.locator(f"button.widget-button:has-text('{name}')").first.click(
            timeout=OUTCOME_S * 1000)

    def wait_for_text(self, *words: str) -> str:
        deadline = time.monotonic() + OUTCOME_S
        while time.monotonic() < deadline:
            text = str(self.page.inner_text("body"))
            if any(w in text for w in words):
                return text
            time.sleep(0.05)
        raise AssertionError(f"the page never said any of {words}")

    def keep_evidence(self) -> None:
        """A screenshot and the Voila log, in the test's temporary folder."""
        keep_evidence(self.page, self.folder, self.log)


@pytest.fixture
def review_page(voila: dict[str, Any], browser: Any, tmp_path: Path) -> Iterator[Review]:
    """A demo database (with one bag of chips bought on 2025-11-30) and the review of the
    purchases file against it, open in a fresh page."""
    db = tmp_path / "bakery.db"
    bakery = bakekit.demo(str(db))
    with bakery.session() as ws:
        ws.inventory.purchase("chips-36oz", unit_cost=7.49, purchased_on="2025-11-30")
        ws.commit()
    bakery.dispose()
    csv = tmp_path / "purchases.csv"
    csv.write_text(PURCHASES)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    shown = Review(page, db, tmp_path, voila["log"])
    try:
        page.goto(voila["url"] + "?" + urllib.parse.urlencode({"db": str(db), "csv": str(csv)}),
                  timeout=PAGE_READY_S * 1000)
        page.locator(".bakekit-review-row-2 select").wait_for(state="visible",
                                                               timeout=PAGE_READY_S * 1000)
        yield shown
    except BaseException:
        shown.keep_evidence()
        raise
    finally:
        context.close()


def _day(db: Path) -> list[tuple[str, float, float]]:
    """The lots bought on 2025-11-30, read from a separate connection."""
    bakery = bakekit.open(str(db))
    try:
        with bakery.session() as ws:
            lots = ws.inventory.lots(include_empty=True)
        day = lots[lots["purchased_on"] == "2025-11-30"]
        return sorted(zip(day["product"], day["quantity"], day["unit_cost"], strict=True))
    finally:
        bakery.dispose()


def test_choose_new_skip_preview_commit_in_the_browser(review_page: Review) -> None:
    page = review_page
    assert "missing" in page.row_text(0) and "unchanged" in page.row_text(2)
    chosen = page.select(0, "Match: Large eggs")     # a different candidate: the eggs
    assert "score" in chosen
    page.select(1, "Skip")
    page.select(2, "New purchase")
    page.wait_for_text("a new purchase (your choice)")   # the last choice has arrived
    page.wait_for_text("skipped by you")
    assert "chosen by you: Large eggs" in page.row_text(0)
    assert "new" in page.row_text(2)
    before = _day(page.db)
    page.click("Preview")
    page.wait_for_text("2 row(s) would be written")
    assert _day(page.db) == before                    # a preview writes nothing
    page.click("Commit")
    text = page.wait_for_text("Committed:", "Not committed")
    assert "Committed: the purchases review: 2 rows written" in text, text
    after = _day(page.db)
    assert [r[:2] for r in after] == sorted([*(r[:2] for r in before), ("eggs-24", 48.0),
                                             ("chips-36oz", 36.0)])
    eggs = next(r for r in after if r[0] == "eggs-24")
    assert eggs[2] == pytest.approx(7.79 / 24, abs=1e-6)   # a package of 24 at 7.79
    assert not any(product == "costco-sugar-10lb" for product, *_ in after)
    page.page.locator("h4", has_text="rows, committed").wait_for(timeout=OUTCOME_S * 1000)


def test_a_stale_review_is_refused_in_the_browser(review_page: Review) -> None:
    page = review_page
    page.select(0, "Match: Large eggs")
    bakery = bakekit.open(str(page.db))  # someone records a purchase meanwhile
    try:
        with bakery.session() as ws:
            ws.inventory.purchase("eggs-24", unit_cost=7.79, purchased_on="2025-11-30")
            ws.commit()
        before = snapshot(bakery)
    finally:
        bakery.dispose()
    page.click("Preview")
    text = page.wait_for_text("Not previewed", "would be written")
    assert "Not previewed" in text and "reconcile again" in text
    assert "Nothing was written" in text
    bakery = bakekit.open(str(page.db))
    try:
        assert snapshot(bakery) == before
    finally:
        bakery.dispose()

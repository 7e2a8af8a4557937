"""The confirm panel in a real browser: a notebook served by Voila on a temporary SQLite
file, driven by Playwright with the system Chromium and real mouse clicks; the database is
checked from this process (the kernel is another one).

What the user confirmed is what gets committed: Commit writes exactly the summary's
changes, Discard writes nothing, a stale plan is refused with nothing written, and fast
double or cross clicks keep the first outcome and a true status. A failing check saves a
screenshot (and the Voila log) under its temporary folder.
"""

from __future__ import annotations

import functools
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bakekit
from tests.support.atomic import snapshot
from tests.support.browser import keep_evidence, page_fixtures

pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1280, "height": 800}
PAGE_READY_S = 90  # bounded waits, in seconds
OUTCOME_S = 60
#: after an outcome shows, how long a late second click gets to (wrongly) change it
SETTLE_S = 2.0

NOTEBOOK = [
    "import os, urllib.parse\n"
    "import bakekit\n"
    "from bakekit.nb import confirm\n"
    "query = urllib.parse.parse_qs(os.environ.get('QUERY_STRING', ''))\n"
    "bakery = bakekit.open(query['db'][0])",
    "with bakery.what_if() as ws:\n"
    "    ws.production.record('chocolate-chip-cookie', batches=2)\n"
    "panel = confirm(ws.plan)\n"
    "panel",
]


voila, browser = page_fixtures(NOTEBOOK, "voila")


class Page:
    """One page of the panel: its database, the what-if the kernel made, the buttons."""

    def __init__(self, page: Any, db: Path, folder: Path, log: Path):
        self.page = page
        self.db = db
        self.folder = folder
        self.log = log

    def button(self, name: str) -> Any:
        return self.page.locator(f"button.widget-button:has-text('{name}')").first

    def centre(self, name: str) -> tuple[float, float]:
        self.button(name).scroll_into_view_if_needed()  # (the layout test checks the fold)
        box = self.button(name).bounding_box()
        assert box is not None, f"no {name} button on the page"
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def status(self) -> str:
        return str(self.page.evaluate(
            """() => [...document.querySelectorAll('.widget-html-content')]
                     .map(e => e.innerText)
                     .filter(t => /Nothing is written until|Committ|Discarded|Not committed|Error/
                                   .test(t)).pop() || ''"""))

    def wait_for_status(self, *words: str) -> str:
        deadline = time.monotonic() + OUTCOME_S
        while time.monotonic() < deadline:
            text = self.status()
            if any(w in text for w in words):
                return text
            time.sleep(0.05)
        raise AssertionError(f"status never said any of {words}; it says: {self.status()!r}")

    def keep_evidence(self) -> None:
        """A screenshot and the Voila log, in the test's temporary folder."""
        keep_evidence(self.page, self.folder, self.log)


def evidence_on_failure(test: Callable[..., None]) -> Callable[..., None]:
    """Save a screenshot (and the Voila log) under the test's tmp folder when it fails."""

    @functools.wraps(test)
    def run(panel_page: Page, *args: Any, **kwargs: Any) -> None:
        try:
            test(panel_page, *args, **kwargs)
        except BaseException:
            panel_page.keep_evidence()
            raise

    return run


@pytest.fixture
def panel_page(voila: dict[str, Any], browser: Any, tmp_path: Path,
               request: pytest.FixtureRequest) -> Iterator[Page]:
    """A demo database in a temporary SQLite file and its panel, open in a fresh page."""
    db = tmp_path / "bakery.db"
    bakekit.demo(str(db)).dispose()
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    shown = Page(page, db, tmp_path, voila["log"])
    started = time.monotonic()
    try:
        page.goto(voila["url"] + "?" + urllib.parse.urlencode({"db": str(db)}),
                  timeout=PAGE_READY_S * 1000)
        shown.button("Commit").wait_for(state="visible", timeout=PAGE_READY_S * 1000)
        page.wait_for_function(
            "() => { const i = document.querySelector('img.widget-image');"
            " return i && i.complete && i.naturalWidth > 0; }", timeout=PAGE_READY_S * 1000)
    except BaseException:
        shown.keep_evidence()
        context.close()
        raise
    request.node.user_properties.append(("page_ready_s", round(time.monotonic() - started, 2)))
    try:
        yield shown
    finally:
        context.close()


def _expected(db: Path) -> Any:
    """The same what-if, made here: the summary the panel shows."""
    bakery = bakekit.open(str(db))
    try:
        with bakery.what_if() as ws:
            ws.production.record("chocolate-chip-cookie", batches=2)
        return ws.plan
    finally:
        bakery.dispose()


def _state(db: Path) -> dict[str, Any]:
    bakery = bakekit.open(str(db))
    try:
        state = snapshot(bakery)
        with bakery.session() as ws:
            lots = ws.inventory.lots(include_empty=True)
            runs = len(ws.production.history())
        on_hand = lots.groupby(["item", "kind", "unit"])["remaining"].sum().to_dict()
        return {"tables": state, "on_hand": on_hand, "runs": runs,
                "movements": len(state["movements"])}
    finally:
        bakery.dispose()


def _assert_committed_exactly(db: Path, before: dict[str, Any], plan: Any) -> None:
    after = _state(db)
    assert after["runs"] == before["runs"] + 1
    assert after["movements"] == before["movements"] + len(plan.changes)
    summary = plan.summary()
    touched = set()
    for r in summary.itertuples(index=False):
        key = (r.item, r.kind, r.unit)
        touched.add(key)
        assert after["on_hand"].get(key, 0.0) == pytest.approx(r.after), r.item
        assert before["on_hand"].get(key, 0.0) == pytest.approx(r.before), r.item
    for key, value in before["on_hand"].items():
        if key not in touched:
            assert after["on_hand"][key] == pytest.approx(value), key


@evidence_on_failure
def test_layout_at_1280_by_800(panel_page: Page) -> None:
    page = panel_page.page
    for name in ("Commit", "Discard"):
        box = panel_page.button(name).bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= VIEWPORT["height"], f"{name} is below the fold"
        assert box["x"] + box["width"] <= VIEWPORT["width"], f"{name} is off to the right"
    sizes = page.evaluate(
        "() => { const i = document.querySelector('img.widget-image');"
        " return [i.naturalWidth, i.clientWidth, i.naturalHeight, i.clientHeight]; }")
    assert sizes[0] == sizes[1] and sizes[2] == sizes[3], f"plot stretched: {sizes}"
    text = page.inner_text("body")
    for jargon in ("finished_unit", "ledger", ".diff", "NaN"):
        assert jargon not in text
    assert "$" in text and "Semisweet chocolate chips" in text


@evidence_on_failure
def test_commit_writes_exactly_the_summary(panel_page: Page) -> None:
    plan = _expected(panel_page.db)
    before = _state(panel_page.db)
    panel_page.page.mouse.click(*panel_page.centre("Commit"))
    status = panel_page.wait_for_status("Committed", "Not committed")
    assert status.startswith("Committed: 2 batches of chocolate chip cookies, "
                             f"{len(plan.changes)} stock changes"), status
    _assert_committed_exactly(panel_page.db, before, plan)
    assert panel_page.button("Commit").is_disabled()


@evidence_on_failure
def test_discard_writes_nothing(panel_page: Page) -> None:
    before = _state(panel_page.db)
    panel_page.page.mouse.click(*panel_page.centre("Discard"))
    status = panel_page.wait_for_status("Discarded", "Committed")
    assert status.startswith("Discarded: nothing was written"), status
    time.sleep(SETTLE_S)
    assert _state(panel_page.db)["tables"] == before["tables"]


@evidence_on_failure
def test_stale_plan_is_refused_and_nothing_written(panel_page: Page) -> None:
    bakery = bakekit.open(str(panel_page.db))  # another process takes flour after the preview
    try:
        with bakery.session() as ws:
            ws.inventory.consume("flour-ap", 1, "lb", reason="someone else")
            ws.commit()
    finally:
        bakery.dispose()
    before = _state(panel_page.db)
    panel_page.page.mouse.click(*panel_page.centre("Commit"))
    status = panel_page.wait_for_status("Not committed", "Committed")
    assert status.startswith("Not committed"), status
    assert "All-purpose flour" in status and "now" in status
    assert "Nothing was written" in status
    assert _state(panel_page.db)["tables"] == before["tables"]
    again = panel_page.button("Preview again")
    assert again.is_visible()
    again.click(timeout=OUTCOME_S * 1000)
    panel_page.page.locator("text=Previewed again with today's stock").wait_for(
        timeout=OUTCOME_S * 1000)
    commits = panel_page.page.locator("button.widget-button",
                                      has_text=re.compile(r"^\s*Commit\s*$"))
    assert commits.count() == 2


@evidence_on_failure
def test_fast_double_click_commits_once_and_says_so(panel_page: Page) -> None:
    plan = _expected(panel_page.db)
    before = _state(panel_page.db)
    x, y = panel_page.centre("Commit")
    panel_page.page.mouse.dblclick(x, y)
    status = panel_page.wait_for_status("Committed", "Not committed", "Error")
    time.sleep(SETTLE_S)  # the second click reaches the kernel after the first outcome
    assert panel_page.status() == status
    assert status.startswith("Committed"), status
    _assert_committed_exactly(panel_page.db, before, plan)


@evidence_on_failure
def test_commit_then_discard_keeps_the_first_outcome(panel_page: Page) -> None:
    plan = _expected(panel_page.db)
    before = _state(panel_page.db)
    commit, discard = panel_page.centre("Commit"), panel_page.centre("Discard")
    panel_page.page.mouse.click(*commit)
    panel_page.page.mouse.click(*discard)  # before the browser can grey the buttons
    status = panel_page.wait_for_status("Committed", "Discarded", "Not committed")
    time.sleep(SETTLE_S)
    assert panel_page.status() == status
    assert status.startswith("Committed"), status
    _assert_committed_exactly(panel_page.db, before, plan)


@evidence_on_failure
def test_discard_then_commit_writes_nothing(panel_page: Page) -> None:
    before = _state(panel_page.db)
    discard, commit = panel_page.centre("Discard"), panel_page.centre("Commit")
    panel_page.page.mouse.click(*discard)
    panel_page.page.mouse.click(*commit)
    status = panel_page.wait_for_status("Committed", "Discarded", "Not committed")
    time.sleep(SETTLE_S)
    assert panel_page.status() == status
    assert status.startswith("Discarded: nothing was written"), status
    assert _state(panel_page.db)["tables"] == before["tables"]

"""The notebooks leave the click to the person (issue 31): notebooks 02 and 06 show their
panel uncommitted (so Voila serves it uncommitted); here the test runs a notebook's code
cells and clicks the panel's Commit, as the person would, then checks the database from a
separate connection. (nbval runs every notebook as written: `pytest --nbval-lax notebooks/`.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

import bakekit

ROOT = Path(__file__).resolve().parents[1]


def _run_notebook(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run a notebook's code cells in this process (from the notebooks folder); its names."""
    monkeypatch.chdir(ROOT / "notebooks")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    namespace: dict[str, Any] = {"display": lambda *args, **kwargs: None}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{name} cell", "exec"), namespace)
    return namespace


def _history(url: str) -> Any:
    other = bakekit.open(url)  # a separate connection
    try:
        with other.session() as ws:
            return ws.production.history()
    finally:
        other.dispose()


def test_notebook_02_leaves_commit_to_the_person(monkeypatch):
    names = _run_notebook("02_what_if_production.ipynb", monkeypatch)
    panel, bakery = names["panel"], names["bakery"]
    assert panel.outcome is None and not panel.commit_button.disabled
    before = len(_history(bakery.url))
    panel.commit_button.click()                     # the person's click
    assert panel.outcome == "committed", panel.status.value
    assert len(_history(bakery.url)) == before + 2  # cookies and brownies


def test_notebook_06_reviews_a_price_list_and_leaves_commit_to_the_person(monkeypatch):
    names = _run_notebook("06_reconcile_price_list.ipynb", monkeypatch)
    panel, bakery = names["panel"], names["bakery"]
    confirm = panel.confirm_panel
    assert confirm is not None and confirm.outcome is None
    confirm.commit_button.click()                   # the person's click
    assert confirm.outcome == "committed", confirm.status.value
    other = bakekit.open(bakery.url)
    try:
        with other.session() as ws:
            prices = ws.catalog.products().set_index("item")["price"]
    finally:
        other.dispose()
    frame = names["found"].frame
    for r in frame[frame["status"].isin(["new", "changed"])].itertuples():
        assert prices[r.match] == pytest.approx(r.price), r.match
    skipped = frame[frame["status"] == "skipped"]
    assert not skipped.empty

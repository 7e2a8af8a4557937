"""Long tables on the command line: a review of many rows is laid out in time linear in
its rows (issue 33: `reconcile --apply` of 100,000 purchases took 5 minutes, nearly all of
it Rich laying out the review table at ~1 ms a row)."""

from __future__ import annotations

import io
import sqlite3

import pandas as pd
import pytest
from typer.testing import CliRunner

from bakekit.cli import _output, app
from bakekit.cli._output import Rows


def _frame(rows: int) -> pd.DataFrame:
    long = "a long note that wraps onto more than one line of its column, on words"
    return pd.DataFrame({
        "line": pd.array(range(2, rows + 2), dtype="Int64"),
        "status": ["new", "changed"] * (rows // 2) + ["new"] * (rows % 2),
        "note": [long if n % 3 == 0 else ("" if n % 3 == 1 else "short") for n in range(rows)],
        "packages": [n * 1.25 for n in range(rows)],
        "unit_cost": [None if n % 4 == 0 else 1234.5 for n in range(rows)],
        "purchased_on": pd.to_datetime(["2025-01-02"] * rows),
    })


@pytest.mark.parametrize("width", [200, 90, 60])
def test_the_plain_layout_of_a_long_table_is_the_rich_one(width, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    for frame in (_frame(40), Rows(("item", "n"), [("flour", 2), ("sugar", 1234.5)])):
        console = _output.make_console(file=io.StringIO(), width=width)
        console.print(_output.rich_table(frame, "Review", width=width))
        assert _output.plain_table(frame, "Review", width) == console.file.getvalue()


def test_reconcile_apply_of_a_long_file_does_not_lay_out_its_rows_with_rich(
        demo_path, tmp_path, monkeypatch):
    with sqlite3.connect(demo_path) as con:
        slug = con.execute("SELECT slug FROM products ORDER BY id LIMIT 1").fetchone()[0]
    rows = _output.RICH_ROWS * 2 + 1
    csv = tmp_path / "purchases.csv"
    pd.DataFrame({"product": [slug] * rows, "packages": range(1, rows + 1),
                  "unit_cost": ["2.50"] * rows, "purchased_on": ["2025-03-01"] * rows}
                 ).to_csv(csv, index=False)
    laid_out: list[int] = []
    rich_table = _output.rich_table
    monkeypatch.setattr(_output, "rich_table", lambda frame, *a, **k: (
        laid_out.append(len(frame)), rich_table(frame, *a, **k))[1])
    out = tmp_path / "review.txt"
    for extra in ([], ["-o", str(out)]):
        result = CliRunner().invoke(app, ["reconcile", str(csv), "--kind", "purchases",
                                          "--url", str(demo_path), *extra],
                                    env={"NO_COLOR": "1"})
        assert result.exit_code == 0, result.output
        assert f"{rows} row(s): {rows} new" in result.output
    assert all(n <= _output.RICH_ROWS for n in laid_out), laid_out
    lines = out.read_text().splitlines()
    assert lines[0].startswith("Reconciliation (purchases)") and lines[-1].strip() == ""
    assert sum(1 for line in lines if line.split()[1:2] == ["new"]) == rows
    assert [line.split()[0] for line in lines[4:6]] == ["2", "3"]

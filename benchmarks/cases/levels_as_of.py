"""Stock as of a past date: ``ws.inventory.levels(as_of=...)`` over the ledger of the lots
database (1,000,000 lots, about 1.3 million ledger rows) against the same aggregate written
by hand in sqlite3."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd

import bakekit
from benchmarks.cases._lots import lots_database
from benchmarks.common import CaseResult, Context, race

GOAL = "<= 1.5x"
AS_OF = dt.date(2020, 6, 30)

#: the statement of ``levels(as_of=...)`` written by hand: each lot's ledger sum up to the
#: date (quantity and money), then stock, value and uncosted stock per item and lot unit
#: (SQLite stores them as integers of value * 10**places: bakekit.db.exact)
LEVELS_AS_OF_SQL = """
SELECT COALESCE(i.slug, fu.slug, fg.slug) AS item, l.kind, l.unit, i.display_unit,
       CAST(i.g_per_ml AS FLOAT) / 1e15 AS g_per_ml,
       CAST(SUM(s.held) AS FLOAT) / 1e9 AS on_hand,
       CAST(COALESCE(SUM(CASE WHEN l.unit_cost IS NOT NULL THEN s.value END), 0)
            AS FLOAT) / 1e10 AS value,
       CAST(SUM(CASE WHEN l.unit_cost IS NOT NULL THEN 0 ELSE s.held END) AS FLOAT) / 1e9
            AS uncosted,
       COUNT(*) AS lots
FROM lots l
JOIN (SELECT lot_id, SUM(quantity) AS held, SUM(cost) AS value FROM movements
      WHERE posted_on <= ?
      GROUP BY lot_id) s ON s.lot_id = l.id
LEFT JOIN ingredients i ON i.id = l.ingredient_id
LEFT JOIN finished_units fu ON fu.id = l.finished_unit_id
LEFT JOIN finished_goods fg ON fg.id = l.finished_good_id
WHERE s.held > 0
GROUP BY COALESCE(i.slug, fu.slug, fg.slug), l.kind, l.unit, i.display_unit, i.g_per_ml
ORDER BY COALESCE(i.slug, fu.slug, fg.slug), l.unit
"""


def stdlib_levels(path: str) -> pd.DataFrame:
    """The baseline: the aggregate in one sqlite3 query, fetchall, a DataFrame."""
    con = sqlite3.connect(path)
    try:
        cursor = con.execute(LEVELS_AS_OF_SQL, (AS_OF.isoformat(),))
        return pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    finally:
        con.close()


def run(ctx: Context) -> CaseResult:
    url = lots_database(ctx)
    path = url.split("///", 1)[1]
    con = sqlite3.connect(path)
    ledger_rows = con.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
    con.close()
    bakery = bakekit.open(url)
    try:
        def ours() -> pd.DataFrame:
            with bakery.session() as ws:
                return ws.inventory.levels(as_of=AS_OF)

        ours()  # warm-up: imports, statement cache
        t_ours, t_base, frame, base = race(ours, lambda: stdlib_levels(path), ctx.repeats)
    finally:
        bakery.dispose()
    # the same stock: our rows merge an item's lot units into one, so compare the lots
    assert int(frame["lots"].sum()) == int(base["lots"].sum()), (frame["lots"].sum(),
                                                                 base["lots"].sum())
    return CaseResult(f"levels(as_of=...) over {ledger_rows:,} ledger rows (SQLite)", t_ours,
                      t_base, "s", 1.5, GOAL, len(frame),
                      "baseline: the same aggregate (ledger sums per lot up to the date, "
                      "then per item and unit) in one sqlite3 query + pd.DataFrame")

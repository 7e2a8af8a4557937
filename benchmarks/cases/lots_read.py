"""Read every lot into a DataFrame: ``ws.inventory.lots()`` against stdlib sqlite3."""

from __future__ import annotations

import sqlite3

import pandas as pd

from benchmarks.cases._lots import LOTS_SQL_SQLITE, lots_database, race_lots
from benchmarks.common import CaseResult, Context

GOAL = "<= 1.25x"


def stdlib_lots(path: str) -> pd.DataFrame:
    """The baseline: one cursor, fetchall, a DataFrame of the same columns and dtypes."""
    con = sqlite3.connect(path)
    try:
        cursor = con.execute(LOTS_SQL_SQLITE)
        frame = pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    finally:
        con.close()
    frame["purchased_on"] = pd.to_datetime(frame["purchased_on"], format="%Y-%m-%d")
    return frame


def run(ctx: Context) -> CaseResult:
    url = lots_database(ctx)
    path = url.split("///", 1)[1]
    t_ours, t_base, frame = race_lots(ctx, url, lambda: stdlib_lots(path))
    return CaseResult(f"read {len(frame):,} lots to a DataFrame (SQLite)", t_ours, t_base,
                      "s", 1.25, GOAL, len(frame),
                      "baseline: sqlite3 fetchall + pd.DataFrame + pd.to_datetime of the date")

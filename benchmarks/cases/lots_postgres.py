"""Read every lot on PostgreSQL: ``ws.inventory.lots()`` against ADBC ``fetch_df``."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import make_url

from benchmarks.cases._lots import LOTS_SQL, lots_database, race_lots
from benchmarks.common import CaseResult, Context

GOAL = "<= 1.5x"


def adbc_lots(url: str) -> pd.DataFrame:
    """The baseline: the same SELECT through adbc-driver-postgresql, ``fetch_df``."""
    import adbc_driver_postgresql.dbapi as adbc

    uri = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc.connect(uri) as con, con.cursor() as cur:
        cur.execute(LOTS_SQL)
        return cur.fetch_df()


def run(ctx: Context) -> CaseResult:
    url = lots_database(ctx, postgresql=True)
    t_ours, t_base, frame = race_lots(ctx, url, lambda: adbc_lots(url))
    return CaseResult(f"read {len(frame):,} lots to a DataFrame (PostgreSQL)", t_ours, t_base,
                      "s", 1.5, GOAL, len(frame), "baseline: ADBC cursor.fetch_df()")

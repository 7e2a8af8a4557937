"""The lots SELECT written by hand for the baselines (the same rows, columns and order as
``ws.inventory.lots()``), and the size of the lots cases."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

import bakekit
from benchmarks.common import Context, race

#: (format with ``q`` and ``m``: how a stored quantity and money become numbers: "" on
#: PostgreSQL, " / 1e9" and " / 1e10" on SQLite, which stores them as scaled integers)
_LOTS_SQL = """
SELECT l.id AS lot_id, COALESCE(i.slug, fu.slug, fg.slug) AS item, l.kind,
       p.slug AS product, l.acquired_on AS purchased_on,
       CAST(l.quantity AS FLOAT){q} AS quantity, CAST(l.remaining AS FLOAT){q} AS remaining,
       l.unit, CAST(l.unit_cost AS FLOAT){m} AS unit_cost,
       CAST(l.remaining AS FLOAT){q} * CAST(l.unit_cost AS FLOAT){m} AS value,
       l.location, l.run_id
FROM lots l
LEFT JOIN ingredients i ON i.id = l.ingredient_id
LEFT JOIN finished_units fu ON fu.id = l.finished_unit_id
LEFT JOIN finished_goods fg ON fg.id = l.finished_good_id
LEFT JOIN products p ON p.id = l.product_id
WHERE l.remaining > 0
ORDER BY COALESCE(i.slug, fu.slug, fg.slug), l.acquired_on, l.id
"""
LOTS_SQL = _LOTS_SQL.format(q="", m="")
LOTS_SQL_SQLITE = _LOTS_SQL.format(q=" / 1e9", m=" / 1e10")

FULL_LOTS = 1_000_000
QUICK_LOTS = 2_000


def lots_database(ctx: Context, *, postgresql: bool = False) -> str:
    """The seeded database of the lots cases (1,000,000 lots over 200 ingredients)."""
    return ctx.database("lots", postgresql=postgresql,
                        n_lots=ctx.size(FULL_LOTS, QUICK_LOTS))


def race_lots(ctx: Context, url: str, baseline: Callable[[], pd.DataFrame],
              repeats: int | None = None) -> tuple[float, float, pd.DataFrame]:
    """Time ``ws.inventory.lots()`` (on a warmed-up bakery) against a baseline read of the
    same lots; both must return every lot. Returns (ours, baseline) seconds and our frame."""
    bakery = bakekit.open(url)
    try:
        def ours() -> pd.DataFrame:
            with bakery.session() as ws:
                return ws.inventory.lots()

        with bakery.session() as ws:  # warm-up: imports, statement cache
            ws.inventory.lots("no-such-item")

        t_ours, t_base, frame, base = race(ours, baseline, repeats or ctx.repeats)
    finally:
        bakery.dispose()
    assert len(frame) == len(base), (len(frame), len(base))
    return t_ours, t_base, frame

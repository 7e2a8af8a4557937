"""Read every lot: ``ws.inventory.lots()`` against ORM objects turned into dicts."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from benchmarks.cases._lots import lots_database, race_lots
from benchmarks.common import CaseResult, Context

GOAL = ">= 8x faster (ratio <= 0.125)"


def orm_lots(url: str) -> pd.DataFrame:
    """The ORM-object way: ``session.scalars(select(Lot))``, a dict per object."""
    from bakekit.db.models.catalog import Ingredient, Product
    from bakekit.db.models.inventory import Lot

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            slugs = {i.id: i.slug for i in session.scalars(select(Ingredient))}
            products = {p.id: p.slug for p in session.scalars(select(Product))}
            lots = session.scalars(
                select(Lot).join(Ingredient, Ingredient.id == Lot.ingredient_id)
                .where(Lot.remaining > 0)
                .order_by(Ingredient.slug, Lot.acquired_on, Lot.id))
            rows = [{"lot_id": lot.id, "item": slugs[lot.ingredient_id], "kind": lot.kind,
                     "product": products.get(lot.product_id),
                     "purchased_on": lot.acquired_on, "quantity": float(lot.quantity),
                     "remaining": float(lot.remaining), "unit": lot.unit,
                     "unit_cost": None if lot.unit_cost is None else float(lot.unit_cost),
                     "value": None if lot.unit_cost is None
                     else float(lot.remaining * lot.unit_cost),
                     "location": lot.location, "run_id": lot.run_id} for lot in lots]
    finally:
        engine.dispose()
    frame = pd.DataFrame(rows)
    frame["purchased_on"] = pd.to_datetime(frame["purchased_on"])
    return frame


def run(ctx: Context) -> CaseResult:
    url = lots_database(ctx)
    t_ours, t_base, frame = race_lots(ctx, url, lambda: orm_lots(url), min(ctx.repeats, 2))
    return CaseResult(f"read {len(frame):,} lots, against ORM objects (SQLite)", t_ours,
                      t_base, "s", 0.125, GOAL, len(frame),
                      "baseline: session.scalars(select(Lot)) + a dict per object; "
                      "ingredient kind only (the data has no other)")

"""A seeded bakery with a 12-ingredient nested recipe (6 ingredients of its own, 6 in a
half-batch component), every ingredient stocked with many lots, built through the API."""

from __future__ import annotations

import datetime as dt
import random

import bakekit
from benchmarks.common import Context

INGREDIENTS = [f"ing-{k:02d}" for k in range(12)]
LOT_GRAMS = 1000


def recipe_database(ctx: Context, *, lots_per_ingredient: int,
                    postgresql: bool = False) -> str:
    """The URL of the recipe bakery: a SQLite file built once per run, or (``postgresql``)
    the run's PostgreSQL database, emptied and built again for this case."""
    name = f"recipe-{lots_per_ingredient}"
    if postgresql:
        # empties every table (the server database is shared by the PostgreSQL cases)
        url = ctx.database(name, postgresql=True, n_lots=0, n_ingredients=0)
    elif name in ctx._built:
        return ctx._built[name]
    else:
        url = str(ctx.workdir / f"{name}.db")
    rng = random.Random(ctx.seed)
    bakery = bakekit.open(url)
    try:
        with bakery.session() as ws:
            for slug in INGREDIENTS:
                ws.catalog.add_ingredient(slug, slug.title())
                ws.catalog.add_product(f"{slug}-1kg", slug, name=f"{slug} 1 kg",
                                       package_quantity=LOT_GRAMS, package_unit="g")
                for n in range(lots_per_ingredient):
                    ws.inventory.purchase(
                        f"{slug}-1kg", unit_cost=round(rng.uniform(1, 20), 2),
                        purchased_on=dt.date(2025, 1, 1) + dt.timedelta(days=n % 300))
            ws.recipes.add("base", "Base", ingredients=[(s, 20, "g") for s in INGREDIENTS[6:]])
            ws.recipes.add("cookie", "Cookies",
                           ingredients=[(s, 15, "g") for s in INGREDIENTS[:6]],
                           components=[("base", 0.5)],
                           finished_units=[("cookie", "Cookie", 24, "each")])
            ws.commit()
    finally:
        bakery.dispose()
    if not postgresql:
        ctx._built[name] = bakery.url
    return bakery.url

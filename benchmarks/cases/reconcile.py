"""Reconcile and apply a 100,000-row purchases CSV (``ws.io.reconcile(...).apply()``) against
``pd.read_csv`` plus plain executemany inserts of the same rows, in one transaction."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import uuid
from pathlib import Path

import pandas as pd

import bakekit
from benchmarks.common import CaseResult, Context, race

GOAL = "<= 3x"
N_INGREDIENTS = 200  # two products each (benchmarks.data.catalog_rows)
START = dt.date(2020, 1, 1)


def purchases_csv(ctx: Context, rows: int) -> Path:
    """A seeded purchases file (product, packages, unit_cost, purchased_on, location) whose
    rows are all new to the catalog database: a purchase of a product, day and count once."""
    path = ctx.workdir / f"purchases-{rows}.csv"
    if path.exists():
        return path
    rng = random.Random(ctx.seed)
    seen: set[tuple[str, str, int]] = set()
    out: list[dict[str, object]] = []
    while len(out) < rows:
        product = f"product-{rng.randrange(1, N_INGREDIENTS + 1):04d}-{rng.choice((1, 2))}"
        on = (START + dt.timedelta(days=rng.randrange(2000))).isoformat()
        packages = rng.randrange(1, 6)
        if (product, on, packages) in seen:
            continue
        seen.add((product, on, packages))
        out.append({"product": product, "packages": packages,
                    "unit_cost": f"{rng.uniform(0.5, 60):.2f}", "purchased_on": on,
                    "location": rng.choice(("pantry", "fridge", "freezer", ""))})
    pd.DataFrame(out).to_csv(path, index=False)
    return path


def executemany_purchases(path: str, csv: Path) -> int:
    """The baseline: ``pd.read_csv``, one SELECT of the products, then one executemany each
    for the purchases, their lots and the lots' ledger rows, in one transaction (rolled back
    like ours, so every round starts from the same database). Returns the rows written."""
    frame = pd.read_csv(csv, keep_default_na=False)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys = ON")  # the same constraints checked as ours
        con.execute("BEGIN IMMEDIATE")
        products = {slug: (pid, ingredient, size, unit) for pid, slug, ingredient, size, unit
                    in con.execute("SELECT id, slug, ingredient_id, package_quantity, "
                                   "package_unit FROM products")}
        first = {t: con.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0] + 1
                 for t in ("purchases", "lots", "movements")}
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
        purchases, lots, moves = [], [], []
        for n, (slug, packages, cost, on, location) in enumerate(zip(
                frame["product"], frame["packages"], frame["unit_cost"], frame["purchased_on"],
                frame["location"], strict=True)):
            pid, ingredient, size, unit = products[slug]
            size = size / 10 ** 9  # stored as an integer of size * 10**9 (bakekit.db.exact)
            quantity = round(packages * size * 10 ** 9)
            location = location or None
            purchases.append((first["purchases"] + n, str(uuid.uuid4()), pid, on,
                              round(packages * 10 ** 9), round(cost * 10 ** 10), location, now))
            lots.append((first["lots"] + n, str(uuid.uuid4()), "ingredient", ingredient, pid,
                         first["purchases"] + n, on, quantity, quantity, unit,
                         round(cost / size * 10 ** 10), location, now))
            moves.append((first["movements"] + n, str(uuid.uuid4()), first["lots"] + n,
                          "purchase", quantity, round(packages * cost * 10 ** 10), on, now))
        con.executemany("INSERT INTO purchases (id, uuid, product_id, purchased_on, packages, "
                        "unit_cost, location, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        purchases)
        con.executemany("INSERT INTO lots (id, uuid, kind, ingredient_id, product_id, "
                        "purchase_id, acquired_on, quantity, remaining, unit, unit_cost, "
                        "location, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        lots)
        con.executemany("INSERT INTO movements (id, uuid, lot_id, reason, quantity, cost, "
                        "posted_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", moves)
        con.rollback()
    finally:
        con.close()
    return len(purchases)


def run(ctx: Context) -> CaseResult:
    rows = ctx.size(100_000, 500)
    url = ctx.database("reconcile", n_lots=0, n_ingredients=N_INGREDIENTS)
    path = url.split("///", 1)[1]
    csv = purchases_csv(ctx, rows)
    bakery = bakekit.open(url)
    created: list[int] = []

    def ours() -> pd.DataFrame:
        with bakery.session() as ws:
            review = ws.io.reconcile(csv, kind="purchases")
            created.append(review.apply().counts("purchases")["created"])
            ws.rollback()
        return review.frame

    try:
        with bakery.session() as ws:  # warm-up: imports, statement compilation
            ws.io.reconcile(pd.read_csv(csv, nrows=20), kind="purchases").apply()
            ws.rollback()
        t_ours, t_base, frame, written = race(ours, lambda: executemany_purchases(path, csv),
                                              min(ctx.repeats, 3))
    finally:
        bakery.dispose()
    assert (frame["status"] == "new").all(), frame["status"].value_counts()
    assert set(created) == {rows} and written == rows, (created, written)
    return CaseResult(f"reconcile and apply {rows:,} purchases from CSV (SQLite)", t_ours,
                      t_base, "s", 3.0, GOAL, rows,
                      "baseline: pd.read_csv + one executemany each for purchases, lots and "
                      "ledger rows (ids and uuids made in Python), one transaction; both "
                      "sides roll back so each round starts alike")

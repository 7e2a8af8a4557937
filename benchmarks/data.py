"""Seeded data for the benchmarks: catalogs with many lots, inserted directly (data setup).

Lots and the ledger stay consistent: every lot has a ``load`` movement of its quantity
(posted on the lot's date) and, when partly used, a ``consume`` movement (posted up to
120 days later), so remaining always equals the sum of its movements.
``python -m benchmarks.data --quick`` builds the small SQLite files in a folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

import bakekit
from bakekit.db.models import metadata

SEED = 20261126
UNITS = ("g", "oz", "lb", "kg", "cup", "each")
LOCATIONS = ("pantry", "fridge", "freezer", None)
START = dt.date(2015, 1, 1)
NOW = dt.datetime(2026, 11, 1, 12, 0, 0)

LOT_COLUMNS = ("id", "uuid", "kind", "ingredient_id", "finished_unit_id", "finished_good_id",
               "product_id", "purchase_id", "run_id", "acquired_on", "quantity", "remaining",
               "unit", "unit_cost", "location", "created_at")
MOVEMENT_COLUMNS = ("id", "uuid", "lot_id", "run_id", "reason", "quantity", "cost",
                    "posted_on", "created_at")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def catalog_rows(n_ingredients: int, rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    """Ingredients and products (two per ingredient): (id, slug, name, ...) tuples."""
    ingredients = [(i, f"ingredient-{i:04d}", f"Ingredient {i}", "baking", False)
                   for i in range(1, n_ingredients + 1)]
    products = []
    for i in range(1, n_ingredients + 1):
        for k in (1, 2):
            pid = 2 * (i - 1) + k
            unit = rng.choice(UNITS)
            products.append((pid, f"product-{i:04d}-{k}", i, f"Brand {k}", f"Product {pid}",
                             float(rng.choice((1, 2, 5, 10, 25))), unit, False))
    return ingredients, products


def lot_rows(n_lots: int, ingredient_ids: list[int], rng: random.Random, *,
             first_lot: int = 1, first_movement: int = 1, partly_used: float = 0.3,
             grams: float | None = None) -> Iterator[tuple[tuple, list[tuple]]]:
    """(lot row, its movement rows) for ``n_lots`` non-empty ingredient lots; with ``grams``
    every lot holds that many grams, unused (for FIFO cases)."""
    movement_id = first_movement
    created = NOW.isoformat(sep=" ")
    for n in range(n_lots):
        lot_id = first_lot + n
        ingredient = ingredient_ids[n % len(ingredient_ids)]
        product = 2 * (ingredient - 1) + 1 + (n // len(ingredient_ids)) % 2
        on = START + dt.timedelta(days=rng.randrange(4000))
        quantity = grams or float(rng.randrange(1, 500))
        remaining = quantity
        costed = rng.random() > 0.05
        unit_cost = round(rng.uniform(0.01, 9.0), 4) if costed else None
        moves = [(movement_id, _uuid(rng), lot_id, None, "load", quantity,
                  None if unit_cost is None else round(quantity * unit_cost, 4),
                  on.isoformat(), created)]
        movement_id += 1
        if grams is None and rng.random() < partly_used:
            used = float(rng.randrange(1, int(quantity))) if quantity > 1 else 0.0
            if used:
                remaining = quantity - used
                used_on = on + dt.timedelta(days=rng.randrange(1, 120))
                moves.append((movement_id, _uuid(rng), lot_id, None, "consume", -used,
                              None if unit_cost is None else -round(used * unit_cost, 4),
                              used_on.isoformat(), created))
                movement_id += 1
        lot = (lot_id, _uuid(rng), "ingredient", ingredient, None, None, product, None, None,
               on.isoformat(), quantity, remaining,
               "g" if grams else UNITS[product % len(UNITS)], unit_cost,
               rng.choice(LOCATIONS), created)
        yield lot, moves


#: SQLite keeps exact numbers as integers of value * 10**places (bakekit.db.exact.Exact):
#: per table, each number column's position in the rows above and its places
_SCALED = {"products": {5: 9}, "lots": {10: 9, 11: 9, 13: 10}, "movements": {5: 9, 6: 10}}


def _stored(table: str, row: tuple) -> tuple:
    """A row as SQLite stores it: its numbers as scaled integers (the seeded values have
    at most 4 places, so rounding the scaled float is exact)."""
    places = _SCALED[table]
    return tuple(v if v is None or i not in places else round(v * 10 ** places[i])
                 for i, v in enumerate(row))


def _write_sqlite(path: Path, ingredients: list[tuple], products: list[tuple],
                  lots: Iterator[tuple[tuple, list[tuple]]]) -> None:
    products = [_stored("products", p) for p in products]
    lots = ((_stored("lots", lot), [_stored("movements", m) for m in moves])
            for lot, moves in lots)
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("BEGIN")
        con.executemany("INSERT INTO ingredients (id, slug, name, category, is_packaging) "
                        "VALUES (?, ?, ?, ?, ?)", ingredients)
        con.executemany("INSERT INTO products (id, slug, ingredient_id, brand, name, "
                        "package_quantity, package_unit, preferred) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", products)
        lot_sql = (f"INSERT INTO lots ({', '.join(LOT_COLUMNS)}) "
                   f"VALUES ({', '.join('?' * len(LOT_COLUMNS))})")
        move_sql = (f"INSERT INTO movements ({', '.join(MOVEMENT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(MOVEMENT_COLUMNS))})")
        batch_lots: list[tuple] = []
        batch_moves: list[tuple] = []
        for lot, moves in lots:
            batch_lots.append(lot)
            batch_moves.extend(moves)
            if len(batch_lots) >= 50_000:
                con.executemany(lot_sql, batch_lots)
                con.executemany(move_sql, batch_moves)
                batch_lots, batch_moves = [], []
        con.executemany(lot_sql, batch_lots)
        con.executemany(move_sql, batch_moves)
        con.commit()
        con.execute("ANALYZE")
    finally:
        con.close()


def _write_postgresql(url: str, ingredients: list[tuple], products: list[tuple],
                      lots: Iterator[tuple[tuple, list[tuple]]]) -> None:
    import psycopg

    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    engine.dispose()
    with psycopg.connect(dsn) as con, con.cursor() as cur:
        cur.executemany("INSERT INTO ingredients (id, slug, name, category, is_packaging) "
                        "VALUES (%s, %s, %s, %s, %s)", ingredients)
        cur.executemany("INSERT INTO products (id, slug, ingredient_id, brand, name, "
                        "package_quantity, package_unit, preferred) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", products)
        moves: list[tuple] = []
        with cur.copy(f"COPY lots ({', '.join(LOT_COLUMNS)}) FROM STDIN") as copy:
            for lot, lot_moves in lots:
                copy.write_row(lot)
                moves.extend(lot_moves)
        with cur.copy(f"COPY movements ({', '.join(MOVEMENT_COLUMNS)}) FROM STDIN") as copy:
            for row in moves:
                copy.write_row(row)
        for name, column in (("ingredients", "id"), ("products", "id"), ("lots", "id"),
                             ("movements", "id")):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                        f"(SELECT max({column}) FROM {name}))")
        cur.execute("ANALYZE")


def build(url: str, *, n_lots: int, n_ingredients: int = 200, seed: int = SEED,
          extra: dict[str, int] | None = None) -> str:
    """A migrated database at ``url`` (SQLite path or PostgreSQL URL) holding ``n_lots`` lots
    spread over ``n_ingredients`` ingredients, plus ``extra`` ingredients (slug -> lot count)
    whose lots are all theirs, each of 1000 g unused. Returns the bakekit URL."""
    rng = random.Random(seed)
    bakery = bakekit.open(url)
    full_url = bakery.url
    bakery.dispose()
    extra = extra or {}
    ingredients, products = catalog_rows(n_ingredients + len(extra), rng)
    extra_ids = list(range(n_ingredients + 1, n_ingredients + len(extra) + 1))
    for (slug, _), iid in zip(extra.items(), extra_ids, strict=True):
        ingredients[iid - 1] = (iid, slug, slug.title(), "baking", False)

    def all_lots() -> Iterator[tuple[tuple, list[tuple]]]:
        lot, move = 1, 1
        batches: list[tuple[int, list[int], float | None]] = []
        if n_lots:
            batches.append((n_lots, list(range(1, n_ingredients + 1)), None))
        batches += [(count, [iid], 1000.0) for count, iid in zip(extra.values(), extra_ids,
                                                                 strict=True)]
        for count, ids, grams in batches:
            for row, moves in lot_rows(count, ids, rng, first_lot=lot, first_movement=move,
                                       grams=grams):
                yield row, moves
                lot += 1
                move += len(moves)

    if full_url.startswith("sqlite"):
        _write_sqlite(Path(full_url.split("///", 1)[1]), ingredients, products, all_lots())
    else:
        _write_postgresql(full_url, ingredients, products, all_lots())
    return full_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the SQLite files")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="bakekit-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    n = 2_000 if args.quick else 1_000_000
    print(build(str(out / "lots.db"), n_lots=n))


if __name__ == "__main__":
    main()

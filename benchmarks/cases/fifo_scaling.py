"""FIFO scaling: ``consume`` taking the 3 oldest lots of an ingredient with 100,000 lots,
against the same with 10 lots (each consumption in its own workspace, rolled back)."""

from __future__ import annotations

import bakekit
from benchmarks.common import CaseResult, Context, race

GOAL = "<= 1.5x"
LOT_GRAMS = 1000  # every lot of these ingredients holds 1000 g
TAKE_GRAMS = 2500  # so a consumption takes 1000 + 1000 + 500 g: three lots


def run(ctx: Context) -> CaseResult:
    many = ctx.size(100_000, 500)
    url = ctx.database("fifo", n_lots=0, n_ingredients=0,
                       extra={"fifo-many": many, "fifo-few": 10})
    calls = ctx.size(50, 3)
    bakery = bakekit.open(url)
    taken: list[int] = []

    def consume(slug: str) -> None:
        for _ in range(calls):
            with bakery.session() as ws:
                result = ws.inventory.consume(slug, TAKE_GRAMS, "g", reason="benchmark")
                taken.append(len(result.consumed))
                ws.rollback()

    try:
        consume("fifo-many")  # warm-up: caches, statement compilation
        taken.clear()
        t_many, t_few, _, _ = race(lambda: consume("fifo-many"), lambda: consume("fifo-few"),
                                   ctx.repeats)
    finally:
        bakery.dispose()
    assert set(taken) == {3}, set(taken)
    return CaseResult(f"consume 3 oldest of {many:,} lots vs of 10 lots (SQLite)",
                      t_many / calls * 1000, t_few / calls * 1000, "ms/call", 1.5, GOAL,
                      len(taken), "each call: open workspace, consume, roll back")

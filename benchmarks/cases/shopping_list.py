"""Shopping list scaling: ``events.shopping_list`` for an event with 1,000 recipients x 3
packages against the same for 10 recipients: time and statement count."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event

import bakekit
from benchmarks.cases._recipe import recipe_database
from benchmarks.common import CaseResult, Context, race

GOAL = "<= 3x, same statement count"
PACKAGES = {"pkg-a": [("tin", 1)], "pkg-b": [("bag", 2)], "pkg-c": [("tin", 1), ("bag", 1)]}


def _event_database(ctx: Context, recipients: int) -> str:
    url = recipe_database(ctx, lots_per_ingredient=ctx.size(50, 5))
    key = f"events-{recipients}"
    if key in ctx._built:
        return url
    bakery = bakekit.open(url)
    try:
        with bakery.session() as ws:
            ws.assembly.add_finished_good("tin", "Cookie tin", components=[("cookie", 12)])
            ws.assembly.add_finished_good("bag", "Cookie bag", components=[("cookie", 6)])
            for slug, contents in PACKAGES.items():
                ws.events.add_package(slug, slug.upper(), contents=contents)
            ws.events.create("big", dt.date(2026, 12, 20))
            ws.events.create("small", dt.date(2026, 12, 21))
            for n in range(recipients):
                ws.events.add_recipient(f"recipient-{n:04d}")
                for package in PACKAGES:
                    ws.events.assign("big", f"recipient-{n:04d}", package)
                    if n < 10:
                        ws.events.assign("small", f"recipient-{n:04d}", package)
            ws.commit()
    finally:
        bakery.dispose()
    ctx._built[key] = url
    return url


def run(ctx: Context) -> CaseResult:
    recipients = ctx.size(1_000, 20)
    url = _event_database(ctx, recipients)
    bakery = bakekit.open(url)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    def shopping(name: str):  # noqa: ANN202
        with bakery.session() as ws:
            return ws.events.shopping_list(name)

    try:
        shopping("small")  # warm-up
        counts = {}
        event.listen(bakery.engine, "before_cursor_execute", count)
        try:
            for name in ("big", "small"):
                statements.clear()
                shopping(name)
                counts[name] = len(statements)
        finally:
            event.remove(bakery.engine, "before_cursor_execute", count)
        t_big, t_small, frame, _ = race(lambda: shopping("big"), lambda: shopping("small"),
                                        ctx.repeats)
    finally:
        bakery.dispose()
    assert len(frame) > 0
    return CaseResult(f"shopping_list: {recipients:,} recipients x 3 packages vs 10 (SQLite)",
                      t_big * 1000, t_small * 1000, "ms", 3.0, GOAL, len(frame),
                      f"statements: {counts['big']} (big) vs {counts['small']} (small)",
                      also_met=counts["big"] == counts["small"])

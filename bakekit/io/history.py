"""History import: production and assembly runs made elsewhere, recorded as imported runs
(they move no stock); duplicates are found by natural key (item, produced_at, quantity)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bakekit.io._sync import Checker, Problems, Tally, existing
from bakekit.io.bake_tracker import write_runs
from bakekit.io.tabular import _records, read_source, require_columns
from bakekit.results import ImportReport
from bakekit.units import each_per, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

#: the columns a history source must have (each with the names accepted for it)
REQUIRED_COLUMNS = {"item": ("item", "finished_unit", "finished_good"),
                    "quantity": ("quantity",), "produced_at": ("produced_at", "date")}


def import_history(ws: Workspace, source: str | Path | pd.DataFrame) -> ImportReport:
    """Import runs from a CSV/JSON/Excel path or a DataFrame (see IO.import_history)."""
    data = read_source(source)
    require_columns(data, "import_history", REQUIRED_COLUMNS)
    units = existing(ws, "finished_units", ["slug"])
    goods = existing(ws, "finished_goods", ["slug"])
    events = {s: int(r.id) for s, r in existing(ws, "events", ["name"]).items()}
    problems, tally = Problems(), Tally()
    runs: list[dict[str, Any]] = []
    for n, rec in enumerate(_records(data), start=1):
        c = Checker(problems, "runs", n)
        item = c.text(rec, "item", required=True,
                      alternatives=("finished_unit", "finished_good"))
        kind = c.text(rec, "kind") or ("assembly" if item in goods and item not in units
                                       else "production")
        quantity = c.number(rec, "quantity", required=True, positive=True)
        batches = c.number(rec, "batches", positive=True)
        at = c.datetime(rec, "produced_at", required=True, alternatives=("date",))
        total = c.number(rec, "total_cost", non_negative=True)
        event = c.text(rec, "event")
        if kind not in ("production", "assembly"):
            c.fail("kind", kind, "must be production or assembly")
        elif item is not None and item not in (units if kind == "production" else goods):
            what = "finished unit" if kind == "production" else "finished good"
            c.fail("item", item, f"unknown {what}")
        if event is not None and event not in events:
            c.fail("event", event, "unknown event")
        if not c.ok:
            continue
        # the checker fails a row whose required value is missing, so these are present
        assert quantity is not None and at is not None
        unit = units.get(item) if kind == "production" else None
        if unit is not None and batches is None:
            batches = q(Fraction(quantity) / (Fraction(Decimal(unit.items_per_batch))
                                              * each_per(unit.item_unit)))
        runs.append({"_entity": "runs", "kind": kind,
                     "finished_unit_id": int(unit.id) if unit is not None else None,
                     "finished_good_id": int(goods[item].id) if kind == "assembly" else None,
                     "recipe_id": int(unit.recipe_id) if unit is not None else None,
                     "batches": batches, "expected_quantity": quantity, "quantity": quantity,
                     "loss": Decimal(0), "total_cost": total, "event": event,
                     "produced_at": at, "notes": c.text(rec, "notes")})
    tally.add("runs", "read", len(data))
    problems.raise_if_any("import_history")
    before = dict(tally.entity("runs"))
    write_runs(ws, runs, tally, events)
    dupes = tally.counts["runs"]["unchanged"] - before["unchanged"]
    if dupes:
        tally.reason("runs", f"{dupes} already recorded (same item, produced_at and "
                             "quantity): not inserted")
    return tally.report(unknown={}, source=str(source) if not isinstance(
        source, pd.DataFrame) else "<frame>", version=None)

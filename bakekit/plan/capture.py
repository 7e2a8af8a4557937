"""A what-if's ledger rows, recorded as they are written: the INSERT of the rows also
returns what the plan would otherwise read back as the block ends, so a plan whose rows
were all recorded here runs no statement of its own.

A what-if workspace installs ``insert_ledger`` as its recording's ledger writer
(``OperationLog.capture``); ``stock.ledger`` hands it the rows whose items it knows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, cast, column, func, insert, select

from bakekit.db import tables
from bakekit.recording import WrittenMovement
from bakekit.stock.items import KINDS, Item
from bakekit.stock.queries import has_stock

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace


@functools.cache
def captured_insert() -> Any:
    """INSERT INTO movements ... RETURNING, in the rows' order: the id; the quantity and
    cost as the database keeps them (as floats, as a plan's rows read them back: no
    rounding of our own, on either backend); the stock on hand of each row's item in its
    lot's unit (lots with something left; one correlated sum per kind of item, each able
    to use that kind's partial FIFO index); and the database's identity (built once).

    The sums read two derived tables with their own column names and name the inserted
    row's ``lot_id`` bare: SQLite renders RETURNING without table names, and a derived
    table keeps every name in the subqueries unambiguous."""
    m, lots, ident = tables.movements, tables.lots, tables.bakery_identity
    columns = [k.column for k in KINDS.values()]
    held = (select(*(lots.c[c].label(f"held_{c}") for c in columns),
                   lots.c.unit.label("held_unit"), lots.c.remaining.label("held_remaining"))
            .where(has_stock()).subquery("held"))
    lot = select(lots.c.id.label("lot_key"), *(lots.c[c].label(f"lot_{c}") for c in columns),
                 lots.c.unit.label("lot_unit")).subquery("lot")
    per_kind = [select(cast(func.sum(held.c.held_remaining), Float))
                .where(lot.c.lot_key == column(m.c.lot_id.name),
                       held.c[f"held_{c}"] == lot.c[f"lot_{c}"],
                       held.c.held_unit == lot.c.lot_unit).scalar_subquery()
                for c in columns]
    identity = select(ident.c.database_id).where(ident.c.id == 1).scalar_subquery()
    return insert(m).returning(m.c.id, cast(m.c.quantity, Float), cast(m.c.cost, Float),
                               func.coalesce(*per_kind), identity,
                               sort_by_parameter_order=True)


def insert_ledger(ws: Workspace, params: Sequence[dict[str, Any]],
                  items: Sequence[tuple[Item, str]]) -> list[int]:
    """Insert ledger rows (``stock.ledger``'s parameters) in one statement and record
    each as written (``WrittenMovement``: its lot, item and unit as stored, quantity,
    cost, the stock it leaves, the database id); their ids, in order.

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> from bakekit.db.models.base import new_uuid, utcnow
    >>> flour = stock.resolve_item(ws, "ingredient", "flour-ap")
    >>> row = {"uuid": new_uuid(), "lot_id": 1, "run_id": None, "reason": "spoiled",
    ...        "quantity": Decimal(-2), "cost": Decimal("-2.6"),
    ...        "posted_on": dt.date(2025, 11, 3), "created_at": utcnow()}
    >>> insert_ledger(ws, [row], [(flour, "lb")])
    [28]
    """
    returned = ws.execute(captured_insert(), list(params)).all()
    ids = [int(r[0]) for r in returned]
    ws.recording.note_movements(ids, [
        WrittenMovement(p["lot_id"], item.slug, item.kind, item.id, unit, p["reason"],
                        quantity, cost, on_hand, None if here is None else str(here))
        for p, (item, unit), (_, quantity, cost, on_hand, here)
        in zip(params, items, returned, strict=True)])
    return ids

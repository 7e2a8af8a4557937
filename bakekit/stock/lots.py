"""Every write of a lot: create lots (with their first ledger rows), set what remains,
fill costs, write a FIFO walk's takes (``write_take``: a consumption, or a run's takes
and the lot it makes), and the ledger rows themselves; all set-based (one statement per
job however many lots). Nothing else in bakekit writes the ``lots`` or ``movements``
table (a what-if's ledger INSERT is ``plan.capture``'s, handed in by the workspace)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, update

from bakekit.checks import as_date
from bakekit.db import tables
from bakekit.db.models.base import new_uuid, utcnow
from bakekit.stock.items import KINDS, Item
from bakekit.units import money, normalize_unit

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace
    from bakekit.stock.fifo import Allocation

#: a ledger row: (lot id, signed quantity in the lot's unit, signed cost or None)
LedgerRow = tuple[int, Decimal, Decimal | None]


@dataclass(frozen=True)
class NewLot:
    """A lot to create and its first ledger row (``reason``, dated ``acquired_on``, cost
    ``ledger_cost`` or quantity x unit cost).

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> flour = stock.resolve_item(ws, "ingredient", "flour-ap")
    >>> stock.NewLot(flour, Decimal(5), "lb", Decimal("0.48"), dt.date(2025, 11, 1),
    ...              "purchase").first_row(99)
    (99, Decimal('5'), Decimal('2.4000000000'))
    """

    item: Item
    quantity: Decimal
    unit: str
    unit_cost: Decimal | None
    acquired_on: dt.date
    reason: str
    product_id: int | None = None
    purchase_id: int | None = None
    run_id: int | None = None
    location: str | None = None
    ledger_cost: Decimal | None = None

    def values(self, now: dt.datetime) -> dict[str, Any]:
        """The lot's row (all columns, so that many lots go in one INSERT)."""
        ids: dict[str, int | None] = dict.fromkeys(k.column for k in KINDS.values())
        ids[self.item.column] = self.item.id
        return {"uuid": new_uuid(), "kind": self.item.kind, **ids,
                "product_id": self.product_id, "purchase_id": self.purchase_id,
                "run_id": self.run_id, "acquired_on": self.acquired_on,
                "quantity": self.quantity, "remaining": self.quantity,
                "unit": normalize_unit(self.unit), "unit_cost": self.unit_cost,
                "location": self.location, "created_at": now}

    def first_row(self, lot_id: int) -> LedgerRow:
        """The lot's first ledger row: its quantity at its cost."""
        cost = self.ledger_cost
        if cost is None and self.unit_cost is not None:
            cost = money(self.quantity * self.unit_cost)
        return (lot_id, self.quantity, cost)


@functools.cache
def _update_statement(column: str) -> Any:
    """UPDATE lots SET <column> = :value WHERE id = :lot (built once), for executemany."""
    lots = tables.lots
    stmt = update(lots).where(lots.c.id == bindparam("lot"))
    if column == "unit_cost":  # a cost is only ever filled in, never replaced
        stmt = stmt.where(lots.c.unit_cost.is_(None))
    return stmt.values({column: bindparam("value")})


@functools.cache
def _insert_ids(table_name: str) -> Any:
    """INSERT INTO <lots or movements> ... RETURNING id, the ids in the rows' order (the
    uuid column is the insert sentinel: one statement however many rows; built once)."""
    t = tables.by_name(table_name)
    return insert(t).returning(t.c.id, sort_by_parameter_order=True)


def _inserted(ws: Workspace, table_name: str, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows into ``lots`` or ``movements`` (one statement); their ids, in order."""
    return [int(i) for i in ws.execute(_insert_ids(table_name), list(rows)).scalars()]


def insert_lots(ws: Workspace, lots: Sequence[NewLot]) -> list[int]:
    """Insert lots WITHOUT their ledger rows (the caller writes those in its own ledger
    statement, e.g. a run's takes and its new lot together); their ids, in order.

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> flour = stock.resolve_item(ws, "ingredient", "flour-ap")
    >>> stock.insert_lots(ws, [stock.NewLot(flour, Decimal(5), "lb", None,
    ...                                     dt.date(2025, 11, 1), "purchase")])
    [19]
    """
    if not lots:
        return []
    now = utcnow()
    ids = _inserted(ws, "lots", [lot.values(now) for lot in lots])
    for lot_id in ids:
        ws.recording.note_created_lot(lot_id)
    return ids


def create_lots(ws: Workspace, lots: Sequence[NewLot], *, run_id: int | None = None
                ) -> list[int]:
    """Create lots and their first ledger rows: one INSERT for the lots and one per
    ledger reason; returns the lot ids in order. The set-based path for imports.

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> flour = stock.resolve_item(ws, "ingredient", "flour-ap")
    >>> stock.create_lots(ws, [stock.NewLot(flour, Decimal(5), "lb", Decimal("3.6"),
    ...                                     dt.date(2025, 11, 1), "purchase")])
    [19]
    """
    ids = insert_lots(ws, lots)
    reasons = dict.fromkeys(lot.reason for lot in lots)
    for reason in reasons:
        mine = [(lot, lot_id) for lot, lot_id in zip(lots, ids, strict=True)
                if lot.reason == reason]
        ledger(ws, [lot.first_row(lot_id) for lot, lot_id in mine], reason=reason,
               posted_on=[lot.acquired_on for lot, _ in mine],
               run_id=run_id if run_id is not None else mine[0][0].run_id,
               items=[(lot.item, normalize_unit(lot.unit)) for lot, _ in mine])
    return ids


def create_lot_rows(ws: Workspace, rows: Sequence[dict[str, Any]], *, reason: str,
                    costs: Sequence[Decimal | None] | None = None) -> list[int]:
    """Create lots from complete rows (an importer's, each with its own ``uuid``) and their
    first ledger rows: one INSERT each, however many lots; the lot ids, in order. A first
    row's cost is ``costs[i]`` when given, else quantity x unit cost (None if unpriced).

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> from bakekit.db.models.base import new_uuid
    >>> row = {"uuid": new_uuid(), "kind": "ingredient", "ingredient_id": 1,
    ...        "acquired_on": dt.date(2025, 11, 1), "quantity": Decimal(5),
    ...        "remaining": Decimal(5), "unit": "lb", "unit_cost": None}
    >>> stock.create_lot_rows(ws, [row], reason="import")
    [19]
    """
    if not rows:
        return []
    rows = list(rows)
    ids = _inserted(ws, "lots", rows)
    if costs is None:
        costs = [None if r.get("unit_cost") is None else money(r["quantity"] * r["unit_cost"])
                 for r in rows]
    ledger(ws, [(lot_id, r["quantity"], cost)
                for lot_id, r, cost in zip(ids, rows, costs, strict=True)],
           reason=reason, posted_on=[r["acquired_on"] for r in rows])
    for lot_id in ids:
        ws.recording.note_created_lot(lot_id)
    return ids


def new_lot(ws: Workspace, item: Item, *, quantity: Decimal, unit: str,
            unit_cost: Decimal | None, acquired_on: dt.date, reason: str,
            product_id: int | None = None, purchase_id: int | None = None,
            run_id: int | None = None, location: str | None = None,
            ledger_cost: Decimal | None = None) -> int:
    """Create a lot and its first ledger row (dated ``acquired_on``); returns the lot id.

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> flour = stock.resolve_item(ws, "ingredient", "flour-ap")
    >>> stock.new_lot(ws, flour, quantity=Decimal(5), unit="lb", unit_cost=None,
    ...               acquired_on=dt.date(2025, 11, 1), reason="purchase")
    19
    """
    return create_lots(ws, [NewLot(item, quantity, unit, unit_cost, acquired_on, reason,
                                   product_id, purchase_id, run_id, location, ledger_cost)])[0]


def set_remaining(ws: Workspace, remaining: Mapping[int, Decimal]) -> None:
    """Set what remains of lots (lot id -> quantity in the lot's unit), one statement:
    takes, restores, counts and emptied lots all go through here.

    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> stock.set_remaining(ws, {1: Decimal("2.5")})
    >>> ws.inventory.lots("flour-ap")["remaining"].tolist()
    [2.5, 25.0]
    """
    if not remaining:
        return
    ws.execute(_update_statement("remaining"),
               [{"lot": lot_id, "value": left} for lot_id, left in remaining.items()])


def fill_costs(ws: Workspace, costs: Sequence[tuple[int, Decimal]]) -> None:
    """Give uncosted lots their cost per lot unit, one statement; lots that already have
    a cost are left alone. (Flowing the cost downstream is ``costing``'s job.)

    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> bought = ws.inventory.purchase("ka-flour-5lb", unit_cost=None, purchased_on="2025-11-01")
    >>> stock.fill_costs(ws, [(bought.lot_id, Decimal("3.6")), (1, Decimal(9))])
    >>> ws.inventory.lots("flour-ap")["unit_cost"].tolist()  # lot 1 keeps its cost
    [1.298, 0.4796, 3.6]
    """
    if not costs:
        return
    ws.execute(_update_statement("unit_cost"),
               [{"lot": lot_id, "value": unit_cost} for lot_id, unit_cost in costs])


def ledger(ws: Workspace, rows: Sequence[LedgerRow], *, reason: str,
           posted_on: dt.date | Sequence[dt.date], run_id: int | None = None,
           items: Sequence[tuple[Item, str]] | None = None) -> list[int]:
    """Insert ledger rows (lot id, signed quantity, signed cost) dated ``posted_on`` (one
    business date for all, or one per row); returns their ids in order.

    ``items``: the item and the unit (as stored) of each row's lot, when the caller knows
    them; a what-if then records the rows as written (its recording's ``capture``), and
    its plan need not read them back.

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> stock.ledger(ws, [(1, Decimal(-2), Decimal("-2.6"))], reason="spoiled",
    ...              posted_on=dt.date(2025, 11, 3))
    [28]
    """
    if not rows:
        return []
    now = utcnow()
    dates = ([posted_on] * len(rows) if isinstance(posted_on, dt.date)
             else [as_date(d) for d in posted_on])
    if len(dates) != len(rows):
        raise ValueError(f"ledger: {len(dates)} posted_on dates for {len(rows)} rows")
    params = [
        {"uuid": new_uuid(), "lot_id": lot_id, "run_id": run_id, "reason": reason,
         "quantity": qty, "cost": cost, "posted_on": as_date(day), "created_at": now}
        for (lot_id, qty, cost), day in zip(rows, dates, strict=True)
    ]
    capture = ws.recording.capture
    if items is not None and capture is not None:
        # a what-if records the rows as written (bakekit.plan.capture): its plan reads
        # nothing back
        return capture(ws, params, items)
    ids = _inserted(ws, "movements", params)
    ws.recording.note_movements(ids)
    return ids


def write_take(ws: Workspace, allocation: Allocation | Sequence[Allocation], *,
               reason: str, posted_on: dt.date, run_id: int | None = None,
               made: NewLot | None = None) -> int | None:
    """Write planned consumptions: lot updates and ledger rows (dated ``posted_on``), one
    statement each however many items and lots (set-based). ``made``: a lot the takes make
    (a run's output), inserted first and given its first ledger row in the same ledger
    statement, after the takes' rows. Returns the made lot's id (None without one).

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> taken = stock.take(ws, stock.resolve_item(ws, "ingredient", "flour-ap"), Decimal(2), "cup")
    >>> stock.write_take(ws, taken, reason="test bake", posted_on=dt.date(2025, 12, 2))
    >>> ws.inventory.lots("flour-ap")["remaining"].tolist()  # 2 cups = 0.53125 lb from lot 1
    [8.87109375, 25.0]
    """
    allocations = list(allocation) if isinstance(allocation, Sequence) else [allocation]
    takes = [t for a in allocations for t in a.takes]
    set_remaining(ws, {t.lot_id: Decimal(0) if t.empties else t.remaining - t.quantity
                       for t in takes})
    rows: list[LedgerRow] = [(t.lot_id, -t.quantity, None if t.cost is None else -t.cost)
                             for t in takes]
    # what each row's lot holds, in its unit as stored (a what-if's plan records it)
    items = [(a.item, t.stored_unit or t.unit) for a in allocations for t in a.takes]
    lot_id = None
    if made is not None:
        lot_id = insert_lots(ws, [made])[0]
        rows.append(made.first_row(lot_id))
        items.append((made.item, normalize_unit(made.unit)))
    ledger(ws, rows, reason=reason, posted_on=posted_on, run_id=run_id, items=items)
    return lot_id

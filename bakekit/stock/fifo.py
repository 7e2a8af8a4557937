"""The FIFO walk: one implementation for ingredient, finished-unit and finished-good lots.

``take`` works out what a consumption would take, oldest lot first (date, then id),
converting units through the item's density, as an ``Allocation``; it reads and writes
nothing else (``stock.lots.write_take`` writes an Allocation).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Context, Decimal, Inexact, Rounded
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    func,
    literal_column,
    select,
    tuple_,
    union_all,
)

from bakekit import frames
from bakekit.checks import as_date
from bakekit.db import tables
from bakekit.db.dialect import locks_rows
from bakekit.results import Availability, Consumption
from bakekit.stock.items import KINDS, Item
from bakekit.stock.queries import has_stock
from bakekit.units import (
    QUANTITY_PLACES,
    QUANTITY_RESOLUTION,
    exact_factor,
    money,
    normalize_unit,
    q,
)

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

_ZERO = Fraction(0)
_RESOLUTION = Fraction(QUANTITY_RESOLUTION)

#: lots read per statement while walking FIFO order; more pages only when one isn't enough
PAGE_SIZE = 64
#: lots read per item by the first (all-items) statement: most needs are met by one or two
#: lots (a package covers many uses); every row read costs its date and Decimal conversion
FIRST_PAGE_SIZE = 4


@dataclass(frozen=True)
class Take:
    """One lot's part of a consumption (quantities in the lot's unit and the requested one)."""

    lot_id: int
    acquired_on: dt.date
    remaining: Decimal
    quantity: Decimal
    unit: str
    requested_quantity: Decimal
    unit_cost: Decimal | None
    #: the cost of this take: the exact quantity taken times the lot's unit cost, or, when
    #: the take empties the lot, the value the ledger still holds for it (so the takes of
    #: a lot cost exactly what was paid for it); None for an uncosted lot
    cost: Decimal | None = None
    #: whether this take empties the lot
    empties: bool = False
    #: the lot's unit as the database holds it (``unit`` is its canonical name)
    stored_unit: str = ""


@dataclass(frozen=True)
class Allocation:
    """What a consumption of ``requested`` ``unit`` of ``item`` takes, and what is short."""

    item: Item
    requested: Decimal
    unit: str
    takes: tuple[Take, ...]
    shortfall: Decimal

    @property
    def total_cost(self) -> Decimal:
        return sum((t.cost for t in self.takes if t.cost is not None), Decimal(0))

    @property
    def known_cost(self) -> Decimal | None:
        """``total_cost`` when every take is from a costed lot, else None (unknown, never
        the cost of the costed part alone)."""
        return None if any(t.unit_cost is None for t in self.takes) else self.total_cost

    @property
    def uncosted(self) -> Decimal:
        return sum((t.requested_quantity for t in self.takes if t.unit_cost is None), Decimal(0))

    def to_availability(self) -> Availability:
        """The Availability of this one item: needed, available (what FIFO found), shortfall."""
        row = {"item": self.item.slug, "needed": float(self.requested),
               "available": float(self.requested - self.shortfall),
               "shortfall": float(self.shortfall), "unit": self.unit, "kind": self.item.kind,
               "note": ""}
        return Availability(ok=self.shortfall == 0,
                            frame=frames.build([row], frames.AVAILABILITY))

    def to_consumption(self) -> Consumption:
        rows = [
            {
                "lot_id": t.lot_id,
                "purchased_on": t.acquired_on,
                "quantity": float(t.quantity),
                "unit": t.unit,
                "unit_cost": None if t.unit_cost is None else float(t.unit_cost),
                "cost": None if t.cost is None else float(t.cost),
                "requested_quantity": float(t.requested_quantity),
            }
            for t in self.takes
        ]
        return Consumption(
            item=self.item.slug,
            requested=float(self.requested),
            unit=self.unit,
            consumed=frames.build(rows, frames.CONSUMED),
            shortfall=float(self.shortfall),
            total_cost=None if self.known_cost is None else float(self.known_cost),
            uncosted=float(self.uncosted),
        )


def _sql_int(value: int) -> Any:
    """A constant written into the SQL, not bound: the first-pages statement binds only its
    items (a bound parameter costs SQLAlchemy's binding on every call)."""
    return literal_column(str(int(value)), Integer)


@functools.lru_cache(maxsize=32)
def _page_statement(column: str, *, keyset: bool, lock: bool) -> Any:
    """The FIFO page SELECT for one kind of item (built once; values are bound per call)."""
    lots = tables.lots
    stmt = (
        select(lots.c.id, lots.c.acquired_on, lots.c.remaining, lots.c.unit, lots.c.unit_cost)
        .where(lots.c[column] == bindparam("item"), has_stock())
        .order_by(lots.c.acquired_on, lots.c.id)
        .limit(_sql_int(PAGE_SIZE)).offset(_sql_int(0))
    )
    if keyset:
        stmt = stmt.where(tuple_(lots.c.acquired_on, lots.c.id)
                          > tuple_(bindparam("after_on", type_=lots.c.acquired_on.type),
                                   bindparam("after_id")))
    if lock:
        stmt = stmt.with_for_update()
    return stmt


def _lot_page(ws: Workspace, item: Item, after: tuple[dt.date, int] | None,
              *, lock: bool) -> list[Any]:
    conn = ws.connection
    stmt = _page_statement(item.column, keyset=after is not None,
                           lock=lock and locks_rows(conn))
    params: dict[str, Any] = {"item": item.id}
    if after is not None:
        params["after_on"], params["after_id"] = after
    return list(conn.execute(stmt, params))


@functools.lru_cache(maxsize=256)
def _first_pages_statement(columns: tuple[str, ...], *, lock: bool) -> Any:
    """The statement of ``_first_pages`` for items of these kinds (built once per shape)."""
    lots = tables.lots
    firsts = []
    for n, column in enumerate(columns):
        first = (select(lots.c.id)
                 .where(lots.c[column] == bindparam(f"item{n}"), has_stock())
                 .order_by(lots.c.acquired_on, lots.c.id)
                 .limit(_sql_int(FIRST_PAGE_SIZE)).offset(_sql_int(0)).subquery())
        firsts.append(select(first.c.id))
    item_of = case(*((lots.c[col].isnot(None), literal_column(f"'{kind}'", String))
                     for kind, col in ((k, v.column) for k, v in KINDS.items())))
    key = func.coalesce(lots.c.ingredient_id, lots.c.finished_unit_id, lots.c.finished_good_id)
    stmt = (select(lots.c.id, lots.c.acquired_on, lots.c.remaining, lots.c.unit,
                   lots.c.unit_cost, item_of.label("item_kind"), key.label("item_id"))
            .where(lots.c.id.in_(union_all(*firsts)))
            .order_by(item_of, key, lots.c.acquired_on, lots.c.id))
    return stmt.with_for_update(of=lots) if lock else stmt


def _first_pages(ws: Workspace, items: Sequence[Item], *, lock: bool) -> dict[Item, list[Any]]:
    """The first FIFO page of every item in ONE statement (a UNION ALL of per-item
    index-ordered LIMIT subqueries, read through ``lots.id IN (...)`` so that PostgreSQL can
    lock the rows, item by item in a stable order)."""
    conn = ws.connection
    stmt = _first_pages_statement(tuple(item.column for item in items),
                                  lock=lock and locks_rows(conn))
    pages: dict[tuple[str, int], list[Any]] = {(item.kind, item.id): [] for item in items}
    # all rows in one fetch; rows are grouped by position (item_kind, item_id: columns 5, 6)
    for row in conn.execute(stmt, {f"item{n}": item.id for n, item in enumerate(items)}).all():
        pages[(row[5], int(row[6]))].append(row)
    return {item: pages[(item.kind, item.id)] for item in items}


def take_many(ws: Workspace, needs: Sequence[tuple[Item, Decimal, str]], *,
              lock: bool = False) -> list[Allocation]:
    """Work out FIFO consumptions of several items without writing: the first page of lots
    of every item in one statement, further pages (rare) item by item. ``lock`` takes row
    locks on PostgreSQL, always in one order (item kind, item, then FIFO order: see
    ``_take_locked``). One plan per need, in the needs' order.

    Quantities are converted exactly (``units.exact_factor``) and the boundary rule
    (``units.is_none``) decides both a shortfall and an emptied lot, so ``check`` (which
    runs ``shortfall`` on the same stock) and the write agree."""
    items = list(dict.fromkeys(item for item, _, _ in needs))
    if not items:
        plans: list[Allocation] = []
    elif lock and locks_rows(ws.connection):
        plans = _take_locked(ws, needs, items)
    else:
        plans = _walk_all(ws, needs, _first_pages(ws, items, lock=False), lock=False)
    return _cost_emptied(ws, _forgive_rounding(ws, plans))


class _PageRunsOut(Exception):
    """An item's first page of locked lots did not cover its need."""


def _walk_all(ws: Workspace, needs: Sequence[tuple[Item, Decimal, str]],
              pages: dict[Item, list[Any]], *, lock: bool, more: bool = True,
              first_size: int = FIRST_PAGE_SIZE) -> list[Allocation]:
    """One plan per need, from each item's first page of at most ``first_size`` lots (and,
    if ``more``, the pages after)."""
    taken: dict[int, Decimal] = {}  # an item needed twice (two units) takes what is left
    return [_walk(ws, item, Decimal(quantity), normalize_unit(unit), pages[item], taken,
                  lock=lock, more=more, first_size=first_size)
            for item, quantity, unit in needs]


def _take_locked(ws: Workspace, needs: Sequence[tuple[Item, Decimal, str]],
                 items: list[Item]) -> list[Allocation]:
    """The plans of ``take_many`` with row locks (PostgreSQL), taken in one global order
    (item kind, item id, then FIFO order), so that two consumptions never wait on each
    other in a cycle.

    The first pages of every item are locked by one statement, in that order, inside a
    SAVEPOINT. When an item needs more lots than its first page (rare: a concurrent
    consumption emptied lots the statement picked, or a need larger than the page),
    locking them now would go back in the order past the later items' lots already held:
    the savepoint is rolled back instead, which releases those locks, and every item is
    locked again page by page, in the order, each one whole before the next."""
    try:
        with ws.connection.begin_nested():  # rolled back, locks released, on any error
            return _walk_all(ws, needs, _first_pages(ws, items, lock=True), lock=True,
                             more=False)
    except _PageRunsOut:
        pass
    by_item: dict[Item, list[Allocation]] = {}
    ordered = sorted(items, key=lambda item: (item.kind, item.id))
    for item in ordered:  # each item's lots locked whole before the next item's
        own = [need for need in needs if need[0] == item]
        by_item[item] = _walk_all(ws, own, {item: _lot_page(ws, item, None, lock=True)},
                                  lock=True, first_size=PAGE_SIZE)
    return [by_item[item].pop(0) for item, _, _ in needs]


def take(ws: Workspace, item: Item, quantity: Decimal, unit: str, *,
         lock: bool = False) -> Allocation:
    """Work out a FIFO consumption without writing. ``lock`` takes row locks (PostgreSQL)."""
    return take_many(ws, [(item, quantity, unit)], lock=lock)[0]


def shortfall(needed: Decimal | Fraction, available: Decimal | Fraction,
              scale: Fraction = Fraction(1)) -> Fraction:
    """What is short of ``needed`` when ``available`` is there (same unit), under the one
    boundary rule (``units.is_none``): a shortfall below the resolution is none, measured
    in the requested unit or in the unit of the lots it comes from, whichever is coarser
    (``scale``: the largest factor from a lot's unit to the requested one). Both the FIFO
    walk and ``availability_rows`` decide with this function.

    >>> shortfall(Decimal(19), Decimal("18.999999999996"))
    Fraction(0, 1)
    """
    short = ((needed if isinstance(needed, Fraction) else Fraction(needed))
             - (available if isinstance(available, Fraction) else Fraction(available)))
    if short <= 0 or short < _RESOLUTION * (scale if scale > 1 else 1):
        return _ZERO
    return short


#: Decimal arithmetic that refuses to round: a step it cannot do exactly raises Inexact
#: and the walk falls back to Fractions
_EXACT = Context(prec=60, traps=[Inexact, Rounded])
_RESOLUTION_D = QUANTITY_RESOLUTION
_unit = functools.lru_cache(maxsize=256)(normalize_unit)
#: the shortfall of a need that was met (as ``q(shortfall(...))`` gives it)
_NONE_SHORT = q(_ZERO)

TakeStep = tuple[Decimal, bool, Decimal, Decimal | None, Decimal | Fraction]


def _take_same_unit(need: Decimal, remaining: Decimal,
                    unit_cost: Decimal | None) -> TakeStep | None:
    """One lot's take when the lot is in the requested unit, in exact Decimals: (taken in
    the lot's unit, empties, taken in the requested unit, cost, need left); None when a
    step would round (the caller then takes the Fraction path, which gives the same)."""
    try:
        rest = _EXACT.subtract(remaining, need)
        if rest <= 0 or rest < _RESOLUTION_D:  # the remainder rule (factor 1)
            short = _EXACT.subtract(need, remaining)
            left: Decimal | Fraction = (short if short > 0 and short >= _RESOLUTION_D
                                        else _ZERO)
            cost = None if unit_cost is None else money(_EXACT.multiply(remaining, unit_cost))
            return remaining, True, q(remaining), cost, left
        cost = None if unit_cost is None else money(_EXACT.multiply(need, unit_cost))
        taken = q(need)
        return taken, False, taken, cost, _ZERO
    except (Inexact, Rounded):
        return None


def _take_exact(need: Fraction, remaining: Decimal, unit_cost: Decimal | None, lot_unit: str,
                unit: str, item: Item) -> tuple[Decimal, bool, Decimal, Decimal | None,
                                                Fraction, Fraction]:
    """One lot's take in exact Fractions, converting the lot's unit to the requested one:
    as ``_take_same_unit`` and the factor used."""
    f = exact_factor(lot_unit, unit, g_per_ml=item.g_per_ml, item=item.slug)
    need_lot = need / f  # exact, in the lot's unit
    exact_remaining = Fraction(remaining)
    # the remainder rule: what would be left is none if it is below the resolution
    # in the lot's unit or in the requested one, whichever is coarser
    rest = exact_remaining - need_lot
    if rest <= 0 or rest * (f if f < 1 else 1) < _RESOLUTION:
        taken_lot, empties = remaining, True
        exact_lot, taken_req = exact_remaining, exact_remaining * f
        need = shortfall(need, taken_req, f)
    else:
        taken_lot, empties = q(need_lot), False
        exact_lot, taken_req = need_lot, need
        need = _ZERO
    cost = None if unit_cost is None else money(exact_lot * Fraction(unit_cost))
    return taken_lot, empties, q(taken_req), cost, need, f


def _walk(ws: Workspace, item: Item, quantity: Decimal, unit: str, page: list[Any],
          taken: dict[int, Decimal], *, lock: bool, more: bool = True,
          first_size: int = FIRST_PAGE_SIZE) -> Allocation:
    """Take from lots oldest first, page after page, until the need is met or stock ends;
    ``taken`` holds what earlier plans of the same call took from each lot (updated).
    ``page`` is the first page (at most ``first_size`` lots: a shorter one is all there
    is); without ``more``, a need it does not cover raises ``_PageRunsOut``.

    The need is kept exactly (a Fraction in the requested unit); a take is stored rounded
    to the database's places in the lot's unit, and a take that would leave less than the
    resolution behind takes the whole lot."""
    # the need stays a Decimal while every lot is in the requested unit (the common case):
    # Decimal arithmetic that traps on any rounding is as exact as Fractions, and cheaper;
    # the first lot in another unit (or an inexact step) turns it into a Fraction for good
    need: Decimal | Fraction = quantity
    takes: list[Take] = []
    scale = Fraction(1)  # the largest factor of the lots seen (lot unit -> requested)
    first = True
    while need > 0:
        for lot in page:
            remaining = Decimal(lot.remaining) - taken.get(int(lot.id), Decimal(0))
            if remaining <= 0:
                continue
            lot_unit = _unit(lot.unit)
            unit_cost = None if lot.unit_cost is None else Decimal(lot.unit_cost)
            done = (_take_same_unit(need, remaining, unit_cost)
                    if lot_unit == unit and isinstance(need, Decimal) else None)
            if done is not None:
                taken_lot, empties, taken_req, cost, need = done
            else:
                taken_lot, empties, taken_req, cost, need, f = _take_exact(
                    Fraction(need), remaining, unit_cost, lot_unit, unit, item)
                scale = max(scale, f)
            taken[int(lot.id)] = taken.get(int(lot.id), Decimal(0)) + taken_lot
            takes.append(Take(int(lot.id), as_date(lot.acquired_on), remaining, taken_lot,
                              lot_unit, taken_req, unit_cost, cost, empties, lot.unit))
            if need <= 0:
                break
        if need <= 0 or len(page) < (first_size if first else PAGE_SIZE):
            break
        if not more:
            raise _PageRunsOut(item)
        first = False
        page = _lot_page(ws, item, (as_date(page[-1].acquired_on), int(page[-1].id)),
                         lock=lock)
    short = q(shortfall(need, _ZERO, scale)) if need > 0 else _NONE_SHORT
    return Allocation(item, quantity, unit, tuple(takes), short)


#: the most a stored row of a lot can differ from its exact quantity: half the quantum of
#: the lot's unit (rows are rounded to the nearest ``QUANTITY_PLACES``)
_HALF_QUANTUM = Fraction(1, 2 * 10 ** QUANTITY_PLACES)


def _forgive_rounding(ws: Workspace, plans: list[Allocation]) -> list[Allocation]:
    """A request short of stock by no more than the rounding already taken from the lots
    it emptied is met: each ledger row of a lot was rounded by at most half a quantum, so
    what arithmetic says is left of a lot may be that much more than ``remaining`` (one
    statement, only when some plan is short)."""
    short = [p for p in plans if p.shortfall > 0 and p.takes]
    if not short:
        return plans
    m = tables.movements
    lot_ids = sorted({t.lot_id for p in short for t in p.takes})
    rows = {int(lot_id): int(n) for lot_id, n in ws.execute(
        select(m.c.lot_id, func.count()).where(m.c.lot_id.in_(lot_ids)).group_by(m.c.lot_id))}
    out = []
    for plan in plans:
        if plan in short:
            g_per_ml, slug = plan.item.g_per_ml, plan.item.slug
            slack = sum((int(rows.get(t.lot_id, 0)) * _HALF_QUANTUM
                         * exact_factor(t.unit, plan.unit, g_per_ml=g_per_ml, item=slug)
                         for t in plan.takes if t.empties), _ZERO)
            if Fraction(plan.shortfall) <= slack:
                plan = replace(plan, shortfall=_NONE_SHORT)
        out.append(plan)
    return out


def _cost_emptied(ws: Workspace, plans: list[Allocation]) -> list[Allocation]:
    """Give every take that empties a costed lot the value the ledger still holds for the
    lot (what was paid, less what earlier takes cost): one statement for all such lots."""
    emptied = {t.lot_id for p in plans for t in p.takes if t.empties and t.unit_cost is not None}
    if not emptied:
        return plans
    m = tables.movements
    held = {int(lot_id): Decimal(str(cost)) for lot_id, cost in ws.execute(
        select(m.c.lot_id, func.sum(m.c.cost)).where(m.c.lot_id.in_(sorted(emptied)))
        .group_by(m.c.lot_id)) if cost is not None}
    out = []
    for plan in plans:
        takes = []
        for t in plan.takes:
            if t.lot_id in held:
                if t.empties:
                    t = replace(t, cost=money(held[t.lot_id]))
                else:  # an earlier take of the same call, from the same lot
                    held[t.lot_id] -= t.cost or Decimal(0)
            takes.append(t)
        out.append(replace(plan, takes=tuple(takes)))
    return out

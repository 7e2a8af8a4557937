"""Late costs flow downstream: when uncosted lots get their price, the ledger rows, runs,
output lots and assemblies made from them are re-valued in the same unit of work.

The model is ERPNext's Repost Item Valuation (entries costed late re-value what came
after), done set-based: a fixed few statements per level of the run graph (lots ->
the runs that consumed them -> the lots those runs made -> ...), never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, select, update

from bakekit import stock
from bakekit.db import tables
from bakekit.units import money

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

#: the ledger reasons of a run's own rows (what it consumed, what it made)
RUN_REASONS = ("production", "assembly")


@dataclass(frozen=True)
class Repriced:
    """What a reprice reached: ledger rows costed, runs costed, output lots costed."""

    movements: int = 0
    runs: int = 0
    lots: int = 0


#: exact products of stored numbers (each far below 30 digits); anything inexact traps
_EXACT = Context(prec=60, traps=[Inexact])


def _times(a: Decimal, b: Decimal) -> Decimal | Fraction:
    """``a * b`` exactly: in Decimal (cheap), or as a Fraction where Decimal would round."""
    try:
        return _EXACT.multiply(a, b)
    except Inexact:  # pragma: no cover  (needs more than 60 digits)
        return Fraction(a) * Fraction(b)


def as_decimal(value: object) -> Decimal:
    """A number read from the database as a Decimal (a float through its shortest text,
    as SQLite may hand one over; a Decimal as it is).

    >>> as_decimal(0.1), as_decimal(Decimal("2.50"))
    (Decimal('0.1'), Decimal('2.50'))
    """
    return value if isinstance(value, Decimal) else Decimal(str(value))


def reprice_from_lots(ws: Workspace, lot_ids: Iterable[int]) -> Repriced:
    """Flow the cost of lots that have just been given a ``unit_cost`` downstream.

    For every level: the lots' uncosted ledger rows get their cost (quantity x unit cost;
    a lot's creation row by a run gets the run's total, and an emptied lot's last take
    gets what is left of its value, so its rows sum to zero); every run that consumed
    those lots and now has every input costed gets its ``total_cost`` and
    ``per_unit_cost``; the lots that run made get that unit cost, and are the next level
    (assemblies made from finished units, and so on). Runs with another input still
    uncosted stay uncosted. Call it from every place that gives an uncosted lot its price,
    inside the write operation doing so.

    >>> reprice_from_lots(ws, [])  # e.g. the lots a price list has just costed
    Repriced(movements=0, runs=0, lots=0)
    """
    level = sorted({int(i) for i in lot_ids})
    return _reprice(ws, ws.execute(_UNCOSTED_ROWS, {"b_lots": level}).all() if level
                    else [])


def price_purchases(ws: Workspace, prices: Mapping[int, Any]) -> int:
    """Give purchases recorded without a price their package price (purchase id -> price
    of one package, a Decimal or a number), then their uncosted lots the cost it means,
    flowed downstream (``price_purchase_lots``); returns how many lots. The one write of a
    late purchase price: ``ws.inventory.set_price`` and a priced purchases review use it.

    >>> price_purchases(ws, {})  # e.g. {purchase_id: Decimal("7.79")}
    0
    """
    cost_of = {int(k): as_decimal(v) for k, v in prices.items()}
    if cost_of:
        ws.execute(_PRICE_PURCHASE, [{"b_id": k, "b_cost": v} for k, v in cost_of.items()])
    return price_purchase_lots(ws, cost_of)


#: a purchase's package price (built once)
_PRICE_PURCHASE = (update(tables.purchases).where(tables.purchases.c.id == bindparam("b_id"))
                   .values(unit_cost=bindparam("b_cost")))


def price_purchase_lots(ws: Workspace, prices: Mapping[int, Decimal]) -> int:
    """Give the uncosted lots of purchases whose package price is now known (purchase id
    -> price of one package) their cost per lot unit, and flow it downstream as
    ``reprice_from_lots`` does; returns how many lots. One read finds the lots and their
    uncosted ledger rows together.

    >>> price_purchase_lots(ws, {})  # e.g. the purchases a priced view has just priced
    0
    """
    if not prices:
        return 0
    lot_cost: dict[int, Decimal] = {}
    first = []  # the ledger rows of those lots, as _UNCOSTED_ROWS reads them once costed
    for lot_id, purchase_id, size, remaining, made_by, row_id, quantity, reason, run_id in (
            ws.execute(_PURCHASE_LOTS, {"b_ids": sorted(prices)})):
        cost = lot_cost.get(lot_id)
        if cost is None:
            cost = lot_cost[lot_id] = money(as_decimal(prices[purchase_id]) / as_decimal(size))
        if row_id is not None:
            first.append((row_id, lot_id, quantity, reason, run_id, cost, remaining, made_by))
    stock.fill_costs(ws, list(lot_cost.items()))
    _reprice(ws, first)
    return len(lot_cost)


def _reprice(ws: Workspace, rows: Sequence[Any]) -> Repriced:
    """``reprice_from_lots`` from the uncosted ledger rows of its first level."""
    run_total: dict[int, Decimal] = {}
    counted = {"movements": 0, "runs": 0, "lots": 0}
    while rows:
        costs = _ledger_costs(ws, rows, run_total)
        if costs:
            ws.execute(_COST_ROW, [{"b_id": k, "b_cost": v} for k, v in costs.items()])
        counted["movements"] += len(costs)
        consumers = sorted({run_id for _, _, quantity, reason, run_id, *_ in rows
                            if run_id is not None and reason in RUN_REASONS
                            and as_decimal(quantity) < 0})
        done = _costed_runs(ws, consumers) if consumers else {}
        if not done:
            break
        made = _cost_runs_and_outputs(ws, done)
        counted["runs"] += len(done)
        counted["lots"] += len(made)
        run_total.update({k: v[0] for k, v in done.items()})
        rows = ws.execute(_UNCOSTED_ROWS, {"b_lots": made}).all() if made else []
    return Repriced(**counted)


def _uncosted_rows() -> Any:
    lots, m = tables.lots, tables.movements
    return (select(m.c.id, m.c.lot_id, m.c.quantity, m.c.reason, m.c.run_id, lots.c.unit_cost,
                   lots.c.remaining, lots.c.run_id.label("made_by"))
            .join(lots, lots.c.id == m.c.lot_id)
            .where(m.c.lot_id.in_(bindparam("b_lots", expanding=True)), m.c.cost.is_(None),
                   lots.c.unit_cost.isnot(None))
            .order_by(m.c.lot_id, m.c.id))


def _purchase_lots() -> Any:
    lots, p, m = tables.lots, tables.products, tables.movements
    return (select(lots.c.id, lots.c.purchase_id, p.c.package_quantity, lots.c.remaining,
                   lots.c.run_id.label("made_by"), m.c.id.label("row_id"), m.c.quantity,
                   m.c.reason, m.c.run_id)
            .join(p, p.c.id == lots.c.product_id)
            .outerjoin(m, and_(m.c.lot_id == lots.c.id, m.c.cost.is_(None)))
            .where(lots.c.purchase_id.in_(bindparam("b_ids", expanding=True)),
                   lots.c.unit_cost.is_(None))
            .order_by(lots.c.id, m.c.id))


#: the uncosted ledger rows of costed lots (one level of a reprice); the uncosted lots of
#: purchases with their package size and uncosted ledger rows (built once)
_UNCOSTED_ROWS, _PURCHASE_LOTS = _uncosted_rows(), _purchase_lots()
#: a ledger row's cost (built once)
_COST_ROW = (update(tables.movements).where(tables.movements.c.id == bindparam("b_id"))
             .values(cost=bindparam("b_cost")))


def _ledger_costs(ws: Workspace, rows: Sequence[Any], run_total: dict[int, Decimal]
                  ) -> dict[int, Decimal]:
    """The cost of each uncosted ledger row of a level: quantity x the lot's unit cost; a
    lot's creation row by a run just costed gets the run's total, exactly; an emptied lot's
    last take gets what is left of its value, so its rows sum to zero."""
    costs: dict[int, Decimal] = {}
    last_take: dict[int, int] = {}
    emptied: set[int] = set()
    priced: dict[tuple[Decimal, Decimal], Decimal] = {}  # rows repeat a few quantities
    for row_id, lot_id, quantity, reason, run_id, unit_cost, remaining, made_by in rows:
        quantity = as_decimal(quantity)
        if (made_by is not None and run_id is not None and run_id == made_by
                and reason in RUN_REASONS and quantity > 0 and made_by in run_total):
            costs[row_id] = run_total[made_by]  # the run's total, exactly
        else:
            key = (quantity, as_decimal(unit_cost))
            cost = priced.get(key) if quantity else None  # (0 and -0 are equal keys)
            if cost is None:
                cost = priced[key] = money(_times(*key))
            costs[row_id] = cost
        if quantity < 0:
            last_take[lot_id] = row_id
        if as_decimal(remaining) == 0:
            emptied.add(lot_id)
    emptied &= set(last_take)
    if not emptied:
        return costs
    m = tables.movements
    known = {int(lot_id): as_decimal(total) for lot_id, total in ws.execute(
        select(m.c.lot_id, func.sum(m.c.cost))
        .where(m.c.lot_id.in_(sorted(emptied)), m.c.cost.isnot(None))
        .group_by(m.c.lot_id)) if total is not None}
    held: dict[int, Decimal] = defaultdict(Decimal)
    for row_id, lot_id, *_ in rows:
        if lot_id in emptied and row_id != last_take[lot_id]:
            held[lot_id] += costs[row_id]
    for lot_id in emptied:  # an empty lot holds no value: its last take carries what is left
        costs[last_take[lot_id]] = -(known.get(lot_id, Decimal(0)) + held[lot_id])
    return costs


def _costed_runs(ws: Workspace, consumers: list[int]) -> dict[int, tuple[Decimal, Decimal, str]]:
    """The runs among ``consumers`` whose every input is now costed: run id -> (total, items
    made, kind); their total is what their inputs cost."""
    m, runs = tables.movements, tables.runs
    inputs = (select(m.c.run_id, func.count().label("takes"),
                     func.count(m.c.cost).label("costed"), func.sum(m.c.cost).label("cost"),
                     runs.c.quantity, runs.c.kind)
              .join(runs, runs.c.id == m.c.run_id)
              .where(m.c.run_id.in_(consumers), m.c.reason == runs.c.kind, m.c.quantity < 0,
                     runs.c.total_cost.is_(None))
              .group_by(m.c.run_id, runs.c.quantity, runs.c.kind))
    return {int(r.run_id): (money(-as_decimal(r.cost)), as_decimal(r.quantity), str(r.kind))
            for r in ws.execute(inputs) if int(r.takes) == int(r.costed)}


def _cost_runs_and_outputs(ws: Workspace, done: dict[int, tuple[Decimal, Decimal, str]]
                           ) -> list[int]:
    """Give the runs their total and per-unit cost, and the lots they made that unit cost;
    returns those lots' ids (the next level)."""
    lots, runs = tables.lots, tables.runs
    per_unit = {run_id: money(Fraction(total) / Fraction(made)) if made else Decimal(0)
                for run_id, (total, made, _) in done.items()}
    ws.execute(update(runs).where(runs.c.id == bindparam("b_id"))
               .values(total_cost=bindparam("b_total"), per_unit_cost=bindparam("b_unit")),
               [{"b_id": k, "b_total": v[0], "b_unit": per_unit[k]} for k, v in done.items()])
    made_lots = ws.execute(
        select(lots.c.id, lots.c.run_id, lots.c.kind)
        .where(lots.c.run_id.in_(sorted(done)), lots.c.unit_cost.is_(None))).all()
    made_lots = [r for r in made_lots if r.kind == stock.RUN_OUTPUT[done[int(r.run_id)][2]]]
    if made_lots:
        stock.fill_costs(ws, [(int(r.id), per_unit[int(r.run_id)]) for r in made_lots])
    return sorted(int(r.id) for r in made_lots)

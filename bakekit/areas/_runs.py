"""Production and assembly runs share one table; this module records and reverses either
kind of run (``record_run`` and ``reverse_run``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, insert, select, update

from bakekit import frames, stock
from bakekit.checks import as_date, check_date, today
from bakekit.costing import as_decimal
from bakekit.db import tables
from bakekit.db.dialect import for_update
from bakekit.db.models.base import new_uuid, utcnow
from bakekit.errors import (
    InsufficientStockError,
    NotFoundError,
    UnitConversionError,
    ValidationError,
)
from bakekit.results import Availability, Reversal
from bakekit.units import money, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

#: the unit finished-unit and finished-good lots are kept in
EACH = "each"

Need = tuple[stock.Item, Decimal, str]


@dataclass(frozen=True)
class RunRequest:
    """A checked run, ready to record: what it consumes and makes, and its own columns."""

    kind: str
    output: stock.Item
    #: what the run makes (the good units: they carry the whole cost)
    quantity: Decimal
    #: what it consumes, in a stable order (the order in which PostgreSQL locks lots)
    needs: list[Need]
    produced_at: dt.datetime
    #: ``produced_at`` as given, for error messages
    given_at: Any
    #: the message of InsufficientStockError, from the Availability of the needs and the
    #: allocations that came short (none when the walk stopped on a unit conversion)
    short_message: Callable[[Availability, Sequence[stock.Allocation]], str]
    #: the run row's own columns (recipe, batches, yields, event, notes, snapshot)
    columns: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRun:
    """What ``record_run`` wrote: the run, its lot, its costs and what it consumed."""

    run_id: int
    lot_id: int
    allocations: list[stock.Allocation]
    known_cost: Decimal
    #: None when anything consumed has no known price (the cost is unknown, never 0)
    total_cost: Decimal | None
    per_unit_cost: Decimal | None

    def consumed(self) -> pd.DataFrame:
        """The RUN_CONSUMED frame: one row per lot taken."""
        return self._consumed(with_kind=False)

    def consumed_with_kind(self) -> pd.DataFrame:
        """The RUN_CONSUMED frame and the items' kinds as an extra column (assembly)."""
        return self._consumed(with_kind=True)

    def _consumed(self, *, with_kind: bool) -> pd.DataFrame:
        rows = [{"item": a.item.slug, "kind": a.item.kind, "lot_id": t.lot_id,
                 "purchased_on": t.acquired_on, "quantity": t.quantity, "unit": t.unit,
                 "unit_cost": t.unit_cost, "cost": t.cost}
                for a in self.allocations for t in a.takes]
        frame = frames.build(rows, frames.RUN_CONSUMED)
        if with_kind:
            frame["kind"] = pd.Series([r["kind"] for r in rows], dtype=object)
        return frame


def availability(ws: Workspace, needs: Sequence[Need]) -> Availability:
    """The Availability of ``needs``: a row per need, ok when nothing is short."""
    rows = stock.availability_rows(ws, needs)
    return Availability(ok=all(r["shortfall"] <= 0 for r in rows),
                        frame=frames.build(rows, frames.AVAILABILITY))


def _allocate(ws: Workspace, request: RunRequest) -> list[stock.Allocation]:
    """Take every need FIFO (locking the lots); InsufficientStockError when short."""
    try:
        allocations = stock.take_many(ws, request.needs, lock=True)
    except UnitConversionError:
        found = availability(ws, request.needs)
        if not found.ok:  # lots in a unit that doesn't convert: short, say so
            raise InsufficientStockError(request.short_message(found, []), found) from None
        raise
    short = [a for a in allocations if a.shortfall > 0]
    if short:  # e.g. one ingredient in two units that don't convert
        found = availability(ws, request.needs)
        raise InsufficientStockError(request.short_message(found, short), found)
    return allocations


def record_run(ws: Workspace, request: RunRequest) -> RecordedRun:
    """Record a production or assembly run in one unit of work: take its needs FIFO, write
    the run row (with its costs), the lot updates, its new lot and every ledger row, in
    five statements however many lots (six when a take empties a costed lot).

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from bakekit import stock
    >>> from bakekit.areas._runs import RunRequest, record_run
    >>> flour, cookie = (stock.resolve_any(ws, slug) for slug in ("flour-ap", "sugar-cookie"))
    >>> request = RunRequest("production", cookie, Decimal(12), [(flour, Decimal(2), "cup")],
    ...     dt.datetime(2025, 12, 2, 9), None, lambda found, short: "not enough flour",
    ...     columns={"expected_quantity": Decimal(12)})
    >>> record_run(ws, request).consumed()[["item", "lot_id", "quantity", "unit"]]
           item  lot_id  quantity unit
    0  flour-ap       1   0.53125   lb
    """
    allocations = _allocate(ws, request)
    # the run's business day: the local day written in produced_at (checks.as_date)
    day = as_date(request.produced_at if request.given_at is None else request.given_at)
    refuse_takes_before(allocations, day, field="produced_at", value=request.given_at,
                        what=f"a{'n' if request.kind == 'assembly' else ''} {request.kind} run")
    known_cost = money(sum((a.total_cost for a in allocations), Decimal(0)))
    # made from anything without a price: the cost is unknown (never 0) until the price
    # arrives (costing.reprice_from_lots)
    known = not any(t.unit_cost is None for a in allocations for t in a.takes)
    total = known_cost if known else None
    per_unit = money(known_cost / request.quantity) if known else None
    run_id = int(ws.execute(_insert_run(), {
        "uuid": new_uuid(), "kind": request.kind, request.output.column: request.output.id,
        "quantity": request.quantity, "total_cost": total, "per_unit_cost": per_unit,
        "produced_at": request.produced_at, "created_at": utcnow(), **request.columns,
    }).scalar_one())
    made = stock.NewLot(request.output, request.quantity, EACH, per_unit, day, request.kind,
                        run_id=run_id, ledger_cost=total)
    lot_id = stock.write_take(ws, allocations, reason=request.kind, posted_on=day,
                              run_id=run_id, made=made)
    assert lot_id is not None
    return RecordedRun(run_id, lot_id, allocations, known_cost, total, per_unit)


@functools.cache
def _insert_run() -> Any:
    """INSERT INTO runs ... RETURNING id, built once (keeps its SQLAlchemy cache key)."""
    return insert(tables.runs).returning(tables.runs.c.id)


def refuse_takes_before(allocations: Sequence[stock.Allocation], day: dt.date, *, field: str,
                        value: Any, what: str) -> None:
    """Refuse a write dated ``day`` that would take stock from a lot acquired after it: the
    ledger would hold stock leaving before it arrived (negative stock as of a past date)."""
    for allocation in allocations:
        for take in allocation.takes:
            if take.acquired_on > day:
                raise ValidationError(
                    f"{field}: {day.isoformat()} is before lot {take.lot_id} of "
                    f"{allocation.item.slug} was acquired ({take.acquired_on.isoformat()}); "
                    f"{what} cannot be dated before the stock it takes", field=field,
                    value=value)


def _run_to_reverse(ws: Workspace, run_id: Any, kind: str) -> Any:
    """The run row, locked; refused when of another kind, reversed or imported."""
    if isinstance(run_id, bool) or not isinstance(run_id, int):
        raise ValidationError(f"run_id: {run_id!r} must be an integer run id", field="run_id",
                              value=run_id)
    runs = tables.runs
    run = ws.execute(for_update(select(runs).where(runs.c.id == run_id), ws.connection)).first()
    if run is None:
        raise NotFoundError(f"{kind} run", run_id)
    if run.kind != kind:
        raise ValidationError(f"run_id: run {run_id} is a {run.kind} run; reverse it with "
                              f"ws.{run.kind}.reverse", field="run_id", value=run_id)
    if run.reversed_at is not None:
        raise ValidationError(f"run_id: run {run_id} was already reversed on "
                              f"{run.reversed_at:%Y-%m-%d %H:%M}", field="run_id", value=run_id)
    if run.imported:
        raise ValidationError(f"run_id: run {run_id} was imported as history and consumed no "
                              "stock here; there is nothing to reverse", field="run_id",
                              value=run_id)
    return run


def _made_lots(ws: Workspace, run_id: int, kind: str) -> list[Any]:
    """The lots the run made, locked, with the cost of their first ledger row; refused
    when one was used since."""
    lots, m = tables.lots, tables.movements
    n_moves = (select(func.count()).select_from(m).where(m.c.lot_id == lots.c.id)
               .scalar_subquery())
    cost = select(func.sum(m.c.cost)).where(m.c.lot_id == lots.c.id).scalar_subquery()
    made = list(ws.execute(for_update(
        select(lots.c.id, lots.c.quantity, lots.c.remaining, lots.c.unit, lots.c.acquired_on,
               n_moves.label("moves"), cost.label("cost"))
        .where(lots.c.run_id == run_id, lots.c.kind == stock.RUN_OUTPUT[kind]), ws.connection,
        of=lots)))
    for lot in made:
        if Decimal(lot.remaining) != Decimal(lot.quantity) or int(lot.moves) != 1:
            raise ValidationError(
                f"run_id: run {run_id} cannot be reversed: its lot {lot.id} was already used "
                f"({float(lot.quantity) - float(lot.remaining):g} of "
                f"{float(lot.quantity):g} {lot.unit} gone, or adjusted)",
                field="run_id", value=run_id)
    return made


def _taken_lots(ws: Workspace, run_id: int, kind: str, made_ids: set[int]) -> list[Any]:
    """What the run took, per lot (summed), with the lot's item, kind and unit."""
    m, lots = tables.movements, tables.lots
    joined, slug = stock.lots_with_items()
    taken = ws.execute(
        select(m.c.lot_id, func.sum(m.c.quantity).label("quantity"),
               func.sum(m.c.cost).label("cost"), func.count(m.c.cost).label("costed"),
               slug.label("item"), lots.c.kind, lots.c.unit)
        .select_from(m.join(joined, lots.c.id == m.c.lot_id))
        .where(m.c.run_id == run_id, m.c.reason == kind, m.c.quantity < 0)
        .group_by(m.c.lot_id, slug, lots.c.kind, lots.c.unit)
        .order_by(m.c.lot_id))
    return [t for t in taken if int(t.lot_id) not in made_ids]


def _locked_remaining(ws: Workspace, lot_ids: list[int]) -> dict[int, Decimal]:
    """What remains of these lots, read under row locks (PostgreSQL) taken in the FIFO
    walk's order (kind, item, date, id): a take committed meanwhile is waited for and then
    seen, never overwritten by a restore computed from an older read."""
    if not lot_ids:
        return {}
    lots = tables.lots
    item_id = func.coalesce(lots.c.ingredient_id, lots.c.finished_unit_id,
                            lots.c.finished_good_id)
    rows = ws.execute(for_update(
        select(lots.c.id, lots.c.remaining).where(lots.c.id.in_(lot_ids))
        .order_by(lots.c.kind, item_id, lots.c.acquired_on, lots.c.id), ws.connection))
    return {int(lot_id): as_decimal(left) for lot_id, left in rows}


def reverse_run(ws: Workspace, run_id: Any, *, kind: str, on: Any = None) -> Reversal:
    """Reverse a run of ``kind``: restore what it consumed, empty the lot it made. The
    reversal's ledger rows are dated ``on`` (default today, or the run's own date if that
    is later); ``on`` before the run's date is refused.

    Refused when the run is of another kind, already reversed, or its lot was used.

    >>> from bakekit.areas._runs import reverse_run
    >>> reverse_run(ws, 1, kind="production").item
    'chocolate-chip-cookie'
    """
    run = _run_to_reverse(ws, run_id, kind)
    made = _made_lots(ws, run_id, kind)
    # the run's business day, as its lot was dated (produced_at itself is stored UTC)
    run_day = min((as_date(lot.acquired_on) for lot in made), default=as_date(run.produced_at))
    day = max(today(), run_day) if on is None else check_date(on, "on")
    if day < run_day:
        raise ValidationError(f"on: {day.isoformat()} is before run {run_id} was made "
                              f"({run_day.isoformat()}); a reversal cannot be dated earlier",
                              field="on", value=on)
    taken = _taken_lots(ws, run_id, kind, {int(lot.id) for lot in made})
    output = stock.KINDS[stock.RUN_OUTPUT[kind]]
    item = str(ws.scalar(select(output.table.c.slug)
                         .where(output.table.c.id == getattr(run, output.column))))
    rows: list[stock.LedgerRow] = []
    restored: list[dict[str, Any]] = []
    for t in taken:
        cost = None if int(t.costed) == 0 else -as_decimal(t.cost)
        rows.append((int(t.lot_id), -as_decimal(t.quantity), cost))
        restored.append({"lot_id": int(t.lot_id), "item": t.item, "kind": t.kind,
                         "quantity": -float(t.quantity), "unit": t.unit,
                         "cost": None if cost is None else float(cost)})
    for lot in made:
        cost = None if lot.cost is None else -as_decimal(lot.cost)
        rows.append((int(lot.id), -Decimal(lot.quantity), cost))
        restored.append({"lot_id": int(lot.id), "item": item, "kind": output.name,
                         "quantity": -float(lot.quantity), "unit": lot.unit,
                         "cost": None if cost is None else float(cost)})
    held = _locked_remaining(ws, [int(t.lot_id) for t in taken])
    stock.set_remaining(ws, {
        **{int(t.lot_id): q(held[int(t.lot_id)] - as_decimal(t.quantity)) for t in taken},
        **{int(lot.id): Decimal(0) for lot in made}})
    stock.ledger(ws, rows, reason="reversal", posted_on=day, run_id=run_id)
    runs = tables.runs
    ws.execute(update(runs).where(runs.c.id == run_id).values(reversed_at=utcnow()))
    return Reversal(run_id=run_id, item=item,
                    restored=frames.validate(pd.DataFrame(restored), frames.RESTORED))

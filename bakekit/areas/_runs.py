"""Production and assembly runs share one table; this module reverses either kind of run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import bindparam, func, select, update

from bakekit import frames
from bakekit.areas._common import check_date, today
from bakekit.db import tables
from bakekit.errors import NotFoundError, ValidationError
from bakekit.results import Reversal
from bakekit.stock import fifo
from bakekit.units import q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.workspace import Workspace

def refuse_takes_before(plans: Sequence[fifo.Plan], day: dt.date, *, field: str,
                        value: Any, what: str) -> None:
    """Refuse a write dated ``day`` that would take stock from a lot acquired after it: the
    ledger would hold stock leaving before it arrived (negative stock as of a past date)."""
    for plan in plans:
        for take in plan.takes:
            if take.acquired_on > day:
                raise ValidationError(
                    f"{field}: {day.isoformat()} is before lot {take.lot_id} of "
                    f"{plan.item.slug} was acquired ({take.acquired_on.isoformat()}); {what} "
                    "cannot be dated before the stock it takes", field=field, value=value)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def reverse_run(ws: Workspace, run_id: Any, *, kind: str, on: Any = None) -> Reversal:
    """Reverse a run of ``kind``: restore what it consumed, empty the lot it made. The
    reversal's ledger rows are dated ``on`` (default today, or the run's own date if that
    is later); ``on`` before the run's date is refused.

    Refused when the run is of another kind, already reversed, or its lot was used.
    """
    if isinstance(run_id, bool) or not isinstance(run_id, int):
        raise ValidationError(f"run_id: {run_id!r} must be an integer run id", field="run_id",
                              value=run_id)
    runs, lots, m = tables.runs, tables.lots, tables.movements
    query = select(runs).where(runs.c.id == run_id)
    if ws.connection.dialect.name == "postgresql":
        query = query.with_for_update()
    run = ws.execute(query).first()
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
    run_day = fifo._as_date(run.produced_at)
    day = max(today(), run_day) if on is None else check_date(on, "on")
    if day < run_day:
        raise ValidationError(f"on: {day.isoformat()} is before run {run_id} was made "
                              f"({run_day.isoformat()}); a reversal cannot be dated earlier",
                              field="on", value=on)
    made_kind = "finished_good" if kind == "assembly" else "finished_unit"
    n_moves = (select(func.count()).select_from(m).where(m.c.lot_id == lots.c.id)
               .scalar_subquery())
    made_query = (select(lots.c.id, lots.c.quantity, lots.c.remaining, lots.c.unit,
                         n_moves.label("moves"))
                  .where(lots.c.run_id == run_id, lots.c.kind == made_kind))
    if ws.connection.dialect.name == "postgresql":
        made_query = made_query.with_for_update(of=lots)
    made = list(ws.execute(made_query))
    for lot in made:
        if Decimal(lot.remaining) != Decimal(lot.quantity) or int(lot.moves) != 1:
            raise ValidationError(
                f"run_id: run {run_id} cannot be reversed: its lot {lot.id} was already used "
                f"({float(lot.quantity) - float(lot.remaining):g} of "
                f"{float(lot.quantity):g} {lot.unit} gone, or adjusted)",
                field="run_id", value=run_id)
    made_ids = {int(lot.id) for lot in made}
    from bakekit.stock.queries import lots_with_items

    joined, slug = lots_with_items()
    taken = list(ws.execute(
        select(m.c.lot_id, func.sum(m.c.quantity).label("quantity"),
               func.sum(m.c.cost).label("cost"), func.count(m.c.cost).label("costed"),
               slug.label("item"), lots.c.kind, lots.c.unit, lots.c.remaining)
        .select_from(m.join(joined, lots.c.id == m.c.lot_id))
        .where(m.c.run_id == run_id, m.c.reason == kind, m.c.quantity < 0)
        .group_by(m.c.lot_id, slug, lots.c.kind, lots.c.unit, lots.c.remaining)
        .order_by(m.c.lot_id)
    ))
    taken = [t for t in taken if int(t.lot_id) not in made_ids]
    restored = []
    if taken:
        ws.execute(
            update(lots).where(lots.c.id == bindparam("lot")).values(remaining=bindparam("left")),
            [{"lot": int(t.lot_id), "left": q(_decimal(t.remaining) - _decimal(t.quantity))}
             for t in taken],
        )
    ledger_rows: list[tuple[int, Decimal, Decimal | None]] = [
        (int(t.lot_id), -_decimal(t.quantity),
         None if int(t.costed) == 0 else -_decimal(t.cost))
        for t in taken
    ]
    for t, row in zip(taken, ledger_rows, strict=True):
        restored.append({"lot_id": row[0], "item": t.item, "kind": t.kind,
                         "quantity": float(row[1]), "unit": t.unit,
                         "cost": None if row[2] is None else float(row[2])})
    if made:
        made_cost = list(ws.execute(
            select(m.c.lot_id, m.c.cost).where(m.c.lot_id.in_(sorted(made_ids)))))
        cost_of = {int(r.lot_id): r.cost for r in made_cost}
        ws.execute(update(lots).where(lots.c.id.in_(sorted(made_ids))).values(remaining=0))
        for lot in made:
            cost = cost_of.get(int(lot.id))
            ledger_rows.append((int(lot.id), -Decimal(lot.quantity),
                                None if cost is None else -_decimal(cost)))
            restored.append({"lot_id": int(lot.id), "item": None, "kind": made_kind,
                             "quantity": -float(lot.quantity), "unit": lot.unit,
                             "cost": None if cost is None else -float(cost)})
    fifo.ledger(ws, ledger_rows, reason="reversal", posted_on=day, run_id=run_id)
    from bakekit.db.models.base import utcnow

    ws.execute(update(runs).where(runs.c.id == run_id).values(reversed_at=utcnow()))
    item_table = tables.finished_goods if kind == "assembly" else tables.finished_units
    item_id = run.finished_good_id if kind == "assembly" else run.finished_unit_id
    item = ws.scalar(select(item_table.c.slug).where(item_table.c.id == item_id))
    for entry in restored:
        if entry["item"] is None:
            entry["item"] = item
    return Reversal(run_id=run_id, item=str(item),
                    restored=frames.validate(pd.DataFrame(restored), frames.RESTORED))

"""The lot and movement queries: lots joined to their items, lots as of a date, the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Float, case, cast, func, literal_column, null, select
from sqlalchemy.sql import ColumnElement, FromClause

from bakekit import frames
from bakekit.db import tables

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace


def has_stock(lots: Any = None) -> ColumnElement[bool]:
    """``remaining > 0`` on ``lots`` (or an alias of it) with the 0 written into the SQL, not
    bound: only then can SQLite (and PostgreSQL's generic plans) prove the condition of the
    partial FIFO indexes (``WHERE remaining > 0``) and use them instead of scanning lots.

    >>> from bakekit import stock
    >>> str(stock.has_stock())
    'lots.remaining > 0'
    """
    table = tables.lots if lots is None else lots
    return table.c.remaining > literal_column("0")


def lots_with_items() -> tuple[FromClause, ColumnElement[str]]:
    """``lots`` outer-joined to the three item tables, and the item slug expression."""
    lots, i, fu, fg = (tables.lots, tables.ingredients, tables.finished_units,
                       tables.finished_goods)
    joined = (lots.outerjoin(i, i.c.id == lots.c.ingredient_id)
              .outerjoin(fu, fu.c.id == lots.c.finished_unit_id)
              .outerjoin(fg, fg.c.id == lots.c.finished_good_id))
    return joined, func.coalesce(i.c.slug, fu.c.slug, fg.c.slug)


#: a lot holds stock at a date when its ledger sum is above half a quantum: sums of exact
#: rows are whole quanta, so an emptied lot (whatever a backend's REAL left) holds none
HELD_ABOVE: ColumnElement[Any] = literal_column("0.0000000005")


def lots_as_of(as_of: Any) -> tuple[FromClause, ColumnElement[str], ColumnElement[Any],
                                    ColumnElement[Any]]:
    """``lots_with_items()``, each lot's remaining quantity and its value: the quantity as
    it is now, or (``as_of`` a date) at the end of that day, summed from its ledger rows
    posted on or before it; the value is always the ledger's money for the lot up to then
    (None for an uncosted lot). Filter with ``held(remaining, as_of)``."""
    lots, m = tables.lots, tables.movements
    joined, slug = lots_with_items()
    money = func.sum(m.c.cost).label("value")
    if as_of is None:
        sums = (select(m.c.lot_id, money)
                .where(m.c.lot_id.in_(select(lots.c.id).where(has_stock())))
                .group_by(m.c.lot_id).subquery())
        held_now: ColumnElement[Any] = lots.c.remaining
    else:
        sums = (select(m.c.lot_id, func.sum(m.c.quantity).label("held"), money)
                .where(m.c.posted_on <= as_of).group_by(m.c.lot_id).subquery())
        held_now = sums.c.held
    value = case((lots.c.unit_cost.is_(None), null()), else_=sums.c.value)
    return joined.join(sums, sums.c.lot_id == lots.c.id), slug, held_now, value


def held(remaining: ColumnElement[Any], as_of: Any) -> ColumnElement[bool]:
    """Whether a lot of ``lots_as_of`` holds stock: ``has_stock()`` today (the FIFO
    indexes' condition), a ledger sum above half a quantum at a past date."""
    return has_stock() if as_of is None else remaining > HELD_ABOVE


def movements_frame(ws: Workspace, ids: Sequence[int] | None = None,
                    item: str | None = None) -> pd.DataFrame:
    """The ledger as a frame (all rows, or those with the given ids), oldest first."""
    m, lots = tables.movements, tables.lots
    joined, slug = lots_with_items()
    stmt = (
        select(m.c.id.label("movement_id"), m.c.lot_id, slug.label("item"), lots.c.kind,
               m.c.reason, cast(m.c.quantity, Float).label("quantity"), lots.c.unit,
               cast(m.c.cost, Float).label("cost"), m.c.run_id, m.c.posted_on, m.c.created_at)
        .select_from(m.join(joined, lots.c.id == m.c.lot_id))
        .order_by(m.c.id)
    )
    if ids is not None:
        if not ids:
            return frames.validate(pd.DataFrame(), frames.MOVEMENTS)
        stmt = stmt.where(m.c.id >= min(ids))
    if item is not None:
        stmt = stmt.where(slug == item)
    frame = ws.frame(stmt)
    if ids is not None:
        frame = frame[frame["movement_id"].isin(set(ids))]
    return frames.validate(frame, frames.MOVEMENTS)

"""The lot and movement queries: lots joined to their items, lots as of a date, the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Float, cast, func, literal_column, select
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


def lots_as_of(as_of: Any) -> tuple[FromClause, ColumnElement[str], ColumnElement[Any]]:
    """``lots_with_items()`` and each lot's remaining quantity: as it is now, or (``as_of``
    a date) at the end of that day, summed from its ledger rows posted on or before it."""
    lots = tables.lots
    joined, slug = lots_with_items()
    if as_of is None:
        return joined, slug, lots.c.remaining
    m = tables.movements
    sums = (select(m.c.lot_id, func.sum(m.c.quantity).label("held"))
            .where(m.c.posted_on <= as_of).group_by(m.c.lot_id).subquery())
    return joined.join(sums, sums.c.lot_id == lots.c.id), slug, sums.c.held


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

"""Declarative base, column types shared by every model, and id/uuid/timestamp helpers."""

from __future__ import annotations

import uuid as _uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bakekit.db.exact import Exact
from bakekit.units import COST_PLACES, QUANTITY_PLACES, RATIO_PLACES

#: a quantity of something (in the unit stored beside it)
Quantity = Exact(QUANTITY_PLACES)
#: money: a price or a cost, or a cost per unit
Money = Exact(COST_PLACES)
#: a ratio such as a density in grams per millilitre
Ratio = Exact(RATIO_PLACES)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every bakekit model; its metadata is what the Alembic migrations build."""

    metadata = MetaData(naming_convention=NAMING)


def new_uuid() -> str:
    return str(_uuid.uuid4())


def utcnow() -> datetime:
    """Now, as every timestamp is stored: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc(value: datetime) -> datetime:
    """THE rule for every timestamp bakekit stores (production and assembly times, import
    times, history): an aware value is converted to UTC, a naive one is taken as UTC
    already; the result is naive UTC, so times from any zone compare in real time.

    >>> to_utc(datetime.fromisoformat("2025-12-02T06:00+09:00"))
    datetime.datetime(2025, 12, 1, 21, 0)
    """
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(tzinfo=None)


def uuid_column() -> Mapped[str]:
    """A row's uuid, made in Python; also the table's insert sentinel, so that
    ``insert(t).returning(t.c.id, sort_by_parameter_order=True)`` of many rows is one
    statement on both backends, its ids in the rows' order (SQLAlchemy's
    "insertmanyvalues"; a sentinel changes no DDL)."""
    return mapped_column(String(36), unique=True, default=new_uuid, nullable=False,
                         insert_sentinel=True)


def created_column() -> Mapped[datetime]:
    return mapped_column(DateTime, default=utcnow, nullable=False)


__all__ = ["Base", "Decimal", "Money", "Quantity", "Ratio", "created_column", "new_uuid",
           "to_utc", "utcnow", "uuid_column"]

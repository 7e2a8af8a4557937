"""This database's own identity and the plans applied to it (never exported or loaded)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bakekit.db.models.base import Base, created_column, new_uuid, utcnow


class BakeryIdentity(Base):
    """One row: the uuid this database got once (at creation, or when migration 0002 first
    ran on it). Saved plans name it, so a plan applies only where it was made."""

    __tablename__ = "bakery_identity"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    database_id: Mapped[str] = mapped_column(String(36), default=new_uuid)
    created_at: Mapped[datetime] = created_column()


class AppliedPlan(Base):
    """A plan this database has applied (by the plan's own id): a plan applies once."""

    __tablename__ = "applied_plans"

    plan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    operations: Mapped[int] = mapped_column(Integer)
    ledger_rows: Mapped[int] = mapped_column(Integer)


#: tables that belong to this database alone: export and load leave them out, so a loaded
#: database keeps its own identity and its own record of applied plans
LOCAL_TABLES = frozenset({BakeryIdentity.__tablename__, AppliedPlan.__tablename__})

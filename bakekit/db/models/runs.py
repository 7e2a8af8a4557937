"""Production and assembly runs: one table, so a ledger row names its run by one id."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bakekit.db.models.base import Base, Money, Quantity, created_column, uuid_column

RUN_KINDS = ("production", "assembly")


class Run(Base):
    """A production run (finished units from a recipe) or an assembly run (finished goods)."""

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'production' AND finished_unit_id IS NOT NULL AND finished_good_id IS NULL)"
            " OR (kind = 'assembly' AND finished_good_id IS NOT NULL"
            " AND finished_unit_id IS NULL)",
            name="kind_item",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = uuid_column()
    kind: Mapped[str] = mapped_column(String(16), index=True)
    finished_unit_id: Mapped[int | None] = mapped_column(ForeignKey("finished_units.id"),
                                                         index=True)
    finished_good_id: Mapped[int | None] = mapped_column(ForeignKey("finished_goods.id"),
                                                         index=True)
    recipe_id: Mapped[int | None] = mapped_column(ForeignKey("recipes.id"), index=True)
    batches: Mapped[Decimal | None] = mapped_column(Quantity)
    expected_quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: items actually made (the actual yield)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: expected minus actual, in items; reported, never costed twice
    loss: Mapped[Decimal] = mapped_column(Quantity, default=0)
    total_cost: Mapped[Decimal | None] = mapped_column(Money)
    per_unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    produced_at: Mapped[datetime] = mapped_column(DateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    #: JSON: the expanded recipe or composition the run was made from
    snapshot: Mapped[str | None] = mapped_column(Text)
    #: true for runs imported as history: they consumed no stock here
    imported: Mapped[bool] = mapped_column(default=False)
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_column()

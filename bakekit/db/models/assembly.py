"""Assembly tables: finished goods and what they are made of."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bakekit.db.models.base import Base, Quantity


class FinishedGood(Base):
    """Something assembled from finished units, other finished goods and packaging."""

    __tablename__ = "finished_goods"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)


class FinishedGoodComponent(Base):
    """One component of a finished good: a finished unit, a finished good or packaging."""

    __tablename__ = "finished_good_components"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "(CASE WHEN finished_unit_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN component_good_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN ingredient_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_component",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finished_good_id: Mapped[int] = mapped_column(
        ForeignKey("finished_goods.id", ondelete="CASCADE"), index=True)
    finished_unit_id: Mapped[int | None] = mapped_column(ForeignKey("finished_units.id"),
                                                         index=True)
    component_good_id: Mapped[int | None] = mapped_column(ForeignKey("finished_goods.id"),
                                                          index=True)
    #: a packaging ingredient (is_packaging), consumed from its lots in its own unit
    ingredient_id: Mapped[int | None] = mapped_column(ForeignKey("ingredients.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str | None] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)

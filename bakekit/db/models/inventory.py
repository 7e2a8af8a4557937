"""Inventory tables: purchases, lots (ingredient, finished-unit, finished-good) and the ledger."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bakekit.db.models.base import Base, Money, Quantity, created_column, uuid_column

LOT_KINDS = ("ingredient", "finished_unit", "finished_good")


class Purchase(Base):
    __tablename__ = "purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = uuid_column()
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    purchased_on: Mapped[date] = mapped_column(Date)
    packages: Mapped[Decimal] = mapped_column(Quantity)
    #: price of one package as bought; NULL when the price is not known (an uncosted lot)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    location: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_column()


class Lot(Base):
    """Stock of one item; ``remaining`` always equals the sum of its movements."""

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint(
            "(kind = 'ingredient' AND ingredient_id IS NOT NULL AND finished_unit_id IS NULL"
            " AND finished_good_id IS NULL)"
            " OR (kind = 'finished_unit' AND finished_unit_id IS NOT NULL"
            " AND ingredient_id IS NULL AND finished_good_id IS NULL)"
            " OR (kind = 'finished_good' AND finished_good_id IS NOT NULL"
            " AND ingredient_id IS NULL AND finished_unit_id IS NULL)",
            name="one_item",
        ),
        Index("ix_lots_fifo_ingredient", "ingredient_id", "acquired_on", "id",
              "unit", "remaining",  # stock on hand summed from the index alone
              sqlite_where=text("remaining > 0"), postgresql_where=text("remaining > 0")),
        Index("ix_lots_fifo_finished_unit", "finished_unit_id", "acquired_on", "id",
              "unit", "remaining",  # stock on hand summed from the index alone
              sqlite_where=text("remaining > 0"), postgresql_where=text("remaining > 0")),
        Index("ix_lots_fifo_finished_good", "finished_good_id", "acquired_on", "id",
              "unit", "remaining",  # stock on hand summed from the index alone
              sqlite_where=text("remaining > 0"), postgresql_where=text("remaining > 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = uuid_column()
    kind: Mapped[str] = mapped_column(String(16))
    ingredient_id: Mapped[int | None] = mapped_column(ForeignKey("ingredients.id"))
    finished_unit_id: Mapped[int | None] = mapped_column(ForeignKey("finished_units.id"))
    finished_good_id: Mapped[int | None] = mapped_column(ForeignKey("finished_goods.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"), index=True)
    #: the production or assembly run that made this lot
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True)
    acquired_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    remaining: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20))
    #: cost per lot unit; NULL for an uncosted lot (price unknown)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    location: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_column()


class Movement(Base):
    """One change of one lot: the ledger. History is never deleted."""

    __tablename__ = "movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = uuid_column()
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True)
    #: purchase, consume, adjust, production, assembly, reversal, load
    reason: Mapped[str] = mapped_column(String(200))
    #: signed, in the lot's unit
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    #: signed; NULL when the lot is uncosted
    cost: Mapped[Decimal | None] = mapped_column(Money)
    #: the business date of the change (purchase, run, consumption or count date): history
    #: is read by this date, never by ``created_at``
    posted_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = created_column()

"""Event tables: events, recipients, gift packages and their contents, assignments, targets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bakekit.db.models.base import Base, Quantity

ASSIGNMENT_STATUSES = ("pending", "assembled", "delivered")


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)


class Recipient(Base):
    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    household: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class Package(Base):
    """A gift package: finished goods with quantities."""

    __tablename__ = "packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)


class PackageContent(Base):
    __tablename__ = "package_contents"
    __table_args__ = (
        UniqueConstraint("package_id", "finished_good_id", name="package_good"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"),
                                            index=True)
    finished_good_id: Mapped[int] = mapped_column(ForeignKey("finished_goods.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)


class Assignment(Base):
    """A package given to a recipient at an event."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_id", "package_id", name="event_recipient_package"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("status IN ('pending', 'assembled', 'delivered')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=1)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    notes: Mapped[str | None] = mapped_column(Text)


class Target(Base):
    """How many of a finished unit (production) or finished good (assembly) an event needs."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("event_id", "finished_unit_id", "finished_good_id", name="event_item"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "(finished_unit_id IS NULL) <> (finished_good_id IS NULL)", name="one_item"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    finished_unit_id: Mapped[int | None] = mapped_column(ForeignKey("finished_units.id"))
    finished_good_id: Mapped[int | None] = mapped_column(ForeignKey("finished_goods.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)

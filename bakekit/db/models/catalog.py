"""Catalog tables: suppliers, ingredients (with hierarchy and density) and products."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bakekit.db.models.base import Base, Money, Quantity, Ratio


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(50))
    website: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)


class Ingredient(Base):
    __tablename__ = "ingredients"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ingredients.id"), index=True)
    #: the density as the user wrote it, e.g. "1 cup = 4.42 oz"
    density: Mapped[str | None] = mapped_column(String(100))
    #: the same density in grams per millilitre, used for conversion
    g_per_ml: Mapped[Decimal | None] = mapped_column(Ratio)
    is_packaging: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the unit levels are shown in (defaults to the unit of its products)
    display_unit: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    ingredient_id: Mapped[int] = mapped_column(ForeignKey("ingredients.id"), index=True)
    brand: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    package_quantity: Mapped[Decimal] = mapped_column(Quantity)
    package_unit: Mapped[str] = mapped_column(String(20))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    preferred: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the latest known price of one package (from a purchase or a price list)
    price: Mapped[Decimal | None] = mapped_column(Money)
    price_on: Mapped[date | None] = mapped_column(Date)
    upc: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)

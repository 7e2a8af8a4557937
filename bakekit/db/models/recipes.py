"""Recipe tables: recipes, their ingredients, nested components, and finished units."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bakekit.db.models.base import Base, Quantity, created_column


class Recipe(Base):
    __tablename__ = "recipes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_column()


class RecipeIngredient(Base):
    __tablename__ = "recipe_ingredients"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"),
                                           index=True)
    ingredient_id: Mapped[int] = mapped_column(ForeignKey("ingredients.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str | None] = mapped_column(Text)


class RecipeComponent(Base):
    """A recipe used inside another, in (possibly fractional) batches."""

    __tablename__ = "recipe_components"
    __table_args__ = (
        UniqueConstraint("recipe_id", "component_id", name="recipe_component"),
        CheckConstraint("batches > 0", name="batches_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"),
                                           index=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("recipes.id"), index=True)
    batches: Mapped[Decimal] = mapped_column(Quantity)


class FinishedUnit(Base):
    """What one batch of a recipe yields: e.g. 24 cookies."""

    __tablename__ = "finished_units"
    __table_args__ = (CheckConstraint("items_per_batch > 0", name="items_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id"), index=True)
    items_per_batch: Mapped[Decimal] = mapped_column(Quantity)
    item_unit: Mapped[str] = mapped_column(String(50), default="each")

"""The typed SQLAlchemy models of the whole domain, one module per area."""

from bakekit.db.models.assembly import FinishedGood, FinishedGoodComponent
from bakekit.db.models.base import Base
from bakekit.db.models.catalog import Ingredient, Product, Supplier
from bakekit.db.models.events import (
    Assignment,
    Event,
    Package,
    PackageContent,
    Recipient,
    Target,
)
from bakekit.db.models.external import ExternalId
from bakekit.db.models.identity import LOCAL_TABLES, AppliedPlan, BakeryIdentity
from bakekit.db.models.inventory import Lot, Movement, Purchase
from bakekit.db.models.recipes import FinishedUnit, Recipe, RecipeComponent, RecipeIngredient
from bakekit.db.models.runs import Run

metadata = Base.metadata

__all__ = [
    "LOCAL_TABLES", "AppliedPlan", "Assignment", "BakeryIdentity", "Base", "Event",
    "ExternalId", "FinishedGood", "FinishedGoodComponent", "FinishedUnit", "Ingredient",
    "Lot", "Movement", "Package", "PackageContent", "Product", "Purchase", "Recipe",
    "RecipeComponent", "RecipeIngredient", "Recipient", "Run", "Supplier", "Target",
    "metadata",
]

"""The schema's tables as importable Core ``Table`` constants.

Code that writes SQL imports the table it means (``from bakekit.db.tables import lots``)
instead of looking it up by a string, so a typo is an ImportError at import time and a
reader can jump to the definition.

>>> from bakekit.db.tables import lots
>>> lots.name
'lots'
"""

from __future__ import annotations

from sqlalchemy import Table

from bakekit.db.models import (
    AppliedPlan,
    Assignment,
    BakeryIdentity,
    Event,
    ExternalId,
    FinishedGood,
    FinishedGoodComponent,
    FinishedUnit,
    Ingredient,
    Lot,
    Movement,
    Package,
    PackageContent,
    Product,
    Purchase,
    Recipe,
    RecipeComponent,
    RecipeIngredient,
    Recipient,
    Run,
    Supplier,
    Target,
    metadata,
)


def _t(model: type) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


suppliers = _t(Supplier)
ingredients = _t(Ingredient)
products = _t(Product)
purchases = _t(Purchase)
lots = _t(Lot)
movements = _t(Movement)
recipes = _t(Recipe)
recipe_ingredients = _t(RecipeIngredient)
recipe_components = _t(RecipeComponent)
finished_units = _t(FinishedUnit)
finished_goods = _t(FinishedGood)
finished_good_components = _t(FinishedGoodComponent)
runs = _t(Run)
events = _t(Event)
recipients = _t(Recipient)
packages = _t(Package)
package_contents = _t(PackageContent)
assignments = _t(Assignment)
targets = _t(Target)
external_ids = _t(ExternalId)
bakery_identity = _t(BakeryIdentity)
applied_plans = _t(AppliedPlan)


def by_name(name: str) -> Table:
    """The table called ``name``, for code that is handed a table name as data.

    >>> by_name("lots") is lots
    True
    """
    return metadata.tables[name]

"""The names of the schema's tables, for code that needs nothing else of the schema:
``bakekit info`` counts the rows of each without importing the models (declaring them
costs about a third of what importing pandas does). The models are the definition;
tests/test_startup.py fails when a table is added to them and not here.

>>> "lots" in TABLE_NAMES
True
"""

from __future__ import annotations

#: every table of ``bakekit.db.models.metadata``, sorted by name
TABLE_NAMES: tuple[str, ...] = (
    "applied_plans", "assignments", "bakery_identity", "events", "external_ids",
    "finished_good_components", "finished_goods", "finished_units", "ingredients", "lots",
    "movements", "package_contents", "packages", "products", "purchases",
    "recipe_components", "recipe_ingredients", "recipes", "recipients", "runs",
    "suppliers", "targets",
)

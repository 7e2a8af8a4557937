"""The benchmark cases, one module each; ``CASES`` lists them in RESULTS.md order."""

from __future__ import annotations

#: module names under benchmarks.cases, in the order of the results table
CASES = (
    "lots_read",
    "lots_orm",
    "lots_memory",
    "lots_postgres",
    "fifo_scaling",
    "production",
    "what_if",
    "production_postgres",
    "shopping_list",
    "import_bake_tracker",
    "import_cli",
    "reconcile",
    "reconcile_view",
    "levels_as_of",
)

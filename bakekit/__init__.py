"""bakekit: a data toolkit for baking operations, over one SQL database.

>>> import bakekit
>>> bakery = bakekit.open(":memory:")
>>> with bakery.session() as ws:
...     ws.inventory.lots().empty
True
"""

from bakekit.bakery import Bakery, open
from bakekit.errors import (
    BakekitError,
    ConcurrencyError,
    DatabaseError,
    DryRunError,
    ImportValidationError,
    InsufficientStockError,
    InUseError,
    NotFoundError,
    PlanAlreadyAppliedError,
    ReadOnlyError,
    RecipeCycleError,
    SchemaVersionError,
    StalePlanError,
    UnitConversionError,
    ValidationError,
    WorkspaceClosedError,
)
from bakekit.plan import Plan
from bakekit.results import Adjustment, Availability, Consumption, Receipt, Saved
from bakekit.workspace import Workspace

__version__ = "0.1.0"


def demo(path: str | None = None) -> Bakery:
    """A fresh database loaded with the sample data under data/ (a temporary file by default).

    >>> bakery = bakekit.demo()
    >>> with bakery.session() as ws:
    ...     ws.events.events()["item"].tolist()
    ['Holidays 2025']
    """
    from bakekit.sample import build_demo

    return build_demo(path)


__all__ = [
    "Adjustment", "Availability", "Bakery", "BakekitError", "ConcurrencyError", "Consumption",
    "DatabaseError",
    "DryRunError", "ImportValidationError", "InUseError", "InsufficientStockError",
    "NotFoundError", "Plan", "PlanAlreadyAppliedError", "ReadOnlyError", "Receipt",
    "RecipeCycleError",
    "Saved", "SchemaVersionError", "StalePlanError", "UnitConversionError", "ValidationError",
    "Workspace", "WorkspaceClosedError", "demo", "open",
]

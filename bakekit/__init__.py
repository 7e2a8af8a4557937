"""bakekit: a data toolkit for baking operations, over one SQL database.

>>> import bakekit
>>> bakery = bakekit.open(":memory:")
>>> with bakery.session() as ws:
...     ws.inventory.lots().empty
True
"""

from __future__ import annotations

# isort: off
from bakekit import _early  # noqa: F401 (first: Ctrl-C while `bakekit` loads, exit 130)
# isort: on
from typing import TYPE_CHECKING, Any

from bakekit.errors import (
    BakekitError,
    ConcurrencyError,
    DatabaseError,
    DryRunError,
    ImportValidationError,
    InsufficientStockError,
    InUseError,
    InvalidPlanError,
    NotFoundError,
    PlanAlreadyAppliedError,
    ReadOnlyError,
    RecipeCycleError,
    SchemaVersionError,
    StalePlanError,
    UnitConversionError,
    ValidationError,
    WorkspaceClosedError,
    WrongDatabaseError,
)

if TYPE_CHECKING:  # pragma: no cover - the lazy names below, for type checkers
    from bakekit.bakery import Bakery, open
    from bakekit.plan import Plan
    from bakekit.results import Adjustment, Availability, Consumption, Receipt, Saved
    from bakekit.workspace import Workspace

#: names imported on first use (PEP 562), so that ``import bakekit`` (and the command
#: line's ``--help``) does not load pandas, SQLAlchemy and the units at start-up; a
#: Bakery loads the workspace's modules (areas, pandas) when it opens its first workspace
_LAZY = {"Bakery": "bakekit.bakery", "open": "bakekit.bakery", "Plan": "bakekit.plan",
         "Adjustment": "bakekit.results", "Availability": "bakekit.results",
         "Consumption": "bakekit.results", "Receipt": "bakekit.results",
         "Saved": "bakekit.results", "Workspace": "bakekit.workspace"}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from the package metadata when first asked for
        globals()[name] = version = _version()
        return version
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bakekit' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def _version() -> str:
    """The installed distribution's version; a marker when bakekit runs uninstalled."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bakekit")
    except PackageNotFoundError:  # a bare checkout on sys.path, never pip-installed
        return "0+unknown"


if TYPE_CHECKING:  # pragma: no cover
    #: the version of the installed bakekit distribution (from its package metadata;
    #: looked up on first use, since importlib.metadata is slow to load)
    __version__: str


def demo(path: str | None = None, *, progress: bool = True) -> Bakery:
    """A fresh database loaded with the packaged sample data (a temporary file by default,
    removed when Python exits); a progress bar (tqdm) while it loads, unless
    ``progress=False``.

    >>> bakery = bakekit.demo(progress=False)
    >>> with bakery.session() as ws:
    ...     ws.events.events()["item"].tolist()
    ['Holidays 2025']
    """
    from bakekit.sample import build_demo

    return build_demo(path, progress=progress)


__all__ = [
    "Adjustment", "Availability", "Bakery", "BakekitError", "ConcurrencyError",
    "Consumption", "DatabaseError", "DryRunError", "ImportValidationError", "InUseError",
    "InvalidPlanError", "InsufficientStockError", "NotFoundError", "Plan",
    "PlanAlreadyAppliedError", "ReadOnlyError", "Receipt", "RecipeCycleError", "Saved",
    "SchemaVersionError", "StalePlanError", "UnitConversionError", "ValidationError",
    "Workspace", "WorkspaceClosedError", "WrongDatabaseError", "__version__", "demo", "open",
]

"""Every public read of every area, and a walk that finds anything not plain in a result."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from bakekit.operations import Area
from tests.support.workflows import EVENT

PLAIN = (str, int, float, bool, type(None), Decimal, dt.date, dt.datetime, dt.time,
         np.integer, np.floating, np.bool_, pd.Timestamp)


def walk(value: Any, path: str = "result") -> list[str]:
    """Every place in value that is not plain (an empty list means clean)."""
    if isinstance(value, PLAIN):
        return []
    if isinstance(value, pd.DataFrame):
        bad = []
        for column in value.columns:
            if value[column].dtype == object:
                for i, cell in enumerate(value[column]):
                    if not isinstance(cell, PLAIN) and not (
                            isinstance(cell, float) or cell is pd.NA or cell is pd.NaT):
                        bad += walk(cell, f"{path}[{column!r}][{i}]")
        return bad
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        bad = []
        for f in dataclasses.fields(value):
            if f.name.startswith("_"):
                continue  # a private back-reference (Reconciliation's workspace area)
            bad += walk(getattr(value, f.name), f"{path}.{f.name}")
        return bad
    if isinstance(value, (list, tuple)):
        return [b for i, v in enumerate(value) for b in walk(v, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [b for k, v in value.items() for b in walk(k, f"{path} key") + walk(
            v, f"{path}[{k!r}]")]
    module = type(value).__module__
    return [f"{path}: {type(value).__qualname__} from {module}"]


#: arguments of the reads that take some (on the seeded demo)
READ_ARGS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "Catalog.products": (("flour-ap",), {}),
    "Inventory.preview_consume": (("flour-ap", 3, "cup"), {}),
    "Inventory.lots": (("sugar",), {"include_empty": True}),
    "Inventory.movements": (("butter",), {}),
    "Recipes.ingredients_for": (("frosted-brownies", 2), {}),
    "Recipes.cost": (("frosted-brownies", 2), {}),
    "Production.check": (("frosted-brownie",), {"batches": 2}),
    "Assembly.check": (("holiday-sampler",), {"quantity": 3}),
    "Events.assignments": ((EVENT,), {}),
    "Events.requirements": ((EVENT,), {}),
    "Events.progress": ((EVENT,), {}),
    "Events.shopping_list": ((EVENT,), {}),
    "Inventory.levels": ((), {"as_of": "2025-11-30"}),
    "Inventory.valuation": ((), {"as_of": "2025-11-30"}),
    "Reports.price_history": (("butter",), {}),
    "Reports.usage": (("2025-01-01", "2025-12-31"), {"freq": "MS"}),
    "Reports.aging": ((), {"as_of": "2025-12-31"}),
    "Reports.event_cost": ((EVENT,), {}),
}


SPECIAL = {"IO.reconcile", "IO.export"}  # called below with a file


def every_read(ws: Any, *, unfiltered: bool = False) -> Iterator[tuple[str, Any]]:
    """Call every public read of every area on the seeded demo: (name, result) pairs.

    ``unfiltered=True`` also calls each read that has only optional arguments without
    any (every row, not one ingredient's).
    """
    for cls in Area.__subclasses__():
        area = getattr(ws, cls.area_name)
        for method, member in vars(cls).items():
            if (method.startswith("_") or not callable(member)
                    or getattr(member, "__bakekit_write__", False)):
                continue
            key = f"{cls.__name__}.{method}"
            if key in SPECIAL:
                continue
            args, kwargs = READ_ARGS.get(key, ((), {}))
            params = [p for p in inspect.signature(member).parameters.values()
                      if p.default is p.empty and p.name != "self"
                      and p.kind is not p.VAR_KEYWORD]
            assert len(params) <= len(args) + len(kwargs), f"READ_ARGS lacks {key}"
            yield key, getattr(area, method)(*args, **kwargs)
            if unfiltered and not params and (args or kwargs):
                yield f"{key}()", getattr(area, method)()

"""Fault injection over the registry of every public write method: each one, driven on a
seeded demo database, fails after every SQL statement in turn and must leave every table
unchanged (SQLite and PostgreSQL). A write method without a workflow here fails CI."""

from __future__ import annotations

import pytest

import bakekit
import bakekit.areas.assembly
import bakekit.areas.catalog
import bakekit.areas.events
import bakekit.areas.inventory
import bakekit.areas.production
import bakekit.areas.recipes
import bakekit.io  # noqa: F401  (importing the areas fills WRITE_METHODS)
from bakekit.workspace import WRITE_METHODS
from tests.support.atomic import assert_atomic
from tests.support.workflows import ON_EMPTY, WORKFLOWS, _demo_export

#: (workflow, backend) -> statements injected, for the report at the end of the module
INJECTED: dict[tuple[str, str], int] = {}


def test_every_write_method_has_a_workflow():
    missing = sorted(set(WRITE_METHODS) - set(WORKFLOWS))
    assert not missing, (f"write methods without a fault-injection workflow in "
                         f"tests/support/workflows.py WORKFLOWS: {missing}")
    stale = sorted(set(WORKFLOWS) - set(WRITE_METHODS))
    assert not stale, f"workflows for methods that are not write operations: {stale}"


def test_registry_holds_every_decorated_area_method():
    """The registry is filled by @write_operation: every public area method that carries the
    decorator's mark is in it (nothing registered under another name)."""
    from bakekit.workspace import Area

    marked = set()
    for area in Area.__subclasses__():
        for name, member in vars(area).items():
            if getattr(member, "__bakekit_write__", False):
                marked.add(f"{area.__module__.rsplit('.', 1)[-1]}.{area.__name__}.{name}")
    assert marked and marked <= set(WRITE_METHODS), sorted(marked - set(WRITE_METHODS))


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_fault_at_every_statement_leaves_every_table_unchanged(seeded, name):
    workflow = WORKFLOWS[name]
    assert name in WRITE_METHODS, f"{name} is not a registered write method"
    if name in ON_EMPTY:
        _demo_export()
    total = assert_atomic(seeded, workflow)
    INJECTED[(name, seeded.engine.dialect.name)] = total
    print(f"fault-injected {name} [{seeded.engine.dialect.name}]: {total} statements")
    assert total >= 2

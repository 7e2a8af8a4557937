"""Doctests of bakekit's own modules (``pytest`` collects them with --doctest-modules).

Every example sees ``bakekit``, ``pd``, a ``bakery`` (a fresh copy of the demo database)
``ws`` (an open workspace on it, rolled back after the example) and ``tmp`` (an empty
folder), so the examples in docstrings run as written.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

collect_ignore_glob = ["bakekit/db/migrations/*"]  # Alembic scripts: run by Alembic only


@pytest.fixture(scope="session")
def _demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import bakekit

    path = tmp_path_factory.mktemp("doctest-demo") / "demo.db"
    bakekit.demo(str(path)).dispose()
    return path


@pytest.fixture(autouse=True)
def _doctest_globals(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """For doctest items only: a fresh demo bakery and an open workspace on it."""
    if type(request.node).__name__ != "DoctestItem":
        yield
        return
    import bakekit

    path = tmp_path / "demo.db"
    shutil.copy(request.getfixturevalue("_demo_file"), path)
    bakery = bakekit.open(str(path))
    namespace: dict[str, Any] = request.getfixturevalue("doctest_namespace")
    context = bakery.session()
    ws = context.__enter__()
    namespace.update(bakekit=bakekit, pd=pd, bakery=bakery, ws=ws, tmp=tmp_path)
    try:
        yield
    finally:
        context.__exit__(None, None, None)
        bakery.dispose()

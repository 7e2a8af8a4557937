"""What every case shares: the run context, timing against a baseline, and the result row."""

from __future__ import annotations

import gc
import os
import platform
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import data


@dataclass
class Context:
    """Where and how big a run is: ``quick`` is the smoke size used by the test suite."""

    workdir: Path
    quick: bool = False
    pg_url: str | None = None
    seed: int = data.SEED
    _built: dict[str, str] = field(default_factory=dict)

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    @property
    def repeats(self) -> int:
        return 1 if self.quick else 5

    def database(self, name: str, *, postgresql: bool = False, **spec: Any) -> str:
        """A seeded database built once per run and name (SQLite file or the PG URL)."""
        if postgresql:  # one server database: rebuilt whenever another case used it
            if not self.pg_url:
                raise RuntimeError("no PostgreSQL URL (BAKEKIT_TEST_PG_URL)")
            if self._built.get("postgresql") != name:
                data.build(self.pg_url, seed=self.seed, **spec)
                self._built["postgresql"] = name
            return self.pg_url
        if name not in self._built:
            self._built[name] = data.build(str(self.workdir / f"{name}.db"), seed=self.seed,
                                           **spec)
        return self._built[name]


@dataclass
class CaseResult:
    """One row of RESULTS.md: ours and the baseline in the same unit, and the goal on
    ours / baseline (``ratio``)."""

    case: str
    ours: float
    baseline: float
    unit: str
    limit: float
    goal: str
    rows: int
    note: str = ""
    #: a further condition of the goal besides the ratio (e.g. equal statement counts)
    also_met: bool = True
    #: the case's module name (set by the runner)
    module: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit and self.also_met


@dataclass
class NotRun:
    """A case that could not run (its area is not built yet, or no PostgreSQL)."""

    case: str
    goal: str
    reason: str


def clock(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes (garbage collected before, so earlier runs don't bill it)."""
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def race(ours: Callable[[], Any], baseline: Callable[[], Any],
         repeats: int) -> tuple[float, float, Any, Any]:
    """Best of ``repeats`` for each, alternating ours and the baseline so that load from
    other processes hits both alike. Returns (ours s, baseline s, ours value, baseline value).
    """
    best_ours = best_base = float("inf")
    out_ours = out_base = None
    for _ in range(repeats):
        out_ours = out_base = None  # free the previous round's results first
        t, out_ours = clock(ours)
        best_ours = min(best_ours, t)
        t, out_base = clock(baseline)
        best_base = min(best_base, t)
    return best_ours, best_base, out_ours, out_base


def machine() -> str:
    """One line describing this machine and the software measured."""
    import pandas as pd
    import sqlalchemy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        memory = "RAM unknown"
    return (f"{cpu}, {os.cpu_count()} cores, {memory}, {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, pandas {pd.__version__}, SQLAlchemy "
            f"{sqlalchemy.__version__}")


@contextmanager
def sqlite_baseline(path: Path, source: Path) -> Iterator[sqlite3.Connection]:
    """A hand-written baseline's start: ``json.load`` the input file, then a plain sqlite3
    connection to ``path`` with foreign keys on, bakekit's durability for a WAL database
    (``synchronous = NORMAL``: a commit does not wait for fsync) and the write lock taken
    (BEGIN IMMEDIATE).
    The caller commits or rolls back; the connection is closed at exit."""
    import json

    with open(source, encoding="utf-8") as f:
        json.load(f)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("BEGIN IMMEDIATE")
        yield con
    finally:
        con.close()

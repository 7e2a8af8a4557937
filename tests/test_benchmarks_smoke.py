"""Every benchmark case runs at tiny size so the benchmarks cannot rot (no timings checked)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks import run as bench_run
from benchmarks.cases import CASES
from benchmarks.common import CaseResult, Context

pytest.importorskip("psutil", reason="the bench extra (pip install -e '.[bench]') is missing")

POSTGRESQL_CASES = {"lots_postgres", "production_postgres"}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    return Context(workdir=tmp_path_factory.mktemp("bench"), quick=True,
                   pg_url=os.environ.get("BAKEKIT_TEST_PG_URL") or None)


@pytest.mark.parametrize("name", CASES)
def test_case_runs_and_produces_rows(name: str, ctx: Context) -> None:
    if name in POSTGRESQL_CASES:
        if not ctx.pg_url:
            pytest.skip("no PostgreSQL server: BAKEKIT_TEST_PG_URL is not set")
        pytest.importorskip("adbc_driver_postgresql")
    result = bench_run.run_case(name, ctx)
    assert isinstance(result, CaseResult), result
    assert result.rows > 0
    assert result.ours > 0 and result.baseline > 0
    assert result.goal and result.unit


def test_results_table_lists_every_case_and_pending_area(ctx: Context, tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    assert bench_run.main(["--quick", "--only", "fifo_scaling", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| case | ours | baseline | ratio | goal | met |" in text
    assert "consume 3 oldest" in text
    rendered = bench_run.render(bench_run.pending(), quick=True)
    assert rendered.count("not run yet") == len(
        [m for m, _, _ in bench_run.PENDING if m not in CASES])


def test_startup_rows_run_once_each_against_the_floor(ctx: Context) -> None:
    from benchmarks import startup

    results = startup.run(ctx)  # smoke size: one round, an empty database
    assert [r.case for r in results] == [case for _, case, _, _ in startup.ROWS]
    assert all(r.ours > 0 and r.baseline > 0 and r.rows == 1 for r in results)

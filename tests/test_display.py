"""Money and names in every display (issue 31): one rule (bakekit.display) used by the plan
and result HTML, the CLI tables and the plots; the frames themselves stay numeric."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from typer.testing import CliRunner

import bakekit
from bakekit.cli import app
from bakekit.display import PALETTE, cell_text, money_text, percent_text
from bakekit.nb import display_names, plot_aging, plot_event_cost, plot_usage


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("display") / "demo.db"
    bakekit.demo(str(path)).dispose()
    return str(path)


def test_money_has_cents_and_shares_are_percent():
    assert money_text(1335.974) == "$1,335.97" and money_text(6.7530465428) == "$6.75"
    assert money_text(float("nan")) == "" and money_text(pd.NA) == ""
    assert percent_text(0.1234) == "12.3%"
    assert cell_text("share", 0.5) == "50.0%" and cell_text("value", 2) == "$2.00"


def test_plan_and_result_html_show_money_as_money_and_frames_stay_numeric(demo_file):
    bakery = bakekit.open(demo_file)
    try:
        with bakery.what_if() as ws:
            made = ws.production.record("chocolate-chip-cookie", batches=1)
        html = ws.plan._repr_html_()
        assert re.search(r"\$\d+\.\d\d<", html), html
        assert not re.search(r">-?\d+\.\d{3,}<", html)   # no 4-digit or 10-place numbers
        result = made._repr_html_()
        assert f"{money_text(made.total_cost)}<" in result
        assert not re.search(r"\d\.\d{5,}", result)      # total_cost 6.7530465428 and the like
        assert ws.plan.summary()["cost"].dtype == "float64"   # the frame stays numeric
    finally:
        bakery.dispose()


def test_cli_tables_show_money_with_cents_and_shares_as_percent(demo_file):
    result = CliRunner().invoke(app, ["levels", "--url", demo_file], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert re.search(r"\$\d[\d,]*\.\d\d\b", result.output), result.output
    plain = CliRunner().invoke(app, ["levels", "--url", demo_file, "--format", "csv"])
    assert "$" not in plain.output                        # data for scripts stays numbers


def test_plots_name_things_carry_currency_have_headroom_and_distinct_neighbours(demo_file):
    bakery = bakekit.open(demo_file)
    try:
        with bakery.session() as ws:
            names = display_names(ws)
            usage = ws.reports.usage()
            aging = ws.reports.aging(as_of="2025-12-31")
            cost = ws.reports.event_cost("Holidays 2025")
    finally:
        bakery.dispose()
    fig = plot_usage(usage, names=names)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "cost ($)"
    assert ax.yaxis.get_major_formatter()(12.5, 0) == "$12.50"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "All-purpose flour" in legend and "flour-ap" not in legend
    tallest = usage.groupby("period")["cost"].sum().max()
    assert ax.get_ylim()[1] >= tallest * 1.1               # headroom over the tallest stack
    colours = [to_rgb(p.get_facecolor()) for p in ax.get_legend().get_patches()]
    assert all(a != b for a, b in zip(colours, colours[1:], strict=False))
    assert len(set(map(to_rgb, PALETTE))) == len(PALETTE)
    fig = plot_aging(aging, names=names)
    assert fig.axes[0].get_ylabel() == "value at cost ($)"
    fig = plot_event_cost(cost, names=names)
    assert "$" in fig.axes[0].get_title() and re.search(r"\$[\d,]+\.\d\d in all",
                                                        fig.axes[0].get_title())
    assert fig.axes[0].get_xlabel() == "cost ($)"


def test_the_cli_refusal_for_drift_names_allow_drift(demo_file, tmp_path):
    path = tmp_path / "demo.db"
    path.write_bytes(Path(demo_file).read_bytes())
    bakery = bakekit.open(str(path))
    try:
        with bakery.what_if() as ws:
            ws.production.record("chocolate-chip-cookie", batches=1)
        plan_file = tmp_path / "plan.json"
        plan_file.write_text(ws.plan.to_json())
        with bakery.session() as ws:  # only the stock moves: more flour arrives
            ws.inventory.purchase("ka-flour-5lb", unit_cost=6.49, purchased_on="2025-12-05")
            ws.commit()
    finally:
        bakery.dispose()
    refused = CliRunner().invoke(app, ["apply", str(plan_file), "--url", str(path)],
                                 env={"NO_COLOR": "1"})
    assert refused.exit_code != 0
    assert "--allow-drift" in refused.output and "allow_drift=True" not in refused.output
    applied = CliRunner().invoke(app, ["apply", str(plan_file), "--url", str(path),
                                       "--allow-drift"], env={"NO_COLOR": "1"})
    assert applied.exit_code == 0, applied.output

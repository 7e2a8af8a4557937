"""The `bakekit` command: thin wrappers over library calls of the same name (Typer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

import bakekit
from bakekit.errors import BakekitError, StalePlanError

app = typer.Typer(help="bakekit: inventory, FIFO costing, recipes and events for bakers.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
plan_app = typer.Typer(help="Review saved what-if plans.", no_args_is_help=True)
app.add_typer(plan_app, name="plan")

UrlOption = Annotated[str | None, typer.Option(
    "--url", help="database URL or SQLite path (default: $BAKEKIT_URL or the user data dir)")]


def _show(frame: pd.DataFrame, title: str) -> None:
    typer.secho(title, bold=True)
    if frame.empty:
        typer.echo("  (none)")
    else:
        with pd.option_context("display.width", 160, "display.max_columns", 20,
                               "display.max_rows", 60):
            typer.echo(frame.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    typer.echo()


def _fail(exc: BakekitError) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def demo(
    path: Annotated[Path | None, typer.Option(help="where to create the demo database "
                                              "(default: a new temporary file)")] = None,
    finished_unit: Annotated[str, typer.Option(help="what the what-if produces")] =
    "chocolate-chip-cookie",
    batches: Annotated[float, typer.Option(help="batches in the what-if")] = 2,
    commit: Annotated[bool, typer.Option(help="apply the what-if for real")] = False,
    save_plan: Annotated[Path | None, typer.Option(help="save the plan as JSON")] = None,
) -> None:
    """Build a demo database from data/, show stock, and preview a production run."""
    try:
        bakery = bakekit.demo(str(path) if path else None)
        typer.secho(f"demo database: {bakery.url}", fg=typer.colors.GREEN)
        with bakery.session() as ws:
            _show(ws.inventory.valuation(), "Stock value at cost")
            _show(ws.production.stock(), "Finished units on hand")
            check = ws.production.check(finished_unit, batches=batches)
            _show(check.frame[["item", "needed", "available", "shortfall", "unit"]],
                  f"Can we make {batches:g} batch(es) of {finished_unit}? "
                  f"{'yes' if check.ok else 'no'}")
        with bakery.what_if() as ws:
            result = ws.production.record(finished_unit, batches=batches)
            typer.echo(f"what-if: {result.quantity:g} x {finished_unit} at "
                       f"{result.per_unit_cost:.4f} each (total {result.total_cost:.2f})\n")
        plan = ws.plan
        _show(plan.summary(), "What-if plan (nothing written yet)")
        if save_plan:
            save_plan.write_text(plan.to_json())
            typer.echo(f"plan saved to {save_plan}; apply it with: bakekit apply {save_plan} "
                       f"--url {bakery.url}")
        if commit:
            rows = plan.apply()
            typer.secho(f"committed: {len(rows)} ledger rows", fg=typer.colors.GREEN)
        else:
            typer.echo("nothing committed (use --commit to apply the plan)")
    except BakekitError as exc:
        _fail(exc)


@plan_app.command("show")
def plan_show(file: Path, url: UrlOption = None) -> None:
    """Show a saved plan's operations and summary."""
    try:
        plan = bakekit.Plan.from_json(file.read_text(), bakekit.open(url, read_only=True))
        _show(plan.operations, "Operations")
        _show(plan.summary(), "Summary (as previewed)")
        typer.echo("applied" if plan.applied else "not applied")
    except BakekitError as exc:
        _fail(exc)


@app.command("apply")
def apply_plan(file: Path, url: UrlOption = None) -> None:
    """Apply a saved plan; refused (with the differences) if the data moved since."""
    try:
        plan = bakekit.Plan.from_json(file.read_text(), bakekit.open(url))
        rows = plan.apply()
    except StalePlanError as exc:
        typer.secho(f"refused: {exc}", fg=typer.colors.RED, err=True)
        _show(exc.diff, "What moved")
        raise typer.Exit(2) from None
    except BakekitError as exc:
        _fail(exc)
    typer.secho(f"applied: {len(rows)} ledger rows committed", fg=typer.colors.GREEN)


@app.command()
def levels(url: UrlOption = None,
           as_of: Annotated[str | None, typer.Option(
               "--as-of", help="stock at the end of this date (YYYY-MM-DD), from the "
               "ledger")] = None) -> None:
    """Stock on hand per item, with value at cost (today, or at the end of --as-of)."""
    try:
        with bakekit.open(url, read_only=True).session() as ws:
            _show(ws.inventory.levels(as_of=as_of),
                  "Stock levels" if as_of is None else f"Stock levels at the end of {as_of}")
    except BakekitError as exc:
        _fail(exc)




# -- io: thin wrappers over ws.io -----------------------------------------------------
@app.command("import")
def import_file(file: Path, url: UrlOption = None) -> None:
    """Import a bake-tracker export (v3.x or v4.x) and commit; prints the report."""
    try:
        with bakekit.open(url).session() as ws:
            report = ws.io.import_bake_tracker(file)
            ws.commit()
        _show(report.frame, f"Imported {file}")
    except BakekitError as exc:
        if getattr(exc, "errors", None) is not None:
            _show(exc.errors, "Problems (nothing was written)")  # type: ignore[attr-defined]
        _fail(exc)


@app.command("export")
def export_file(file: Path, url: UrlOption = None) -> None:
    """Write the whole database to a bakekit JSON file."""
    try:
        with bakekit.open(url, read_only=True).session() as ws:
            counts = ws.io.export(file)
        typer.echo(f"exported {sum(counts.values())} rows to {file}")
    except BakekitError as exc:
        _fail(exc)


@app.command("reconcile")
def reconcile_file(file: Path,
                   kind: Annotated[str, typer.Option("--kind", help="prices, purchases or "
                                                     "inventory_count")] = "prices",
                   apply: Annotated[bool, typer.Option("--apply", help="write and commit "
                                                       "the new and changed rows")] = False,
                   url: UrlOption = None) -> None:
    """Review a price list, purchases or a stock count; --apply commits it."""
    try:
        with bakekit.open(url).session() as ws:
            review = ws.io.reconcile(file, kind=kind)
            _show(review.frame, f"Reconciliation ({kind})")
            if apply:
                report = review.apply()
                ws.commit()
                _show(report.frame, "Applied")
    except BakekitError as exc:
        _fail(exc)


if __name__ == "__main__":  # pragma: no cover
    app()

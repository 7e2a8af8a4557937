"""The `bakekit` command: thin wrappers over library calls of the same name (Typer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

import bakekit
from bakekit.errors import (
    BakekitError,
    PlanAlreadyAppliedError,
    StalePlanError,
    WrongDatabaseError,
)
from bakekit.results import ImportReport

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


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"bakekit {bakekit.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="print bakekit's version (from the installed package) and exit")] = False,
) -> None:
    """bakekit: inventory, FIFO costing, recipes and events for bakers.

    $ bakekit --version
    """


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
    """Build a demo database from the packaged sample data, show stock, preview a run."""
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


def _read_plan_file(file: Path) -> str:
    """A plan file's text, or a one-line error (exit 1) for a missing or unreadable file."""
    try:
        if file.is_dir():
            raise BakekitError(f"plan file {str(file)!r} is a folder, not a file")
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BakekitError(f"plan file {str(file)!r} does not exist") from None
    except UnicodeDecodeError as exc:
        raise BakekitError(f"plan file {str(file)!r} is not UTF-8 text ({exc.reason} at byte "
                           f"{exc.start})") from None
    except OSError as exc:
        raise BakekitError(f"plan file {str(file)!r} cannot be read: "
                           f"{exc.strerror or exc}") from None


def _existing_database(url: str | None) -> tuple[bakekit.Bakery | None, str]:
    """The database named by --url or $BAKEKIT_URL, opened read-only, or None and why not
    (never creates a database: a SQLite path that is not there is not opened)."""
    import os

    from bakekit.db.engine import resolve_url

    given = url or os.environ.get("BAKEKIT_URL")
    if not given:
        return None, "not checked (give --url or set BAKEKIT_URL to look it up)"
    resolved = resolve_url(given)
    from sqlalchemy.engine import make_url

    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not (
            parsed.database.startswith("file:") or Path(parsed.database).exists()):
        return None, f"not checked (no database at {parsed.database})"
    try:
        return bakekit.open(resolved, read_only=True), ""
    except BakekitError as exc:
        return None, f"not checked ({exc})"


@plan_app.command("show")
def plan_show(file: Path, url: UrlOption = None) -> None:
    """Show a saved plan: where it was made, what it will do, its summary, whether applied."""
    try:
        text = _read_plan_file(file)
        bakery, why_not = _existing_database(url)
        plan = bakekit.Plan.from_json(text, bakery)
        typer.secho(f"Plan {plan.plan_id}", bold=True)
        typer.echo(f"  made {plan.made_at} on database {plan.database_label}")
        typer.echo(f"  database id {plan.database_id}\n")
        lines = plan.describe()
        typer.secho(f"What it will do ({len(lines)} operation(s))", bold=True)
        for n, line in enumerate(lines, start=1):
            typer.echo(f"  {n}. {line}")
        typer.echo()
        _show(plan.summary(), "Summary (as previewed)")
        if bakery is None:
            typer.echo(f"applied: {why_not}")
        elif bakery.database_id != plan.database_id:
            typer.echo(f"applied: not checked ({bakery.database_label}, id "
                       f"{bakery.database_id}, is not the database the plan was made on)")
        else:
            when = plan.applied_at()
            typer.echo(f"applied: yes, at {when:%Y-%m-%d %H:%M:%S} UTC to "
                       f"{bakery.database_label}" if when is not None
                       else f"applied: no (not yet applied to {bakery.database_label})")
    except BakekitError as exc:
        _fail(exc)


#: exit codes of `bakekit apply` (1: any other error, e.g. an invalid plan file)
EXIT_STALE, EXIT_ALREADY_APPLIED, EXIT_WRONG_DATABASE = 2, 3, 4


@app.command("apply")
def apply_plan(file: Path, url: UrlOption = None) -> None:
    """Apply a saved plan, once, on the database it was made on; refused (with the
    differences) if the data moved since. Exit codes: 2 stale, 3 already applied,
    4 another database, 1 any other error."""
    try:
        text = _read_plan_file(file)
        plan = bakekit.Plan.from_json(text, bakekit.open(url))
        rows = plan.apply()
    except StalePlanError as exc:
        typer.secho(f"refused: {exc}", fg=typer.colors.RED, err=True)
        _show(exc.diff, "What moved")
        raise typer.Exit(EXIT_STALE) from None
    except PlanAlreadyAppliedError as exc:
        typer.secho(f"refused: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_ALREADY_APPLIED) from None
    except WrongDatabaseError as exc:
        typer.secho(f"refused: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_WRONG_DATABASE) from None
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
def import_file(file: Path, url: UrlOption = None,
                duplicates: Annotated[str, typer.Option(
                    help="a key given twice with differing rows: refuse, first or last")]
                = "refuse",
                zero_price: Annotated[str, typer.Option(
                    help="a price of 0: unknown (not known yet: uncosted) or zero")]
                = "unknown") -> None:
    """Import a bake-tracker export (v3.x or v4.x) or catalog and commit; prints the report,
    every field it did not use, and its notes."""
    try:
        with bakekit.open(url).session() as ws:
            report = ws.io.import_bake_tracker(file, duplicates=duplicates,
                                               zero_price=zero_price)
            ws.commit()
        _show(report.frame, f"Imported {file}")
        _notes(report)
    except BakekitError as exc:
        if getattr(exc, "errors", None) is not None:
            _show(exc.errors, "Problems (nothing was written)")  # type: ignore[attr-defined]
        _fail(exc)


def _notes(report: ImportReport) -> None:
    """What an import read but did not use, and what it decided for the user."""
    notes = []
    if report.zero_prices:
        notes.append(f"{report.zero_prices} price(s) of 0 read as not known yet "
                     "(--zero-price zero keeps a real zero)")
    if report.uncosted_lots:
        notes.append(f"{report.uncosted_lots} lot(s) without a price (uncosted: a later "
                     "price list or purchases view fills them)")
    if report.identical_rows:
        notes.append(f"{report.identical_rows} row(s) given twice, identically: counted once")
    for entity, fields in report.unknown_fields.items():
        notes.append(f"not used from {entity}: {', '.join(fields)}")
    if notes:
        typer.secho("Notes", bold=True)
        for note in notes:
            typer.echo(f"  {note}")
        typer.echo()


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
                   kind: Annotated[str | None, typer.Option(
                       "--kind", help="prices, purchases, inventory_count or products; "
                       "read from bake-tracker views and bt_mobile files (default for "
                       "others: prices)")] = None,
                   apply: Annotated[bool, typer.Option("--apply", help="write and commit "
                                                       "the new and changed rows")] = False,
                   url: UrlOption = None) -> None:
    """Review a price list, purchases, a stock count, or a bake-tracker view or bt_mobile
    file; --apply commits it."""
    try:
        with bakekit.open(url).session() as ws:
            review = ws.io.reconcile(file, kind=kind)
            what = f" from a {review.source_format} file" if review.source_format else ""
            _show(review.frame, f"Reconciliation ({review.kind}{what})")
            if review.unknown_fields:
                typer.echo(f"not used from the records: {', '.join(review.unknown_fields)}\n")
            if apply:
                report = review.apply()
                ws.commit()
                _show(report.frame, "Applied")
    except BakekitError as exc:
        _fail(exc)


if __name__ == "__main__":  # pragma: no cover
    app()

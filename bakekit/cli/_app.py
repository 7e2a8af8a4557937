"""The `bakekit` Typer applications, exit codes and shared options (the commands are
registered in `bakekit.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bakekit.cli._output import Format

#: exit codes: 0 done; 1 an error (a missing file or database, a database error);
#: 2 a usage error (Click's own: an unknown option, a missing argument);
#: 3 the plan was applied already; 4 the plan was made on another database;
#: 5 the plan is stale (the data moved since); 6 refused as invalid (a file or value
#: that does not validate: nothing was written); 130 interrupted (Ctrl-C)
EXIT_ERROR, EXIT_USAGE, EXIT_ALREADY_APPLIED, EXIT_WRONG_DATABASE = 1, 2, 3, 4
EXIT_STALE, EXIT_INVALID, EXIT_INTERRUPTED = 5, 6, 130
EXIT_CODES = {0: "done", EXIT_ERROR: "error", EXIT_USAGE: "usage error",
              EXIT_ALREADY_APPLIED: "plan already applied",
              EXIT_WRONG_DATABASE: "plan made on another database",
              EXIT_STALE: "plan stale (the data moved since)",
              EXIT_INVALID: "refused as invalid (nothing written)",
              EXIT_INTERRUPTED: "interrupted (nothing written)"}


def _flags_as_flags() -> None:
    """Typer 0.29's help shows a flag's type as ``<bool>`` (as if it took a value); show
    flags bare, as Click does (only this display; parsing is unchanged)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_bakekit", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display_type_rich._bakekit = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_as_flags()

CONTEXT = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(help="bakekit: inventory, FIFO costing, recipes and events for bakers.",
                  no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings=CONTEXT)
plan_app = typer.Typer(help="Review saved what-if plans.", no_args_is_help=True,
                       context_settings=CONTEXT)
app.add_typer(plan_app, name="plan")
what_if_app = typer.Typer(help="Preview a write as a what-if and save it as a plan.",
                          no_args_is_help=True, context_settings=CONTEXT)
app.add_typer(what_if_app, name="what-if")


UrlOption = Annotated[str | None, typer.Option(
    "--url", help="database URL or SQLite path (default: $BAKEKIT_URL, else bakery.db in "
    "the user data folder: `bakekit info` prints it); postgres:// URLs are accepted")]
FormatOption = Annotated[Format | None, typer.Option(
    "--format", "-f", help="table (for people), csv or json (only the data on stdout); "
    "default: from -o's extension, else table")]
OutOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="write the data to FILE ('-' for stdout), in the format its "
    "extension names (.csv, .json, else table)")]

KINDS = ("prices", "purchases", "inventory_count", "products")


def _print_version(value: bool) -> None:
    if value:
        from bakekit import __version__

        typer.echo(f"bakekit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="print bakekit's version (from the installed package) and exit")] = False,
) -> None:
    """bakekit: inventory, FIFO costing, recipes and events for bakers.

    Exit codes: 0 done, 1 error, 2 usage error, 3 plan already applied, 4 plan made on
    another database, 5 plan stale, 6 refused as invalid, 130 interrupted.
    """


"""The `bakekit` command: thin wrappers over library calls of the same name (Typer).

Start-up is kept light (``bakekit --help`` imports neither pandas nor SQLAlchemy): the
library is imported inside each command. Output rules, for people and for scripts:

- ``--format table`` (the default) prints for people; ``--format csv|json`` prints only
  the data on stdout (every message goes to stderr), and ``-o FILE`` writes it to a file,
  in the format its extension names (``.csv``, ``.json``, else a table).
- Every error is one or two lines on stderr, naming the file, row and field, and what to
  do; the exit codes are listed in :data:`EXIT_CODES`.
- Ctrl-C prints "interrupted: nothing was written" and exits 130 (every write commits
  whole or not at all).
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from bakekit.errors import (
    BakekitError,
    PlanAlreadyAppliedError,
    StalePlanError,
    ValidationError,
    WrongDatabaseError,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from bakekit.bakery import Bakery
    from bakekit.results import ImportReport

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


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[Format | None, typer.Option(
    "--format", "-f", help="table (for people), csv or json (only the data on stdout); "
    "default: from -o's extension, else table")]
OutOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="write the data to FILE ('-' for stdout), in the format its "
    "extension names (.csv, .json, else table)")]

KINDS = ("prices", "purchases", "inventory_count", "products")

F = TypeVar("F", bound=Callable[..., Any])


# -- messages ------------------------------------------------------------------------
def _color() -> bool:
    return "NO_COLOR" not in os.environ


def _say(message: str = "", *, err: bool = False, fg: str | None = None,
         bold: bool = False) -> None:
    """A line for people (on stderr when err, or whenever stdout carries data)."""
    if _color() and (fg or bold):
        typer.secho(message, err=err, fg=fg, bold=bold)
    else:
        typer.echo(message, err=err)


class _Out:
    """Where this command's data and messages go (stdout/stderr, by --format)."""

    def __init__(self, fmt: Format | None, output: Path | None):
        if fmt is None and output is not None and str(output) != "-":
            suffix = output.suffix.lower()
            fmt = Format.csv if suffix == ".csv" else Format.json if suffix == ".json" \
                else Format.table
        self.format = fmt or Format.table
        self.output = None if output is None or str(output) == "-" else output
        if self.output is not None and not self.output.parent.is_dir():
            raise BakekitError(f"-o {str(self.output)!r}: folder "
                               f"{str(self.output.parent)!r} does not exist; create it first")
        #: messages go to stderr when stdout carries csv or json
        self.quiet = self.format is not Format.table and self.output is None
        self._parts: list[str] = []

    def say(self, message: str = "", **style: Any) -> None:
        _say(message, err=self.quiet, **style)

    def frame(self, frame: pd.DataFrame, title: str, **json_extra: Any) -> None:
        """Show one frame: a table for people, or CSV/JSON (stdout or -o)."""
        if self.format is Format.table:
            text = _table_text(frame, title, file=self.output is not None)
            if self.output is None:
                _render_table(frame, title)
            else:
                self._parts.append(text)
        elif self.format is Format.csv:
            self._parts.append(frame.to_csv(index=False, lineterminator="\n"))
        else:
            import json

            records = json.loads(frame.to_json(orient="records", date_format="iso"))
            self._parts.append(json.dumps(
                {**json_extra, "rows": records} if json_extra else records, indent=1) + "\n")

    def close(self) -> None:
        text = "".join(self._parts)
        if self.output is not None:
            try:
                self.output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise BakekitError(f"-o {str(self.output)!r}: cannot write it: "
                                   f"{exc.strerror or exc}") from None
            _say(f"wrote {str(self.output)!r} ({self.format.value})", err=True)
        elif text:
            sys.stdout.write(text)
            sys.stdout.flush()


def _number(value: Any) -> str:
    """A number for people: thousands separators, no exponent, no trailing zeros."""
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    v = float(value)
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    a = abs(v)
    text = f"{v:,.2f}" if a >= 100 else f"{v:,.3f}" if a >= 1 else f"{v:.4f}" \
        if a >= 0.001 else f"{v:.2e}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cell(value: Any) -> str:
    import numbers

    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return _number(value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) \
            else value.strftime("%Y-%m-%d")
    return str(value)


def _rich_table(frame: pd.DataFrame, title: str, width: int | None = None) -> Any:
    """A Rich table of the frame; with `width`, the columns that would not fit even at
    their narrowest are left out (and the title says how many)."""
    import pandas as pd
    from rich import box
    from rich.table import Table

    cells = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    shown = len(frame.columns)
    if width is not None:
        used = 2
        for n, column in enumerate(frame.columns):
            numeric = pd.api.types.is_numeric_dtype(frame[column])
            longest = max([len(row[n]) for row in cells] + [len(str(column))])
            used += (longest if numeric else min(longest, 12)) + 3
            if used > width:
                shown = max(1, n)
                break
    if shown < len(frame.columns):
        title += (f"  ({len(frame.columns) - shown} more column(s) not shown: "
                  "--format csv or a wider terminal shows them)")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD,
                  title_style="bold" if _color() else "")
    cells = [row[:shown] for row in cells]
    for n, column in enumerate(frame.columns[:shown]):
        numeric = pd.api.types.is_numeric_dtype(frame[column]) and \
            not pd.api.types.is_bool_dtype(frame[column])
        longest = max([len(row[n]) for row in cells] + [1])
        # numbers are never broken; text wraps (on words) down to a readable width
        table.add_column(str(column), justify="right" if numeric else "left",
                         overflow="fold", no_wrap=numeric,
                         min_width=longest if numeric else min(longest, 12),
                         max_width=None if numeric else 40)
    for row in cells:
        table.add_row(*row)
    return table


def _console(file: Any = None, width: int | None = None) -> Any:
    from rich.console import Console

    if width is None and file is None and not sys.stdout.isatty():
        # piped or redirected: no terminal to fit; $COLUMNS if set, else do not wrap at 80
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() else 250
    return Console(file=file, width=width, no_color=not _color(), highlight=False,
                   soft_wrap=False)


def _render_table(frame: pd.DataFrame, title: str) -> None:
    if frame.empty:
        _say(title, bold=True)
        _say("  (none)\n")
        return
    console = _console()
    console.print(_rich_table(frame, title, width=console.width))


def _table_text(frame: pd.DataFrame, title: str, *, file: bool) -> str:
    import io

    if frame.empty:
        return f"{title}\n  (none)\n\n"
    buffer = io.StringIO()
    _console(file=buffer, width=200 if file else None).print(_rich_table(frame, title))
    return buffer.getvalue()


# -- errors ----------------------------------------------------------------------------
_PYTHON_HINTS = re.compile(r"\s*\(see \.\w+[^)]*\)|;?\s*see \.\w+( for all)?")


def _plain(message: str) -> str:
    """An error message without pointers to Python attributes or calls."""
    text = re.sub(r"\(see \.\w+ for all; ", "(", message)
    text = _PYTHON_HINTS.sub("", text)
    text = text.replace(
        "it cannot be created or migrated through a read-only bakery: open it once for "
        "writing (bakekit.open(url))",
        "a read command does not create or migrate it: a write command (bakekit import, "
        "load, or reconcile --apply) does")
    return text.replace(" row None", "").replace("<NA>", "(empty)")


def _fail(message: str, code: int = EXIT_ERROR, hint: str | None = None) -> NoReturn:
    _say(f"error: {_plain(message)}", err=True, fg="red")
    if hint:
        _say(f"  {hint}", err=True)
    raise typer.Exit(code)


def _problems(errors: pd.DataFrame, limit: int = 10) -> None:
    """An import's problems, once, on stderr: one line each (the first `limit`)."""
    for record in errors.head(limit).to_dict("records"):
        entity = str(record.get("entity") or "")
        row = record.get("row")
        where = entity
        if row is not None and _cell(row) != "":  # 1-based; a JSON syntax error: its line
            where = "line" if entity == "file" else f"{entity} record"
            where += f" {int(row)}"
        what = ""
        if record.get("field") is not None and _cell(record.get("field")):
            what = f", field {record['field']!r}"
            if _cell(record.get("value")):
                what += f" = {record['value']!r}"
        _say(f"  {where}{what}: {record.get('reason', '')}", err=True)
    if len(errors) > limit:
        _say(f"  ... and {len(errors) - limit} more", err=True)


def _command(func: F) -> F:
    """Turn library errors into one or two lines and an exit code, Ctrl-C into 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            _say("interrupted: nothing was written", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except StalePlanError as exc:
            _say(f"refused: {_plain(str(exc))}", err=True, fg="red")
            for record in exc.diff.head(10).to_dict("records"):
                _say("  " + ", ".join(f"{k} {_cell(v)}" for k, v in record.items()
                                      if _cell(v) != ""), err=True)
            _say("  the data moved since the plan was made: make the plan again", err=True)
            raise typer.Exit(EXIT_STALE) from None
        except PlanAlreadyAppliedError as exc:
            _fail(f"refused: {exc}", EXIT_ALREADY_APPLIED)
        except WrongDatabaseError as exc:
            _fail(f"refused: {exc}", EXIT_WRONG_DATABASE,
                  "give the database the plan was made on with --url")
        except ValidationError as exc:
            errors = getattr(exc, "errors", None)
            message = _plain(str(exc))
            if errors is not None and len(errors) > 1:  # listed below, each once
                message = re.sub(r"; first: .*", "; nothing was written:", message)
            _say(f"error: {message}", err=True, fg="red")
            if errors is not None and len(errors) > 1:
                _problems(errors)
            raise typer.Exit(EXIT_INVALID) from None
        except BakekitError as exc:
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]


# -- which database ----------------------------------------------------------------------
def _given_url(url: str | None) -> str:
    """The URL a command will use (a full URL; the default path is not created)."""
    from bakekit.db.engine import default_path, resolve_url

    given = url or os.environ.get("BAKEKIT_URL")
    return resolve_url(given if given else str(default_path()))


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or \
            parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def _open_read(url: str | None, *, write: bool = False) -> Bakery:
    """An existing database, read-only unless `write`; a SQLite path that is not there is
    refused (and not created)."""
    import bakekit

    full = _given_url(url)
    path = _sqlite_file(full)
    if path is not None and not path.exists():
        if url or os.environ.get("BAKEKIT_URL"):
            source = "--url" if url else "$BAKEKIT_URL"
            raise BakekitError(
                f"no database at {path} ({source}); nothing was created. Check the path, or "
                "make one with `bakekit import FILE`, `bakekit load FILE` or `bakekit demo "
                "--path PATH`")
        raise BakekitError(
            f"no database yet at the default location {path}; nothing was created. First "
            "time? `bakekit import FILE` or `bakekit load FILE` creates it there; or give "
            "--url PATH, or set BAKEKIT_URL")
    return bakekit.open(full, read_only=not write)


class _Writing:
    """A database opened for writing; a SQLite file created here is removed again if the
    command fails (a failed command leaves no new database behind)."""

    def __init__(self, url: str | None, out: _Out | None = None):
        self.full = _given_url(url)
        self.path = _sqlite_file(self.full)
        self.out = out
        self.created = self.path is not None and not self.path.exists()

    def __enter__(self) -> Bakery:
        import bakekit

        if self.created and self.path is not None:
            from bakekit.db.engine import default_path

            if self.path == default_path().resolve():  # the user data folder, made once
                self.path.parent.mkdir(parents=True, exist_ok=True)
            _say(f"creating a new database at {self.path}", err=True)
        self.bakery = bakekit.open(self.full)
        return self.bakery

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        bakery = getattr(self, "bakery", None)
        if bakery is not None:
            bakery.dispose()
        if kind is not None and self.created and self.path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            if kind is not KeyboardInterrupt:
                _say(f"(the new database {self.path} was removed again)", err=True)


class _Working:
    """A spinner on stderr while long work runs, on a terminal only (never in a pipe, a
    file or a test)."""

    def __init__(self, what: str):
        self.what = what
        self.status: Any = None

    def __enter__(self) -> None:
        if sys.stderr.isatty() and os.environ.get("TERM") != "dumb":
            from rich.console import Console

            self.status = Console(stderr=True, no_color=not _color()).status(self.what)
            self.status.__enter__()

    def __exit__(self, *exc: Any) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


def _database_line(bakery: Bakery, out: _Out | None = None) -> None:
    message = f"database: {bakery.database_label}"
    if out is None:
        _say(message, err=True)
    else:
        out.say(message)


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


def _check_plan_target(save_plan: Path | None) -> None:
    if save_plan is None:
        return
    if save_plan.is_dir():
        raise BakekitError(f"--save-plan {str(save_plan)!r} is a folder; give a file name")
    if not save_plan.parent.is_dir():
        raise BakekitError(f"--save-plan {str(save_plan)!r}: folder "
                           f"{str(save_plan.parent)!r} does not exist; create it first "
                           "(nothing was done)")


def _save_plan(plan: Any, save_plan: Path, bakery: Bakery) -> None:
    try:
        save_plan.write_text(plan.to_json(), encoding="utf-8")
    except OSError as exc:
        raise BakekitError(f"--save-plan {str(save_plan)!r}: cannot write it: "
                           f"{exc.strerror or exc}") from None
    from bakekit.bakery import mask_url

    _say(f"plan saved to {save_plan}; apply it with: bakekit apply {save_plan} "
         f"--url {mask_url(bakery.url)}", err=True)


@app.command()
@_command
def demo(
    path: Annotated[Path | None, typer.Option(help="where to create the demo database "
                                              "(default: a new temporary file)")] = None,
    finished_unit: Annotated[str, typer.Option(help="what the what-if produces")] =
    "chocolate-chip-cookie",
    batches: Annotated[float, typer.Option(help="batches in the what-if")] = 2,
    commit: Annotated[bool, typer.Option("--commit", help="apply the what-if for real")]
    = False,
    save_plan: Annotated[Path | None, typer.Option(help="save the plan as JSON")] = None,
) -> None:
    """Build a demo database from the packaged sample data, show stock, preview a run."""
    import bakekit

    _check_plan_target(save_plan)
    if path is not None and path.exists():
        raise BakekitError(f"--path {str(path)!r} exists already; give a new file name")
    if path is not None and not path.parent.is_dir():
        raise BakekitError(f"--path {str(path)!r}: folder {str(path.parent)!r} does not "
                           "exist; create it first (nothing was done)")
    bakery = bakekit.demo(str(path) if path else None)
    _say(f"demo database: {bakery.database_label}", fg="green")
    with bakery.session() as ws:
        _render_table(ws.inventory.valuation(), "Stock value at cost")
        _render_table(ws.production.stock(), "Finished units on hand")
        check = ws.production.check(finished_unit, batches=batches)
        _render_table(check.frame[["item", "needed", "available", "shortfall", "unit"]],
                      f"Can we make {batches:g} batch(es) of {finished_unit}? "
                      f"{'yes' if check.ok else 'no'}")
    with bakery.what_if() as ws:
        result = ws.production.record(finished_unit, batches=batches)
        _say(f"what-if: {result.quantity:g} x {finished_unit} at "
             f"{_number(result.per_unit_cost)} each (total {_number(result.total_cost)})\n")
    plan = ws.plan
    _render_table(plan.summary(), "What-if plan (nothing written yet)")
    if save_plan:
        _save_plan(plan, save_plan, bakery)
    if commit:
        rows = plan.apply()
        _say(f"committed: {len(rows)} ledger rows", fg="green")
    else:
        _say("nothing committed (use --commit to apply the plan)")


@what_if_app.command("produce")
@_command
def what_if_produce(
    finished_unit: Annotated[str, typer.Argument(help="the finished unit's slug")],
    batches: Annotated[float, typer.Option(help="how many batches")] = 1,
    save_plan: Annotated[Path | None, typer.Option(
        help="save the plan as JSON, to apply later with `bakekit apply`")] = None,
    url: UrlOption = None,
    fmt: FormatOption = None, output: OutOption = None,
) -> None:
    """Preview producing FINISHED_UNIT (nothing is written); --save-plan saves the plan."""
    _check_plan_target(save_plan)
    out = _Out(fmt, output)
    writer = _open_read(url, write=True)  # what-ifs need a writable bakery (rolled back)
    _database_line(writer, out)
    with writer.what_if() as ws:
        result = ws.production.record(finished_unit, batches=batches)
    plan = ws.plan
    out.say(f"what-if: {_number(result.quantity)} x {finished_unit} at "
            f"{_number(result.per_unit_cost)} each (total {_number(result.total_cost)}); "
            "nothing was written")
    out.frame(plan.summary(), "What-if plan", plan_id=plan.plan_id)
    out.close()
    if save_plan:
        _save_plan(plan, save_plan, writer)


def _read_plan_file(file: Path) -> str:
    """A plan file's text, or a one-line error (exit 1) for a missing or unreadable file."""
    try:
        if str(file) == "-":
            return sys.stdin.read()
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


def _existing_database(url: str | None) -> tuple[Bakery | None, str]:
    """The database named by --url or $BAKEKIT_URL, opened read-only, or None and why not
    (never creates a database: a SQLite path that is not there is not opened)."""
    if not (url or os.environ.get("BAKEKIT_URL")):
        return None, "not checked (give --url or set BAKEKIT_URL to look it up)"
    try:
        return _open_read(url), ""
    except BakekitError as exc:
        return None, f"not checked ({_plain(str(exc))})"


@plan_app.command("show")
@_command
def plan_show(file: Path, url: UrlOption = None, fmt: FormatOption = None,
              output: OutOption = None) -> None:
    """Show a saved plan: where it was made, what it will do, its summary, whether applied."""
    import bakekit

    out = _Out(fmt, output)
    text = _read_plan_file(file)
    bakery, why_not = _existing_database(url)
    plan = bakekit.Plan.from_json(text, bakery)
    out.say(f"Plan {plan.plan_id}", bold=True)
    out.say(f"  made {plan.made_at} on database {plan.database_label}")
    out.say(f"  database id {plan.database_id}\n")
    lines = plan.describe()
    out.say(f"What it will do ({len(lines)} operation(s))", bold=True)
    for n, line in enumerate(lines, start=1):
        out.say(f"  {n}. {line}")
    out.say()
    applied: str
    if bakery is None:
        applied = why_not
    elif bakery.database_id != plan.database_id:
        applied = (f"not checked ({bakery.database_label}, id {bakery.database_id}, is not "
                   "the database the plan was made on)")
    else:
        when = plan.applied_at()
        applied = (f"yes, at {when:%Y-%m-%d %H:%M:%S} UTC to {bakery.database_label}"
                   if when is not None
                   else f"no (not yet applied to {bakery.database_label})")
    out.frame(plan.summary(), "Summary (as previewed)", plan_id=plan.plan_id,
              made_at=str(plan.made_at), database=plan.database_label,
              operations=lines, applied=applied)
    out.close()
    out.say(f"applied: {applied}")


@app.command("apply")
@_command
def apply_plan(file: Path, url: UrlOption = None,
               allow_drift: Annotated[bool, typer.Option(
                   "--allow-drift", help="apply even if the stock of an item the plan "
                   "touches moved since the preview, as long as the plan writes the same "
                   "stock changes")] = False) -> None:
    """Apply a saved plan, once, on the database it was made on; refused, with nothing
    written, if the data moved since (--allow-drift waives moved stock alone). Exit codes:
    3 already applied, 4 another database, 5 stale, 6 an invalid plan file, 1 any other
    error."""
    import bakekit

    text = _read_plan_file(file)
    writer = _open_read(url, write=True)
    plan = bakekit.Plan.from_json(text, writer)
    rows = plan.apply(allow_drift=allow_drift)
    _say(f"applied: plan {plan.plan_id} ({len(plan.describe())} operation(s), {len(rows)} "
         f"ledger row(s)) committed to {writer.database_label}", fg="green")


@app.command()
@_command
def levels(url: UrlOption = None, fmt: FormatOption = None, output: OutOption = None,
           as_of: Annotated[str | None, typer.Option(
               "--as-of", help="stock at the end of this date (YYYY-MM-DD), from the "
               "ledger")] = None) -> None:
    """Stock on hand per item, with value at cost (today, or at the end of --as-of)."""
    out = _Out(fmt, output)
    bakery = _open_read(url)
    _database_line(bakery, out)
    with bakery.session() as ws:
        frame = ws.inventory.levels(as_of=as_of)
    out.frame(frame, "Stock levels" if as_of is None else f"Stock levels at the end of {as_of}")
    out.close()


@app.command()
@_command
def info(url: UrlOption = None, fmt: FormatOption = None,
         output: OutOption = None) -> None:
    """The database in use (password masked), its schema version and row counts."""
    import pandas as pd
    from sqlalchemy import func, select

    from bakekit.db.engine import head_revision
    from bakekit.db.models import metadata

    out = _Out(fmt, output)
    full = _given_url(url)
    source = "--url" if url else "$BAKEKIT_URL" if os.environ.get("BAKEKIT_URL") \
        else "default (no --url, no $BAKEKIT_URL)"
    bakery = _open_read(url)
    counts = []
    with bakery.engine.connect() as conn:
        for name in sorted(metadata.tables):
            table = metadata.tables[name]
            counts.append({"table": name,
                           "rows": int(conn.execute(select(func.count()).select_from(
                               table)).scalar() or 0)})
        conn.rollback()
    del full
    out.say(f"database: {bakery.database_label}")
    out.say(f"  chosen by: {source}")
    out.say(f"  schema revision: {bakery.schema_revision} (this bakekit: {head_revision()})")
    out.say(f"  database id: {bakery.database_id}\n")
    out.frame(pd.DataFrame(counts, columns=["table", "rows"]), "Rows per table",
              database=bakery.database_label, schema_revision=bakery.schema_revision,
              database_id=bakery.database_id)
    out.close()


# -- io: thin wrappers over ws.io -----------------------------------------------------
class _Input:
    """A file argument ('-' reads stdin into a temporary file of the given suffix)."""

    def __init__(self, file: Path, suffix: str = ".json"):
        self.file, self.suffix = file, suffix
        self.temp: Path | None = None

    def __enter__(self) -> Path:
        if str(self.file) == "-":
            import tempfile

            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") \
                else sys.stdin.read().encode()
            handle = tempfile.NamedTemporaryFile(suffix=self.suffix, delete=False)
            with handle:
                handle.write(data)
            self.temp = Path(handle.name)
            return self.temp
        if not self.file.exists():
            raise BakekitError(f"file {str(self.file)!r} does not exist")
        if self.file.is_dir():
            raise BakekitError(f"{str(self.file)!r} is a folder, not a file")
        return self.file

    def __exit__(self, *exc: Any) -> None:
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)


@app.command("import")
@_command
def import_file(file: Annotated[Path, typer.Argument(help="a bake-tracker JSON file, or "
                                                      "'-' for stdin")],
                url: UrlOption = None,
                duplicates: Annotated[str, typer.Option(
                    help="a key given twice with differing rows: refuse, first or last")]
                = "refuse",
                zero_price: Annotated[str, typer.Option(
                    help="a price of 0: unknown (not known yet: uncosted) or zero")]
                = "unknown",
                fmt: FormatOption = None, output: OutOption = None) -> None:
    """Import a bake-tracker export (v3.x or v4.x) or catalog and commit; prints the report,
    every field it did not use, and its notes."""
    out = _Out(fmt, output)
    if file.suffix.lower() in (".csv", ".tsv", ".xlsx", ".xls"):
        raise ValidationError(
            f"{str(file)!r} is a {file.suffix[1:].upper()} file; `import` reads bake-tracker "
            f"JSON. For a price list, purchases or stock count use: bakekit reconcile {file}"
            " --kind prices|purchases|inventory_count")
    with _Input(file) as path, _Writing(url, out) as bakery:
        _database_line(bakery, out)
        with bakery.session() as ws, _Working(f"importing {file}"):
            report = ws.io.import_bake_tracker(path, duplicates=duplicates,
                                               zero_price=zero_price)
            ws.commit()
    out.frame(report.frame, f"Imported {file} into {bakery.database_label}")
    out.close()
    _notes(report, out)


def _notes(report: ImportReport, out: _Out) -> None:
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
        out.say("Notes", bold=True)
        for note in notes:
            out.say(f"  {note}")
        out.say()


@app.command("load")
@_command
def load_file(file: Annotated[Path, typer.Argument(help="a bakekit JSON export, or '-' "
                                                    "for stdin")],
              url: UrlOption = None, fmt: FormatOption = None,
              output: OutOption = None) -> None:
    """Load bakekit's own export (`bakekit export`) into an empty database and commit."""
    out = _Out(fmt, output)
    with _Input(file) as path, _Writing(url, out) as bakery:
        _database_line(bakery, out)
        with bakery.session() as ws, _Working(f"loading {file}"):
            report = ws.io.load(path)
            ws.commit()
    out.frame(report.frame, f"Loaded {file} into {bakery.database_label}")
    out.close()


@app.command("export")
@_command
def export_file(file: Annotated[Path, typer.Argument(help="the JSON file to write, or '-' "
                                                      "for stdout")],
                url: UrlOption = None) -> None:
    """Write the whole database to a bakekit JSON file."""
    bakery = _open_read(url)
    if str(file) == "-":
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            temp = Path(folder) / "export.json"
            with bakery.session() as ws:
                counts = ws.io.export(temp)
            sys.stdout.write(temp.read_text(encoding="utf-8"))
            sys.stdout.flush()
        _say(f"exported {sum(counts.values()):,} rows from {bakery.database_label}",
             err=True)
        return
    if file.is_dir():
        raise BakekitError(f"{str(file)!r} is a folder; give a file name, e.g. "
                           f"{file / 'bakery.json'}")
    with bakery.session() as ws, _Working(f"exporting to {file}"):
        counts = ws.io.export(file)
    _say(f"exported {sum(counts.values()):,} rows from {bakery.database_label} to {file}")


def _complete_kind(incomplete: str) -> list[str]:
    return [k for k in KINDS if k.startswith(incomplete)]


def _review_frame(frame: pd.DataFrame, file: Path) -> tuple[pd.DataFrame, str]:
    """The review with row numbers that match the file: CSV line (data line 1 is line 2),
    else the record's 1-based position."""
    frame = frame.copy()
    if "row" not in frame.columns:
        return frame, ""
    csv_like = str(file) == "-" or file.suffix.lower() in (".csv", ".tsv", ".txt")
    name = "line" if csv_like else "record"
    numbers = frame.pop("row")
    frame.insert(0, name, (numbers + (2 if csv_like else 1)).astype("Int64"))
    return frame, name


def _for_people(frame: pd.DataFrame, out: _Out) -> pd.DataFrame:
    """In a table, leave out database ids and columns with no value (csv/json keep all)."""
    if out.format is not Format.table:
        return frame
    keep = [c for c in frame.columns
            if not str(c).endswith("_id") and frame[c].notna().any()]
    return frame[keep]


def _status_summary(counts: dict[str, int]) -> str:
    order = ["new", "changed", "unchanged", "missing", "conflict", "invalid"]
    keys = sorted(counts, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(f"{counts[k]} {k}" for k in keys)


def _skipped_lines(frame: pd.DataFrame, where: str, limit: int = 10) -> list[str]:
    skipped = frame[~frame["status"].isin(["new", "changed", "unchanged"])]
    lines = []
    for record in skipped.head(limit).to_dict("records"):
        at = f"{where} {record[where]}: " if where else ""
        lines.append(f"  {at}{record['status']}: {_cell(record.get('message'))}")
    if len(skipped) > limit:
        lines.append(f"  ... and {len(skipped) - limit} more (--format csv lists them all)")
    return lines


@app.command("reconcile")
@_command
def reconcile_file(file: Annotated[Path, typer.Argument(help="a CSV, JSON or Excel file, or "
                                                          "'-' for CSV on stdin")],
                   kind: Annotated[str | None, typer.Option(
                       "--kind", help="prices, purchases, inventory_count or products; "
                       "read from bake-tracker views and bt_mobile files (default for "
                       "others: prices)", autocompletion=_complete_kind)] = None,
                   apply: Annotated[bool, typer.Option("--apply", help="write and commit "
                                                       "the new and changed rows")] = False,
                   save_plan: Annotated[Path | None, typer.Option(
                       help="save what --apply would write as a plan (nothing is written; "
                       "`bakekit apply` applies it later, once)")] = None,
                   url: UrlOption = None,
                   fmt: FormatOption = None, output: OutOption = None) -> None:
    """Review a price list, purchases, a stock count, or a bake-tracker view or bt_mobile
    file; --apply commits it, --save-plan saves it as a plan."""
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"--kind {kind!r}: use one of {', '.join(KINDS)}")
    if apply and save_plan is not None:
        raise typer.BadParameter("give --apply or --save-plan, not both",
                                 param_hint="--save-plan")
    _check_plan_target(save_plan)
    out = _Out(fmt, output)
    bakery = _open_read(url, write=apply or save_plan is not None)
    _database_line(bakery, out)
    if save_plan is not None:
        with _Input(file, ".csv") as path, bakery.what_if() as ws:
            review = ws.io.reconcile(path, kind=kind)
            frame, where = _review_frame(review.frame, file)
            out.frame(_for_people(frame, out), f"Reconciliation ({review.kind})")
            out.close()
            out.say(f"{len(frame)} row(s): {_status_summary(review.counts())}", bold=True)
            review.apply()
        _save_plan(ws.plan, save_plan, bakery)
        return
    with _Input(file, ".csv") as path, bakery.session() as ws:
        with _Working(f"reviewing {file}"):
            review = ws.io.reconcile(path, kind=kind)
        frame, where = _review_frame(review.frame, file)
        what = f" from a {review.source_format} file" if review.source_format else ""
        out.frame(_for_people(frame, out), f"Reconciliation ({review.kind}{what})")
        counts = review.counts()
        writes = counts.get("new", 0) + counts.get("changed", 0)
        skipped = len(frame) - writes - counts.get("unchanged", 0)
        out.close()
        if review.unknown_fields:
            out.say(f"not used from the records: {', '.join(review.unknown_fields)}")
        out.say(f"{len(frame)} row(s): {_status_summary(counts)}", bold=True)
        if not apply:
            if writes:
                out.say(f"nothing written; run again with --apply to write {writes} new or "
                        f"changed {review.kind}" + (f" ({skipped} row(s) would be skipped)"
                                                     if skipped else ""))
            else:
                out.say("nothing to write")
            return
        with _Working("writing"):
            report = review.apply()
            ws.commit()
    r = report.frame.iloc[0] if len(report.frame) else None
    if r is not None:
        out.say(f"applied to {bakery.database_label}: {int(r['created'])} created, "
                f"{int(r['updated'])} updated, {int(r['unchanged'])} unchanged, "
                f"{int(r['skipped'])} skipped", fg="green")
    for line in _skipped_lines(frame, where):
        out.say(line)


if __name__ == "__main__":  # pragma: no cover
    app()

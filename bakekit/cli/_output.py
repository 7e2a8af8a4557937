"""How the `bakekit` command shows things: a table for people, CSV or JSON for scripts;
numbers and cells for people."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bakekit.cli._files import will_write, write_output, write_stdout
from bakekit.errors import BakekitError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@dataclass(frozen=True)
class Rows:
    """Plain rows (text and numbers) that a command shows like a DataFrame of them, for a
    command with no other use for pandas (``bakekit info`` answers without importing it).

    >>> Rows(("table", "rows"), [("lots", 18)]).records()
    [{'table': 'lots', 'rows': 18}]
    """

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    @property
    def empty(self) -> bool:
        return not self.rows or not self.columns

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def numeric(self, n: int) -> bool:
        """Whether column `n` holds numbers only (as a numeric DataFrame column would)."""
        return all(isinstance(row[n], int | float) and not isinstance(row[n], bool)
                   for row in self.rows)



# -- messages ------------------------------------------------------------------------
def use_color() -> bool:
    return "NO_COLOR" not in os.environ


def say(message: str = "", *, err: bool = False, fg: str | None = None,
         bold: bool = False) -> None:
    """A line for people (on stderr when err, or whenever stdout carries data)."""
    if use_color() and (fg or bold):
        typer.secho(message, err=err, fg=fg, bold=bold)
    else:
        typer.echo(message, err=err)


class Out:
    """Where this command's data and messages go (stdout/stderr, by --format)."""

    def __init__(self, fmt: Format | None, output: Path | None):
        if fmt is None and output is not None and str(output) != "-":
            suffix = output.suffix.lower()
            fmt = Format.csv if suffix == ".csv" else Format.json if suffix == ".json" \
                else Format.table
        self.format = fmt or Format.table
        self.output = None if output is None or str(output) == "-" else output
        if self.output is not None:
            will_write(self.output, "-o")
        #: messages go to stderr when stdout carries csv or json
        self.quiet = self.format is not Format.table and self.output is None
        self._parts: list[str] = []

    def say(self, message: str = "", **style: Any) -> None:
        say(message, err=self.quiet, **style)

    def frame(self, frame: pd.DataFrame | Rows, title: str, **json_extra: Any) -> None:
        """Show one frame (or plain `Rows`, alike): a table for people, or CSV/JSON
        (stdout or -o)."""
        if self.format is Format.table:
            if self.output is None:
                render_table(frame, title)
            else:
                self._parts.append(table_text(frame, title, file=True))
        elif self.format is Format.csv:
            self._parts.append(_csv(frame if isinstance(frame, Rows) else csv_safe(frame)))
        else:
            import json

            records = frame.records() if isinstance(frame, Rows) else \
                json.loads(frame.to_json(orient="records", date_format="iso"))
            self._parts.append(json.dumps(
                {**json_extra, "rows": records} if json_extra else records, indent=1) + "\n")

    def close(self) -> None:
        text = "".join(self._parts)
        if self.output is not None:
            write_output(self.output, text, "-o")
            say(f"wrote {str(self.output)!r} ({self.format.value})", err=True)
        elif text:
            write_stdout(text)


#: what a spreadsheet reads as the start of a formula (OWASP, CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, quoted with a leading
    apostrophe (OWASP's rule); numbers, and text that is a plain number, stay as they are.

    >>> csv_cell("=SUM(A1:A9)"), csv_cell("-2.5"), csv_cell(-2.5), csv_cell("@x")
    ("'=SUM(A1:A9)", '-2.5', -2.5, "'@x")
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value if value.strip() == value else "'" + value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell made safe for a spreadsheet (``csv_cell``); the
    column names too. Every CSV the command writes goes through here."""
    text = [c for c in frame.columns if frame[c].dtype == object
            or str(frame[c].dtype) in ("string", "str")]
    safe = frame.copy() if text else frame
    for column in text:
        safe[column] = frame[column].map(csv_cell)
    safe.columns = [csv_cell(str(c)) for c in frame.columns]
    return safe


def number(value: Any) -> str:
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


def _csv(frame: pd.DataFrame | Rows) -> str:
    if not isinstance(frame, Rows):
        return frame.to_csv(index=False, lineterminator="\n")
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.rows)
    return buffer.getvalue()


def cell(value: Any, column: Any = None) -> str:
    """A frame cell for people; in a money or share column, money or percent
    (bakekit.display, the one rule)."""
    import numbers

    from bakekit import display

    if column in display.MONEY_COLUMNS or column in display.SHARE_COLUMNS:
        return display.cell_text(str(column), value)
    if value is None:
        return ""
    if isinstance(value, str):  # text and numbers need no pandas (and import none)
        return str(value)
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return number(value)

    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) \
            else value.strftime("%Y-%m-%d")
    return str(value)


def _kinds(frame: pd.DataFrame | Rows) -> tuple[list[bool], list[bool]]:
    """Per column: whether it is numeric (fitted whole), and whether it is shown as
    numbers (right-aligned, never broken: numeric and not bool)."""
    if isinstance(frame, Rows):
        numeric = [frame.numeric(n) for n in range(len(frame.columns))]
        return numeric, numeric
    import pandas as pd

    numeric = [pd.api.types.is_numeric_dtype(frame[column]) for column in frame.columns]
    return numeric, [is_number and not pd.api.types.is_bool_dtype(frame[column])
                     for is_number, column in zip(numeric, frame.columns, strict=True)]


#: a table longer than this is laid out by ``plain_table`` (Rich takes ~1 ms a row)
RICH_ROWS = 500
#: the narrowest a text column is squeezed to, and the widest it grows, in a table
TEXT_MIN, TEXT_MAX = 12, 40


def _cells(frame: pd.DataFrame | Rows) -> list[list[str]]:
    """Every cell as text for people (``cell``), made column by column."""
    if isinstance(frame, Rows):
        return [[cell(v, c) for v, c in zip(row, frame.columns, strict=True)]
                for row in frame.rows]
    from bakekit import display

    special = set(display.MONEY_COLUMNS) | set(display.SHARE_COLUMNS)
    columns = [[v if isinstance(v, str) and c not in special else cell(v, c)
                for v in frame[c].tolist()] for c in frame.columns]
    return [list(row) for row in zip(*columns, strict=True)] if columns else \
        [[] for _ in range(len(frame))]


def _layout(frame: pd.DataFrame | Rows, title: str, width: int | None
            ) -> tuple[str, list[str], list[bool], list[list[str]]]:
    """What a table shows: its title, the column names, whether each is right-aligned,
    and the cells; with `width`, the columns that would not fit even at their narrowest
    are left out (and the title says how many)."""
    cells = _cells(frame)
    fitted, right = _kinds(frame)
    shown = len(frame.columns)
    if width is not None:
        used = 2
        for n, column in enumerate(frame.columns):
            longest = max([len(row[n]) for row in cells] + [len(str(column))])
            used += (longest if fitted[n] else min(longest, TEXT_MIN)) + 3
            if used > width:
                shown = max(1, n)
                break
    if shown < len(frame.columns):
        title += (f"  ({len(frame.columns) - shown} more column(s) not shown: "
                  "--format csv or a wider terminal shows them)")
        cells = [row[:shown] for row in cells]
    return title, [str(c) for c in frame.columns[:shown]], right[:shown], cells


def rich_table(frame: pd.DataFrame | Rows, title: str, width: int | None = None) -> Any:
    """A Rich table of the frame; with `width`, the columns that would not fit even at
    their narrowest are left out (and the title says how many)."""
    from rich import box
    from rich.table import Table

    title, columns, right, cells = _layout(frame, title, width)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD,
                  title_style="bold" if use_color() else "")
    for n, column in enumerate(columns):
        numeric = right[n]
        longest = max([len(row[n]) for row in cells] + [1])
        # numbers are never broken; text wraps (on words) down to a readable width
        table.add_column(column, justify="right" if numeric else "left",
                         overflow="fold", no_wrap=numeric,
                         min_width=longest if numeric else min(longest, TEXT_MIN),
                         max_width=None if numeric else TEXT_MAX)
    for row in cells:
        table.add_row(*row)
    return table


def plain_table(frame: pd.DataFrame | Rows, title: str, width: int) -> str:
    """The table as ``rich_table`` lays it out (same columns, alignment and rules), in
    time linear in its cells, for long tables (Rich takes ~1 ms a row). Text longer than
    its column wraps on words onto more lines; numbers are never broken.

    >>> text = plain_table(Rows(("item", "n"), [("flour", 2)]), "Stock", 80)
    >>> [line.rstrip() for line in text.splitlines()]
    ['Stock', '', '  item    n', ' ───────────', '  flour   2', '']
    """
    import textwrap

    title, columns, right, cells = _layout(frame, title, width)
    widths = [max([len(c)] + [len(row[n]) for row in cells])
              for n, c in enumerate(columns)]
    widths = [w if right[n] else min(w, TEXT_MAX) for n, w in enumerate(widths)]
    floor = [w if right[n] else min(w, TEXT_MIN) for n, w in enumerate(widths)]
    while sum(widths) + 3 * len(widths) + 1 > width:  # squeeze the widest text column
        widest = max((n for n in range(len(widths)) if widths[n] > floor[n]),
                     key=lambda n: widths[n], default=None)
        if widest is None:
            break
        widths[widest] -= 1
    total = sum(widths) + 3 * len(widths) + 1

    def lines(row: list[str]) -> list[str]:
        parts = [[text] if len(text) <= widths[n] else
                 textwrap.wrap(text, widths[n]) or [""] for n, text in enumerate(row)]
        return [" " + " ".join(
            " " + (p[k] if k < len(p) else "").rjust(w) + " " if right[n] else
            " " + (p[k] if k < len(p) else "").ljust(w) + " "
            for n, (p, w) in enumerate(zip(parts, widths, strict=True))) + " "
            for k in range(max([len(p) for p in parts] + [1]))]

    body = [line for row in cells for line in lines(row)]
    rule = " " + "\u2500" * (total - 2) + " "
    heading = [line.ljust(total) for line in textwrap.wrap(title, total) or [""]]
    return "\n".join([*heading, " " * total, *lines(columns), rule, *body,
                      " " * total]) + "\n"


def _long(frame: pd.DataFrame | Rows) -> bool:
    return len(frame.rows if isinstance(frame, Rows) else frame) > RICH_ROWS


def make_console(file: Any = None, width: int | None = None) -> Any:
    from rich.console import Console

    if file is None and sys.stdout is None:
        raise BakekitError("standard output is closed; give -o FILE to write to a file")
    if width is None and file is None and not sys.stdout.isatty():
        # piped or redirected: no terminal to fit; $COLUMNS if set, else do not wrap at 80
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() else 250
    return Console(file=file, width=width, no_color=not use_color(), highlight=False,
                   soft_wrap=False)


def render_table(frame: pd.DataFrame | Rows, title: str) -> None:
    if frame.empty:
        say(title, bold=True)
        say("  (none)\n")
        return
    console = make_console()
    if _long(frame):
        console.file.write(plain_table(frame, title, console.width))
    else:
        console.print(rich_table(frame, title, width=console.width))


def table_text(frame: pd.DataFrame | Rows, title: str, *, file: bool) -> str:
    import io

    if frame.empty:
        return f"{title}\n  (none)\n\n"
    buffer = io.StringIO()
    console = make_console(file=buffer, width=200 if file else None)
    if _long(frame):
        return plain_table(frame, title, console.width)
    console.print(rich_table(frame, title))
    return buffer.getvalue()


"""Library errors as one or two lines on stderr and an exit code."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from bakekit._early import leave, restore, settled
from bakekit.cli._app import (
    EXIT_ALREADY_APPLIED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_STALE,
    EXIT_WRONG_DATABASE,
)
from bakekit.cli._files import close_opened, reset, silence_stdout
from bakekit.cli._output import cell, say
from bakekit.errors import (
    BakekitError,
    PlanAlreadyAppliedError,
    StalePlanError,
    ValidationError,
    WrongDatabaseError,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])


_PYTHON_HINTS = re.compile(r"\s*\(see \.\w+[^)]*\)|;?\s*see \.\w+( for all)?")


def plain(message: str) -> str:
    """An error message without pointers to Python attributes or calls."""
    text = re.sub(r"\(see \.\w+ for all; ", "(", message)
    text = _PYTHON_HINTS.sub("", text)
    text = text.replace(
        "it cannot be created or migrated through a read-only bakery: open it once for "
        "writing (bakekit.open(url))",
        "a read command does not create or migrate it: a write command (bakekit import, "
        "load, or reconcile --apply) does")
    text = text.replace("(apply(allow_drift=True) applies anyway)",
                        "(--allow-drift applies anyway)")
    return text.replace(" row None", "").replace("<NA>", "(empty)")


def fail(message: str, code: int = EXIT_ERROR, hint: str | None = None) -> NoReturn:
    say(f"error: {plain(message)}", err=True, fg="red")
    if hint:
        say(f"  {hint}", err=True)
    raise typer.Exit(code)


def show_problems(errors: pd.DataFrame, limit: int = 10) -> None:
    """An import's problems, once, on stderr: one line each (the first `limit`)."""
    for record in errors.head(limit).to_dict("records"):
        entity = str(record.get("entity") or "")
        row = record.get("row")
        where = entity
        if row is not None and cell(row) != "":  # 1-based; a JSON syntax error: its line
            where = "line" if entity == "file" else f"{entity} record"
            where += f" {int(row)}"
        what = ""
        if record.get("field") is not None and cell(record.get("field")):
            what = f", field {record['field']!r}"
            if cell(record.get("value")):
                what += f" = {record['value']!r}"
        say(f"  {where}{what}: {record.get('reason', '')}", err=True)
    if len(errors) > limit:
        say(f"  ... and {len(errors) - limit} more", err=True)


def command(func: F) -> F:
    """Turn library errors into one or two lines and an exit code, Ctrl-C into 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        restore()
        reset()
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            silence_stdout()
            fail("standard output was closed before everything was written (the reader "
                 "stopped early): the output is incomplete")
        except KeyboardInterrupt:
            say("interrupted: nothing was written", err=True)
            leave(EXIT_INTERRUPTED)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except StalePlanError as exc:
            say(f"refused: {plain(str(exc))}", err=True, fg="red")
            for record in exc.diff.head(10).to_dict("records"):
                say("  " + ", ".join(f"{k} {cell(v, k)}" for k, v in record.items()
                                      if cell(v) != ""), err=True)
            if set(exc.diff["status"]) == {"drift"}:
                say("  only the stock moved: apply it anyway with --allow-drift, or make the "
                    "plan again", err=True)
            else:
                say("  the data moved since the plan was made: make the plan again", err=True)
            raise typer.Exit(EXIT_STALE) from None
        except PlanAlreadyAppliedError as exc:
            fail(f"refused: {exc}", EXIT_ALREADY_APPLIED)
        except WrongDatabaseError as exc:
            fail(f"refused: {exc}", EXIT_WRONG_DATABASE,
                  "give the database the plan was made on with --url")
        except ValidationError as exc:
            errors = getattr(exc, "errors", None)
            message = plain(str(exc))
            if errors is not None and len(errors) > 1:  # listed below, each once
                message = re.sub(r"; first: .*", "; nothing was written:", message)
            say(f"error: {message}", err=True, fg="red")
            if errors is not None and len(errors) > 1:
                show_problems(errors)
            raise typer.Exit(EXIT_INVALID) from None
        except BakekitError as exc:
            fail(str(exc))
        finally:
            close_opened()
            settled()

    return wrapper  # type: ignore[return-value]


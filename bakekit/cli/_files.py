"""The files a command writes (-o, --save-plan, export): each whole or not at all
(``bakekit.files.write_atomic``), never over a database this command opened, and standard
output that closed early is an error, not a success."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bakekit.errors import BakekitError

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.bakery import Bakery

#: the URLs of the databases this command opened, and the files it will write (each
#: command starts them afresh: ``reset``)
IN_USE: list[str] = []
PENDING: list[tuple[Path, str]] = []
#: the bakeries this command opened, disposed when it ends (``close_opened``)
OPENED: list[Bakery] = []


def reset() -> None:
    """A new command: no database opened, no output named yet."""
    IN_USE.clear()
    PENDING.clear()
    OPENED.clear()


def opened(bakery: Bakery) -> Bakery:
    """A bakery this command opened: disposed by ``close_opened`` when the command ends."""
    OPENED.append(bakery)
    return bakery


def close_opened() -> None:
    """The command is over: every bakery it opened is disposed, so each connection is
    closed (on SQLite: the WAL checkpointed, its -wal and -shm files removed) by the
    command itself, not by the interpreter's clean-up at exit (``bakekit._early.settled``
    takes that clean-up's garbage collection away)."""
    while OPENED:
        OPENED.pop().dispose()


def will_write(path: Path, what: str) -> None:
    """An output the command will write: checked now (``check_target``) and again against
    every database the command opens later (``using``)."""
    check_target(path, what)
    PENDING.append((path, what))


def using(url: str) -> None:
    """Note a database this command opens: refused (nothing done) when an output named
    before is its file; no output may overwrite it later."""
    from bakekit.files import database_file

    for path, what in PENDING:
        hit = database_file(path, [url])
        if hit is not None:
            raise BakekitError(f"{what} {str(path)!r} is the database in use ({hit}); give "
                               "another file name (nothing was done)")
    if url not in IN_USE:
        IN_USE.append(url)


def check_target(path: Path, what: str) -> None:
    """Refuse, before any work, an output that is a database in use, a folder, or in a
    folder that does not exist (exit 1, nothing written)."""
    from bakekit.files import database_file

    hit = database_file(path, IN_USE)
    if hit is not None:
        raise BakekitError(f"{what} {str(path)!r} is the database in use ({hit}); give "
                           "another file name (nothing was written)")
    if path.is_dir():
        raise BakekitError(f"{what} {str(path)!r} is a folder; give a file name")
    if not path.parent.is_dir():
        raise BakekitError(f"{what} {str(path)!r}: folder {str(path.parent)!r} does not "
                           "exist; create it first (nothing was done)")


def write_output(path: Path, text: str, what: str) -> None:
    """Write a command's output file whole (temporary file, fsync, rename)."""
    from bakekit.files import write_atomic

    try:
        write_atomic(path, text, databases=IN_USE, what=what)
    except OSError as exc:
        raise BakekitError(f"{what} {str(path)!r}: cannot write it: "
                           f"{exc.strerror or exc}; the file was left as it was") from None


def write_stdout(text: str | bytes) -> None:
    """Write data to standard output; a closed or broken one is an error (``BrokenPipe``
    reaches ``command``, which says so and exits 1)."""
    stream = sys.stdout
    if stream is None:
        raise BakekitError("standard output is closed; give -o FILE to write to a file")
    if isinstance(text, bytes):
        stream.flush()
        stream.buffer.write(text)
        stream.buffer.flush()
    else:
        stream.write(text)
        stream.flush()


def silence_stdout() -> None:
    """After a broken pipe: point standard output at the null device, so that Python's
    own flush at exit does not fail a second time."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, AttributeError, ValueError):
        pass

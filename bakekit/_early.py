"""Ctrl-C before a command starts (while Python loads the command's modules): one line
and exit 130, as during a command, never a traceback. Installed by the first line of
``bakekit/__init__`` (before it imports anything else), only when `bakekit` runs as a
program; each command puts Python's own handler back (``_errors.command``), so that
work under way is interrupted by ``KeyboardInterrupt`` and rolled back."""

from __future__ import annotations

import os
import signal
import sys


def interrupted(signum: int, frame: object) -> None:
    """Nothing has started: say so and leave at once."""
    os.write(2, b"interrupted: nothing was written\n")
    os._exit(130)


def leave(code: int) -> None:
    """Exit with ``code`` at once when this process is the `bakekit` command, once the
    command has unwound (rolled back, closed its files): Python itself may turn an exit
    after a caught ``KeyboardInterrupt`` into death by SIGINT (status -2, not 130) when
    the interrupt passed through code an extension ran. In tests (not the command),
    nothing happens and the caller exits as usual."""
    if not as_program():
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def settled() -> None:
    """The command is over (committed, or failed and rolled back; its databases closed):
    a Ctrl-C while the process exits changes nothing, so it is ignored, and the exit
    status is the command's (not death by SIGINT).

    Every object still alive is frozen out of the garbage collector (``gc.freeze``): at
    exit Python's clean-up would otherwise walk the million-odd objects pandas,
    SQLAlchemy and Typer left behind, collection after collection (0.2-0.3 s of a
    `bakekit levels`, a third of it; issue 32). Nothing is lost: the memory goes back to
    the system with the process, and what must be closed was closed by the command."""
    if as_program():
        import contextlib
        import gc

        with contextlib.suppress(ValueError):  # not the main thread
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        gc.freeze()


def as_program() -> bool:
    """Whether this process is the `bakekit` command (``bakekit ...`` or ``python -m
    bakekit.cli``: while the package loads, ``sys.argv[0]`` is "-m")."""
    first = sys.argv[0] if sys.argv else ""
    return first == "-m" or os.path.basename(first) in ("bakekit", "__main__.py")


#: the `bakekit` program's garbage collector thresholds: a young generation of 100,000
#: allocations (Python's default is 700, tuned for long-running programs): while pandas,
#: SQLAlchemy and Typer load (a million-odd objects, none of them garbage) the default
#: walks them again and again, 0.06-0.1 s of a `bakekit levels`; cyclic garbage is still
#: collected, every generation in turn
PROGRAM_GC_THRESHOLDS = (100_000, 10, 10)


def install() -> None:
    """As the `bakekit` program: Ctrl-C before a command starts is one line, and the
    garbage collector is set for a short-lived process (``PROGRAM_GC_THRESHOLDS``)."""
    if as_program():
        import gc

        signal.signal(signal.SIGINT, interrupted)
        gc.set_threshold(*PROGRAM_GC_THRESHOLDS)


def restore() -> None:
    """Python's own Ctrl-C (``KeyboardInterrupt``), once a command runs."""
    try:
        if signal.getsignal(signal.SIGINT) is interrupted:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: nothing was installed here
        pass


install()

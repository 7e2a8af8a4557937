"""Ctrl-C while the `bakekit` command is still loading (issue 33, point 8): one line and
exit 130, never a traceback, from the first line of ``bakekit/__init__`` on. Real
processes and a real SIGINT, sent by the process to itself at a chosen import, so the
moment is exact instead of a guess at a delay."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bakekit.cli import EXIT_INTERRUPTED

ROOT = Path(__file__).resolve().parents[1]

#: sends SIGINT to this process when `module` starts to load, then runs `bakekit --help`
#: as the installed console script does (``from bakekit.cli import app; app()``)
CHILD = textwrap.dedent("""
    import os, signal, sys

    class Interrupt:
        def find_spec(self, name, path=None, target=None):
            if name == {module!r}:
                sys.meta_path.remove(self)
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, Interrupt())
    from bakekit.cli import app
    sys.exit(app())
""")


@pytest.mark.parametrize("module", ["bakekit.errors", "typing", "bakekit.cli._app", "typer",
                                    "bakekit.cli.database"])
def test_ctrl_c_while_bakekit_loads_exits_130_without_a_traceback(tmp_path, module):
    script = tmp_path / "bakekit"  # the console script's name: this process is the command
    script.write_text(CHILD.format(module=module))
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                            text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    assert result.returncode == EXIT_INTERRUPTED, result.stderr
    assert result.stderr == "interrupted: nothing was written\n"
    assert result.stdout == ""


def test_importing_bakekit_as_a_library_keeps_python_s_ctrl_c(tmp_path):
    code = ("import signal, bakekit; "
            "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "True", result.stderr


#: runs `bakekit ARGS` as the console script does, and sends SIGINT as the process leaves
LEAVING = textwrap.dedent("""
    import os, signal, sys
    from bakekit.cli import app

    try:
        app()
    except SystemExit:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C just after the command finished
        raise
""")


def test_ctrl_c_after_the_command_finished_keeps_its_exit_status(tmp_path, demo_path):
    script = tmp_path / "bakekit"
    script.write_text(LEAVING)
    for args, code in ((["info", "--url", str(demo_path)], 0),
                       (["info", "--url", str(tmp_path / "missing.db")], 1)):
        result = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                                text=True, timeout=120,
                                env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr

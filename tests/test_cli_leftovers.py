"""What a killed import leaves beside a new SQLite path (issue 33): an import builds a new
database under a hidden temporary name (``.NAME.PID.TOKEN.new``) and renames it into
place; a ``kill -9`` leaves that file behind. The next import to that path removes the
leftovers of processes that no longer run, and never those of a live one. A refused
import into a new path leaves nothing there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bakekit.files import remove_leftovers
from tests.support.data import small_file

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_an_import_killed_mid_way_leaves_a_file_the_next_import_removes(tmp_path):
    source = tmp_path / "good.json"
    source.write_text(json.dumps(small_file()), encoding="utf-8")
    target = tmp_path / "new.db"
    proc = subprocess.Popen([sys.executable, "-m", "bakekit.cli", "import", str(source),
                             "--url", str(target)], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not _hidden(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    left = _hidden(tmp_path)
    assert left and all(name.startswith(f".new.db.{proc.pid}.") for name in left), left
    assert not target.exists()

    result = subprocess.run([sys.executable, "-m", "bakekit.cli", "import", str(source),
                             "--url", str(target)], env=ENV, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    assert "left beside" in result.stderr and "killed" in result.stderr
    assert _hidden(tmp_path) == [] and target.exists()


def test_only_the_leftovers_of_processes_that_no_longer_run_are_removed(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    names = [f".new.db.{dead}.0a1b2c3d.new", f".new.db.{dead}.0a1b2c3d.new-wal",
             f".new.db.{dead}.0a1b2c3d.new-journal", f".new.db.{alive}.0a1b2c3d.new",
             f".new.db.{dead}.0a1b2c3d.tmp",  # another kind of temporary file
             f".other.db.{dead}.0a1b2c3d.new", ".new.db.notapid.0a1b2c3d.new", "new.db.txt"]
    for name in names:
        (tmp_path / name).touch()
    removed = remove_leftovers(tmp_path / "new.db", "new")
    assert [p.name for p in removed] == sorted(names[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[3:])


def test_importing_a_file_with_no_bake_tracker_section_creates_no_database(tmp_path):
    """Issue 29: ``bakekit import {}`` is refused (exit 6) and leaves nothing at the path,
    nor a temporary file beside it."""
    empty = tmp_path / "empty.json"
    empty.write_text("{}", encoding="utf-8")
    target = tmp_path / "new.db"
    result = subprocess.run([sys.executable, "-m", "bakekit.cli", "import", str(empty),
                             "--url", str(target)], env=ENV, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 6, result.stderr
    assert "no bake-tracker section" in result.stderr
    assert "no database was created" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.json"]

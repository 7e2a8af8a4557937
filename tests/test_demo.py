"""The demo (issue 31): `bakekit demo --commit` commits into the database it showed (--path,
or demo.db kept in the user data folder, said in its output), and nothing leaves
``bakekit-demo-*`` temporary folders behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bakekit
import bakekit.sample

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """A real process with its own data folder and temporary folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(tmp_path / "data"),
           "TMPDIR": str(tmp_path / "tmp"), "NO_COLOR": "1", "COLUMNS": "200"}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)


def _runs(path: Path) -> int:
    bakery = bakekit.open(str(path))
    try:
        with bakery.session() as ws:
            return len(ws.production.history())
    finally:
        bakery.dispose()


def test_demo_commit_writes_into_the_database_it_showed_and_keeps_it(tmp_path):
    done = _run(["-m", "bakekit.cli", "demo", "--commit"], tmp_path)
    assert done.returncode == 0, done.stderr
    kept = tmp_path / "data" / "bakekit" / "demo.db"
    assert f"demo database: {kept}" in done.stdout
    assert f"into {kept}" in done.stdout
    assert _runs(kept) == 1 + len(bakekit.sample.sample_data()["production"])
    # a second run builds it afresh (and says where), never a new temporary database
    again = _run(["-m", "bakekit.cli", "demo"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"demo database: {kept}" in again.stdout
    assert _runs(kept) == len(bakekit.sample.sample_data()["production"])
    assert list((tmp_path / "tmp").iterdir()) == []


def test_demo_commit_with_a_path_commits_there(tmp_path):
    target = tmp_path / "mine.db"
    done = _run(["-m", "bakekit.cli", "demo", "--path", str(target), "--commit"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"into {target}" in done.stdout
    assert _runs(target) == 1 + len(bakekit.sample.sample_data()["production"])
    assert not (tmp_path / "data").exists()


def test_the_python_demo_leaves_no_temporary_folder(tmp_path):
    done = _run(["-c", "import bakekit\n"
                       "b = bakekit.demo()\n"
                       "print(b.url)\n"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "bakekit-demo-" in done.stdout           # it was made in the temporary folder
    assert list((tmp_path / "tmp").iterdir()) == []  # and is gone when Python exits
    assert "demo data" in done.stderr               # with a progress bar while it loads


def test_a_demo_never_builds_over_a_file_that_is_there(tmp_path):
    """The path is claimed in one step (created only if absent): a file there, even one
    that appeared after any check, is refused and left as it was."""
    import pytest

    from bakekit.errors import BakekitError

    target = tmp_path / "demo.db"
    target.write_bytes(b"somebody else's file")
    with pytest.raises(BakekitError, match="already exists"):
        bakekit.sample.build_demo(target)
    assert target.read_bytes() == b"somebody else's file"


def test_a_failed_demo_build_leaves_nothing_and_replace_keeps_other_files(tmp_path,
                                                                          monkeypatch):
    import pytest

    target = tmp_path / "demo.db"
    backup = tmp_path / "demo.db.bak"  # shares the name's start; not the database's
    backup.write_bytes(b"keep me")

    def broken(*args, **kwargs):
        raise RuntimeError("injected: the sample data failed to load")

    monkeypatch.setattr(bakekit.sample, "load_sample", broken)
    with pytest.raises(RuntimeError, match="injected"):
        bakekit.sample.build_demo(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db.bak"]
    monkeypatch.undo()
    bakekit.sample.build_demo(target).dispose()
    bakery = bakekit.sample.build_demo(target, replace=True)  # afresh, the backup kept
    try:
        assert _runs(target) == len(bakekit.sample.sample_data()["production"])
    finally:
        bakery.dispose()
    assert backup.read_bytes() == b"keep me"

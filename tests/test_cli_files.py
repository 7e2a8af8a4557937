"""Files a command writes or creates, with real processes: a new database appears whole or
not at all and a failed import never removes one it did not make; every output is written
whole (temporary file, fsync, rename) and refused when it is the database in use; data on
standard output that the reader stops taking is an error, not a success."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bakekit
from bakekit.cli import EXIT_ERROR
from bakekit.errors import BakekitError
from bakekit.files import write_atomic
from tests.support.data import small_file

ROOT = Path(__file__).resolve().parents[1]
PRICES = ROOT / "data" / "price-list.csv"


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    """``bakekit ARGS`` in a real process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "bakekit.cli", *args], capture_output=True,
                          text=True, env=env, timeout=180, **kw)


def start(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "bakekit.cli", *args], env=env, **kw)


@pytest.fixture
def db(demo_path) -> Path:
    return demo_path


def _good_and_broken(tmp_path: Path) -> tuple[Path, Path]:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(small_file()), encoding="utf-8")
    data = small_file()
    data["purchases"][0]["purchased_at"] = "not a date"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    return good, broken


def _suppliers(path: Path) -> list[str]:
    bakery = bakekit.open(str(path), read_only=True)
    try:
        with bakery.session() as ws:
            assert ws.inventory.audit().empty
            return sorted(ws.catalog.suppliers()["item"])
    finally:
        bakery.dispose()


# -- point 2: a failed import never removes a database it did not make ----------------
def test_a_failed_import_keeps_the_database_another_process_made_meanwhile(tmp_path):
    """Deterministic: this process's import of a new path is under way (its database not
    yet in place) when another process imports into the same path and commits; this one
    then fails. The other's database stays, whole."""
    from bakekit.cli._opening import Writing

    good, _ = _good_and_broken(tmp_path)
    target = tmp_path / "new.db"
    writing = Writing(str(target))
    with pytest.raises(RuntimeError), writing as bakery:
        with bakery.session() as ws:
            ws.catalog.add_supplier("Mine")
            ws.commit()
        other = cli("import", str(good), "--url", str(target))
        assert other.returncode == 0, other.stderr
        raise RuntimeError("this import fails after the other one committed")
    assert _suppliers(target) == ["Costco"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.json", "good.json",
                                                            "new.db"]


def test_a_second_import_of_a_new_path_that_appeared_meanwhile_is_refused(tmp_path):
    from bakekit.cli._opening import Writing

    good, _ = _good_and_broken(tmp_path)
    target = tmp_path / "new.db"
    writing = Writing(str(target))
    with pytest.raises(BakekitError, match="appeared while this command ran"), \
            writing as bakery:
        with bakery.session() as ws:
            ws.catalog.add_supplier("Mine")
            ws.commit()
        assert cli("import", str(good), "--url", str(target)).returncode == 0
    assert _suppliers(target) == ["Costco"]  # the other's, not replaced by this one


@pytest.mark.parametrize("attempt", range(3))
def test_two_imports_racing_into_one_new_path_keep_the_good_one(tmp_path, attempt):
    good, broken = _good_and_broken(tmp_path)
    target = tmp_path / "new.db"
    procs = [start("import", str(path), "--url", str(target), stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE) for path in (good, broken)]
    codes = [p.wait(timeout=180) for p in procs]
    for p in procs:
        p.stderr.close()
    assert codes[0] == 0 and codes[1] != 0
    assert _suppliers(target) == ["Costco"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


# -- point 3: an output that is the database in use is refused --------------------------
@pytest.mark.parametrize("args", [
    ("export", "{db}"),
    ("levels", "-o", "{db}"),
    ("levels", "-o", "{db}-wal", "-f", "csv"),
    ("what-if", "produce", "chocolate-chip-cookie", "--save-plan", "{db}"),
    ("reconcile", str(PRICES), "-o", "{db}"),
    ("info", "-o", "{link}", "-f", "json"),
], ids=["export", "levels", "levels-wal", "what-if", "reconcile", "info-symlink"])
def test_an_output_that_is_the_database_in_use_is_refused(db, tmp_path, args):
    link = tmp_path / "link.db"
    link.symlink_to(db)
    before = db.read_bytes()
    result = cli(*(a.format(db=db, link=link) for a in args), "--url", str(db))
    assert result.returncode == EXIT_ERROR, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "is the database in use" in lines[-1]
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists() or "wal" not in args[-1]


def test_the_library_export_refuses_its_own_database(db):
    bakery = bakekit.open(str(db))
    try:
        with bakery.session() as ws, pytest.raises(BakekitError, match="database in use"):
            ws.io.export(db)
    finally:
        bakery.dispose()
    assert _suppliers(db)


# -- point 5: written whole or not at all ------------------------------------------------
def test_an_export_over_an_old_file_replaces_it_whole(db, tmp_path):
    target = tmp_path / "bakery.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    result = cli("export", str(target), "--url", str(db))
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["format"] == "bakekit"
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bakery.json", "demo.db"]


def test_a_write_that_fails_midway_leaves_the_old_file(tmp_path, monkeypatch):
    """A full disk after the first bytes: the old file stays as it was, no temporary file
    is left beside it."""
    target = tmp_path / "export.json"
    target.write_text('{"old": true}', encoding="utf-8")
    real_write = os.write
    calls = []

    def full_disk(fd, data):
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, bytes(data)[:10])

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "x" * 100_000)
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["export.json"]


def test_an_export_killed_midway_leaves_the_old_file(db, tmp_path):
    """kill -9 at any moment: the old export is either still there or replaced whole."""
    target = tmp_path / "bakery.json"
    assert cli("export", str(target), "--url", str(db)).returncode == 0
    old = target.read_bytes()
    for delay in (0.3, 0.8, 1.3, 1.8):
        proc = start("export", str(target), "--url", str(db), stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        data = target.read_bytes()
        assert json.loads(data)["format"] == "bakekit"
        assert len(data) == len(old)


def test_export_to_a_missing_folder_exits_1_as_documented(db, tmp_path):
    result = cli("export", str(tmp_path / "nope" / "x.json"), "--url", str(db))
    assert result.returncode == EXIT_ERROR
    assert result.stderr.strip().splitlines() == [
        f"error: export: {str(tmp_path / 'nope' / 'x.json')!r}: folder "
        f"{str(tmp_path / 'nope')!r} does not exist; create it first (nothing was done)"]


def test_export_to_a_pipe_closed_early_fails_loudly(db):
    proc = start("export", "-", "--url", str(db), stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before anything is written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=180) == EXIT_ERROR
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: standard output was closed"), err
    assert "exported" not in err


def test_levels_with_stdout_closed_is_one_line(db):
    result = subprocess.run(
        f"{sys.executable} -m bakekit.cli levels --url {db} >&-", shell=True,
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == EXIT_ERROR
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in result.stderr, result.stderr


# -- point 6: every password masked, whatever the URL's form ----------------------------
@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql+psycopg://me:s3cret@db/bakery", "postgresql+psycopg://me:***@db/bakery"),
    ("postgresql+psycopg://me@db/bakery?password=s3cret",
     "postgresql+psycopg://me@db/bakery?password=***"),
    ("postgresql://me@db/b?sslmode=require&PassWord=s3cret&sslpassword=s3cret",
     "postgresql://me@db/b?sslmode=require&PassWord=***&sslpassword=***"),
    ("postgresql://me:s3cret@[::1/bakery", "postgresql://me:***@[::1/bakery"),
    ("postgresql://me:s3cret@db:notaport/b?password=s3cret",
     "postgresql://me:***@db:notaport/b?password=***"),
    ("sqlite:////tmp/a:b@c.db", "sqlite:////tmp/a:b@c.db"),
])
def test_a_password_is_masked_in_every_form_of_url(url, masked):
    from bakekit.bakery import mask_url

    assert mask_url(url) == masked
    assert "s3cret" not in mask_url(url)


@pytest.fixture
def pg_password_url() -> str:
    """The test PostgreSQL's URL with its password as a query parameter."""
    from sqlalchemy.engine import make_url

    url = os.environ.get("BAKEKIT_TEST_PG_URL")
    if not url:
        pytest.skip("no PostgreSQL server: BAKEKIT_TEST_PG_URL is not set")
    parsed = make_url(url)
    if not parsed.password:
        pytest.skip("the test PostgreSQL URL has no password")
    secret = parsed.password
    plain = parsed.set(password=None).render_as_string(hide_password=False)
    bakery = bakekit.open(url)
    try:
        with bakery.session() as ws:
            if ws.catalog.suppliers().empty:
                ws.catalog.add_supplier("Costco")
                ws.commit()
    finally:
        bakery.dispose()
    return f"{plain}?password={secret}"


def test_a_query_password_is_never_printed_or_stored(pg_password_url, tmp_path):
    plan = tmp_path / "plan.json"
    outputs = [
        cli("info", "--url", pg_password_url),
        cli("levels", "--url", pg_password_url),
        cli("export", str(tmp_path / "x.json"), "--url", pg_password_url),
        cli("reconcile", str(PRICES), "--url", pg_password_url, "--save-plan", str(plan)),
    ]
    for result in outputs:
        text = result.stdout + result.stderr
        assert "password=***" in text, text
        assert "password=" + pg_password_url.rsplit("password=", 1)[1] not in text
    assert "apply it with" in outputs[-1].stderr
    label = json.loads(plan.read_text(encoding="utf-8"))["database"]["label"]
    assert label.endswith("password=***")
    bakery = bakekit.open(pg_password_url)
    try:
        with bakery.session() as ws:
            assert repr(ws).endswith("password=***>") and repr(bakery).endswith("***>")
    finally:
        bakery.dispose()


# -- point 7: CSV injection -------------------------------------------------------------
def test_csv_output_neutralises_formulas_and_keeps_numbers(db, tmp_path):
    import csv
    import io

    evil = tmp_path / "evil.csv"
    with evil.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["product_name", "brand", "package_qty", "package_unit",
                         "ingredient_name", "supplier_name", "unit_price", "notes"])
        writer.writerow(['=HYPERLINK("http://evil.example","click")', "=cmd|' /C calc'!A0",
                         "25", "lb", "+1+1", "@SUM(1)", "-12.49", "\t=1"])
        writer.writerow(["All-purpose flour 25 lb", "Kirkland", "25", "lb",
                         "All-purpose flour", "Costco", "$12.49", "-2"])
    written = tmp_path / "review.csv"
    to_file = cli("reconcile", str(evil), "--url", str(db), "-o", str(written))
    to_stdout = cli("reconcile", str(evil), "--url", str(db), "-f", "csv")
    assert to_file.returncode == 0 and to_stdout.returncode == 0, to_file.stderr
    for text in (written.read_text(encoding="utf-8"), to_stdout.stdout):
        rows = list(csv.reader(io.StringIO(text)))
        cells = [c for row in rows for c in row]
        assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells
        assert "'=cmd|' /C calc'!A0" in cells
        for c in cells:
            if c[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(c)  # only a number may start so
        header = rows[0]
        line = [int(row[header.index("line")]) for row in rows[1:]]
        assert line == [2, 3]


def test_demo_refuses_to_save_its_plan_over_its_own_database(tmp_path):
    target = tmp_path / "demo.db"
    result = cli("demo", "--path", str(target), "--save-plan", str(target))
    assert result.returncode == EXIT_ERROR
    assert "is the database in use" in result.stderr and not target.exists()

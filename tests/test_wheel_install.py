"""Installed from a wheel, bakekit works: build the sdist and the wheel (from the sdist), install
the wheel into a fresh virtual environment outside the repository, and run the CLI and the
README's first example from a folder that is not the repository, so nothing is found by
accident (no PYTHONPATH, a fresh HOME, no BAKEKIT_URL)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

#: environment variables that could let the installed bakekit see the repository or the
#: developer's setup instead of what the wheel carries
_SCRUBBED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "BAKEKIT_URL",
             "VIRTUAL_ENV", "CONDA_PREFIX", "XDG_DATA_HOME", "XDG_CONFIG_HOME",
             "XDG_CACHE_HOME")


def _run(cmd: list[str], *, what: str, cwd: Path, env: dict[str, str],
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, fail the test with the command's whole output."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what}: no result after {timeout:.0f} s: {' '.join(cmd)}\n"
                    f"--- stdout ---\n{exc.stdout}\n--- stderr ---\n{exc.stderr}")
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                    f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    return proc


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def _shipped_files() -> set[str]:
    """What the installed package needs: every module and every run-time resource."""
    package = ROOT / "bakekit"
    wanted = {p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
              and p.suffix in {".py", ".json", ".mako", ".typed"}}
    return {p.relative_to(ROOT).as_posix() for p in wanted}


def _clean_copy(dest: Path) -> Path:
    """The source tree as a fresh checkout has it (tracked and new files, nothing ignored).

    Building from the working tree itself would let a stale ``bakekit.egg-info`` (its
    SOURCES.txt) or ``build/`` folder put files into the sdist or wheel that the project's
    configuration no longer ships.
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=False) if shutil.which("git") else None
    if listed is not None and listed.returncode == 0 and listed.stdout:
        for name in listed.stdout.decode().split("\0"):
            source = ROOT / name
            if name and source.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / name)
    else:  # not a git checkout (e.g. an unpacked sdist)
        shutil.copytree(ROOT, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".git", ".venv", "*.egg-info", "build", "dist", "__pycache__", ".*_cache",
            ".hypothesis", "*.db", "*.db-*"))
    return dest


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | float | None]:
    """The sdist and the wheel built from it (``python -m build``), in a temporary folder.

    Without the ``build`` package (it is in the test extra) the wheel comes from
    ``pip wheel --no-deps`` and there is no sdist.
    """
    out = tmp_path_factory.mktemp("dist")
    source = _clean_copy(tmp_path_factory.mktemp("source"))
    env = _clean_env()
    start = time.perf_counter()
    if importlib.util.find_spec("build") is not None:
        # no --sdist/--wheel: build makes the sdist, then the wheel from the unpacked sdist,
        # so the wheel can only carry what the sdist does
        _run([sys.executable, "-m", "build", "--outdir", str(out), str(source)],
             what="python -m build", cwd=out, env=env)
    else:
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out),
              str(source)], what="pip wheel", cwd=out, env=env)
    wheels = sorted(out.glob("bakekit-*.whl"))
    sdists = sorted(out.glob("bakekit-*.tar.gz"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {os.listdir(out)}"
    return {"wheel": wheels[0], "sdist": sdists[0] if sdists else None,
            "seconds": time.perf_counter() - start}


def test_sdist_and_wheel_carry_the_package_and_its_data(dists):
    wheel = dists["wheel"]
    assert isinstance(wheel, Path)
    assert wheel.name.startswith(f"bakekit-{VERSION}-")
    needed = _shipped_files()
    assert {"bakekit/data/demo.json", "bakekit/db/migrations/env.py",
            "bakekit/db/migrations/script.py.mako", "bakekit/py.typed"} <= needed
    assert any(f.startswith("bakekit/db/migrations/versions/0") for f in needed)

    with zipfile.ZipFile(wheel) as zf:
        in_wheel = set(zf.namelist())
        entry_points = zf.read(f"bakekit-{VERSION}.dist-info/entry_points.txt").decode()
    assert needed <= in_wheel, f"missing from the wheel: {sorted(needed - in_wheel)}"
    assert "bakekit = bakekit.cli:app" in entry_points
    top = {name.split("/", 1)[0] for name in in_wheel}
    assert top == {"bakekit", f"bakekit-{VERSION}.dist-info"}, top  # no tests/, no data/

    sdist = dists["sdist"]
    if sdist is None:
        pytest.skip("no sdist: the 'build' package (test extra) is not installed")
    assert isinstance(sdist, Path)
    prefix = f"bakekit-{VERSION}/"
    with tarfile.open(sdist) as tf:
        in_sdist = {m.name.removeprefix(prefix) for m in tf.getmembers() if m.isfile()}
    missing = (needed | {"pyproject.toml", "README.md"}) - in_sdist
    assert not missing, f"missing from the sdist: {sorted(missing)}"


_SCRIPT = r'''
import json
import bakekit
import bakekit.sample

bakery = bakekit.open("shop.db")  # a SQLite file in the working folder, migrated on open
with bakery.session() as ws:
    ws.catalog.add_ingredient("flour", "All-purpose flour", density="1 cup = 4.25 oz")
    ws.catalog.add_product("flour-5lb", "flour", brand="King Arthur", name="AP flour 5 lb",
                           package_quantity=5, package_unit="lb")
    receipt = ws.inventory.purchase("flour-5lb", packages=2, unit_cost=18.00,
                                    purchased_on="2025-11-01")
    used = ws.inventory.consume("flour", 3, "cup", reason="test bake")
    ws.commit()
with bakekit.open(bakery.url).session() as ws:  # a second bakery: what was committed
    after_commit = ws.inventory.levels().set_index("item").loc["flour"]
with bakery.what_if() as ws:
    preview = ws.inventory.consume("flour", 12, "cup", reason="holiday bake")
plan = ws.plan
summary = plan.summary().set_index("item").loc["flour"]
applied = plan.apply()
with bakekit.open(bakery.url, read_only=True).session() as ws:
    final = ws.inventory.levels().set_index("item").loc["flour"]
print(json.dumps({
    "module": bakekit.__file__, "sample": str(bakekit.sample.SAMPLE),
    "version": bakekit.__version__, "url": bakery.url,
    "receipt": [receipt.quantity, receipt.unit, receipt.total_cost],
    "used": [used.total_cost, float(used.consumed["quantity"].sum())],
    "after_commit": [float(after_commit["on_hand"]), after_commit["unit"],
                     float(after_commit["value"])],
    "preview": preview.total_cost,
    "summary": [float(summary["before"]), float(summary["change"]), float(summary["after"])],
    "applied_rows": len(applied),
    "final": [float(final["on_hand"]), final["unit"], float(final["value"])],
}))
'''


def test_wheel_installs_and_runs_outside_the_repository(dists, tmp_path):
    started = time.perf_counter()
    wheel = dists["wheel"]
    assert isinstance(wheel, Path)
    env_dir = tmp_path / "venv"
    work = tmp_path / "work"
    home = tmp_path / "home"
    work.mkdir()
    home.mkdir()
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")

    # the dependencies at the versions this test environment runs (a fresh `make test`
    # resolves the latest ones, as a user's `pip install` would): deterministic, and the
    # pip cache serves them on a warm machine
    pins: dict[str, str] = {}
    for dist in importlib.metadata.distributions():  # sys.path order: the one imported wins
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        if name and name != "bakekit":
            pins.setdefault(name, dist.version)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
    install_start = time.perf_counter()
    # pip keeps the real HOME (its cache lives there); bakekit below gets a fresh one
    _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
          "--constraint", str(constraints), str(wheel)],
         what="pip install of the wheel", cwd=work, env=_clean_env(), timeout=780)
    install_seconds = time.perf_counter() - install_start

    env = _clean_env(HOME=str(home), TMPDIR=str(tmp_path),
                     PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    bakekit_cmd = str(bindir / "bakekit")

    version = _run([bakekit_cmd, "--version"], what="bakekit --version", cwd=work, env=env)
    assert version.stdout.strip() == f"bakekit {VERSION}", version.stdout

    demo = _run([bakekit_cmd, "demo"], what="bakekit demo", cwd=work, env=env)
    for expected in ("demo database: ", "Stock value at cost", "Finished units on hand",
                     "What-if plan (nothing written yet)", "nothing committed"):
        assert expected in demo.stdout, f"{expected!r} not in the demo's output:\n{demo.stdout}"
    # the demo database is kept in the user data folder (of this fresh HOME), not the repo
    assert f"demo database: {home}" in demo.stdout, demo.stdout

    (work / "check.py").write_text(_SCRIPT)
    proc = _run([str(python), "check.py"], what="the README example script", cwd=work, env=env)
    result = json.loads(proc.stdout.strip().splitlines()[-1])

    module = Path(result["module"]).resolve()
    assert module.is_relative_to(env_dir.resolve()), f"bakekit imported from {module}"
    assert not module.is_relative_to(ROOT), f"bakekit imported from the repository: {module}"
    assert Path(result["sample"]).resolve().is_relative_to(env_dir.resolve())
    assert result["version"] == VERSION
    assert result["url"] == f"sqlite+pysqlite:///{(work / 'shop.db').resolve()}"

    # 2 x 5 lb at 18.00 a bag; 3 cups at 4.25 oz = 0.796875 lb at 3.60/lb
    assert result["receipt"] == [10.0, "lb", 36.0]
    assert result["used"] == pytest.approx([2.86875, 0.796875])
    assert result["after_commit"][1] == "lb"
    assert result["after_commit"][0] == pytest.approx(9.203125)
    assert result["after_commit"][2] == pytest.approx(33.13125)
    # what-if of 12 cups = 3.1875 lb at 3.60; applied, it leaves 6.015625 lb
    assert result["preview"] == pytest.approx(11.475)
    assert result["summary"] == pytest.approx([9.203125, -3.1875, 6.015625])
    assert result["applied_rows"] == 1
    assert result["final"][1] == "lb"
    assert result["final"][0] == pytest.approx(6.015625)
    assert result["final"][2] == pytest.approx(6.015625 * 3.6)

    levels = _run([bakekit_cmd, "levels", "--url", "shop.db"], what="bakekit levels",
                  cwd=work, env=env)
    assert "flour" in levels.stdout and "6.016" in levels.stdout, levels.stdout
    # only `bakekit demo` keeps its database in the user data folder (issue 31)
    assert [p.name for p in home.rglob("*.db")] == ["demo.db"], \
        "nothing else should default to the user data dir"
    print(f"\nwheel test: build {dists['seconds']:.1f} s, venv + pip install "
          f"{install_seconds:.1f} s, whole test {time.perf_counter() - started:.1f} s")

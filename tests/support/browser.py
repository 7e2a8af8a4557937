"""A notebook served by Voila and the system Chromium driven by Playwright, for the panels'
browser tests (tests/test_confirm_browser.py, tests/test_review_browser.py): the server
runs on 127.0.0.1 at a free port, stopped by its own PID and process group."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.support.backends import IN_CI

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BAKEKIT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_S = 60  # bounded waits, in seconds


def unavailable(reason: str) -> None:
    """Skip (or, in CI, fail) a browser test that cannot run here."""
    if IN_CI:
        pytest.fail(f"the browser test must run in CI: {reason}")
    pytest.skip(reason)


def require_browser() -> None:
    if not Path(CHROMIUM).exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    for module in ("playwright", "voila"):
        try:
            __import__(module)
        except ImportError:
            unavailable(f"{module} is not installed (pip install -e '.[test]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a server we started, by its PID (and its kernels, in its process group)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # kernels left behind in the server's group


@contextlib.contextmanager
def voila(cells: list[str], folder: Path) -> Iterator[dict[str, Any]]:
    """Serve a notebook of ``cells`` with Voila from ``folder``; yields its url and log."""
    require_browser()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, folder / "panel.ipynb")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"), "MPLBACKEND": "Agg"}
    log = (folder / "voila.log").open("w")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", "panel.ipynb", "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--token=",
         "--show_tracebacks=True"],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() - started > SERVER_START_S:
                    pytest.fail("Voila did not start:\n" + (folder / "voila.log").read_text())
                time.sleep(0.2)
        yield {"url": f"http://127.0.0.1:{port}/", "log": folder / "voila.log",
               "startup_s": time.monotonic() - started}
    finally:
        _stop(proc)
        log.close()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """The system Chromium under Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def page_fixtures(cells: list[str], name: str) -> tuple[Any, Any]:
    """The module-scoped fixtures ``voila`` (a server for the notebook of ``cells``) and
    ``browser`` (Chromium) of a browser test module: ``voila, browser = page_fixtures(...)``."""

    @pytest.fixture(scope="module", name="voila")
    def voila_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
        with voila(cells, tmp_path_factory.mktemp(name)) as server:
            yield server

    @pytest.fixture(scope="module", name="browser")
    def browser_fixture(voila: dict[str, Any]) -> Iterator[Any]:
        with chromium() as b:
            yield b

    return voila_fixture, browser_fixture


def keep_evidence(page: Any, folder: Path, log: Path) -> None:
    """A screenshot of a failing page and the Voila log, in the test's temporary folder."""
    try:
        page.screenshot(path=str(folder / "failure.png"), full_page=True)
    except Exception as exc:  # the screenshot is evidence, not the test
        (folder / "failure.txt").write_text(f"no screenshot: {exc}")
    shutil.copy(log, folder / "voila.log")

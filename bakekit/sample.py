"""The demo database: the sample data shipped inside the package (bakekit/data/demo.json)."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from bakekit.bakery import Bakery
from bakekit.bakery import open as open_bakery
from bakekit.db.engine import default_path
from bakekit.errors import BakekitError
from bakekit.files import SQLITE_SUFFIXES
from bakekit.workspace import Workspace

#: the demo data, a resource of the package (read with importlib.resources, so it is found
#: wherever bakekit is installed: a wheel, an sdist, an editable checkout)
SAMPLE = resources.files("bakekit") / "data" / "demo.json"


def sample_data(path: str | Path | None = None) -> dict[str, Any]:
    """The demo data as a dict (the packaged demo.json unless another path is given).

    >>> "ingredients" in sample_data()
    True
    """
    if path is None:
        if not SAMPLE.is_file():
            raise BakekitError(f"sample data {str(SAMPLE)!r} is missing from the installed "
                               "bakekit package (reinstall bakekit)")
        text = SAMPLE.read_text(encoding="utf-8")
    else:
        source = Path(path)
        if not source.is_file():
            raise BakekitError(f"sample data {str(source)!r} not found")
        text = source.read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def load_sample(ws: Workspace, data: dict[str, Any], *, progress: bool = False) -> None:
    """Write the sample data into a workspace through the public area methods.

    >>> fresh = bakekit.open(":memory:")
    >>> with fresh.session() as ws:
    ...     load_sample(ws, sample_data())
    ...     len(ws.catalog.ingredients())
    15
    """
    steps = ["catalog", "purchases", "recipes", "goods", "events", "production"]
    bar = tqdm(steps, desc="demo data", disable=not progress, leave=False, unit="step")
    for step in bar:
        bar.set_postfix_str(step)
        if step == "catalog":
            for s in data.get("suppliers", []):
                ws.catalog.add_supplier(**s)
            for i in data.get("ingredients", []):
                ws.catalog.add_ingredient(**i)
            for p in data.get("products", []):
                ws.catalog.add_product(**p)
        elif step == "purchases":
            for p in data.get("purchases", []):
                ws.inventory.purchase(p["product"], packages=p["packages"],
                                      unit_cost=p["unit_cost"], purchased_on=p["purchased_on"])
        elif step == "recipes":
            for r in data.get("recipes", []):
                ws.recipes.add(r["slug"], r["name"],
                               ingredients=[tuple(x) for x in r.get("ingredients", [])],
                               components=[tuple(x) for x in r.get("components", [])],
                               finished_units=[tuple(x) for x in r.get("finished_units", [])])
        elif step == "goods":
            for g in data.get("finished_goods", []):
                ws.assembly.add_finished_good(g["slug"], g["name"],
                                              components=[tuple(x) for x in g["components"]])
            for p in data.get("packages", []):
                ws.events.add_package(p["slug"], p["name"],
                                      contents=[tuple(x) for x in p["contents"]])
        elif step == "events":
            for r in data.get("recipients", []):
                ws.events.add_recipient(**r)
            for e in data.get("events", []):
                ws.events.create(e["name"], e["date"])
                for recipient, package, quantity in e.get("assignments", []):
                    ws.events.assign(e["name"], recipient, package, quantity)
                for item, quantity in e.get("targets", []):
                    ws.events.set_target(e["name"], item, quantity)
        elif step == "production":
            for run in data.get("production", []):
                ws.production.record(run["finished_unit"], batches=run["batches"],
                                     actual_yield=run.get("actual_yield"),
                                     event=run.get("event"), produced_at=run.get("produced_at"))


def demo_path() -> Path:
    """Where ``bakekit demo`` keeps its database: demo.db in the user's data folder, beside
    the default bakery.db (``bakekit.db.engine.default_path``).

    >>> demo_path().name
    'demo.db'
    """
    return default_path().with_name("demo.db")


def build_demo(path: str | Path | None = None, *, progress: bool = False,
               replace: bool = False) -> Bakery:
    """A fresh bakery (a new SQLite file) with the sample data. Without ``path``, a
    temporary file whose folder is removed when Python exits (no ``bakekit-demo-*``
    folders left behind); ``replace`` builds afresh over an existing file at ``path``.

    The file is claimed in one step (created only if absent), so a file that appears at
    ``path`` meanwhile is refused, never built over; a build that fails removes what it
    made."""
    if path is None:
        folder = Path(tempfile.mkdtemp(prefix="bakekit-demo-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "demo.db"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if replace:  # the database and its SQLite companions, nothing else of that name
        for suffix in SQLITE_SUFFIXES:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    try:
        path.open("x").close()  # SQLite takes an empty file for a new database
    except FileExistsError:
        raise BakekitError(f"demo database {str(path)!r} already exists; choose a new "
                           "path") from None
    try:
        bakery = open_bakery(path)
        try:
            with bakery.session() as ws:
                load_sample(ws, sample_data(), progress=progress)
                ws.commit()
        except BaseException:
            bakery.dispose()
            raise
    except BaseException:
        for suffix in SQLITE_SUFFIXES:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
    return bakery

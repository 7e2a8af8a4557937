"""A saved plan is data, not code (issue 18) and applies once (issue 21, item 1).

A plan file replays only bakekit's own write operations with recorded values, on the
database it was made on, once; an edited file is refused. Each refusal writes nothing.
Hand-made files here carry a correct digest (anyone can compute one: the digest is
integrity, not authenticity), so the checks behind it are what refuses them.
"""

from __future__ import annotations

import copy
import json
import shutil
import uuid
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import bakekit
from bakekit import plan as plan_module
from bakekit.cli import (
    EXIT_ALREADY_APPLIED,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_WRONG_DATABASE,
    app,
)
from bakekit.errors import (
    BakekitError,
    InvalidPlanError,
    PlanAlreadyAppliedError,
    StalePlanError,
    WrongDatabaseError,
)
from bakekit.plan import Plan, RecordedOperation, canonical_digest
from bakekit.plan import arguments as plan_arguments
from tests.support.atomic import snapshot
from tests.support.data import _imported, _prices_frame, small_file


def _what_if(bakery: bakekit.Bakery) -> Plan:
    with bakery.what_if() as ws:
        ws.inventory.purchase("flour-5lb", packages=1, unit_cost=25.0, purchased_on="2025-04-01")
        ws.inventory.consume("flour", 22, "lb", reason="holiday bake")
    return ws.plan


def _forge(bakery: bakekit.Bakery, operations: list, *, changes: list | None = None,
           database_id: str | None = None) -> str:
    """A hand-written plan file for this bakery, with a correct digest."""
    document = {
        "format": "bakekit-plan", "version": plan_module.FORMAT_VERSION,
        "plan_id": str(uuid.uuid4()), "made_at": "2026-11-27T10:00:00+00:00",
        "database": {"id": database_id or bakery.database_id,
                     "label": bakery.database_label},
        "applied": False, "operations": operations, "changes": changes or [], "summary": [],
    }
    document["digest"] = canonical_digest(document)
    return json.dumps(document)


def _reseal(text: str) -> str:
    document = json.loads(text)
    document["digest"] = canonical_digest(document)
    return json.dumps(document)


def _op(area: str, method: str, *args, **kwargs) -> dict:
    return {"area": area, "method": method, "args": list(args), "kwargs": kwargs}


# -- the file from the issue ----------------------------------------------------------------
ISSUE_OPERATIONS = [
    {"area": "connection", "method": "exec_driver_sql", "args": ["DELETE FROM movements"],
     "kwargs": {}},
    {"area": "io", "method": "export", "args": ["STOLEN"], "kwargs": {}},
]


def test_the_issue_file_is_refused_nothing_written_no_file_created(stocked, tmp_path):
    stolen = tmp_path / "stolen.json"
    operations = json.loads(json.dumps(ISSUE_OPERATIONS).replace("STOLEN", str(stolen)))
    before = snapshot(stocked)
    # the file exactly as in the issue (version 1, no digest, no database)
    as_filed = json.dumps({"format": "bakekit-plan", "version": 1, "applied": False,
                           "changes": [], "summary": [], "operations": operations})
    with pytest.raises(InvalidPlanError, match="version 1"):
        Plan.from_json(as_filed, stocked).apply()
    # the same operations in a current file with a correct digest and this database's id
    with pytest.raises(InvalidPlanError) as info:
        Plan.from_json(_forge(stocked, operations), stocked).apply()
    message = str(info.value)
    assert "operation 1" in message and "'connection'" in message
    assert "'exec_driver_sql'" in message and info.value.operation == 1
    # the export alone: a read, not a write operation
    with pytest.raises(InvalidPlanError, match=r"operation 1 .*'io'.*'export'"):
        Plan.from_json(_forge(stocked, operations[1:]), stocked)
    # nor can such an operation be put into a plan object in Python
    with pytest.raises(InvalidPlanError, match="exec_driver_sql"):
        Plan(stocked, [RecordedOperation("connection", "exec_driver_sql",
                                         ["DELETE FROM movements"], {})], [], [])
    assert snapshot(stocked) == before
    assert not stolen.exists()
    with stocked.session() as ws:
        assert len(ws.inventory.movements()) == 6


#: operations a plan may not call: (area, method) -> why
NOT_WRITES = [
    ("inventory", "levels"),  # a read
    ("inventory", "preview_consume"),
    ("io", "reconcile"),
    ("io", "export"),
    ("inventory", "_ws"),  # private
    ("inventory", "__init__"),  # dunder
    ("inventory", "__class__"),
    ("catalog", "__getattribute__"),
    ("connection", "execute"),  # not an area
    ("bakery", "dispose"),
    ("_session", "execute"),
    ("plan", "apply"),
    ("commit", "__call__"),
    ("__class__", "__subclasses__"),
    ("", ""),
]


@pytest.mark.parametrize(("area", "method"), NOT_WRITES)
def test_an_operation_that_is_not_a_write_operation_is_refused_when_read(stocked, area,
                                                                         method):
    before = snapshot(stocked)
    good = _op("inventory", "consume", "flour", 1, "lb", reason="x")
    text = _forge(stocked, [good, _op(area, method)])
    with pytest.raises(InvalidPlanError) as info:
        Plan.from_json(text, stocked)
    assert info.value.operation == 2
    assert f"operation 2 (area {area!r}, method {method!r})" in str(info.value)
    assert snapshot(stocked) == before


def test_area_and_method_must_be_text(stocked):
    with pytest.raises(InvalidPlanError, match="must be text"):
        Plan.from_json(_forge(stocked, [_op(["inventory"], "consume")]), stocked)
    with pytest.raises(InvalidPlanError, match="area, method, args and kwargs"):
        Plan.from_json(_forge(stocked, [{"area": "inventory", "method": "consume",
                                         "args": [], "kwargs": {}, "then": "x"}]), stocked)


#: (id, operation, words the message must hold)
BAD_ARGUMENTS = [
    ("unknown tag", _op("production", "record", "cookie", batches={"__pickle__": "x"}),
     "'__pickle__'"),
    ("untagged object", _op("production", "record", {"a": 1}, batches=1),
     "not a recorded value"),
    ("two keys", _op("production", "record", "c", batches={"__decimal__": "1", "x": 2}),
     "not a recorded value"),
    ("decimal not text", _op("production", "record", "c", batches={"__decimal__": 2}),
     "__decimal__ must be text"),
    ("decimal garbage", _op("production", "record", "c", batches={"__decimal__": "two"}),
     "not a decimal"),
    ("bad date", _op("events", "create", "Easter", {"__date__": "2026-02-30"}),
     "not an ISO date"),
    ("frame of objects", _op("io", "import_history", {"__frame__": {
        "columns": ["item"], "data": [[{"x": 1}]]}}), "not a plain value"),
    ("ragged frame", _op("io", "import_history", {"__frame__": {
        "columns": ["item", "quantity"], "data": [["cookie"]]}}), "list of 2 values"),
    ("file where none is read", _op("production", "record", {
        "__file__": {"path": "/etc/passwd", "sha256": "0" * 64}}, batches=1), "'__file__'"),
    ("document where none is taken", _op("io", "load", {"__document__": {"a": 1}}),
     "'__document__'"),
    ("file nested in a list", _op("io", "load", [{"__file__": {"path": "/etc/passwd",
                                                               "sha256": ""}}]),
     "'__file__'"),
    ("unknown keyword", _op("production", "record", "cookie", batchez=2), "batchez"),
    ("missing argument", _op("production", "record", batches=2), "finished_unit"),
    ("too many positional", _op("production", "record", *range(17)), "at most 16"),
    ("too many keywords", _op("catalog", "update_ingredient", "flour",
                              **{f"k{i}": i for i in range(40)}), "at most 32"),
    ("private keyword", _op("catalog", "update_ingredient", "flour", _ws=1),
     "public argument name"),
    ("deep lists", _op("recipes", "add", "r", "R", ingredients=[[[[[[["x"]]]]]]]),
     "nested deeper"),
    ("huge integer", _op("inventory", "adjust", 10**40, 1, "lb", reason="x"), "10**30"),
    ("args not a list", {"area": "inventory", "method": "adjust", "args": "1, 2",
                         "kwargs": {}}, "args must be a list"),
    ("bare path to load", _op("io", "load", "/etc/passwd"), "recorded with its sha256"),
    ("bare path to import", _op("io", "import_bake_tracker", path="/home/me/secret.json"),
     "recorded with its sha256"),
    ("no path at all", _op("io", "import_history", None), "recorded with its sha256"),
    ("reconciliation that is not one", _op("io", "apply_reconciliation", None),
     "must be a recorded reconciliation"),
    ("reconciliation of unknown kind", _op("io", "apply_reconciliation", {
        "__reconciliation__": {"kind": "wishes", "frame": {"__frame__": {
            "columns": [], "data": []}}}}), "kind must be one of"),
]


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS])
def test_an_argument_that_is_not_a_recorded_value_is_refused_when_read(stocked, case):
    _, operation, words = case
    before = snapshot(stocked)
    with pytest.raises(InvalidPlanError) as info:
        Plan.from_json(_forge(stocked, [operation]), stocked)
    assert words in str(info.value), str(info.value)
    assert f"{operation['area']}.{operation['method']}" in str(info.value)
    assert info.value.operation == 1
    assert snapshot(stocked) == before


def test_huge_argument_lists_are_refused(stocked, monkeypatch):
    monkeypatch.setattr(plan_arguments, "MAX_VALUES", 1000)
    rows = [["flour", 1, "cup"]] * 400
    with pytest.raises(InvalidPlanError, match="more than 1,000 values"):
        Plan.from_json(_forge(stocked, [_op("recipes", "add", "r", "R", ingredients=rows)]),
                       stocked)
    frame = {"__frame__": {"columns": ["item", "quantity"], "data": [["x", 1]] * 600}}
    with pytest.raises(InvalidPlanError, match="more than 1,000 values"):
        Plan.from_json(_forge(stocked, [_op("io", "import_history", frame)]), stocked)


def test_a_tampered_reconciliation_review_is_refused(bakery):
    _imported(bakery)
    with bakery.what_if() as ws:
        ws.io.reconcile(_prices_frame(), kind="prices").apply()
    plan = ws.plan
    assert "prices review of 4 row(s)" in plan.describe()[0]
    document = json.loads(plan.to_json())
    frame = document["operations"][0]["args"][0]["__reconciliation__"]["frame"]["__frame__"]
    at, status = frame["columns"].index("price"), frame["columns"].index("status")
    row = next(r for r in frame["data"] if r[status] == "new")
    row[at] = -5
    before = snapshot(bakery)
    with pytest.raises(InvalidPlanError, match="price is not a valid amount"):
        Plan.from_json(_reseal(json.dumps(document)), bakery)
    row[at] = 18.0
    row[frame["columns"].index("product_id")] = "1; DROP TABLE products"
    with pytest.raises(InvalidPlanError, match="product_id is not a valid id"):
        Plan.from_json(_reseal(json.dumps(document)), bakery)
    assert snapshot(bakery) == before
    Plan.from_json(plan.to_json(), bakery).apply()  # the review as made applies
    with bakery.session() as ws:
        assert ws.catalog.products().set_index("item")["price"].notna().sum() == 2


def test_a_review_naming_what_is_not_there_fails_the_replay_cleanly(stocked):
    """A purchases review (re-sealed by hand) naming an unknown product or supplier: the
    replay raises NotFoundError, the plan is refused as stale, nothing is written."""
    review = pd.DataFrame([{"product": "flour-5lb", "packages": 1, "unit_cost": 3,
                            "purchased_on": "2025-05-01"}])
    with stocked.what_if() as ws:
        ws.io.reconcile(review, kind="purchases").apply()
    text = ws.plan.to_json()
    before = snapshot(stocked)
    for column, value in (("product", "unobtainium-1lb"), ("supplier", "Nobody Inc")):
        document = json.loads(text)
        document["plan_id"] = str(uuid.uuid4())
        frame = document["operations"][0]["args"][0]["__reconciliation__"]["frame"][
            "__frame__"]
        frame["data"][0][frame["columns"].index(column)] = value
        with pytest.raises(StalePlanError, match=value):
            Plan.from_json(_reseal(json.dumps(document)), stocked).apply()
    assert snapshot(stocked) == before
    Plan.from_json(text, stocked).apply()


# -- the database a plan was made on ----------------------------------------------------------
def _twin(source: bakekit.Bakery, tmp_path: Path) -> bakekit.Bakery:
    """Another database with the same data: an export of the source loaded into a new file."""
    with source.session() as ws:
        ws.io.export(tmp_path / "twin.json")
    twin = bakekit.open(tmp_path / "twin.db")
    with twin.session() as ws:
        ws.io.load(tmp_path / "twin.json")
        ws.commit()
    return twin


def test_a_loaded_copy_has_its_own_identity_and_refuses_the_sources_plan(stocked, tmp_path):
    twin = _twin(stocked, tmp_path)
    try:
        assert twin.database_id != stocked.database_id
        doc = json.loads((tmp_path / "twin.json").read_text())
        assert "bakery_identity" not in doc["tables"] and "applied_plans" not in doc["tables"]
        plan = _what_if(stocked)
        before = snapshot(twin)
        with pytest.raises(WrongDatabaseError) as info:
            Plan.from_json(plan.to_json(), twin).apply()
        message = str(info.value)
        assert stocked.database_id in message and twin.database_id in message
        assert stocked.database_label in message and twin.database_label in message
        assert info.value.plan_database == (stocked.database_id, stocked.database_label)
        assert snapshot(twin) == before
        with pytest.raises(WrongDatabaseError):
            Plan(twin, plan._operations, plan._change_rows, plan._summary_rows,
                 plan_id=plan.plan_id, database_id=plan.database_id,
                 database_label=plan.database_label).apply()
        assert snapshot(twin) == before
        plan.apply()  # where it was made, it applies
    finally:
        twin.dispose()


def test_the_identity_is_kept_by_reopening_and_a_password_is_never_in_the_label(stocked):
    again = bakekit.open(stocked.url)
    try:
        assert again.database_id == stocked.database_id
        assert len(uuid.UUID(stocked.database_id).hex) == 32
    finally:
        again.dispose()
    from bakekit.bakery import mask_url

    assert "s3cret" not in mask_url("postgresql+psycopg://me:s3cret@db.example:5432/b")


def test_a_database_migrated_from_0001_gets_an_identity_once(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine

    from bakekit.db.engine import alembic_config

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.commit()
    engine.dispose()
    first = bakekit.open(path)
    second = bakekit.open(path)
    try:
        assert first.database_id == second.database_id
    finally:
        first.dispose()
        second.dispose()


# -- edited plans -----------------------------------------------------------------------------
@pytest.mark.parametrize("edit", ["quantity", "batches", "database", "plan_id", "digest gone"])
def test_an_edited_plan_is_refused(stocked, edit):
    plan = _what_if(stocked)
    document = json.loads(plan.to_json())
    if edit == "quantity":
        document["changes"][0]["quantity"] = 500.0
    elif edit == "batches":
        document["operations"][1]["args"][1] = 2
    elif edit == "database":
        document["database"]["id"] = str(uuid.uuid4())
    elif edit == "plan_id":
        document["plan_id"] = str(uuid.uuid4())
    else:
        del document["digest"]
    before = snapshot(stocked)
    with pytest.raises(InvalidPlanError) as info:
        Plan.from_json(json.dumps(document), stocked).apply()
    expected = "missing digest" if edit == "digest gone" else "edited after it was saved"
    assert expected in str(info.value)
    assert snapshot(stocked) == before


def test_edited_ledger_rows_with_a_recomputed_digest_are_caught_by_the_replay(stocked):
    """The digest is integrity only: a file re-sealed after editing its expected rows
    passes it, and the replay's comparison refuses it instead."""
    document = json.loads(_what_if(stocked).to_json())
    document["changes"][0]["quantity"] = 500.0
    before = snapshot(stocked)
    with pytest.raises(StalePlanError):
        Plan.from_json(_reseal(json.dumps(document)), stocked).apply()
    assert snapshot(stocked) == before


# -- a plan applies once --------------------------------------------------------------------
def test_a_plan_file_read_twice_applies_once(stocked):
    text = _what_if(stocked).to_json()
    rows = Plan.from_json(text, stocked).apply()
    assert len(rows) > 0
    after = snapshot(stocked)
    assert [r[0] for r in after["applied_plans"]] == [json.loads(text)["plan_id"]]
    again = Plan.from_json(text, stocked)
    with pytest.raises(PlanAlreadyAppliedError) as info:
        again.apply()
    assert info.value.applied_at is not None
    assert f"{info.value.applied_at:%Y-%m-%d %H:%M:%S}" in str(info.value)
    assert snapshot(stocked) == after
    assert again.applied_at() == info.value.applied_at


def test_the_same_plan_object_applies_once_and_says_when(stocked):
    plan = _what_if(stocked)
    assert plan.applied_at() is None
    plan.apply()
    assert plan.applied_at() is not None
    with pytest.raises(PlanAlreadyAppliedError):
        plan.apply()


def test_a_failed_apply_does_not_count_as_applied(stocked):
    plan = _what_if(stocked)
    with stocked.session() as ws:
        ws.inventory.consume("flour", 1, "lb", reason="someone else")
        ws.commit()
    with pytest.raises(StalePlanError):
        plan.apply()
    assert snapshot(stocked)["applied_plans"] == []
    assert plan.applied_at() is None


def test_a_plan_applies_where_it_was_made_from_another_process_copy(stocked, tmp_path):
    """A copy of the file read by another Bakery object (as another process would)."""
    path = tmp_path / "plan.json"
    path.write_text(_what_if(stocked).to_json())
    shutil.copy(path, tmp_path / "copy.json")
    other = bakekit.open(stocked.url)
    try:
        Plan.from_json(path.read_text(), other).apply()
        with pytest.raises(PlanAlreadyAppliedError):
            Plan.from_json((tmp_path / "copy.json").read_text(), stocked).apply()
    finally:
        other.dispose()


# -- files an operation reads -----------------------------------------------------------------
def test_a_file_the_plan_reads_must_be_unchanged_at_apply(bakery, tmp_path):
    path = tmp_path / "bt.json"
    path.write_text(json.dumps(small_file()))
    with bakery.what_if() as ws:
        ws.io.import_bake_tracker(path)
    plan = ws.plan
    recorded = json.loads(plan.to_json())["operations"][0]["args"][0]["__file__"]
    assert recorded["path"] == str(path.resolve()) and len(recorded["sha256"]) == 64
    assert "bt.json" in plan.describe()[0]
    data = small_file()
    data["purchases"][0]["quantity_purchased"] = 3
    path.write_text(json.dumps(data))
    before = snapshot(bakery)
    with pytest.raises(StalePlanError, match="changed since the plan was made"):
        Plan.from_json(plan.to_json(), bakery).apply()
    path.unlink()
    with pytest.raises(StalePlanError, match="is not there"):
        plan.apply()
    assert snapshot(bakery) == before
    path.write_text(json.dumps(small_file()))
    plan.apply()
    with bakery.session() as ws:
        assert "flour" in set(ws.inventory.levels()["item"])


# -- the command line -----------------------------------------------------------------------
def test_cli_applies_a_plan_file_once(stocked, tmp_path):
    runner = CliRunner()
    path = tmp_path / "plan.json"
    path.write_text(_what_if(stocked).to_json())
    first = runner.invoke(app, ["apply", str(path), "--url", stocked.url])
    assert first.exit_code == 0, first.output
    after = snapshot(stocked)
    second = runner.invoke(app, ["apply", str(path), "--url", stocked.url])
    assert second.exit_code == EXIT_ALREADY_APPLIED, second.output
    assert "already applied" in second.output and "Traceback" not in second.output
    assert snapshot(stocked) == after
    shown = runner.invoke(app, ["plan", "show", str(path), "--url", stocked.url])
    assert shown.exit_code == 0, shown.output
    assert "applied: yes, at" in shown.output


def test_cli_plan_show_says_where_what_and_whether(stocked, tmp_path, monkeypatch):
    monkeypatch.delenv("BAKEKIT_URL", raising=False)
    runner = CliRunner()
    plan = _what_if(stocked)
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json())
    shown = runner.invoke(app, ["plan", "show", str(path)])
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert stocked.database_label in out and stocked.database_id in out and plan.plan_id in out
    assert ("1. inventory.purchase product='flour-5lb', packages=1, unit_cost=25.0, "
            "purchased_on='2025-04-01'") in out
    assert "2. inventory.consume ingredient='flour', quantity=22, unit='lb', " \
           "reason='holiday bake'" in out
    assert "Summary" in out and "applied: not checked" in out
    shown = runner.invoke(app, ["plan", "show", str(path), "--url", stocked.url])
    assert "applied: no" in shown.output


def test_cli_refuses_a_plan_from_another_database(stocked, tmp_path):
    twin = _twin(stocked, tmp_path)
    try:
        path = tmp_path / "plan.json"
        path.write_text(_what_if(stocked).to_json())
        before = snapshot(twin)
        result = CliRunner().invoke(app, ["apply", str(path), "--url", twin.url])
        assert result.exit_code == EXIT_WRONG_DATABASE, result.output
        assert stocked.database_id in result.output and twin.database_id in result.output
        assert snapshot(twin) == before
        shown = CliRunner().invoke(app, ["plan", "show", str(path), "--url", twin.url])
        assert "is not the database the plan was made on" in shown.output
    finally:
        twin.dispose()


@pytest.mark.parametrize("content", [None, "folder", "{nope", b"\xff\xfe\x00",
                                     "edited", "connection"])
def test_cli_errors_for_bad_plan_files_are_one_line(stocked, tmp_path, content):
    runner = CliRunner()
    path = tmp_path / "plan.json"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "edited":
        document = json.loads(_what_if(stocked).to_json())
        document["changes"][0]["quantity"] = 1.0
        path.write_text(json.dumps(document))
    elif content == "connection":
        path.write_text(_forge(stocked, ISSUE_OPERATIONS))
    elif content is not None:
        path.write_text(content)
    before = snapshot(stocked)
    for command in (["apply", str(path), "--url", stocked.url],
                    ["plan", "show", str(path), "--url", stocked.url]):
        result = runner.invoke(app, command)
        # a file that cannot be read is an error (1); one read but refused is invalid (6)
        unreadable = content is None or content == "folder" or isinstance(content, bytes)
        assert result.exit_code == (EXIT_ERROR if unreadable else EXIT_INVALID), result.output
        assert "Traceback" not in result.output and result.exception is None or isinstance(
            result.exception, SystemExit)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert snapshot(stocked) == before


def test_plan_operations_frame_and_describe_agree(stocked):
    plan = _what_if(stocked)
    assert isinstance(plan.operations, pd.DataFrame)
    assert [f"{r.area}.{r.method} {r.arguments}" for r in plan.operations.itertuples()] == \
        plan.describe()


def test_every_registered_write_operation_may_be_replayed_and_nothing_else():
    from bakekit.workspace import WRITE_METHODS

    allowed = plan_module.write_methods()
    assert len(allowed) == len(WRITE_METHODS)
    assert {f"{fn.__qualname__}" for fn in allowed.values()} == {
        fn.__qualname__ for fn in WRITE_METHODS.values()}
    assert all(not m.startswith("_") for _, m in allowed)


def test_a_plan_read_without_a_bakery_can_be_shown_not_applied(stocked):
    text = _what_if(stocked).to_json()
    plan = Plan.from_json(text, None)
    assert plan.describe()[0].startswith("inventory.purchase")
    with pytest.raises(BakekitError, match="without a bakery"):
        plan.apply()


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_export_to_a_path_it_cannot_write_is_a_clear_error(stocked, tmp_path, where):
    target = tmp_path / "nope" / "x.json" if where == "missing folder" else tmp_path
    with stocked.session() as ws, pytest.raises(BakekitError, match="export: cannot write"):
        ws.io.export(target)


def test_a_what_if_of_an_import_by_value_round_trips_and_applies(bakery):
    """A bake-tracker export given as a dict is recorded as a JSON document; a history
    frame as a frame; both are read back and applied."""
    with bakery.what_if() as ws:
        ws.io.import_bake_tracker(small_file())
    text = ws.plan.to_json()
    assert '"__document__"' in text
    Plan.from_json(text, bakery).apply()
    with bakery.what_if() as ws:
        ws.io.import_history(pd.DataFrame([{"item": "cookie", "quantity": 24,
                                            "produced_at": "2025-01-01T10:00:00"}]))
    plan = ws.plan
    assert "<table of 1 row(s): item, quantity, produced_at>" in plan.describe()[0]
    with bakery.session() as ws:
        runs = len(ws.production.history())
    Plan.from_json(plan.to_json(), bakery).apply()
    with bakery.session() as ws:
        assert len(ws.production.history()) == runs + 1


def test_size_bounds_apply_to_files_not_to_a_what_ifs_own_record(stocked, monkeypatch):
    monkeypatch.setattr(plan_arguments, "MAX_VALUES", 10)
    with stocked.what_if() as ws:
        ws.recipes.add("big", "Big", ingredients=[("flour", 1, "cup")] * 1
                       + [("sugar", 1, "cup"), ("butter", 1, "cup"), ("cocoa", 1, "tbsp")])
    plan = ws.plan  # no refusal: the what-if's own calls
    with pytest.raises(InvalidPlanError, match="more than 10 values"):
        Plan.from_json(plan.to_json(), stocked)
    plan.apply()


def test_two_processes_applying_one_plan_at_once_apply_it_once(stocked):
    """Two appliers (own Bakery objects, own connections) race on one plan file: one
    commits, the other gets PlanAlreadyAppliedError (the applied_plans key decides)."""
    import threading

    text = _what_if(stocked).to_json()
    bakeries = [bakekit.open(stocked.url) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(b: bakekit.Bakery) -> None:
        plan = Plan.from_json(text, b)
        barrier.wait()
        try:
            plan.apply()
            outcomes.append("applied")
        except PlanAlreadyAppliedError:
            outcomes.append("already")
        except BakekitError as exc:  # pragma: no cover - shown if it happens
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(b,)) for b in bakeries]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for b in bakeries:
            b.dispose()
    assert sorted(outcomes) == ["already", "applied"], outcomes
    with stocked.session() as ws:
        assert ws.inventory.lots("flour")["remaining"].sum() == pytest.approx(3.0)  # once


def _products_view(tmp_path: Path, records: list[dict]) -> Path:
    path = tmp_path / "products_view.json"
    path.write_text(json.dumps({
        "version": "1.0", "view_type": "products",
        "_meta": {"editable_fields": ["brand", "product_name", "package_unit",
                                      "package_unit_quantity", "notes", "preferred"],
                  "readonly_fields": ["id", "uuid", "ingredient_slug"]},
        "records": records}))
    return path


def test_a_what_if_of_a_products_view_replays_and_its_changes_are_checked(bakery, tmp_path):
    """A products view applied in a what-if is recorded as its review; the saved plan
    replays (new products made, a changed one updated) and a review edited to write a
    column a view may not change, or a bad value, is refused before anything is written."""
    _imported(bakery)
    with bakery.session() as ws:
        before = ws.catalog.products().set_index("item")
    first = before.index[0]
    records = [
        {"id": 901, "uuid": str(uuid.uuid4()), "ingredient_slug": "sugar", "brand": "Domino",
         "product_name": "Cane sugar", "package_unit": "lb", "package_unit_quantity": 4},
        {"id": 902, "uuid": str(uuid.uuid4()), "ingredient_slug": "flour",
         "brand": before.loc[first, "brand"], "product_name": before.loc[first, "name"],
         "package_unit": before.loc[first, "package_unit"],
         "package_unit_quantity": float(before.loc[first, "package_quantity"]),
         "notes": "the blue bag"}]
    with bakery.what_if() as ws:
        review = ws.io.reconcile(_products_view(tmp_path, records))
        assert review.counts() == {"new": 1, "changed": 1}
        review.apply()
    text = ws.plan.to_json()
    document = json.loads(text)
    frame = document["operations"][0]["args"][0]["__reconciliation__"]["frame"]["__frame__"]
    status, fields = frame["columns"].index("status"), frame["columns"].index("changed_fields")
    changed = next(r for r in frame["data"] if r[status] == "changed")
    state = snapshot(bakery)
    for column, value, message in (("changed_fields", "ingredient_id", "not a product field"),
                                   ("changed_fields", "notes,slug", "'slug' is not"),
                                   ("notes", 7, "notes is not a valid text")):
        edited = copy.deepcopy(document)
        row = next(r for r in edited["operations"][0]["args"][0]["__reconciliation__"]
                   ["frame"]["__frame__"]["data"] if r[status] == "changed")
        row[frame["columns"].index(column)] = value
        with pytest.raises(InvalidPlanError, match=message):
            Plan.from_json(_reseal(json.dumps(edited)), bakery)
    assert snapshot(bakery) == state
    assert changed[fields] == "notes"
    Plan.from_json(text, bakery).apply()
    with bakery.session() as ws:
        after = ws.catalog.products().set_index("item")
    assert len(after) == len(before) + 1
    assert after.loc[first, "notes"] == "the blue bag"

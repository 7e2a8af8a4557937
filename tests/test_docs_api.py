"""docs/api.md is true: every call it lists exists with exactly the parameters shown, every
result field, frame column, error and command it lists exists, its examples run on the
demo database; and nothing in the project points outside the repository.

The page is read by its tables; the first cell of the header row says what a table
holds:

- ``call``: ``| `receiver.name(params) -> returns` | stable | what |`` (no parentheses
  for a property or an attribute). Receivers: ``bakekit``, ``bakekit.nb``, ``bakery``,
  ``ws``, ``ws.<area>``, ``plan``, ``Plan``, ``panel``.
- ``frame``: ``| `ws.<area>.<read>()` or `Result.field` | stable columns | more columns |``.
- ``result``: ``| `Result` (from ...) | stable fields | more fields |``.
- ``error``: ``| `Error` | subclass of | attributes | stable |``.
- ``command``: ``| `bakekit cmd ARG [--option VALUE] [--flag]` | what |``.

Adding a line to one of these tables is all it takes to have it checked. Fenced
``python`` blocks run in order in one namespace (a block right after a
``<!-- not run -->`` line is skipped); ``bakekit ...`` lines of ``sh`` blocks run through
the Typer app.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import bakekit
import bakekit.errors
import bakekit.nb
import bakekit.results
from bakekit import frames
from bakekit.bakery import Bakery
from bakekit.cli import app
from bakekit.nb.confirm import ConfirmPanel
from bakekit.nb.review import ReviewPanel
from bakekit.plan import Plan
from bakekit.workspace import Area, Workspace
from tests.support.reads import every_read

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "api.md"

#: frames that are not an area's read, by the label the page gives them
FRAME_SCHEMAS = {
    "Consumption.consumed": frames.CONSUMED,
    "Availability.frame": frames.AVAILABILITY,
    "ProductionResult.consumed": frames.RUN_CONSUMED,
    "AssemblyResult.consumed": frames.RUN_CONSUMED,
    "Reversal.restored": frames.RESTORED,
    "ImportReport.frame": frames.IMPORT_REPORT,
    "Reconciliation.frame": frames.RECONCILIATION,
    "ImportValidationError.errors": frames.IMPORT_ERRORS,
    "StalePlanError.diff": frames.PLAN_DIFF,
    "ws.changes()": frames.MOVEMENTS,
    "plan.operations": frames.PLAN_OPERATIONS,
    "plan.changes": frames.PLAN_CHANGES,
    "plan.summary()": frames.PLAN_SUMMARY,
    "plan.apply()": frames.PLAN_CHANGES,
}
#: inline code that names a file, not an attribute (``bakery.db``)
FILE_SUFFIXES = (".db", ".json", ".csv", ".md", ".py", ".ipynb", ".toml", ".yml")


# -- reading the page -------------------------------------------------------------------------
@dataclass
class Row:
    kind: str
    line: int
    cells: list[str]

    def spans(self, i: int) -> list[str]:
        return re.findall(r"`([^`]+)`", self.cells[i]) if i < len(self.cells) else []

    @property
    def label(self) -> str:
        spans = self.spans(0)
        assert spans, f"docs/api.md:{self.line}: the first cell has no `code`"
        return spans[0]


def page_text() -> str:
    return PAGE.read_text(encoding="utf-8")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def rows(kind: str | None = None) -> list[Row]:
    """Every body row of the page's tables (of one kind: the header's first cell)."""
    out: list[Row] = []
    header: str | None = None
    for number, line in enumerate(page_text().splitlines(), start=1):
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells[0].lower()
        elif not set(line.strip()) <= set("|-: "):
            out.append(Row(header, number, cells))
    return [r for r in out if kind is None or r.kind == kind]


def code_blocks(language: str) -> list[tuple[int, str]]:
    """(line, text) of every fenced block in that language, except those marked not run."""
    out = []
    lines = page_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == f"```{language}":
            skip = i > 0 and lines[i - 1].strip() == "<!-- not run -->"
            end = lines.index("```", i + 1)
            if not skip:
                out.append((i + 1, "\n".join(lines[i + 1:end])))
            i = end
        i += 1
    return out


# -- resolving names --------------------------------------------------------------------------
def receivers() -> dict[str, Any]:
    found: dict[str, Any] = {
        "bakekit": bakekit, "bakekit.nb": bakekit.nb, "bakery": Bakery, "ws": Workspace,
        "ws.plan": Plan, "plan": Plan, "Plan": Plan, "panel": ConfirmPanel,
        "review": ReviewPanel,
    }
    for cls in Area.__subclasses__():
        found[f"ws.{cls.area_name}"] = cls
    for module in (bakekit.results, bakekit.errors):
        for name, value in vars(module).items():
            if inspect.isclass(value) and value.__module__ == module.__name__:
                found.setdefault(name, value)
    return found


def _instance_attributes(cls: type) -> set[str]:
    """Attributes bakekit classes set on their instances (``self.name = ...``)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("bakekit"):
            names |= set(re.findall(r"self\.([a-z_]\w*)\s*[:=]", inspect.getsource(klass)))
    return names


def has_member(owner: Any, name: str) -> bool:
    if isinstance(owner, ModuleType):
        return hasattr(owner, name)
    if hasattr(owner, name):
        return True
    if dataclasses.is_dataclass(owner) and name in {f.name for f in dataclasses.fields(owner)}:
        return True
    return name in _instance_attributes(owner)


SIGNATURE = re.compile(r"^(?P<path>[A-Za-z_][\w.]*?)(?:\((?P<params>.*)\))?"
                       r"(?:\s*->\s*(?P<returns>.+))?$")


def resolve(path: str) -> tuple[Any, str, Any]:
    """(owner, name, member or None) of a dotted name on the page, e.g. ws.inventory.lots."""
    known = receivers()
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in known:
            owner, name = known[head], parts[cut]
            return owner, name, inspect.getattr_static(owner, name, None)
    raise AssertionError(f"{path}: no known receiver (one of {sorted(known)})")


def is_api_reference(span: str) -> bool:
    match = SIGNATURE.match(span)
    if not match or "." not in match["path"] or span.endswith(FILE_SUFFIXES):
        return False
    return match["path"].split(".")[0] in receivers()


# -- parameters -------------------------------------------------------------------------------
EMPTY = inspect.Parameter.empty


def page_parameters(text: str) -> list[tuple[str, Any, Any]]:
    """(name, kind, default) of a parameter list as the page writes it."""
    node = ast.parse(f"def f({text}): pass").body[0]
    assert isinstance(node, ast.FunctionDef)
    args = node.args
    P = inspect.Parameter
    out: list[tuple[str, Any, Any]] = []
    positional = args.posonlyargs + args.args
    defaults = [EMPTY] * (len(positional) - len(args.defaults)) + [
        ast.literal_eval(d) for d in args.defaults]
    for a, d in zip(positional, defaults, strict=True):
        out.append((a.arg, P.POSITIONAL_OR_KEYWORD, d))
    if args.vararg:
        out.append((args.vararg.arg, P.VAR_POSITIONAL, EMPTY))
    for a, kd in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append((a.arg, P.KEYWORD_ONLY, EMPTY if kd is None else ast.literal_eval(kd)))
    if args.kwarg:
        out.append((args.kwarg.arg, P.VAR_KEYWORD, EMPTY))
    return out


def code_parameters(member: Any) -> list[tuple[str, Any, Any]]:
    params = list(inspect.signature(member).parameters.values())
    if params and params[0].name in {"self", "cls"}:
        params = params[1:]
    return [(p.name, p.kind, p.default) for p in params]


def written(params: list[tuple[str, Any, Any]]) -> str:
    """A parameter list the way the page writes it (to paste into the page)."""
    P = inspect.Parameter
    out: list[str] = []
    for name, kind, default in params:
        if kind is P.KEYWORD_ONLY and "*" not in out and not any(
                o.startswith("*") for o in out):
            out.append("*")
        text = {P.VAR_POSITIONAL: f"*{name}", P.VAR_KEYWORD: f"**{name}"}.get(kind, name)
        out.append(text if default is EMPTY else f"{text}={default!r}")
    return ", ".join(out)


def _short(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(
        annotation, "__name__", str(annotation))
    return re.sub(r"\b[a-z_]+\.", "", text.replace("'", "")).replace(" ", "")


# -- the checks -------------------------------------------------------------------------------
def test_the_page_has_its_tables():
    counts = {kind: len(rows(kind)) for kind in
              ("call", "frame", "result", "error", "command")}
    assert counts["call"] >= 60 and counts["frame"] >= 30, counts
    assert all(counts.values()), counts
    unknown = {r.kind for r in rows()} - set(counts)
    assert not unknown, f"tables of unknown kind {unknown}: give the header a known first cell"


@pytest.mark.parametrize("row", rows("call"), ids=lambda r: r.label)
def test_every_call_exists_with_the_parameters_shown(row: Row):
    match = SIGNATURE.match(row.label)
    assert match, f"docs/api.md:{row.line}: {row.label!r} is not a call"
    owner, name, static = resolve(match["path"])
    where = f"docs/api.md:{row.line}: {row.label}"
    assert has_member(owner, name), f"{where}: {name!r} does not exist"
    assert row.cells[1] in {"yes", ""}, f"{where}: stable is 'yes' or empty"
    member = getattr(owner, name, None)
    method = callable(member) and not isinstance(static, property) and not inspect.isclass(
        member)
    if match["params"] is None:
        assert not method, f"{where}: a method; write its signature: {name}(" \
                           f"{written(code_parameters(member))})"
        return
    assert method, f"{where}: not a method (a property or attribute: drop the parentheses)"
    shown, real = page_parameters(match["params"]), code_parameters(member)
    assert shown == real, f"{where}: the code has {name}({written(real)})"
    if match["returns"]:
        annotation = inspect.signature(member).return_annotation
        assert annotation is not EMPTY, f"{where}: the code gives no return type"
        assert _short(match["returns"]) == _short(annotation), (
            f"{where}: the code returns {annotation}")


def test_every_name_the_page_mentions_exists():
    missing = []
    for number, line in enumerate(page_text().splitlines(), start=1):
        for span in re.findall(r"`([^`\n]+)`", line):
            if is_api_reference(span):
                owner, name, _ = resolve(SIGNATURE.match(span)["path"])
                if not has_member(owner, name):
                    missing.append(f"docs/api.md:{number}: {span}")
    assert not missing, missing


def test_every_area_method_and_public_name_is_on_the_page():
    listed = {SIGNATURE.match(r.label)["path"] for r in rows("call")}
    absent = [f"ws.{cls.area_name}.{name}" for cls in Area.__subclasses__()
              for name, member in vars(cls).items()
              if not name.startswith("_") and callable(member)
              and f"ws.{cls.area_name}.{name}" not in listed]
    assert not absent, f"public area methods missing from docs/api.md: {absent}"
    words = set(re.findall(r"[A-Za-z_]\w*", " ".join(
        re.findall(r"`([^`\n]+)`", page_text()))))
    assert not [n for n in bakekit.__all__ if n not in words], "bakekit.__all__ names missing"


@pytest.mark.parametrize("row", rows("result"), ids=lambda r: r.label)
def test_every_result_field_exists(row: Row):
    cls = getattr(bakekit.results, row.label)
    fields = {f.name for f in dataclasses.fields(cls)}
    listed = row.spans(1) + row.spans(2)
    assert not set(listed) - fields, f"docs/api.md:{row.line}: {row.label} has {fields}"


def test_every_result_class_has_a_row():
    listed = {r.label for r in rows("result")}
    results = {name for name, value in vars(bakekit.results).items()
               if dataclasses.is_dataclass(value) and not name.startswith("_")}
    assert results <= listed, f"results missing from docs/api.md: {results - listed}"


@pytest.mark.parametrize("row", [r for r in rows("frame") if r.label in FRAME_SCHEMAS],
                         ids=lambda r: r.label)
def test_every_column_of_a_result_or_plan_frame_exists(row: Row):
    schema = FRAME_SCHEMAS[row.label]
    listed = row.spans(1) + row.spans(2)
    assert not set(listed) - set(schema.columns), (
        f"docs/api.md:{row.line}: {row.label} has {list(schema.columns)}")


def test_every_column_of_every_read_exists(seeded):  # noqa: F811 (fixture)
    documented = {}
    for row in rows("frame"):
        if row.label in FRAME_SCHEMAS:
            continue
        match = re.match(r"^ws\.(\w+)\.(\w+)\(", row.label)
        assert match, f"docs/api.md:{row.line}: {row.label}: add it to FRAME_SCHEMAS"
        documented[(match[1], match[2])] = row
    area_class = {cls.area_name: cls.__name__ for cls in Area.__subclasses__()}
    with seeded.session() as ws:
        returned = {key: value for key, value in every_read(ws)}
    problems = []
    for (area, method), row in documented.items():
        key = f"{area_class[area]}.{method}"
        frame = returned.get(key)
        if not isinstance(frame, pd.DataFrame):
            problems.append(f"docs/api.md:{row.line}: {row.label} returns no DataFrame")
            continue
        unknown = set(row.spans(1) + row.spans(2)) - set(frame.columns)
        if unknown:
            problems.append(f"docs/api.md:{row.line}: {row.label} has no {sorted(unknown)} "
                            f"(it has {list(frame.columns)})")
    by_key = {f"{area_class[a]}.{m}" for a, m in documented}
    undocumented = [k for k, v in returned.items()
                    if isinstance(v, pd.DataFrame) and k not in by_key]
    assert not problems, problems
    assert not undocumented, f"reads whose columns docs/api.md does not list: {undocumented}"


@pytest.mark.parametrize("row", rows("error"), ids=lambda r: r.label)
def test_every_error_exists_where_the_page_puts_it(row: Row):
    import builtins

    where = f"docs/api.md:{row.line}: {row.label}"
    cls = getattr(bakekit, row.label, None)
    assert inspect.isclass(cls) and issubclass(cls, BaseException), (
        f"{where}: not an exception exported from bakekit")
    assert cls is getattr(bakekit.errors, row.label)
    parents = [getattr(bakekit, p, None) or getattr(builtins, p) for p in row.spans(1)]
    assert list(cls.__bases__) == parents, (
        f"{where}: its bases are {[b.__name__ for b in cls.__bases__]}")
    attributes = _instance_attributes(cls)
    assert not set(row.spans(2)) - attributes, f"{where}: it sets {sorted(attributes)}"
    assert row.cells[3] in {"yes", ""}


def test_every_error_class_has_a_row():
    listed = {r.label for r in rows("error")}
    assert set(bakekit.errors.__all__) <= listed, set(bakekit.errors.__all__) - listed


def _cli_commands() -> dict[str, Any]:
    """Every command of the Typer app by its full name ("bakekit plan show")."""
    out: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")
        else:
            out[path] = command

    walk(typer.main.get_command(app), "bakekit")
    return out


def _command_path(label: str) -> tuple[str, list[str]]:
    """("bakekit plan show", the tokens after it) of a command as the page writes it."""
    tokens = label.replace("[", " ").replace("]", " ").split()
    n = 0
    while n < len(tokens) and re.fullmatch(r"[a-z][\w-]*", tokens[n]):
        n += 1
    return " ".join(tokens[:n]), tokens[n:]


@pytest.mark.parametrize("row", rows("command"), ids=lambda r: r.label)
def test_every_command_exists_with_its_arguments_and_options(row: Row):
    where = f"docs/api.md:{row.line}: {row.label}"
    path, rest = _command_path(row.label)
    command = _cli_commands().get(path)
    assert command is not None, f"{where}: no command {path!r} (there are {_cli_commands()})"
    options = {o for p in command.params if p.param_type_name == "option" for o in p.opts}
    arguments = [(p.name or "").upper() for p in command.params
                 if p.param_type_name == "argument"]
    shown_args, previous = [], ""
    for token in rest:
        if token.startswith("--"):
            assert token in options, f"{where}: no option {token} (it has {sorted(options)})"
        elif not previous.startswith("--"):
            shown_args.append(token)
        previous = token
    assert shown_args == arguments, f"{where}: its arguments are {arguments}"


def test_every_command_has_a_row():
    listed = {_command_path(r.label)[0] for r in rows("command")}
    assert set(_cli_commands()) <= listed, set(_cli_commands()) - listed


def test_the_examples_run_on_the_demo_database(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # bakekit.demo()'s file
    blocks = code_blocks("python")
    assert len(blocks) >= 10
    namespace: dict[str, Any] = {"__name__": "docs_api"}
    try:
        for line, source in blocks:
            exec(compile(source, f"docs/api.md:{line}", "exec"), namespace)
    finally:
        for value in list(namespace.values()):
            if isinstance(value, Bakery):
                value.dispose()


def test_the_shell_examples_run(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BAKEKIT_URL", str(tmp_path / "default.db"))
    commands = [shlex.split(line) for _, block in code_blocks("sh")
                for line in block.splitlines() if line.startswith("bakekit ")]
    assert commands
    runner = CliRunner()
    for args in commands:
        result = runner.invoke(app, args[1:])
        assert result.exit_code == 0, f"{shlex.join(args)}: {result.output}"


# -- nothing points outside the repository ---------------------------------------------------
#: built here so that this file does not contain them
OUTSIDE = ("../" + "shared", "shared/" + "DESIGN.md")
SCANNED = ("README.md", "docs", "notebooks", "benchmarks", "tests", "bakekit", "data",
           "scripts", ".ci", "Makefile", "pyproject.toml", "environment.yml", "conftest.py")


def test_nothing_points_outside_the_repository():
    found = []
    for top in SCANNED:
        base = ROOT / top
        files = [base] if base.is_file() else sorted(
            p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            text = path.read_bytes().decode("utf-8", errors="replace")
            found += [f"{path.relative_to(ROOT)}: {needle}" for needle in OUTSIDE
                      if needle in text]
    assert not found, found

"""Which bakekit module may import which (docs/contributing.md, "The map"): every import in
the package, including imports inside functions and under ``if TYPE_CHECKING:``, goes to
the importer's own layer or a lower one, and no modules import each other in a cycle (the
rule of the structure check: imports inside functions count)."""

from __future__ import annotations

import ast
from pathlib import Path

import bakekit

ROOT = Path(bakekit.__file__).resolve().parent

#: the layers, bottom first; a module belongs to the layer of its longest matching prefix.
#: A module may import its own layer and the layers below it, never one above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("bakekit.errors", "bakekit.units", "bakekit.checks", "bakekit.results",
              "bakekit.frames", "bakekit.buying", "bakekit.display", "bakekit.files",
              "bakekit.db")),
    ("operations", ("bakekit.operations", "bakekit.recording", "bakekit.db.reading")),
    ("stock", ("bakekit.stock", "bakekit.costing")),
    ("areas", ("bakekit.areas",)),
    # the IO area attaches beside the other areas but wraps the io package
    ("io", ("bakekit.io", "bakekit.areas.io")),
    ("plan", ("bakekit.plan",)),
    ("workspace", ("bakekit.workspace",)),
    ("bakery", ("bakekit.bakery", "bakekit.sample")),  # sample builds the demo bakery
    ("api", ("bakekit",)),  # the package root: it only re-exports
    ("nb", ("bakekit.nb",)),
    ("cli", ("bakekit.cli",)),
]



def _modules() -> dict[str, Path]:
    mods = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


def _resolve(module: str, level: int, current: str, is_package: bool) -> str:
    if level == 0:
        return module
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imports() -> set[tuple[str, str]]:
    """Every (importer, imported module) pair in bakekit, wherever the import statement is."""
    mods = _modules()
    edges = set()
    for name, path in mods.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node.module or "", node.level, name, is_package)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add((name, target))
    return edges


def layer(module: str) -> int:
    best, found = -1, -1
    for n, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), n
    assert found >= 0, f"{module} is in no layer: add it to LAYERS and docs/contributing.md"
    return found


def upward(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in edges if layer(b) > layer(a)}


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(graph[node]):
                work.append((node, i + 1))
                nxt = graph[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_every_module_is_in_a_layer():
    for name in _modules():
        layer(name)


def test_imports_go_down_the_layers():
    edges = imports()
    bad = sorted(upward(edges))
    assert not bad, ("imports that go up the layers of docs/contributing.md (importer -> "
                     f"imported): {bad}")


def test_no_import_cycle():
    remaining = cycles(imports())
    assert not remaining, f"modules that import each other: {remaining}"


def test_the_checks_catch_an_upward_import_and_a_cycle():
    assert upward({("bakekit.units", "bakekit.workspace")})
    assert not upward({("bakekit.workspace", "bakekit.units")})
    assert layer("bakekit.db.reading") > layer("bakekit.db.models")
    assert layer("bakekit.areas.io") > layer("bakekit.areas.catalog")
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
    assert not cycles({("a", "b"), ("b", "c")})

"""An import's rows that share a key (duplicates, identical or differing) and recipes whose
components form a cycle: the checks the resolve phase runs before references."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bakekit.areas.expansion import find_cycle
from bakekit.db import tables
from bakekit.io.bake_tracker.fields import _KEYED_SECTIONS
from bakekit.io.bake_tracker.state import State


class SameKeys(State):
    """Rows of one key, and recipe cycles (the first checks of ``resolve.Resolve``)."""

    def duplicates(self) -> None:
        """A slug (or name) given twice in one section (ingredients and materials share one
        slug space): identical rows count once; differing rows are a problem naming both rows
        and the fields that differ, unless ``duplicates="first"`` or ``"last"`` chooses."""
        for sections, field_name in _KEYED_SECTIONS:
            self.same_key([(e, self.rows[e]) for e in sections],
                          lambda r, f=field_name: r[f], field_name)
        for entity in ("products", "material_products"):
            self.same_key([(entity, self.rows[entity])], lambda r: r["slug"], "slug")
        seen: dict[str, int] = {}
        for fu in self.rows.get("_embedded_finished_units", []):
            if fu["slug"] in seen:
                self.problems.add("recipes", fu["_row"], "finished_units.slug", fu["slug"],
                                  f"finished unit also listed by recipes row {seen[fu['slug']]}")
            seen.setdefault(fu["slug"], fu["_row"])

    def same_key(self, groups: list[tuple[str, list[dict[str, Any]]]],
                 key_of: Any, field_name: str) -> None:
        """Drop rows of a key seen before (identical, or by the ``duplicates`` choice), or
        record the conflict; the kept rows stay in place, in file order."""
        first: dict[Any, tuple[str, dict[str, Any]]] = {}
        dropped: set[int] = set()
        for entity, rows in groups:
            for r in rows:
                key = key_of(r)
                if key is None:
                    continue
                if key not in first:
                    first[key] = (entity, r)
                    continue
                where, kept = first[key]
                diff = _differing(kept.get("_raw", {}), r.get("_raw", {}))
                rows_named = f"{where} row {kept['_row']} and {entity} row {r['_row']}"
                if not diff:
                    dropped.add(id(r))
                    self.identical += 1
                    self.tally.add(entity, "skipped")
                    self.tally.reason(entity, "identical rows counted once")
                elif self.duplicate_mode == "refuse":
                    self.problems.add(entity, r["_row"], field_name, _joined(key),
                                      f"duplicate of {where} row {kept['_row']}: one "
                                      f"{field_name} per row; the rows differ in "
                                      f"{', '.join(diff)} (duplicates='first' or 'last', "
                                      "on the command line --duplicates first or last, "
                                      "keeps one)")
                elif self.duplicate_mode == "first":
                    dropped.add(id(r))
                    self.tally.add(entity, "skipped")
                    self.tally.reason(entity, f"{field_name} {_shown(key)} twice ({rows_named}): "
                                              "first kept")
                else:
                    dropped.add(id(kept))
                    first[key] = (entity, r)
                    self.tally.add(where, "skipped")
                    self.tally.reason(where, f"{field_name} {_shown(key)} twice ({rows_named}): "
                                             "last kept")
        if dropped:
            for _, rows in groups:
                rows[:] = [r for r in rows if id(r) not in dropped]

    def cycles(self) -> None:
        """Refuse recipes whose components form a cycle (through the file's recipes and the
        database's), one problem per cycle naming the recipes on it."""
        file_recipes = {r["slug"]: r for r in self.rows["recipes"]}
        edges: dict[str, list[str]] = defaultdict(list)
        for r in self.rows["recipes"]:
            edges[r["slug"]] = [c["recipe"] for c in r["components"]
                                if c.get("recipe") and c["recipe"] != r["slug"]]
        if not any(edges.values()):
            return
        rc, rt = tables.recipe_components, tables.recipes
        parent, child = rt.alias("parent"), rt.alias("child")
        for slug, component in self.ws.execute(
                select(parent.c.slug, child.c.slug)
                .join(rc, rc.c.recipe_id == parent.c.id)
                .join(child, child.c.id == rc.c.component_id)):
            if slug not in file_recipes or "components" not in file_recipes[slug]["_lines"]:
                # the file's components replace the database's (none given: kept)
                edges[slug].append(component)
        number = {s: n for n, s in enumerate(sorted(set(edges) | {c for cs in edges.values()
                                                                   for c in cs}))}
        slug_of = {n: s for s, n in number.items()}
        graph = {number[s]: [(number[c], Decimal(1)) for c in cs] for s, cs in edges.items()}
        reported: set[frozenset[int]] = set()
        for r in self.rows["recipes"]:
            cycle = find_cycle(graph, number[r["slug"]])
            if not cycle or frozenset(cycle) in reported:
                continue
            reported.add(frozenset(cycle))
            names = [file_recipes[slug_of[n]]["name"] if slug_of[n] in file_recipes
                     else slug_of[n] for n in cycle]
            on_file = [file_recipes[slug_of[n]] for n in cycle if slug_of[n] in file_recipes]
            first = min(on_file, key=lambda x: x["_row"])
            self.problems.add("recipes", first["_row"], "components", first["name"],
                              "components form a cycle: " + " -> ".join(names))


def _shown(key: Any) -> str:
    """A row's key as a person reads it: a tuple's parts joined, days as YYYY-MM-DD.

    >>> import datetime as dt
    >>> _shown(("flour", dt.date(2025, 12, 21), "1"))
    "'flour, 2025-12-21, 1'"
    """
    return repr(_joined(key))


def _joined(key: Any) -> Any:
    """A tuple key's parts joined by commas (days as YYYY-MM-DD); any other key as it is."""
    if isinstance(key, tuple):
        return ", ".join(str(k.isoformat() if hasattr(k, "isoformat") else k) for k in key)
    return key


def _differing(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The fields two raw rows disagree on (one having a field the other lacks counts)."""
    return [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]

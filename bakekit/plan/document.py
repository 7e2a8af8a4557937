"""Plans: the plan file document (its envelope, digest and rows), checked on read."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from typing import Any

from bakekit.errors import InvalidPlanError
from bakekit.plan.arguments import FORMAT_VERSION, MAX_CHANGE_ROWS, MAX_PLAN_CHARS, MAX_TEXT


def canonical_digest(document: dict[str, Any], *, exact_floats: bool = False) -> str:
    """sha256 over the plan document (everything but its digest) as canonical JSON, where
    a whole float is the integer it equals (a tool that re-indents the file, such as jq,
    writes 2.0 as 2). ``exact_floats``: the digest as plans were saved before that rule."""
    body = {k: v for k, v in document.items() if k != "digest"}
    text = json.dumps(body if exact_floats else _whole(body), sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def _whole(value: Any) -> Any:
    """``value`` with every whole float as its integer (2.0 -> 2), recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return value


def _finite(text: str) -> float:
    """A JSON number as a float, refused when it is too large to be finite (1e400)."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is too large")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a plan can hold")


CHANGE_FIELDS: dict[str, type] = {
    "step": int, "position": int, "lot": str, "item": str, "kind": str, "reason": str,
    "quantity": float, "unit": str, "cost": float, "item_id": int}
SUMMARY_FIELDS: dict[str, type] = {
    "item": str, "kind": str, "unit": str, "before": float, "change": float, "after": float,
    "cost": float}


def check_rows(rows: Any, fields: dict[str, type], name: str) -> list[dict[str, Any]]:
    """The plan's ledger rows (or summary rows): a list of objects of exactly these fields."""
    if not isinstance(rows, list) or len(rows) > MAX_CHANGE_ROWS:
        raise InvalidPlanError(f"plan {name} must be a list of at most {MAX_CHANGE_ROWS:,} "
                               "rows; the plan was refused, nothing was written", field=name,
                               value=type(rows).__name__)
    for n, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != set(fields):
            raise InvalidPlanError(f"plan {name} row {n}: must have the fields "
                                   f"{', '.join(fields)}; the plan was refused, nothing was "
                                   "written", field=name, value=row)
        for key, kind in fields.items():
            v = row[key]
            if kind is float:
                ok = (v is None and key == "cost") or (
                    isinstance(v, (int, float)) and not isinstance(v, bool))
            elif kind is int:
                ok = isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**63
            else:
                ok = isinstance(v, str) and len(v) <= MAX_TEXT
            if not ok:
                what = {float: "number", int: "whole number", str: "text"}[kind]
                raise InvalidPlanError(f"plan {name} row {n}: {key} is not {what} "
                                       f"(got {v!r}); the plan was refused, "
                                       "nothing was written", field=f"{name}.{key}", value=v)
    return rows


_DOCUMENT_KEYS = {"format", "version", "plan_id", "made_at", "database", "applied",
                  "operations", "changes", "summary", "digest"}


def read_document(text: str | bytes) -> dict[str, Any]:
    """A plan file's JSON document, its envelope checked and its digest verified."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidPlanError(f"plan file: not UTF-8 text ({exc.reason} at byte "
                                   f"{exc.start})", field="file", value="bytes") from None
    if not isinstance(text, str):
        raise InvalidPlanError(f"a plan is JSON text, not {type(text).__name__}",
                               field="file", value=type(text).__name__)
    if len(text) > MAX_PLAN_CHARS:
        raise InvalidPlanError(f"plan file: larger than {MAX_PLAN_CHARS:,} characters",
                               field="file", value=f"{len(text):,} characters")
    try:
        document = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge integers, nesting
        raise InvalidPlanError(f"plan file: not valid JSON ({exc})", field="file",
                               value=text[:40]) from None
    if not isinstance(document, dict) or document.get("format") != "bakekit-plan":
        raise InvalidPlanError("plan file: not a bakekit plan (format must be 'bakekit-plan')",
                               field="format", value=None if not isinstance(document, dict)
                               else document.get("format"))
    version = document.get("version")
    if version != FORMAT_VERSION:
        hint = (" (a version 1 plan names no database and has no id; make the plan again)"
                if version == 1 else "")
        raise InvalidPlanError(f"plan file: version {version!r} is not supported (this bakekit "
                               f"reads version {FORMAT_VERSION}){hint}", field="version",
                               value=version)
    missing = sorted(_DOCUMENT_KEYS - set(document))
    extra = sorted(set(document) - _DOCUMENT_KEYS)
    if missing or extra:
        raise InvalidPlanError(
            "plan file: " + "; ".join(filter(None, [
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown field(s) {', '.join(extra)}" if extra else ""])) +
            "; the plan was refused, nothing was written", field="file",
            value=missing or extra)
    if document["digest"] not in (canonical_digest(document),
                                  canonical_digest(document, exact_floats=True)):
        raise InvalidPlanError("the plan file was edited after it was saved (its digest does "
                               "not match its content); the plan was refused, nothing was "
                               "written", field="digest", value=document["digest"])
    database = document["database"]
    if (not isinstance(database, dict) or set(database) != {"id", "label"}
            or not all(isinstance(v, str) and len(v) <= 4096 for v in database.values())):
        raise InvalidPlanError("plan database must be {id, label}", field="database",
                               value=database)
    if not _is_uuid(document["plan_id"]):
        raise InvalidPlanError("plan_id must be a uuid", field="plan_id",
                               value=document["plan_id"])
    if not isinstance(document["made_at"], str) or len(document["made_at"]) > 40:
        raise InvalidPlanError("made_at must be ISO text", field="made_at",
                               value=document["made_at"])
    if not isinstance(document["applied"], bool):
        raise InvalidPlanError("applied must be true or false", field="applied",
                               value=document["applied"])
    return document


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

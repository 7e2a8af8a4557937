"""Detect what a bake-tracker file is: JSON read with every problem named, exports and
catalogs told apart by their version, views and bt_mobile files refused naming the call
that takes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bakekit.errors import ValidationError
from bakekit.io import bt_views
from bakekit.io._sync import (
    Problems,
    loads_checked,
)
from bakekit.io.bake_tracker.fields import CATALOGS, KNOWN, SUPPORTED_MAJOR_VERSIONS


def read_file(path: str | Path, problems: Problems) -> dict[str, Any] | None:
    """Parse a bake-tracker JSON file; a file that is not JSON is one problem, not a crash."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        problems.add("file", None, "path", str(path), f"cannot be read: {exc}")
        return None
    except UnicodeDecodeError as exc:
        problems.add("file", None, "json", str(path), f"is not UTF-8 text ({exc.reason} at "
                     f"byte {exc.start})")
        return None
    try:
        data, twice = loads_checked(text)
    except json.JSONDecodeError as exc:
        problems.add("file", exc.lineno, "json", text[max(0, exc.pos - 20):exc.pos + 20],
                     f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        problems.add("file", None, "json", str(path), f"cannot be read as JSON: {exc}")
        return None
    except RecursionError:
        problems.add("file", None, "json", str(path), "is nested too deeply to read")
        return None
    for key, values, keys in twice:
        problems.add("file", None, key, ", ".join(json.dumps(v, default=str) for v in values),
                     f"the key {key!r} appears {len(values)} times in one JSON object (keys "
                     f"{', '.join(keys)}): which value is meant is ambiguous")
    if twice:
        return None
    if not isinstance(data, dict):
        problems.add("file", None, "json", type(data).__name__,
                     "must be a JSON object of sections (ingredients, products, ...)")
        return None
    return data


def generation(data: dict[str, Any], problems: Problems) -> str | None:
    """The file's version as the report shows it: an export's ("3.4", "4.2"), a catalog's
    ("catalog 1.0"; catalogs number their own format), None without a header; a version
    no parser reads is a problem.

    >>> generation({"version": "1.0", "materials": []}, Problems())
    'catalog 1.0'
    """
    version = data.get("version")
    if version is None:
        return None
    text = str(version)
    sections = {k for k in data if k in KNOWN and k != "_file"}
    catalog = bool(sections) and sections <= CATALOGS and all(
        isinstance(data[k], list) for k in sections)
    if catalog and text.split(".")[0] == "1":
        return f"catalog {text}"
    if text.split(".")[0] not in SUPPORTED_MAJOR_VERSIONS:
        problems.add("file", None, "version", version,
                     "unsupported bake-tracker export version (3.x and 4.x are)")
    return text


def refuse_other_files(data: dict[str, Any], source: str) -> None:
    """A view or bt_mobile file is not an import: refused, naming what takes it."""
    refused = bt_views.refusal(data, source)
    if refused is not None:
        family, type_, _ = bt_views.describe(data) or ("", "", "")
        raise ValidationError(refused, field="view_type" if family == "view" else "import_type",
                              value=type_)

"""The io area: bake-tracker import, bakekit JSON export/load, history import, reconciliation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bakekit.results import ImportReport
from bakekit.workspace import Area, write_operation


class IO(Area):
    """Import, export and reconciliation, all inside the caller's workspace.

    >>> with bakery.session() as ws:  # doctest: +SKIP
    ...     report = ws.io.import_bake_tracker("sample_data_all_v4.2.json")
    ...     ws.commit()
    """

    area_name = "io"

    @write_operation
    def import_bake_tracker(self, path: str | Path | dict[str, Any]) -> ImportReport:
        """Import a bake-tracker export (versions 3.x and 4.x, whole or partial).

        Rows already there are updated where they differ, so re-importing a file creates
        nothing; every problem of the file is collected and raised together as
        ImportValidationError (``.errors``), and then nothing is written.

        >>> report = ws.io.import_bake_tracker("sample_data_v3.4.json")  # doctest: +SKIP
        >>> report.frame[["entity", "read", "created"]]  # doctest: +SKIP
        """
        from bakekit.io.bake_tracker import import_bake_tracker

        return import_bake_tracker(self._ws, path)

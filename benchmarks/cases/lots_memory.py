"""Peak memory of ``ws.inventory.lots()``: the RSS increase during the read against the
resulting DataFrame's own size, measured in a fresh subprocess per reader."""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys

from benchmarks.cases._lots import lots_database
from benchmarks.common import CaseResult, Context

GOAL = "<= 2.5x"


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process to its current RSS (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> int:
    """Peak RSS of this process image in bytes: VmHWM (Linux; unlike ru_maxrss it does not
    carry over the parent's peak through fork and exec), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _child(reader: str, url: str) -> dict[str, float]:
    import psutil

    import bakekit
    from benchmarks.cases.lots_read import stdlib_lots

    bakery = bakekit.open(url)
    with bakery.session() as ws:
        ws.inventory.lots("no-such-item")  # imports and first-use caches out of the way
        gc.collect()
        _reset_peak()
        before = psutil.Process().memory_info().rss
        path = url.split("///", 1)[1]
        frame = ws.inventory.lots() if reader == "ours" else stdlib_lots(path)
        peak = _peak_rss()
    bakery.dispose()
    return {"increase": max(peak - before, 0), "frame": float(frame.memory_usage(deep=True).sum()),
            "rows": len(frame)}


def measure(reader: str, url: str) -> dict[str, float]:
    """Run one reader in a fresh interpreter and return its numbers (bytes)."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.cases.lots_memory", reader, url],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> CaseResult:
    url = lots_database(ctx)
    ours = measure("ours", url)
    stdlib = measure("stdlib", url)
    mb = 1e6
    return CaseResult(
        f"read {int(ours['rows']):,} lots, peak memory (SQLite)", ours["increase"] / mb,
        ours["frame"] / mb, "MB", 2.5, GOAL, int(ours["rows"]),
        f"peak RSS increase vs the frame's memory_usage(deep=True); the stdlib baseline "
        f"(fetchall) peaks at {stdlib['increase'] / stdlib['frame']:.2f}x its frame")


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], sys.argv[2])))

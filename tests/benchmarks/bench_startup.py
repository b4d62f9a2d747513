"""Launch-to-first-paint of the real window versus ``import tensorflow`` alone.

Each sample is a fresh process: ``python -m studio`` with the first-paint probe set, which
prints the wall-clock time of the window's first paint event and quits. The parent measures
from just before it starts the process, so interpreter start-up and imports are included.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

FIRST_PAINT_GOAL_S = 1.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["STUDIO_BENCH_FIRST_PAINT"] = "1"
    return env


def first_paint_seconds() -> float:
    start = time.time()
    done = subprocess.run([sys.executable, "-m", "studio"], env=_env(), capture_output=True,
                          text=True, timeout=120, check=True)
    stamp = next(line for line in done.stdout.splitlines() if line.startswith("first-paint "))
    return float(stamp.split()[1]) - start


def import_tensorflow_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, timeout=120,
                   check=True)
    return time.perf_counter() - start


def run(repeats: int = 5) -> list[tuple[str, str, str, str]]:
    first_paint_seconds()  # warm the file-system cache once; not counted
    paints = [first_paint_seconds() for _ in range(repeats)]
    imports = [import_tensorflow_seconds() for _ in range(max(3, repeats // 2))]
    paint = statistics.median(paints)
    return [
        ("launch to first painted window", f"{paint:.2f} s (median of {repeats}, max "
         f"{max(paints):.2f})", f"< {FIRST_PAINT_GOAL_S:.0f} s",
         "met" if paint < FIRST_PAINT_GOAL_S else "MISSED"),
        ("python -c 'import tensorflow' (reference)",
         f"{statistics.median(imports):.2f} s (median of {len(imports)})", "—", "—"),
    ]

"""The CPU time the live plots spend painting, which paces their redraws (``redraw_pacing``).

Qt paints a plot after its data changed, on a later pass of the event loop, so the cost of a
redraw is its data update plus that paint. The plots add their paints up here (all on the UI
thread); this module imports nothing heavy, so the training tab can read it before pyqtgraph
is loaded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

_painted = 0.0


def painted_seconds() -> float:
    """The thread CPU time of every measured paint so far."""
    return _painted


@contextmanager
def painting() -> Iterator[None]:
    """Measure one paint."""
    global _painted
    start = time.thread_time()
    try:
        yield
    finally:
        _painted += time.thread_time() - start

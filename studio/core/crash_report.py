"""An uncaught exception described for a person (one line) and for a bug report (traceback).

``key`` identifies "the same crash again" (type, message and where it was raised), so a
handler can count repeats instead of showing a new dialog each time.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class CrashReport:
    summary: str  # "ValueError: boom"
    details: str  # the full traceback, as Python prints it
    key: tuple[str, str, str]
    where: str = ""  # "in thread worker-1", "" for the main thread

    @property
    def message(self) -> str:
        """The short text a dialog leads with."""
        place = f" {self.where}" if self.where else ""
        return (f"An unexpected error occurred{place}: {self.summary}\n\n"
                "The studio keeps running. If something looks wrong, save your project "
                "under a new name and restart.")


def describe(exc_type: type[BaseException], value: BaseException | None,
             tb: TracebackType | None, where: str = "") -> CrashReport:
    """Describe an exception from ``sys.excepthook``'s or ``threading.excepthook``'s args."""
    text = str(value) if value is not None else ""
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    summary = f"{exc_type.__name__}: {first_line}" if first_line else exc_type.__name__
    if len(summary) > 300:
        summary = summary[:297] + "..."
    details = "".join(traceback.format_exception(exc_type, value, tb))
    frames = traceback.extract_tb(tb) if tb is not None else []
    origin = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return CrashReport(summary, details, (exc_type.__qualname__, text, origin), where)

"""Recovery files: the unsaved project, auto-saved so a crash loses at most a minute of work.

One file per running window (its ``session``), written atomically, holding the project, the
file it came from (so restoring it saves back there) and the process that wrote it (so a
second running studio does not offer to restore the first one's work). A clean close deletes
it; a file still there at the next launch, whose process is gone, is what a crash left.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.core.atomic import atomic_write_text
from studio.core.errors import ProjectError, StudioError
from studio.core.project import Project

RECOVERY_FORMAT = "training-studio-recovery"
RECOVERY_VERSION = 1
SUFFIX = ".recovery.json"
DAMAGED_SUFFIX = ".damaged"


@dataclass(frozen=True)
class Recovery:
    file: Path
    project: Project
    original_path: Path | None  # the project file it was opened from; None if never saved
    saved_at: float  # time.time() of the auto-save
    pid: int
    process_started: float  # the writing process's start time, against reused pids
    session: str

    def describe(self) -> str:
        """One sentence for the "restore?" question."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        source = (f"“{self.original_path.name}” ({self.original_path.parent})"
                  if self.original_path else f"“{self.project.name}” (never saved)")
        return (f"Training Studio closed unexpectedly while {source} had unsaved changes. "
                f"They were auto-saved at {when}. Restore them? (No discards them.)")


def recovery_file(folder: Path, session: str) -> Path:
    return folder / f"{session}{SUFFIX}"


def write_recovery(folder: Path, session: str, project: Project, original_path: Path | None,
                   *, pid: int | None = None, process_started: float = 0.0) -> Path:
    """Write (atomically) and return the session's recovery file; raises OSError."""
    base = original_path.parent.absolute() if original_path else None
    data = {
        "format": RECOVERY_FORMAT,
        "format_version": RECOVERY_VERSION,
        "original_path": str(original_path.absolute()) if original_path else None,
        "saved_at": time.time(),
        "pid": os.getpid() if pid is None else pid,
        "process_started": process_started,
        "session": session,
        "project": project.to_dict(base),
    }
    target = recovery_file(folder, session)
    atomic_write_text(target, json.dumps(data, indent=1) + "\n")
    return target


def read_recovery(file: Path) -> Recovery:
    """Raises ProjectError naming the file and what is wrong with it."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectError(f"{file}: the recovery file cannot be read ({error}).") from None
    if not isinstance(data, dict) or data.get("format") != RECOVERY_FORMAT:
        raise ProjectError(f"{file}: not a Training Studio recovery file.")
    original, saved_at = data.get("original_path"), data.get("saved_at")
    pid, started = data.get("pid"), data.get("process_started", 0.0)
    session = data.get("session")
    if (not isinstance(original, str | None) or not isinstance(saved_at, int | float)
            or not isinstance(pid, int) or not isinstance(started, int | float)
            or not isinstance(session, str)):
        raise ProjectError(f"{file}: the recovery file's header is damaged.")
    original_path = Path(original) if original else None
    try:
        project = Project.from_dict(data.get("project"),
                                    original_path.parent if original_path else None)
    except StudioError as error:
        raise ProjectError(f"{file}: the recovered project is damaged ({error}).") from None
    return Recovery(file, project, original_path, float(saved_at), pid, float(started), session)


def find_recoveries(folder: Path, is_live: Callable[[Recovery], bool]
                    ) -> tuple[list[Recovery], list[str]]:
    """Recovery files left by crashed sessions (newest first), and what was wrong with the
    damaged ones. A damaged file is renamed ``*.damaged`` so it is reported only once."""
    found: list[Recovery] = []
    problems: list[str] = []
    try:
        files = sorted(folder.glob(f"*{SUFFIX}"))
    except OSError:
        return [], []
    for file in files:
        try:
            recovery = read_recovery(file)
        except ProjectError as error:
            problems.append(f"Ignored a damaged recovery file: {error} "
                            f"{_set_aside(file)}")
            continue
        if not is_live(recovery):
            found.append(recovery)
    found.sort(key=lambda r: r.saved_at, reverse=True)
    return found, problems


def discard(file: Path) -> None:
    """Delete a recovery file (restored, declined or no longer needed)."""
    # In a read-only folder the file is offered again next time, which is harmless.
    with contextlib.suppress(OSError):
        file.unlink(missing_ok=True)


def _set_aside(file: Path) -> str:
    aside = file.with_name(file.name + DAMAGED_SUFFIX)
    try:
        os.replace(file, aside)
    except OSError as error:
        return f"(It could not be moved aside: {error.strerror or error}.)"
    return f"It was kept as {aside.name}."

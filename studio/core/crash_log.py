"""The studio's log file, which survives a crash and names what went wrong.

The preferred folder may be unwritable (read-only home, a file where the folder should be,
a full disk): the log then goes to a temporary folder, or nowhere, and ``note`` says so.
Logging must never be the reason the studio does not start.
"""

from __future__ import annotations

import getpass
import logging
import tempfile
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_NAME = "studio.log"
LOGGER = "studio"
MAX_BYTES = 1_000_000  # then rotated, keeping BACKUPS older files
BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass(frozen=True)
class LogFile:
    path: Path | None  # None: no file could be written this session
    note: str = ""  # what went wrong with the preferred folder ("" when nothing did)


def fallback_dir() -> Path:
    """A per-user folder under the system's temporary folder."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name in the environment or database
        user = "user"
    return Path(tempfile.gettempdir()) / f"training-studio-{user}" / "log"


def open_log(preferred: Path, fallback: Path | None = None) -> LogFile:
    """Send the ``studio`` logger to ``preferred/studio.log``, else to ``fallback``.

    Replaces a handler a previous call added, so calling it twice does not log twice.
    """
    close_log()
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    problems: list[str] = []
    for folder in (preferred, fallback or fallback_dir()):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(folder / LOG_NAME, maxBytes=MAX_BYTES,
                                          backupCount=BACKUPS, encoding="utf-8")
        except OSError as error:
            problems.append(f"{folder}: {error.strerror or error}")
            continue
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._studio_log = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        path = folder / LOG_NAME
        note = (f"Could not write the log in {problems[0]}; logging to {path} instead."
                if problems else "")
        if note:
            logger.warning(note)
        return LogFile(path, note)
    return LogFile(None, "Could not write a log file (" + "; ".join(problems)
                   + "); errors are shown but not logged to a file this session.")


def close_log() -> None:
    """Stop writing the log file (the handler ``open_log`` added)."""
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        if getattr(handler, "_studio_log", False):
            logger.removeHandler(handler)
            handler.close()

"""The user's folders the studio writes to on its own: the log and the recovery files.

Asked of platformdirs, which knows each platform's convention (XDG on Linux, ``Library`` on
macOS, ``AppData`` on Windows). Kept in one place so tests can point them at a temporary
folder, and callers look them up when they need them (``app_dirs.log_dir()``), never at
import time.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "training-studio"


def log_dir() -> Path:
    """Where the log file goes, e.g. ``~/.local/state/training-studio/log`` on Linux."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def recovery_dir() -> Path:
    """Where unsaved projects are auto-saved, e.g. ``~/.local/share/training-studio/recovery``."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "recovery"

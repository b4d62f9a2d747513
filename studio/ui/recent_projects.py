"""File > Open Recent: the last projects opened or saved, most recent first.

The list lives in QSettings. A project that has since been moved or deleted stays in the
list, shown disabled with the reason, until the user clears the list or opens it anyway.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QMenu, QWidget

from studio.ui.preferences import ignored

MAX_RECENT = 10
KEY = "recent/projects"


def _same(a: Path, b: Path) -> bool:
    return os.path.normcase(str(a)) == os.path.normcase(str(b))


class RecentProjects:
    """The list itself, read and written through QSettings."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def load_problems(self) -> list[str]:
        """A sentence if the stored list was not a list of paths (it is then dropped)."""
        raw = self._settings.value(KEY)
        if raw is None or isinstance(raw, str) or (
                isinstance(raw, list) and all(isinstance(item, str) for item in raw)):
            return []
        self._settings.remove(KEY)
        return [ignored(self._settings, KEY, raw, "expected a list of project files",
                        "an empty list")]

    def paths(self) -> list[Path]:
        raw = self._settings.value(KEY)
        if isinstance(raw, str):  # an ini file gives a one-item list back as text
            raw = [raw] if raw else []
        if not isinstance(raw, list):
            return []
        out: list[Path] = []
        for item in raw:
            if isinstance(item, str) and item and not any(_same(Path(item), p) for p in out):
                out.append(Path(item))
        return out[:MAX_RECENT]

    def add(self, path: Path) -> None:
        path = path.absolute()
        current = self.paths()
        if current and _same(current[0], path):
            return
        self._store([path, *(p for p in current if not _same(p, path))])

    def remove(self, path: Path) -> None:
        self._store([p for p in self.paths() if not _same(p, path.absolute())])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        self._settings.setValue(KEY, [str(p) for p in paths[:MAX_RECENT]])


class RecentMenu(QMenu):
    """Rebuilt each time it opens, so it shows which files still exist right now."""

    open_requested = Signal(str)

    def __init__(self, recent: RecentProjects, parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self.recent = recent
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.clear()
        paths = self.recent.paths()
        for number, path in enumerate(paths, start=1):
            prefix = f"&{number} " if number < 10 else "1&0 "
            exists = path.is_file()
            shown = f"{path.name}  ({path.parent})".replace("&", "&&")  # not a mnemonic
            text = prefix + shown
            action = self.addAction(text if exists else f"{text} (missing)")
            action.setData(str(path))
            if exists:
                action.setStatusTip(f"Open {path}")
                action.triggered.connect(
                    lambda _checked=False, p=str(path): self.open_requested.emit(p))
            else:
                action.setEnabled(False)
                action.setStatusTip(f"{path} no longer exists (moved or deleted).")
                action.setToolTip(action.statusTip())
        if not paths:
            self.addAction("No recent projects").setEnabled(False)
        self.addSeparator()
        clear = self.addAction("&Clear list")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self._clear)
        self.setToolTipsVisible(True)

    def _clear(self) -> None:
        self.recent.clear()
        self.rebuild()

"""The window's size, position, toolbars and splitter positions, kept across launches.

Splitters have no names of their own, so each is keyed by its place in the widget tree
(object names where set, else class name and position among its siblings), which stays the
same from one launch to the next as long as the layout does.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

from studio.ui.preferences import ignored

GEOMETRY = "window/geometry"
STATE = "window/state"
SPLITTERS = "window/splitters"


def splitter_key(splitter: QSplitter, root: QWidget) -> str:
    """A stable name for ``splitter`` below ``root``, e.g. ``evaluate_tab`` or
    ``QStackedWidget.0/TrainingView.2/QSplitter.1``."""
    parts: list[str] = []
    widget: QWidget | None = splitter
    while widget is not None and widget is not root:
        name = widget.objectName()
        if not name or name.startswith("qt_"):
            parent = widget.parentWidget()
            kind = type(widget).__name__
            siblings = ([w for w in parent.findChildren(type(widget))
                         if w.parentWidget() is parent and type(w).__name__ == kind]
                        if parent is not None else [widget])
            name = f"{kind}.{siblings.index(widget)}"
        parts.append(name.replace("/", "_"))
        widget = widget.parentWidget()
    return "/".join(reversed(parts))


def splitters(root: QWidget) -> dict[str, QSplitter]:
    return {splitter_key(s, root): s for s in root.findChildren(QSplitter)}


def save_window_state(settings: QSettings, window: QMainWindow) -> None:
    settings.setValue(GEOMETRY, window.saveGeometry())
    settings.setValue(STATE, window.saveState())
    root = window.centralWidget()
    if root is not None:
        for key, splitter in splitters(root).items():
            if splitter.count():
                settings.setValue(f"{SPLITTERS}/{key}", splitter.saveState())
    settings.sync()


def restore_window_state(settings: QSettings, window: QMainWindow,
                         geometry: bool = True) -> list[str]:
    """Restore what was saved; returns a sentence for each saved value that was unusable
    (and removes it). ``geometry=False`` restores only the splitters (those made late)."""
    problems: list[str] = []
    checks = [(GEOMETRY, window.restoreGeometry), (STATE, window.restoreState)] if geometry else []
    root = window.centralWidget()
    if root is not None:
        checks += [(f"{SPLITTERS}/{key}", splitter.restoreState)
                   for key, splitter in splitters(root).items() if splitter.count()]
    for key, restore in checks:
        raw = settings.value(key)
        if raw is None:
            continue
        if not isinstance(raw, QByteArray) or not restore(raw):
            problems.append(ignored(settings, key, raw, "not a saved window layout",
                                    "the default layout"))
            settings.remove(key)
    return problems

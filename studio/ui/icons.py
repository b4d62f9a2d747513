"""The studio's icons: Lucide SVGs under resources/icons, drawn in the palette's text colour.

The SVGs stroke with ``currentColor``, which Qt's SVG renderer would draw black; rendering them
here in the palette's text colour keeps them readable on a dark theme too. Names describe what
the icon is for (``"train"``), not what it shows, so an icon can change in one place.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Protocol

import shiboken6
from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

#: What an icon is for -> the Lucide file (without .svg) that shows it.
ICONS: dict[str, str] = {
    "new": "file-plus",
    "open": "folder-open",
    "save": "save",
    "save-as": "save-all",
    "import": "file-input",
    "export": "file-output",
    "save-model": "file-box",
    "export-model": "share",
    "train": "circle-play",
    "pause": "circle-pause",
    "stop": "circle-stop",
    "add-layer": "layers-plus",
    "remove-layer": "layers-minus",
    "delete": "trash-2",
    "move-up": "arrow-up",
    "move-down": "arrow-down",
    "undo": "undo-2",
    "redo": "redo-2",
    "devices": "cpu",
    "find-batch": "gauge",
    "help": "circle-help",
    "about": "info",
    "settings": "settings",
    "keyboard": "keyboard",
    "warning": "triangle-alert",
    "error": "circle-x",
    "quit": "log-out",
}

#: Sizes drawn for each icon: menus and toolbars at 1x and 2x scaling.
SIZES = (16, 20, 24, 32, 48, 64)


def icons_dir() -> Path:
    """The folder of the bundled icons (inside the installed ``studio.resources``)."""
    return Path(str(resources.files("studio.resources") / "icons"))


def icon_path(name: str) -> Path:
    """The SVG file for ``name``; a ValueError naming the known names for any other."""
    try:
        stem = ICONS[name]
    except KeyError:
        raise ValueError(f"unknown icon {name!r}: use one of {', '.join(sorted(ICONS))} "
                         "(studio.ui.icons.ICONS)") from None
    return icons_dir() / f"{stem}.svg"


def icon(name: str) -> QIcon:
    """The icon for ``name`` (see ICONS) in the application palette's text colour."""
    path = icon_path(name)
    source = _read(path)
    result = QIcon()
    for mode, group in ((QIcon.Mode.Normal, QPalette.ColorGroup.Active),
                        (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled)):
        colour = QGuiApplication.palette().color(group, QPalette.ColorRole.WindowText)
        # SVG colours carry no alpha: give the opacity on its own.
        svg = source.replace(
            'stroke="currentColor"',
            f'stroke="{colour.name()}" stroke-opacity="{colour.alphaF():.3f}"')
        _add_pixmaps(result, path, svg, SIZES, mode)
    return result


class HasIcon(Protocol):
    """A QAction, a button, anything with ``setIcon``."""

    def setIcon(self, icon: QIcon, /) -> None: ...


#: What set_icon gave an icon, redrawn when the palette changes (a theme switch).
_themed: list[tuple[HasIcon, str]] = []


def set_icon(target: HasIcon, name: str) -> None:
    """Give ``target`` the icon ``name`` and redraw it in the new text colour whenever the
    application's palette changes (light/dark theme), as the rest of the window is."""
    target.setIcon(icon(name))
    _themed[:] = [(item, known) for item, known in _themed if shiboken6.isValid(item)]
    _themed.append((target, name))
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication) and not app.property("studio-icons-themed"):
        app.setProperty("studio-icons-themed", True)
        app.paletteChanged.connect(_redraw_themed)


def _redraw_themed() -> None:
    _themed[:] = [(item, name) for item, name in _themed if shiboken6.isValid(item)]
    for item, name in _themed:
        item.setIcon(icon(name))


def app_icon() -> QIcon:
    """The application's own icon (full colour): window, task bar; app.png is its 256 px
    rendering for desktop entries."""
    path = icons_dir() / "app.svg"
    result = QIcon()
    _add_pixmaps(result, path, _read(path), (*SIZES, 128, 256), QIcon.Mode.Normal)
    return result


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise FileNotFoundError(f"{path}: icon file missing ({error.strerror or error}); "
                                "reinstall Training Studio") from error


def _add_pixmaps(target: QIcon, path: Path, svg: str, sizes: tuple[int, ...],
                 mode: QIcon.Mode) -> None:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"{path}: not a valid SVG icon; reinstall Training Studio")
    for size in sizes:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        target.addPixmap(pixmap, mode)

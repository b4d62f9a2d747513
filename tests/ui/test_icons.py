"""The icon set: every name resolves to a shipped SVG, menus carry icons, unknown names fail."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPalette

from studio.ui.icons import ICONS, app_icon, icon, icon_path, icons_dir
from studio.ui.main_window import MainWindow
from tests.ui.conftest import quick_project

ROOT = Path(__file__).resolve().parents[2]

#: Menu -> the actions in it that must show an icon (texts without the & mnemonics).
MENU_ICONS = {
    "File": ["New", "Open…", "Save", "Save As…", "Import architecture…",
             "Export architecture…", "Save model (.keras)…", "Export model…", "Quit"],
    "Edit": ["Undo", "Redo"],
    "Training": ["Train", "Stop", "Find the largest batch that fits…"],
}


@pytest.mark.parametrize("name", sorted(ICONS))
def test_every_offered_name_is_a_shipped_svg_that_renders(qapp, name):
    path = icon_path(name)
    assert path.is_file(), path
    assert path.read_text(encoding="utf-8").lstrip().startswith(("<svg", "<!--"))
    result = icon(name)
    assert not result.isNull()
    assert not result.pixmap(24, 24).isNull()
    assert not result.pixmap(24, 24, QIcon.Mode.Disabled).isNull()


def test_icons_are_drawn_in_the_palette_text_colour(qapp):
    """A dark theme's light text gives light icons (the SVGs themselves say currentColor)."""
    original = QGuiApplication.palette()
    themed = QPalette(original)
    themed.setColor(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText, QColor("#e0a030"))
    QGuiApplication.setPalette(themed)
    try:
        image = icon("train").pixmap(48, 48).toImage()
    finally:
        QGuiApplication.setPalette(original)
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    opaque = {image.pixelColor(x, y).name() for x in range(48) for y in range(48)
              if image.pixelColor(x, y).alpha() == 255}
    assert opaque == {"#e0a030"}


def test_unknown_name_raises_and_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown icon 'trian'") as caught:
        icon_path("trian")
    assert "train" in str(caught.value)
    with pytest.raises(ValueError, match="unknown icon"):
        icon("no-such-icon")


def test_app_icon_and_its_png(qapp):
    assert not app_icon().isNull()
    assert max(size.width() for size in app_icon().availableSizes()) == 256
    png = QImage(str(icons_dir() / "app.png"))
    assert (png.width(), png.height()) == (256, 256)


def test_licence_and_provenance_sit_beside_the_icons():
    licence = (icons_dir() / "LICENSE").read_text(encoding="utf-8")
    assert "ISC License" in licence and "Lucide" in licence
    readme = (icons_dir() / "README.md").read_text(encoding="utf-8")
    assert "lucide-static" in readme and "1.62.0" in readme


def test_package_data_ships_every_icon_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["studio.resources"]
    resources = ROOT / "resources"
    shipped = {path for pattern in patterns for path in resources.glob(pattern)}
    files = {path for path in (resources / "icons").iterdir() if path.is_file()}
    assert files - shipped == set()


def test_menu_actions_have_icons(qtbot):
    window = MainWindow(quick_project())
    qtbot.addWidget(window)
    menus = {action.text().replace("&", ""): action.menu()
             for action in window.menuBar().actions()}
    for title, expected in MENU_ICONS.items():
        actions = {action.text().replace("&", ""): action
                   for action in menus[title].actions() if not action.isSeparator()}
        for text in expected:
            assert text in actions, f"{title} menu has no {text!r}: {sorted(actions)}"
            assert not actions[text].icon().isNull(), f"{title} > {text} has no icon"


def _colours(qicon: QIcon, mode: QIcon.Mode = QIcon.Mode.Normal) -> set[str]:
    image = qicon.pixmap(48, 48, mode).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    return {image.pixelColor(x, y).name() for x in range(48) for y in range(48)
            if image.pixelColor(x, y).alpha() == 255}


def test_menu_icons_follow_a_theme_change(qtbot):
    window = MainWindow(quick_project())
    qtbot.addWidget(window)
    original = QGuiApplication.palette()
    dark = QPalette(original)
    dark.setColor(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText, QColor("#f0f0f0"))
    dark.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText,
                  QColor("#808080"))
    QGuiApplication.setPalette(dark)
    try:
        assert _colours(window.train_action.icon()) == {"#f0f0f0"}
        assert _colours(window.stop_action.icon(), QIcon.Mode.Disabled) == {"#808080"}
    finally:
        QGuiApplication.setPalette(original)
    assert "#f0f0f0" not in _colours(window.train_action.icon())

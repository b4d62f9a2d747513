"""Preferences kept in QSettings: layout, recent projects, output folder, theme, bad values."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QSplitter

from studio.core.project import save_project
from studio.ui.main_window import MainWindow
from studio.ui.preferences import Preferences, default_runs_root, load_preferences
from studio.ui.recent_projects import MAX_RECENT
from studio.ui.theme import apply_theme, style_plots
from studio.ui.window_state import splitter_key, splitters
from tests.ui.conftest import quick_project


@pytest.fixture
def ini(tmp_path):
    """The path of an isolated settings file; every window of a test shares it."""
    return str(tmp_path / "studio.ini")


@pytest.fixture
def make_window(qtbot, ini):
    """A real main window (TensorFlow not loaded: nothing here needs it)."""
    def make(project=None):
        window = MainWindow(project or quick_project(),
                            settings=QSettings(ini, QSettings.Format.IniFormat))
        window.ask_unsaved = lambda action, subject: "discard"
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window
    yield make
    apply_theme("system")  # the palette is the application's: leave it as found


def _project_files(folder, count):
    paths = []
    for n in range(count):
        path = folder / f"project{n:02d}.json"
        save_project(replace(quick_project(), name=f"P{n}"), path)
        paths.append(path)
    return paths


# ----- window geometry and splitters -----------------------------------------------------
def test_geometry_and_splitters_come_back_at_the_next_launch(make_window):
    first = make_window()
    # The offscreen screen is 800x800 and a restored window is fitted to its screen, so the
    # round trip is checked on the height and position (the width is the window's minimum).
    first.resize(first.minimumSizeHint().width(), 650)
    first.move(40, 60)
    QApplication.processEvents()
    geometry = first.geometry()
    first.tabs.setCurrentWidget(first.evaluate_tab)
    QApplication.processEvents()
    default_sizes = first.evaluate_tab.sizes()
    # The window is at its minimum width (the screen is small), so the position that differs
    # from the default is "try the model" collapsed.
    first.evaluate_tab.setSizes([sum(default_sizes), 0])
    evaluate_sizes = first.evaluate_tab.sizes()
    assert evaluate_sizes != default_sizes
    columns = next(s for s in first.training.findChildren(QSplitter) if s.count() == 2
               and s.orientation() == Qt.Orientation.Horizontal)
    columns.setSizes([500, 400])
    key = splitter_key(columns, first.tabs)
    column_state = columns.saveState()
    first.close()

    second = make_window()
    second.tabs.setCurrentWidget(second.evaluate_tab)
    QApplication.processEvents()
    restored = second.geometry()
    assert (restored.y(), restored.height()) == (geometry.y(), 650)
    assert second.evaluate_tab.sizes() == evaluate_sizes
    assert splitters(second.tabs)[key].saveState() == column_state
    assert not second.session.problems


def test_splitters_made_after_the_first_paint_are_restored_too(make_window):
    first = make_window()
    first.training.create_plots()
    plots = first.training._plots
    plots.setSizes([100, 500, 100, 100])
    state = plots.saveState()
    first.close()
    second = make_window()
    second.training.create_plots()
    second.session.plots_created()  # what start_background_loading does after create_plots
    assert second.training._plots.saveState() == state


# ----- recent projects -------------------------------------------------------------------
def test_recent_projects_newest_first_at_most_ten_and_kept(make_window, tmp_path):
    window = make_window()
    paths = _project_files(tmp_path, MAX_RECENT + 2)
    for path in paths:
        assert window.open_project(path)
    expected = list(reversed(paths))[:MAX_RECENT]
    assert window.session.recent.paths() == expected
    assert window.open_project(paths[5])  # opened again: first, not twice
    assert window.session.recent.paths()[0] == paths[5]
    assert len(window.session.recent.paths()) == MAX_RECENT
    assert window.session.recent.paths().count(paths[5]) == 1

    menu = window.session.recent_menu
    menu.rebuild()
    entries = [a for a in menu.actions() if a.data()]
    assert [a.data() for a in entries] == [str(p) for p in window.session.recent.paths()]
    assert entries[0].text().startswith("&1 project05.json")
    window.close()
    again = make_window()  # the next launch
    assert again.session.recent.paths()[0] == paths[5]


def test_save_as_adds_to_the_recent_list(make_window, tmp_path):
    window = make_window()
    target = tmp_path / "saved.json"
    assert window.save_project(target)
    assert window.session.recent.paths() == [target]
    window.close()
    assert make_window().session.recent.paths() == [target]


def test_a_one_item_list_written_by_another_process_is_read(make_window, ini, tmp_path):
    # An ini file has no list type: a one-item list is a plain "key=value" line.
    with open(ini, "w", encoding="utf-8") as file:
        file.write(f"[recent]\nprojects={tmp_path / 'one.json'}\n")
    window = make_window()
    assert window.session.recent.paths() == [tmp_path / "one.json"]
    assert not window.session.problems


def test_a_missing_recent_project_is_disabled_and_opening_it_explains(make_window, tmp_path):
    window = make_window()
    kept, gone = _project_files(tmp_path, 2)
    window.open_project(kept)
    window.open_project(gone)
    gone.unlink()
    menu = window.session.recent_menu
    menu.rebuild()
    by_path = {a.data(): a for a in menu.actions() if a.data()}
    assert not by_path[str(gone)].isEnabled()
    assert by_path[str(gone)].text().endswith("(missing)")
    assert "no longer exists" in by_path[str(gone)].statusTip()
    assert by_path[str(kept)].isEnabled()

    assert window.session.open_recent(gone) is False  # e.g. deleted while the menu was open
    assert "no longer exists" in window.last_error and str(gone) in window.last_error
    assert window.session.recent.paths() == [kept]
    assert window.document.path == gone, "the project that was open stays open"

    by_path[str(kept)].trigger()
    assert window.document.path == kept


def test_clear_list(make_window, tmp_path):
    window = make_window()
    window.open_project(_project_files(tmp_path, 1)[0])
    menu = window.session.recent_menu
    menu.rebuild()
    clear = next(a for a in menu.actions() if a.text() == "&Clear list")
    assert clear.isEnabled()
    clear.trigger()
    assert window.session.recent.paths() == []
    texts = [a.text() for a in menu.actions()]
    assert "No recent projects" in texts


# ----- the Preferences dialog ------------------------------------------------------------
def test_output_folder_preference_is_where_runs_go(make_window, tmp_path):
    window = make_window()
    assert window.runs_root == default_runs_root()
    dialog = window.session.edit_preferences()
    folder = tmp_path / "my runs"
    dialog.runs_folder.setText(str(folder))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert window.runs_root == folder
    window.close()
    assert make_window().runs_root == folder


def test_a_file_is_refused_as_the_output_folder(make_window, tmp_path):
    window = make_window()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    dialog = window.session.edit_preferences()
    dialog.runs_folder.setText(str(a_file))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible()
    assert "is a file, not a folder" in dialog.error.text()
    assert window.runs_root == default_runs_root()
    dialog.reject()


def test_theme_is_applied_to_widgets_and_plots(make_window):
    window = make_window()
    window.training.create_plots()
    plot = window.training.loss_plot
    light_window = QApplication.palette().color(QPalette.ColorRole.Window)
    dialog = window.session.edit_preferences()
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    QApplication.processEvents()  # widgets take the new palette from a posted event

    palette = QApplication.palette()
    assert palette.color(QPalette.ColorRole.Window).lightness() < 80
    assert palette.color(QPalette.ColorRole.WindowText).lightness() > 200
    assert window.palette().color(QPalette.ColorRole.Base).lightness() < 80
    assert plot.backgroundBrush().color().lightness() < 80
    assert plot.getAxis("left").paper.lightness() < 80, "the fast grid blends with dark"
    assert plot.getAxis("left").textPen().color().lightness() > 200

    window.close()
    again = make_window()  # the choice is kept
    assert again.session.preferences.theme == "dark"
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    again.session.set_preferences(Preferences(theme="light"))
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 180
    again.session.set_preferences(Preferences(theme="system"))
    assert QApplication.palette().color(QPalette.ColorRole.Window) == light_window


def test_plots_made_later_follow_the_dark_theme_when_shown(make_window):
    window = make_window()
    window.session.set_preferences(Preferences(theme="dark"))
    window.training.create_plots()  # after the theme was chosen
    window.tabs.setCurrentWidget(window.training)
    assert window.training.loss_plot.backgroundBrush().color().lightness() < 80
    assert style_plots(window, "dark") == 0, "already styled: nothing redone"


def test_restore_defaults_resets_the_fields_and_ok_keeps_them(make_window, tmp_path, ini):
    window = make_window()
    window.session.set_preferences(Preferences(str(tmp_path), "dark", 7))
    dialog = window.session.edit_preferences()
    assert dialog.chosen() == Preferences(str(tmp_path), "dark", 7)
    dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    assert dialog.chosen() == Preferences()
    assert window.session.preferences.theme == "dark", "nothing applied before OK"
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert window.session.preferences == Preferences()
    assert load_preferences(QSettings(ini, QSettings.Format.IniFormat)) == (Preferences(), [])
    assert window.session.autosave.interval_ms == 60_000


def test_cancel_keeps_the_preferences(make_window, tmp_path):
    window = make_window()
    dialog = window.session.edit_preferences()
    dialog.runs_folder.setText(str(tmp_path))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert window.session.preferences == Preferences()


def test_the_menus_offer_recent_preferences_and_about(make_window):
    window = make_window()
    menus = {m.title(): m for m in (a.menu() for a in window.menuBar().actions()) if m}
    assert window.session.recent_menu in [a.menu() for a in menus["&File"].actions()]
    assert window.preferences_action in menus["&Edit"].actions()
    assert window.preferences_action.shortcut().toString() == "Ctrl+,"
    assert window.about_action in window.help_menu.actions()
    window.preferences_action.trigger()
    dialog = window.session.dialog
    assert dialog is not None and dialog.isVisible()
    window.preferences_action.trigger()
    assert window.session.dialog is dialog, "one Preferences dialog, brought forward"
    dialog.reject()
    assert window.session.dialog is None
    window.preferences_action.trigger()  # and it opens again after it was closed
    assert window.session.dialog is not None and window.session.dialog.isVisible()
    window.session.dialog.reject()


# ----- settings that cannot be used ------------------------------------------------------
def test_wrong_settings_are_ignored_with_a_message_and_the_window_starts(make_window, ini):
    with open(ini, "w", encoding="utf-8") as file:
        file.write("[appearance]\ntheme=purple\n"
                   "[recovery]\nautosave_minutes=soon\n"
                   "[runs]\nroot=@ByteArray(x)\n"
                   "[recent]\nprojects=@ByteArray(y)\n"
                   "[window]\ngeometry=@ByteArray(garbage)\nstate=just text\n")
    window = make_window()
    problems = "\n".join(window.session.problems)
    for key, why in [("appearance/theme", "expected system, light or dark"),
                     ("recovery/autosave_minutes", "whole number of minutes"),
                     ("runs/root", "expected a folder path"),
                     ("recent/projects", "expected a list of project files"),
                     ("window/geometry", "not a saved window layout"),
                     ("window/state", "not a saved window layout")]:
        assert f"Ignored the setting {key}" in problems and why in problems, key
    assert ini in problems, "the message names the settings file"
    assert window.session.preferences == Preferences()
    assert "Ignored the setting appearance/theme" in window.training.log.toPlainText()
    qt_status = window.statusBar()
    QApplication.processEvents()
    assert "Ignored the setting" in qt_status.currentMessage()
    window.close()
    assert make_window().session.problems == [], "ignored values were removed: said once"


def test_a_damaged_settings_file_still_starts(make_window, ini):
    with open(ini, "wb") as file:
        file.write(b"[appearance]\ntheme=dark\n[[[broken\n=\n\xff\xfe")
    window = make_window()
    assert any("the settings file is damaged" in p for p in window.session.problems)
    assert window.isVisible()

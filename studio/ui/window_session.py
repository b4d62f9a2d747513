"""What the main window keeps between launches: preferences, layout, recent projects and
auto-saved work, and the problems found reading them back.

Glue only: each part lives in its own module (preferences, window_state, recent_projects,
autosave, theme); this wires them to the window's document, menus and close.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from studio.core.recovery import Recovery, discard
from studio.ui.autosave import Autosave
from studio.ui.preferences import Preferences, load_preferences, save_preferences
from studio.ui.preferences_dialog import PreferencesDialog
from studio.ui.recent_projects import RecentMenu, RecentProjects
from studio.ui.theme import apply_theme, style_plots
from studio.ui.window_state import restore_window_state, save_window_state

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

_log = logging.getLogger("studio.session")


class WindowSession(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        settings = window.settings
        self.preferences, problems = load_preferences(settings)
        self.recent = RecentProjects(settings)
        #: Every setting that was ignored at start-up, in words (also shown and logged).
        self.problems = problems + self.recent.load_problems()
        self.recent_menu = RecentMenu(self.recent, window)
        self.recent_menu.open_requested.connect(self.open_recent)
        self.autosave = Autosave(window.document,
                                 interval_ms=self.preferences.autosave_minutes * 60_000,
                                 parent=self)
        self.autosave.failed.connect(self.notice)
        self.dialog: PreferencesDialog | None = None
        self.theme = apply_theme(self.preferences.theme)

    def start(self) -> None:
        """Once the window is built: restore its layout, show what was ignored."""
        window = self.window
        self.problems += restore_window_state(window.settings, window)
        if window.document.path is not None:
            self.recent.add(window.document.path)
        window.document.path_changed.connect(self._remember_path)
        window.tabs.currentChanged.connect(self.style_plots)
        window.evaluator.finished.connect(lambda *_: QTimer.singleShot(0, self.style_plots))
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        for problem in self.problems:
            self.notice(problem)

    def plots_created(self) -> None:
        """Splitters filled (and plots made) after the first paint get their saved state."""
        self.problems += restore_window_state(self.window.settings, self.window,
                                              geometry=False)
        self.style_plots()

    def close(self) -> None:
        """A clean close: keep the layout, drop the recovery file."""
        save_window_state(self.window.settings, self.window)
        self.autosave.close()

    def notice(self, text: str) -> None:
        """Something the user should know but need not answer: status bar, log, log file."""
        _log.warning(text)
        self.window.training.append_log(text)
        # After the start-up messages (set right after the window is made), not under them.
        status = self.window.statusBar()
        QTimer.singleShot(0, status, lambda: status.showMessage(text, 15000))

    # ----- preferences ---------------------------------------------------------------------
    def edit_preferences(self) -> PreferencesDialog:
        """Open the Preferences dialog (window-modal; OK applies and keeps the choices)."""
        if self.dialog is not None:  # already open: bring it forward
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        dialog = self.dialog = PreferencesDialog(self.preferences, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.set_preferences(dialog.chosen()))
        dialog.finished.connect(self._dialog_closed)
        dialog.open()
        return dialog

    def _dialog_closed(self) -> None:
        self.dialog = None  # deleted on close

    def set_preferences(self, preferences: Preferences) -> None:
        problem = save_preferences(self.window.settings, preferences)
        if problem:
            self.notice(problem)
        self.preferences = preferences
        self.autosave.interval_ms = preferences.autosave_minutes * 60_000
        self.theme = apply_theme(preferences.theme)
        self.style_plots()
        self.window.statusBar().showMessage(
            f"Preferences saved; new runs are recorded in {preferences.runs_root()}", 8000)

    def style_plots(self) -> None:
        style_plots(self.window, self.preferences.theme)

    def _system_scheme_changed(self, *_args: object) -> None:
        if self.preferences.theme == "system":
            self.theme = apply_theme("system")
            self.style_plots()

    # ----- recent projects -----------------------------------------------------------------
    def open_recent(self, path: str | Path) -> bool:
        path = Path(path)
        if not path.is_file():
            self.recent.remove(path)
            self.window.show_error("Open recent project",
                                   f"{path}: the project no longer exists (moved or deleted). "
                                   "It was removed from the recent list.")
            return False
        return self.window.open_project(path)

    def _remember_path(self) -> None:
        path = self.window.document.path
        if path is not None:
            self.recent.add(path)

    # ----- recovery ------------------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """After a crash: offer to restore the newest auto-saved work (declined is deleted)."""
        found, problems = self.autosave.pending()
        for problem in problems:
            self.notice(problem)
        for recovery in found:
            if self.window.ask_recover(recovery.describe()):
                return self.restore(recovery)
            discard(recovery.file)
        return False

    def restore(self, recovery: Recovery) -> bool:
        """Open the recovered project as unsaved changes to its original file."""
        if not self.window.confirm_discard("restore the recovered changes"):
            return False
        document = self.window.document
        document.replace(recovery.project, recovery.original_path)
        document.undo_stack.resetClean()  # unsaved: Save writes them to the original file
        # This session's own copy first; the old file goes only once that copy is written.
        if self.autosave.save_now() is not None:
            discard(recovery.file)
        where = recovery.original_path or "a new file"
        self.window.statusBar().showMessage(
            f"Restored the unsaved changes; save to keep them in {where}.", 15000)
        return True


def ask_recover_dialog(window: MainWindow, text: str) -> bool:
    answer = QMessageBox.question(window, "Restore unsaved changes?", text,
                                  QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes

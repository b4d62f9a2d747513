"""Edit > Preferences: where runs are recorded, the theme, and how often work is auto-saved.

The dialog edits a copy; OK hands back the new ``Preferences`` (``chosen()``), "Restore
defaults" only resets the fields, so Cancel still keeps what was there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.ui.preferences import AUTOSAVE_RANGE, THEMES, Preferences, default_runs_root


class PreferencesDialog(QDialog):
    def __init__(self, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.runs_folder = QLineEdit()
        self.runs_folder.setPlaceholderText(f"Default: {default_runs_root()}")
        self.runs_folder.setAccessibleName("Output folder for runs")
        self.runs_folder.setToolTip("Each training run is recorded in a sub-folder here "
                                    "(model, history, checkpoints). Empty: the default folder.")
        self.runs_folder.setMinimumWidth(460)
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.runs_folder, 1)
        folder_row.addWidget(browse)
        self.theme = QComboBox()
        self.theme.setAccessibleName("Theme")
        for key, label in THEMES.items():
            self.theme.addItem(label, key)
        self.autosave = QSpinBox()
        self.autosave.setRange(*AUTOSAVE_RANGE)
        self.autosave.setSuffix(" min")
        self.autosave.setAccessibleName("Auto-save interval in minutes")
        self.autosave.setToolTip("How often a project with unsaved changes is saved to a "
                                 "recovery file, offered back after a crash")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b")
        self.error.hide()

        form = QFormLayout()
        folder_label = QLabel("&Output folder for runs:")  # a layout is no buddy: say whose
        folder_label.setBuddy(self.runs_folder)
        form.addRow(folder_label, folder_row)
        form.addRow("&Theme:", self.theme)
        form.addRow("&Auto-save unsaved work every:", self.autosave)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.clicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.show_preferences(preferences)

    def show_preferences(self, preferences: Preferences) -> None:
        self.runs_folder.setText(preferences.runs_folder)
        self.theme.setCurrentIndex(max(0, self.theme.findData(preferences.theme)))
        self.autosave.setValue(preferences.autosave_minutes)
        self.error.hide()

    def chosen(self) -> Preferences:
        return Preferences(runs_folder=self.runs_folder.text().strip(),
                           theme=str(self.theme.currentData()),
                           autosave_minutes=self.autosave.value())

    def restore_defaults(self) -> None:
        self.show_preferences(Preferences())

    def problem(self) -> str:
        """Why the chosen values cannot be used ("" when they can)."""
        folder = self.runs_folder.text().strip()
        if folder:
            path = Path(folder).expanduser()
            if not path.is_absolute():
                return f"{folder}: give the full path of the output folder."
            if path.exists() and not path.is_dir():
                return f"{path}: is a file, not a folder. Choose a folder for the runs."
        return ""

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            self.error.show()
            self.runs_folder.setFocus()
            return
        super().accept()

    def _clicked(self, button: QAbstractButton) -> None:
        role = self.buttons.buttonRole(button)
        if role == QDialogButtonBox.ButtonRole.ResetRole:
            self.restore_defaults()

    def _browse(self) -> None:
        start = self.runs_folder.text().strip() or str(default_runs_root().parent)
        folder = QFileDialog.getExistingDirectory(self, "Output folder for runs", start)
        if folder:
            self.runs_folder.setText(folder)

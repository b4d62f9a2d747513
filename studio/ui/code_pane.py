"""A read-only view of the project as a runnable Keras script, with Copy and Save."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.atomic import atomic_write_text
from studio.core.keras_code import data_file_for, keras_script, needs_data_file
from studio.ui.document import ProjectDocument


class CodePane(QWidget):
    #: The saved script reads its samples from this .npz, which the ML thread must write.
    data_file_requested = Signal(str)

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setAccessibleName("Keras code")
        self.editor.setAccessibleDescription("A Python script that builds, compiles and trains "
                                             "this model with Keras")
        self.copy_button = QPushButton("Copy")
        self.save_button = QPushButton("Save…")
        self.copy_button.setToolTip("Copy the script to the clipboard")
        self.save_button.setToolTip("Save the script as a .py file")
        self.copy_button.setAccessibleName("Copy the Keras code")
        self.save_button.setAccessibleName("Save the Keras code")
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(lambda: self.save())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor, 1)
        layout.addLayout(buttons)
        document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.editor.setPlainText(keras_script(self._document.project))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.editor.toPlainText())

    def save(self, path: str | Path | None = None) -> Path | None:
        if path is None:
            dialog = QFileDialog(self, "Save Keras script", "model.py", "Python script (*.py)")
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setDefaultSuffix("py")
            if not dialog.exec():
                return None
            path = dialog.selectedFiles()[0]
        atomic_write_text(path, self.editor.toPlainText())
        if needs_data_file(self._document.project):
            self.data_file_requested.emit(str(data_file_for(path)))
        return Path(path)

"""Export the model of a run in one of the formats other tools load, and show its verification.

The export and the check (the file loaded back in its own runtime and compared with the
model) run on the ML thread; the dialog only collects the choice, asks before replacing a
file, and reports. A format whose optional libraries are missing is listed but disabled,
with the command that installs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.export_formats import (
    DEFAULT_OPSET,
    FORMATS,
    MIN_OPSET,
    QUANTIZATIONS,
    ExportOptions,
    export_format,
)
from studio.workers.ml_service import MlService

_QUANTIZE_TEXT = {
    "none": "None (float32)",
    "dynamic": "Dynamic range (8-bit weights)",
    "float16": "float16 weights",
    "int8": "Full integer (int8, calibrated on the training data)",
}


class ExportDialog(QDialog):
    def __init__(self, ml: MlService, source: Path, stem: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self._ml = ml
        self._source = source
        self._stem = stem
        self.result_found: Any = None  # the last ExportResult
        #: Asked before replacing an existing file (path) -> True to replace; tests set it.
        self.confirm_overwrite = self._confirm_overwrite_dialog

        self.format = QComboBox()
        self.format.setAccessibleName("Export format")
        items = self.format.model()
        assert isinstance(items, QStandardItemModel)
        for index, fmt in enumerate(FORMATS):
            self.format.addItem(fmt.title, fmt.name)
            reason = fmt.unavailable_reason()
            item = items.item(index)
            item.setToolTip(reason or fmt.description)
            if reason:
                item.setEnabled(False)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.quantize = QComboBox()
        for key in QUANTIZATIONS:
            self.quantize.addItem(_QUANTIZE_TEXT.get(key, key), key)
        self.quantize.setAccessibleName("TFLite quantisation")
        self.opset = QSpinBox()
        self.opset.setRange(MIN_OPSET, 18)  # the newest opset tf2onnx 1.17 writes
        self.opset.setValue(DEFAULT_OPSET)
        self.opset.setAccessibleName("ONNX opset")
        self.path = QLineEdit()
        self.path.setAccessibleName("Export path")
        browse = QPushButton("Browse…")
        browse.setAccessibleName("Choose the export path")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.unavailable = QLabel("\n".join(
            r for r in (f.unavailable_reason() for f in FORMATS) if r))
        self.unavailable.setWordWrap(True)
        self.unavailable.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: a conversion reports no steps
        self.progress.hide()
        self.status = QLabel("Each export is loaded back in its own runtime and compared with "
                             "the model.")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Export result")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow(self.description)
        form.addRow("Quantisation", self.quantize)
        form.addRow("ONNX opset", self.opset)
        form.addRow("Save to", path_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export",
                                                    QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setAccessibleName("Export")
        self.export_button.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.unavailable)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        # Enter (in the path field, say) exports. Set once the button is inside the dialog:
        # before that it has no dialog to be the default of, and Qt would pick Browse.
        self.export_button.setDefault(True)

        self.format.currentIndexChanged.connect(self._format_changed)
        ml.exported.connect(self._exported)
        ml.export_failed.connect(self._failed)
        self._listening = True
        self._format_changed()
        self.resize(560, self.sizeHint().height())

    def choose(self, format_name: str, path: str | Path) -> None:
        self.format.setCurrentIndex(self.format.findData(format_name))
        self.path.setText(str(path))

    def _format_changed(self) -> None:
        fmt = export_format(self.format.currentData())
        self.description.setText(fmt.description)
        self.quantize.setEnabled(fmt.name == "tflite")
        if fmt.name != "tflite":
            self.quantize.setCurrentIndex(0)
        self.opset.setEnabled(fmt.name == "onnx")
        folder = Path(self.path.text()).parent if self.path.text() else Path.home()
        self.path.setText(str(folder / fmt.default_name(self._stem)))

    def _browse(self) -> None:
        fmt = export_format(self.format.currentData())
        if fmt.folder:
            chosen = QFileDialog.getExistingDirectory(self, "Export into folder",
                                                      str(Path(self.path.text()).parent))
            if chosen:
                self.path.setText(str(Path(chosen) / fmt.default_name(self._stem)))
            return
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export model", self.path.text(), f"{fmt.title} (*{fmt.suffix})",
            options=QFileDialog.Option.DontConfirmOverwrite)  # asked below, once
        if chosen:
            self.path.setText(chosen)

    def export(self) -> bool:
        """Start the export (False when nothing was started)."""
        fmt = export_format(self.format.currentData())
        target = self.path.text().strip()
        if not target:
            self.status.setText("Choose where to save the export.")
            return False
        if reason := fmt.unavailable_reason():
            self.status.setText(reason)
            return False
        overwrite = False
        if Path(target).exists():
            if not self.confirm_overwrite(target):
                return False
            overwrite = True
        options = ExportOptions(quantize=self.quantize.currentData(), opset=self.opset.value())
        self.export_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(False)
        self.progress.show()
        self.status.setText(f"Exporting {fmt.title} and checking it…")
        self._ml.export(str(self._source), fmt.name, target, options, overwrite)
        return True

    def _confirm_overwrite_dialog(self, path: str) -> bool:
        answer = QMessageBox.question(self, "Replace?", f"{path} exists. Replace it?",
                                      QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _exported(self, result: Any) -> None:
        self.result_found = result
        check = result.verification
        text = f"Wrote {result.path} ({result.size / 1024:,.0f} KB); {check.line()}."
        if not check.passed:
            text += (f"\nWarning: its outputs differ from the model's by more than rounding "
                     f"(tolerance {check.tolerance:.1g}); do not rely on this file.")
        self._done(text)

    def _failed(self, message: str) -> None:
        self._done(message)

    def _done(self, text: str) -> None:
        self.progress.hide()
        self.export_button.setEnabled(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(True)
        self.status.setText(text)

    @property
    def busy(self) -> bool:
        return not self.export_button.isEnabled()

    def done(self, result: int) -> None:
        if self.busy and self.isVisible():
            return  # the export finishes first (seconds): its result must not go astray
        # The ML service outlives the dialog: stop listening to it (once).
        if self._listening:
            self._listening = False
            self._ml.exported.disconnect(self._exported)
            self._ml.export_failed.disconnect(self._failed)
        super().done(result)

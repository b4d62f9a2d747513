"""Help > About: what this studio is, under which licence, and the versions a bug report needs.

TensorFlow loads after the window appears, so its versions (and the GPU driver's, asked of
NVML on the same thread) may not be known yet: they read "loading…" and fill in when the
device report arrives.
"""

from __future__ import annotations

import platform

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio import __version__
from studio.core.devices import DeviceReport

LICENCE = "MIT"  # as pyproject.toml's [project] license says (a test checks they agree)
LOADING = "loading…"


def version_lines(report: DeviceReport | None, tensorflow_error: str = "") -> list[str]:
    """``name: version`` lines, in the order a bug report wants them."""
    if report is not None:
        tf, keras = report.tensorflow_version, report.keras_version
        build = (f"CUDA {report.cuda_version}, cuDNN {report.cudnn_version}"
                 if report.built_with_cuda else "CPU-only build")
        if report.driver_version:
            cuda = (f" (supports CUDA {report.cuda_driver_version})"
                    if report.cuda_driver_version else "")
            driver = f"NVIDIA {report.driver_version}{cuda}"
        else:
            driver = "none found" + (f" ({report.driver_note})" if report.driver_note else "")
    else:
        tf = keras = build = driver = ("unavailable: " + tensorflow_error if tensorflow_error
                                       else LOADING)
    return [
        f"Training Studio: {__version__}",
        f"TensorFlow: {tf}",
        f"TensorFlow build: {build}",
        f"Keras: {keras}",
        f"GPU driver: {driver}",
        f"Qt: {qVersion()}",
        f"PySide6: {PySide6.__version__}",
        f"Python: {platform.python_version()} ({platform.python_implementation()})",
        f"Operating system: {platform.platform()}",
    ]


class AboutDialog(QDialog):
    def __init__(self, report: DeviceReport | None = None, tensorflow_error: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Training Studio")
        heading = QLabel(f"<h2>Training Studio {__version__}</h2>"
                         "<p>Train neural networks without writing code: stack layers, press "
                         "Train, export a model.</p>"
                         f"<p>Released under the {LICENCE} licence.</p>")
        heading.setWordWrap(True)
        heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.versions = QPlainTextEdit()
        self.versions.setReadOnly(True)
        self.versions.setAccessibleName("Versions")
        self.versions.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.versions.setMinimumWidth(520)
        self.versions.setFixedHeight(self.versions.fontMetrics().lineSpacing() * 10 + 16)
        self.copy_button = QPushButton("&Copy versions")
        self.copy_button.setToolTip("Copy the versions to the clipboard, e.g. for a bug report")
        self.copy_button.clicked.connect(self.copy_versions)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(QLabel("Versions:"))
        layout.addWidget(self.versions)
        layout.addWidget(buttons)
        self.set_report(report, tensorflow_error)

    def set_report(self, report: DeviceReport | None, tensorflow_error: str = "") -> None:
        self.versions.setPlainText("\n".join(version_lines(report, tensorflow_error)))

    def text(self) -> str:
        return self.versions.toPlainText()

    def copy_versions(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

"""The controls above the live plots: smoothing, log scale, which series, reset and export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QToolButton,
    QWidget,
)

if TYPE_CHECKING:
    from studio.ui.live_plot import LivePlot

SERIES_LABELS = (("batch", "Batches"), ("smoothed", "Smoothed"), ("train", "Epochs"),
                 ("val", "Validation"))


class PlotControls(QWidget):
    message = Signal(str)

    def __init__(self, plots: Callable[[], Sequence[LivePlot]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plots = plots
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(60)
        self.smoothing.setMaximumWidth(140)
        self.smoothing.setAccessibleName("Smoothing")
        self.smoothing.setToolTip("Smoothing of the per-batch curve (exponential moving "
                                  "average, as in TensorBoard)")
        self.smoothing.valueChanged.connect(self._smoothing_changed)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Logarithmic loss axis: shows small improvements late in "
                                  "training")
        self.log_scale.toggled.connect(lambda on: self._each(lambda p: p.set_log_y(on), 1))
        self.series: dict[str, QCheckBox] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Smoothing"))
        layout.addWidget(self.smoothing)
        layout.addWidget(self.log_scale)
        for key, label in SERIES_LABELS:
            check = QCheckBox(label)
            check.setChecked(True)
            check.setToolTip(f"Show or hide the {label.lower()} curves")
            check.setAccessibleName(f"Show the {label.lower()} curves")
            check.toggled.connect(
                lambda on, k=key: self._each(lambda p: p.set_series_visible(k, on)))
            self.series[key] = check
            layout.addWidget(check)
        layout.addStretch(1)
        self.reset_button = QPushButton("Reset view")
        self.reset_button.setToolTip("Zoom back to show every point (drag to pan, wheel to "
                                     "zoom)")
        self.reset_button.clicked.connect(lambda: self._each(lambda p: p.reset_view()))
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save the plots as PNG or SVG, or their numbers as CSV")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for kind in ("png", "svg", "csv"):
            action = menu.addAction(f"As {kind.upper()}…")
            action.triggered.connect(partial(self._export_chosen, kind))
        self.export_button.setMenu(menu)
        layout.addWidget(self.reset_button)
        layout.addWidget(self.export_button)
        for widget in (self.log_scale, self.reset_button, self.export_button):
            widget.setAccessibleName(widget.text())

    def _each(self, action: Callable[[LivePlot], object], limit: int | None = None) -> None:
        for plot in list(self._plots())[:limit]:
            action(plot)

    def _smoothing_changed(self, value: int) -> None:
        self._each(lambda p: p.set_smoothing(value / 100))

    def _export_chosen(self, kind: str, _checked: bool = False) -> None:
        self.export(kind)

    def export(self, kind: str, folder: str | Path | None = None) -> list[Path]:
        """Write each plot as ``<title>.<kind>`` into ``folder`` (asked when not given)."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, f"Export the plots as {kind.upper()}")
            if not folder:
                return []
        written = []
        for plot in self._plots():
            name = plot.plotItem.titleLabel.text or "plot"
            slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
            path = Path(folder) / f"{slug}.{kind}"
            getattr(plot, f"export_{kind}")(path)
            written.append(path)
        self.message.emit("Exported " + ", ".join(p.name for p in written))
        return written

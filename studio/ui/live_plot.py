"""One live metric plot: training per batch, training per epoch and validation per epoch.

Points are appended to ``CurveBuffer``s as events arrive; the curves are redrawn from a timer
by the owner (``redraw``), never once per event, and long series are clipped to the view and
peak-downsampled as in pyqtgraph's scrolling-plot examples.
"""

from __future__ import annotations

import pyqtgraph as pg

from studio.ui.curve_buffer import CurveBuffer

_SERIES = {
    "batch": ("training (batch)", pg.mkPen((120, 160, 220), width=1)),
    "train": ("training (epoch)", pg.mkPen((31, 90, 180), width=2)),
    "val": ("validation (epoch)", pg.mkPen((220, 110, 20), width=2)),
}


class LivePlot(pg.PlotWidget):
    def __init__(self, title: str, y_label: str, legend_at_bottom: bool = False) -> None:
        super().__init__()
        self.setBackground("w")
        self.setTitle(title, color="k")
        self.setLabel("bottom", "epoch")
        self.setLabel("left", y_label)
        self.showGrid(x=True, y=True, alpha=0.25)
        # Accuracy rises towards the top right: its legend goes bottom right to stay clear.
        self.addLegend(offset=(-10, -40 if legend_at_bottom else 10))
        self.buffers: dict[str, CurveBuffer] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key, (name, pen) in _SERIES.items():
            symbol = "o" if key != "batch" else None
            curve = self.plot([], [], name=name, pen=pen, symbol=symbol, symbolSize=5,
                              symbolBrush=pen.color(), symbolPen=None)
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            self.curves[key] = curve
            self.buffers[key] = CurveBuffer()
        self._dirty = False
        self.setAccessibleName(title)

    def set_metric(self, title: str, y_label: str) -> None:
        """Show another metric (e.g. MAE instead of accuracy for a regression)."""
        self.setTitle(title, color="k")
        self.setLabel("left", y_label)
        self.setAccessibleName(title)

    def append(self, series: str, x: float, y: float) -> None:
        self.buffers[series].append(x, y)
        self._dirty = True

    def clear_data(self) -> None:
        for buffer in self.buffers.values():
            buffer.clear()
        self._dirty = True
        self.redraw()

    def point_count(self, series: str) -> int:
        return len(self.buffers[series])

    def redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for key, curve in self.curves.items():
            buffer = self.buffers[key]
            curve.setData(buffer.x, buffer.y)

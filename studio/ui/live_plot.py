"""One live metric plot: training per batch (raw and smoothed), per epoch and validation.

Points are appended to ``CurveBuffer``s as events arrive; the curves are redrawn from a timer
by the owner (``redraw``), never once per event, and long series are clipped to the view and
peak-downsampled as in pyqtgraph's scrolling-plot examples. The smoothed batch curve is kept
up to date point by point in its own buffer, so a redraw costs the same with or without it.
Series longer than ``DECIMATE_ABOVE`` points reach pyqtgraph already reduced to their min/max
envelope over the visible x range (about two points per pixel, cached as they grow), so a
redraw does not read a million points; the curves' own clipping and peak downsampling then
work on that. ``curves[...].getData()`` therefore shows what is drawn; the data itself is in
``buffers`` / ``series_data``.

Series names (``append``, ``set_series_visible``, ``curves``): "batch" (raw, thin and light),
"smoothed" (the batch series smoothed; derived, never appended to), "train" and "val".

Everything the owner may offer as buttons is a method: ``set_smoothing``, ``set_log_y``,
``set_series_visible``, ``reset_view``, ``mark``, ``export_png``/``export_svg``/``export_csv``.
The crosshair follows the mouse by itself; ``crosshair_text_at`` gives its text for any x.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen

# (renamed: the plot's own ``higher_is_better`` argument overrides the guess)
from studio.core.sticky_range import nice_ceiling, sticky_span
from studio.core.training_config import higher_is_better as guess_higher_is_better
from studio.ui import plot_export
from studio.ui.curve_buffer import CurveBuffer, PeakDecimator, SmoothedCurveBuffer

SERIES = ("batch", "smoothed", "train", "val")
_NAMES = {
    "batch": "training (batch)",
    "smoothed": "training (batch, smoothed)",
    "train": "training (epoch)",
    "val": "validation (epoch)",
}
_PENS = {
    "batch": pg.mkPen((185, 205, 235), width=1),
    "smoothed": pg.mkPen((70, 125, 205), width=2),
    "train": pg.mkPen((31, 90, 180), width=2),
    "val": pg.mkPen((220, 110, 20), width=2),
}
_PER_EPOCH = ("train", "val")
_EXTENT = "extent"  # not a series: the view's range waits for the next redraw
DEFAULT_SMOOTHING = 0.6  # TensorBoard's default
# Longer series are handed to pyqtgraph as their min/max envelope (see PeakDecimator).
DECIMATE_ABOVE = 20_000
# Metrics where a larger value is better; anything else (losses, errors) is minimised.
def _format_x(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def _format_y(y: float) -> str:
    return f"{y:.4g}"


class _OpaqueGridAxis(pg.AxisItem):
    """An axis whose translucent tick and grid lines are drawn in the opaque colour they show
    on the plot's white background. Qt's raster engine draws translucent lines about ten
    times slower, and the grid is drawn on every repaint: 10 ms of a 1000x400 plot's frame.
    """

    #: The background the lines are blended with; the dark theme sets its own (studio.ui.theme).
    paper = QColor(255, 255, 255)

    def generateDrawSpecs(self, p: QPainter) -> tuple[Any, Any, Any] | None:
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis, ticks, texts = specs
        return axis, [(_on_white(pen, self.paper), p1, p2) for pen, p1, p2 in ticks], texts


def _on_white(pen: QPen, paper: QColor | None = None) -> QPen:
    color = pen.color()
    alpha = color.alphaF()
    if alpha >= 1.0:
        return pen
    opaque = QPen(pen)
    paper = paper or QColor(255, 255, 255)
    opaque.setColor(QColor(*(round(b - alpha * (b - c)) for c, b in (
        (color.red(), paper.red()), (color.green(), paper.green()),
        (color.blue(), paper.blue())))))
    return opaque


class MeteredPlotWidget(pg.PlotWidget):
    """A plot widget that adds up the thread CPU time of its paints: a redraw's cost is its
    data update and the paint that follows on a later pass of the event loop, and that cost
    paces the redraws (``redraw_pacing``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.painted_seconds = 0.0

    def paintEvent(self, event: Any) -> None:
        start = time.thread_time()
        try:
            super().paintEvent(event)
        finally:
            self.painted_seconds += time.thread_time() - start


class LivePlot(MeteredPlotWidget):
    def __init__(self, title: str, y_label: str, legend_at_bottom: bool = False, *,
                 higher_is_better: bool | None = None,
                 smoothing: float = DEFAULT_SMOOTHING) -> None:
        """``higher_is_better`` picks the best validation epoch (max or min); None guesses it
        from ``y_label``. ``smoothing`` is the strength of the batch curve's smoothing."""
        super().__init__(axisItems={side: _OpaqueGridAxis(side) for side in ("left", "bottom")})
        self.setBackground("w")  # _OpaqueGridAxis relies on it
        for side in ("left", "bottom"):
            # Below the view box (z -100), so the now opaque grid lies under the curves.
            self.getAxis(side).setZValue(-200)
        self._title = title
        self.setTitle(title, color="k")
        self.setLabel("bottom", "epoch")
        self.setLabel("left", y_label)
        # pyqtgraph would label an accuracy axis from 0.1 to 0.9 "(x0.001)" with ticks 100-900.
        self.getAxis("left").enableAutoSIPrefix(False)
        self.showGrid(x=True, y=True, alpha=0.25)
        # Accuracy rises towards the top right: its legend goes bottom right to stay clear.
        self.addLegend(offset=(-10, -40 if legend_at_bottom else 10))
        self.buffers: dict[str, CurveBuffer] = {
            "batch": SmoothedCurveBuffer(weight=smoothing), "train": CurveBuffer(),
            "val": CurveBuffer(),
        }
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key in SERIES:
            pen = _PENS[key]
            symbol = "o" if key in _PER_EPOCH else None
            curve = self.plot([], [], name=_NAMES[key], pen=pen, symbol=symbol, symbolSize=5,
                              symbolBrush=pen.color(), symbolPen=None)
            if key not in _PER_EPOCH:
                # Per-epoch series stay short; clipping them would re-place their symbols
                # on every change of the view, which costs more than drawing them all.
                curve.setClipToView(True)
                curve.setDownsampling(auto=True, method="peak")
            self.curves[key] = curve
        self._dirty: set[str] = set()
        self._decimators = {key: PeakDecimator() for key in SERIES}
        self._partial: set[str] = set()  # long series drawn for part of their x range only
        self._higher_is_better = (guess_higher_is_better(y_label) if higher_is_better is None
                                  else higher_is_better)
        self._best: tuple[float, float] | None = None  # (x, y) of the best validation epoch
        self._log_y = False
        self.marks: list[pg.InfiniteLine] = []

        # An invisible item spanning the ranges to show (``sticky_range``): fitting the view
        # to all the data includes it, so the axes change now and then, not on every redraw.
        self._extent = pg.PlotCurveItem(pen=pg.mkPen(None))
        self._extent_data: tuple[list[float], list[float]] = ([], [])
        self._y_span: tuple[float, float] | None = None
        self._settled = True  # no run is growing: the view fits the data closely
        self.planned_epochs = 0  # the x range spans them while a run grows (none: 1-2-5 steps)
        self.getPlotItem().getViewBox().addItem(self._extent)

        # The best epoch: its own items, so downsampling never drops it.
        val_color = _PENS["val"].color()
        self.best_marker = pg.PlotDataItem([], [], pen=None, symbol="star", symbolSize=18,
                                           symbolBrush=val_color, symbolPen=pg.mkPen("k"))
        self.best_marker.setZValue(20)
        self.addItem(self.best_marker)
        self.best_label = pg.TextItem(color=(60, 60, 60), fill=(255, 255, 255, 200),
                                      ensureInBounds=True)
        self.best_label.setZValue(21)
        self.addItem(self.best_label, ignoreBounds=True)
        self.curves["val"].visibleChanged.connect(self._update_best_marker)

        # Crosshair (pyqtgraph's crosshair example): a vertical line and the values under it.
        self.crosshair_line = pg.InfiniteLine(angle=90, movable=False,
                                              pen=pg.mkPen((110, 110, 110), width=1))
        self.crosshair_label = pg.TextItem(color=(30, 30, 30), fill=(255, 255, 255, 220),
                                           border=pg.mkPen((170, 170, 170)))
        for item in (self.crosshair_line, self.crosshair_label):
            item.setZValue(30)
            item.hide()
            self.addItem(item, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        # Zoom, pan and resizes need long series reduced again, once the change settles.
        self._view_timer = QTimer(self, singleShot=True, interval=0)
        self._view_timer.timeout.connect(self.redraw)
        view = self.getPlotItem().getViewBox()
        view.sigXRangeChanged.connect(self._x_range_changed)
        view.sigResized.connect(self._reduce_again)
        self.setAccessibleName(title)
        self._describe()

    # ----- data -----------------------------------------------------------------------------
    def show_only(self, *series: str) -> None:
        """Keep just ``series`` (e.g. the learning-rate plot has one), legend included."""
        for key in SERIES:
            if key not in series:
                self.set_series_visible(key, False)
                legend = self.plotItem.legend
                if legend is not None:
                    legend.removeItem(self.curves[key])

    def set_metric(self, title: str, y_label: str, higher_is_better: bool | None = None) -> None:
        """Show another metric (e.g. MAE instead of accuracy for a regression)."""
        self._title = title
        self.setTitle(title, color="k")
        self.setLabel("left", y_label)
        self.setAccessibleName(title)
        self._higher_is_better = (guess_higher_is_better(y_label) if higher_is_better is None
                                  else higher_is_better)
        self._best = None
        val = self.buffers["val"]
        self._consider_best(val.x, val.y)
        self._update_best_marker()
        self._describe()

    @property
    def higher_is_better(self) -> bool:
        return self._higher_is_better

    def append(self, series: str, x: float, y: float) -> None:
        self.buffers[series].append(x, y)
        self._touch(series)
        if series == "val":
            self._consider_best(np.array([x]), np.array([y]))
        if series in _PER_EPOCH:
            self._describe()

    def extend(self, series: str, x: np.ndarray, y: np.ndarray) -> None:
        """Append many points at once (e.g. a finished run's history)."""
        self.buffers[series].extend(x, y)
        self._touch(series)
        if series == "val":
            self._consider_best(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        self._describe()

    def settle(self, growing: bool = False, *, now: bool = True) -> None:
        """``growing``: a run adds points, so the axes move only now and then
        (``sticky_range``); else (the run has ended) the view fits the data closely. Not
        ``now``: at the next ``redraw``."""
        self._settled = not growing
        self._y_span = None
        if now:
            self._update_extent()
        else:
            self._dirty.add(_EXTENT)

    def clear_data(self) -> None:
        """Forget every point and change mark (a new run starts)."""
        for buffer in self.buffers.values():
            buffer.clear()
        for decimator in self._decimators.values():
            decimator.reset()
        self._dirty.update(SERIES)
        self._best = None
        self._y_span = None
        self.clear_marks()
        self.redraw()
        self._describe()

    def point_count(self, series: str) -> int:
        return len(self.buffers["batch" if series == "smoothed" else series])

    def series_data(self, series: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of a series, as views into its buffer (do not modify them)."""
        if series == "smoothed":
            batch = self._batch
            return batch.x, batch.smoothed
        buffer = self.buffers[series]
        return buffer.x, buffer.y

    @property
    def best(self) -> tuple[float, float] | None:
        """(epoch, value) of the best validation point so far, or None."""
        return self._best

    def summary_text(self) -> str:
        """The plot in words: the latest epoch's values and the best validation epoch, e.g.
        "Loss: training 0.412, validation 0.455 at epoch 3; best validation 0.431 at epoch
        2." (the plot's accessible description, and the label beside the curves)."""
        train, val, batch = self.buffers["train"], self.buffers["val"], self._batch
        parts = [f"{name} {_format_y(float(buffer.y[-1]))}"
                 for name, buffer in (("training", train), ("validation", val)) if len(buffer)]
        if len(train) and not len(val):  # one series (the learning rate): no need to name it
            parts = [_format_y(float(train.y[-1]))]
        if parts:
            last = max(float(b.x[-1]) for b in (train, val) if len(b))
            text = f"{self._title}: {', '.join(parts)} at epoch {_format_x(last)}"
        elif len(batch):
            text = (f"{self._title}: latest batch {_format_y(float(batch.y[-1]))} "
                    f"(epoch {_format_x(float(batch.x[-1]))})")
        else:
            return f"{self._title}: no values yet."
        if self._best is not None:
            text += (f"; best validation {_format_y(self._best[1])} at epoch "
                     f"{_format_x(self._best[0])}")
        return text + "."

    def _describe(self) -> None:
        self.setAccessibleDescription(self.summary_text())

    @property
    def dirty(self) -> bool:
        """Whether points came since the last redraw."""
        return bool(self._dirty)

    def redraw(self) -> None:
        """Hand changed series to pyqtgraph; called by the owner's timer, not per point."""
        if not self._dirty or self.getPlotItem() is None:  # nothing new, or closed
            return
        dirty, self._dirty = self._dirty, set()
        for key in SERIES:
            if key in dirty:
                self.curves[key].setData(*self._display_data(key))
        if "val" in dirty:
            self._update_best_marker()
        self._update_extent()

    def _update_extent(self) -> None:
        """Span the x range over the planned epochs from the start, as MATLAB's training
        progress plot does (or in 1-2-5 steps where no plan is known or the run outgrew
        it), and the y range as ``sticky_range`` keeps it: it changes now and then, not at
        every redraw. A change of range redraws the axes and paints the plot twice: growing in
        1-2-5 steps, the x axis changed at nearly every redraw of a short run."""
        if self._settled:
            if self._extent_data != ([], []):
                self._extent_data = ([], [])
                self._extent.setData([], [])
            return
        bounds = [(curve.dataBounds(0), curve.dataBounds(1)) for curve in self.curves.values()
                  if curve.isVisible()]
        bounds = [(bx, by) for bx, by in bounds
                  if None not in bx and None not in by and math.isfinite(sum(bx) + sum(by))]
        if not bounds:
            data: tuple[list[float], list[float]] = ([], [])
            self._y_span = None
        else:
            x_high = max(bx[1] for bx, _ in bounds)
            top = (float(self.planned_epochs) if self.planned_epochs >= x_high
                   else nice_ceiling(x_high))
            self._y_span = sticky_span(self._y_span, min(by[0] for _, by in bounds),
                                       max(by[1] for _, by in bounds))
            data = ([min(0.0, *(bx[0] for bx, _ in bounds)), top], list(self._y_span))
        if data != self._extent_data:
            self._extent_data = data
            self._extent.setData(*data)

    def _display_data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The series, or for a long one its envelope over the visible x range."""
        x, y = self._visible_range(key)
        if self._log_y and bool((y <= 0).any()):
            # No logarithm: left out, so no curve or symbol is ever made of NaN only.
            keep = y > 0
            x, y = x[keep], y[keep]
        return x, y

    def _visible_range(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.series_data(key)
        buffer = self.buffers["batch" if key == "smoothed" else key]
        if x.size <= DECIMATE_ABOVE or not buffer.increasing:
            self._partial.discard(key)
            return x, y
        view = self.getPlotItem().getViewBox()
        start, stop = 0, x.size
        if not view.autoRangeEnabled()[0]:
            left, right = view.viewRange()[0]
            start = max(0, int(np.searchsorted(x, left)) - 1)
            stop = min(x.size, int(np.searchsorted(x, right, side="right")) + 1)
        if start > 0 or stop < x.size:
            self._partial.add(key)
        else:
            self._partial.discard(key)
        pixels = max(200, int(view.width()))
        return self._decimators[key].decimate(x, y, start, stop, pixels)

    def _x_range_changed(self, *_args: object) -> None:
        # While the view follows all the data, the envelope of everything is already right.
        if self.getPlotItem().getViewBox().autoRangeEnabled()[0] and not self._partial:
            return
        self._reduce_again()

    def _reduce_again(self, *_args: object) -> None:
        """Zoom, pan or a new size: long series need their envelope for the new view."""
        long = [key for key in SERIES if self.point_count(key) > DECIMATE_ABOVE]
        if long:
            self._dirty.update(long)
            self._view_timer.start()

    @property
    def _batch(self) -> SmoothedCurveBuffer:
        batch = self.buffers["batch"]
        assert isinstance(batch, SmoothedCurveBuffer)
        return batch

    def _touch(self, series: str) -> None:
        self._dirty.add(series)
        if series == "batch":
            self._dirty.add("smoothed")

    # ----- smoothing, scale, visibility, view -----------------------------------------------
    @property
    def smoothing(self) -> float:
        return self._batch.weight

    def set_smoothing(self, strength: float) -> None:
        """Smoothing strength of the batch curve, 0 (raw) to 0.99 (TensorBoard's slider)."""
        if strength != self._batch.weight:
            self._batch.set_weight(strength)
            self._decimators["smoothed"].reset()
            self._dirty.add("smoothed")
            self.redraw()

    def set_log_y(self, on: bool) -> None:
        """Logarithmic y axis. Values <= 0 have no logarithm: they are left out of the curves
        (the line joins their neighbours) and a best value <= 0 is not marked."""
        self._log_y = bool(on)
        self._dirty.update(SERIES)  # values <= 0 are left out on a log axis only
        self.redraw()
        self.setLogMode(x=False, y=self._log_y)
        self._y_span = None  # the extent is in the view's units: log10 on a log axis
        self._update_extent()
        self._update_best_marker()
        self.hide_crosshair()

    def is_log_y(self) -> bool:
        return self._log_y

    def set_series_visible(self, series: str, visible: bool) -> None:
        """Show or hide one series (clicking its legend entry does the same)."""
        self.curves[series].setVisible(visible)
        self._y_span = None
        self._update_extent()

    def is_series_visible(self, series: str) -> bool:
        return bool(self.curves[series].isVisible())

    def reset_view(self) -> None:
        """Undo zoom and pan: fit all data again and keep following it as it grows."""
        self.getPlotItem().enableAutoRange(x=True, y=True)

    # ----- best validation epoch ------------------------------------------------------------
    def _consider_best(self, x: np.ndarray, y: np.ndarray) -> None:
        finite = np.isfinite(y)
        if not finite.any():
            return
        candidates = np.where(finite, y, -np.inf if self._higher_is_better else np.inf)
        index = int(np.argmax(candidates) if self._higher_is_better else np.argmin(candidates))
        value = float(y[index])
        if self._best is not None:
            best = self._best[1]
            if not (value > best if self._higher_is_better else value < best):
                return  # ties keep the earlier epoch
        self._best = (float(x[index]), value)
        self._dirty.add("val")

    def _update_best_marker(self) -> None:
        best = self._best
        if best is None or not self.curves["val"].isVisible():
            self.best_marker.setData([], [])
            self.best_label.hide()
            return
        x, y = best
        self.best_label.setText(f"best: epoch {_format_x(x)}, {_format_y(y)}")
        if self._log_y and y <= 0:  # no place for it on a log axis
            self.best_marker.setData([], [])
            self.best_label.hide()
            return
        self.best_marker.setData([x], [y])
        # Loss-like: the best point is low, so the label goes above it; accuracy: below. In
        # the right half of the data it extends to the left, so the plot's edge never cuts it.
        train_x = self.buffers["train"].x
        right = len(train_x) > 0 and x > (float(train_x[0]) + float(train_x[-1])) / 2
        self.best_label.setAnchor((1 if right else 0, 0 if self._higher_is_better else 1))
        self.best_label.setPos(x, math.log10(y) if self._log_y else y)
        self.best_label.show()

    # ----- change marks ---------------------------------------------------------------------
    def mark(self, x: float, text: str) -> pg.InfiniteLine:
        """A dashed vertical line at ``x`` with a short label (e.g. "lr 1e-4" after a pause)."""
        line = pg.InfiniteLine(
            pos=x, angle=90, movable=False,
            pen=pg.mkPen((120, 120, 120), width=1, style=Qt.PenStyle.DashLine),
            label=text, labelOpts={"position": 0.92, "color": (70, 70, 70),
                                   "fill": (255, 255, 255, 200), "anchors": [(0, 0), (0, 0)]})
        line.setZValue(10)
        self.addItem(line, ignoreBounds=True)
        self.marks.append(line)
        return line

    def clear_marks(self) -> None:
        for line in self.marks:
            self.removeItem(line)
        self.marks.clear()

    # ----- crosshair ------------------------------------------------------------------------
    def crosshair_text_at(self, x: float) -> str:
        """The crosshair's text at ``x``: the epoch, then the nearest value of each visible
        series (per-epoch series also name the epoch of that value)."""
        lines = [f"epoch {_format_x(x)}"]
        for key in SERIES:
            if not self.is_series_visible(key):
                continue
            buffer = self.buffers["batch" if key == "smoothed" else key]
            index = buffer.nearest_index(x)
            if index is None:
                continue
            xs, ys = self.series_data(key)
            line = f"{_NAMES[key]}: {_format_y(float(ys[index]))}"
            if key in _PER_EPOCH:
                line += f" (epoch {_format_x(float(xs[index]))})"
            lines.append(line)
        return "\n".join(lines)

    def show_crosshair(self, x: float) -> None:
        """Put the crosshair at ``x`` (the mouse does this; also handy for tests)."""
        self.crosshair_line.setPos(x)
        self.crosshair_label.setText(self.crosshair_text_at(x))
        (x0, x1), (_y0, y1) = self.getPlotItem().getViewBox().viewRange()
        # Keep the label inside the view: right of the line, or left of it near the edge.
        self.crosshair_label.setAnchor((1, 0) if x > x0 + 0.6 * (x1 - x0) else (0, 0))
        self.crosshair_label.setPos(x, y1)
        self.crosshair_line.show()
        self.crosshair_label.show()

    def hide_crosshair(self) -> None:
        self.crosshair_line.hide()
        self.crosshair_label.hide()

    def _mouse_moved(self, pos: QPointF) -> None:
        if self.getPlotItem() is None:  # closed
            return
        view = self.getPlotItem().getViewBox()
        if view.sceneBoundingRect().contains(pos):
            self.show_crosshair(view.mapSceneToView(pos).x())
        else:
            self.hide_crosshair()

    def leaveEvent(self, event: QEvent) -> None:
        self.hide_crosshair()
        super().leaveEvent(event)

    # ----- export ---------------------------------------------------------------------------
    def export_png(self, path: str | os.PathLike[str], width: int | None = None) -> None:
        """Save the plot as shown (``width`` in pixels, default the widget's)."""
        self._export(lambda: plot_export.export_png(self.getPlotItem(), path, width))

    def export_svg(self, path: str | os.PathLike[str]) -> None:
        self._export(lambda: plot_export.export_svg(self.getPlotItem(), path))

    def export_csv(self, path: str | os.PathLike[str]) -> None:
        """Every point of every series, visible or not: ``series,x,y`` rows (see plot_export)."""
        plot_export.export_csv(((key, *self.series_data(key)) for key in SERIES), path)

    def _export(self, write: Callable[[], None]) -> None:
        """Draw pending points and leave the crosshair out of the picture while writing."""
        self.redraw()
        shown = self.crosshair_line.isVisible()
        self.hide_crosshair()
        try:
            write()
        finally:
            if shown:
                self.crosshair_line.show()
                self.crosshair_label.show()

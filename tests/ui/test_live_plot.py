"""The live curves: smoothing, best epoch, log scale, visibility, crosshair, change marks,
export, and the envelope that keeps long series cheap to redraw."""

from __future__ import annotations

import csv
import itertools
import math
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage

from studio.ui import live_plot
from studio.ui.curve_buffer import PeakDecimator, SmoothedCurveBuffer
from studio.ui.live_plot import LivePlot


def reference_ema(values, weight):
    """TensorBoard's smoothing, written out as plainly as possible."""
    out, last, count = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        out.append(last / (1 - weight**count))
    return out


def make_plot(qtbot, title="Loss", label="loss", **kwargs):
    plot = LivePlot(title, label, **kwargs)
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


@pytest.fixture
def plot(qtbot):
    return make_plot(qtbot)


def test_smoothing_matches_tensorboard_incrementally_and_after_a_change(plot):
    values = [2.0, 1.5, 1.7, math.nan, 1.2, 1.1, 1.3, 0.9, 1.0, 0.8]
    for i, value in enumerate(values):
        plot.append("batch", i / 10, value)
    assert plot.smoothing == 0.6
    np.testing.assert_allclose(plot.series_data("smoothed")[1], reference_ema(values, 0.6),
                               rtol=1e-12)
    plot.redraw()
    np.testing.assert_allclose(plot.curves["smoothed"].getData()[1],
                               reference_ema(values, 0.6), rtol=1e-12)

    plot.set_smoothing(0.9)  # recomputed once, vectorised; later points continue from it
    plot.append("batch", 1.0, 0.7)
    np.testing.assert_allclose(plot.series_data("smoothed")[1],
                               reference_ema([*values, 0.7], 0.9), rtol=1e-12)
    np.testing.assert_array_equal(plot.series_data("batch")[1], [*values, 0.7])  # raw kept

    plot.set_smoothing(0.0)
    np.testing.assert_array_equal(plot.series_data("smoothed")[1], [*values, 0.7])
    with pytest.raises(ValueError):
        plot.set_smoothing(1.0)


def test_vectorised_smoothing_agrees_with_the_loop_on_long_series():
    rng = np.random.default_rng(1)
    values = rng.normal(size=5000)
    values[[10, 3000]] = np.nan
    incremental = SmoothedCurveBuffer(weight=0.95)
    for i, value in enumerate(values[:2000]):
        incremental.append(i, value)
    incremental.extend(np.arange(2000, 5000), values[2000:])
    expected = reference_ema(values, 0.95)
    np.testing.assert_allclose(incremental.smoothed, expected, rtol=1e-10)
    recomputed = SmoothedCurveBuffer(weight=0.3)
    recomputed.extend(np.arange(5000), values)
    recomputed.set_weight(0.95)
    np.testing.assert_allclose(recomputed.smoothed, expected, rtol=1e-10)


def test_best_marker_for_a_loss_is_the_minimum_and_follows_better_epochs(plot):
    assert not plot.higher_is_better
    for epoch, value in enumerate([0.9, 0.7, 0.8, 0.5, 0.6], start=1):
        plot.append("val", epoch, value)
    plot.redraw()
    assert plot.best == (4.0, 0.5)
    assert [list(a) for a in plot.best_marker.getData()] == [[4.0], [0.5]]
    assert plot.best_label.toPlainText() == "best: epoch 4, 0.5"
    assert plot.best_label.isVisible() and plot.best_marker.scene() is plot.scene()

    plot.append("val", 6, 0.5)  # a tie keeps the earlier epoch
    plot.redraw()
    assert plot.best == (4.0, 0.5)
    plot.append("val", 7, 0.4312)
    plot.redraw()
    assert [list(a) for a in plot.best_marker.getData()] == [[7.0], [0.4312]]
    assert plot.best_label.toPlainText() == "best: epoch 7, 0.4312"


def test_best_marker_for_accuracy_is_the_maximum(qtbot):
    plot = make_plot(qtbot, "Accuracy", "accuracy", legend_at_bottom=True)
    assert plot.higher_is_better  # guessed from the label
    for epoch, value in enumerate([0.5, 0.8, 0.7], start=1):
        plot.append("val", epoch, value)
    plot.redraw()
    assert plot.best_label.toPlainText() == "best: epoch 2, 0.8"
    plot.append("val", 4, 0.9312)
    plot.redraw()
    assert plot.best == (4.0, 0.9312)
    assert plot.best_label.toPlainText() == "best: epoch 4, 0.9312"

    # Switching to a regression metric switches to the minimum, over the points so far.
    plot.set_metric("Mean absolute error", "mae")
    assert not plot.higher_is_better and plot.best == (1.0, 0.5)
    plot.set_metric("Score", "score", higher_is_better=True)
    assert plot.best == (4.0, 0.9312)
    assert not make_plot(qtbot, "Accuracy", "accuracy", higher_is_better=False).higher_is_better


def test_log_scale_with_zero_and_negative_values_does_not_raise(plot):
    for x, y in [(0.5, 1.0), (1.0, 0.0), (1.5, -2.0), (2.0, 10.0)]:
        plot.append("batch", x, y)
    plot.append("val", 1, 0.0)  # the best loss has no logarithm
    plot.append("train", 1, 5.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot.set_log_y(True)
        plot.redraw()
        image = plot.grab()
    assert [str(w.message) for w in caught] == []
    assert plot.curves["batch"].getOriginalDataset()[1].tolist() == [1.0, 10.0]
    assert plot.curves["val"].getOriginalDataset() == (None, None)
    assert plot.is_log_y() and plot.getPlotItem().getAxis("left").logMode
    assert not image.isNull()
    assert plot.best == (1.0, 0.0) and not plot.best_label.isVisible()

    plot.append("val", 2, 0.01)
    plot.redraw()
    assert plot.best == (1.0, 0.0)
    plot.set_log_y(False)
    plot.redraw()
    assert plot.best_label.isVisible() and plot.best_label.pos().y() == 0.0


def test_series_can_be_hidden_and_shown_by_method_and_by_legend(plot):
    plot.append("batch", 0.5, 1.0)
    plot.append("val", 1, 0.8)
    plot.redraw()
    plot.set_series_visible("val", False)
    assert not plot.is_series_visible("val") and not plot.curves["val"].isVisible()
    assert not plot.best_label.isVisible()  # the best epoch belongs to the hidden series
    assert "validation" not in plot.crosshair_text_at(1.0)
    plot.set_series_visible("val", True)
    assert plot.is_series_visible("val") and plot.best_label.isVisible()

    class LeftClick:
        def button(self):
            return Qt.MouseButton.LeftButton

        def accept(self):
            pass

    sample = next(sample for sample, label in plot.getPlotItem().legend.items
                  if label.text == "training (batch)")
    sample.mouseClickEvent(LeftClick())
    assert not plot.is_series_visible("batch")
    assert "training (batch):" not in plot.crosshair_text_at(0.5)


def test_crosshair_names_the_nearest_value_of_each_visible_series(plot):
    plot.set_smoothing(0.0)
    for x, y in [(0.5, 0.9), (1.0, 0.6), (1.5, 0.45), (2.0, 0.4), (2.5, 0.25)]:
        plot.append("batch", x, y)
    plot.append("train", 1, 0.6)
    plot.append("train", 2, 0.3)
    plot.append("val", 1, 0.7)
    plot.append("val", 2, 0.35)
    plot.redraw()
    assert plot.crosshair_text_at(2.4) == (
        "epoch 2.40\n"
        "training (batch): 0.25\n"
        "training (batch, smoothed): 0.25\n"
        "training (epoch): 0.3 (epoch 2)\n"
        "validation (epoch): 0.35 (epoch 2)")
    assert plot.crosshair_text_at(1.2).splitlines()[1:] == [
        "training (batch): 0.6", "training (batch, smoothed): 0.6",
        "training (epoch): 0.6 (epoch 1)", "validation (epoch): 0.7 (epoch 1)"]

    # The mouse moves the line and the label; leaving the plot hides them.
    plot.grab()  # paint once: the view fits the data
    view = plot.getPlotItem().getViewBox()
    plot.scene().sigMouseMoved.emit(view.mapViewToScene(QPointF(2.0, 0.5)))
    assert plot.crosshair_line.isVisible() and plot.crosshair_line.value() == pytest.approx(2.0)
    assert plot.crosshair_label.toPlainText() == plot.crosshair_text_at(
        plot.crosshair_line.value())
    plot.leaveEvent(QEvent(QEvent.Type.Leave))
    assert not plot.crosshair_line.isVisible() and not plot.crosshair_label.isVisible()


def test_mark_draws_a_labelled_dashed_line_until_the_next_run(plot):
    line = plot.mark(3.25, "lr 1e-4")
    assert line in plot.getPlotItem().items and plot.marks == [line]
    assert line.value() == 3.25 and line.angle == 90
    assert line.label.toPlainText() == "lr 1e-4"
    assert line.pen.style() == Qt.PenStyle.DashLine
    plot.clear_data()
    assert plot.marks == [] and line not in plot.getPlotItem().items


def test_zoom_then_reset_view_follows_the_data_again(plot):
    plot.append("batch", 0.5, 1.0)
    plot.append("batch", 9.5, 0.5)
    plot.redraw()
    view = plot.getPlotItem().getViewBox()
    view.setXRange(2, 3)
    assert view.autoRangeEnabled()[0] is False
    plot.reset_view()
    assert view.autoRangeEnabled()[0] and view.autoRangeEnabled()[1]


def test_export_png_svg_and_csv(plot, tmp_path):
    values = {"batch": [(0.25, 1.25), (0.5, 0.875), (0.75, 0.8125)],
              "train": [(1.0, 0.7)], "val": [(1.0, 0.9)]}
    for series, points in values.items():
        for x, y in points:
            plot.append(series, x, y)
    plot.mark(0.5, "lr 1e-3")

    png = tmp_path / "plot.png"
    plot.export_png(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
    plot.export_png(png, width=800)  # over the old file, atomically
    assert QImage(str(png)).width() == 800

    svg = tmp_path / "plot.svg"
    plot.export_svg(svg)
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and ET.fromstring(text).tag.endswith("svg")

    table = tmp_path / "plot.csv"
    plot.export_csv(table)
    with open(table, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["series", "x", "y"]
    read: dict[str, list[tuple[float, float]]] = {}
    for series, x, y in rows[1:]:
        read.setdefault(series, []).append((float(x), float(y)))
    assert {k: read[k] for k in values} == values
    assert [y for _x, y in read["smoothed"]] == reference_ema([1.25, 0.875, 0.8125], 0.6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.csv", "plot.png", "plot.svg"]


def test_peak_decimator_keeps_the_envelope_and_the_newest_points():
    rng = np.random.default_rng(2)
    y = rng.normal(size=10_007)
    x = np.arange(y.size) / 100
    decimator = PeakDecimator()
    xs, ys = decimator.decimate(x, y, 0, y.size, 500)
    assert 500 <= xs.size <= 1100  # 250 to 500 buckets of two, plus the raw tail
    assert ys.max() == y.max() and ys.min() == y.min()
    assert xs[0] == x[0] and xs[-1] == x[-1] and ys[-1] == y[-1]
    # Buckets of 32 points: 10,007 / 500, rounded up to a power of two.
    np.testing.assert_array_equal(ys[0:4], [y[:32].max(), y[:32].min(), y[32:64].max(),
                                            y[32:64].min()])
    # More points: only new buckets are added, and the result equals a fresh computation.
    y2 = np.concatenate((y, rng.normal(size=100)))
    x2 = np.arange(y2.size) / 100
    again = decimator.decimate(x2, y2, 0, y2.size, 500)
    fresh = PeakDecimator().decimate(x2, y2, 0, y2.size, 500)
    np.testing.assert_array_equal(again[1], fresh[1])
    assert decimator.decimate(x, y, 10, 60, 500)[1].tolist() == y[10:60].tolist()


def test_long_series_are_drawn_as_an_envelope_of_the_visible_range(plot, qtbot, monkeypatch):
    monkeypatch.setattr(live_plot, "DECIMATE_ABOVE", 1000)
    y = np.sin(np.arange(50_000) / 500) + np.random.default_rng(3).normal(0, 0.1, 50_000)
    x = np.arange(50_000) / 1000
    plot.extend("batch", x, y)
    plot.redraw()
    shown_x, shown_y = plot.curves["batch"].getOriginalDataset()
    assert shown_x.size < 2 * plot.width()
    assert shown_y.max() == y.max() and shown_x[-1] == x[-1]
    assert plot.point_count("batch") == 50_000  # the data itself is all there

    view = plot.getPlotItem().getViewBox()
    view.setXRange(10, 11, padding=0)  # zoomed in: 1,000 points, drawn one by one
    qtbot.waitUntil(lambda: plot.curves["batch"].getOriginalDataset()[0][0] > 9)
    shown_x, shown_y = plot.curves["batch"].getOriginalDataset()
    assert shown_x[0] <= 10 <= 11 <= shown_x[-1]
    np.testing.assert_array_equal(shown_y, y[(shown_x * 1000).round().astype(int)])

    # Back to the whole run (after a redraw of another series only): the whole envelope.
    plot.append("val", 1, 0.5)
    plot.redraw()
    plot.reset_view()
    qtbot.waitUntil(lambda: plot.curves["batch"].getOriginalDataset()[0][0] == 0)
    assert plot.curves["batch"].getOriginalDataset()[0][-1] == x[-1]


def test_the_axes_stay_put_while_a_run_grows(qtbot):
    """The view's range changes now and then, not with every redraw (axes are dear to
    draw): x spans the planned epochs from the start, y changes only when the data leaves
    it or fills less than half of it."""
    from studio.ui.live_plot import LivePlot

    plot = LivePlot("Loss", "loss")
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.show()
    plot.planned_epochs = 8
    plot.settle(growing=True)
    view = plot.getPlotItem().getViewBox()
    ranges = []
    for step in range(1, 401):
        x = step / 50  # 50 batches an epoch, 8 epochs
        plot.append("batch", x, 2.0 / (1 + x) + 0.05 * ((step * 7919) % 13) / 13)
        if step % 50 == 0:
            plot.append("val", x, 2.0 / (1 + x))
        if step % 5 == 0:
            plot.redraw()
            qtbot.wait(1)
            ranges.append(tuple(map(tuple, view.viewRange())))
    x_ranges = {r[0] for r in ranges}
    changes = sum(a != b for a, b in itertools.pairwise(ranges))
    assert changes < len(ranges) / 6, f"the view changed {changes} times in {len(ranges)}"
    # The 8 planned epochs throughout (plus pyqtgraph's padding for the symbols)
    assert all(8 <= right < 9 for _, right in x_ranges), x_ranges
    x, y = plot.series_data("batch")
    low, high = ranges[-1][1]
    assert low <= y.min() and y.max() <= high, "data outside the view"

    plot.settle()  # the run ended: the view fits the data closely again
    qtbot.wait(1)
    (_, right), (low, high) = view.viewRange()
    assert right < 8.6 and high - low < 1.1 * (y.max() - y.min()) + 0.2

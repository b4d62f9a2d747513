"""A live plot stays fluid on a long run: redraw + full repaint with a million batch points.

A ``LivePlot`` shown offscreen at 1000x400 receives 1,000,000 batch points (320 epochs of
3,125 batches, a noisy decaying loss) through ``append``, as the training view sends them,
plus 320 training and 320 validation points. Then, for each frame, one more batch point is
appended and the frame is timed as the owner's 30 Hz timer would cause it: ``redraw()``, then
a full repaint of the plot (the whole viewport is invalidated and ``processEvents`` paints
it; a frame that painted nothing fails the benchmark). Also timed: frames while the user
has zoomed into a tenth of the x range and pans (the envelope is recomputed for the view),
and one change of the smoothing strength (recomputes a million smoothed values). Finally the
best-epoch marker is checked: in the plot's scene, visible, at the validation minimum, and
inside the view.
"""

from __future__ import annotations

import os
import statistics
import time

GOAL_MS = 16.0
EPOCHS = 320
STEPS = 3_125  # EPOCHS * STEPS = 1,000,000 batch points
FRAMES = 20


def _loss(x: float) -> float:
    return 0.2 + 2.0 * 2.718281828 ** (-x / 40.0)


def run() -> list[tuple[str, str, str, str]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from studio.ui.live_plot import LivePlot

    app = QApplication.instance() or QApplication([])
    plot = LivePlot("Loss", "loss")
    plot.resize(1000, 400)
    plot.show()

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    counter = PaintCounter()
    plot.viewport().installEventFilter(counter)

    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(EPOCHS * STEPS)).tolist()
    # Validation improves, then over-fits (its best epoch is found below with numpy).
    val = [_loss(e) + 0.00004 * (e - 120) ** 2 + 0.3 for e in range(1, EPOCHS + 1)]
    start = time.perf_counter()
    for epoch in range(EPOCHS):
        for step in range(1, STEPS + 1):
            x = epoch + step / STEPS
            plot.append("batch", x, _loss(x) + noise[epoch * STEPS + step - 1])
        plot.append("train", epoch + 1, _loss(epoch + 1))
        plot.append("val", epoch + 1, val[epoch])
    append_s = time.perf_counter() - start
    assert plot.point_count("batch") == 1_000_000

    def frame(i: int) -> float:
        plot.append("batch", EPOCHS + (i + 1) / STEPS, _loss(EPOCHS))
        paints = counter.paints
        start = time.perf_counter()
        plot.redraw()
        plot.viewport().update()  # the whole plot, not just the changed region
        app.processEvents()
        elapsed = (time.perf_counter() - start) * 1000
        assert counter.paints > paints, "the frame painted nothing"
        return elapsed

    for i in range(3):  # warm-up: first paints, caches
        frame(i)
    frames = [frame(3 + i) for i in range(FRAMES)]

    view = plot.getPlotItem().getViewBox()
    pans = []
    for i in range(FRAMES):  # zoomed to a tenth of the run, panning right
        view.setXRange(100 + i, 132 + i, padding=0)
        pans.append(frame(3 + FRAMES + i))
    plot.reset_view()
    frame(3 + 2 * FRAMES)

    start = time.perf_counter()
    plot.set_smoothing(0.9)
    smoothing_ms = (time.perf_counter() - start) * 1000

    best_epoch = int(np.argmin(val)) + 1
    marker_x, marker_y = plot.best_marker.getData()
    (x0, x1), (y0, y1) = view.viewRange()
    best_ok = (plot.best_marker.scene() is plot.scene() and plot.best_marker.isVisible()
               and list(marker_x) == [best_epoch] and list(marker_y) == [val[best_epoch - 1]]
               and x0 <= best_epoch <= x1 and y0 <= val[best_epoch - 1] <= y1
               and plot.best_label.isVisible()
               and plot.best_label.toPlainText().startswith(f"best: epoch {best_epoch},"))
    plot.close()

    median, pan_median = statistics.median(frames), statistics.median(pans)
    return [
        ("live plot: append 1,000,000 batch points", f"{append_s:.1f} s "
         f"({append_s * 1e6 / (EPOCHS * STEPS):.1f} µs per point, smoothing included)", "—", "—"),
        ("live plot: redraw + full repaint, 1M points, 1000x400", f"{median:.1f} ms (median "
         f"of {FRAMES} frames, max {max(frames):.1f})", f"< {GOAL_MS:.0f} ms",
         "met" if median < GOAL_MS else "MISSED"),
        ("live plot: the same, zoomed to 1/10 and panning", f"{pan_median:.1f} ms (median of "
         f"{FRAMES}, max {max(pans):.1f})", f"< {GOAL_MS:.0f} ms",
         "met" if pan_median < GOAL_MS else "MISSED"),
        ("live plot: change smoothing, 1M points", f"{smoothing_ms:.0f} ms", "—", "—"),
        ("live plot: best-epoch marker in view", f"epoch {best_epoch}: "
         f"{'shown' if best_ok else 'NOT shown'}", "shown", "met" if best_ok else "MISSED"),
    ]


if __name__ == "__main__":  # this benchmark alone: python -m tests.benchmarks.bench_plot
    for row in run():
        print(" | ".join(row))

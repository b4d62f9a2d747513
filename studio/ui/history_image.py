"""A run's curves as one PNG, drawn by the same live plots as the Training tab.

``studio export RUN --format curves`` uses it without a window (offscreen Qt), so a headless
run's picture looks exactly like the window's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from PySide6.QtWidgets import QHBoxLayout, QWidget

from studio.core.atomic import atomic_path
from studio.core.errors import ExportError

_TITLES = {"accuracy": "Accuracy", "mae": "Mean absolute error"}


def save_curves_png(rows: Sequence[Mapping[str, float]], path: str | os.PathLike[str],
                    width: int = 1200, height: int = 450) -> None:
    """Loss and the main metric per epoch, training and validation, side by side.

    Needs a QApplication. Raises ExportError for an empty history or an unwritable path.
    """
    from studio.ui.live_plot import LivePlot

    if not rows:
        raise ExportError(f"{os.fspath(path)}: the run has no completed epoch to draw.")
    metric = next((m for m in ("accuracy", "mae") if any(m in row for row in rows)), None)
    canvas = QWidget()
    layout = QHBoxLayout(canvas)
    plots = [("loss", LivePlot("Loss", "loss"))]
    if metric is not None:
        plots.append((metric, LivePlot(_TITLES[metric], metric, legend_at_bottom=True,
                                       higher_is_better=metric == "accuracy")))
    for key, plot in plots:
        for epoch, row in enumerate(rows, start=1):
            if key in row:
                plot.append("train", epoch, row[key])
            if f"val_{key}" in row:
                plot.append("val", epoch, row[f"val_{key}"])
        plot.redraw()
        layout.addWidget(plot)
    canvas.resize(width, height)
    image = canvas.grab()
    try:
        with atomic_path(path) as tmp:
            if not image.save(str(tmp), "PNG"):
                raise OSError("Qt could not write the image")
    except OSError as error:
        raise ExportError(f"{os.fspath(path)}: could not save the curves "
                          f"({getattr(error, 'strerror', None) or error}).") from None
    finally:
        canvas.deleteLater()

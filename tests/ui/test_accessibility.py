"""Screen readers: every control of the window has a name, the views that need explaining
have a description, and the plots are said in words that follow the training."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QMenuBar,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

from studio.core.utilisation import UtilisationSample
from studio.ui.utilisation_plot import UtilisationPlot

INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox, QAbstractItemView, QAbstractSlider, QTabBar,
          QPlainTextEdit, QTextEdit, pg.GraphicsView)
#: Views whose name alone does not say how to read or use them.
NEED_DESCRIPTION = (QAbstractItemView, QAbstractSlider, pg.GraphicsView)


def interactive_widgets(window: QWidget) -> list[QWidget]:
    """Every control of ``window``, shown or not (other tabs, pages not shown yet), without
    the parts Qt builds inside other controls (a spin box's line edit, a table's corner
    button, scroll bars, a combo box's pop-up list, the plots' viewports)."""
    found = []
    for widget in window.findChildren(QWidget):
        if widget.window() is not window or isinstance(widget, QScrollBar | QHeaderView):
            continue
        parent = widget.parentWidget()
        if isinstance(parent, QAbstractSpinBox | QComboBox | QTabBar | QMenuBar):
            continue
        if isinstance(widget, QAbstractButton) and isinstance(parent, QAbstractItemView):
            continue
        if isinstance(parent, QAbstractScrollArea) and widget is parent.viewport():
            continue
        if (isinstance(widget, (*INPUTS, QAbstractButton))
                or widget.focusPolicy() & Qt.FocusPolicy.TabFocus):
            found.append(widget)
    return found


def spoken(widget: QWidget, what: QAccessible.Text) -> str:
    """What Qt tells a screen reader about ``widget``."""
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(what).strip() if interface is not None else ""


def label_of(widget: QWidget) -> str:
    return (widget.accessibleName() or getattr(widget, "text", lambda: "")()
            or widget.toolTip() or repr(widget))


@pytest.fixture
def populated(window, qtbot):
    """The window with everything it can show: a trained model, its evaluation and a
    prediction, a run selected, a layer selected, the data's preview."""
    with qtbot.waitSignal(window.training_finished, timeout=180000):
        assert window.train()
    assert window.evaluate()
    qtbot.waitUntil(lambda: window.evaluation.evaluation is not None, timeout=60000)
    canvas = window.try_model.canvas
    window.tabs.setCurrentWidget(window.evaluate_tab)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(50, 80))
    qtbot.mouseMove(canvas, QPoint(120, 80))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(120, 80))
    qtbot.waitUntil(lambda: window.try_model.plot is not None, timeout=30000)
    window.tabs.setCurrentWidget(window.runs)
    qtbot.waitUntil(lambda: window.runs.table.rowCount() > 0, timeout=5000)
    window.runs.select_rows([0])
    window.tabs.setCurrentWidget(window.builder)
    window.builder.select(4)
    qtbot.waitUntil(lambda: window.data_preview is not None, timeout=30000)
    window.tabs.setCurrentWidget(window.data)
    qtbot.waitUntil(lambda: window.data.balance_counts() != (), timeout=5000)
    return window


def test_every_control_has_an_accessible_name(populated):
    window = populated
    widgets = interactive_widgets(window)
    kinds = {type(w).__name__ for w in widgets}
    assert {"LivePlot", "PlotWidget", "StackTable", "ConfusionTable", "QSlider",
            "LayerPalette", "QTabBar"} <= kinds, "the walk reaches every tab's controls"
    unnamed = []
    for widget in widgets:
        if isinstance(widget, QAbstractButton):  # a button's visible text is its name
            name = widget.accessibleName() or widget.text().replace("&", "").strip()
        else:  # inputs, views and plots: an explicit name, not a guess from a label
            name = widget.accessibleName()
        if not name or not spoken(widget, QAccessible.Text.Name):
            parent = widget.parentWidget()
            unnamed.append(f"{type(widget).__name__} ({label_of(widget)}) in "
                           f"{type(parent).__name__} {parent.accessibleName()!r}")
    assert not unnamed, "controls without an accessible name:\n" + "\n".join(unnamed)

    undescribed = [f"{type(w).__name__} {w.accessibleName()!r}" for w in widgets
                   if isinstance(w, NEED_DESCRIPTION)
                   and not spoken(w, QAccessible.Text.Description)]
    assert not undescribed, "views without a description:\n" + "\n".join(undescribed)


def test_plots_have_text_that_says_what_they_show(populated):
    window = populated
    training = window.training
    history = window.last_result.history
    loss = training.loss_plot
    assert loss.accessibleDescription() == loss.summary_text()
    assert f"validation {history[-1]['val_loss']:.4g} at epoch 2" in loss.summary_text()
    best = min(range(len(history)), key=lambda i: history[i]["val_loss"])
    assert (f"best validation {history[best]['val_loss']:.4g} at epoch {best + 1}"
            in loss.summary_text())
    assert training.curves_label.text().startswith("After epoch 2 of 2: Loss: ")
    assert training.accuracy_plot.summary_text() in training.curves_label.text()
    assert training.curves_label.accessibleName() and training.curves_label.isVisibleTo(
        training)
    runs_plot = window.runs._plot
    assert runs_plot is not None
    assert f"{history[-1]['val_loss']:.4g} at epoch 2" in runs_plot.accessibleDescription()
    assert window.try_model.plot.accessibleDescription().startswith("Prediction: ")


def test_the_curves_in_words_follow_the_training(window, qtbot):
    said: list[str] = []  # each text the label showed, as a screen reader would read it

    def listen() -> None:
        text = window.training.curves_label.text()
        if text.startswith("After epoch") and (not said or said[-1] != text):
            said.append(text)

    listening = QTimer()
    listening.timeout.connect(listen)
    listening.start(5)
    with qtbot.waitSignal(window.training_finished, timeout=180000) as finished:
        assert window.train()
    listen()
    listening.stop()
    history = finished.args[0].history
    # Shown on the window's ticks: a tick may come after both epochs of this short run.
    epochs = [int(text.split()[2]) for text in said]
    assert epochs in ([1, 2], [2])
    for epoch, text in zip(epochs, said, strict=True):
        logs = history[epoch - 1]
        assert text.startswith(f"After epoch {epoch} of 2: Loss: training "
                               f"{logs['loss']:.4g}, validation {logs['val_loss']:.4g} at "
                               f"epoch {epoch}; best validation ")
        assert (f"Accuracy: training {logs['accuracy']:.4g}, validation "
                f"{logs['val_accuracy']:.4g} at epoch {epoch}") in text
    rate = window.training.rate_plot
    assert rate.accessibleDescription() == "Learning rate: 0.001 at epoch 2."


def test_the_utilisation_plot_says_its_latest_sample(qtbot):
    plot = UtilisationPlot()
    qtbot.addWidget(plot)
    plot.add(UtilisationSample(seconds=12.0, cpu_percent=43.0, rss_mb=1_204.0,
                               ram_total_mb=16_000.0, gpus=()))
    assert plot.plot.accessibleDescription() == ("Latest sample, 12 s into the training: "
                                                 f"{plot.now_label.text()}")
    plot.clear()
    assert "Waiting" in plot.plot.accessibleDescription()

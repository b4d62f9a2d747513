"""Moving around the window with the keyboard: a key per tab that lands the focus inside it,
and a Tab order in each tab that follows what is shown, with nothing that traps it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from studio.ui.navigation import first_focusable
from tests.ui.test_accessibility import populated  # noqa: F401 - the filled-in window


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


@pytest.fixture
def main(active_window):
    return active_window


def test_ctrl_and_a_number_shows_that_tab_with_the_focus_in_it(main, qtbot):
    tabs = main.tabs
    for number in (1, 3, 6, 2, 5):
        qtbot.keySequence(focused(), QKeySequence(f"Ctrl+{number}"))
        page = tabs.widget(number - 1)
        assert tabs.currentIndex() == number - 1
        assert page.isAncestorOf(focused()), f"the focus stayed out of tab {number}"
    qtbot.keySequence(focused(), QKeySequence("Ctrl+PgDown"))
    assert tabs.currentIndex() == 5
    qtbot.keySequence(focused(), QKeySequence("Ctrl+PgDown"))
    assert tabs.currentIndex() == 0, "wraps around"
    qtbot.keySequence(focused(), QKeySequence("Ctrl+PgUp"))
    assert tabs.currentIndex() == 5


def test_coming_back_to_a_tab_returns_to_its_last_control(main, qtbot):
    qtbot.keySequence(focused(), QKeySequence("Ctrl+1"))
    main.data.seed_box.setFocus()
    qtbot.keySequence(focused(), QKeySequence("Ctrl+2"))
    assert main.builder.isAncestorOf(focused())
    qtbot.keySequence(focused(), QKeySequence("Ctrl+1"))
    assert focused() is main.data.seed_box


def tab_sequence(window, qtbot, index: int) -> list[QWidget]:
    """The controls Tab visits in tab ``index``, from its tab bar back to the tab bar."""
    window.tabs.setCurrentIndex(index)
    bar = window.tabs.tabBar()
    bar.setFocus()
    visited: list[QWidget] = []
    for _ in range(80):
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        if focused() is bar:
            return visited
        assert focused() not in visited, (
            f"Tab is trapped in {focused().accessibleName()!r} of tab {index + 1}: "
            f"{[w.accessibleName() for w in visited]}")
        visited.append(focused())
    raise AssertionError("Tab never came back to the tab bar")


def in_order(visited: list[QWidget], expected: list[QWidget]) -> list[str]:
    """The names of ``expected`` in the order Tab reached them (missing ones left out)."""
    return [w.accessibleName() for w in visited if w in expected]


def test_tab_order_follows_the_layout_of_every_tab(populated, qtbot):  # noqa: F811
    window = populated
    data, builder, training = window.data, window.builder, window.training
    evaluation, trying, runs, devices = window.evaluation, window.try_model, window.runs, \
        window.devices
    settings = training.settings.editors
    controls = training.plot_controls
    expected = {
        0: [data.source_tree, data.csv_button, data.numpy_button, data.images_button,
            data.val_box, data.test_box, data.seed_box, data.shuffle_check, data.norm_combo,
            data._balance_plot, data.image_list],
        1: [builder.dataset_button, builder.template_combo, builder.template_button,
            builder.layer_palette, builder.table, builder.add_button, builder.remove_button,
            builder.up_button, builder.down_button, builder.duplicate_button,
            builder.side_tabs.tabBar(), builder.form.editor("units"),
            builder.form.editor("activation")],
        2: [settings["epochs"], settings["batch_size"], settings["optimizer"],
            settings["learning_rate"], settings["tensorboard"], training.train_button,
            training.save_button, controls.smoothing, controls.log_scale,
            controls.reset_button, controls.export_button, training.loss_plot,
            training.accuracy_plot, training.rate_plot, training.utilisation_plot.plot,
            training.log],
        3: [evaluation.evaluate_button, evaluation.normalised_check, evaluation.confusion,
            evaluation.class_table, evaluation.gallery.images, trying.clear_button,
            trying.load_button, trying.invert_check],
        4: [runs.refresh_button, runs.open_button, runs.table, runs.metric_combo, runs._plot,
            runs.diff_table],
        5: [devices.table, devices.strategy, devices.mixed_precision, devices.xla,
            devices.find_batch_button],
    }
    for index, widgets in expected.items():
        page = window.tabs.widget(index)
        visited = tab_sequence(window, qtbot, index)
        assert in_order(visited, widgets) == [w.accessibleName() for w in widgets], \
            f"tab {index + 1}"
        reachable = [w for w in page.findChildren(QWidget)
                     if w.isVisible() and w.isEnabled()
                     and w.focusPolicy() & Qt.FocusPolicy.TabFocus and not w.focusProxy()]
        missed = [w.accessibleName() or type(w).__name__ for w in reachable
                  if w not in visited and not any(v.isAncestorOf(w) for v in visited)]
        assert not missed, f"Tab never reaches {missed} in tab {index + 1}"
        assert first_focusable(page) is visited[0]

"""The device choice and memory faults in the real window.

Running out of GPU memory cannot happen on these machines (no GPU), so TensorFlow's
ResourceExhaustedError is injected where the engine would meet it; everything around it
(the message, the retry with a smaller batch, the second training) is real. The injection must
reach the engine, so these tests train on the runner's thread instead of in a child process
(``SEPARATE_PROCESS``); the child's own out-of-memory path is tested in
tests/ml/test_training_process.py.
"""

from __future__ import annotations

from dataclasses import replace

import tensorflow as tf

from studio.core.placement import Placement
from studio.workers import training_runner


def test_out_of_memory_offers_a_smaller_batch_and_trains_with_it(window, qtbot, monkeypatch):
    import studio.ml.training as training

    real = training._run_training

    def oom_above_32(model, data, config, *args):
        if config.batch_size > 32:
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
        return real(model, data, config, *args)

    monkeypatch.setattr(training, "_run_training", oom_above_32)
    monkeypatch.setattr(training_runner, "SEPARATE_PROCESS", False)
    asked = []

    def answer(message, smaller):
        asked.append((message, smaller))
        return "retry"

    window.ask_out_of_memory = answer
    project = window.document.project
    window.document.edit(replace(project, training=replace(project.training, epochs=1)),
                         "one epoch")
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=30000)
    with qtbot.waitSignal(window.training_finished, timeout=120000):
        assert window.train()
    assert asked == [(asked[0][0], 32)]
    assert "ran out of memory with batch size 64" in asked[0][0]
    assert window.document.project.training.batch_size == 32
    assert window.document.undo_stack.undoText() == "Set batch size to 32"
    log = window.training.log.toPlainText()
    assert "ran out of memory with batch size 64" in log
    assert window.last_result.epochs_completed == 1


def test_out_of_memory_closed_leaves_the_window_usable(window, qtbot, monkeypatch):
    import studio.ml.training as training

    def always_oom(*args):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM")

    monkeypatch.setattr(training, "_run_training", always_oom)
    monkeypatch.setattr(training_runner, "SEPARATE_PROCESS", False)
    window.ask_out_of_memory = lambda message, smaller: "close"
    with qtbot.waitSignal(window.training_failed, timeout=60000):
        assert window.train()
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=10000)
    assert window.document.project.training.batch_size == 64
    assert window.training.progress.format() == "Out of memory."


def test_training_uses_the_projects_device_choice_and_says_where(window, qtbot):
    window.tabs.setCurrentWidget(window.devices)
    qtbot.waitUntil(lambda: window.devices.table.rowCount() >= 1, timeout=30000)
    devices = window.devices
    devices.strategy.setCurrentIndex(devices.strategy.findData("cpu"))
    devices.mixed_precision.setChecked(True)
    assert window.document.project.devices == Placement("cpu", mixed_precision=True)
    project = window.document.project
    window.document.edit(replace(project, training=replace(project.training, epochs=1)),
                         "one epoch")
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=30000)
    with qtbot.waitSignal(window.training_finished, timeout=120000):
        assert window.train()
    # The digits CNN is small: its training process runs one thread per operation.
    assert ("Training on the CPU, mixed precision (bfloat16, float32 output), one thread per "
            "operation (faster for a model this small)." in window.training.log.toPlainText())
    assert window.trained_model.layers[-1].dtype_policy.name == "float32"
    assert window.trained_model.layers[1].dtype_policy.name == "mixed_bfloat16"


def test_find_the_largest_batch_from_the_device_panel(window, qtbot):
    window.tabs.setCurrentWidget(window.devices)
    assert window.devices.find_batch_button.isEnabled()
    window.devices.find_batch_button.click()
    dialog = window.batch_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.result_found is not None, timeout=120000)
    result = dialog.result_found
    assert result.largest_fit is not None and result.largest_fit >= 16
    assert dialog.table.rowCount() == len(result.trials)
    dialog.use_button.click()
    assert window.document.project.training.batch_size == result.largest_fit
    assert not dialog.isVisible()

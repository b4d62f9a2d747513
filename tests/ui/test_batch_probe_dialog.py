"""The batch search dialog: run it, read the table and verdict, use the size (undoably)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton

from studio.core.dataset_spec import DatasetSpec, GeneratedSource
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.project import Project
from studio.core.training_config import TrainingConfig
from studio.ui.batch_probe_dialog import BatchProbeDialog
from studio.ui.document import ProjectDocument
from studio.workers.batch_probe_runner import BatchProbeRunner

TIMEOUT_MS = 60000


def _project():
    """80 training samples: the search tries 16, 32, 64 and 80."""
    model = ModelSpec((LayerSpec.create("Dense", units=8, activation="relu"),
                       LayerSpec.create("Dense", units=2, activation="softmax")))
    return Project(name="probe", model=model,
                   dataset=DatasetSpec(GeneratedSource("circles", samples=100), seed=1),
                   training=TrainingConfig(batch_size=32))


def _out_of_memory_above(limit):
    def step(model, x, y):
        if len(x) > limit:
            import tensorflow as tf

            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
        return model.train_on_batch(x, y)
    return step


@pytest.fixture
def make_dialog(qtbot):
    runners = []

    def make(train_step=None):
        document = ProjectDocument(_project())
        runners.append(BatchProbeRunner(steps=1, train_step=train_step))
        dialog = BatchProbeDialog(document, runners[-1])
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog, document, runners[-1]
    yield make
    for runner in runners:
        runner.cancel_and_wait()


def _cells(dialog):
    table = dialog.table
    return [[table.item(row, column).text() for column in range(3)]
            for row in range(table.rowCount())]


def test_search_fills_the_table_and_use_sets_the_batch_size_undoably(make_dialog, qtbot):
    dialog, document, runner = make_dialog()
    assert dialog.windowTitle() == "Find the largest batch that fits"
    controls = [*dialog.findChildren(QPushButton), dialog.explanation, dialog.progress,
                dialog.table, dialog.summary_label]
    assert all(w.accessibleName() for w in controls), "every control has an accessible name"
    assert not dialog.use_button.isEnabled()
    formats = []
    runner.progress.connect(lambda *_: formats.append(dialog.progress.format()))
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    assert [row[:2] for row in _cells(dialog)] == [["16", "yes"], ["32", "yes"], ["64", "yes"],
                                                   ["80", "yes"]]
    assert all(row[2] != "—" for row in _cells(dialog))
    assert any("left" in text for text in formats), "the time left is estimated"
    assert dialog.summary_label.text().startswith(
        "Every size up to 80 fits (the training split has 80 samples")
    assert dialog.use_button.text() == "Use batch size 80" and dialog.use_button.isEnabled()
    assert dialog.start_button.isEnabled() and not dialog.cancel_button.isEnabled()

    dialog.use_button.click()
    assert document.project.training.batch_size == 80
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    document.undo_stack.undo()
    assert document.project.training.batch_size == 32


def test_out_of_memory_is_named_and_a_changed_project_needs_a_new_search(make_dialog, qtbot):
    dialog, document, runner = make_dialog(_out_of_memory_above(32))
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT_MS):
        dialog.start_button.click()
    assert _cells(dialog)[-1] == ["64", "no: ran out of memory", "—"]
    assert len(_cells(dialog)) == 3
    assert dialog.summary_label.text().startswith(
        "The largest batch that fits is 32 (tried up to 64, which ran out of memory).")
    assert dialog.use_button.text() == "Use batch size 32"

    # The same search, other than the batch size, still holds; another model does not.
    document.edit(replace(document.project, training=replace(document.project.training,
                                                             batch_size=8)), "Set Batch size")
    assert dialog.use_button.isEnabled()
    wider = replace(document.project.model, layers=(
        LayerSpec.create("Dense", units=64, activation="relu"),
        *document.project.model.layers[1:]))
    document.edit(replace(document.project, model=wider), "Edit layer")
    assert not dialog.use_button.isEnabled()
    assert "The project has changed since" in dialog.summary_label.text()


def test_cancel_keeps_what_was_found(make_dialog, qtbot):
    dialog, _document, runner = make_dialog()
    with qtbot.waitSignal(runner.progress, timeout=TIMEOUT_MS):
        dialog.start_button.click()
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT_MS) as finished:
        dialog.cancel_button.click()
    assert finished.args[0].cancelled
    assert dialog.progress.format() == "Cancelled"
    assert dialog.start_button.isEnabled() and not runner.running


def test_closing_while_running_cancels_and_waits_for_the_thread(make_dialog, qtbot):
    dialog, _document, runner = make_dialog()
    with qtbot.waitSignal(runner.progress, timeout=TIMEOUT_MS):
        dialog.start_button.click()
    assert runner.running
    dialog.close()
    assert not runner.running, "the thread has ended before the dialog is gone"
    assert dialog.result() == QDialog.DialogCode.Rejected

"""The training settings form: only the rows that apply, every edit undoable, bad values refused."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt

from studio.core.dataset_spec import DatasetSpec, GeneratedSource
from studio.core.defaults import default_project
from studio.ui.document import ProjectDocument
from studio.ui.training_settings import TrainingSettingsForm


def make_form(qtbot, project=None):
    document = ProjectDocument(project or default_project())
    form = TrainingSettingsForm(document)
    qtbot.addWidget(form)
    form.show()
    return document, form


def _shown(form, name):
    _layout, editor = form._rows[name]
    return editor.isVisibleTo(form)


def test_the_optimizer_decides_which_settings_are_asked(qtbot):
    document, form = make_form(qtbot)
    assert _shown(form, "beta_1") and not _shown(form, "momentum")
    combo = form.editors["optimizer"]
    combo.setCurrentIndex(combo.findData("sgd"))
    assert document.project.training.optimizer == "sgd"
    assert _shown(form, "momentum") and _shown(form, "nesterov") and not _shown(form, "beta_1")
    form.editors["nesterov"].setChecked(True)
    assert document.project.training.nesterov
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.project.training == default_project().training
    assert combo.currentData() == "adam"


def test_schedule_and_early_stopping_rows_follow_their_switches(qtbot):
    document, form = make_form(qtbot)
    assert not _shown(form, "schedule_factor") and not _shown(form, "patience")
    schedule = form.editors["schedule"]
    schedule.setCurrentIndex(schedule.findData("step"))
    assert _shown(form, "schedule_factor") and _shown(form, "schedule_every")
    schedule.setCurrentIndex(schedule.findData("cosine"))
    assert not _shown(form, "schedule_every")
    form.editors["early_stopping"].setChecked(True)
    assert _shown(form, "patience") and _shown(form, "monitor")
    form.editors["patience"].setValue(3)
    assert document.project.training.patience == 3
    monitor = form.editors["monitor"]
    assert [monitor.itemText(i) for i in range(3)] == ["val_loss", "val_accuracy", "loss"]


def test_metrics_offered_follow_the_task(qtbot):
    document, form = make_form(qtbot)
    metrics = form.editors["metrics"]
    assert [metrics.item(i).data(Qt.ItemDataRole.UserRole) for i in range(metrics.count())] \
        == ["precision", "recall", "f1", "auc"]
    metrics.item(2).setCheckState(Qt.CheckState.Checked)
    assert document.project.training.metrics == ("f1",)
    project = document.project
    document.edit(replace(project, dataset=DatasetSpec(GeneratedSource("sine"))), "sine")
    assert [metrics.item(i).data(Qt.ItemDataRole.UserRole) for i in range(metrics.count())] \
        == ["mse", "rmse", "r2"]
    metrics.item(1).setCheckState(Qt.CheckState.Checked)
    assert document.project.training.metrics == ("f1", "rmse")


def test_a_learning_rate_edit_merges_into_one_undo_step(qtbot):
    document, form = make_form(qtbot)
    box = form.editors["learning_rate"]
    for value in (0.002, 0.003, 0.004):
        box.setValue(value)
    assert document.project.training.learning_rate == 0.004
    assert document.undo_stack.count() == 1

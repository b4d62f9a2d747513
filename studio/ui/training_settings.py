"""Every training setting in one form: optimizer and schedule, loss and metrics, stopping.

Each change is an undoable edit of the project's TrainingConfig (consecutive steps of one
spin box merge into one undo step). Rows that the chosen optimizer or schedule does not use
are hidden, so the form only asks what matters.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.training_config import (
    CLASS_WEIGHTS,
    CLASSIFICATION_METRICS,
    LOSSES,
    OPTIMIZER_SETTINGS,
    OPTIMIZERS,
    REGRESSION_METRICS,
    SCHEDULE_TEXT,
    TrainingConfig,
)
from studio.ui.document import ProjectDocument

_HELP = {
    "epochs": "Passes over the training data.",
    "batch_size": "Samples per gradient step; larger is faster per sample but may "
                  "generalise worse.",
    "optimizer": "The algorithm that updates the weights. Adam is a good default.",
    "learning_rate": "Step size of each update; lower it if the loss jumps around or "
                     "becomes NaN.",
    "momentum": "How much of the previous update carries into the next one.",
    "nesterov": "Look-ahead momentum (Nesterov); often converges a little faster.",
    "beta_1": "Decay of the running mean of gradients.",
    "beta_2": "Decay of the running mean of squared gradients.",
    "weight_decay": "Shrinks the weights a little at every step (decoupled, AdamW).",
    "schedule": "How the learning rate changes from epoch to epoch.",
    "schedule_factor": "Each decay multiplies the learning rate by this.",
    "schedule_every": "Epochs between decays (step), or epochs without progress before one "
                      "(plateau).",
    "loss": "What training minimises. Automatic: cross-entropy to classify, mean squared "
            "error for a regression.",
    "metrics": "Extra measures on the validation split, besides accuracy or MAE.",
    "early_stopping": "Stop when the monitored value stops improving.",
    "monitor": "The logged value early stopping watches, e.g. val_loss or val_accuracy.",
    "patience": "Epochs without improvement before stopping.",
    "restore_best_weights": "At the stop, go back to the weights of the best epoch.",
    "class_weight": "balanced: rare classes count more in the loss (for imbalanced data).",
    "deterministic": "Same seed, same result, bit for bit (slower; stays on until the "
                     "studio restarts).",
    "tensorboard": "Also write TensorBoard logs for this run.",
}
_LABELS = {"beta_1": "Beta 1", "beta_2": "Beta 2", "schedule_factor": "Factor",
           "schedule_every": "Every (epochs)", "restore_best_weights": "Restore best weights",
           "class_weight": "Class weights", "tensorboard": "TensorBoard logs"}


class TrainingSettingsForm(QWidget):
    message = Signal(str)  # a refused value, for the status bar

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self.editors: dict[str, QWidget] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, names in (
            ("Run", ("epochs", "batch_size")),
            ("Optimizer", ("optimizer", "learning_rate", "momentum", "nesterov", "beta_1",
                           "beta_2", "weight_decay", "schedule", "schedule_factor",
                           "schedule_every")),
            ("Loss and metrics", ("loss", "metrics", "class_weight")),
            ("Stopping and logs", ("early_stopping", "monitor", "patience",
                                   "restore_best_weights", "deterministic", "tensorboard")),
        ):
            box = QGroupBox(title)
            form = QFormLayout(box)
            for name in names:
                editor = self._make_editor(name)
                editor.setToolTip(_HELP[name])
                editor.setAccessibleName(_label(name))
                editor.setAccessibleDescription(_HELP[name])
                label = QLabel(_label(name))
                label.setBuddy(editor)
                label.setToolTip(_HELP[name])
                form.addRow(label, editor)
                self.editors[name] = editor
                self._rows[name] = (form, editor)
            layout.addWidget(box)
        layout.addStretch(1)
        document.changed.connect(self.refresh)
        self.refresh()

    # ----- editors -------------------------------------------------------------------------
    def _make_editor(self, name: str) -> QWidget:
        kind = {f.name: f.type for f in fields(TrainingConfig)}[name]
        if name in ("optimizer", "schedule", "loss", "class_weight"):
            combo = QComboBox()
            # Long choices (the schedules) must not widen the whole column.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
            options = {"optimizer": OPTIMIZERS, "schedule": tuple(SCHEDULE_TEXT),
                       "loss": LOSSES, "class_weight": CLASS_WEIGHTS}[name]
            for option in options:
                text = SCHEDULE_TEXT.get(option, option) if name == "schedule" else option
                combo.addItem(text.replace("_", " "), option)
            combo.currentIndexChanged.connect(
                lambda _=0, n=name, c=combo: self._edit(n, c.currentData()))
            return combo
        if name == "monitor":
            monitor = QComboBox()
            monitor.setEditable(True)
            monitor.currentTextChanged.connect(lambda text: self._edit("monitor", text))
            return monitor
        if name == "metrics":
            metrics = QListWidget()
            metrics.setMaximumHeight(90)
            metrics.itemChanged.connect(self._metrics_changed)
            return metrics
        if kind == "bool":
            check = QCheckBox()
            check.toggled.connect(lambda value, n=name: self._edit(n, bool(value)))
            return check
        if kind == "int":
            box = QSpinBox()
            box.setRange(1, {"epochs": 100_000, "batch_size": 65_536}.get(name, 10_000))
            box.valueChanged.connect(lambda value, n=name: self._edit(n, int(value)))
            return box
        spin = QDoubleSpinBox()
        spin.setDecimals(7 if name == "learning_rate" else 4)
        low, high, step = {"learning_rate": (1e-7, 10.0, 1e-4),
                           "schedule_factor": (0.001, 0.999, 0.05),
                           "weight_decay": (0.0, 1.0, 0.001),
                           "beta_2": (0.0, 0.99999, 0.001)}.get(name, (0.0, 0.9999, 0.01))
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.valueChanged.connect(lambda value, n=name: self._edit(n, float(value)))
        return spin

    def _edit(self, name: str, value: object) -> None:
        project = self._document.project
        if getattr(project.training, name) == value:
            return
        changes: dict[str, Any] = {name: value}
        try:
            training = replace(project.training, **changes)
        except StudioError as error:
            self.message.emit(str(error))
            return
        self._document.edit(replace(project, training=training), f"Set {_label(name)}",
                            merge_key=f"training.{name}")

    def _metrics_changed(self, _item: QListWidgetItem) -> None:
        box = self.editors["metrics"]
        assert isinstance(box, QListWidget)
        chosen = [box.item(i).data(Qt.ItemDataRole.UserRole) for i in range(box.count())
                  if box.item(i).checkState() == Qt.CheckState.Checked]
        # Metrics of the other task stay as they were (a dataset switch keeps them).
        kept = [m for m in self._document.project.training.metrics
                if m not in self._offered_metrics()]
        self._edit("metrics", tuple(kept + chosen))

    def _offered_metrics(self) -> tuple[str, ...]:
        task = self._document.project.dataset.info.task
        return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS

    # ----- display -------------------------------------------------------------------------
    def refresh(self) -> None:
        config = self._document.project.training
        for name, editor in self.editors.items():
            editor.blockSignals(True)
            value = getattr(config, name)
            if isinstance(editor, QComboBox) and name == "monitor":
                self._fill_monitor(editor, config)
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(editor.findData(value))
            elif isinstance(editor, QListWidget):
                self._fill_metrics(editor, config)
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QSpinBox | QDoubleSpinBox):
                editor.setValue(value)
            editor.blockSignals(False)
        used = set(OPTIMIZER_SETTINGS[config.optimizer])
        for name in ("momentum", "nesterov", "beta_1", "beta_2", "weight_decay"):
            self._set_row_visible(name, name in used)
        for name in ("schedule_factor", "schedule_every"):
            self._set_row_visible(name, config.schedule != "constant" and not (
                name == "schedule_every" and config.schedule in ("exponential", "cosine")))
        for name in ("monitor", "patience", "restore_best_weights"):
            self._set_row_visible(name, config.early_stopping)

    def _set_row_visible(self, name: str, visible: bool) -> None:
        form, editor = self._rows[name]
        form.setRowVisible(editor, visible)

    def _fill_metrics(self, box: QListWidget, config: TrainingConfig) -> None:
        box.clear()
        for metric in self._offered_metrics():
            item = QListWidgetItem(metric.upper() if len(metric) <= 4 else metric)
            item.setData(Qt.ItemDataRole.UserRole, metric)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if metric in config.metrics
                               else Qt.CheckState.Unchecked)
            box.addItem(item)

    def _fill_monitor(self, combo: QComboBox, config: TrainingConfig) -> None:
        task = self._document.project.dataset.info.task
        main = "accuracy" if task == "classification" else "mae"
        names = ["val_loss", f"val_{main}", "loss",
                 *(f"val_{m}" for m in config.metrics_for(task))]
        combo.clear()
        combo.addItems(names)
        combo.setCurrentText(config.monitor)

    def set_editable(self, editable: bool) -> None:
        """Settings are fixed while a run is going (learning rate and epochs: see pause)."""
        for editor in self.editors.values():
            editor.setEnabled(editable)


def _label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " ").capitalize())

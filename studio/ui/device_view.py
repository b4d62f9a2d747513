"""The device panel: what TensorFlow sees, the GPU memory policy, and where the project trains.

The memory policy belongs to this machine, so it lives in QSettings. A training in a process
of its own applies it as that process starts, so a change counts from the next training. In
the window's own process (the batch search) it is applied once: after TensorFlow has
initialised the GPUs there, a change can only take effect at the next launch, which the panel
says instead of pretending. Where to train belongs to
the project (``studio train`` on another machine makes the same choice), so it is edited
through the document, with undo.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.devices import DeviceReport, MemoryPolicy, MemoryPolicyResult, memory_text
from studio.core.placement import STRATEGIES, STRATEGY_TEXT, XLA_MODES, XLA_TEXT, Placement
from studio.ui.document import ProjectDocument

_GROWTH_GROUP = "devices/memory_growth"
_LIMIT_GROUP = "devices/memory_limit"
_COLUMNS = ["Device", "Model", "Compute capability", "Memory", "Memory growth",
            "Memory limit"]
GROWTH_COLUMN, LIMIT_COLUMN = 4, 5


class DeviceView(QWidget):
    find_batch_requested = Signal()

    def __init__(self, settings: QSettings, document: ProjectDocument,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._document = document
        self._report: DeviceReport | None = None
        self.gpus_initialised = False
        self.summary_label = QLabel("Loading TensorFlow…")
        self.summary_label.setWordWrap(True)
        self.summary_label.setAccessibleName("Device summary")
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setTabKeyNavigation(False)
        self.table.setAccessibleName("Devices")
        self.table.setAccessibleDescription("Every device TensorFlow detects, with the GPU "
                                            "memory policy for each GPU.")
        self.policy_label = QLabel()
        self.policy_label.setWordWrap(True)
        self.policy_label.setAccessibleName("Memory policy status")
        self.build_label = QLabel()
        self.build_label.setWordWrap(True)
        self.build_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.build_label.setAccessibleName("TensorFlow build")

        self.strategy = QComboBox()
        for key in STRATEGIES:
            self.strategy.addItem(STRATEGY_TEXT[key], key)
        self.strategy.setAccessibleName("Train on")
        self.gpu_choice = QComboBox()
        self.gpu_choice.setAccessibleName("GPU to train on")
        self.gpu_list = QListWidget()
        self.gpu_list.setAccessibleName("GPUs to mirror over")
        self.gpu_list.setMaximumHeight(90)
        self.gpu_list.setToolTip("Tick the GPUs to train on together; none ticked means all.")
        self.mixed_precision = QCheckBox(
            "Mixed precision: compute in float16 on GPUs, bfloat16 on the CPU; weights and "
            "the output layer stay float32")
        self.mixed_precision.setAccessibleName("Mixed precision")
        self.mixed_precision.setToolTip("About twice as fast on GPUs with tensor cores "
                                        "(compute capability 7.0 and newer), with half the "
                                        "activation memory.")
        self.xla = QComboBox()
        for key in XLA_MODES:
            self.xla.addItem(XLA_TEXT[key], key)
        self.xla.setAccessibleName("XLA compilation")
        self.xla.setToolTip("XLA fuses each training step into one compiled program: often "
                            "faster on GPUs, with a slower first epoch.")
        self.placement_note = QLabel()
        self.placement_note.setWordWrap(True)
        self.placement_note.setAccessibleName("Device choice on this machine")
        self.find_batch_button = QPushButton("Find the largest batch that fits…")
        self.find_batch_button.setAccessibleName("Find the largest batch that fits")
        self.find_batch_button.setToolTip("Try a few training steps at growing batch sizes "
                                          "on the chosen device and report what fits.")
        self.find_batch_button.clicked.connect(self.find_batch_requested)

        where = QGroupBox("Where this project trains (saved with the project)")
        form = QFormLayout(where)
        form.addRow("Train on", self.strategy)
        form.addRow("GPU", self.gpu_choice)
        form.addRow("GPUs", self.gpu_list)
        form.addRow(self.mixed_precision)
        form.addRow("XLA", self.xla)
        form.addRow(self.placement_note)
        batch_row = QHBoxLayout()
        batch_row.addWidget(self.find_batch_button)
        batch_row.addStretch(1)
        form.addRow(batch_row)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.policy_label)
        layout.addWidget(where)
        layout.addWidget(self.build_label)

        self.strategy.currentIndexChanged.connect(self._placement_edited)
        self.gpu_choice.currentIndexChanged.connect(self._placement_edited)
        self.gpu_list.itemChanged.connect(self._placement_edited)
        self.mixed_precision.toggled.connect(self._placement_edited)
        self.xla.currentIndexChanged.connect(self._placement_edited)
        document.changed.connect(self.refresh)
        self.refresh()

    # ----- the machine's memory policy (QSettings) ----------------------------------------
    def memory_policy(self) -> MemoryPolicy:
        growth = {_gpu_name(k): bool(v) for k, v in self._read_group(_GROWTH_GROUP, bool)}
        limits = {_gpu_name(k): int(v) for k, v in self._read_group(_LIMIT_GROUP, int)}
        return MemoryPolicy(growth, {k: v for k, v in limits.items() if v > 0})

    def _read_group(self, group: str, kind: type) -> list[tuple[str, Any]]:
        self._settings.beginGroup(group)
        try:
            return [(key, self._settings.value(key, kind(), type=kind))
                    for key in self._settings.childKeys()]
        finally:
            self._settings.endGroup()

    def growth_checkbox(self, row: int) -> QCheckBox:
        widget = self.table.cellWidget(row, GROWTH_COLUMN)
        assert isinstance(widget, QCheckBox)
        return widget

    def limit_box(self, row: int) -> QSpinBox:
        widget = self.table.cellWidget(row, LIMIT_COLUMN)
        assert isinstance(widget, QSpinBox)
        return widget

    def set_report(self, report: DeviceReport) -> None:
        self._report = report
        policy = self.memory_policy()
        ram = f"{report.ram_total_mb / 1024:.1f} GiB RAM" if report.ram_total_mb else "—"
        cores = f"{report.cpu_cores} logical cores"
        if report.physical_cores:
            cores = f"{report.physical_cores} cores, {cores}"
        self.table.setRowCount(1 + len(report.gpus))
        self._set_row(0, ["CPU", f"{report.cpu_name or 'CPU'} ({cores})", "—", ram, "—", "—"])
        for row, gpu in enumerate(report.gpus, start=1):
            self._set_row(row, [f"GPU {gpu.index}", gpu.description,
                                gpu.compute_capability or "unknown", memory_text(gpu)])
            growth, limit = policy.for_gpu(gpu.name)
            check = QCheckBox("grow as needed")
            check.setAccessibleName(f"Memory growth for GPU {gpu.index}")
            check.setToolTip("Allocate GPU memory as needed instead of nearly all of it at "
                             "once, so other programs can share the GPU. TensorFlow applies "
                             "the same growth to every GPU without a limit.")
            check.setChecked(growth)
            check.setEnabled(not limit)
            check.toggled.connect(lambda on, name=gpu.name: self._growth_toggled(name, on))
            self.table.setCellWidget(row, GROWTH_COLUMN, check)
            box = QSpinBox()
            box.setRange(0, int(gpu.memory_total_mb or 1_048_576))
            box.setSingleStep(512)
            box.setSuffix(" MB")
            box.setSpecialValueText("no limit")
            box.setValue(limit)
            box.setAccessibleName(f"Memory limit for GPU {gpu.index}")
            box.setToolTip("Let TensorFlow use at most this much of the GPU's memory (0: no "
                           "limit). A limit replaces memory growth.")
            box.valueChanged.connect(lambda mb, name=gpu.name: self._limit_changed(name, mb))
            self.table.setCellWidget(row, LIMIT_COLUMN, box)
        if report.gpus:
            self.summary_label.setText(f"{len(report.gpus)} GPU(s) detected.")
        else:
            self.summary_label.setText(
                f"No GPU detected: training runs on the CPU. {report.no_gpu_reason or ''}")
        cuda = (f"CUDA {report.cuda_version}, cuDNN {report.cudnn_version}"
                if report.built_with_cuda else "no CUDA support")
        driver = (f" · NVIDIA driver {report.driver_version} (CUDA "
                  f"{report.cuda_driver_version or '?'})" if report.driver_version else "")
        self.build_label.setText(f"TensorFlow {report.tensorflow_version} · Keras "
                                 f"{report.keras_version} · build: {cuda}{driver}")
        self._show_policy_state()
        self.refresh()

    def _set_row(self, row: int, texts: list[str]) -> None:
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, column, item)

    def set_applied(self, results: list[MemoryPolicyResult]) -> None:
        """The window's process applied the policy: from now on changes need a restart."""
        self.gpus_initialised = True
        pending = [r.message for r in results if not r.applied]
        self._show_policy_state(pending)

    def set_applied_by_training(self, results: list[MemoryPolicyResult],
                                own_process: bool) -> None:
        """A training applied the policy, in a process of its own (fresh every time, so
        changes keep counting) or in the window's."""
        if not own_process:
            self.set_applied(results)

    def _growth_toggled(self, gpu: str, enabled: bool) -> None:
        self._settings.setValue(f"{_GROWTH_GROUP}/{_settings_key(gpu)}", enabled)
        self._settings.sync()
        self._show_policy_state()

    def _limit_changed(self, gpu: str, limit_mb: int) -> None:
        self._settings.setValue(f"{_LIMIT_GROUP}/{_settings_key(gpu)}", limit_mb)
        self._settings.sync()
        if self._report is not None:
            for row, info in enumerate(self._report.gpus, start=1):
                if info.name == gpu:
                    self.growth_checkbox(row).setEnabled(limit_mb == 0)
        self._show_policy_state()

    def _show_policy_state(self, pending: list[str] | None = None) -> None:
        if self._report is None or not self._report.gpus:
            self.policy_label.setText("")
        elif self.gpus_initialised:
            self.policy_label.setText(
                "TensorFlow has initialised the GPUs: memory changes are saved and take "
                "effect at the next launch." + ("\n" + "\n".join(pending) if pending else ""))
        else:
            self.policy_label.setText("The memory policy is applied when training starts.")

    # ----- where the project trains (the document) -----------------------------------------
    def refresh(self) -> None:
        """Show the project's device choice (after an edit, undo or another project)."""
        placement = self._document.project.devices
        gpus = self._report.gpus if self._report is not None else ()
        widgets = (self.strategy, self.gpu_choice, self.gpu_list, self.mixed_precision, self.xla)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.strategy.setCurrentIndex(self.strategy.findData(placement.strategy))
            known = sorted({g.index for g in gpus} | set(placement.gpus))
            names = {g.index: g.description for g in gpus}
            self.gpu_choice.clear()
            self.gpu_list.clear()
            for index in known or [0]:
                text = f"GPU {index}: {names.get(index, 'not on this machine')}"
                self.gpu_choice.addItem(text, index)
                item = QListWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, index)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if index in placement.gpus
                                   else Qt.CheckState.Unchecked)
                self.gpu_list.addItem(item)
            chosen = placement.gpus[0] if placement.gpus else 0
            self.gpu_choice.setCurrentIndex(max(0, self.gpu_choice.findData(chosen)))
            self.mixed_precision.setChecked(placement.mixed_precision)
            self.xla.setCurrentIndex(self.xla.findData(placement.xla))
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self.gpu_choice.setEnabled(placement.strategy == "gpu")
        self.gpu_list.setEnabled(placement.strategy == "mirrored")
        self.placement_note.setText(_placement_note(placement, len(gpus), self._report))

    def _placement_edited(self) -> None:
        strategy = self.strategy.currentData()
        project = self._document.project
        switched = strategy != project.devices.strategy
        if strategy == "mirrored" and switched:
            gpus: tuple[int, ...] = ()  # every GPU until the user ticks some
        elif strategy == "gpu":
            gpus = (int(self.gpu_choice.currentData() or 0),)
        elif strategy == "mirrored":
            gpus = tuple(int(self.gpu_list.item(i).data(Qt.ItemDataRole.UserRole))
                         for i in range(self.gpu_list.count())
                         if self.gpu_list.item(i).checkState() == Qt.CheckState.Checked)
        else:
            gpus = ()
        placement = replace(project.devices, strategy=strategy, gpus=gpus,
                            mixed_precision=self.mixed_precision.isChecked(),
                            xla=self.xla.currentData())
        if placement != project.devices:
            self._document.edit(replace(project, devices=placement), "Change where to train")
        self.refresh()


def _placement_note(placement: Placement, gpu_count: int, report: DeviceReport | None) -> str:
    """What the choice means on this machine, before anything runs."""
    if report is None:
        return ""
    if placement.strategy in ("gpu", "mirrored") and gpu_count == 0:
        return ("This machine has no GPU: training here runs on the CPU. The choice is kept "
                "for machines that have one (studio train uses it too).")
    missing = [i for i in placement.gpus if i >= gpu_count]
    if missing and placement.strategy in ("gpu", "mirrored"):
        return (f"GPU {', '.join(map(str, missing))} is not on this machine: training here "
                "uses the GPUs that are.")
    if placement.strategy == "mirrored":
        count = len(placement.gpus) or gpu_count
        return (f"{count} replica(s): each batch is split between them; the batch size stays "
                "the global batch.")
    return ""


def _settings_key(gpu: str) -> str:
    # QSettings treats '/' as a group separator.
    return gpu.replace("/", "|")


def _gpu_name(key: str) -> str:
    return key.replace("|", "/")

"""The device panel: what TensorFlow sees, and the GPU memory-growth policy.

The policy is stored in QSettings and applied right before training; once TensorFlow has
initialised the GPUs a change can only take effect at the next launch, and the panel says so
instead of pretending.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.devices import DeviceReport, MemoryGrowthResult

_SETTINGS_GROUP = "devices/memory_growth"


class DeviceView(QWidget):
    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._report: DeviceReport | None = None
        self.gpus_initialised = False
        self.summary_label = QLabel("Loading TensorFlow…")
        self.summary_label.setWordWrap(True)
        self.summary_label.setAccessibleName("Device summary")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            ["Device", "Model", "Compute capability", "Memory growth"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Devices")
        self.policy_label = QLabel()
        self.policy_label.setWordWrap(True)
        self.policy_label.setAccessibleName("Memory policy status")
        self.build_label = QLabel()
        self.build_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.policy_label)
        layout.addWidget(self.build_label)

    def memory_growth_policy(self) -> dict[str, bool]:
        self._settings.beginGroup(_SETTINGS_GROUP)
        try:
            return {_gpu_name(key): bool(self._settings.value(key, False, type=bool))
                    for key in self._settings.childKeys()}
        finally:
            self._settings.endGroup()

    def growth_checkbox(self, row: int) -> QCheckBox:
        widget = self.table.cellWidget(row, 3)
        assert isinstance(widget, QCheckBox)
        return widget

    def set_report(self, report: DeviceReport) -> None:
        self._report = report
        policy = self.memory_growth_policy()
        rows: list[tuple[str, str, str, str | None]] = [
            ("CPU", f"{report.cpu_cores} cores", "—", None)]
        rows += [(gpu.name, gpu.description, gpu.compute_capability or "unknown", gpu.name)
                 for gpu in report.gpus]
        self.table.setRowCount(len(rows))
        for row, (device, model, capability, gpu) in enumerate(rows):
            for column, text in enumerate((device, model, capability)):
                self.table.setItem(row, column, QTableWidgetItem(text))
            if gpu is None:
                self.table.setItem(row, 3, QTableWidgetItem("—"))
                continue
            check = QCheckBox("grow as needed")
            check.setAccessibleName(f"Memory growth for {gpu}")
            check.setToolTip("Allocate GPU memory as needed instead of all at once. Applied "
                             "before TensorFlow initialises the GPU.")
            check.setChecked(policy.get(gpu, False))
            check.toggled.connect(lambda on, name=gpu: self._growth_toggled(name, on))
            self.table.setCellWidget(row, 3, check)
        if report.gpus:
            self.summary_label.setText(f"{len(report.gpus)} GPU(s) detected; training uses "
                                       "them.")
        else:
            self.summary_label.setText(
                f"No GPU detected: training runs on the CPU. {report.no_gpu_reason}")
        cuda = (f"CUDA {report.cuda_version}, cuDNN {report.cudnn_version}"
                if report.built_with_cuda else "no CUDA support")
        self.build_label.setText(f"TensorFlow {report.tensorflow_version} · Keras "
                                 f"{report.keras_version} · build: {cuda}")
        self._show_policy_state()

    def set_applied(self, results: list[MemoryGrowthResult]) -> None:
        """Training applied the policy: from now on changes need a restart."""
        self.gpus_initialised = True
        pending = [r.message for r in results if not r.applied]
        self._show_policy_state(pending)

    def _growth_toggled(self, gpu: str, enabled: bool) -> None:
        self._settings.setValue(f"{_SETTINGS_GROUP}/{_settings_key(gpu)}", enabled)
        self._settings.sync()
        self._show_policy_state()

    def _show_policy_state(self, pending: list[str] | None = None) -> None:
        if self._report is None or not self._report.gpus:
            self.policy_label.setText("")
        elif self.gpus_initialised:
            self.policy_label.setText(
                "TensorFlow has initialised the GPUs: memory-growth changes are saved and take "
                "effect at the next launch." + ("\n" + "\n".join(pending) if pending else ""))
        else:
            self.policy_label.setText("Memory growth is applied when training starts.")


def _settings_key(gpu: str) -> str:
    # QSettings treats '/' as a group separator.
    return gpu.replace("/", "|")


def _gpu_name(key: str) -> str:
    return key.replace("|", "/")

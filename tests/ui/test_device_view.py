"""The device panel with fake GPUs (these machines have none): toggles persist and the panel
is honest about changes that need a restart."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from studio.core.devices import DeviceReport, GpuInfo, MemoryGrowthResult
from studio.ui.device_view import DeviceView

GPU0 = "/physical_device:GPU:0"


def report(gpus=()):
    return DeviceReport("2.21.0", "3.15.1", bool(gpus), "12.5", "9", 2, tuple(gpus),
                        None if gpus else "This TensorFlow build has no CUDA support.")


def test_no_gpu_says_so_plainly(qtbot):
    view = DeviceView(QSettings())
    qtbot.addWidget(view)
    view.set_report(report())
    assert view.summary_label.text().startswith("No GPU detected: training runs on the CPU.")
    assert "no CUDA support" in view.summary_label.text()
    assert view.table.rowCount() == 1 and view.table.item(0, 0).text() == "CPU"


def test_memory_growth_toggle_persists_and_reports_next_launch(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    view = DeviceView(settings)
    qtbot.addWidget(view)
    view.set_report(report([GpuInfo(GPU0, "Fake H100", "9.0")]))
    assert view.table.item(1, 1).text() == "Fake H100"
    assert "applied when training starts" in view.policy_label.text()
    view.growth_checkbox(1).setChecked(True)
    assert view.memory_growth_policy() == {GPU0: True}

    # Training applied the policy: TensorFlow has now initialised the GPU.
    view.set_applied([MemoryGrowthResult(GPU0, True, True, "ok")])
    view.growth_checkbox(1).setChecked(False)
    assert "take effect at the next launch" in view.policy_label.text()
    assert view.memory_growth_policy() == {GPU0: False}

    # A new window (the next launch) reads the saved choice back.
    again = DeviceView(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.set_report(report([GpuInfo(GPU0, "Fake H100", "9.0")]))
    assert not again.growth_checkbox(1).isChecked()
    assert "applied when training starts" in again.policy_label.text()

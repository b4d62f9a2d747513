"""The device panel with fake GPUs (these machines have none): the memory policy persists and
the panel is honest about changes that need a restart; the device choice is the project's."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from studio.core.defaults import default_project
from studio.core.devices import DeviceReport, GpuInfo, MemoryPolicy, MemoryPolicyResult
from studio.core.placement import Placement
from studio.ui.device_view import DeviceView
from studio.ui.document import ProjectDocument

GPU0 = "/physical_device:GPU:0"
GPU1 = "/physical_device:GPU:1"
H100 = GpuInfo(GPU0, "Fake H100", "9.0", 81559.0, 80000.0)
A100 = GpuInfo(GPU1, "Fake A100", "8.0", 40960.0, 40000.0)


def report(gpus=()):
    return DeviceReport("2.21.0", "3.15.1", bool(gpus), "12.5", "9", 2, tuple(gpus),
                        None if gpus else "This TensorFlow build has no CUDA support.",
                        cpu_name="Fake EPYC", physical_cores=2, ram_total_mb=24576.0,
                        driver_version="550.54.15" if gpus else None,
                        cuda_driver_version="12.4" if gpus else None)


def make_view(qtbot, settings=None, project=None):
    document = ProjectDocument(project or default_project())
    view = DeviceView(settings or QSettings(), document)
    qtbot.addWidget(view)
    return view, document


def test_no_gpu_says_so_plainly(qtbot):
    view, _ = make_view(qtbot)
    view.set_report(report())
    assert view.summary_label.text().startswith("No GPU detected: training runs on the CPU.")
    assert "no CUDA support" in view.summary_label.text()
    assert view.table.rowCount() == 1 and view.table.item(0, 0).text() == "CPU"
    assert view.table.item(0, 1).text() == "Fake EPYC (2 cores, 2 logical cores)"
    assert view.table.item(0, 3).text() == "24.0 GiB RAM"


def test_gpus_show_memory_and_driver(qtbot):
    view, _ = make_view(qtbot)
    view.set_report(report([H100, A100]))
    assert [view.table.item(r, 0).text() for r in range(3)] == ["CPU", "GPU 0", "GPU 1"]
    assert view.table.item(2, 3).text() == "40,000 MB free of 40,960 MB"
    assert view.table.item(1, 2).text() == "9.0"
    assert "NVIDIA driver 550.54.15 (CUDA 12.4)" in view.build_label.text()


def test_memory_growth_toggle_persists_and_reports_next_launch(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    view, _ = make_view(qtbot, settings)
    view.set_report(report([H100]))
    assert view.table.item(1, 1).text() == "Fake H100"
    assert "applied when training starts" in view.policy_label.text()
    view.growth_checkbox(1).setChecked(True)
    assert view.memory_policy() == MemoryPolicy(growth={GPU0: True})

    # A training in a process of its own applied it there: changes keep counting.
    view.set_applied_by_training([MemoryPolicyResult(GPU0, True, 0, True, "ok")], True)
    view.growth_checkbox(1).setChecked(False)
    assert "applied when training starts" in view.policy_label.text()
    view.growth_checkbox(1).setChecked(True)

    # The window's process applied it (a training on its thread, or the batch search):
    # TensorFlow has now initialised the GPU there.
    view.set_applied_by_training([MemoryPolicyResult(GPU0, True, 0, True, "ok")], False)
    view.growth_checkbox(1).setChecked(False)
    assert "take effect at the next launch" in view.policy_label.text()
    assert view.memory_policy() == MemoryPolicy(growth={GPU0: False})

    # A new window (the next launch) reads the saved choice back.
    again, _ = make_view(qtbot, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    again.set_report(report([H100]))
    assert not again.growth_checkbox(1).isChecked()
    assert "applied when training starts" in again.policy_label.text()


def test_a_memory_limit_replaces_growth_and_persists(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    view, _ = make_view(qtbot, settings)
    view.set_report(report([H100, A100]))
    assert view.limit_box(2).specialValueText() == "no limit"
    assert view.limit_box(2).maximum() == 40960
    view.limit_box(2).setValue(8192)
    assert not view.growth_checkbox(2).isEnabled(), "TensorFlow refuses growth with a limit"
    assert view.growth_checkbox(1).isEnabled()
    assert view.memory_policy().limit_mb == {GPU1: 8192}
    view.set_applied([MemoryPolicyResult(GPU1, False, 8192, False,
                                         "GPU 1: capped ... takes effect at the next launch")])
    assert "takes effect at the next launch" in view.policy_label.text()

    again, _ = make_view(qtbot, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    again.set_report(report([H100, A100]))
    assert again.limit_box(2).value() == 8192
    again.limit_box(2).setValue(0)
    assert again.memory_policy().limit_mb == {} and again.growth_checkbox(2).isEnabled()


def test_device_choice_is_saved_in_the_project_with_undo(qtbot):
    view, document = make_view(qtbot)
    view.set_report(report([H100, A100]))
    view.strategy.setCurrentIndex(view.strategy.findData("gpu"))
    assert document.project.devices == Placement("gpu", (0,))
    assert view.gpu_choice.isEnabled() and not view.gpu_list.isEnabled()
    view.gpu_choice.setCurrentIndex(view.gpu_choice.findData(1))
    assert document.project.devices.gpus == (1,)

    view.strategy.setCurrentIndex(view.strategy.findData("mirrored"))
    assert document.project.devices == Placement("mirrored", ())
    assert "2 replica(s)" in view.placement_note.text()
    view.gpu_list.item(1).setCheckState(Qt.CheckState.Checked)
    assert document.project.devices.gpus == (1,)
    view.mixed_precision.setChecked(True)
    view.xla.setCurrentIndex(view.xla.findData("on"))
    assert document.project.devices == Placement("mirrored", (1,), True, "on")

    document.undo_stack.undo()
    assert document.project.devices == Placement("mirrored", (1,), True, "auto")
    assert view.xla.currentData() == "auto", "the panel follows undo"
    for _ in range(4):
        document.undo_stack.undo()
    assert document.project.devices == Placement("gpu", (0,))
    assert view.strategy.currentData() == "gpu"


def test_a_gpu_choice_on_a_machine_without_gpus_is_kept_and_explained(qtbot):
    view, document = make_view(qtbot)
    view.set_report(report())
    view.strategy.setCurrentIndex(view.strategy.findData("gpu"))
    assert document.project.devices.strategy == "gpu"
    assert "This machine has no GPU: training here runs on the CPU" in \
        view.placement_note.text()

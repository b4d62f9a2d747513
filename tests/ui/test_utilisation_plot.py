"""The utilisation plot draws what it is given, says it in words, and follows a real run."""

from __future__ import annotations

import pytest

from studio.core.events import BatchEnded
from studio.core.utilisation import GpuStatus, UtilisationSample
from studio.ui.utilisation_plot import UtilisationPlot, describe


def _sample(t: float, gpus: tuple[GpuStatus, ...] = ()) -> UtilisationSample:
    return UtilisationSample(seconds=t, cpu_percent=43.0, rss_mb=1_204.0,
                             ram_total_mb=16_000.0, gpus=gpus)


GPUS = (GpuStatus(0, "RTX 4090", 16_384.0, 5_120.0, 87.0),
        GpuStatus(1, "K80", 12_288.0, 3_072.0, None))


@pytest.fixture
def plot(qtbot):
    widget = UtilisationPlot()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_samples_become_curve_points_and_words(plot):
    for t in range(5):
        plot.add(_sample(float(t + 1), GPUS))
    assert plot.dirty and len(plot.curves["cpu"].getData()[0]) == 0, "drawn on a tick"
    plot.redraw()
    assert not plot.dirty
    x, y = plot.curves["cpu"].getData()
    assert list(x) == [1, 2, 3, 4, 5] and list(y) == [43.0] * 5
    assert plot.curves["ram"].getData()[1][-1] == pytest.approx(100 * 1_204 / 16_000)
    assert plot.point_count("gpu0") == 5
    assert plot.curves["gpu0"].getData()[1][-1] == 87.0
    assert plot.curves["gpu0_memory"].getData()[1][-1] == pytest.approx(100 * 5_120 / 16_384)
    assert plot.point_count("gpu1_memory") == 5
    assert plot.point_count("gpu1") == 0, "a GPU that cannot tell its load gets no load curve"
    text = plot.now_label.text()
    assert text == ("CPU 43% · RAM 1,204 MB · GPU 0: 87%, 5,120/16,384 MB · "
                    "GPU 1: load n/a, 3,072/12,288 MB")
    assert plot.now_label.accessibleName() == "Utilisation now"
    labels = [label.text for _sample_item, label in plot.legend.items]
    assert "RAM (the studio, % of 16,000 MB)" in labels
    assert "GPU 0 memory (% of 16,384 MB)" in labels
    (_x0, _x1), (y0, y1) = plot.plot.getPlotItem().getViewBox().viewRange()
    assert y0 < 0 < 100 < y1 < 105, "a fixed 0-100 axis, whatever the data"


def test_without_a_gpu_the_words_say_so(plot):
    plot.add(_sample(1.0))
    assert plot.now_label.text() == "CPU 43% · RAM 1,204 MB · no NVIDIA GPU"
    assert plot.point_count("gpu0") == 0


def test_clear_forgets_every_sample(plot):
    for t in range(3):
        plot.add(_sample(float(t), GPUS))
    plot.redraw()
    plot.clear()
    assert all(plot.point_count(key) == 0 for key in plot.curves)
    assert len(plot.curves["gpu0"].getData()[0]) == 0
    plot.add(_sample(1.0, GPUS))
    assert plot.point_count("cpu") == 1 and plot.point_count("gpu0_memory") == 1


def test_describe_rounds_like_a_task_manager():
    assert describe(UtilisationSample(2.0, 7.6, 987.4, 8_000.0)) == \
        "CPU 8% · RAM 987 MB · no NVIDIA GPU"


def test_a_real_run_is_sampled_and_the_monitor_stops_after_it(window, qtbot):
    """A batch that comes before the first sample pauses the run until one arrives, so the
    run lasts over a second however fast this machine trains."""
    view = window.training
    monitor = view.utilisation_monitor
    assert not monitor.running
    running_at_batches: list[bool] = []

    def on_event(event):
        if isinstance(event, BatchEnded):
            running_at_batches.append(monitor.running)
            if view.utilisation_plot.point_count("cpu") == 0 and \
                    not view.pause_button.isChecked():
                view.pause_button.setChecked(True)  # as if clicked

    window.runner.training_event.connect(on_event)
    with qtbot.waitSignal(window.training_finished, timeout=90000):
        assert window.train()
        qtbot.waitUntil(lambda: view.utilisation_plot is not None
                        and view.utilisation_plot.point_count("cpu") >= 1, timeout=30000)
        if view.pause_button.isChecked():
            view.pause_button.setChecked(False)  # resume
    window.runner.training_event.disconnect(on_event)
    assert running_at_batches and all(running_at_batches)
    assert not monitor.running
    plot = view.utilisation_plot
    assert plot is view._plots.widget(3), "the fourth plot beside the curves"
    count = plot.point_count("cpu")
    assert count >= 1 and plot.point_count("ram") == count
    assert not plot.dirty, "drawn when the run ended"
    x, y = plot.curves["ram"].getData()
    assert 0 < y[-1] < 100 and x[0] > 0
    assert plot.now_label.text().startswith("CPU ") and " MB" in plot.now_label.text()
    with qtbot.assertNotEmitted(monitor.sampled, wait=1200):
        pass  # stopped means no more samples
    assert plot.point_count("cpu") == count

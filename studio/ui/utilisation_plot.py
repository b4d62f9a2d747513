"""The utilisation plot: the process's CPU and RAM and each GPU's load and memory, in percent.

Every series shares one 0-100 axis against seconds since training started, so a starved GPU
(low load while the CPU is busy) shows at a glance. RAM is the process's resident memory as
a share of the machine's, whose size the legend gives; the label below says the latest
values in words, for screen readers and for reading exact numbers.

A sample arrives once a second: ``add`` appends to growable buffers and hands each changed
curve to pyqtgraph once, as bare ``PlotCurveItem``s (a ``PlotDataItem`` costs five times as
much per update) drawn with one-pixel pens (a wider pen paints three times slower): an hour
of samples costs well under a millisecond per update (tests/benchmarks/bench_utilisation.py).
A GPU's curves are made when it first reports; a GPU that cannot tell its load (NVML: not
supported) gets a memory curve only.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.core.utilisation import GpuStatus, UtilisationSample
from studio.ui.curve_buffer import CurveBuffer
from studio.ui.live_plot import MeteredPlotWidget, _OpaqueGridAxis  # shared with them
from studio.ui.steady_label import SteadyLabel

_CPU, _RAM = "cpu", "ram"
_COLOURS = {_CPU: (31, 90, 180), _RAM: (40, 150, 70)}
# Per GPU: (load, memory) colours, cycled for machines with many GPUs.
_GPU_COLOURS = (((220, 110, 20), (150, 70, 170)), ((200, 40, 40), (120, 120, 120)),
                ((170, 130, 0), (0, 140, 140)))


def _gpu_keys(index: int) -> tuple[str, str]:
    return f"gpu{index}", f"gpu{index}_memory"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def describe(sample: UtilisationSample) -> str:
    """The latest values in words, e.g. "CPU 43% · RAM 1,204 MB · GPU 0: 87%, 5,120/16,384
    MB"."""
    parts = [f"CPU {sample.cpu_percent:.0f}%", f"RAM {_mb(sample.rss_mb)}"]
    for gpu in sample.gpus:
        busy = "load n/a" if gpu.utilisation_percent is None else \
            f"{gpu.utilisation_percent:.0f}%"
        parts.append(f"GPU {gpu.index}: {busy}, {gpu.memory_used_mb:,.0f}/"
                     f"{_mb(gpu.memory_total_mb)}")
    if not sample.gpus:
        parts.append("no NVIDIA GPU")
    return " · ".join(parts)


class UtilisationPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Utilisation")
        self.plot = MeteredPlotWidget(
            axisItems={side: _OpaqueGridAxis(side) for side in ("left", "bottom")})
        self.plot.setBackground("w")  # _OpaqueGridAxis relies on it
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setZValue(-200)
        self.plot.setTitle("Utilisation", color="k")
        self.plot.setLabel("bottom", "seconds")
        self.plot.setLabel("left", "%")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getPlotItem().enableAutoRange(x=True, y=False)
        self.plot.setAccessibleName("Utilisation plot")
        self.plot.setAccessibleDescription("CPU, RAM and GPU use in percent while a run "
                                           "trains; the line below gives the latest values.")
        self.legend = self.plot.addLegend(offset=(10, 10))
        self.now_label = QLabel("No training running.")
        self.now_label.setAccessibleName("Utilisation now")
        self.now_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(SteadyLabel(self.now_label))  # a new text every second

        self.buffers: dict[str, CurveBuffer] = {}
        self.curves: dict[str, pg.PlotCurveItem] = {}
        self._ram_total = 0.0
        self._dirty = False
        self._gpu_total: dict[int, float] = {}
        self._curve(_CPU, "CPU (the studio)", _COLOURS[_CPU])
        self._curve(_RAM, "RAM (the studio)", _COLOURS[_RAM])

    def _curve(self, key: str, name: str, colour: tuple[int, int, int]) -> None:
        self.buffers[key] = CurveBuffer(capacity=4096)  # over an hour before it grows
        curve = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1), name=name,
                                 skipFiniteCheck=True)
        self.plot.addItem(curve)  # and to the legend, by its name
        self.curves[key] = curve

    def _rename(self, key: str, name: str) -> None:
        """Relabel a legend entry (only when a total changes: not once per sample)."""
        label = self.legend.getLabel(self.curves[key])
        if label is not None:
            label.setText(name)

    # ----- data -----------------------------------------------------------------------------
    def add(self, sample: UtilisationSample) -> None:
        x = sample.seconds
        self._append(_CPU, x, sample.cpu_percent)
        if sample.ram_total_mb != self._ram_total:
            self._ram_total = sample.ram_total_mb
            self._rename(_RAM, f"RAM (the studio, % of {_mb(sample.ram_total_mb)})")
        self._append(_RAM, x, sample.ram_percent)
        for gpu in sample.gpus:
            self._add_gpu(x, gpu)
        text = describe(sample)
        self.now_label.setText(text)
        self.plot.setAccessibleDescription(f"Latest sample, {sample.seconds:.0f} s into the "
                                           f"training: {text}")

    def _add_gpu(self, x: float, gpu: GpuStatus) -> None:
        load, memory = _gpu_keys(gpu.index)
        load_colour, memory_colour = _GPU_COLOURS[gpu.index % len(_GPU_COLOURS)]
        if memory not in self.curves:
            self._curve(memory, f"GPU {gpu.index} memory", memory_colour)
        if gpu.memory_total_mb != self._gpu_total.get(gpu.index):
            self._gpu_total[gpu.index] = gpu.memory_total_mb
            self._rename(memory, f"GPU {gpu.index} memory (% of {_mb(gpu.memory_total_mb)})")
        self._append(memory, x, gpu.memory_percent)
        if gpu.utilisation_percent is not None:
            if load not in self.curves:
                self._curve(load, f"GPU {gpu.index} load", load_colour)
            self._append(load, x, gpu.utilisation_percent)

    def _append(self, key: str, x: float, y: float) -> None:
        self.buffers[key].append(x, y)
        self._dirty = True

    @property
    def dirty(self) -> bool:
        """Samples came since the last ``redraw``."""
        return self._dirty

    @property
    def painted_seconds(self) -> float:
        """The thread CPU time of the plot's paints so far (``MeteredPlotWidget``)."""
        return self.plot.painted_seconds

    def redraw(self) -> None:
        """Show the samples: the Training tab's paced ticks call it, in turn with the live
        plots, so that its repaint (the dearest of them) is not added once a second."""
        for key, buffer in self.buffers.items():
            self.curves[key].setData(buffer.x, buffer.y, skipFiniteCheck=True)
        self._dirty = False

    def clear(self) -> None:
        """Forget every sample (a new run starts); GPU curves stay until the window closes."""
        for key, buffer in self.buffers.items():
            buffer.clear()
            self.curves[key].setData([], [])
        self._dirty = False
        self.now_label.setText("Waiting for the first sample…")
        self.plot.setAccessibleDescription("Waiting for the first sample.")

    def point_count(self, key: str) -> int:
        """Samples in a series: "cpu", "ram", "gpu0" (load), "gpu0_memory"; 0 if absent."""
        buffer = self.buffers.get(key)
        return 0 if buffer is None else len(buffer)

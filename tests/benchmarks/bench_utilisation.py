"""Watching utilisation costs training nothing: one sample plus one plot update, once a second.

Times ``UtilisationSampler.sample()`` (psutil for this process, NVML for GPUs: without a
driver NVML answers "none" at once, with one it adds a few driver calls) over 200 samples,
and ``UtilisationPlot.add`` (shown offscreen, 600x300) with 3,600 samples, an hour's worth,
already present: noisy values, the CPU and RAM curves and two fake GPUs (load and memory),
so the update touches six curves. The repaint that follows an update is timed too, for
information: it runs on the UI thread, not the training thread. The goal is on the sum of
the medians: under 2 ms once a second is under 0.2 % of the time.
"""

from __future__ import annotations

import os
import statistics
import time

GOAL_MS = 2.0
SAMPLES = 200
HOUR = 3_600


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def run() -> list[tuple[str, str, str, str]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from studio.core.utilisation import GpuStatus, UtilisationSample
    from studio.ml.utilisation import UtilisationSampler
    from studio.ui.utilisation_plot import UtilisationPlot

    app = QApplication.instance() or QApplication([])
    sampler = UtilisationSampler()
    sampler.sample()  # warm-up: NVML's first call initialises it (or finds no driver)
    sample_ms = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        sampler.sample()
        sample_ms.append(_ms(start))
    gpu_note = f"{len(sampler.sample().gpus)} GPUs via NVML"

    import numpy as np

    # Noisy values (each second unlike the last) draw the longest lines: the worst case.
    noise = np.random.default_rng(0).uniform(0.0, 1.0, size=(HOUR + 50, 6)).tolist()

    def fake(t: int) -> UtilisationSample:
        cpu, ram, *gpu = noise[t]
        gpus = tuple(GpuStatus(i, f"GPU {i}", 16_384.0, 4_000.0 + 2_000.0 * gpu[2 * i],
                               100.0 * gpu[2 * i + 1]) for i in range(2))
        return UtilisationSample(float(t), 100.0 * cpu, 1_200.0 + 300.0 * ram, 16_000.0, gpus)

    plot = UtilisationPlot()
    plot.resize(600, 300)
    plot.show()
    for t in range(HOUR):
        plot.add(fake(t))
    app.processEvents()
    add_ms, paint_ms = [], []
    for t in range(HOUR, HOUR + 50):
        start = time.perf_counter()
        plot.add(fake(t))
        plot.redraw()
        add_ms.append(_ms(start))
        start = time.perf_counter()
        plot.plot.viewport().update()
        app.processEvents()
        paint_ms.append(_ms(start))
    assert plot.point_count("cpu") == HOUR + 50 and plot.point_count("gpu1_memory") == HOUR + 50
    plot.close()

    sample_median, add_median = statistics.median(sample_ms), statistics.median(add_ms)
    total = sample_median + add_median
    return [
        ("utilisation: one sample (psutil + NVML)", f"{sample_median:.3f} ms (median of "
         f"{SAMPLES}, max {max(sample_ms):.3f}; {gpu_note})", "—", "—"),
        ("utilisation: plot update, 3,600 samples, 2 GPUs", f"{add_median:.3f} ms (median of "
         f"{len(add_ms)}, max {max(add_ms):.3f})", "—", "—"),
        ("utilisation: sample + plot update, once a second", f"{total:.3f} ms "
         f"({total / 10:.3f} % of each second)", f"< {GOAL_MS:.0f} ms",
         "met" if total < GOAL_MS else "MISSED"),
        ("utilisation: repaint after an update (UI thread)", f"{statistics.median(paint_ms):.1f}"
         f" ms (median, max {max(paint_ms):.1f})", "—", "—"),
    ]


if __name__ == "__main__":  # this benchmark alone: python -m tests.benchmarks.bench_utilisation
    for row in run():
        print(" | ".join(row))

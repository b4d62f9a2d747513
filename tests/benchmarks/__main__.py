"""``python -m tests.benchmarks``: run every benchmark and print one table."""

from __future__ import annotations

import os
import platform

from tests.benchmarks import (
    bench_pipeline,
    bench_plot,
    bench_scale_out,
    bench_startup,
    bench_summary,
    bench_training,
    bench_utilisation,
)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from studio.ui.application import prepare_qt_environment

    prepare_qt_environment()  # as the app does, before any benchmark makes the QApplication
    rows = [*bench_startup.run(), *bench_summary.run(), *bench_pipeline.run(), *bench_plot.run(),
            *bench_utilisation.run(), *bench_training.run(), *bench_scale_out.run()]
    header = ("benchmark", "result", "goal", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()

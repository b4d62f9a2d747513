"""Save a plot as PNG, SVG or CSV, each written atomically (a crash never leaves half a file).

PNG and SVG go through pyqtgraph's exporters, so they show what the plot shows (the same
downsampled curves, markers and legend); CSV holds every point of the data instead.

CSV layout ("long" table, one row per point): header ``series,x,y``, then the rows of each
series in turn (``batch``, ``smoothed``, ``train``, ``val``, as the plot names them). x is the
epoch (fractional for per-batch points). Floats are written with ``repr``, so reading them
back with ``float`` gives exactly the plotted values; a non-finite value is ``nan``/``inf``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter

from studio.core.atomic import atomic_path, atomic_write_text


def export_png(item: pg.PlotItem, path: str | os.PathLike[str], width: int | None = None) -> None:
    """Render ``item`` to a PNG file; ``width`` in pixels (height keeps the aspect ratio)."""
    exporter = ImageExporter(item)
    if width is not None:
        exporter.parameters()["width"] = int(width)
    image = exporter.export(toBytes=True)
    with atomic_path(path) as tmp:
        # The format is named: the temporary file's suffix may not be ".png".
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"could not write the PNG image {os.fspath(path)!r}")


def export_svg(item: pg.PlotItem, path: str | os.PathLike[str]) -> None:
    """Write ``item`` as an SVG document."""
    with _closed_paths_tolerated():
        data = SVGExporter(item).export(toBytes=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def _closed_paths_tolerated() -> Iterator[None]:
    """Let pyqtgraph's SVG exporter read paths that Qt closes with a bare "Z".

    Its ``correctCoordinates`` reads each path's ``d`` as "x,y" tokens, but the Qt in use
    ends closed sub-paths with a "Z" token (the view box outline alone has one), so every
    export failed. While exporting, the "Z" tokens are taken out before it rewrites the
    coordinates and put back at the same places after (it keeps one token per token).
    """
    module: Any = sys.modules[SVGExporter.__module__]
    original = module.correctCoordinates

    def correct(node: Any, defs: Any, item: Any, options: Any) -> Any:
        closed = []
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            ends = [i for i, token in enumerate(tokens) if token in ("Z", "z")]
            if ends:
                path.setAttribute("d", " ".join(t for t in tokens if t not in ("Z", "z")))
                closed.append((path, ends))
        result = original(node, defs, item, options)
        for path, ends in closed:
            tokens = path.getAttribute("d").split()
            for index in ends:
                tokens.insert(index, "Z")
            path.setAttribute("d", " ".join(tokens))
        return result

    module.correctCoordinates = correct
    try:
        yield
    finally:
        module.correctCoordinates = original


def export_csv(series: Iterable[tuple[str, np.ndarray, np.ndarray]],
               path: str | os.PathLike[str]) -> None:
    """Write (name, x, y) series as a long ``series,x,y`` table (see the module docstring)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("series", "x", "y"))
    for name, x, y in series:
        writer.writerows(zip([name] * len(x), x.tolist(), y.tolist(), strict=True))
    atomic_write_text(path, text.getvalue())

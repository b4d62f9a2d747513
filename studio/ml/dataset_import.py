"""Turn a user's NumPy file or image folder into a project data source.

The file is read once here (on the ML thread) to record its sample shape and classes, so the
builder can check the model against it without reading it again on every edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core.dataset_catalog import DatasetInfo
from studio.core.dataset_spec import DataSource, ImageFolderSource, NumpySource
from studio.core.errors import DatasetError


def describe(kind: str, options: dict[str, Any]) -> DataSource:
    if kind == "numpy":
        return numpy_source(Path(options["path"]),
                            Path(options["y_path"]) if options.get("y_path") else None)
    if kind == "images":
        return image_folder_source(Path(options["path"]),
                                   tuple(options.get("image_size", (64, 64))),
                                   options.get("color_mode", "rgb"))
    raise DatasetError(f"Unknown kind of data {kind!r}.")


def numpy_source(path: Path, y_path: Path | None = None) -> NumpySource:
    from studio.ml.file_datasets import load_numpy

    data = load_numpy(path, y_path)
    outputs = int(data.y.shape[1]) if data.y.ndim == 2 else 1
    classes = len(data.class_names)
    info = DatasetInfo(path.stem, path.name, data.task, tuple(int(d) for d in data.x.shape[1:]),
                       classes, len(data.x), data.source, data.class_names,
                       classes if data.task == "classification" else outputs)
    return NumpySource(path, info, y_path)


def image_folder_source(path: Path, image_size: tuple[int, int] = (64, 64),
                        color_mode: str = "rgb") -> ImageFolderSource:
    from studio.ml.file_datasets import scan_image_folder

    found = scan_image_folder(path)
    channels = 3 if color_mode == "rgb" else 1
    counts = ", ".join(f"{name} {count}" for name, count in
                       zip(found.class_names, found.counts, strict=True))
    info = DatasetInfo(path.name, f"{path.name}/", "classification",
                       (*image_size, channels), len(found.class_names), found.total,
                       f"{found.total:,} images in {len(found.class_names)} classes ({counts})",
                       found.class_names)
    return ImageFolderSource(path, info, image_size, color_mode)  # type: ignore[arg-type]

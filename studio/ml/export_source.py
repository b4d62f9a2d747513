"""What an export starts from: the trained model, and what proves and completes its exports.

Besides the model, exports need real samples (to compare the exported file's predictions
with the model's), training samples (to calibrate 8-bit quantisation), the project (for the
Keras script) and the history (for the CSV). A run folder has all of them; a bare ``.keras``
file has only the model, so its exports are verified on random inputs of the right shape.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from studio.core.errors import ExportError, StudioError
from studio.core.project import Project
from studio.core.run_record import MODEL_FILE, read_history, read_run
from studio.ml.datasets import LoadedData, load_dataset
from studio.ml.model_io import load_keras

#: Enough to see a difference, few enough to verify in a fraction of a second.
VERIFY_SAMPLES = 256
#: TFLite's guide suggests a few hundred representative samples for calibration.
CALIBRATION_SAMPLES = 300


@dataclass(frozen=True, eq=False)  # arrays: compared by identity
class ExportSource:
    model: keras.Model
    #: A stem for default file names.
    name: str = "model"
    project: Project | None = None
    history: tuple[Mapping[str, float], ...] = ()
    #: Inputs the exported file is checked on, and their labels (classification) if known.
    samples: np.ndarray | None = None
    labels: np.ndarray | None = None
    #: Training inputs for full-integer quantisation.
    representative: np.ndarray | None = None
    #: Why no real samples could be had, when they could not.
    data_problem: str = ""

    @property
    def classification(self) -> bool:
        if self.project is not None:
            return self.project.dataset.info.task == "classification"
        return int(self.model.outputs[0].shape[-1] or 1) > 1

    def verification_samples(self) -> np.ndarray:
        """Real samples when there are some, else seeded random inputs of the model's shape."""
        if self.samples is not None and len(self.samples):
            return np.asarray(self.samples[:VERIFY_SAMPLES], dtype="float32")
        shape = tuple(int(d or 1) for d in self.model.inputs[0].shape[1:])
        return np.random.default_rng(0).standard_normal((32, *shape)).astype("float32")

    def verification_labels(self) -> np.ndarray | None:
        if self.labels is None or self.samples is None or not self.classification:
            return None
        return np.asarray(self.labels[:VERIFY_SAMPLES])


def source_from_training(model: keras.Model, project: Project, data: LoadedData,
                         history: Sequence[Mapping[str, float]] = ()) -> ExportSource:
    """For the window, which holds the trained model and its data in memory already."""
    samples, labels = _held_out(data)
    return ExportSource(model, _stem(project.name), project, tuple(history), samples, labels,
                        data.x_train[:CALIBRATION_SAMPLES])


def open_export_source(path: str | os.PathLike[str]) -> ExportSource:
    """A run folder (its model.keras, project, data and history) or a ``.keras`` file."""
    path = Path(path)
    if path.is_dir():
        return _from_run(path)
    if not path.exists():
        raise ExportError(f"{path}: no such run folder or model file.")
    if path.suffix != ".keras":
        raise ExportError(f"{path}: expected a run folder or a .keras model file.")
    return ExportSource(load_keras(path), _stem(path.stem),
                        data_problem="a .keras file carries no data")


def _from_run(folder: Path) -> ExportSource:
    model_file = folder / MODEL_FILE
    if not model_file.is_file():
        raise ExportError(f"{folder}: no trained model in this folder ({MODEL_FILE} is "
                          "missing); train it to the end first, or pass a .keras file.")
    model = load_keras(model_file)
    history = tuple(read_history(folder))
    record = read_run(folder)
    if record is None:
        return ExportSource(model, _stem(folder.name), history=history,
                            data_problem=f"{folder} has no readable run.json")
    try:
        project = Project.from_dict(dict(record.project))
    except StudioError as error:
        return ExportSource(model, _stem(record.name), history=history,
                            data_problem=f"the run's project is unreadable ({error})")
    try:
        data = load_dataset(project.dataset)
    except StudioError as error:
        return ExportSource(model, _stem(project.name), project, history,
                            data_problem=f"its data could not be loaded ({error})")
    return source_from_training(model, project, data, history)


def _held_out(data: LoadedData) -> tuple[np.ndarray, np.ndarray]:
    for x, y in ((data.x_val, data.y_val), (data.x_test, data.y_test),
                 (data.x_train, data.y_train)):
        if len(x):
            return x[:VERIFY_SAMPLES], y[:VERIFY_SAMPLES]
    return data.x_train, data.y_train


def _stem(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return cleaned or "model"

"""The formats a trained model can be exported to, and whether this installation can write them.

One registry serves the command line and the export dialog alike. Availability is decided by
looking the converters up (``importlib.util.find_spec``) without importing them, so asking
costs nothing and a missing optional package is reported with the command that installs it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from studio.core.errors import ExportError

#: How a TFLite file may be quantised: smaller and faster, at some cost in accuracy.
QUANTIZATIONS = ("none", "dynamic", "float16", "int8")
DEFAULT_OPSET = 17
#: Older opsets lack operators Keras layers need; tf2onnx itself decides the newest it knows.
MIN_OPSET = 9
ONNX_INSTALL = "pip install 'training-studio[onnx]'"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    #: The ending a path must have (".keras"); empty for a folder.
    suffix: str
    description: str
    folder: bool = False
    #: The project (layers, data, settings) is exported, not the trained model.
    needs_project: bool = False
    #: The training history is exported, not the model.
    needs_history: bool = False
    #: Modules that must be importable (optional extras).
    requires: tuple[str, ...] = ()
    install: str = ""

    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in self.requires if not _importable(name))

    def unavailable_reason(self) -> str | None:
        """None when this installation can write the format, else what to install."""
        missing = self.missing()
        if not missing:
            return None
        verb = "is" if len(missing) == 1 else "are"
        return (f"{self.title} export needs {' and '.join(missing)}, which {verb} not "
                f"installed: {self.install}")

    @property
    def available(self) -> bool:
        return self.unavailable_reason() is None

    def default_name(self, stem: str) -> str:
        """A file (or folder) name for a model called ``stem``."""
        return f"{stem}_saved_model" if self.folder else f"{stem}{self.suffix}"

    def check_path_name(self, path: str) -> None:
        if self.suffix and not path.endswith(self.suffix):
            raise ExportError(f"{path}: a {self.title} file must end in {self.suffix}.")


FORMATS = (
    ExportFormat("keras", "Keras", ".keras",
                 "The native Keras file: architecture, weights and optimizer state. Loads in "
                 "any Keras 3 program with keras.saving.load_model."),
    ExportFormat("savedmodel", "TensorFlow SavedModel", "",
                 "A folder for TensorFlow Serving, TF.js and TensorFlow programs; called "
                 "through its 'serving_default' signature (input 'inputs', output 'outputs').",
                 folder=True),
    ExportFormat("tflite", "TensorFlow Lite", ".tflite",
                 "A flat buffer for phones and microcontrollers (LiteRT), optionally quantised "
                 "to 8-bit or 16-bit numbers."),
    ExportFormat("onnx", "ONNX", ".onnx",
                 "The Open Neural Network Exchange format, for ONNX Runtime, PyTorch tooling, "
                 "C#, C++ and the browser.",
                 requires=("tf2onnx", "onnxruntime"), install=ONNX_INSTALL),
    ExportFormat("weights", "Keras weights", ".weights.h5",
                 "The weights alone (HDF5), to load into the same architecture built in code."),
    ExportFormat("python", "Keras script", ".py",
                 "A runnable Python script that builds, compiles and trains this model with "
                 "Keras (with its data in a .npz beside it when the data is not a library's).",
                 needs_project=True),
    ExportFormat("history", "Training history", ".csv",
                 "The metrics of every epoch as CSV: one row per epoch, one column per metric.",
                 needs_history=True),
)
FORMAT_NAMES = tuple(f.name for f in FORMATS)


def export_format(name: str) -> ExportFormat:
    for candidate in FORMATS:
        if candidate.name == name:
            return candidate
    raise ExportError(f"Unknown export format {name!r}; choose one of "
                      f"{', '.join(FORMAT_NAMES)}.")


@dataclass(frozen=True)
class ExportOptions:
    """Settings that only some formats read; ``check`` refuses those a format would ignore."""

    quantize: str = "none"
    opset: int = DEFAULT_OPSET

    def check(self, fmt: ExportFormat) -> None:
        if self.quantize not in QUANTIZATIONS:
            raise ExportError(f"Unknown quantisation {self.quantize!r}; choose one of "
                              f"{', '.join(QUANTIZATIONS)}.")
        if self.quantize != "none" and fmt.name != "tflite":
            raise ExportError(f"Quantisation ({self.quantize}) applies to the tflite format "
                              f"only, not to {fmt.name}.")
        if self.opset < MIN_OPSET:
            raise ExportError(f"ONNX opset {self.opset} is too old; use {MIN_OPSET} or newer "
                              f"(default {DEFAULT_OPSET}).")

    @property
    def exact(self) -> bool:
        """Whether the export must predict what the model predicts (no quantisation)."""
        return self.quantize == "none"


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing, or a broken sys.modules
        return False

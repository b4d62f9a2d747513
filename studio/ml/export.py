"""Export a trained model in every format that matters, each proven by loading it back.

Each export is written into a hidden folder beside its destination, read back in its own
runtime (``export_verify``) and only then moved into place: a conversion that fails, or a
file that does not load, leaves nothing behind and never touches what was there before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from studio.core.errors import ExportError, StudioError
from studio.core.export_formats import ExportFormat, ExportOptions, export_format
from studio.core.export_result import ExportResult
from studio.core.history import write_history_csv
from studio.core.keras_code import data_file_for, keras_script, needs_data_file
from studio.core.staging import staged
from studio.ml.datasets import write_data_file
from studio.ml.export_onnx import write_onnx
from studio.ml.export_savedmodel import write_savedmodel
from studio.ml.export_source import ExportSource
from studio.ml.export_tflite import write_tflite
from studio.ml.export_verify import verify_export
from studio.ml.model_io import save_keras

Writer = Callable[[ExportSource, Path, ExportOptions], None]


def export_model(source: ExportSource, format_name: str, path: str | os.PathLike[str], *,
                 options: ExportOptions | None = None, overwrite: bool = False
                 ) -> ExportResult:
    """Write ``source`` as ``format_name`` to ``path`` and verify it; raises ExportError
    (or another StudioError) with what went wrong and what to do."""
    fmt = export_format(format_name)
    options = options or ExportOptions()
    reason = fmt.unavailable_reason()
    if reason:
        raise ExportError(reason)
    options.check(fmt)
    path = Path(path)
    fmt.check_path_name(str(path))
    _check_source(fmt, source, options)
    targets = export_targets(fmt, path, source)
    if overwrite:
        _refuse_replacing_the_wrong_thing(fmt, targets)
    with staged(targets, overwrite=overwrite) as staging:
        try:
            _WRITERS[fmt.name](source, staging[0], options)
            verification = verify_export(fmt.name, staging[0], source, options)
        except StudioError as error:
            raise type(error)(_shown(str(error), staging, targets)) from None
        except OSError as error:
            raise ExportError(f"{path}: could not write the {fmt.title} export "
                              f"({error.strerror or error}).") from None
        except Exception as error:
            raise ExportError(f"{path}: the {fmt.title} conversion failed "
                              f"({_shown(_first_line(error), staging, targets)}); "
                              f"{_advice(fmt, options)}") from None
    return ExportResult(fmt.name, path, tuple(targets), verification,
                        sum(_size(target) for target in targets))


def export_targets(fmt: ExportFormat, path: Path, source: ExportSource) -> list[Path]:
    """Every path an export writes: ``path``, and a Keras script's data file beside it."""
    if fmt.needs_project and source.project is not None and needs_data_file(source.project):
        return [path, data_file_for(path)]
    return [path]


def _check_source(fmt: ExportFormat, source: ExportSource, options: ExportOptions) -> None:
    if fmt.needs_project and source.project is None:
        raise ExportError("The Keras script is made from the project, and this model came "
                          "without one: export it from its run folder, or from the window.")
    if fmt.needs_history and not source.history:
        raise ExportError("There is no training history to export: no epoch was recorded "
                          "for this model (export it from its run folder).")
    if options.quantize == "int8" and (source.representative is None
                                       or not len(source.representative)):
        why = f" ({source.data_problem})" if source.data_problem else ""
        raise ExportError("8-bit integer quantisation calibrates on samples of the training "
                          f"data, and there are none{why}: export from a run folder or the "
                          "window, or choose dynamic or float16 quantisation.")


def _refuse_replacing_the_wrong_thing(fmt: ExportFormat, targets: list[Path]) -> None:
    """Overwriting replaces an earlier export, never an unrelated folder."""
    for target in targets:
        if fmt.folder and target.is_dir():
            if any(target.iterdir()) and not (target / "saved_model.pb").is_file():
                raise ExportError(f"{target} is a folder that holds something other than a "
                                  "SavedModel; choose a new folder name.")
        elif fmt.folder and target.exists():
            raise ExportError(f"{target} is a file; a SavedModel is a folder: choose a new "
                              "name.")
        elif not fmt.folder and target.is_dir():
            raise ExportError(f"{target} is a folder; choose a file name ending in "
                              f"{fmt.suffix}.")


def _write_keras(source: ExportSource, path: Path, options: ExportOptions) -> None:
    save_keras(source.model, path)


def _write_savedmodel(source: ExportSource, path: Path, options: ExportOptions) -> None:
    write_savedmodel(source.model, path)


def _write_tflite(source: ExportSource, path: Path, options: ExportOptions) -> None:
    write_tflite(source.model, path, options.quantize, source.representative)


def _write_onnx(source: ExportSource, path: Path, options: ExportOptions) -> None:
    write_onnx(source.model, path, options.opset)


def _write_weights(source: ExportSource, path: Path, options: ExportOptions) -> None:
    source.model.save_weights(path)


def _write_script(source: ExportSource, path: Path, options: ExportOptions) -> None:
    assert source.project is not None  # _check_source refused a source without one
    path.write_text(keras_script(source.project), encoding="utf-8", newline="\n")
    if needs_data_file(source.project):
        write_data_file(source.project.dataset, data_file_for(path))


def _write_history(source: ExportSource, path: Path, options: ExportOptions) -> None:
    write_history_csv(path, source.history)


_WRITERS: dict[str, Writer] = {
    "keras": _write_keras,
    "savedmodel": _write_savedmodel,
    "tflite": _write_tflite,
    "onnx": _write_onnx,
    "weights": _write_weights,
    "python": _write_script,
    "history": _write_history,
}


def _advice(fmt: ExportFormat, options: ExportOptions) -> str:
    if fmt.name == "tflite" and options.quantize == "int8":
        return "some layers have no 8-bit version: try dynamic or float16 quantisation."
    if fmt.name == "tflite":
        return "try the SavedModel format, which supports every TensorFlow operation."
    if fmt.name == "onnx":
        return f"try another opset than {options.opset}, or the SavedModel format."
    return "try another format."


def _shown(message: str, staging: list[Path], targets: list[Path]) -> str:
    """Messages name the destination, not the hidden folder the export was staged in."""
    for tmp, target in zip(staging, targets, strict=True):
        message = message.replace(str(tmp), str(target))
    return message


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

"""Headless commands: the same engine as the window, printing to the terminal.

User errors (a missing or invalid project, an invalid layer stack) end with exit status 2 and
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from studio.core.errors import StudioError
from studio.core.events import EpochEnded, TrainingEvent, TrainingStarted
from studio.core.history import metric_columns, write_history_csv
from studio.core.project import load_project

EXIT_USAGE = 2


def _train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio train",
        description="Train a project without a window; writes DIR/model.keras and "
        "DIR/history.csv.",
    )
    parser.add_argument("project", help="project file (.json)")
    parser.add_argument("--epochs", type=int, help="override the project's number of epochs")
    parser.add_argument("--output", default="runs/latest", help="output folder "
                        "(default: runs/latest)")
    return parser


def run(command: str, argv: Sequence[str]) -> int:
    assert command == "train"
    try:
        options = _train_parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return _train(options)
    except StudioError as error:
        print(f"studio train: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("studio train: interrupted", file=sys.stderr)
        return 130


def _train(options: argparse.Namespace) -> int:
    project = load_project(options.project)
    if options.epochs is not None:
        if options.epochs < 1:
            raise StudioError(f"--epochs must be at least 1; got {options.epochs}.")
        project = replace(project, training=replace(project.training, epochs=options.epochs))
    output = Path(options.output)
    if output.exists() and not output.is_dir():
        raise StudioError(f"{output}: --output must be a folder, and this is a file.")

    from studio.ml.model_io import save_keras
    from studio.ml.session import train_project

    printer = _EpochPrinter()
    rows: list[dict[str, float]] = []

    def sink(event: TrainingEvent) -> None:
        printer(event)
        if isinstance(event, EpochEnded):
            rows.append(dict(event.logs))
            # Written every epoch so an interrupted run still leaves its curve behind.
            write_history_csv(output / "history.csv", rows)

    result = train_project(project, sink)
    model_path = save_keras(result.model, output / "model.keras")
    print(f"saved {model_path} and {output / 'history.csv'}")
    if result.diverged:
        print("studio train: error: the loss became NaN or infinite; lower the learning rate.",
              file=sys.stderr)
        return 1
    return 0


class _EpochPrinter:
    """One line per epoch, flushed at once so pipes and logs see progress live."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def __call__(self, event: TrainingEvent) -> None:
        if isinstance(event, TrainingStarted):
            print(f"training on {event.train_samples} samples, validating on "
                  f"{event.validation_samples}, {event.epochs} epochs of "
                  f"{event.steps_per_epoch} batches", flush=True)
        elif isinstance(event, EpochEnded):
            width = len(str(event.epochs))
            logs = event.logs
            metrics = "  ".join(f"{k} {logs[k]:.4f}" for k in metric_columns([logs]))
            print(f"epoch {event.epoch + 1:>{width}}/{event.epochs}  {metrics}  "
                  f"({event.seconds:.1f} s)", flush=True)

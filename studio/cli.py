"""Headless commands: the same engine as the window, printing to the terminal.

User errors (a missing or invalid project, an invalid layer stack) end with exit status 2 and
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from studio.core.cluster import Cluster, check_port_free, cluster_from_options
from studio.core.devices import MemoryPolicy
from studio.core.errors import ProjectError, StudioError, WorkerLost
from studio.core.events import EpochEnded, TrainingEvent, TrainingStarted
from studio.core.export_formats import (
    DEFAULT_OPSET,
    FORMAT_NAMES,
    FORMATS,
    QUANTIZATIONS,
    ExportOptions,
    export_format,
)
from studio.core.history import metric_columns
from studio.core.placement import STRATEGIES, XLA_MODES, Placement
from studio.core.project import load_project
from studio.core.run_record import HISTORY_FILE, MODEL_FILE, history_to_resume, read_history
from studio.core.staging import refuse_existing
from studio.core.summary import format_shape

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
    where = parser.add_argument_group(
        "devices", "Override where the project trains (its 'devices' section); see "
        "'studio devices' for what this machine has.")
    where.add_argument("--strategy", choices=(*STRATEGIES, "multiworker"),
                       help="auto: the first GPU if any, else the CPU; cpu; gpu: one GPU "
                       "(--gpus N); mirrored: MirroredStrategy over --gpus (default: all); "
                       "multiworker: one worker of a cluster (TF_CONFIG or --cluster)")
    where.add_argument("--gpus", help="GPU numbers, e.g. 0 or 0,1")
    where.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction,
                       help="float16 on GPUs, bfloat16 on the CPU; the output stays float32")
    where.add_argument("--xla", choices=XLA_MODES, help="XLA compilation (auto: as Keras)")
    where.add_argument("--cpu-devices", type=int, metavar="N",
                       help="split the CPU into N logical devices (to try --strategy "
                       "mirrored without GPUs)")
    where.add_argument("--memory-growth", action="store_true",
                       help="let every GPU's memory grow as needed instead of taking it all")
    where.add_argument("--memory-limit", type=int, metavar="MB",
                       help="cap the memory TensorFlow uses on every GPU")
    cluster = parser.add_argument_group(
        "cluster", "With --strategy multiworker, run the same command on every machine; only "
        "the chief (worker 0) writes --output.")
    cluster.add_argument("--cluster", metavar="HOST:PORT,...",
                         help="every worker's address, in the same order on every machine "
                         "(default: the TF_CONFIG environment variable)")
    cluster.add_argument("--task-index", type=int, metavar="N",
                         help="this worker's place in --cluster, from 0")
    cluster.add_argument("--worker-timeout", type=float, default=60.0, metavar="S",
                         help="seconds to wait for the other workers to join, and for a "
                         "worker that stops answering, before giving up (default 60)")
    return parser


def _devices_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio devices",
        description="List the CPU and GPUs TensorFlow detects, with memory, driver and build "
        "versions; initialises no GPU.",
    )
    parser.add_argument("--json", action="store_true", help="print the inventory as JSON")
    return parser


def _summary_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio summary",
        description="Print each layer's output shape and parameter count (from Keras), or "
        "explain why the layer stack is invalid (exit status 2).",
    )
    parser.add_argument("project", help="project file (.json)")
    return parser


def _export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio export",
        description="Export a trained model, then load the file back in its own runtime and "
        "compare its predictions with the model's.",
        epilog="Formats: " + "; ".join(f"{f.name}: {f.title}" for f in FORMATS) + ". The "
        "history PNG is saved from the window.",
    )
    parser.add_argument("source", metavar="RUN_OR_MODEL",
                        help="a run folder (from 'studio train --output') or a .keras file")
    parser.add_argument("--format", required=True, choices=(*FORMAT_NAMES, "curves"),
                        help="curves: the run's loss and metric per epoch as a PNG image")
    parser.add_argument("--output", required=True, metavar="PATH",
                        help="file to write (a folder for savedmodel)")
    parser.add_argument("--opset", type=int, help=f"ONNX opset (default {DEFAULT_OPSET})")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                        help="TFLite only: dynamic (8-bit weights), float16, or int8 (all "
                        "8-bit, calibrated on the run's training data)")
    parser.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    return parser


def run(command: str, argv: Sequence[str]) -> int:
    parser, action = {"train": (_train_parser, _train),
                      "summary": (_summary_parser, _summary),
                      "devices": (_devices_parser, _devices),
                      "export": (_export_parser, _export)}[command]
    try:
        options = parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return action(options)
    except StudioError as error:
        print(f"studio {command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"studio {command}: interrupted", file=sys.stderr)
        return 130


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while TensorFlow starts: its absl logging writes
    there directly, so one-line error messages would drown in CUDA probing noise. Only the
    command line does this (a window's other threads must keep their stderr);
    STUDIO_TF_VERBOSE=1 turns it off."""
    if os.environ.get("STUDIO_TF_VERBOSE"):
        yield
        return
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr (closed, or not a file)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _start_tensorflow() -> None:
    with _native_stderr_silenced():
        from studio.ml.runtime import start_tensorflow

        start_tensorflow()


def _summary(options: argparse.Namespace) -> int:
    project = load_project(options.project)
    _start_tensorflow()
    from studio.ml.summary import summarize

    info = project.dataset.info
    summary = summarize(project.model, info)
    print(f"{project.name}: {info.title}, input {format_shape(info.input_shape)}, "
          f"{info.target_text}")
    table = [("#", "name", "type", "output shape", "params")]
    for row in summary.rows:
        table.append((str(row.index + 1), row.name, row.type, format_shape(row.output_shape),
                      "—" if row.params is None else f"{row.params:,}"))
    widths = [max(len(line[i]) for line in table) for i in range(5)]
    for line in table:
        cells = [cell.ljust(w) if i < 4 else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(line, widths, strict=True))]
        print("  ".join(cells).rstrip())
    print(f"Total params: {summary.total_params:,} (trainable {summary.trainable_params:,}, "
          f"non-trainable {summary.non_trainable_params:,})")
    for problem in summary.problems:
        print(f"studio summary: error: {problem.message}", file=sys.stderr)
    return EXIT_USAGE if summary.problems else 0


def _devices(options: argparse.Namespace) -> int:
    _start_tensorflow()
    from studio.ml.devices import inventory

    report = inventory()
    if options.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 0


def _export(options: argparse.Namespace) -> int:
    if options.format == "curves":
        return _export_curves(options)
    fmt = export_format(options.format)
    reason = fmt.unavailable_reason()
    if reason:
        raise StudioError(reason)
    if options.opset is not None and fmt.name != "onnx":
        raise StudioError(f"--opset applies to the onnx format only, not to {fmt.name}.")
    settings = ExportOptions(options.quantize, options.opset or DEFAULT_OPSET)
    settings.check(fmt)
    output = Path(options.output)
    fmt.check_path_name(str(output))
    refuse_existing([output], options.overwrite)  # answered before TensorFlow loads
    if not Path(options.source).exists():
        raise StudioError(f"{options.source}: no such run folder or model file.")

    _start_tensorflow()
    from studio.ml.export import export_model
    from studio.ml.export_source import open_export_source

    source = open_export_source(options.source)
    if source.data_problem:
        print(f"note: {source.data_problem}; verifying on random inputs", file=sys.stderr)
    with _native_stderr_silenced():  # converters log to file descriptor 2 directly
        result = export_model(source, fmt.name, output, options=settings,
                              overwrite=options.overwrite)
    print(f"wrote {' and '.join(str(p) for p in result.files)} ({result.size:,} bytes)")
    print(result.verification.line())
    if not result.verification.passed:
        print(f"studio export: error: the export's outputs differ from the model's by more "
              f"than rounding (tolerance {result.verification.tolerance:.1g}); please report "
              "this model.", file=sys.stderr)
        return 1
    return 0


def _export_curves(options: argparse.Namespace) -> int:
    """The run's curves as the Training tab draws them, rendered offscreen (no TensorFlow)."""
    output = Path(options.output)
    if output.suffix.lower() != ".png":
        raise StudioError(f"{output}: the curves are a PNG image; end the path in .png.")
    refuse_existing([output], options.overwrite)
    source = Path(options.source)
    if not (source / HISTORY_FILE).is_file():
        raise StudioError(f"{source}: not a run folder with a {HISTORY_FILE} (the curves come "
                          "from a run's history).")
    rows = read_history(source)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from studio.ui.history_image import save_curves_png

    if QApplication.instance() is None:
        QApplication([])
    save_curves_png(rows, output)
    print(f"wrote {output} ({output.stat().st_size:,} bytes): {len(rows)} epochs")
    return 0


def _placement(options: argparse.Namespace, placement: Placement) -> Placement:
    """The project's device choice with the command line's overrides."""
    changes: dict[str, object] = {}
    if options.strategy not in (None, "multiworker"):
        changes["strategy"] = options.strategy
    if options.gpus is not None:
        try:
            changes["gpus"] = tuple(int(part) for part in options.gpus.split(",") if part)
        except ValueError:
            raise StudioError(f"--gpus must list GPU numbers such as 0,1; got "
                              f"{options.gpus!r}.") from None
    if options.mixed_precision is not None:
        changes["mixed_precision"] = options.mixed_precision
    if options.xla is not None:
        changes["xla"] = options.xla
    try:
        return replace(placement, **changes)  # type: ignore[arg-type]
    except ProjectError as error:
        raise StudioError(str(error).replace("devices.", "--")) from None


def _train(options: argparse.Namespace) -> int:
    project = load_project(options.project)
    if options.epochs is not None:
        if options.epochs < 1:
            raise StudioError(f"--epochs must be at least 1; got {options.epochs}.")
        project = replace(project, training=replace(project.training, epochs=options.epochs))
    project = replace(project, devices=_placement(options, project.devices))
    if options.cpu_devices is not None and not 1 <= options.cpu_devices <= 64:
        raise StudioError(f"--cpu-devices must be from 1 to 64; got {options.cpu_devices}.")
    if options.memory_limit is not None and options.memory_limit < 1:
        raise StudioError(f"--memory-limit must be a number of MB; got {options.memory_limit}.")
    cluster = _cluster(options)
    output = Path(options.output)
    if output.exists() and not output.is_dir():
        raise StudioError(f"{output}: --output must be a folder, and this is a file.")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StudioError(f"{output}: cannot create the output folder "
                          f"({error.strerror or error}).") from None
    if cluster is not None:
        return _train_on_cluster(options, project, cluster, output)

    _start_tensorflow()
    from studio.ml.cpu_threads import apply_threads, plan_threads
    from studio.ml.devices import apply_memory_policy, split_cpu
    from studio.ml.session import train_project

    if options.cpu_devices:
        split_cpu(options.cpu_devices)
    if options.memory_growth or options.memory_limit:
        _apply_memory_options(options, apply_memory_policy)
    apply_threads(plan_threads(project))  # as the window's training process does
    _download_if_missing(project.dataset.source)
    resumed = len(history_to_resume(output))
    if resumed:
        print(f"resuming the interrupted run in {output} after epoch {resumed}", flush=True)
    result = train_project(project, _EpochPrinter(), run_dir=output)
    return _print_result(result, output, None)


def _print_result(result: Any, output: Path, cluster: Cluster | None) -> int:
    """The test metrics and what was saved; 1 if the loss diverged."""
    if result.test_logs:
        print("test  " + "  ".join(f"{k} {v:.4f}" for k, v in result.test_logs.items()),
              flush=True)
    if cluster is not None:
        from studio.ml.custom_loop import weights_digest

        # Every worker prints it: equal digests show the workers ended with the same model.
        print(f"final weights sha256 {weights_digest(result.model)}", flush=True)
    if cluster is None or cluster.is_chief:
        print(f"saved {output / MODEL_FILE} and {output / HISTORY_FILE}", flush=True)
    else:
        print(f"{cluster.name} done; the chief wrote the run", flush=True)
    if result.diverged:
        print("studio train: error: the loss became NaN or infinite; lower the learning rate.",
              file=sys.stderr)
        return 1
    return 0


def _cluster(options: argparse.Namespace) -> Cluster | None:
    if options.strategy != "multiworker":
        if options.cluster is not None or options.task_index is not None:
            raise StudioError("--cluster and --task-index apply to --strategy multiworker.")
        return None
    if options.cpu_devices:
        raise StudioError("--cpu-devices does not apply to --strategy multiworker: each "
                          "worker trains on all its GPUs, or on its CPU.")
    if not options.worker_timeout > 0:
        raise StudioError(f"--worker-timeout must be a number of seconds above 0; got "
                          f"{options.worker_timeout}.")
    cluster = cluster_from_options(options.cluster, options.task_index, os.environ)
    check_port_free(cluster.address)
    return cluster


def _train_on_cluster(options: argparse.Namespace, project: Any, cluster: Cluster,
                      output: Path) -> int:
    """One worker of a multi-worker run. One that fails ends its process itself
    (``os._exit``): after a peer is lost, TensorFlow's shutdown would wait for that peer at
    its exit barrier."""
    print(f"{cluster.name} of {cluster.size} at {cluster.address}: waiting up to "
          f"{options.worker_timeout:g} s for every worker to join…", flush=True)
    _start_tensorflow()
    code = 1
    watchdog: _Watchdog | None = None
    try:
        from studio.ml.session import train_project

        if options.memory_growth or options.memory_limit:
            from studio.ml.devices import apply_memory_policy

            _apply_memory_options(options, apply_memory_policy)
        _download_if_missing(project.dataset.source)
        resumed = len(history_to_resume(output)) if cluster.is_chief else 0
        if resumed:
            print(f"resuming the interrupted run in {output} after epoch {resumed}", flush=True)
        # Armed right before joining, which blocks inside TensorFlow with no timeout.
        watchdog = _Watchdog(options.worker_timeout, f"studio train: error: not every worker "
                             f"joined within {options.worker_timeout:g} s. Start the same "
                             "command on every machine of the cluster (each with its own "
                             "--task-index), check that their addresses are reachable, or "
                             "raise --worker-timeout.")
        result = train_project(project, _EpochPrinter(), run_dir=output, cluster=cluster,
                               worker_timeout=options.worker_timeout, joined=watchdog.disarm,
                               project_dir=Path(options.project).parent.absolute())
        code = _print_result(result, output, cluster)
    except WorkerLost as error:
        print(f"studio train: error: {error}", file=sys.stderr, flush=True)
    except StudioError as error:
        print(f"studio train: error: {error}", file=sys.stderr, flush=True)
        code = EXIT_USAGE
    except KeyboardInterrupt:
        print("studio train: interrupted", file=sys.stderr, flush=True)
        code = 130
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        print(f"studio train: error: {cluster.name} failed: {first[:300]}", file=sys.stderr,
              flush=True)
        if os.environ.get("STUDIO_TF_VERBOSE"):
            import traceback

            traceback.print_exc()
    finally:
        if watchdog is not None:
            watchdog.disarm()
    if code == 0:
        return code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class _Watchdog:
    """Ends this process with ``message`` unless disarmed within ``seconds``.

    Joining a cluster blocks inside TensorFlow, holding the interpreter lock, until every
    worker is there: no thread of this process could run, so a forked child keeps the time.
    It uses only system calls, and ends when this process does (its pipe closes).
    """

    def __init__(self, seconds: float, message: str) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        read, self._write = os.pipe()
        parent = os.getpid()
        child = os.fork()
        if child == 0:  # pragma: no cover (the child ends with os._exit, whatever happens)
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's
                os.close(self._write)
                ready, _, _ = select.select([read], [], [], seconds)
                if not ready:
                    os.write(2, (message + "\n").encode())
                    os.kill(parent, signal.SIGKILL)
            finally:
                os._exit(0)
        os.close(read)
        self._child: int | None = child

    def disarm(self) -> None:
        if self._child is not None:
            child, self._child = self._child, None
            os.close(self._write)
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)  # it may be stuck: never wait on it
                os.waitpid(child, 0)


def _apply_memory_options(options: argparse.Namespace, apply: Any) -> None:
    from studio.ml.devices import TensorFlowDevices

    names = [d.name for d in TensorFlowDevices().list_gpus()]
    policy = MemoryPolicy(growth={n: bool(options.memory_growth) for n in names},
                          limit_mb={n: options.memory_limit or 0 for n in names})
    for result in apply(policy):
        print(result.message, flush=True)
    if not names:
        print("no GPU: --memory-growth and --memory-limit have nothing to apply to",
              file=sys.stderr, flush=True)


def _download_if_missing(source: object) -> None:
    """A Keras dataset not in the cache yet is downloaded once, with progress on stderr."""
    from studio.core.dataset_spec import KerasSource

    if not isinstance(source, KerasSource):
        return
    from studio.ml.keras_datasets import download_keras_dataset, is_cached

    if is_cached(source.name):
        return
    print(f"downloading {source.info.title} into the Keras cache…", file=sys.stderr, flush=True)
    shown = [-1]

    def progress(done: int, total: int | None) -> None:
        percent = int(100 * done / total) if total else -1
        if percent != shown[0] and (percent % 10 == 0 or percent < 0):
            shown[0] = percent
            amount = f"{percent}%" if percent >= 0 else f"{done / 1e6:.1f} MB"
            print(f"  {amount}", file=sys.stderr, flush=True)

    download_keras_dataset(source.name, progress, lambda: False)


class _EpochPrinter:
    """One line per epoch, flushed at once so pipes and logs see progress live."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def __call__(self, event: TrainingEvent) -> None:
        if isinstance(event, TrainingStarted):
            for note in event.device_notes:
                print(f"note: {note}", flush=True)
            if event.device:
                print(event.device[0].lower() + event.device[1:].rstrip("."), flush=True)
            print(f"training on {event.train_samples} samples, validating on "
                  f"{event.validation_samples}, {event.epochs} epochs of "
                  f"{event.steps_per_epoch} batches", flush=True)
        elif isinstance(event, EpochEnded):
            width = len(str(event.epochs))
            logs = event.logs
            metrics = "  ".join(f"{k} {logs[k]:.4f}" for k in metric_columns([logs]))
            timing = "restored" if event.replayed else f"{event.seconds:.1f} s"
            print(f"epoch {event.epoch + 1:>{width}}/{event.epochs}  {metrics}  ({timing})",
                  flush=True)

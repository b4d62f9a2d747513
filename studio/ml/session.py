"""Train a whole project: load its data, build its model, run the engine.

This is the single entry point used by the training worker and by ``studio train``, so the
window and the command line can never drift apart. With a run folder it also keeps the run
safe: its history and its record, each written at most once a second (``FILES_EVERY_S``) and
off the training thread (``DeferredWrites``), the history always before the backup of its
epoch; checkpoints (last and best); and a Keras backup from which an interrupted run resumes
with its optimizer state and whole history.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

from studio.core.atomic import atomic_copy
from studio.core.cluster import Cluster
from studio.core.control import TrainingControl
from studio.core.deferred_writes import DeferredWrites
from studio.core.events import EpochEnded, EventSink, TrainingEnded, TrainingEvent
from studio.core.history import write_history_csv
from studio.core.project import Project
from studio.core.run_events import EVENTS_FILE, EventFileWriter
from studio.core.run_record import (
    BACKUP_DIR,
    CHECKPOINT_DIR,
    HISTORY_FILE,
    MODEL_FILE,
    RUN_FILE,
    RunRecord,
    Status,
    history_to_resume,
    read_run,
    resumable_epochs,
    write_run,
)
from studio.core.training_config import higher_is_better
from studio.ml.custom_loop import lost_workers_reported, run_custom_loop
from studio.ml.datasets import load_dataset
from studio.ml.model_io import save_keras
from studio.ml.multiworker import check_same, join_cluster
from studio.ml.placement import ResolvedPlacement, resolve
from studio.ml.runtime import enable_determinism
from studio.ml.safety_files import BudgetedSaves, FiniteCheckpoint
from studio.ml.summary import build_model
from studio.ml.training import TrainingResult, compile_model, run_training

#: The longest a running run's history and record lag behind its epochs (a crash loses no
#: history that resuming needs: it is written before each backup).
FILES_EVERY_S = 1.0

#: The training engine: ``run_training`` (Keras ``fit``) or the multi-worker loop.
Engine = Callable[..., TrainingResult]


def train_project(project: Project, sink: EventSink, control: TrainingControl | None = None,
                  run_dir: Path | None = None, *, cluster: Cluster | None = None,
                  worker_timeout: float = 60.0,
                  joined: Callable[[], None] | None = None,
                  project_dir: Path | None = None) -> TrainingResult:
    """Blocking; raises StudioError subclasses for problems the user can fix.

    With ``run_dir`` the run is recorded there and resumes from it when it holds an
    interrupted run of this project. With ``cluster`` this process is one worker of a
    multi-worker run (``run_dir`` required; ``joined`` is called once every worker has
    joined; ``project_dir``, the project file's folder, lets the workers compare projects
    whose data lies at different places beside them): see ``_train_on_cluster``.
    """
    project.training.loss_for(project.dataset.info.task)  # refuse a mismatch before loading
    if project.training.deterministic:
        enable_determinism()
    control = control or TrainingControl()
    if cluster is not None:
        assert run_dir is not None, "a multi-worker run needs a run folder"
        return _train_on_cluster(project, sink, control, run_dir, cluster, worker_timeout,
                                 joined or (lambda: None), project_dir)
    data = load_dataset(project.dataset, cancelled=lambda: control.stop_requested)
    where = resolve(project.devices)
    # The model, its optimizer and its metrics are made in the strategy's scope, so their
    # variables live on (or are mirrored across) the chosen devices.
    with where.strategy.scope():
        model = build_model(project.model, data.info, name=_model_name(project.name),
                            seed=project.dataset.seed, dtype_policy=where.dtype_policy)
        if run_dir is None:
            return run_training(model, data, project.training, sink, control,
                                seed=project.dataset.seed, placement=where)
        return _train_in_folder(project, model, data, sink, control, run_dir, where,
                                run_training)


def _train_on_cluster(project: Project, sink: EventSink, control: TrainingControl,
                      run_dir: Path, cluster: Cluster, timeout: float,
                      joined: Callable[[], None], project_dir: Path | None) -> TrainingResult:
    """One worker of a multi-worker run, in the custom loop (``fit`` fails there in TF 2.21).

    Only the chief writes the run folder; the other workers keep theirs in a temporary folder
    that they remove, so every worker runs the same callbacks (and the same collectives).
    """
    where = join_cluster(cluster, project.devices, timeout)
    joined()
    with lost_workers_reported():
        # Before anything is built: variables are broadcast from the chief as they are made,
        # which would wait forever (or fail obscurely) on a worker with another model.
        check_same(where.strategy, json.dumps(project.to_dict(project_dir), sort_keys=True),
                   "the workers were started with different projects or options: run the "
                   "same project file with the same options on every worker.")
        data = load_dataset(project.dataset, cancelled=lambda: control.stop_requested)
        check_same(where.strategy, _data_digest(data),
                   "the workers loaded different data (the project's files differ between "
                   "the machines): give every worker the same data files.")
        folder = run_dir if cluster.is_chief else Path(tempfile.mkdtemp(
            prefix=f"studio-{cluster.task_type}{cluster.task_index}-"))
        restored = _read_backup(project, data, where, folder) if cluster.is_chief else None

        def engine(model: keras.Model, data: Any, config: Any, sink: EventSink,
                   control: TrainingControl, **options: Any) -> TrainingResult:
            return run_custom_loop(model, data, config, sink, control, restored=restored,
                                   **options)

        try:
            with where.strategy.scope():
                model = build_model(project.model, data.info, name=_model_name(project.name),
                                    seed=project.dataset.seed, dtype_policy=where.dtype_policy)
                return _train_in_folder(project, model, data, sink, control, folder, where,
                                        engine, every_epoch=True)
        finally:
            if not cluster.is_chief:
                shutil.rmtree(folder, ignore_errors=True)


def _data_digest(data: Any) -> str:
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test,
                  data.y_test):
        digest.update(str((array.shape, array.dtype)).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _train_in_folder(project: Project, model: keras.Model, data: object, sink: EventSink,
                     control: TrainingControl, run_dir: Path, where: ResolvedPlacement,
                     engine: Engine, *, every_epoch: bool = False) -> TrainingResult:
    """``every_epoch``: write the safety files after every epoch, whatever it costs (see
    ``safety_files``)."""
    prior = _history_to_resume(run_dir)
    previous = read_run(run_dir) if prior else None
    record = (replace(previous, status="running", pid=os.getpid()) if previous is not None
              else RunRecord(project.name, time.time(), project.to_dict(),
                             epochs=project.training.epochs))
    write_run(run_dir, record)
    rows = list(prior)
    events = EventFileWriter(run_dir / EVENTS_FILE)
    # Every worker of a cluster writes its backup after each epoch from inside Keras, with no
    # place to flush first: there the history is written at once.
    files = DeferredWrites(background=not every_epoch, min_interval_s=FILES_EVERY_S)

    recorded_at = time.monotonic()

    def recording_sink(event: TrainingEvent) -> None:
        nonlocal recorded_at
        if isinstance(event, EpochEnded) and not event.replayed:
            rows.append(dict(event.logs))
            history = tuple(rows)
            files.write(run_dir / HISTORY_FILE,
                        lambda: write_history_csv(run_dir / HISTORY_FILE, history))
            # The record's progress is for the Runs table: at most once a second (resuming
            # reads the history and the backup, not this). Short epochs spent 1 % on it.
            if time.monotonic() - recorded_at >= FILES_EVERY_S:
                progress = record.with_progress(len(rows), event.logs, event.epochs)
                files.write(run_dir / RUN_FILE, lambda: write_run(run_dir, progress))
                recorded_at = time.monotonic()
        events(event)
        sink(event)

    config = project.training
    monitor = config.monitor if config.early_stopping else "val_loss"
    checkpoints = run_dir / CHECKPOINT_DIR
    checkpoints.mkdir(exist_ok=True)
    backup = keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR), double_checkpoint=True)
    backup.async_safe = True  # it saves per epoch: its batch hook does nothing
    last = FiniteCheckpoint(str(checkpoints / "last.keras"))
    # A copy of the last checkpoint's file stands in for saving the same model again, but
    # not on a cluster: there every worker must make the same saves (a save reads variables
    # across the workers); with copies, a resumed two-worker run left its second worker
    # waiting for the chief, which had already ended.
    best = FiniteCheckpoint(str(checkpoints / "best.keras"), monitor=monitor,
                            mode="max" if higher_is_better(monitor) else "min",
                            save_best_only=True, twin=None if every_epoch else last)
    # Every worker of a cluster must save at the same epochs, so they are not budgeted there.
    # Elsewhere the history reaches the disk before the backup of its epoch (see resuming).
    budgeted = None if every_epoch else BudgetedSaves(backup, last, best,
                                                      before_write=files.flush)
    callbacks = [backup, last, best] if budgeted is None else [budgeted]
    try:
        result = engine(model, data, config, recording_sink, control,
                        seed=project.dataset.seed, log_dir=run_dir / "tensorboard",
                        extra_callbacks=callbacks, prior_history=prior, placement=where)
        files.close()  # a failed write fails the run, as it did when written in place
    except BaseException as error:
        # The history so far stays; a progress record still queued must not land after the
        # final one below. (This error is the one to report, not a write's.)
        with contextlib.suppress(Exception):
            files.close()
        # Watchers of events.jsonl learn that the run ended, and why.
        with contextlib.suppress(OSError):
            events(TrainingEnded(len(rows), True, f"failed: {error}" if str(error)
                                 else "failed"))
        # A crash or Ctrl+C leaves the backup behind, so the run can be resumed.
        ended: Status = "running" if isinstance(error, KeyboardInterrupt) else "failed"
        write_run(run_dir, record.with_progress(len(rows), rows[-1] if rows else {})
                  .ended(ended, str(error)))
        raise
    if budgeted is not None:
        budgeted.flush()  # a stopped run: Keras ended its fit without on_train_end
    if (not every_epoch and not result.reason and last.saved_path
            and last.holds(result.epochs_completed - 1)):
        # The run trained to its last epoch, whose checkpoint is this very model (no
        # restored weights, no batch since).
        atomic_copy(last.saved_path, run_dir / MODEL_FILE)
    else:
        save_keras(result.model, run_dir / MODEL_FILE)
    status: Status = ("diverged" if result.diverged else
                      "stopped" if result.reason == "stopped by the user" else "finished")
    write_run(run_dir, record.with_progress(len(rows), rows[-1] if rows else {})
              .ended(status, result.reason, result.test_logs))
    return result


def _history_to_resume(run_dir: Path) -> list[dict[str, float]]:
    """The epochs an interrupted run in ``run_dir`` resumes after (none for a new run)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    prior = history_to_resume(run_dir)
    if (resumable_epochs(run_dir) or 0) > len(prior):
        shutil.rmtree(run_dir / BACKUP_DIR)  # its epochs' history is lost: start afresh
    return prior


def _read_backup(project: Project, data: Any, where: ResolvedPlacement, run_dir: Path
                 ) -> list[np.ndarray] | None:
    """The weights and optimizer variables of the run's backup, read into a model made
    outside the multi-worker strategy (where loading would run collectives on this worker
    alone); None when there is nothing to resume. Keras' own BackupAndRestore reads it, so
    its fallback to the previous backup (when the last one was torn) applies."""
    if not _history_to_resume(run_dir) or not (run_dir / BACKUP_DIR).is_dir():
        return None
    model = build_model(project.model, data.info, name=_model_name(project.name),
                        seed=project.dataset.seed, dtype_policy=where.dtype_policy)
    compile_model(model, project.training, data.info.task, jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    backup = keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR), double_checkpoint=True)
    backup.set_model(model)
    backup.on_train_begin()
    return [np.asarray(v) for v in model.weights + model.optimizer.variables]


def _model_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return cleaned or "studio_model"

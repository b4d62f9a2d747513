"""Each training setting reaches Keras and changes what happens, checked on real training."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import replace

import keras
import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from studio.core.control import TrainingControl
from studio.core.dataset_spec import BuiltinSource, DatasetSpec, GeneratedSource
from studio.core.errors import ProjectError
from studio.core.events import BatchEnded, SettingsChanged, TrainingEnded
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.training_config import TrainingConfig
from studio.ml.datasets import load_dataset
from studio.ml.session import train_project
from studio.ml.training import class_weights, make_optimizer

IRIS_MLP = ModelSpec((LayerSpec.create("Dense", units=16),
                      LayerSpec.create("Dense", units=3, activation="softmax")))


def _iris(quick_project, **settings):
    return replace(quick_project, model=IRIS_MLP, dataset=DatasetSpec(BuiltinSource("iris")),
                   training=replace(TrainingConfig(), batch_size=16, **settings))


@pytest.mark.parametrize(("name", "kind", "check"), [
    ("sgd", keras.optimizers.SGD, lambda o: o.momentum == 0.8 and o.nesterov),
    ("adam", keras.optimizers.Adam, lambda o: o.beta_1 == 0.85),
    ("adamw", keras.optimizers.AdamW, lambda o: o.weight_decay == 0.01),
    ("rmsprop", keras.optimizers.RMSprop, lambda o: o.momentum == 0.8),
    ("adagrad", keras.optimizers.Adagrad, lambda o: True),
    ("nadam", keras.optimizers.Nadam, lambda o: o.beta_1 == 0.85),
])
def test_every_optimizer_gets_its_own_settings(name, kind, check):
    config = TrainingConfig(optimizer=name, momentum=0.8, nesterov=True, beta_1=0.85,
                            weight_decay=0.01, learning_rate=0.02)
    optimizer = make_optimizer(config)
    assert type(optimizer) is kind and check(optimizer)
    assert float(optimizer.learning_rate) == pytest.approx(0.02)


@pytest.mark.parametrize(("schedule", "expected"), [
    ("step", [0.01, 0.01, 0.005, 0.005, 0.0025]),
    ("exponential", [0.01, 0.005, 0.0025, 0.00125, 0.000625]),
    ("cosine", [0.01 * 0.5 * (1 + np.cos(np.pi * e / 5)) for e in range(5)]),
    ("constant", [0.01] * 5),
])
def test_schedules_set_the_rate_of_each_epoch(quick_project, schedule, expected):
    project = _iris(quick_project, epochs=5, learning_rate=0.01, schedule=schedule,
                    schedule_factor=0.5, schedule_every=2)
    result = train_project(project, lambda event: None)
    rates = [row["learning_rate"] for row in result.history]
    np.testing.assert_allclose(rates, expected, rtol=1e-5, atol=1e-9)


def test_early_stopping_restores_the_best_epoch_and_says_why(quick_project):
    # A learning rate far too high makes validation loss rise after the first epochs.
    project = _iris(quick_project, epochs=30, learning_rate=5.0, optimizer="sgd",
                    early_stopping=True, patience=2, monitor="val_loss")
    ended = []
    result = train_project(project, lambda e: ended.append(e) if isinstance(e, TrainingEnded)
                           else None)
    assert result.epochs_completed < 30
    losses = [row["val_loss"] for row in result.history]
    best = int(np.nanargmin(losses))
    assert f"weights of epoch {best + 1} were restored" in result.reason
    assert ended[0].reason == result.reason


def test_the_run_folder_keeps_the_restored_weights_as_its_model(quick_project, tmp_path,
                                                                saved_models):
    """Early stopping restored an earlier epoch: the run's model is that, not the last
    checkpoint (which a run that trains to its end copies instead of saving again)."""
    from studio.ml.model_io import load_keras

    project = _iris(quick_project, epochs=30, learning_rate=5.0, optimizer="sgd",
                    early_stopping=True, patience=2, monitor="val_loss")
    result = train_project(project, lambda e: None, run_dir=tmp_path / "stopped")
    assert "restored" in result.reason
    model = load_keras(tmp_path / "stopped" / "model.keras")
    last = load_keras(tmp_path / "stopped" / "checkpoints" / "last.keras")
    for saved, kept in zip(model.get_weights(), result.model.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, kept)
    assert any(not np.array_equal(a, b) for a, b in
               zip(model.get_weights(), last.get_weights(), strict=True))

    saved_models.clear()  # the early-stopped run's saves
    finished = tmp_path / "finished"
    result = train_project(_iris(quick_project, epochs=2), lambda e: None, run_dir=finished)
    assert not result.reason
    assert not [path for path in saved_models if path.name.startswith(".model.")], \
        saved_models
    assert (finished / "model.keras").read_bytes() == \
        (finished / "checkpoints" / "last.keras").read_bytes()
    for saved, trained in zip(load_keras(finished / "model.keras").get_weights(),
                              result.model.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, trained)


def test_balanced_class_weights_follow_the_class_frequencies():
    y = np.array([0] * 80 + [1] * 20)
    weights = class_weights(y, 3)
    assert weights[1] == pytest.approx(4 * weights[0]) and weights[2] == 1.0


def test_class_weights_train(quick_project):
    project = _iris(quick_project, epochs=2, class_weight="balanced")
    assert train_project(project, lambda e: None).epochs_completed == 2


def test_extra_classification_metrics_match_scikit_learn(quick_project):
    project = _iris(quick_project, epochs=3, metrics=("precision", "recall", "f1", "auc"))
    result = train_project(project, lambda e: None)
    last = result.history[-1]
    data = load_dataset(project.dataset)
    predicted = result.model.predict(data.x_val, verbose=0)
    chosen = predicted.argmax(axis=1)
    assert last["val_f1"] == pytest.approx(
        sk_metrics.f1_score(data.y_val, chosen, average="macro", zero_division=0))
    assert last["val_recall"] == pytest.approx(
        sk_metrics.recall_score(data.y_val, chosen, average="macro", zero_division=0))
    assert 0.0 <= last["val_auc"] <= 1.0 and 0.0 <= last["val_precision"] <= 1.0


def test_regression_metrics_and_loss_override(quick_project):
    spec = ModelSpec((LayerSpec.create("Dense", units=8, activation="tanh"),
                      LayerSpec.create("Dense", units=1, activation="linear")))
    project = replace(quick_project, model=spec,
                      dataset=DatasetSpec(GeneratedSource("sine", samples=300)),
                      training=TrainingConfig(epochs=2, loss="huber",
                                              metrics=("mse", "rmse", "r2", "precision")))
    result = train_project(project, lambda e: None)
    last = result.history[-1]
    assert {"val_mse", "val_rmse", "val_r2"} <= set(last) and "val_precision" not in last
    assert last["val_rmse"] == pytest.approx(np.sqrt(last["val_mse"]), rel=1e-4)
    assert type(result.model.loss).__name__ == "Huber"


def test_a_loss_that_does_not_fit_the_task_is_refused(quick_project):
    project = _iris(quick_project, loss="huber")
    with pytest.raises(ProjectError, match=r"training\.loss huber does not fit a "
                                           "classification"):
        train_project(project, lambda e: None)


def _change_while_paused(control, events, **changes):
    """A sink that records events and, at the first batch, pauses, asks for ``changes`` and
    resumes 0.2 s later (from another thread, as the window would)."""
    def sink(event):
        events.append(event)
        if isinstance(event, BatchEnded) and not any(isinstance(e, BatchEnded)
                                                     for e in events[:-1]):
            control.pause()
            control.request_changes(**changes)
            threading.Timer(0.2, control.resume).start()

    return sink


def test_pausing_then_changing_rate_and_epochs_is_applied_and_reported(quick_project):
    project = _iris(quick_project, epochs=2, learning_rate=0.01)
    control = TrainingControl()
    events = []
    sink = _change_while_paused(control, events, learning_rate=0.002, epochs=4)

    result = train_project(project, sink, control)
    changed = [e for e in events if isinstance(e, SettingsChanged)]
    assert len(changed) == 1 and changed[0].epochs == 4
    assert "learning rate 0.002" in changed[0].text and 0 < changed[0].x <= 1
    assert result.epochs_completed == 4 and not result.stopped_early
    assert [row["learning_rate"] for row in result.history] == pytest.approx([0.002] * 4)


def test_changes_from_a_pause_shorter_than_a_batch_are_applied(quick_project):
    """Pause, change and resume all within one batch (a slow batch, a busy machine): the
    training never saw the pause, but it must see the changes."""
    project = _iris(quick_project, epochs=2, learning_rate=0.01)
    control = TrainingControl()
    events = []

    def sink(event):
        events.append(event)
        if isinstance(event, BatchEnded) and sum(isinstance(e, BatchEnded)
                                                 for e in events) == 1:
            control.pause()
            control.request_changes(learning_rate=0.002, epochs=3)
            control.resume()

    result = train_project(project, sink, control)
    assert [e.epochs for e in events if isinstance(e, SettingsChanged)] == [3]
    assert result.epochs_completed == 3
    assert [row["learning_rate"] for row in result.history] == pytest.approx([0.002] * 3)


def test_deterministic_runs_repeat_exactly(tmp_path):
    from studio.core.defaults import default_project
    from studio.core.project import save_project

    project = replace(default_project(), training=replace(
        default_project().training, epochs=2, deterministic=True))
    save_project(project, tmp_path / "p.json")
    histories = []
    for run in ("a", "b"):
        done = subprocess.run([sys.executable, "-m", "studio", "train", str(tmp_path / "p.json"),
                               "--output", str(tmp_path / run)], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        histories.append((tmp_path / run / "history.csv").read_text())
    assert histories[0] == histories[1]
    assert json.loads((tmp_path / "p.json").read_text())["training"]["deterministic"] is True


def test_tensorboard_logs_are_readable_by_tensorboard(quick_project, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    project = _iris(quick_project, epochs=3, tensorboard=True)
    train_project(project, lambda e: None, run_dir=tmp_path / "run")
    logs = EventAccumulator(str(tmp_path / "run" / "tensorboard" / "validation"))
    logs.Reload()
    tags = logs.Tags()["scalars"] + logs.Tags().get("tensors", [])
    assert any("loss" in tag for tag in tags), tags
    events = logs.Tensors("epoch_loss") if "epoch_loss" in logs.Tags()["tensors"] else \
        logs.Scalars("epoch_loss")
    assert len(events) == 3


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(quick_project, tmp_path):
    from studio.core.run_record import read_run
    from studio.ml.model_io import load_keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    x[150:] *= 1e30  # extreme values late in the data make the loss overflow
    np.savez(tmp_path / "wild.npz", x=x, y=np.arange(200) % 3)
    from studio.ml.dataset_import import numpy_source

    project = replace(quick_project, model=IRIS_MLP,
                      dataset=DatasetSpec(numpy_source(tmp_path / "wild.npz"), shuffle=False,
                                          normalization="none", validation_split=0.1),
                      training=TrainingConfig(epochs=5, batch_size=200, learning_rate=0.01))
    result = train_project(project, lambda e: None, run_dir=tmp_path / "run")
    assert result.diverged and "NaN" in result.reason
    record = read_run(tmp_path / "run")
    assert record.status == "diverged"
    last = tmp_path / "run" / "checkpoints" / "last.keras"
    if last.exists():  # written only by finite epochs
        weights = load_keras(last).get_weights()
        assert all(np.all(np.isfinite(w)) for w in weights)


def test_checkpoints_never_take_non_finite_weights(tmp_path):
    from studio.ml.safety_files import FiniteCheckpoint

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    checkpoint = FiniteCheckpoint(str(tmp_path / "last.keras"))
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"loss": 0.5})
    saved = (tmp_path / "last.keras").read_bytes()
    model.set_weights([np.full((3, 2), np.inf, "float32"), np.zeros(2, "float32")])
    checkpoint.on_epoch_end(1, {"loss": 0.4})  # finite loss, overflowed weights
    checkpoint.on_epoch_end(2, {"loss": float("nan")})
    assert (tmp_path / "last.keras").read_bytes() == saved


def test_a_resumed_run_whose_epochs_are_raised_counts_each_epoch_once(quick_project, tmp_path,
                                                                     monkeypatch):
    """Keras' BackupAndRestore sets the model's first epoch when it resumes a run; a second
    fit (the user raised the number of epochs) must start where the first one ended."""
    import csv

    from studio.ml import safety_files

    monkeypatch.setattr(safety_files, "FIRST_WRITE_GUESS_S", 0.0)  # the first epoch written

    from studio.core.events import EpochEnded
    from studio.core.run_record import HISTORY_FILE, resumable_epochs

    project = replace(quick_project, training=replace(quick_project.training, epochs=3))
    run = tmp_path / "run"

    def killed_after_two_epochs(event):
        if isinstance(event, EpochEnded) and event.epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_project(project, killed_after_two_epochs, None, run)
    assert resumable_epochs(run) == 1  # the backup of the first epoch (two were trained)

    control = TrainingControl()
    result = train_project(project, _change_while_paused(control, [], epochs=5), control, run)
    assert result.epochs_completed == 5
    with open(run / HISTORY_FILE, newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["1", "2", "3", "4", "5"]


def test_the_run_record_follows_short_epochs_at_most_once_a_second(quick_project, tmp_path,
                                                                  monkeypatch):
    """Its progress is for the Runs table; the history has every epoch, and the record
    written at the end has them all."""
    import csv

    from studio.core import run_record
    from studio.ml import session

    written: list[int] = []
    original = run_record.write_run
    monkeypatch.setattr(session, "write_run", lambda folder, record: (
        written.append(record.epochs_completed), original(folder, record))[1])
    project = replace(quick_project, training=replace(quick_project.training, epochs=3))
    monkeypatch.setattr(session, "FILES_EVERY_S", 3600.0)
    train_project(project, lambda e: None, run_dir=tmp_path / "short")
    assert written == [0, 3], "the start and the end only"
    with open(tmp_path / "short" / "history.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 3
    assert run_record.read_run(tmp_path / "short").epochs_completed == 3

    written.clear()
    monkeypatch.setattr(session, "FILES_EVERY_S", 0.0)
    train_project(project, lambda e: None, run_dir=tmp_path / "long")
    # Every epoch once a second has passed; a record still queued gives way to a newer one
    # (DeferredWrites), and the last epoch's is written before the final record.
    assert written[0] == 0 and written[-2:] == [3, 3]
    assert written == sorted(written) and len(written) >= 3


def test_the_history_is_written_off_the_training_thread_before_each_backup(
        quick_project, tmp_path, monkeypatch):
    """Resuming cuts the history to the backup's epochs, so an epoch's row must reach the
    disk no later than its backup, even when the history is slow to write."""
    import time

    from studio.core.run_record import read_history
    from studio.ml import safety_files, session

    monkeypatch.setattr(safety_files, "FIRST_WRITE_GUESS_S", 0.0)  # epoch 1 is written
    threads: list[str] = []
    original_history = session.write_history_csv

    def slow_history(path, rows):
        threads.append(threading.current_thread().name)
        time.sleep(0.2)
        original_history(path, rows)

    monkeypatch.setattr(session, "write_history_csv", slow_history)
    run = tmp_path / "run"
    backups: list[tuple[int, int]] = []  # (epoch, history rows on disk once it was written)
    original_write = safety_files.BudgetedSaves._write

    def checked_write(self, epoch, logs, *, final=False):
        original_write(self, epoch, logs, final=final)
        backups.append((epoch, len(read_history(run))))

    monkeypatch.setattr(safety_files.BudgetedSaves, "_write", checked_write)
    project = replace(quick_project, training=replace(quick_project.training, epochs=3))
    train_project(project, lambda e: None, run_dir=run)
    assert backups[0] == (0, 1) and backups[-1] == (2, 3)
    assert all(rows >= epoch + 1 for epoch, rows in backups)
    assert set(threads) == {"studio-run-files"}
    assert len(read_history(run)) == 3
    assert not any(t.name == "studio-run-files" for t in threading.enumerate())

"""The engine trains for real on the digits, reports progress, and stops within a batch."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from studio.core.control import TrainingControl
from studio.core.events import BatchEnded, EpochEnded, TrainingEnded, TrainingStarted
from studio.ml.datasets import load_dataset
from studio.ml.session import train_project


def test_training_learns_and_reports_every_epoch(quick_project):
    events = []
    result = train_project(replace(quick_project, training=replace(quick_project.training,
                                                                   epochs=4)), events.append)
    kinds = [type(e) for e in events]
    assert kinds[0] is TrainingStarted and kinds[-1] is TrainingEnded
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == [0, 1, 2, 3]
    assert set(epochs[0].logs) == {"loss", "accuracy", "learning_rate", "val_loss",
                                   "val_accuracy"}
    assert epochs[-1].logs["loss"] < epochs[0].logs["loss"]
    assert result.history[-1]["val_accuracy"] > 0.5, "a CNN on digits learns quickly"
    assert not result.stopped_early and result.epochs_completed == 4
    batches = [e for e in events if isinstance(e, BatchEnded)]
    assert batches and all(e.step <= e.steps_per_epoch for e in batches)
    assert all(e.samples_per_second > 0 for e in batches)


def test_every_batch_reaches_the_sink_in_a_few_events_a_second(quick_project):
    """The per-batch curve holds every batch once, in order, while the events come at most
    five times a second (each woke the window) plus one at each epoch's end."""
    import time

    events: list[tuple[float, BatchEnded]] = []

    def sink(event):
        if isinstance(event, BatchEnded):
            events.append((time.perf_counter(), event))

    project = replace(quick_project, training=replace(quick_project.training, epochs=3,
                                                      batch_size=8))
    start = time.perf_counter()
    train_project(project, sink)
    elapsed = time.perf_counter() - start
    steps = events[0][1].steps_per_epoch
    for epoch in range(3):
        sent = [e for _, e in events if e.epoch == epoch]
        got = [step for e in sent for step, _ in (*e.earlier, (e.step, e.logs))]
        assert got == list(range(1, steps + 1)), f"epoch {epoch}"
        assert all(isinstance(logs["loss"], float) for e in sent for _, logs in e.earlier)
    # Counted, not timed one by one: the callback spaces its sends by its own clock, and a
    # busy machine may delay one delivery to the sink more than the next.
    within = [e for _, e in events if e.step < e.steps_per_epoch]
    assert len(events) < 3 * steps / 2, len(events)
    assert len(within) <= elapsed / 0.2 + 1, (len(within), elapsed)


def test_stop_ends_within_one_batch_and_keeps_the_model(quick_project):
    control = TrainingControl()
    batches, epochs_seen = [], []

    def sink(event):
        if isinstance(event, BatchEnded):
            batches.append(event)
            control.request_stop()  # as if the user pressed Stop during the first batch
        elif isinstance(event, EpochEnded):
            epochs_seen.append(event)

    project = replace(quick_project, training=replace(quick_project.training, epochs=50,
                                                      batch_size=16))
    result = train_project(project, sink, control)
    assert result.stopped_early
    # The stop is honoured after the batch in which it was requested; the cut-off epoch is
    # not reported as an epoch (no validation pass, no history row).
    assert len(batches) == 1 and batches[0].step == 1
    assert result.epochs_completed == 0 and epochs_seen == []
    data = load_dataset(project.dataset)
    predictions = result.model.predict(data.x_val[:5], verbose=0)
    assert predictions.shape == (5, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


def test_stop_during_the_last_epoch_is_still_a_stop(quick_project):
    control = TrainingControl()
    project = replace(quick_project, training=replace(quick_project.training, epochs=2,
                                                      batch_size=16))

    def sink(event):
        if isinstance(event, BatchEnded) and event.epoch == 1:
            control.request_stop()

    result = train_project(project, sink, control)
    assert result.stopped_early
    assert result.epochs_completed == 1


def test_pause_holds_training_until_resumed(quick_project):
    control = TrainingControl()
    seen = []
    paused_once = threading.Event()

    def sink(event):
        seen.append(event)
        if isinstance(event, BatchEnded) and not paused_once.is_set():
            paused_once.set()
            control.pause()

    result_box = {}
    thread = threading.Thread(
        target=lambda: result_box.setdefault("r", train_project(quick_project, sink, control)))
    thread.start()
    assert paused_once.wait(60)
    thread.join(1.0)
    assert thread.is_alive(), "training went on while paused"
    count = len(seen)
    thread.join(0.3)
    assert len(seen) == count, "events arrived while paused"
    control.resume()
    thread.join(60)
    assert not thread.is_alive()
    assert result_box["r"].epochs_completed == quick_project.training.epochs


def test_datasets_are_split_stratified_and_scaled(quick_project):
    data = load_dataset(quick_project.dataset)
    assert data.x_train.shape[1:] == (8, 8, 1)
    assert len(data.x_train) + len(data.x_val) == 1797
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    assert set(np.unique(data.y_val)) == set(range(10))
    from studio.core.dataset_spec import BuiltinSource

    iris = load_dataset(replace(quick_project.dataset, source=BuiltinSource("iris")))
    np.testing.assert_allclose(iris.x_train.mean(axis=0), 0, atol=1e-5)


def test_normalization_is_adapted_on_the_training_split_before_training(quick_project):
    from studio.core.dataset_spec import BuiltinSource, DatasetSpec
    from studio.core.model_spec import LayerSpec, ModelSpec

    spec = ModelSpec((LayerSpec.create("Normalization"),
                      LayerSpec.create("Dense", units=3, activation="softmax")))
    project = replace(quick_project, model=spec, dataset=DatasetSpec(BuiltinSource("wine")))
    result = train_project(project, lambda event: None)
    data = load_dataset(project.dataset)
    layer = result.model.layers[1]
    np.testing.assert_allclose(np.ravel(layer.mean), data.x_train.mean(axis=0), atol=1e-5)
    assert not np.allclose(np.ravel(layer.mean),
                           np.concatenate([data.x_train, data.x_val]).mean(axis=0), atol=1e-5)


def test_early_stopping_is_told_which_way_a_metric_improves(quick_project):
    """Keras refuses to guess for names such as val_precision: training would fail."""
    import keras

    from studio.ml.training import training_callbacks

    data = load_dataset(quick_project.dataset)
    for monitor, mode in (("val_precision", "max"), ("val_accuracy", "max"),
                          ("val_loss", "min"), ("val_mae", "min")):
        config = replace(quick_project.training, early_stopping=True, monitor=monitor,
                         metrics=("precision",))
        stop = next(c for c in training_callbacks(config, data, None)
                    if isinstance(c, keras.callbacks.EarlyStopping))
        assert stop.mode == mode, monitor


def test_tensorboard_logs_without_tensorboard_installed_say_what_to_do(quick_project,
                                                                       monkeypatch,
                                                                       tmp_path):
    import sys

    import pytest

    from studio.core.errors import StudioError
    from studio.ml.training import training_callbacks

    data = load_dataset(quick_project.dataset)
    config = replace(quick_project.training, tensorboard=True)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    with pytest.raises(StudioError, match=r"tensorboard package.*\[tensorboard\]"):
        training_callbacks(config, data, tmp_path)
    monkeypatch.undo()
    assert training_callbacks(config, data, tmp_path)  # installed here (the test extra)

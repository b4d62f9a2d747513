"""Training with ``strategy.run``: the loop for MultiWorkerMirroredStrategy.

Keras 3's ``model.fit`` fails under MultiWorkerMirroredStrategy in TF 2.21 (see DESIGN.md), so
a multi-worker run steps the model itself: per-example losses averaged over the global batch
(``tf.nn.compute_average_loss``), a distributed tf.data pipeline sharded by data, and sums
reduced across every replica of every worker. It drives the same Keras callbacks as ``fit``
(early stopping, schedules, NaN stop, checkpoints, backup, the studio's progress), so the
logs, history and events are those of a single-machine run.

Every worker must take the same decisions at the same step or the collectives hang: the logs
are global reductions, so early stopping and the NaN stop agree everywhere; the chief's backup
(its weights, optimizer state and epoch) is sent to every worker before the first step.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from studio.core.control import TrainingControl
from studio.core.errors import OutOfMemory, ProjectMismatch, WorkerLost
from studio.core.events import EpochEnded, EventSink, TrainingEnded, TrainingStarted
from studio.core.training_config import TrainingConfig
from studio.ml.callback import StudioCallback, TrainingStopped
from studio.ml.datasets import LoadedData
from studio.ml.multiworker import PEER_ERRORS, from_chief
from studio.ml.normalization import adapt_normalization
from studio.ml.pipeline import make_pipeline
from studio.ml.placement import ResolvedPlacement
from studio.ml.schedules import LearningRatePolicy
from studio.ml.training import (
    TrainingResult,
    class_weights,
    compile_model,
    end_reason,
    main_metric,
    training_callbacks,
)
from studio.ml.validation_metrics import ValidationMetrics


def run_custom_loop(model: keras.Model, data: LoadedData, config: TrainingConfig,
                    sink: EventSink, control: TrainingControl, *, placement: ResolvedPlacement,
                    seed: int = 0, extra_callbacks: Sequence[keras.callbacks.Callback] = (),
                    prior_history: Sequence[dict[str, float]] = (),
                    restored: Sequence[np.ndarray] | None = None,
                    log_dir: Path | None = None) -> TrainingResult:
    """Blocking; call it in ``placement.strategy``'s scope, on every worker at once, after
    the workers checked they train the same project on the same data.

    A peer that dies or stops answering raises ``WorkerLost``. The chief passes its run's
    ``prior_history`` and the values of its backup (``restored``: the model's weights, then
    the optimizer's variables); the others resume from those.
    """
    replicas = placement.replicas
    if config.batch_size < replicas:
        raise ProjectMismatch(f"the batch size {config.batch_size} is smaller than the "
                              f"{replicas} replicas: use a batch of at least {replicas}.")
    if len(data.x_train) < config.batch_size:
        raise ProjectMismatch(f"the training split has {len(data.x_train)} samples, fewer "
                              f"than one batch of {config.batch_size}.")
    with lost_workers_reported():
        try:
            return _Loop(model, data, config, sink, control, placement, seed, log_dir).run(
                list(extra_callbacks), list(prior_history), restored)
        except tf.errors.ResourceExhaustedError:
            raise OutOfMemory(f"a worker ran out of memory with batch size "
                              f"{config.batch_size}; use a smaller batch.",
                              batch_size=config.batch_size) from None


@contextlib.contextmanager
def lost_workers_reported() -> Iterator[None]:
    """Turn TensorFlow's errors about a lost peer into ``WorkerLost``, in words."""
    try:
        yield
    except PEER_ERRORS as error:
        raise WorkerLost(
            f"{_who_was_lost(str(error))} stopped answering (its process ended, the network "
            "between the workers failed, or a worker was busy longer than --worker-timeout). "
            "The run stopped; its last completed epoch is saved: run the same command on "
            "every worker again to resume.") from None


class _Loop:
    def __init__(self, model: keras.Model, data: LoadedData, config: TrainingConfig,
                 sink: EventSink, control: TrainingControl, placement: ResolvedPlacement,
                 seed: int, log_dir: Path | None) -> None:
        self.model, self.data, self.config = model, data, config
        self.sink, self.control, self.placement, self.seed = sink, control, placement, seed
        self.strategy = placement.strategy
        self.task = data.info.task
        self.global_batch = config.batch_size
        self.log_dir = log_dir  # TensorBoard logs, when the settings ask for them

    # ----- set-up ---------------------------------------------------------------------------
    def run(self, extra: list[keras.callbacks.Callback], prior: list[dict[str, float]],
            restored: Sequence[np.ndarray] | None) -> TrainingResult:
        model, config = self.model, self.config
        adapt_normalization(model, self.data.x_train)
        compile_model(model, config, self.task, jit_compile=False)
        model.optimizer.build(model.trainable_variables)
        self._loss = _per_example(model.loss)
        weights = (class_weights(self.data.y_train, self.data.info.num_classes)
                   if config.class_weight == "balanced" and self.task == "classification"
                   else None)
        self._class_weights = (None if weights is None else
                               tf.constant([weights[c] for c in sorted(weights)], tf.float32))
        self._train_step = self._make_step(training=True)
        self._eval_step = self._make_step(training=False)

        # Whole global batches only: a smaller last one could leave a replica an empty batch
        # (NaN batch statistics) and would weigh its gradient by the full batch size.
        steps = len(self.data.x_train) // self.global_batch
        callback = StudioCallback(self.sink, self.control, epochs=config.epochs,
                                  steps_per_epoch=steps, batch_size=self.global_batch)
        callbacks = training_callbacks(config, self.data, self.log_dir)
        for hook in callbacks:
            if isinstance(hook, ValidationMetrics):
                hook.predict = self._predict
        callback.schedule = next((c for c in callbacks if isinstance(c, LearningRatePolicy)),
                                 None)
        callbacks += [callback, *extra]
        hooks = keras.callbacks.CallbackList(callbacks, model=model, epochs=config.epochs,
                                             steps=steps)
        model.stop_training = False
        start = int(from_chief(self.strategy, [tf.constant(len(prior), tf.int64)])[0])
        # Loading weights runs collectives under this strategy, which only the chief would
        # run: the chief's backup was read outside it (``restored``) and is sent to everyone.
        for hook in callbacks:
            if isinstance(hook, keras.callbacks.BackupAndRestore):
                hook.on_train_begin = _nothing  # it would load the backup
        hooks.on_train_begin()
        variables = model.weights + model.optimizer.variables
        self._from_chief_into(variables, restored)
        callback.history.extend(prior[:start])
        self.sink(TrainingStarted(config.epochs, steps, len(self.data.x_train),
                                  len(self.data.x_val), initial_epoch=start,
                                  metric=main_metric(self.task),
                                  device=self.placement.summary(self.global_batch),
                                  device_notes=self.placement.notes))
        for epoch, row in enumerate(prior[:start]):
            self.sink(EpochEnded(epoch, config.epochs, 0.0, row, replayed=True))
        stopped = self._epochs(hooks, callback, start)
        history = callback.history
        early = next((c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)),
                     None)
        reason, diverged = end_reason(config, history, stopped, early)
        # Decided by the chief: only it holds the epochs of an interrupted run.
        evaluate = bool(from_chief(self.strategy, [tf.constant(
            int(bool(len(self.data.x_test)) and bool(history) and not diverged))])[0])
        test_logs: dict[str, float] = {}
        if evaluate:  # before on_train_end, which deletes the backup
            test_logs = self._evaluate(self.data.x_test, self.data.y_test, prefix="")
        hooks.on_train_end(history[-1] if history else {})
        self.sink(TrainingEnded(len(history), stopped or len(history) < callback.epochs,
                                reason, test_logs))
        return TrainingResult(model, history, stopped or len(history) < callback.epochs,
                              diverged, reason, test_logs)

    def _epochs(self, hooks: keras.callbacks.CallbackList, callback: StudioCallback,
                start: int) -> bool:
        """Train from epoch ``start``; True if the user stopped it."""
        model = self.model
        train = self._distribute(self.data.x_train, self.data.y_train, shuffle=True)
        epoch = start
        while epoch < callback.epochs and not model.stop_training:
            hooks.on_epoch_begin(epoch)
            totals = np.zeros(4)
            logs: dict[str, float] = {}
            try:
                for step, batch in enumerate(train):
                    hooks.on_train_batch_begin(step)
                    totals += [float(v) for v in self._train_step(batch)]
                    logs = self._logs(totals, "")
                    hooks.on_train_batch_end(step, logs)
                    if model.stop_training:
                        break
            except TrainingStopped:
                return True
            # Batch normalisation's moving statistics are each replica's own: take replica
            # 0's everywhere, so every worker validates (and saves) the same model.
            self._from_chief_into(model.non_trainable_variables, None)
            logs.update(self._evaluate(self.data.x_val, self.data.y_val, prefix="val_"))
            hooks.on_epoch_end(epoch, self._agreed(logs))
            epoch += 1
        return False

    # ----- steps ----------------------------------------------------------------------------
    def _distribute(self, x: np.ndarray, y: np.ndarray, *, shuffle: bool) -> Any:
        dataset = make_pipeline(x, y, self.global_batch, shuffle=shuffle, seed=self.seed,
                                drop_remainder=shuffle)
        options = tf.data.Options()
        # In-memory arrays have no files to split: every worker takes its share of each batch.
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA)
        return self.strategy.experimental_distribute_dataset(dataset.with_options(options))

    def _make_step(self, *, training: bool) -> Callable[[Any], Sequence[tf.Tensor]]:
        """A tf.function returning global sums: (loss, main metric, squared error, samples)."""
        model, strategy, loss_fn = self.model, self.strategy, self._loss
        optimizer, weights = model.optimizer, self._class_weights
        classification = self.task == "classification"
        global_batch = self.global_batch

        def replica_step(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, ...]:
            with tf.GradientTape() as tape:
                pred = model(x, training=training)
                per_example = tf.cast(loss_fn(y, pred), tf.float32)
                if training and weights is not None:
                    per_example *= tf.gather(weights, tf.cast(y, tf.int32))
                regularization = (tf.add_n([tf.cast(v, tf.float32) for v in model.losses])
                                  if model.losses else tf.constant(0.0))
                loss = (tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
                        + tf.nn.scale_regularization_loss(regularization))
                scaled = optimizer.scale_loss(loss) if training else loss
            if training:
                variables = model.trainable_variables
                optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables,
                                              strict=True))
            pred = tf.cast(pred, tf.float32)
            count = tf.cast(tf.shape(pred)[0], tf.float32)
            if classification:
                labels = tf.cast(tf.reshape(y, [-1]), tf.int64)
                hits = tf.cast(tf.equal(tf.argmax(pred, axis=-1), labels), tf.float32)
                main, squared = tf.reduce_sum(hits), tf.constant(0.0)
            else:
                error = pred - tf.reshape(tf.cast(y, tf.float32), tf.shape(pred))
                main = tf.reduce_sum(tf.reduce_mean(tf.abs(error), axis=-1))
                squared = tf.reduce_sum(tf.reduce_mean(tf.square(error), axis=-1))
            return (tf.reduce_sum(per_example) + regularization * count, main, squared, count)

        def step(batch: Any) -> list[tf.Tensor]:
            results = strategy.run(replica_step, args=batch)
            return [strategy.reduce(tf.distribute.ReduceOp.SUM, r, axis=None) for r in results]

        compiled: Callable[[Any], Sequence[tf.Tensor]] = tf.function(step)
        return compiled

    def _evaluate(self, x: np.ndarray, y: np.ndarray, prefix: str) -> dict[str, float]:
        totals = np.zeros(4)
        for batch in self._distribute(x, y, shuffle=False):
            totals += [float(v) for v in self._eval_step(batch)]
        return self._logs(totals, prefix)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs on every worker alike, without collectives (the weights are
        the same everywhere)."""
        size = self.global_batch
        return np.concatenate([np.asarray(self.model(x[i:i + size], training=False),
                                          dtype=np.float32)
                               for i in range(0, len(x), size)])

    def _logs(self, totals: np.ndarray, prefix: str) -> dict[str, float]:
        loss, main, squared, count = totals
        count = max(count, 1.0)
        logs = {"loss": loss / count}
        if self.task == "classification":
            logs["accuracy"] = main / count
        else:
            logs["mae"] = main / count
            extras = self.config.metrics_for(self.task)
            if "mse" in extras:
                logs["mse"] = squared / count
            if "rmse" in extras:
                logs["rmse"] = math.sqrt(squared / count)
        return {prefix + key: float(value) for key, value in logs.items()}

    # ----- agreement between workers --------------------------------------------------------
    def _agreed(self, logs: dict[str, float]) -> dict[str, float]:
        """The chief's logs, so early stopping and schedules decide alike on every worker
        (the scikit-learn metrics are computed on each worker's own predictions)."""
        keys = sorted(logs)
        values = from_chief(self.strategy, [tf.constant([logs[k] for k in keys], tf.float64)])
        return {key: float(value) for key, value in zip(keys, values[0].numpy(), strict=True)}

    def _from_chief_into(self, variables: list[Any],
                         values: Sequence[np.ndarray] | None) -> None:
        """Give ``variables`` the chief's ``values`` (or its variables' values) everywhere."""
        own = ([tf.convert_to_tensor(v.value) for v in variables] if values is None else
               [tf.convert_to_tensor(v, dtype=w.dtype) for v, w in zip(values, variables,
                                                                          strict=True)])
        values = from_chief(self.strategy, own)
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)


def _who_was_lost(message: str) -> str:
    """TensorFlow names the unhealthy task ("/job:worker/replica:0/task:1") when it knows."""
    found = re.search(r"unhealthy[^/]*/job:(\w+)/replica:\d+/task:(\d+)", message)
    if found is None:
        found = re.search(r"reported from /job:(\w+)/task:(\d+)", message)
    return f"{found[1]} {found[2]}" if found else "another worker"


def _nothing(logs: dict[str, float] | None = None) -> None:
    pass


def weights_digest(model: keras.Model) -> str:
    """A short hash of every weight's bytes: equal on workers that hold the same model."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


def _per_example(loss: keras.losses.Loss) -> keras.losses.Loss:
    """The compiled loss without its reduction: the loop averages over the global batch."""
    config = {**loss.get_config(), "reduction": None}
    return type(loss).from_config(config)

"""Find the largest batch that fits: a few real training steps at growing batch sizes.

Memory use depends on the model, the data, the optimizer and the device, so the only honest
answer is to try: each size gets a fresh model, compiled as training would compile it, one
warm-up step (tracing) and a few timed steps, where and how the project trains (its device
choice, precision and XLA). A size that runs out of memory ends the search, since every
larger one would too.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from studio.core.batch_probe import BatchProbeResult, BatchTrial, batch_sizes
from studio.core.project import Project
from studio.ml.datasets import LoadedData, load_dataset
from studio.ml.file_datasets import LoadCancelled
from studio.ml.normalization import adapt_normalization
from studio.ml.placement import ResolvedPlacement, resolve
from studio.ml.summary import build_model
from studio.ml.training import compile_model

#: ``progress(trials done, trials planned, what now)``.
Progress = Callable[[int, int, str], None]
TrainStep = Callable[[keras.Model, np.ndarray, np.ndarray], object]

SMALLEST_BATCH = 16
#: Normalization statistics do not change memory use or speed: a sample adapts them quickly.
ADAPT_SAMPLES = 1024


def probe_batch_sizes(project: Project, *, steps: int = 3, max_batch: int = 8192,
                      progress: Progress | None = None,
                      cancelled: Callable[[], bool] | None = None,
                      train_step: TrainStep | None = None,
                      release: Callable[[], object] = gc.collect) -> BatchProbeResult:
    """Blocking; raises StudioError subclasses for a project that cannot train.

    ``cancelled`` is asked before each size and between steps (a size cut short is not
    reported). ``train_step`` replaces ``model.train_on_batch``, so tests can run out of
    memory on a machine that never does. ``release`` frees the previous size's model (its
    device memory) before the next size: a full garbage collection, which a window must run
    on its own thread (collecting Qt objects elsewhere deadlocks). Under MirroredStrategy
    ``train_on_batch`` gives every replica the whole batch, so the answer is what fits on one
    device (on the safe side: training splits a batch across the replicas).
    """
    if steps < 1 or max_batch < 1:
        raise ValueError(f"steps and max_batch must be positive; got {steps}, {max_batch}")
    project.training.loss_for(project.dataset.info.task)  # refuse a mismatch before loading
    stop = cancelled or (lambda: False)
    step = train_step or _train_on_batch
    try:
        data = load_dataset(project.dataset, cancelled=stop)
    except LoadCancelled:
        return BatchProbeResult((), cancelled=True)
    where = resolve(project.devices)  # after loading: the memory policy is applied by now
    samples = len(data.x_train)
    cap = min(max_batch, samples)
    sizes = batch_sizes(min(SMALLEST_BATCH, cap), cap)
    trials: list[BatchTrial] = []
    for index, size in enumerate(sizes):
        if stop():
            return BatchProbeResult(tuple(trials), cancelled=True, training_samples=samples)
        if progress:
            progress(index, len(sizes), f"Trying a batch of {size} ({steps} steps)")
        trial = _try_size(project, data, where, size, steps, step, stop)
        release()
        if trial is None:
            return BatchProbeResult(tuple(trials), cancelled=True, training_samples=samples)
        trials.append(trial)
        if not trial.fits:
            break
    if progress:
        progress(len(sizes), len(sizes), "Done")
    return BatchProbeResult(tuple(trials), training_samples=samples)


def _try_size(project: Project, data: LoadedData, where: ResolvedPlacement, size: int,
              steps: int, step: TrainStep, stop: Callable[[], bool]) -> BatchTrial | None:
    """One size on a fresh model; None when cancelled part-way."""
    model: keras.Model | None = None
    try:
        with where.strategy.scope():  # as train_project makes it: variables on its devices
            model = build_model(project.model, data.info, name="batch_probe",
                                dtype_policy=where.dtype_policy)
            adapt_normalization(model, data.x_train[:ADAPT_SAMPLES])
            compile_model(model, project.training, data.info.task, where.jit_compile)
        x, y = _batch(data.x_train, data.y_train, size, 0)
        step(model, x, y)  # traces the training step: not timed
        elapsed = 0.0
        for number in range(1, steps + 1):
            if stop():
                return None
            x, y = _batch(data.x_train, data.y_train, size, number)
            started = time.perf_counter()
            step(model, x, y)
            elapsed += time.perf_counter() - started
    except tf.errors.ResourceExhaustedError as error:
        on_gpu = where.on_gpu or "GPU" in (error.message or "")
        return BatchTrial(size, False, None,
                          "ran out of GPU memory" if on_gpu else "ran out of memory")
    except MemoryError:
        return BatchTrial(size, False, None, "ran out of memory")
    finally:
        # Only this model's memory is freed: clear_session() would pull the graph from under
        # other threads still using Keras.
        del model
    return BatchTrial(size, True, size * steps / elapsed if elapsed > 0 else None)


def _train_on_batch(model: keras.Model, x: np.ndarray, y: np.ndarray) -> object:
    # Returns the logs as Python numbers, so a timed step has finished on the device.
    return model.train_on_batch(x, y)


def _batch(x: np.ndarray, y: np.ndarray, size: int, number: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """The ``number``-th run of ``size`` consecutive samples, wrapping round the split."""
    start = (number * size) % (len(x) - size + 1)
    return x[start:start + size], y[start:start + size]


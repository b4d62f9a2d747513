"""The input pipeline keeps training fed: its throughput against ``model.fit``'s.

Both sides use the studio's own pieces: ``make_pipeline`` (from_tensor_slices, cache,
shuffle, batch, prefetch) and a model from ``build_model`` compiled with ``compile_model``.
The arrays are made here with numpy, independent of the dataset loaders:

* digits: scikit-learn's 1,797 8x8 digits scaled to [0, 1], the default project's model
  and batch size;
* MNIST-shaped: 20,000 random 28x28x1 float32 images, 10 classes, a small
  Conv2D(16)-MaxPooling2D-Flatten-Dense(10) stack, same batch size.

Pipeline: one cold epoch (the first pass fills ``.cache()`` and the shuffle buffer), then
warm epochs, iterated from Python; each batch is consumed by reading its first dimension
(``x.shape[0]``), no work on the tensors. The Python loop's per-batch overhead is counted,
so this is a lower bound on what tf.data can deliver. Training: one ``model.fit`` epoch to
trace, then timed ``model.fit`` calls (``verbose=0``) on the same pipeline object. Warm
pipeline epochs and a fit call alternate in rounds, and the goal is the median over rounds
of the within-round ratio, because other work on the machine changes speed over time.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import tensorflow as tf

    from studio.core.dataset_catalog import DatasetInfo
    from studio.core.model_spec import ModelSpec
    from studio.core.training_config import TrainingConfig

GOAL_RATIO = 5.0
SYNTHETIC_SAMPLES = 20_000


@dataclass(frozen=True)
class _Case:
    label: str
    model: str
    batch_size: int
    cold: float  # samples/s, first pass over the pipeline
    warm: float  # samples/s, median of all warm pipeline epochs
    train: float  # samples/s, median of the timed fit calls
    ratio: float  # median over rounds of (round's warm pipeline rate / round's fit rate)
    rounds: int
    pipeline_epochs: int  # warm pipeline epochs per round
    fit_epochs: int  # epochs per timed fit call (one call per round)

    def rows(self) -> list[tuple[str, str, str, str]]:
        plural = "s" * (self.fit_epochs > 1)
        return [
            (f"input pipeline, {self.label}, cold epoch", f"{self.cold:,.0f} samples/s", "—", "—"),
            (f"input pipeline, {self.label}, warm", f"{self.warm:,.0f} samples/s (median of "
             f"{self.rounds * self.pipeline_epochs} epochs)", "—", "—"),
            (f"model.fit, {self.label}, {self.model}, batch {self.batch_size}",
             f"{self.train:,.0f} samples/s (median of {self.rounds} x {self.fit_epochs} "
             f"epoch{plural})", "—", "—"),
            (f"pipeline / training, {self.label}", f"{self.ratio:,.1f}x warm (median of "
             f"{self.rounds} rounds; cold epoch {self.cold / self.train:,.1f}x)",
             f">= {GOAL_RATIO:.0f}x", "met" if self.ratio >= GOAL_RATIO else "MISSED"),
        ]


def _epoch_rate(dataset: tf.data.Dataset, samples: int) -> float:
    """Samples/s of one pass over ``dataset``, consuming each batch by reading ``x.shape[0]``."""
    seen = 0
    start = time.perf_counter()
    for x, _y in dataset:
        seen += int(x.shape[0])
    elapsed = time.perf_counter() - start
    assert seen == samples
    return samples / elapsed


def _measure(label: str, x: np.ndarray, y: np.ndarray, model_name: str, spec: ModelSpec,
             info: DatasetInfo, config: TrainingConfig, *, rounds: int, pipeline_epochs: int,
             fit_epochs: int) -> _Case:
    """Cold pass, one tracing fit epoch, then ``rounds`` of (warm pipeline epochs, one fit).

    Pipeline and fit are timed back to back in each round and compared within the round, so
    a change in machine load between rounds moves both sides together.
    """
    from studio.ml.pipeline import make_pipeline
    from studio.ml.summary import build_model
    from studio.ml.training import compile_model

    samples = len(x)
    pipeline = make_pipeline(x, y, config.batch_size, shuffle=True, seed=0)
    cold = _epoch_rate(pipeline, samples)  # fills .cache() and the shuffle buffer

    model = build_model(spec, info, seed=0)
    compile_model(model, config, info.task)
    model.fit(pipeline, epochs=1, verbose=0, shuffle=False)  # traces the train step
    warm: list[float] = []
    fits: list[float] = []
    ratios: list[float] = []
    for _ in range(rounds):
        epochs = [_epoch_rate(pipeline, samples) for _ in range(pipeline_epochs)]
        start = time.perf_counter()
        model.fit(pipeline, epochs=fit_epochs, verbose=0, shuffle=False)
        fits.append(fit_epochs * samples / (time.perf_counter() - start))
        warm += epochs
        ratios.append(statistics.median(epochs) / fits[-1])
    return _Case(label, model_name, config.batch_size, cold, statistics.median(warm),
                 statistics.median(fits), statistics.median(ratios), rounds, pipeline_epochs,
                 fit_epochs)


def run() -> list[tuple[str, str, str, str]]:
    import numpy as np
    from sklearn.datasets import load_digits

    from studio.core.dataset_catalog import BUILTIN_DATASETS, DatasetInfo
    from studio.core.defaults import default_project
    from studio.core.model_spec import LayerSpec, ModelSpec

    project = default_project()
    try:
        digits_info = project.dataset.info
    except AttributeError:
        digits_info = BUILTIN_DATASETS["digits"]

    digits = load_digits()
    x_digits = (digits.images.reshape(-1, 8, 8, 1) / 16).astype(np.float32)
    y_digits = digits.target.astype(np.int64)
    cases = [_measure(f"digits {len(x_digits):,}x8x8x1", x_digits, y_digits, "default model",
                      project.model, digits_info, project.training, rounds=5,
                      pipeline_epochs=4, fit_epochs=3)]

    rng = np.random.default_rng(0)
    x_big = rng.random((SYNTHETIC_SAMPLES, 28, 28, 1), dtype=np.float32)
    y_big = rng.integers(0, 10, SYNTHETIC_SAMPLES).astype(np.int64)
    big_info = DatasetInfo("synthetic", "Random 28x28 images", "classification", (28, 28, 1),
                           10, SYNTHETIC_SAMPLES, "MNIST-shaped random images.",
                           tuple(str(d) for d in range(10)))
    big_spec = ModelSpec((
        LayerSpec.create("Conv2D", filters=16, kernel_size=3, activation="relu"),
        LayerSpec.create("MaxPooling2D", pool_size=2),
        LayerSpec.create("Flatten"),
        LayerSpec.create("Dense", units=10, activation="softmax"),
    ))
    cases.append(_measure(f"random {SYNTHETIC_SAMPLES:,}x28x28x1", x_big, y_big,
                          "Conv16-Pool-Dense10", big_spec, big_info, project.training,
                          rounds=3, pipeline_epochs=2, fit_epochs=1))
    return [row for case in cases for row in case.rows()]


if __name__ == "__main__":  # this benchmark alone: python -m tests.benchmarks.bench_pipeline
    for row in run():
        print(" | ".join(row))

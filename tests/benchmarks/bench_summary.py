"""Time for Keras to analyse a 30-layer stack (the builder re-runs this after each edit)."""

from __future__ import annotations

import statistics
import time

GOAL_MS = 100.0


def run(repeats: int = 20) -> list[tuple[str, str, str, str]]:
    from studio.core.dataset_catalog import BUILTIN_DATASETS
    from studio.core.model_spec import LayerSpec, ModelSpec
    from studio.ml.summary import summarize

    layers = [LayerSpec.create("Conv2D", filters=8, padding="same")] * 10
    layers += [LayerSpec.create("BatchNormalization"), LayerSpec.create("Dropout", rate=0.1)] * 5
    layers += [LayerSpec.create("Flatten")]
    layers += [LayerSpec.create("Dense", units=32)] * 8
    layers += [LayerSpec.create("Dense", units=10, activation="softmax")]
    spec = ModelSpec(tuple(layers))
    info = BUILTIN_DATASETS["digits"]
    assert len(spec.layers) == 30 and summarize(spec, info).valid  # also warms Keras up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        summarize(spec, info)
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    return [("analyse a 30-layer stack with Keras",
             f"{median:.0f} ms (median of {repeats}, max {max(times):.0f})",
             f"< {GOAL_MS:.0f} ms", "met" if median < GOAL_MS else "MISSED")]

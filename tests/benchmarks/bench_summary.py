"""Time for Keras to analyse a 30-layer stack, as the builder does after each edit.

"after one edit" changes one layer in the middle (a Dense layer's units, a different value
each time, so the layers whose input changed are really rebuilt); "cold" clears the
per-layer cache first, as for a stack opened for the first time.
"""

from __future__ import annotations

import statistics
import time

GOAL_MS = 100.0


def run(repeats: int = 20) -> list[tuple[str, str, str, str]]:
    from studio.core.dataset_catalog import BUILTIN_DATASETS
    from studio.core.model_spec import LayerSpec, ModelSpec
    from studio.ml import summary as summary_module

    layers = [LayerSpec.create("Conv2D", filters=8, padding="same")] * 10
    layers += [LayerSpec.create("BatchNormalization"), LayerSpec.create("Dropout", rate=0.1)] * 5
    layers += [LayerSpec.create("Flatten")]
    layers += [LayerSpec.create("Dense", units=32)] * 8
    layers += [LayerSpec.create("Dense", units=10, activation="softmax")]
    spec = ModelSpec(tuple(layers))
    info = BUILTIN_DATASETS["digits"]
    assert len(spec.layers) == 30 and summary_module.summarize(spec, info).valid  # warm-up

    def timed(edit: int, cold: bool) -> float:
        edited = spec.replaced(24, LayerSpec.create("Dense", units=100 + edit))
        if cold:
            summary_module._layer_facts.cache_clear()
        start = time.perf_counter()
        result = summary_module.summarize(edited, info)
        elapsed = (time.perf_counter() - start) * 1000
        assert result.rows[24].output_shape == (100 + edit,)
        return elapsed

    edits = [timed(i, cold=False) for i in range(repeats)]
    colds = [timed(1000 + i, cold=True) for i in range(5)]
    median = statistics.median(edits)
    return [
        ("analyse a 30-layer stack after one edit", f"{median:.0f} ms (median of {repeats}, "
         f"max {max(edits):.0f})", f"< {GOAL_MS:.0f} ms", "met" if median < GOAL_MS else
         "MISSED"),
        ("analyse a 30-layer stack, cold", f"{statistics.median(colds):.0f} ms (median of 5)",
         "—", "—"),
    ]

"""The threads per operation of a training, from its model's size."""

from __future__ import annotations

from studio.core.cpu_threads import (
    ONE_THREAD_BELOW,
    multiply_adds_per_sample,
    threads_per_operation,
)
from studio.core.summary import LayerProblem, LayerRow, ModelSummary


def _summary(*rows: tuple[str, tuple[int, ...] | None, int | None],
             problems: tuple[LayerProblem, ...] = ()) -> ModelSummary:
    layers = tuple(LayerRow(i, f"layer_{i}", kind, shape, params)
                   for i, (kind, shape, params) in enumerate(rows))
    total = sum(p or 0 for _, _, p in rows)
    return ModelSummary((8, 8, 1), layers, total, total, 0, problems)


def test_each_layer_counts_its_parameters_at_every_position_it_is_applied():
    summary = _summary(("Conv2D", (8, 8, 16), 160),  # 64 positions
                       ("MaxPooling2D", (4, 4, 16), 0),
                       ("Flatten", (256,), 0),
                       ("Dense", (10,), 2570),  # one position
                       ("Dense", (5, 3), 12))  # a Dense over 5 steps
    assert multiply_adds_per_sample(summary) == 160 * 64 + 2570 + 12 * 5


def test_a_small_model_gets_one_thread_and_a_large_one_tensorflows_default():
    small = _summary(("Dense", (64,), 10_000))
    assert threads_per_operation(small, batch_size=32) == 1
    per_sample = multiply_adds_per_sample(small)
    # The same model with a batch that reaches the limit keeps the default.
    batch = -(-ONE_THREAD_BELOW // per_sample)
    assert threads_per_operation(small, batch_size=batch) is None
    assert threads_per_operation(small, batch_size=batch - 1) == 1
    big = _summary(("Conv2D", (64, 64, 128), 73_856))
    assert threads_per_operation(big, batch_size=1) is None


def test_an_invalid_or_empty_model_keeps_tensorflows_default():
    broken = _summary(("Dense", (64,), 10_000),
                      problems=(LayerProblem(0, "needs a flat input"),))
    assert threads_per_operation(broken, batch_size=32) is None
    assert threads_per_operation(_summary(), batch_size=32) is None
    assert threads_per_operation(None, batch_size=32) is None
    unreached = _summary(("Dense", None, None))
    assert multiply_adds_per_sample(unreached) == 0


def test_more_cores_lower_the_limit_and_one_core_keeps_the_default():
    model = _summary(("Dense", (64,), 10_000))  # 10,000 multiply-adds a sample
    batch = ONE_THREAD_BELOW // 10_000 // 4  # a quarter of the two-core limit
    assert threads_per_operation(model, batch, cores=2) == 1
    assert threads_per_operation(model, batch, cores=4) == 1
    assert threads_per_operation(model, batch, cores=8) is None
    assert threads_per_operation(model, 1, cores=1) is None  # nothing to split over

"""How many CPU threads each TensorFlow operation of a training may use.

Why: TensorFlow splits every operation over all the cores (its intra-op thread pool). For a
small model the hand-offs between those threads cost more than the splitting saves. Measured
on two cores, a fit with one thread per operation against TensorFlow's default (samples/s,
interleaved runs): a 5 k multiply-add MLP for a CSV 1.15x, the digits CNN 1.4-1.5x, a 28x28
CNN (136 M multiply-adds a batch) 1.56x, a 784-1024-1024 MLP (238 M) 1.06x; but a CIFAR-sized
CNN (800 M) 0.84x and a 64x64 one (3.9 G) 0.75x. So on two cores a training whose batch
needs fewer than ``ONE_THREAD_BELOW`` multiply-adds runs each operation on one thread; a larger
one keeps TensorFlow's default. With more cores splitting pays off sooner, so the limit shrinks
in proportion (not measured here: more cores than two were not at hand; the guess errs towards
the default). So does the estimate: layers whose weights are not multiplied at every position
(an embedding) count as if they were.

The choice must be made before TensorFlow's runtime starts in the training's process, so it
is made from the model's summary (which does not start it).
"""

from __future__ import annotations

import math

from studio.core.summary import ModelSummary

#: Multiply-adds per training batch (forward pass) below which one thread per operation is
#: faster on two cores (see the module docstring).
ONE_THREAD_BELOW = 300_000_000


def multiply_adds_per_sample(summary: ModelSummary) -> int:
    """The forward pass's multiply-adds for one sample, estimated as each layer's parameters
    times the positions it is applied at (all output axes but the last: 1 for a Dense on a
    vector, height x width for a 2-D convolution)."""
    total = 0
    for row in summary.rows:
        if not row.params or row.output_shape is None:
            continue
        positions = math.prod(d or 1 for d in row.output_shape[:-1])
        total += row.params * positions
    return total


def threads_per_operation(summary: ModelSummary | None, batch_size: int,
                          cores: int = 2) -> int | None:
    """1 for a model small for ``cores`` CPU cores, None for TensorFlow's default (also on
    one core, and when the model is not valid: its summary says nothing of its size)."""
    if summary is None or not summary.valid or not summary.rows or cores < 2:
        return None
    limit = ONE_THREAD_BELOW * 2 / cores
    if multiply_adds_per_sample(summary) * max(1, batch_size) < limit:
        return 1
    return None

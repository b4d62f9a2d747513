"""The batch search trains for real on the CPU; running out of memory is injected.

This machine never runs out of memory at these sizes, so the out-of-memory path replaces
Keras' training step with one that raises what TensorFlow raises on a full GPU.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import tensorflow as tf

from studio.core.dataset_spec import DatasetSpec, GeneratedSource
from studio.core.errors import ModelSpecError
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.project import Project
from studio.ml.batch_probe import probe_batch_sizes


def _project(samples):
    """A Normalization + Dense stack on ``samples`` points (80 % for training): fast to trace.

    Each size costs about half a second (a fresh model's training step is traced), so the
    tests keep the number of sizes small.
    """
    model = ModelSpec((LayerSpec.create("Normalization"),
                       LayerSpec.create("Dense", units=8, activation="relu"),
                       LayerSpec.create("Dense", units=2, activation="softmax")))
    return Project(name="probe", model=model,
                   dataset=DatasetSpec(GeneratedSource("circles", samples=samples), seed=1))


@pytest.fixture
def small_project():
    return _project(200)  # sizes 16, 32, 64, 128, 160


def _stepping(sizes, fails_above=None, error=None):
    """A train step that records each batch size and fails above ``fails_above``."""
    def step(model, x, y):
        sizes.append(len(x))
        if fails_above is not None and len(x) > fails_above:
            raise error
        return model.train_on_batch(x, y)
    return step


def test_every_size_fits_up_to_the_training_split_on_the_cpu():
    seen = []
    result = probe_batch_sizes(_project(100), steps=2,
                               progress=lambda *args: seen.append(args))
    assert [t.batch_size for t in result.trials] == [16, 32, 64, 80]
    assert all(t.fits and t.samples_per_second > 0 for t in result.trials)
    assert result.largest_fit == 80 and result.training_samples == 80
    assert not result.cancelled
    assert "the training split has 80 samples" in result.summary()
    assert [args[:2] for args in seen] == [(i, 4) for i in range(5)]
    assert seen[2][2] == "Trying a batch of 64 (2 steps)"


def test_the_search_stops_at_its_own_limit(small_project):
    result = probe_batch_sizes(small_project, steps=1, max_batch=20)
    assert [t.batch_size for t in result.trials] == [16, 20]
    assert "Every size up to 20 fits (the largest this search tries)" in result.summary()


def test_running_out_of_memory_ends_the_search(small_project):
    sizes = []
    oom = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
    result = probe_batch_sizes(small_project, steps=1,
                               train_step=_stepping(sizes, fails_above=64, error=oom))
    assert result.largest_fit == 64
    assert [t.fits for t in result.trials] == [True, True, True, False]
    last = result.trials[-1]
    assert (last.batch_size, last.samples_per_second) == (128, None)
    assert last.message == "ran out of memory"  # no GPU here, and the message names none
    assert max(sizes) == 128, "nothing larger than the first failure is tried"
    assert result.summary().startswith(
        "The largest batch that fits is 64 (tried up to 128, which ran out of memory).")


@pytest.mark.parametrize(("error", "message"), [
    (tf.errors.ResourceExhaustedError(
        None, None, "OOM when allocating tensor on /device:GPU:0"), "ran out of GPU memory"),
    (MemoryError(), "ran out of memory"),
])
def test_what_ran_out_is_said(error, message):
    sizes = []
    result = probe_batch_sizes(_project(100), steps=1,
                               train_step=_stepping(sizes, fails_above=16, error=error))
    assert [(t.batch_size, t.fits, t.message) for t in result.trials] == [
        (16, True, ""), (32, False, message)]


def test_cancel_between_sizes_keeps_what_was_found(small_project):
    sizes = []
    # Warm-up and one timed step make the first size; then the search is cancelled.
    result = probe_batch_sizes(small_project, steps=1, train_step=_stepping(sizes),
                               cancelled=lambda: len(sizes) >= 2)
    assert result.cancelled
    assert [t.batch_size for t in result.trials] == [16] and result.trials[0].fits
    assert sizes == [16, 16]
    assert result.summary().startswith("Cancelled after 16")


def test_cancel_during_a_size_drops_that_size(small_project):
    cancel = []
    result = probe_batch_sizes(small_project, steps=3,
                               progress=lambda done, total, text: cancel.append(done >= 1),
                               cancelled=lambda: any(cancel))
    assert result.cancelled
    assert [t.batch_size for t in result.trials] == [16]


def test_an_invalid_stack_is_a_user_error(small_project):
    bad = replace(small_project, model=ModelSpec((
        LayerSpec.create("Conv2D", filters=4, kernel_size=3),
        LayerSpec.create("Dense", units=2, activation="softmax"))))
    with pytest.raises(ModelSpecError):
        probe_batch_sizes(bad, steps=1)

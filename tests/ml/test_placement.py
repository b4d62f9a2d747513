"""Where training runs: device choice, mixed precision, XLA, and running out of memory.

These machines have no GPU: GPU choices are resolved against fake logical device names (the
seam), and every path that can run on a CPU is trained for real. MirroredStrategy runs for
real on two logical CPU devices, in a subprocess so the split does not leak into other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from studio.core.errors import OutOfMemory
from studio.core.events import TrainingStarted
from studio.core.placement import Placement
from studio.ml.placement import resolve
from studio.ml.session import train_project

TWO_GPUS = ["/device:GPU:0", "/device:GPU:1"]
CPU = ["/device:CPU:0"]


@pytest.mark.parametrize(("placement", "gpus", "description", "devices", "note"), [
    (Placement(), [], "the CPU", (), None),
    (Placement(), TWO_GPUS, "GPU 0", ("/device:GPU:0",), None),
    (Placement("cpu"), TWO_GPUS, "the CPU", ("/device:CPU:0",), None),
    (Placement("gpu", (1,)), TWO_GPUS, "GPU 1", ("/device:GPU:1",), None),
    (Placement("gpu", (5,)), TWO_GPUS, "GPU 0", ("/device:GPU:0",), "GPU 5 is not present"),
    (Placement("gpu"), [], "the CPU", ("/device:CPU:0",), "No GPU detected"),
    (Placement("mirrored"), [], "the CPU", ("/device:CPU:0",), "No GPU detected"),
    (Placement("mirrored", (0, 3)), TWO_GPUS, "GPU 0 (MirroredStrategy, one replica)",
     ("/device:GPU:0",), "GPU 3 is not present (this machine has 2)"),
])
def test_choices_resolve_to_devices_and_say_what_changed(placement, gpus, description, devices,
                                                         note):
    where = resolve(placement, gpus=gpus, cpus=CPU)
    assert where.description == description
    assert where.devices == devices
    if note is None:
        assert where.notes == ()
    else:
        assert len(where.notes) == 1 and note in where.notes[0]


def test_mirrored_over_every_gpu_by_default():
    where = resolve(Placement("mirrored"), gpus=TWO_GPUS, cpus=CPU)
    assert where.devices == tuple(TWO_GPUS)
    assert isinstance(where.strategy, tf.distribute.MirroredStrategy)
    assert where.description == "GPUs 0, 1 (MirroredStrategy)"


@pytest.mark.parametrize(("gpus", "policy"), [(TWO_GPUS, "mixed_float16"),
                                              ([], "mixed_bfloat16")])
def test_mixed_precision_is_float16_on_gpus_and_bfloat16_on_the_cpu(gpus, policy):
    where = resolve(Placement("auto", mixed_precision=True), gpus=gpus, cpus=CPU)
    assert where.dtype_policy == policy
    assert policy.removeprefix("mixed_") in where.summary(32)


@pytest.mark.parametrize(("xla", "jit"), [("auto", "auto"), ("on", True), ("off", False)])
def test_xla_modes(xla, jit):
    where = resolve(Placement(xla=xla), gpus=[], cpus=CPU)
    assert where.jit_compile == jit


def _started(events):
    return next(e for e in events if isinstance(e, TrainingStarted))


def test_mixed_bfloat16_trains_with_a_float32_output(quick_project):
    project = replace(quick_project, devices=Placement("cpu", mixed_precision=True),
                      training=replace(quick_project.training, epochs=1))
    events = []
    result = train_project(project, events.append)
    layers = result.model.layers[1:]
    assert {layer.dtype_policy.name for layer in layers[:-1]} == {"mixed_bfloat16"}
    assert layers[-1].dtype_policy.name == "float32"
    assert result.model.output.dtype == "float32"
    assert np.isfinite(result.history[-1]["loss"])
    assert "mixed precision (bfloat16, float32 output)" in _started(events).device


def test_mixed_float16_scales_the_loss(quick_project):
    """float16 is what a GPU gets; it also runs (slowly) on a CPU, so the path is real."""
    from studio.ml.datasets import load_dataset
    from studio.ml.summary import build_model
    from studio.ml.training import compile_model

    data = load_dataset(quick_project.dataset)
    model = build_model(quick_project.model, data.info, dtype_policy="mixed_float16")
    compile_model(model, quick_project.training, "classification")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    history = model.fit(data.x_train[:256], data.y_train[:256], batch_size=64, epochs=1,
                        verbose=0)
    assert np.isfinite(history.history["loss"][-1])


def test_xla_on_compiles_the_training_step(quick_project):
    project = replace(quick_project, devices=Placement(xla="on"),
                      training=replace(quick_project.training, epochs=1))
    events = []
    result = train_project(project, events.append)
    assert result.model.jit_compile is True
    assert np.isfinite(result.history[-1]["loss"])
    assert "XLA on" in _started(events).device


class _OutOfMemoryAt(keras.callbacks.Callback):
    """What TensorFlow raises when a GPU allocation fails, injected at a batch."""

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 2:
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")


def test_running_out_of_memory_names_the_batch_size(quick_project):
    from studio.core.control import TrainingControl
    from studio.ml.datasets import load_dataset
    from studio.ml.summary import build_model
    from studio.ml.training import run_training

    data = load_dataset(quick_project.dataset)
    model = build_model(quick_project.model, data.info)
    with pytest.raises(OutOfMemory, match=r"batch size 64.*try 32") as raised:
        run_training(model, data, quick_project.training, lambda e: None, TrainingControl(),
                     extra_callbacks=[_OutOfMemoryAt()])
    assert raised.value.batch_size == 64


MIRRORED = textwrap.dedent("""
    import json, sys
    from dataclasses import replace
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from studio.core.defaults import default_project
    from studio.core.events import TrainingStarted
    from studio.core.placement import Placement
    from studio.ml.session import train_project

    base = default_project()
    base = replace(base, training=replace(base.training, epochs=2, batch_size=64))
    out = {}
    for name in ("mirrored", "cpu"):
        events = []
        result = train_project(replace(base, devices=Placement(name)), events.append)
        started = next(e for e in events if isinstance(e, TrainingStarted))
        out[name] = {"device": started.device, "notes": list(started.device_notes),
                     "replicas": result.model.distribute_strategy.num_replicas_in_sync,
                     "loss": [row["loss"] for row in result.history],
                     "val_accuracy": result.history[-1]["val_accuracy"]}
    print(json.dumps(out))
""")


def test_mirrored_strategy_trains_on_two_logical_cpus():
    done = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    mirrored, single = out["mirrored"], out["cpu"]
    assert mirrored["replicas"] == 2 and single["replicas"] == 1
    assert mirrored["notes"] == []
    assert "2 CPU devices (MirroredStrategy)" in mirrored["device"]
    assert "global batch 64 = 2 replicas x 32" in mirrored["device"]
    assert mirrored["loss"][-1] < mirrored["loss"][0]
    assert mirrored["val_accuracy"] > 0.5
    # Same data, seed and global batch: the same training up to summation order.
    assert mirrored["loss"] == pytest.approx(single["loss"], rel=0.05)


def test_preprocessing_layers_stay_float32_under_mixed_precision():
    """Raw inputs (a year, a price) would round in bfloat16 or overflow in float16."""
    from studio.core.dataset_catalog import DatasetInfo
    from studio.core.model_spec import LayerSpec, ModelSpec
    from studio.ml.summary import build_model

    info = DatasetInfo("t", "t", "classification", (3,), 2, 10, "")
    spec = ModelSpec((LayerSpec("Normalization", {}), LayerSpec("Dense", {"units": 8}),
                      LayerSpec("Dense", {"units": 2, "activation": "softmax"})))
    model = build_model(spec, info, dtype_policy="mixed_float16")
    assert [layer.dtype_policy.name for layer in model.layers[1:]] == [
        "float32", "mixed_float16", "float32"]


@pytest.mark.parametrize(("threads", "gpus", "said"), [
    (1, [], "one thread per operation"), (0, [], None), (1, TWO_GPUS, None),
    (3, [], "3 threads per operation")])
def test_the_log_line_says_threads_per_operation_where_not_tensorflows_default(threads, gpus,
                                                                             said):
    where = replace(resolve(Placement(), gpus=gpus, cpus=CPU), threads_per_operation=threads)
    line = where.summary(32)
    if said is None:
        assert "per operation" not in line
    else:
        assert said in line

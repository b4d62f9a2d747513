"""Device inventory and memory growth, through the source seam (these machines have no GPU)."""

from __future__ import annotations

import pytest

from studio.ml.devices import apply_memory_growth, inventory


class FakeGpu:
    def __init__(self, name):
        self.name = name


class FakeSource:
    """Two GPUs; once ``initialised``, set_memory_growth raises like TensorFlow does."""

    def __init__(self, initialised=False):
        self.gpus = [FakeGpu("/physical_device:GPU:0"), FakeGpu("/physical_device:GPU:1")]
        self.initialised = initialised
        self.growth = {}

    def list_gpus(self):
        return self.gpus

    def details(self, device):
        return {"device_name": f"Fake H100 {device.name[-1]}", "compute_capability": (9, 0)}

    def set_memory_growth(self, device, enabled):
        if self.initialised:
            raise RuntimeError("Physical devices cannot be modified after being initialized")
        self.growth[device.name] = enabled


def test_inventory_lists_fake_gpus_with_details():
    report = inventory(FakeSource())
    assert [g.description for g in report.gpus] == ["Fake H100 0", "Fake H100 1"]
    assert report.gpus[0].compute_capability == "9.0"
    assert report.no_gpu_reason is None
    assert report.tensorflow_version.startswith("2.21")


def test_inventory_without_gpu_says_why():
    report = inventory()  # the real TensorFlow
    if report.gpus:
        pytest.skip("this machine has a GPU; the no-GPU message is for machines without one")
    assert report.no_gpu_reason and "GPU" in report.no_gpu_reason
    assert report.cpu_cores >= 1


def test_memory_growth_applies_before_initialisation():
    source = FakeSource()
    results = apply_memory_growth({"/physical_device:GPU:1": True}, source)
    assert source.growth == {"/physical_device:GPU:0": False, "/physical_device:GPU:1": True}
    assert all(r.applied for r in results)


def test_memory_growth_after_initialisation_is_reported_as_next_launch():
    results = apply_memory_growth({"/physical_device:GPU:0": True}, FakeSource(initialised=True))
    assert not any(r.applied for r in results)
    assert "takes effect at the next launch" in results[0].message


def test_editing_the_model_does_not_initialise_tensorflow_devices():
    """Summaries run while the user edits; if they initialised TensorFlow's devices, the
    memory-growth policy could never be applied before training. Device configuration only
    works before initialisation, so configuring two logical CPUs after a summary proves it."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import tensorflow as tf
        from studio.core.defaults import default_project
        from studio.ml.summary import summarize
        project = default_project()
        assert summarize(project.model, project.dataset.info).valid
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        print(len(tf.config.list_logical_devices("CPU")))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "2"

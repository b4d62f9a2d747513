"""Device inventory and memory growth, through the source seam (these machines have no GPU)."""

from __future__ import annotations

import json

import pytest

from studio.core.devices import MemoryPolicy
from studio.core.utilisation import GpuStatus
from studio.ml.devices import (
    apply_memory_policy,
    forget_applied_policy,
    inventory,
    leave_gpu_memory_to_training,
)
from studio.ml.nvml import DriverInfo, Nvml


@pytest.fixture(autouse=True)
def _fresh_process_state():
    forget_applied_policy()
    yield
    forget_applied_policy()


class FakeNvml(Nvml):
    """A driver that knows three GPUs (TensorFlow may see fewer: CUDA_VISIBLE_DEVICES)."""

    def __init__(self):
        super().__init__(api=object())

    def available(self):
        return True

    def unavailable_reason(self):
        return ""

    def driver(self):
        return DriverInfo("550.54.15", "12.4")

    def gpus(self):
        return [GpuStatus(i, f"Fake H100 {i}", 81559.0, 1000.0 * (i + 1), 10.0)
                for i in range(3)]


class FakeGpu:
    def __init__(self, name):
        self.name = name


class FakeSource:
    """Two GPUs; once ``initialised``, set_memory_growth raises like TensorFlow does."""

    def __init__(self, initialised=False):
        self.gpus = [FakeGpu("/physical_device:GPU:0"), FakeGpu("/physical_device:GPU:1")]
        self.initialised = initialised
        self.growth = {}
        self.limits = {}

    def list_gpus(self):
        return self.gpus

    def details(self, device):
        return {"device_name": f"Fake H100 {device.name[-1]}", "compute_capability": (9, 0)}

    def set_memory_growth(self, device, enabled):
        if self.initialised:
            raise RuntimeError("Physical devices cannot be modified after being initialized")
        self.growth[device.name] = enabled

    def set_memory_limit(self, device, limit_mb):
        if self.initialised:
            raise RuntimeError("Virtual devices cannot be modified after being initialized")
        self.limits[device.name] = limit_mb


def test_inventory_lists_fake_gpus_with_details(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    report = inventory(FakeSource(), FakeNvml())
    assert [g.description for g in report.gpus] == ["Fake H100 0", "Fake H100 1"]
    assert [g.index for g in report.gpus] == [0, 1]
    assert report.gpus[0].compute_capability == "9.0"
    assert report.gpus[1].memory_total_mb == 81559.0
    assert report.gpus[1].memory_free_mb == 81559.0 - 2000.0
    assert (report.driver_version, report.cuda_driver_version) == ("550.54.15", "12.4")
    assert report.no_gpu_reason is None
    assert report.tensorflow_version.startswith("2.21")
    text = "\n".join(report.lines())
    assert "NVIDIA driver 550.54.15, supports CUDA 12.4" in text
    assert "GPU 1: Fake H100 1, compute capability 9.0, 79,559 MB free of 81,559 MB" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["gpus"][1]["index"] == 1 and data["gpus"][1]["memory_total_mb"] == 81559.0


def test_visible_devices_renumber_gpus_for_the_driver(monkeypatch):
    """TensorFlow's GPU 0 is the driver's GPU 2 when CUDA_VISIBLE_DEVICES=2,0."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    report = inventory(FakeSource(), FakeNvml())
    assert [g.memory_free_mb for g in report.gpus] == [81559.0 - 3000.0, 81559.0 - 1000.0]


def test_inventory_without_gpu_says_why():
    report = inventory()  # the real TensorFlow
    if report.gpus:
        pytest.skip("this machine has a GPU; the no-GPU message is for machines without one")
    assert report.no_gpu_reason and "GPU" in report.no_gpu_reason
    assert report.cpu_cores >= 1
    assert report.ram_total_mb and report.ram_total_mb > 1024
    assert report.driver_version is None and "driver" in report.driver_note
    assert "No GPU: training runs on the CPU." in report.lines()[-1]


def test_memory_policy_applies_before_initialisation():
    source = FakeSource()
    policy = MemoryPolicy(growth={"/physical_device:GPU:1": True},
                          limit_mb={"/physical_device:GPU:0": 4096})
    results = apply_memory_policy(policy, source)
    assert source.growth == {"/physical_device:GPU:1": True}
    assert source.limits == {"/physical_device:GPU:0": 4096}
    assert all(r.applied for r in results)
    assert "memory capped at 4,096 MB" in results[0].message


def test_a_limit_wins_over_growth():
    """TensorFlow refuses growth and a limit together; the limit is the stronger wish."""
    policy = MemoryPolicy(growth={"g": True}, limit_mb={"g": 2048})
    assert policy.for_gpu("g") == (False, 2048)


def test_memory_policy_after_initialisation_is_reported_as_next_launch():
    results = apply_memory_policy(MemoryPolicy(growth={"/physical_device:GPU:0": True}),
                                  FakeSource(initialised=True))
    assert not any(r.applied for r in results)
    assert "takes effect at the next launch" in results[0].message


def test_the_policy_already_in_effect_needs_no_restart():
    source = FakeSource()
    policy = MemoryPolicy(growth={"/physical_device:GPU:0": True})
    apply_memory_policy(policy, source)
    source.initialised = True  # the first training initialised the GPUs
    assert all(r.applied for r in apply_memory_policy(policy, source))
    changed = apply_memory_policy(MemoryPolicy(), source)
    assert not any(r.applied for r in changed), "growth was on for both GPUs"


def test_tensorflows_default_needs_no_restart_after_initialisation():
    """Something else (opening a model) initialised the GPUs: no growth and no limit is
    what TensorFlow does anyway, so it is not a pending change."""
    results = apply_memory_policy(MemoryPolicy(), FakeSource(initialised=True))
    assert all(r.applied for r in results)


def test_growth_is_shared_by_every_gpu_without_a_limit():
    """TensorFlow refuses GPUs whose memory growth differs."""
    source = FakeSource()
    results = apply_memory_policy(MemoryPolicy(growth={"/physical_device:GPU:0": True}), source)
    assert source.growth == {"/physical_device:GPU:0": True, "/physical_device:GPU:1": True}
    assert "same growth on every GPU" in results[1].message
    forget_applied_policy()  # another launch
    source = FakeSource()
    apply_memory_policy(MemoryPolicy(growth={"/physical_device:GPU:0": True},
                                     limit_mb={"/physical_device:GPU:1": 1024}), source)
    assert source.growth == {"/physical_device:GPU:0": True}
    assert source.limits == {"/physical_device:GPU:1": 1024}


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


def test_the_windows_process_leaves_gpu_memory_to_its_training_processes():
    """The window's process grows into the GPUs as needed, so a training child gets them."""
    source = FakeSource()
    results = leave_gpu_memory_to_training(source)
    assert source.growth == {"/physical_device:GPU:0": True, "/physical_device:GPU:1": True}
    assert all(r.applied and r.growth for r in results)
    # The batch search, later in the same process, asks for TensorFlow's default: growth
    # stays on, or the window would take the memory its trainings need.
    again = apply_memory_policy(MemoryPolicy(), source)
    assert all(r.growth for r in again)
    assert source.growth == {"/physical_device:GPU:0": True, "/physical_device:GPU:1": True}

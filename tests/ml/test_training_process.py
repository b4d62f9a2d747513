"""Training in a child process forked from the server: messages, commands, and faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from studio.core.defaults import default_project
from studio.core.devices import MemoryPolicy
from studio.core.events import BatchEnded, EpochEnded, SettingsChanged, TrainingStarted
from studio.core.run_record import MODEL_FILE, read_run, resumable_epochs
from studio.ml import training_process
from studio.ml.training_process import TrainingProcess

pytestmark = pytest.mark.skipif(not training_process.available(),
                                reason="no fork server on this platform")


def _project(epochs: int, batch_size: int = 64):
    project = default_project()
    return replace(project, training=replace(project.training, epochs=epochs,
                                             batch_size=batch_size))


def _start(project, run_dir, **options):
    process = TrainingProcess(MemoryPolicy(), **options)
    process.train(project, run_dir)
    return process


def _collect(process: TrainingProcess, on_event=None):
    events, other = [], []
    for kind, payload in process.messages():
        if kind == "events":
            for event in payload:
                events.append(event)
                if on_event is not None:
                    on_event(event)
        else:
            other.append((kind, payload))
    return events, other, process.wait()


def test_a_child_trains_reports_and_leaves_its_model_in_the_run_folder(tmp_path):
    process = _start(_project(epochs=2), tmp_path)
    events, other, code = _collect(process)
    assert code == 0
    assert isinstance(events[0], TrainingStarted)
    assert sum(isinstance(e, EpochEnded) for e in events) == 2
    # Each epoch's last batch comes right before its epoch (they travel as one message).
    for index, event in enumerate(events):
        if isinstance(event, EpochEnded):
            before = events[index - 1]
            assert isinstance(before, BatchEnded) and before.step == before.steps_per_epoch
    assert [kind for kind, _ in other] == ["memory_policy", "finished"]
    fields = other[-1][1]
    assert len(fields["history"]) == 2 and not fields["stopped_early"]
    assert (tmp_path / MODEL_FILE).is_file()
    record = read_run(tmp_path)
    assert record is not None and record.status == "finished"
    assert record.pid != os.getpid(), "the run was trained in this process"


def test_pause_changes_resume_and_stop_reach_the_child(tmp_path):
    process = _start(_project(epochs=200), tmp_path)
    state = {"paused_at": None}

    def steer(event):
        if isinstance(event, BatchEnded) and state["paused_at"] is None:
            state["paused_at"] = time.monotonic()
            process.command("pause")
            process.command("changes", {"learning_rate": 0.0005, "epochs": 3})
            time.sleep(0.5)
            process.command("resume")
        elif isinstance(event, SettingsChanged):
            state["changed"] = event
        elif isinstance(event, EpochEnded) and event.epoch == 0:
            process.command("stop")

    _, other, code = _collect(process, steer)
    assert code == 0
    assert "learning rate" in state["changed"].text and state["changed"].epochs == 3
    kind, fields = other[-1]
    assert kind == "finished" and fields["stopped_early"]
    assert 1 <= len(fields["history"]) < 3


def _oom_in_child(*args):
    """The child's main with the engine running out of memory (no GPU here to do it)."""
    import tensorflow as tf

    import studio.ml.training as training

    def out_of_memory(*_args):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    training._run_training = out_of_memory
    training_process.child_main(*args)


def test_out_of_memory_in_the_child_names_the_batch_size(tmp_path):
    process = _start(_project(epochs=1, batch_size=128), tmp_path, target=_oom_in_child)
    _, other, code = _collect(process)
    kind, (message, batch_size) = other[-1]
    assert (kind, batch_size, code) == ("out_of_memory", 128, 0)
    assert "batch size 128" in message and "try 64" in message


def test_a_user_error_in_the_child_is_reported_without_a_traceback(tmp_path):
    project = _project(epochs=1)
    bad = replace(project, training=replace(project.training, loss="huber"))  # classification
    _, other, code = _collect(_start(bad, tmp_path))
    kind, (message, details) = other[-1]
    assert kind == "failed" and code == 0
    assert "huber" in message.lower() and details == ""


def test_a_child_whose_window_is_killed_ends_and_leaves_a_run_to_resume(tmp_path):
    """The window's process killed mid-training: the child ends too, and its run is offered
    for resume (as a training inside the killed process would have been)."""
    script = textwrap.dedent(f"""
        import os, signal
        from dataclasses import replace
        from pathlib import Path
        from studio.core.defaults import default_project
        from studio.core.devices import MemoryPolicy
        from studio.core.events import EpochEnded
        from studio.core.run_record import resumable_epochs
        from studio.ml.training_process import TrainingProcess

        project = default_project()
        project = replace(project, training=replace(project.training, epochs=500))
        process = TrainingProcess(MemoryPolicy())
        process.train(project, Path({str(tmp_path)!r}))
        for kind, payload in process.messages():
            if kind == "events" and any(isinstance(e, EpochEnded) for e in payload) and \
                    resumable_epochs(Path({str(tmp_path)!r})):
                os.kill(os.getpid(), signal.SIGKILL)
    """)
    window = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2],
                            timeout=300)
    assert window.returncode == -signal.SIGKILL
    record = read_run(tmp_path)
    assert record is not None
    deadline = time.monotonic() + 30
    while not record.interrupted and time.monotonic() < deadline:
        time.sleep(0.2)
    assert record.interrupted, "the child outlived its window"
    assert record.status == "running"
    assert (resumable_epochs(tmp_path) or 0) >= 1


def test_a_spare_warms_up_and_is_taken_only_for_its_memory_policy(tmp_path):
    policy = MemoryPolicy()
    training_process.prepare_spare(policy)
    deadline = time.monotonic() + 120
    while not training_process.spare_ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert training_process.spare_ready()
    spare = training_process.take(policy)
    assert spare.warm and not training_process.spare_ready()

    training_process.prepare_spare(policy)
    kept = training_process._spare
    gpu_policy = MemoryPolicy(growth={"/physical_device:GPU:0": True})
    other = training_process.take(gpu_policy)  # not the spare, which is discarded
    assert other.memory_policy == gpu_policy and other is not kept
    assert kept is not None and not kept.alive
    other.command("stop")  # stopped before its training: it ends quietly
    assert other.wait() == 0

    spare.train(_project(epochs=1), tmp_path)
    events, other_messages, code = _collect(spare)
    assert code == 0 and other_messages[-1][0] == "finished"
    assert sum(isinstance(e, EpochEnded) for e in events) == 1


def test_a_training_asked_for_while_the_spare_is_being_made_takes_that_spare():
    """Not a second process warming up beside the training (it would take half the CPU)."""
    policy = MemoryPolicy()
    training_process._discard(training_process.take(policy))  # nothing in reserve
    assert not training_process._gpus_present()  # TensorFlow imported before the race
    preparing = threading.Thread(target=training_process.prepare_spare, args=(policy,))
    preparing.start()
    time.sleep(0.2)  # inside prepare_spare, making the process
    taken = training_process.take(policy)
    preparing.join()
    assert training_process._spare is None, "a second process was made"
    assert taken.alive
    training_process._discard(taken)


def test_the_childs_events_travel_together_a_few_messages_a_second():
    """Each message wakes the window's process: a burst of events is one message, and an
    event with none after it still goes within the interval (no close needed)."""
    sent: list[tuple[str, object]] = []
    arrived = threading.Event()

    class Pipe:
        def send(self, message):
            sent.append(message)
            arrived.set()

    outbox = training_process._Outbox(Pipe(), interval_s=0.2)
    burst = [BatchEnded(0, step, 40, 1.0, {"loss": 1.0}) for step in range(1, 41)]
    burst.append(EpochEnded(0, 3, 1.0, {"loss": 1.0}))
    for event in burst:
        outbox(event)
    assert arrived.wait(10), "gathered events were not sent until the outbox closed"
    lone = EpochEnded(1, 3, 1.0, {"loss": 0.5})
    outbox(lone)
    deadline = time.monotonic() + 10
    while not any(lone in payload for _kind, payload in sent):
        assert time.monotonic() < deadline, "a lone event was held back"
        time.sleep(0.01)
    outbox.close()
    assert all(kind == "events" for kind, _payload in sent)
    assert [e for _kind, payload in sent for e in payload] == [*burst, lone]  # once, in order
    assert len(sent) <= 3  # the burst (in at most two, if a send fell inside it) and the lone one


@pytest.mark.parametrize("threads", [1, None])
def test_a_child_trains_with_the_threads_per_operation_it_was_started_with(tmp_path, threads):
    """TensorFlow fixes them as its runtime starts, so the child applies them before its
    warm-up; the log line comes from TensorFlow's own setting in the child."""
    events, other, code = _collect(_start(_project(epochs=1), tmp_path, threads=threads))
    assert code == 0 and other[-1][0] == "finished"
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert ("one thread per operation" in started.device) == (threads == 1)


def test_a_spare_is_taken_only_for_its_threads_per_operation():
    policy = MemoryPolicy()
    training_process.prepare_spare(policy, 1)
    kept = training_process._spare
    assert kept is not None and kept.threads == 1
    other = training_process.take(policy, None)
    assert other is not kept and other.threads is None and not kept.alive
    training_process._discard(other)
    training_process.prepare_spare(policy, 1)
    same = training_process._spare
    assert training_process.take(policy, 1) is same
    training_process._discard(same)

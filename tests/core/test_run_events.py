import json
import math
import os
from dataclasses import replace

import pytest

from studio.core.events import (
    BatchEnded,
    EpochEnded,
    SettingsChanged,
    TrainingEnded,
    TrainingStarted,
)
from studio.core.run_events import (
    EventFileReader,
    EventFileWriter,
    event_from_json,
    event_to_line,
)

EVENTS = [
    TrainingStarted(3, 10, 640, 160, initial_epoch=1, metric="mae", device="On the CPU.",
                    device_notes=("no GPU",)),
    BatchEnded(1, 4, 10, 1234.5, {"loss": 0.5, "mae": 0.25}),
    EpochEnded(1, 3, 2.5, {"loss": 0.4, "val_loss": math.inf}),
    SettingsChanged(1.5, "Changed to learning rate 0.01", 3),
    TrainingEnded(2, True, "stopped by the user", {"loss": 0.3}),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_survives_a_line(event):
    line = event_to_line(event, now=100.0)
    assert line.endswith("\n") and "\n" not in line[:-1]
    assert event_from_json(json.loads(line)) == event


def test_unknown_keys_are_ignored_and_non_events_refused():
    data = json.loads(event_to_line(EVENTS[2]))
    data["added_by_a_newer_studio"] = 1
    assert event_from_json(data) == EVENTS[2]
    for bad in ({"type": "epoch"}, {"type": "nonsense"}, [1, 2], "epoch"):
        with pytest.raises(ValueError):
            event_from_json(bad)


def test_reader_follows_a_file_written_in_steps_with_a_torn_line(tmp_path):
    path = tmp_path / "events.jsonl"
    reader = EventFileReader(path)
    assert reader.read_new() == []  # not there yet
    lines = [event_to_line(e, now=50.0 + i) for i, e in enumerate(EVENTS)]
    path.write_text(lines[0] + lines[1][:7])  # the writer was cut mid-line
    assert reader.read_new() == [EVENTS[0]]
    assert reader.read_new() == []
    with open(path, "a") as file:
        file.write(lines[1][7:] + "{not json\n" + lines[2])
    assert reader.read_new() == [EVENTS[1], EVENTS[2]]
    assert reader.skipped == 1
    assert reader.last_written == 52.0
    path.write_text(lines[3])  # replaced by a shorter file: read from its start
    assert reader.read_new() == [EVENTS[3]]
    assert reader.restarted


def test_writer_throttles_batches_and_skips_replayed_epochs(tmp_path):
    now = [0.0]
    writer = EventFileWriter(tmp_path / "events.jsonl", batches_per_second=1,
                             clock=lambda: now[0])
    writer(EVENTS[0])
    for step in range(1, 11):  # ten batches within 0.9 s: the first and the epoch's last
        now[0] = step * 0.1
        writer(BatchEnded(0, step, 10, 100.0, {"loss": 1.0 / step}))
    writer(EpochEnded(0, 3, 1.0, {"loss": 0.1}, replayed=True))
    writer(EVENTS[2])
    writer(EVENTS[4])
    events = EventFileReader(tmp_path / "events.jsonl").read_new()
    steps = [e.step for e in events if isinstance(e, BatchEnded)]
    assert steps == [1, 10]
    assert [type(e) for e in events] == [TrainingStarted, BatchEnded, BatchEnded, EpochEnded,
                                         TrainingEnded]
    assert not any(isinstance(e, EpochEnded) and e.replayed for e in events)


def test_the_file_keeps_each_batch_event_without_its_earlier_batches(tmp_path):
    """The file is for watching a run: one batch per line, as before they were carried."""
    writer = EventFileWriter(tmp_path / "events.jsonl")
    chunk = BatchEnded(0, 4, 10, 100.0, {"loss": 0.25},
                       earlier=((2, {"loss": 0.5}), (3, {"loss": 0.3})))
    writer(chunk)
    (written,) = EventFileReader(tmp_path / "events.jsonl").read_new()
    assert written == replace(chunk, earlier=())
    # A line that carries them (another writer) is read back whole.
    assert event_from_json(json.loads(event_to_line(chunk))) == chunk


def test_the_writer_syncs_at_start_end_and_at_most_once_a_second_between(tmp_path,
                                                                          monkeypatch):
    """Readers on other machines see the run within a second; an fsync per short epoch
    cost the training thread 0.7 % of its time."""
    synced_lines: list[int] = []
    path = tmp_path / "events.jsonl"
    monkeypatch.setattr(os, "fsync", lambda fd: synced_lines.append(
        len(path.read_text().splitlines())))
    now = [0.0]
    writer = EventFileWriter(path, clock=lambda: now[0])
    writer(EVENTS[0])  # started: line 1
    for epoch in range(25):  # epochs 0.1 s apart: lines 2-26
        now[0] = 0.1 * (epoch + 1)
        writer(EpochEnded(epoch, 25, 0.1, {"loss": 1.0}))
        writer(BatchEnded(epoch + 1, 10, 10, 100.0, {"loss": 1.0}))  # batches never sync
    writer(EVENTS[4])  # ended: the last line
    lines = len(path.read_text().splitlines())
    assert synced_lines[0] == 1 and synced_lines[-1] == lines
    between = synced_lines[1:-1]
    assert len(between) == 2  # at 1.0 s and 2.0 s (epochs 10 and 20)
    assert all(line_count % 2 == 0 for line_count in between)  # right after an epoch's line

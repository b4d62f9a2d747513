"""``studio`` on the command line: headless train, clear errors, version."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import keras
import numpy as np

from studio import __version__
from studio.core.defaults import default_project, default_project_path
from studio.ml.datasets import load_dataset


def studio(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_version():
    done = studio("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"studio {__version__}"


def test_train_headless_writes_model_and_history(tmp_path):
    out = tmp_path / "run"
    done = studio("train", str(default_project_path()), "--epochs", "2", "--output", str(out))
    assert done.returncode == 0, done.stderr
    epoch_lines = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 2
    assert epoch_lines[0].startswith("epoch 1/2  loss ")
    with open(out / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    x = load_dataset(default_project().dataset).x_val
    accuracy = float(np.mean(model.predict(x, verbose=0).argmax(axis=1)
                             == load_dataset(default_project().dataset).y_val))
    assert abs(accuracy - float(rows[-1]["val_accuracy"])) < 1e-4


def test_missing_project_exits_2_with_one_line(tmp_path):
    done = studio("train", str(tmp_path / "nope.json"), "--output", str(tmp_path / "o"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"studio train: error: {tmp_path / 'nope.json'}: no such project file."]
    assert "Traceback" not in done.stderr


def test_invalid_project_exits_2_naming_the_problem(tmp_path):
    data = default_project().to_dict()
    data["model"]["layers"].insert(4, {"type": "Conv2D", "params": {}})  # after Flatten
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    done = studio("train", str(path), "--output", str(tmp_path / "o"))
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("studio")]
    assert lines == ["studio train: error: Layer 5 (Conv2D) needs a 3-D input per sample "
                     "(height, width, channels); it receives (512,). Add a Reshape or remove "
                     "the Flatten above it."]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o" / "model.keras").exists()


def test_corrupt_project_and_bad_epochs(tmp_path):
    path = tmp_path / "corrupt.json"
    path.write_text("{\n")
    done = studio("train", str(path))
    assert done.returncode == 2 and "corrupt.json: not valid JSON" in done.stderr
    done = studio("train", str(default_project_path()), "--epochs", "0")
    assert done.returncode == 2 and "--epochs must be at least 1" in done.stderr

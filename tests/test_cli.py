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


def write_project(path, change):
    """Write the default project to ``path`` after ``change(data)`` edits its dict."""
    data = default_project().to_dict()
    change(data)
    path.write_text(json.dumps(data))
    return path


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
    assert done.stderr == "", "TensorFlow's native start-up chatter must not reach the user"
    # As in the window's training process: the digits CNN is small enough for one thread.
    assert "training on the CPU, one thread per operation" in done.stdout
    epoch_lines = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 2
    assert epoch_lines[0].startswith("epoch 1/2  loss ")
    with open(out / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "learning_rate", "val_loss",
                            "val_accuracy"}
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
    path = write_project(tmp_path / "bad.json", lambda data: data["model"]["layers"].insert(
        4, {"type": "Conv2D", "params": {}}))  # after Flatten
    done = studio("train", str(path), "--output", str(tmp_path / "o"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "studio train: error: Layer 5 (Conv2D) needs a 3-D input per sample (height, width, "
        "channels); it receives (512,). Add a Reshape or remove the Flatten above it."]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o" / "model.keras").exists()


def test_corrupt_project_and_bad_epochs(tmp_path):
    path = tmp_path / "corrupt.json"
    path.write_text("{\n")
    done = studio("train", str(path))
    assert done.returncode == 2 and "corrupt.json: not valid JSON" in done.stderr
    done = studio("train", str(default_project_path()), "--epochs", "0")
    assert done.returncode == 2 and "--epochs must be at least 1" in done.stderr


def test_summary_prints_the_layer_table():
    done = studio("summary", str(default_project_path()))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Digits CNN: Handwritten digits (8x8), input (8, 8, 1), 10 classes"
    assert lines[1].split() == ["#", "name", "type", "output", "shape", "params"]
    assert lines[2].split() == ["1", "01_conv2d", "Conv2D", "(8,", "8,", "16)", "160"]
    assert lines[-1] == "Total params: 38,282 (trainable 38,282, non-trainable 0)"


def test_summary_of_an_invalid_stack_exits_2_with_the_reason(tmp_path):
    path = write_project(tmp_path / "five.json",
                         lambda data: data["model"]["layers"][-1]["params"].update(units=5))
    done = studio("summary", str(path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "studio summary: error: The output layer (layer 7, Dense) gives (5,), but the digits "
        "dataset has 10 classes: end with a Dense layer of 10 units and softmax activation."]
    assert "(5,)" in done.stdout


def test_output_that_cannot_be_a_folder_and_too_small_a_split_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = studio("train", str(default_project_path()), "--output", str(blocker / "run"))
    assert done.returncode == 2
    assert "cannot create the output folder" in done.stderr
    path = write_project(tmp_path / "tiny.json",
                         lambda data: data["dataset"].update(validation_split=0.001))
    done = studio("train", str(path), "--output", str(tmp_path / "o"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "studio train: error: dataset.validation_split 0.001 keeps 2 of 1797 samples for "
        "validation, fewer than the 10 classes: use at least 0.006."]


def test_train_headless_on_a_csv_found_relative_to_the_project(tmp_path):
    from dataclasses import replace

    from studio.core.csv_table import CsvImportSettings
    from studio.core.dataset_catalog import DatasetInfo
    from studio.core.dataset_spec import CsvSource, DatasetSpec
    from studio.core.model_spec import LayerSpec, ModelSpec
    from studio.core.project import save_project

    folder = tmp_path / "shared"
    (folder / "data").mkdir(parents=True)
    rows = ["width,colour,size"] + [f"{i % 9 + 1},{'red' if i % 3 else 'green'},"
                                    f"{'big' if i % 9 > 4 else 'small'}" for i in range(90)]
    (folder / "data" / "things.csv").write_text("\r\n".join(rows) + "\r\n")
    recorded = DatasetInfo("things", "things.csv", "classification", (3,), 2, 90, "",
                           ("big", "small"))
    project = replace(
        default_project(),
        dataset=DatasetSpec(CsvSource(folder / "data" / "things.csv",
                                      CsvImportSettings("size"), recorded)),
        model=ModelSpec((LayerSpec.create("Dense", units=8),
                         LayerSpec.create("Dense", units=2, activation="softmax"))))
    save_project(project, folder / "things.json")
    assert json.loads((folder / "things.json").read_text())["dataset"]["source"]["path"] \
        == "data/things.csv"
    done = studio("train", "things.json", "--epochs", "2", "--output", "out",
                  cwd=tmp_path / "shared")
    assert done.returncode == 0, done.stderr
    assert "training on 72 samples, validating on 18" in done.stdout
    assert (folder / "out" / "model.keras").is_file()


def test_train_headless_explains_a_missing_data_file(tmp_path):
    def to_missing_csv(data):
        data["dataset"]["source"] = {
            "kind": "csv", "path": "gone.csv", "settings": {"target": "y"},
            "recorded": {"input_shape": [3], "task": "classification", "num_classes": 2}}
    project = write_project(tmp_path / "p.json", to_missing_csv)
    done = studio("train", str(project), "--output", str(tmp_path / "o"))
    assert done.returncode == 2
    assert str(tmp_path / "gone.csv") in done.stderr and "\n" not in done.stderr.strip()


def test_devices_lists_the_machine_as_text_and_json():
    text = studio("devices")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("TensorFlow 2.21")
    assert "CPU: " in text.stdout and "GiB RAM" in text.stdout
    data = json.loads(studio("devices", "--json").stdout)
    assert data["tensorflow_version"].startswith("2.21")
    assert data["cpu_cores"] >= 1 and data["ram_total_mb"] > 1024
    assert isinstance(data["gpus"], list)
    if not data["gpus"]:
        assert "No GPU: training runs on the CPU." in text.stdout
        assert data["no_gpu_reason"]


def test_train_headless_on_two_mirrored_cpu_devices(tmp_path):
    """The project says one GPU; the command line overrides it (and the project's file is not
    changed): MirroredStrategy on the CPU split in two, the per-replica batch printed."""
    project = write_project(tmp_path / "p.json",
                            lambda d: d["devices"].update(strategy="gpu", gpus=[3]))
    out = tmp_path / "run"
    done = studio("train", str(project), "--epochs", "1", "--output", str(out),
                  "--strategy", "mirrored", "--cpu-devices", "2", "--mixed-precision")
    assert done.returncode == 0, done.stderr
    assert ("training on 2 CPU devices (MirroredStrategy), global batch 32 = 2 replicas x 16, "
            "mixed precision (bfloat16, float32 output)") in done.stdout
    assert (out / "model.keras").exists()
    assert json.loads(project.read_text())["devices"]["strategy"] == "gpu"


def test_a_gpu_choice_without_a_gpu_trains_on_the_cpu_and_says_so(tmp_path):
    project = write_project(tmp_path / "p.json",
                            lambda d: d["devices"].update(strategy="gpu", gpus=[1]))
    done = studio("train", str(project), "--epochs", "1", "--output", str(tmp_path / "o"),
                  "--memory-growth")
    if "GPU 1" in done.stdout and "note:" not in done.stdout:
        return  # a machine with two GPUs honours the choice
    assert done.returncode == 0, done.stderr
    assert "note: No GPU detected, so 'gpu' training runs on the CPU." in done.stdout
    assert "nothing to apply to" in done.stderr


def test_bad_device_options_exit_2_naming_them(tmp_path):
    done = studio("train", str(default_project_path()), "--gpus", "zero", "--output",
                  str(tmp_path / "o"))
    assert done.returncode == 2
    assert "--gpus must list GPU numbers such as 0,1; got 'zero'" in done.stderr
    done = studio("train", str(default_project_path()), "--gpus", "0,0", "--output",
                  str(tmp_path / "o"))
    assert done.returncode == 2 and "names a GPU twice" in done.stderr
    done = studio("train", str(default_project_path()), "--cpu-devices", "0", "--output",
                  str(tmp_path / "o"))
    assert done.returncode == 2 and "--cpu-devices must be from 1 to 64" in done.stderr

"""``studio export`` on a run folder made by ``studio train``: every line a person reads."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from studio.core.defaults import default_project_path


def studio(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-export") / "run"
    done = studio("train", str(default_project_path()), "--epochs", "1", "--output",
                  str(folder))
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


def difference(stdout):
    found = re.search(r"max abs difference ([0-9.e+-]+) on (\d+) samples", stdout)
    assert found, stdout
    return float(found.group(1)), int(found.group(2))


def test_onnx_from_a_run_folder_is_written_and_verified(run_dir, tmp_path):
    pytest.importorskip("tf2onnx")
    out = tmp_path / "exports" / "digits.onnx"
    done = studio("export", str(run_dir), "--format", "onnx", "--output", str(out),
                  "--opset", "13")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith(f"wrote {out} (") and lines[0].endswith(" bytes)")
    assert lines[1].startswith("verified in onnxruntime: max abs difference ")
    diff, samples = difference(lines[1])
    assert diff <= 1e-5 and samples == 256  # the run's validation samples
    assert done.stderr == ""
    assert sorted(p.name for p in out.parent.iterdir()) == ["digits.onnx"]


def test_int8_tflite_reports_the_accuracy_change(run_dir, tmp_path):
    out = tmp_path / "digits.tflite"
    done = studio("export", str(run_dir), "--format", "tflite", "--quantize", "int8",
                  "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert re.search(r"accuracy \d\.\d{4} \(model \d\.\d{4}, change [+-]\d\.\d{4}\)",
                     done.stdout), done.stdout
    assert out.stat().st_size > 0


def test_a_keras_file_exports_and_is_verified_on_random_inputs(run_dir, tmp_path):
    out = tmp_path / "served"
    done = studio("export", str(run_dir / "model.keras"), "--format", "savedmodel",
                  "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "verified in TensorFlow (tf.saved_model.load, serving_default)" in done.stdout
    diff, samples = difference(done.stdout)
    assert diff <= 1e-5 and samples == 32
    assert done.stderr == ("note: a .keras file carries no data; verifying on random "
                           "inputs\n")
    assert (out / "saved_model.pb").is_file()


def one_line_error(done, *fragments):
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("studio export: error: ")
    for fragment in fragments:
        assert fragment in done.stderr


def test_user_errors_exit_2_with_one_line(run_dir, tmp_path):
    existing = tmp_path / "taken.onnx"
    existing.write_text("mine")
    one_line_error(studio("export", str(run_dir), "--format", "onnx", "--output",
                          str(existing)),
                   f"{existing} already exists", "--overwrite")
    assert existing.read_text() == "mine"
    one_line_error(studio("export", str(tmp_path / "nothing"), "--format", "keras",
                          "--output", str(tmp_path / "m.keras")),
                   "no such run folder or model file")
    one_line_error(studio("export", str(run_dir), "--format", "onnx", "--quantize", "int8",
                          "--output", str(tmp_path / "m.onnx")),
                   "applies to the tflite format only")
    one_line_error(studio("export", str(run_dir), "--format", "keras", "--opset", "13",
                          "--output", str(tmp_path / "m.keras")),
                   "--opset applies to the onnx format only")
    one_line_error(studio("export", str(run_dir), "--format", "weights", "--output",
                          str(tmp_path / "m.h5")),
                   "must end in .weights.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.onnx"]


def test_a_folder_without_a_model_and_a_lambda_model_are_refused(tmp_path):
    import keras

    keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2),
                      keras.layers.Dense(1)]).save(tmp_path / "lambda.keras")
    one_line_error(studio("export", str(tmp_path / "lambda.keras"), "--format", "onnx",
                          "--output", str(tmp_path / "m.onnx")),
                   "has a Lambda layer", "safe mode refuses to run code")
    (tmp_path / "empty_run").mkdir()
    one_line_error(studio("export", str(tmp_path / "empty_run"), "--format", "keras",
                          "--output", str(tmp_path / "m.keras")),
                   "no trained model in this folder")


def test_without_tf2onnx_onnx_says_what_to_install(run_dir, tmp_path):
    code = ("import sys; sys.modules['tf2onnx'] = None; from studio.app import main; "
            f"sys.exit(main(['export', {str(run_dir)!r}, '--format', 'onnx', '--output', "
            f"{str(tmp_path / 'm.onnx')!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    one_line_error(done, "ONNX export needs tf2onnx, which is not installed: "
                         "pip install 'training-studio[onnx]'")


def test_help_lists_every_format():
    done = studio("export", "--help")
    assert done.returncode == 0
    for name in ("keras", "savedmodel", "tflite", "onnx", "weights", "python", "history"):
        assert name in done.stdout


def test_curves_of_a_run_as_a_png(run_dir, tmp_path):
    from PySide6.QtGui import QImage

    out = tmp_path / "curves.png"
    done = studio("export", str(run_dir), "--format", "curves", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}") and "epochs" in done.stdout
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 450)
    # Drawn, not blank: many distinct colours (curves, legend, axes).
    colours = {image.pixel(x, y) for x in range(0, 1200, 7) for y in range(0, 450, 7)}
    assert len(colours) > 20
    again = studio("export", str(run_dir), "--format", "curves", "--output", str(out))
    assert again.returncode == 2 and "--overwrite" in again.stderr
    wrong = studio("export", str(tmp_path), "--format", "curves", "--output",
                   str(tmp_path / "c.png"))
    assert wrong.returncode == 2 and "not a run folder with a history.csv" in wrong.stderr

"""Run the generated script in its own interpreter: same layers, shapes, parameters; trains."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

from studio.core.defaults import default_project
from studio.core.keras_code import keras_script
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.ml.summary import build_model

PROBE = """
import json, runpy, sys
module = runpy.run_path(sys.argv[1])
model = module["build_model"]()
print(json.dumps([[l.__class__.__name__, list(l.output.shape[1:]), l.count_params()]
                  for l in model.layers]))
"""


def test_generated_script_builds_the_same_model_and_trains(tmp_path):
    project = default_project()
    conv = project.model.layers[0].with_param("kernel_regularizer", "l2") \
        .with_param("kernel_initializer", "he_normal")
    layers = (LayerSpec.create("Input", shape=[8, 8, 1]), LayerSpec.create("Normalization"),
              conv, *project.model.layers[1:])
    project = replace(project, model=ModelSpec(layers),
                      training=replace(project.training, epochs=1))
    script = tmp_path / "digits_cnn.py"
    script.write_text(keras_script(project))
    done = subprocess.run([sys.executable, "-c", PROBE, str(script)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    layers = json.loads(done.stdout.strip().splitlines()[-1])
    model = build_model(project.model, project.dataset.info)
    expected = [[layer.__class__.__name__, list(layer.output.shape[1:]), layer.count_params()]
                for layer in model.layers[1:]]
    assert layers == expected

    trained = subprocess.run([sys.executable, str(script), "--train"], capture_output=True,
                             text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "val_accuracy" in trained.stdout


def test_a_script_for_generated_data_trains_on_the_data_file_written_beside_it(tmp_path):
    from studio.core.dataset_spec import DatasetSpec, GeneratedSource
    from studio.core.keras_code import data_file_for, needs_data_file
    from studio.ml.datasets import write_data_file

    spec = ModelSpec((LayerSpec.create("Dense", units=8, activation="tanh"),
                      LayerSpec.create("Dense", units=1, activation="linear")))
    project = replace(default_project(), model=spec,
                      dataset=DatasetSpec(GeneratedSource("sine", 200, 0.1), test_split=0.1,
                                          normalization="minmax"),
                      training=replace(default_project().training, epochs=2))
    assert needs_data_file(project)
    script = tmp_path / "sine.py"
    script.write_text(keras_script(project))
    write_data_file(project.dataset, data_file_for(script))
    trained = subprocess.run([sys.executable, str(script), "--train"], capture_output=True,
                             text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "val_mae" in trained.stdout
    assert "Epoch 2/2" in trained.stdout

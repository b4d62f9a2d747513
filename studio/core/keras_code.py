"""The project as a runnable Keras script: the model the builder shows, in code a user owns.

Generated from the same spec and catalog that the studio builds from (the catalog's
parameter names are Keras' own), so the script builds the same architecture. With the
dataset and settings it also loads the data, splits and normalises it the way the studio
does, compiles and trains. Built-in and Keras datasets load through their own libraries; the
user's files and generated sets load from a ``.npz`` that the studio writes beside the script
(``data_file_for``), holding the samples exactly as the studio read them.
"""

from __future__ import annotations

from pathlib import Path

from studio import __version__
from studio.core.dataset_spec import BuiltinSource, DatasetSpec, KerasSource
from studio.core.keras_arguments import NOT_BUILT, argument_code, keras_arguments
from studio.core.model_spec import LayerSpec
from studio.core.project import Project

_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW"}

_ADAPT = """
    for layer in model.layers:  # learn the Normalization statistics from the training split
        if isinstance(layer, keras.layers.Normalization):
            upstream = keras.Model(model.inputs, layer.input)
            layer.adapt(upstream.predict(x_train, verbose=0))"""


def needs_data_file(project: Project) -> bool:
    """True when the script reads its samples from a .npz written beside it."""
    return not isinstance(project.dataset.source, BuiltinSource | KerasSource)


def data_file_for(script: str | Path) -> Path:
    return Path(script).with_suffix(".npz")


def _layer_line(index: int, layer: LayerSpec) -> str:
    args = [f"{name}={argument_code(value)}" for name, value in keras_arguments(layer).items()]
    args.append(f'name="{index + 1:02d}_{layer.type.lower()}"')
    return f"        keras.layers.{layer.type}({', '.join(args)}),"


def _read_code(dataset: DatasetSpec) -> tuple[str, str, str]:
    """(imports, code that sets x, y and scale, one line saying where the data comes from)."""
    source = dataset.source
    shape = dataset.info.input_shape
    if isinstance(source, BuiltinSource):
        loader = {"digits": "load_digits", "iris": "load_iris", "wine": "load_wine",
                  "breast_cancer": "load_breast_cancer"}[source.name]
        scale = "16.0  # pixels are 0..16" if source.name == "digits" else "None"
        return (f"from sklearn.datasets import {loader}\n",
                f"    data = {loader}()\n"
                f"    x = np.asarray(data.data, dtype=\"float32\").reshape((-1, *{shape!r}))\n"
                "    y = np.asarray(data.target, dtype=\"int32\")\n"
                f"    scale = {scale}",
                f"scikit-learn's {source.name} dataset")
    if isinstance(source, KerasSource):
        return ("",
                f"    (x_a, y_a), (x_b, y_b) = keras.datasets.{source.name}.load_data()\n"
                f"    x = np.concatenate([x_a, x_b]).reshape((-1, *{shape!r}))\n"
                "    y = np.concatenate([y_a, y_b]).reshape(-1).astype(\"int32\")\n"
                "    scale = 255.0  # 8-bit pixels",
                f"keras.datasets.{source.name} (downloaded by Keras on first use)")
    kind = "int32" if dataset.info.task == "classification" else "float32"
    return ("from pathlib import Path\n",
            "    data = np.load(Path(__file__).with_suffix(\".npz\"), allow_pickle=False)\n"
            "    scale = 255.0 if data[\"x\"].dtype == np.uint8 else None  # 8-bit pixels\n"
            "    x = data[\"x\"].astype(\"float32\")\n"
            f"    y = data[\"y\"].astype(\"{kind}\")",
            f"the .npz beside this script (written by Training Studio from {source.info.title})")


def _split_code(dataset: DatasetSpec) -> str:
    # The studio's rule: stratify a classification when every class has 3 samples or more.
    stratify = "strata" if dataset.info.task == "classification" else "None"
    if not dataset.shuffle:
        return (f"    n_val = round(len(x) * {dataset.validation_split!r})\n"
                f"    n_test = round(len(x) * {dataset.test_split!r})\n"
                "    end = len(x) - n_val - n_test  # no shuffling: the last rows are held out\n"
                "    x_train, y_train = x[:end], y[:end]\n"
                "    x_val, y_val = x[end:end + n_val], y[end:end + n_val]")
    lines = []
    if dataset.info.task == "classification":
        lines.append("    strata = y if np.bincount(y).min() >= 3 else None")
    if dataset.test_split:
        lines.append(f"    x, x_test, y, y_test = train_test_split(\n"
                     f"        x, y, test_size=round(len(x) * {dataset.test_split!r}), "
                     f"random_state={dataset.seed!r},\n"
                     f"        stratify={stratify})  # the test split is kept for the end")
    lines.append(f"    x_train, x_val, y_train, y_val = train_test_split(\n"
                 f"        x, y, test_size=round(len(y_all) * {dataset.validation_split!r}), "
                 f"random_state={dataset.seed!r},\n"
                 f"        stratify={stratify})")
    if dataset.info.task == "classification" and dataset.test_split:
        lines.insert(-1, "    strata = y if strata is not None and np.bincount(y).min() >= 2 "
                         "else None")
    return "\n".join(lines)


def _normalise_code(how: str) -> str:
    lines = {
        "scale": "    x_train, x_val = x_train / scale, x_val / scale",
        "standardize": ("    mean, std = x_train.mean(axis=0), x_train.std(axis=0)\n"
                        "    std[std == 0] = 1.0  # statistics from the training split only\n"
                        "    x_train, x_val = (x_train - mean) / std, (x_val - mean) / std"),
        "minmax": ("    low, high = x_train.min(axis=0), x_train.max(axis=0)\n"
                   "    span = high - low\n"
                   "    span[span == 0] = 1.0  # statistics from the training split only\n"
                   "    x_train, x_val = (x_train - low) / span, (x_val - low) / span"),
    }
    if how == "auto":
        return ("    if scale:  # data with a known range (pixels) goes to [0, 1]\n"
                + lines["scale"].replace("    ", "        ", 1) + "\n    else:\n"
                + "\n".join("    " + line for line in lines["standardize"].splitlines()))
    return lines.get(how, "    pass  # no normalisation")


def keras_script(project: Project) -> str:
    dataset = project.dataset
    info = dataset.info
    training = project.training
    layers = "\n".join(_layer_line(i, layer) for i, layer in enumerate(project.model.layers)
                       if layer.type not in NOT_BUILT)
    adapt = _ADAPT if any(layer.type == "Normalization" for layer in project.model.layers) else ""
    imports, read, origin = _read_code(dataset)
    if info.task == "classification":
        loss = "keras.losses.SparseCategoricalCrossentropy()"
        metric = 'keras.metrics.SparseCategoricalAccuracy(name="accuracy")'
    else:
        loss = "keras.losses.MeanSquaredError()"
        metric = 'keras.metrics.MeanAbsoluteError(name="mae")'
    return f'''"""{project.name}: generated by Training Studio {__version__}.

Data: {origin}.
Run it:  python this_file.py          (prints the model summary)
         python this_file.py --train  (loads the data, compiles and trains)
"""

import sys

import keras
import numpy as np
{imports}from sklearn.model_selection import train_test_split


def build_model():
    return keras.Sequential([
        keras.Input(shape={info.input_shape!r}),
{layers}
    ], name="studio_model")


def load_data():
{read}
    y_all = y
{_split_code(dataset)}
{_normalise_code(dataset.normalization)}
    return x_train.astype("float32"), y_train, x_val.astype("float32"), y_val


def train(model):
    keras.utils.set_random_seed({dataset.seed!r})
    x_train, y_train, x_val, y_val = load_data(){adapt}
    model.compile(
        optimizer=keras.optimizers.{_OPTIMIZERS[training.optimizer]}(learning_rate={training.learning_rate!r}),
        loss={loss},
        metrics=[{metric}],
    )
    return model.fit(x_train, y_train, validation_data=(x_val, y_val),
                     epochs={training.epochs!r}, batch_size={training.batch_size!r})


if __name__ == "__main__":
    model = build_model()
    model.summary()
    if "--train" in sys.argv:
        train(model)
'''

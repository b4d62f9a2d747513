"""A user's own NumPy files and image folders load safely, with messages that say what to fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from studio.core.errors import DatasetError
from studio.ml.file_datasets import (
    LoadCancelled,
    load_image_folder,
    load_numpy,
    scan_image_folder,
)

UNPICKLED: list[str] = []


class Trap:
    """Loading this with pickle would record it: the test proves it never happens."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (UNPICKLED.append, ("unpickled",))


def _iris_like(n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n * 4, dtype=np.float64).reshape(n, 4)
    y = np.array([0, 1, 2] * (n // 3))
    return x, y


# --- NumPy -----------------------------------------------------------------------------------


def test_npz_with_x_and_y(tmp_path: Path) -> None:
    x, y = _iris_like()
    np.savez(tmp_path / "train.npz", x=x, y=y)
    data = load_numpy(tmp_path / "train.npz")
    assert data.x.dtype == np.float32
    assert data.x.shape == (12, 4)
    assert data.x[1, 2] == 6.0
    assert data.y.dtype == np.int32
    assert data.y.tolist() == y.tolist()
    assert data.task == "classification"
    assert data.class_names == ("0", "1", "2")
    assert data.source == "train.npz: x (12, 4) float64, y (12,)"
    assert data.samples == 12
    assert data.input_shape == (4,)


def test_npy_pair_and_one_feature_per_sample(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.linspace(0.0, 1.0, 10))
    np.save(tmp_path / "y.npy", np.linspace(5.0, 6.0, 10))
    data = load_numpy(tmp_path / "x.npy", tmp_path / "y.npy")
    assert data.x.shape == (10, 1)
    assert data.x[-1, 0] == 1.0
    assert data.task == "regression"
    assert data.y.dtype == np.float32
    assert data.y.shape == (10,)
    assert data.y[0] == 5.0
    assert data.class_names == ()
    assert data.source == "x.npy (10,) float64, y.npy (10,)"


def test_uint8_features_stay_uint8(tmp_path: Path) -> None:
    x = np.full((6, 3, 3), 200, dtype=np.uint8)
    np.savez(tmp_path / "img.npz", x=x, y=np.arange(6.0) / 10)
    data = load_numpy(tmp_path / "img.npz")
    assert data.x.dtype == np.uint8
    assert data.x.shape == (6, 3, 3)
    assert int(data.x[0, 0, 0]) == 200


def test_npz_with_train_names(tmp_path: Path) -> None:
    x, y = _iris_like()
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=y, x_test=x[:3], y_test=y[:3])
    data = load_numpy(tmp_path / "mnist.npz")
    assert data.x.shape == (12, 4)
    assert data.source == "mnist.npz: x_train (12, 4) float64, y_train (12,)"


def test_plain_names_win_over_train_names(tmp_path: Path) -> None:
    x, y = _iris_like()
    np.savez(tmp_path / "d.npz", features=x, labels=y, x_train=x[:6], y_train=y[:6])
    assert load_numpy(tmp_path / "d.npz").x.shape == (12, 4)


def test_ambiguous_names_list_the_arrays(tmp_path: Path) -> None:
    x, y = _iris_like()
    np.savez(tmp_path / "both.npz", x=x, y=y, data=x, target=y)
    with pytest.raises(DatasetError) as caught:
        load_numpy(tmp_path / "both.npz")
    message = str(caught.value)
    assert "both.npz" in message
    for name in ("'x'", "'y'", "'data'", "'target'"):
        assert name in message
    assert "choose" in message


def test_keys_choose_the_arrays(tmp_path: Path) -> None:
    x, y = _iris_like()
    np.savez(tmp_path / "both.npz", x=x, y=y, data=x * 2, target=y)
    data = load_numpy(tmp_path / "both.npz", x_key="data", y_key="target")
    assert data.x[1, 0] == 8.0
    # One key given: its usual partner is taken.
    assert load_numpy(tmp_path / "both.npz", x_key="data").x[1, 0] == 8.0


def test_unknown_names_ask_to_choose(tmp_path: Path) -> None:
    x, y = _iris_like()
    np.savez(tmp_path / "odd.npz", inputs=x, answers=y)
    with pytest.raises(DatasetError, match=r"odd\.npz has no arrays named x and y.*'inputs'"):
        load_numpy(tmp_path / "odd.npz")
    with pytest.raises(DatasetError, match=r"no array named 'nope'.*'answers'"):
        load_numpy(tmp_path / "odd.npz", x_key="nope")
    assert load_numpy(tmp_path / "odd.npz", x_key="inputs").y.tolist() == y.tolist()


def test_mismatched_lengths_name_both(tmp_path: Path) -> None:
    np.save(tmp_path / "feat.npy", np.zeros((150, 4)))
    np.save(tmp_path / "lab.npy", np.zeros(149))
    with pytest.raises(DatasetError) as caught:
        load_numpy(tmp_path / "feat.npy", tmp_path / "lab.npy")
    message = str(caught.value)
    assert "feat.npy has 150 samples" in message
    assert "lab.npy has 149" in message


def test_object_array_is_refused_without_unpickling(tmp_path: Path) -> None:
    UNPICKLED.clear()
    objects = np.array([Trap(), Trap()], dtype=object)
    np.save(tmp_path / "x.npy", objects, allow_pickle=True)
    np.save(tmp_path / "y.npy", np.array([0, 1]))
    np.savez(tmp_path / "objects.npz", x=objects, y=np.array([0, 1]))
    with pytest.raises(DatasetError, match=r"x\.npy holds Python objects"):
        load_numpy(tmp_path / "x.npy", tmp_path / "y.npy")
    with pytest.raises(DatasetError, match=r"'x' in objects\.npz holds Python objects"):
        load_numpy(tmp_path / "objects.npz")
    assert UNPICKLED == []


def test_pickle_file_is_refused_without_unpickling(tmp_path: Path) -> None:
    import pickle

    UNPICKLED.clear()
    (tmp_path / "data.npy").write_bytes(pickle.dumps(Trap()))
    with pytest.raises(DatasetError, match=r"data\.npy is not a NumPy \.npy or \.npz file"):
        load_numpy(tmp_path / "data.npy", tmp_path / "data.npy")
    assert UNPICKLED == []


def test_strings_and_missing_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "s.npz", x=np.array(["a", "b", "c"]), y=np.array([1, 2, 3]))
    with pytest.raises(DatasetError, match=r"'x' in s\.npz holds <U1 values, not numbers"):
        load_numpy(tmp_path / "s.npz")
    with pytest.raises(DatasetError, match=r"missing\.npz was not found"):
        load_numpy(tmp_path / "missing.npz")
    np.save(tmp_path / "x.npy", np.zeros((4, 2)))
    with pytest.raises(DatasetError, match=r"x\.npy holds a single array"):
        load_numpy(tmp_path / "x.npy")


def test_too_few_samples(tmp_path: Path) -> None:
    np.savez(tmp_path / "one.npz", x=np.zeros((1, 3)), y=np.zeros(1))
    with pytest.raises(DatasetError, match=r"'x' in one\.npz has 1 sample\(s\).*at least 2"):
        load_numpy(tmp_path / "one.npz")


def test_nan_in_x_gives_count_and_first_sample(tmp_path: Path) -> None:
    x = np.ones((10, 3))
    x[4, 1] = np.nan
    x[7, 0] = np.inf
    x[7, 2] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=np.arange(10.0))
    with pytest.raises(DatasetError) as caught:
        load_numpy(tmp_path / "nan.npz")
    message = str(caught.value)
    assert "'x' in nan.npz has 3 NaN or infinite value(s)" in message
    assert "first in sample 4" in message


def test_labels_are_remapped_to_class_indices(tmp_path: Path) -> None:
    y = np.array([10, 3, 7, 3, 10, 7, 3, 3, 7, 10, 10, 3])
    np.savez(tmp_path / "c.npz", x=np.zeros((12, 2)), y=y)
    data = load_numpy(tmp_path / "c.npz")
    assert data.task == "classification"
    assert data.class_names == ("3", "7", "10")
    assert data.y.dtype == np.int32
    assert data.y.tolist() == [2, 0, 1, 0, 2, 1, 0, 0, 1, 2, 2, 0]


def test_whole_number_floats_are_classes(tmp_path: Path) -> None:
    y = np.array([1.0, 2.0, -1.0, 1.0, 2.0, -1.0, 1.0, 2.0])
    np.savez(tmp_path / "f.npz", x=np.zeros((8, 2)), y=y)
    data = load_numpy(tmp_path / "f.npz")
    assert data.class_names == ("-1", "1", "2")
    assert data.y.tolist() == [1, 2, 0, 1, 2, 0, 1, 2]


def test_one_hot_labels_use_argmax(tmp_path: Path) -> None:
    y = np.eye(3, dtype=np.float32)[[2, 0, 1, 1]]
    np.savez(tmp_path / "oh.npz", x=np.zeros((4, 2)), y=y)
    data = load_numpy(tmp_path / "oh.npz")
    assert data.task == "classification"
    assert data.y.tolist() == [2, 0, 1, 1]
    assert data.class_names == ("0", "1", "2")


def test_float_labels_are_regression(tmp_path: Path) -> None:
    y = np.array([[0.5, 1.0], [1.5, 2.0], [2.5, 3.0]])
    np.savez(tmp_path / "r.npz", x=np.zeros((3, 2)), y=y)
    data = load_numpy(tmp_path / "r.npz")
    assert data.task == "regression"
    assert data.y.dtype == np.float32
    assert data.y.shape == (3, 2)
    assert data.y[2, 0] == 2.5
    assert data.class_names == ()


def test_many_distinct_integers_are_regression(tmp_path: Path) -> None:
    np.savez(tmp_path / "ages.npz", x=np.zeros((10, 2)), y=np.arange(20, 30))
    data = load_numpy(tmp_path / "ages.npz")
    assert data.task == "regression"
    assert data.y.tolist() == list(range(20, 30))


def test_task_override(tmp_path: Path) -> None:
    np.savez(tmp_path / "ages.npz", x=np.zeros((10, 2)), y=np.arange(20, 30) // 2)
    forced = load_numpy(tmp_path / "ages.npz", task="classification")
    assert forced.task == "classification"
    assert forced.class_names == ("10", "11", "12", "13", "14")
    assert forced.y.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    x, y = _iris_like()
    np.savez(tmp_path / "iris.npz", x=x, y=y)
    regression = load_numpy(tmp_path / "iris.npz", task="regression")
    assert regression.task == "regression"
    assert regression.y.dtype == np.float32
    assert regression.y.tolist() == [0.0, 1.0, 2.0] * 4


def test_forced_classification_of_fractions_is_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "r.npz", x=np.zeros((4, 2)), y=np.array([0.0, 1.0, 0.25, 1.0]))
    with pytest.raises(DatasetError, match=r"not whole numbers \(first: 0\.25 in sample 2\)"):
        load_numpy(tmp_path / "r.npz", task="classification")


def test_single_class_is_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "same.npz", x=np.zeros((6, 2)), y=np.full(6, 4))
    with pytest.raises(DatasetError, match=r"same label \(4\) for every sample"):
        load_numpy(tmp_path / "same.npz")


# --- Image folders ---------------------------------------------------------------------------

#: Class folders (sorted as Keras sorts: upper case first) and a solid colour for each.
COLOURS = {"Zebra": (200, 30, 40), "ant": (90, 90, 90), "bee": (10, 220, 120)}


def _write_png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (10, 12)) -> None:
    pixels = np.zeros((*size, 3), dtype=np.uint8)
    pixels[:] = colour
    path.write_bytes(tf.io.encode_png(pixels).numpy())


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    root = tmp_path / "animals"
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(4):
            suffix = ".PNG" if i == 3 else ".png"
            _write_png(root / name / f"img{i}{suffix}", colour)
    (root / "ant" / "notes.txt").write_text("not an image")
    return root


def test_scan_counts_without_decoding(image_folder: Path) -> None:
    info = scan_image_folder(image_folder)
    assert info.class_names == ("Zebra", "ant", "bee")
    assert info.counts == (4, 4, 4)
    assert info.total == 12
    assert info.examples == tuple(image_folder / name / "img0.png" for name in info.class_names)


def test_load_rgb(image_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = load_image_folder(image_folder, image_size=(8, 8), color_mode="rgb")
    assert capsys.readouterr().out == ""  # Keras' "Found 12 files ..." stays quiet
    assert data.x.shape == (12, 8, 8, 3)
    assert data.x.dtype == np.uint8
    assert data.y.dtype == np.int32
    assert data.y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert data.class_names == ("Zebra", "ant", "bee")
    assert data.task == "classification"
    for index, colour in enumerate(COLOURS.values()):
        images = data.x[data.y == index]
        assert (images == np.array(colour, dtype=np.uint8)).all()
    assert data.source == "animals/: 12 images in 3 classes, 8x8 rgb"


def test_load_grayscale(image_folder: Path) -> None:
    data = load_image_folder(image_folder, image_size=(8, 16), color_mode="grayscale")
    assert data.x.shape == (12, 8, 16, 1)
    assert data.x.dtype == np.uint8
    grey = data.x[data.y == 1]
    assert (grey == 90).all()  # R = G = B stays its value
    means = [int(data.x[data.y == k].mean()) for k in range(3)]
    assert len(set(means)) == 3
    for k in range(3):  # each image is still one solid shade
        assert (data.x[data.y == k] == data.x[data.y == k][0, 0, 0, 0]).all()


def test_progress_and_cancel(image_folder: Path) -> None:
    calls: list[tuple[int, int]] = []
    load_image_folder(image_folder, image_size=(8, 8), batch_size=5,
                      progress=lambda done, total: calls.append((done, total)))
    assert calls == [(5, 12), (10, 12), (12, 12)]

    seen: list[tuple[int, int]] = []
    with pytest.raises(LoadCancelled, match=r"animals was cancelled"):
        load_image_folder(image_folder, image_size=(8, 8), batch_size=5,
                          progress=lambda done, total: seen.append((done, total)),
                          cancelled=lambda: bool(seen))
    assert seen == [(5, 12)]


def test_image_size_bounds(image_folder: Path) -> None:
    for size in ((7, 8), (8, 1025), (8,)):
        with pytest.raises(DatasetError, match=r"each from 8 to 1024 pixels"):
            load_image_folder(image_folder, image_size=size)  # type: ignore[arg-type]


def test_folder_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nowhere was not found"):
        scan_image_folder(tmp_path / "nowhere")

    flat = tmp_path / "flat"
    flat.mkdir()
    _write_png(flat / "a.png", (1, 2, 3))
    with pytest.raises(DatasetError, match=r"lie directly in .*flat.*cat.*\*\.png"):
        scan_image_folder(flat)

    single = tmp_path / "single"
    (single / "cat").mkdir(parents=True)
    _write_png(single / "cat" / "a.png", (1, 2, 3))
    with pytest.raises(DatasetError, match=r"has 1 class sub-folder\(s\) but needs at least 2"):
        scan_image_folder(single)

    (single / "dog").mkdir()
    (single / "dog" / "readme.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"class folder\(s\) dog in .*single hold no images"):
        load_image_folder(single)


def test_corrupt_image_is_named(image_folder: Path) -> None:
    bad = image_folder / "bee" / "img2.png"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8).tobytes())
    with pytest.raises(DatasetError) as caught:
        load_image_folder(image_folder, image_size=(8, 8), batch_size=4)
    message = str(caught.value)
    assert f"bee{'/'}img2.png in {image_folder} is not a readable image" in message
    assert "delete or replace it" in message

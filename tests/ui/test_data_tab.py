"""The Data tab in the real window: choose, import, download and preview data; all undoable."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core.dataset_spec import GeneratedSource, ImageFolderSource, NumpySource


def _preview(window, qtbot):
    """Wait for the preview of the current dataset and return it."""
    qtbot.waitUntil(lambda: window.data_preview_of == window.document.project.dataset,
                    timeout=30000)
    assert window.data_preview is not None, window.data.warning_label.text()
    return window.data_preview


def _choose(window, kind, name):
    item = window.data._items[(kind, name)]
    window.data.source_tree.setCurrentItem(item)


def test_choosing_a_builtin_set_previews_it_and_undo_brings_the_old_one(window, qtbot):
    preview = _preview(window, qtbot)
    assert preview.split_sizes[0] + preview.split_sizes[1] == 1797
    assert preview.is_images and window.data.image_list.count() == 32
    _choose(window, "builtin", "iris")
    preview = _preview(window, qtbot)
    assert window.data.summary_label.text().startswith("150 samples of shape 4 → 3 classes")
    assert window.data.balance_counts() == ((40, 40, 40), (10, 10, 10))
    assert window.data.sample_table.rowCount() == 100
    assert window.data.sample_table.horizontalHeaderItem(1).text() == "sepal length (cm)"
    assert "Iris flowers" in window.builder.dataset_label.text()
    window.document.undo_stack.undo()
    assert window.document.project.dataset.name == "digits"


def test_generated_sets_follow_their_options(window, qtbot):
    _choose(window, "generated", "spirals")
    assert isinstance(window.document.project.dataset.source, GeneratedSource)
    assert window.data.options.currentIndex() == 1
    window.data.samples_box.setValue(300)
    preview = _preview(window, qtbot)
    assert sum(preview.split_sizes) == 300
    window.data.test_box.setValue(20)
    preview = _preview(window, qtbot)
    assert preview.split_sizes == (180, 60, 60)
    window.data.norm_combo.setCurrentIndex(window.data.norm_combo.findData("minmax"))
    assert window.document.project.dataset.normalization == "minmax"
    assert "minimum and maximum" in _preview(window, qtbot).normalization


def test_split_settings_refuse_impossible_values_with_a_message(window, qtbot):
    messages = []
    window.data.message.connect(messages.append)
    window.data.test_box.setValue(80)  # with 20 % validation nothing is left to train on
    assert messages and "almost nothing to train on" in messages[-1]
    assert window.document.project.dataset.test_split == 0.0
    assert window.data.test_box.value() == 0


def test_importing_numpy_data_records_its_shape(window, qtbot, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "points.npz", x=rng.normal(size=(90, 5)).astype("float32"),
             y=np.arange(90) % 3)
    window.import_data("numpy", tmp_path / "points.npz")
    qtbot.waitUntil(lambda: isinstance(window.document.project.dataset.source, NumpySource),
                    timeout=30000)
    info = window.document.project.dataset.info
    assert info.input_shape == (5,) and info.num_classes == 3
    preview = _preview(window, qtbot)
    assert preview.split_sizes == (72, 18, 0)
    # The digits CNN cannot take 5 features: Train is disabled with the reason.
    qtbot.waitUntil(lambda: "Fix the model first" in window.can_train()[1], timeout=30000)


def test_a_bad_numpy_file_is_refused_and_the_data_kept(window, qtbot, tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not numpy at all")
    before = window.document.project.dataset
    with qtbot.waitSignal(window.ml.source_failed, timeout=30000):
        window.import_data("numpy", tmp_path / "bad.npz")
    assert "bad.npz" in window.last_error
    assert window.document.project.dataset == before


def test_importing_an_image_folder_shows_its_images(window, qtbot, tmp_path):
    from PySide6.QtGui import QColor, QImage

    for label, colour in (("red", QColor(220, 30, 30)), ("blue", QColor(30, 30, 220))):
        (tmp_path / label).mkdir()
        for i in range(5):
            image = QImage(16, 12, QImage.Format.Format_RGB888)
            image.fill(colour)
            assert image.save(str(tmp_path / label / f"{i}.png"))
    window.import_data("images", tmp_path)
    qtbot.waitUntil(lambda: isinstance(window.document.project.dataset.source,
                                       ImageFolderSource), timeout=30000)
    preview = _preview(window, qtbot)
    assert preview.image_shape == (64, 64, 3)
    assert window.data.image_list.count() == 10
    assert {window.data.image_list.item(i).text() for i in range(10)} == {"red", "blue"}
    window.data.height_box.setValue(32)
    assert window.document.project.dataset.info.input_shape == (32, 64, 3)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return tmp_path / "keras"


def test_a_keras_dataset_is_downloaded_with_progress_then_previewed(window, qtbot, tmp_path,
                                                                     keras_home, monkeypatch):
    from studio.ml import keras_datasets

    www = tmp_path / "www"
    www.mkdir()
    rng = np.random.default_rng(0)
    np.savez(www / "mnist.npz", x_train=rng.integers(0, 256, (3000, 28, 28), dtype="uint8"),
             y_train=np.arange(3000, dtype="uint8") % 10,
             x_test=rng.integers(0, 256, (500, 28, 28), dtype="uint8"),
             y_test=np.arange(500, dtype="uint8") % 10)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(www)))
    server = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    server.start()
    try:
        monkeypatch.setattr(keras_datasets, "download_keras_dataset", partial(
            keras_datasets.download_keras_dataset,
            base_url=f"http://127.0.0.1:{httpd.server_address[1]}/", sha256={"mnist.npz": None}))
        _choose(window, "keras", "mnist")
        qtbot.waitUntil(lambda: "not in the Keras cache" in window.data.warning_label.text(),
                        timeout=30000)
        progress = []
        window.downloads.progress.connect(lambda done, total: progress.append((done, total)))
        with qtbot.waitSignal(window.downloads.finished, timeout=60000):
            qtbot.mouseClick(window.data.download_button, Qt.MouseButton.LeftButton)
            assert window.data.cancel_download_button.isEnabled()
        assert progress and progress[-1][0] == progress[-1][1] > 2_000_000
        assert (keras_home / "datasets" / "mnist.npz").is_file()
        preview = _preview(window, qtbot)
        assert sum(preview.split_sizes) == 3500 and preview.image_shape == (28, 28, 1)
        assert "ready to use" in window.data.keras_label.text()
        assert not window.data.cancel_download_button.isEnabled()
    finally:
        httpd.shutdown()
        httpd.server_close()
        server.join(5)


def test_importing_a_csv_through_its_dialog(window, qtbot, tmp_path):
    from studio.core.dataset_spec import CsvSource

    path = tmp_path / "flowers.csv"
    rows = ["\ufeffpetal;colour;kind"] + [f"{1 + i % 5};{'red' if i % 2 else 'white'};"
                                          f"{'rose' if i % 5 > 2 else 'tulip'}"
                                          for i in range(50)]
    path.write_text("\r\n".join(rows), encoding="utf-8")
    window.import_data("csv", path)
    dialog = window.csv_dialog
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    dialog.accept()
    source = window.document.project.dataset.source
    assert isinstance(source, CsvSource) and source.settings.target == "kind"
    assert source.info.input_shape == (3,) and source.info.class_names == ("rose", "tulip")
    preview = _preview(window, qtbot)
    assert preview.feature_names == ("petal", "colour=red", "colour=white")
    assert sum(preview.split_sizes) == 50

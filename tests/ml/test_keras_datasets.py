"""Keras datasets from the cache and by download: all against local fakes, never the internet."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import socket
import struct
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from studio.core.errors import DatasetError
from studio.ml import keras_datasets as kd
from studio.ml.keras_datasets import (
    KERAS_SOURCES,
    DownloadCancelled,
    cache_dir,
    describe,
    download_keras_dataset,
    is_cached,
    load_keras_dataset,
    missing_files,
)

CIFAR_DIR = Path("cifar-10-batches-py-target/cifar-10-batches-py")
FASHION_FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


# --- fake files in the exact layouts Keras uses ---------------------------------------------

def _split(rng: np.random.Generator, n: int, shape: tuple[int, ...]):
    return rng.integers(0, 256, (n, *shape), dtype=np.uint8), rng.integers(0, 10, n, np.uint8)


def write_mnist(cache: Path, n_train: int = 20, n_test: int = 10) -> Path:
    rng = np.random.default_rng(1)
    (x_train, y_train), (x_test, y_test) = _split(rng, n_train, (28, 28)), _split(rng, n_test,
                                                                                 (28, 28))
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(cache / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return cache / "mnist.npz"


def write_fashion(folder: Path, n_train: int = 20, n_test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, split, n in (("train", "train", n_train), ("t10k", "test", n_test)):
        x, y = _split(rng, n, (28, 28))
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as out:
            out.write(struct.pack(">II", 2049, n) + y.tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as out:
            out.write(struct.pack(">IIII", 2051, n, 28, 28) + x.tobytes())
    return arrays


def _dump(path: Path, batch: object) -> None:
    # Protocol 4 references numpy.(_)core.multiarray._reconstruct, like the real batches.
    path.write_bytes(pickle.dumps(batch, protocol=4))


def write_cifar(folder: Path, per_batch: int = 4, n_test: int = 10) -> dict[str, np.ndarray]:
    """Five training batches and a test batch: rows of 3072 channel-first bytes."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True, exist_ok=True)
    rows, labels = [], []
    for i in range(1, 7):
        n = per_batch if i < 6 else n_test
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        y = [int(v) for v in rng.integers(0, 10, n)]
        name = f"data_batch_{i}" if i < 6 else "test_batch"
        _dump(folder / name, {b"batch_label": b"fake", b"data": data, b"labels": y})
        rows.append(data)
        labels.append(y)
    images = [r.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1) for r in rows]
    return {"x_train": np.concatenate(images[:5]), "y_train": np.concatenate(labels[:5]),
            "x_test": images[5], "y_test": np.array(labels[5])}


def write_cifar_archive(archive: Path, work: Path) -> dict[str, np.ndarray]:
    """The real archive's layout, plus members that must never be extracted."""
    arrays = write_cifar(work / "cifar-10-batches-py")
    (work / "cifar-10-batches-py" / "batches.meta").write_bytes(b"meta")
    (work / "escape.txt").write_bytes(b"outside")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(work / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        tar.add(work / "escape.txt", arcname="../escape.txt")
    return arrays


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the table and the cache folder ----------------------------------------------------------

def _keras_source(module: str) -> str:
    """The installed Keras' loader source, read without importing Keras (slow)."""
    spec = importlib.util.find_spec("keras")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    return (folder / "src" / "datasets" / f"{module}.py").read_text()


def test_table_matches_the_installed_keras_loaders():
    mnist, fashion, cifar = (KERAS_SOURCES[n] for n in ("mnist", "fashion_mnist", "cifar10"))
    keras_mnist = _keras_source("mnist")
    assert mnist.files == ("mnist.npz",)
    assert mnist.downloads[0].url == ("https://storage.googleapis.com/tensorflow/"
                                      "tf-keras-datasets/mnist.npz")
    assert mnist.downloads[0].sha256 in keras_mnist
    keras_fashion = _keras_source("fashion_mnist")
    assert fashion.folder == "fashion-mnist" and list(fashion.files) == FASHION_FILES
    assert all(name in keras_fashion for name in FASHION_FILES)
    assert {r.sha256 for r in fashion.downloads} == {None}
    keras_cifar = _keras_source("cifar10")
    assert cifar.downloads[0].url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert cifar.downloads[0].url in keras_cifar and cifar.downloads[0].sha256 in keras_cifar
    assert '"cifar-10-batches-py-target"' in keras_cifar
    assert Path(cifar.folder) == CIFAR_DIR
    assert cifar.files == ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                           "data_batch_5", "test_batch")


def test_table_shapes_classes_and_description():
    assert [s.input_shape for s in KERAS_SOURCES.values()] == [(28, 28, 1), (28, 28, 1),
                                                               (32, 32, 3)]
    assert KERAS_SOURCES["mnist"].class_names == tuple("0123456789")
    assert KERAS_SOURCES["fashion_mnist"].class_names[0] == "T-shirt/top"
    assert KERAS_SOURCES["fashion_mnist"].class_names[9] == "Ankle boot"
    assert KERAS_SOURCES["cifar10"].class_names[:2] == ("airplane", "automobile")
    assert describe("mnist") == ("MNIST digits (28x28): 70,000 grey 28x28 images in 10 classes, "
                                 "11 MB download.")
    assert "170 MB download" in describe("cifar10")
    with pytest.raises(DatasetError, match=r"Unknown Keras dataset 'svhn'; known: mnist"):
        describe("svhn")


def test_cache_dir_follows_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert cache_dir() == tmp_path / "kh" / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    assert cache_dir() == tmp_path / "home" / ".keras" / "datasets"


def test_cache_dir_falls_back_to_tmp_when_keras_home_is_read_only(tmp_path, monkeypatch):
    read_only = tmp_path / "ro"
    read_only.mkdir()
    real_access = os.access
    monkeypatch.setattr(kd.os, "access",
                        lambda path, mode: Path(path) != read_only and real_access(path, mode))
    monkeypatch.setenv("KERAS_HOME", str(read_only))
    assert cache_dir() == Path("/tmp/.keras/datasets")


def test_missing_and_cached(tmp_path):
    assert missing_files("mnist", tmp_path) == [tmp_path / "mnist.npz"]
    assert missing_files("fashion_mnist", tmp_path) == [tmp_path / "fashion-mnist" / f
                                                        for f in FASHION_FILES]
    assert len(missing_files("cifar10", tmp_path)) == 6
    write_mnist(tmp_path)
    write_fashion(tmp_path / "fashion-mnist")
    (tmp_path / "fashion-mnist" / FASHION_FILES[3]).unlink()
    assert is_cached("mnist", tmp_path)
    assert missing_files("fashion_mnist", tmp_path) == [tmp_path / "fashion-mnist" /
                                                        FASHION_FILES[3]]
    assert not is_cached("fashion_mnist", tmp_path)


# --- loading ---------------------------------------------------------------------------------

def test_load_mnist_round_trips(tmp_path):
    path = write_mnist(tmp_path)
    arrays = load_keras_dataset("mnist", tmp_path)
    with np.load(path) as saved:
        np.testing.assert_array_equal(arrays.x_train[..., 0], saved["x_train"])
        np.testing.assert_array_equal(arrays.y_test, saved["y_test"])
    assert arrays.x_train.shape == (20, 28, 28, 1) and arrays.x_test.shape == (10, 28, 28, 1)
    assert arrays.x_train.dtype == np.uint8
    assert arrays.y_train.dtype == np.int32 and arrays.y_train.shape == (20,)


def test_load_fashion_round_trips(tmp_path):
    expected = write_fashion(tmp_path / "fashion-mnist")
    arrays = load_keras_dataset("fashion_mnist", tmp_path)
    assert arrays.x_train.shape == (20, 28, 28, 1) and arrays.x_test.shape == (10, 28, 28, 1)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        got = getattr(arrays, key)
        np.testing.assert_array_equal(got[..., 0] if key[0] == "x" else got, expected[key])
    assert arrays.y_test.dtype == np.int32 and arrays.x_test.dtype == np.uint8
    assert arrays.x_train.flags.writeable


@pytest.mark.parametrize("folder", [CIFAR_DIR, Path("cifar-10-batches-py")],
                         ids=["keras3", "keras2"])
def test_load_cifar_round_trips_channel_last(tmp_path, folder):
    expected = write_cifar(tmp_path / folder)
    arrays = load_keras_dataset("cifar10", tmp_path)
    assert arrays.x_train.shape == (20, 32, 32, 3) and arrays.x_test.shape == (10, 32, 32, 3)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(arrays, key), expected[key])
    raw = pickle.loads((tmp_path / folder / "data_batch_1").read_bytes())[b"data"]
    # Pixel (row 0, col 1) of image 0: red at 1, green at 1024 + 1, blue at 2048 + 1.
    assert list(arrays.x_train[0, 0, 1]) == [raw[0, 1], raw[0, 1025], raw[0, 2049]]
    assert arrays.y_train.dtype == np.int32


class _Gadget:
    """Unpickling this would call ``call(*args)``."""

    def __init__(self, call, args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


@pytest.mark.parametrize("gadget", ["mkdir", "eval"])
def test_cifar_pickle_with_a_foreign_global_is_refused_and_not_run(tmp_path, gadget):
    write_cifar(tmp_path / CIFAR_DIR)
    marker = tmp_path / "hacked"
    call = (_Gadget(os.mkdir, (str(marker),)) if gadget == "mkdir"
            else _Gadget(eval, (f"__import__('os').mkdir({str(marker)!r})",)))
    path = tmp_path / CIFAR_DIR / "data_batch_2"
    _dump(path, {b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, call]})
    with pytest.raises(DatasetError) as caught:
        load_keras_dataset("cifar10", tmp_path)
    assert str(path) in str(caught.value)
    assert ("posix.mkdir" if gadget == "mkdir" else "builtins.eval") in str(caught.value)
    assert not marker.exists()


def _damage_mnist(cache: Path) -> Path:
    path = write_mnist(cache)
    path.write_bytes(path.read_bytes()[:3000])
    return path


def _mnist_text(cache: Path) -> Path:
    write_mnist(cache)
    (cache / "mnist.npz").write_text("<html>Service unavailable</html>")
    return cache / "mnist.npz"


def _mnist_wrong_shape(cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    x = np.zeros((5, 27, 28), np.uint8)
    y = np.zeros(5, np.uint8)
    np.savez(cache / "mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    return cache / "mnist.npz"


def _fashion_truncated(cache: Path) -> Path:
    write_fashion(cache / "fashion-mnist")
    path = cache / "fashion-mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])
    return path


def _fashion_too_few_images(cache: Path) -> Path:
    write_fashion(cache / "fashion-mnist")
    path = cache / "fashion-mnist" / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as out:
        out.write(struct.pack(">IIII", 2051, 10, 28, 28) + bytes(9 * 784))
    return path


def _fashion_not_idx(cache: Path) -> Path:
    write_fashion(cache / "fashion-mnist")
    path = cache / "fashion-mnist" / "train-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb") as out:
        out.write(bytes(100))
    return path


def _cifar_truncated(cache: Path) -> Path:
    write_cifar(cache / CIFAR_DIR)
    path = cache / CIFAR_DIR / "data_batch_3"
    path.write_bytes(path.read_bytes()[:500])
    return path


def _cifar_short_rows(cache: Path) -> Path:
    write_cifar(cache / CIFAR_DIR)
    path = cache / CIFAR_DIR / "test_batch"
    _dump(path, {b"data": np.zeros((10, 3000), np.uint8), b"labels": [0] * 10})
    return path


def _cifar_bad_labels(cache: Path) -> Path:
    write_cifar(cache / CIFAR_DIR)
    path = cache / CIFAR_DIR / "data_batch_5"
    _dump(path, {b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 10]})
    return path


@pytest.mark.parametrize(("name", "damage", "reason"), [
    ("mnist", _damage_mnist, ""),
    ("mnist", _mnist_text, ""),
    ("mnist", _mnist_wrong_shape, "(5, 27, 28, 1)"),
    ("fashion_mnist", _fashion_truncated, ""),
    ("fashion_mnist", _fashion_too_few_images, "expected 10 images"),
    ("fashion_mnist", _fashion_not_idx, "magic number 2049"),
    ("cifar10", _cifar_truncated, ""),
    ("cifar10", _cifar_short_rows, "3072"),
    ("cifar10", _cifar_bad_labels, "labels must be 0-9, found 0-10"),
], ids=lambda v: getattr(v, "__name__", None))
def test_damaged_files_are_named(tmp_path, name, damage, reason):
    path = damage(tmp_path)
    with pytest.raises(DatasetError) as caught:
        load_keras_dataset(name, tmp_path)
    message = str(caught.value)
    assert str(path) in message and "Delete it" in message and reason in message


def test_loading_a_missing_dataset_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetError) as caught:
        load_keras_dataset("cifar10", tmp_path)
    message = str(caught.value)
    assert f"not in the Keras cache ({tmp_path})" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert f"extract it into {tmp_path / CIFAR_DIR.parent} " in message


# --- downloading from a local server ---------------------------------------------------------

class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch, request):
    """(folder served, base URL): a local HTTP server, stopped by a finaliser."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    www = tmp_path / "www"
    www.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    def stop():
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)

    request.addfinalizer(stop)
    return www, f"http://127.0.0.1:{httpd.server_address[1]}/"


class Recorder:
    """progress and cancelled callbacks; cancels after ``cancel_after`` progress calls."""

    def __init__(self, cancel_after: int | None = None):
        self.calls: list[tuple[int, int | None]] = []
        self.cancel_after = cancel_after

    def progress(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))

    def cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.calls) >= self.cancel_after


def test_download_mnist_reports_progress_and_loads(server, tmp_path):
    www, url = server
    source = write_mnist(www, n_train=200, n_test=20)
    size = source.stat().st_size
    assert size > 2 * kd.CHUNK
    cache = tmp_path / "cache"
    rec = Recorder()
    download_keras_dataset("mnist", rec.progress, rec.cancelled, cache, base_url=url,
                           sha256={"mnist.npz": sha256(source)})
    done = [d for d, _ in rec.calls]
    assert done == sorted(set(done)) and done[0] == kd.CHUNK
    assert rec.calls[-1] == (size, size) and {t for _, t in rec.calls} == {size}
    assert len(rec.calls) == -(-size // kd.CHUNK)
    assert files_under(cache) == ["mnist.npz"]
    assert (cache / "mnist.npz").read_bytes() == source.read_bytes()
    assert load_keras_dataset("mnist", cache).x_train.shape == (200, 28, 28, 1)


def test_download_fashion_fetches_only_missing_files(server, tmp_path):
    www, url = server
    write_fashion(www)
    cache = tmp_path / "cache"
    write_fashion(cache / "fashion-mnist")
    (cache / "fashion-mnist" / FASHION_FILES[1]).unlink()
    (cache / "fashion-mnist" / FASHION_FILES[2]).unlink()
    rec = Recorder()
    download_keras_dataset("fashion_mnist", rec.progress, rec.cancelled, cache, base_url=url)
    sizes = [(www / name).stat().st_size for name in FASHION_FILES[1:3]]
    done = [d for d, _ in rec.calls]
    assert done == sorted(set(done))
    assert rec.calls[-1] == (sum(sizes), sum(sizes))
    # While the first file runs, Keras' size of the second stands in for it.
    assert rec.calls[0] == (sizes[0], sizes[0] + 5_148)
    assert files_under(cache) == sorted(f"fashion-mnist/{f}" for f in FASHION_FILES)
    assert load_keras_dataset("fashion_mnist", cache).x_test.shape == (10, 28, 28, 1)


def test_download_cifar_extracts_only_the_batches(server, tmp_path):
    www, url = server
    archive = www / "cifar-10-python.tar.gz"
    expected = write_cifar_archive(archive, tmp_path / "work")
    cache = tmp_path / "deep" / "cache"
    rec = Recorder()
    download_keras_dataset("cifar10", rec.progress, rec.cancelled, cache, base_url=url,
                           sha256={"cifar-10-python.tar.gz": sha256(archive)})
    size = archive.stat().st_size
    assert rec.calls[-1] == (size, size)
    assert files_under(cache) == sorted(str(CIFAR_DIR / f) for f in KERAS_SOURCES["cifar10"].files)
    assert not (tmp_path / "deep" / "escape.txt").exists()
    arrays = load_keras_dataset("cifar10", cache)
    np.testing.assert_array_equal(arrays.x_test, expected["x_test"])
    np.testing.assert_array_equal(arrays.y_train, expected["y_train"])


def test_already_cached_downloads_nothing(tmp_path):
    write_mnist(tmp_path)
    rec = Recorder()
    download_keras_dataset("mnist", rec.progress, rec.cancelled, tmp_path,
                           base_url="http://127.0.0.1:9/")
    assert rec.calls == []


def test_cancel_after_the_first_chunk_leaves_nothing(server, tmp_path):
    www, url = server
    write_mnist(www, n_train=100)
    write_cifar_archive(www / "cifar-10-python.tar.gz", tmp_path / "work")
    assert (www / "cifar-10-python.tar.gz").stat().st_size > kd.CHUNK
    cache = tmp_path / "cache"
    for name in ("mnist", "cifar10"):
        rec = Recorder(cancel_after=1)
        with pytest.raises(DownloadCancelled, match="cancelled"):
            download_keras_dataset(name, rec.progress, rec.cancelled, cache, base_url=url,
                                   sha256={"mnist.npz": None, "cifar-10-python.tar.gz": None})
        assert rec.calls == [(kd.CHUNK, (www / KERAS_SOURCES[name].downloads[0].name)
                              .stat().st_size)]
    assert files_under(cache) == []


def test_server_refusal_says_how_to_place_the_file(server, tmp_path):
    _, url = server
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError) as caught:
        download_keras_dataset("mnist", Recorder().progress, lambda: False, cache, base_url=url)
    message = str(caught.value)
    assert "HTTP 404" in message and "refused" in message
    assert f"download {url}mnist.npz to {cache / 'mnist.npz'}." in message
    assert files_under(cache) == []


def test_offline_says_how_to_place_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with socket.socket() as probe:  # a port that was free a moment ago: refused now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DatasetError) as caught:
        download_keras_dataset("cifar10", Recorder().progress, lambda: False, tmp_path,
                               timeout=2, base_url=f"http://127.0.0.1:{port}")
    message = str(caught.value)
    assert "offline" in message and "refused" in message.lower()
    assert f"http://127.0.0.1:{port}/cifar-10-python.tar.gz" in message
    assert str(tmp_path / CIFAR_DIR / "data_batch_1") in message
    assert files_under(tmp_path) == []


def test_hash_mismatch_keeps_nothing(server, tmp_path):
    www, url = server
    write_mnist(www)
    with pytest.raises(DatasetError) as caught:
        download_keras_dataset("mnist", Recorder().progress, lambda: False, tmp_path / "c",
                               base_url=url)
    message = str(caught.value)
    assert f"its SHA-256 is {sha256(www / 'mnist.npz')}" in message
    assert f"expected {KERAS_SOURCES['mnist'].downloads[0].sha256}" in message
    assert files_under(tmp_path / "c") == []


def test_an_archive_that_is_not_a_tarball_is_reported(server, tmp_path):
    www, url = server
    with gzip.open(www / "cifar-10-python.tar.gz", "wb") as out:
        out.write(b"not a tar file" * 100)
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError, match="could not be unpacked"):
        download_keras_dataset("cifar10", Recorder().progress, lambda: False, cache,
                               base_url=url, sha256={"cifar-10-python.tar.gz": None})
    assert files_under(cache) == []


def test_an_archive_without_the_batches_is_reported(server, tmp_path):
    www, url = server
    with tarfile.open(www / "cifar-10-python.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"data"))
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError, match="lacks cifar-10-batches-py/data_batch_2"):
        download_keras_dataset("cifar10", Recorder().progress, lambda: False, cache,
                               base_url=url, sha256={"cifar-10-python.tar.gz": None})

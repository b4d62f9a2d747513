"""MNIST, Fashion-MNIST and CIFAR-10 from the Keras cache, downloaded into it when missing.

The cached files are read here directly, never through ``keras.datasets.*.load_data``: those
download on a miss with no way to report progress or to cancel. The files live where Keras
keeps them, so a set Keras already fetched is used as is. CIFAR-10 ships as Python pickles,
which are read with an unpickler that can only rebuild numpy arrays: a tampered file cannot
run code.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import pickle
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from studio.core.atomic import atomic_path
from studio.core.dataset_catalog import KERAS_DATASETS, DatasetInfo
from studio.core.errors import DatasetError

#: ``progress(done_bytes, total_bytes)``; total is None while it is unknown.
Progress = Callable[[int, int | None], None]
Cancelled = Callable[[], bool]

CHUNK = 64 * 1024
_GCS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                "data_batch_5", "test_batch")


class DownloadCancelled(DatasetError):
    """The user stopped a download; nothing partial was left in the cache."""


@dataclass(frozen=True)
class RemoteFile:
    """A file Keras downloads: its origin, the SHA-256 Keras checks (if any), its size."""

    url: str
    sha256: str | None
    size: int

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class KerasDataset:
    """Where one dataset's files sit in the Keras cache, and where they come from.

    ``folder`` (relative to the cache) holds ``files``. Without ``archive_root`` each download
    is one of those files; with it, the single download is a .tar.gz whose ``archive_root``
    folder holds them. ``legacy_folders`` are older Keras layouts that are still read.
    """

    name: str
    folder: str
    files: tuple[str, ...]
    downloads: tuple[RemoteFile, ...]
    archive_root: str | None = None
    legacy_folders: tuple[str, ...] = ()

    @property
    def info(self) -> DatasetInfo:
        """Title, input shape and class names: kept once, in the core catalog."""
        return KERAS_DATASETS[self.name]

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.info.input_shape

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names

    @property
    def download_size(self) -> int:
        return sum(remote.size for remote in self.downloads)


_FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                  "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
_FASHION_SIZES = (29_515, 26_421_880, 5_148, 4_422_102)

#: The layouts and origins of keras/src/datasets/{mnist,fashion_mnist,cifar10}.py (Keras 3).
KERAS_SOURCES: Mapping[str, KerasDataset] = {
    source.name: source
    for source in (
        KerasDataset(
            "mnist", "", ("mnist.npz",),
            (RemoteFile(f"{_GCS}mnist.npz",
                        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                        11_490_434),)),
        KerasDataset(
            "fashion_mnist", "fashion-mnist", _FASHION_FILES,
            tuple(RemoteFile(f"{_GCS}{name}", None, size)
                  for name, size in zip(_FASHION_FILES, _FASHION_SIZES, strict=True))),
        # Keras 3 extracts into "cifar-10-batches-py-target"; Keras 2 extracted into the cache.
        KerasDataset(
            "cifar10", "cifar-10-batches-py-target/cifar-10-batches-py", _CIFAR_FILES,
            (RemoteFile("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                        170_498_071),),
            archive_root="cifar-10-batches-py", legacy_folders=("cifar-10-batches-py",)),
    )
}


@dataclass(frozen=True, eq=False)
class KerasArrays:
    """A Keras dataset's own train/test split: uint8 images (n, h, w, c), int32 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


# --- where the files are ---------------------------------------------------------------------

def cache_dir() -> Path:
    """The folder Keras downloads datasets to, by the rule of ``keras.utils.get_file``.

    ``$KERAS_HOME`` or ``~/.keras``; where that cannot be written (a read-only home on a
    shared or sandboxed machine) Keras falls back to ``/tmp/.keras``, and so does this.
    """
    home = os.environ.get("KERAS_HOME")
    if home:
        base = Path(home).expanduser()
    else:
        user = Path("~").expanduser()
        base = (user if os.access(user, os.W_OK) else _temp_root()) / ".keras"
    if not _writable(base):
        base = _temp_root() / ".keras"
    return base / "datasets"


def _temp_root() -> Path:
    return Path("/tmp") if os.path.isdir("/tmp") else Path(tempfile.gettempdir())


def _writable(folder: Path) -> bool:
    """Keras creates its home on import, so a missing folder counts if it could be created."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    return existing is not None and existing.is_dir() and os.access(existing, os.W_OK)


def source(name: str) -> KerasDataset:
    """The table entry for ``name``, or a DatasetError listing the known names."""
    try:
        return KERAS_SOURCES[name]
    except KeyError:
        known = ", ".join(KERAS_SOURCES)
        raise DatasetError(f"Unknown Keras dataset {name!r}; known: {known}.") from None


def _root(cache: Path | None) -> Path:
    return Path(cache) if cache is not None else cache_dir()


def _complete_folder(spec: KerasDataset, root: Path) -> Path | None:
    for folder in (spec.folder, *spec.legacy_folders):
        if all((root / folder / name).is_file() for name in spec.files):
            return root / folder
    return None


def missing_files(name: str, cache: Path | None = None) -> list[Path]:
    """The files still to fetch, at the paths where Keras (and the studio) look for them."""
    spec = source(name)
    root = _root(cache)
    if _complete_folder(spec, root) is not None:
        return []
    return [root / spec.folder / file for file in spec.files
            if not (root / spec.folder / file).is_file()]


def is_cached(name: str, cache: Path | None = None) -> bool:
    return not missing_files(name, cache)


def describe(name: str) -> str:
    """One line for the UI: "MNIST digits (28x28): 70,000 grey 28x28 images in 10 classes, ..."."""
    spec = source(name)
    height, width, channels = spec.input_shape
    colour = "grey" if channels == 1 else "colour"
    return (f"{spec.title}: {spec.info.samples:,} {colour} {height}x{width} images in "
            f"{len(spec.class_names)} classes, {spec.download_size / 1e6:.0f} MB download.")


def manual_instructions(name: str, cache: Path | None = None, base_url: str | None = None) -> str:
    """How to install the missing files by hand, for a machine without internet access."""
    spec = source(name)
    root = _root(cache)
    if spec.archive_root is not None:
        target = root / spec.folder
        url = _url(spec.downloads[0], base_url)
        return (f"To install it by hand, download {url} on a machine with internet access and "
                f"extract it into {target.parent} (so that {target / spec.files[0]} exists).")
    missing = set(missing_files(name, root))
    steps = [f"{_url(remote, base_url)} to {root / spec.folder / remote.name}"
             for remote in spec.downloads
             if not missing or root / spec.folder / remote.name in missing]
    return ("To install it by hand, on a machine with internet access download "
            + "; ".join(steps) + ".")


def _url(remote: RemoteFile, base_url: str | None) -> str:
    return remote.url if base_url is None else f"{base_url.rstrip('/')}/{remote.name}"


# --- reading ---------------------------------------------------------------------------------

def load_keras_dataset(name: str, cache: Path | None = None) -> KerasArrays:
    """Read a cached dataset; a missing one is a DatasetError saying how to get it."""
    spec = source(name)
    root = _root(cache)
    folder = _complete_folder(spec, root)
    if folder is None:
        raise DatasetError(f"{spec.title} is not in the Keras cache ({root}) yet. Download it "
                           f"from the studio. {manual_instructions(name, root)}")
    return _READERS[name](folder)


def _damaged(path: Path, reason: object) -> DatasetError:
    return DatasetError(f"{path} is damaged or incomplete ({reason}). Delete it, and it will be "
                        "downloaded again.")


def _checked(path: Path, x: np.ndarray, y: np.ndarray,
             shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Refuse a file whose arrays would break training later, with a less helpful error."""
    if x.dtype != np.uint8 or x.shape[1:] != shape:
        raise _damaged(path, f"images are {x.dtype} {x.shape}, expected uint8 (n, "
                             f"{', '.join(map(str, shape))})")
    if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu":
        raise _damaged(path, f"{len(x)} images but labels of shape {y.shape} ({y.dtype})")
    if len(y) and (int(y.min()) < 0 or int(y.max()) > 9):
        raise _damaged(path, f"labels must be 0-9, found {int(y.min())}-{int(y.max())}")
    return x, y.astype(np.int32)


def _read_mnist(folder: Path) -> KerasArrays:
    path = folder / "mnist.npz"
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with loaded:
            x_train, y_train, x_test, y_test = (
                np.asarray(loaded[key]) for key in ("x_train", "y_train", "x_test", "y_test"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise _damaged(path, error) from None
    return KerasArrays(*_checked(path, x_train[..., np.newaxis], y_train, (28, 28, 1)),
                       *_checked(path, x_test[..., np.newaxis], y_test, (28, 28, 1)))


def _read_idx(path: Path, magic: int, header: int) -> tuple[int, np.ndarray]:
    """An IDX file's item count and raw bytes (Keras skips the header: 8 or 16 bytes)."""
    try:
        with gzip.open(path, "rb") as stream:
            data = stream.read()
    except (OSError, EOFError, zlib.error) as error:
        raise _damaged(path, error) from None
    if len(data) < header or int.from_bytes(data[:4], "big") != magic:
        raise _damaged(path, f"not an IDX file with magic number {magic}")
    # A bytearray, not bytes: arrays read from it are writable, like those from np.load.
    return int.from_bytes(data[4:8], "big"), np.frombuffer(bytearray(data), np.uint8,
                                                           offset=header)


def _read_fashion_split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    labels_path = folder / f"{prefix}-labels-idx1-ubyte.gz"
    images_path = folder / f"{prefix}-images-idx3-ubyte.gz"
    count, labels = _read_idx(labels_path, 2049, 8)
    if len(labels) != count:
        raise _damaged(labels_path, f"header promises {count} labels, found {len(labels)}")
    images_count, pixels = _read_idx(images_path, 2051, 16)
    if images_count != count or len(pixels) != count * 28 * 28:
        raise _damaged(images_path, f"expected {count} images of 28x28 to match "
                                    f"{labels_path.name}, found {len(pixels)} bytes")
    return _checked(images_path, pixels.reshape(count, 28, 28, 1), labels, (28, 28, 1))


def _read_fashion(folder: Path) -> KerasArrays:
    return KerasArrays(*_read_fashion_split(folder, "train"), *_read_fashion_split(folder, "t10k"))


#: What a CIFAR batch references: numpy array rebuilding, nothing else (as Keras allows).
_PICKLE_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only numpy arrays and plain containers, so a batch file cannot run code."""

    def __init__(self, stream: IO[bytes], path: Path) -> None:
        super().__init__(stream, encoding="bytes")
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise DatasetError(f"{self._path} asks to run {module}.{name}, which a CIFAR-10 batch "
                           "never needs: it is damaged or was tampered with, and was not "
                           "loaded. Delete it, and it will be downloaded again.")


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as stream:
            batch = _ArrayUnpickler(stream, path).load()
    except DatasetError:
        raise
    except Exception as error:  # a damaged pickle can fail in almost any way
        raise _damaged(path, error) from None
    if not isinstance(batch, dict):
        raise _damaged(path, f"expected a dict, found {type(batch).__name__}")
    fields = {key.decode("latin-1") if isinstance(key, bytes) else key: value
              for key, value in batch.items()}
    data = fields.get("data")
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise _damaged(path, "expected 'data' rows of 3072 pixel values")
    try:
        labels = np.asarray(fields.get("labels"))
    except (ValueError, TypeError) as error:
        raise _damaged(path, f"unreadable labels: {error}") from None
    # Rows are channel-first (1024 red, 1024 green, 1024 blue): make them channel-last.
    images = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return _checked(path, images, labels, (32, 32, 3))


def _read_cifar10(folder: Path) -> KerasArrays:
    train = [_read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = _read_cifar_batch(folder / "test_batch")
    return KerasArrays(np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
                       x_test, y_test)


_READERS: Mapping[str, Callable[[Path], KerasArrays]] = {
    "mnist": _read_mnist,
    "fashion_mnist": _read_fashion,
    "cifar10": _read_cifar10,
}


# --- downloading -----------------------------------------------------------------------------

def download_keras_dataset(name: str, progress: Progress, cancelled: Cancelled,
                           cache: Path | None = None, timeout: float = 30.0, *,
                           base_url: str | None = None,
                           sha256: Mapping[str, str | None] | None = None) -> None:
    """Fetch the files ``name`` still lacks into the cache; a no-op when all are there.

    ``progress(done, total)`` is called once per chunk received, over all files together;
    ``cancelled()`` is checked before each chunk. Every file appears whole or not at all (a
    file already complete stays when a later one fails). ``base_url`` fetches from a mirror;
    ``sha256`` replaces Keras' expected hashes by file name (None: do not check).
    """
    spec = source(name)
    root = _root(cache)
    missing = set(missing_files(name, root))
    if not missing:
        return
    remotes = [remote for remote in spec.downloads
               if spec.archive_root is not None or root / spec.folder / remote.name in missing]
    job = _Download(spec, root, progress, cancelled, timeout, base_url, sha256 or {},
                    manual_instructions(name, root, base_url), [r.size for r in remotes])
    for remote in remotes:
        if spec.archive_root is None:
            job.fetch_file(remote, root / spec.folder / remote.name)
        else:
            job.fetch_archive(remote)


@dataclass
class _Download:
    """One dataset's download: a running total over its files, cancellable between chunks."""

    spec: KerasDataset
    root: Path
    progress: Progress
    cancelled: Cancelled
    timeout: float
    base_url: str | None
    hashes: Mapping[str, str | None]
    manual: str
    #: Keras' known sizes stand in for the files not yet started, so one bar covers them all.
    sizes: list[int]
    started: int = 0
    done: int = 0
    done_before: int = 0
    length: int | None = None

    def fetch_file(self, remote: RemoteFile, target: Path) -> None:
        try:
            with atomic_path(target) as tmp, open(tmp, "wb") as out:
                self._fetch(remote, out)
        except OSError as error:
            raise self._unwritable(target, error) from None

    def fetch_archive(self, remote: RemoteFile) -> None:
        """Download to a hidden file beside the data, extract the batches, drop the archive.

        (Keras 3's own loader keeps its copy as "cifar-10-batches-py-target_archive" and would
        fetch it again; keeping 170 MB twice is not worth that.)
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{remote.name}.", suffix=".tmp", dir=self.root)
        except OSError as error:
            raise self._unwritable(self.root, error) from None
        archive = Path(name)
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    self._fetch(remote, out)
            except OSError as error:
                raise self._unwritable(archive, error) from None
            self._extract(archive, remote)
        finally:
            archive.unlink(missing_ok=True)

    def _extract(self, archive: Path, remote: RemoteFile) -> None:
        """Copy out only the expected regular files by exact name: the archive picks no path."""
        assert self.spec.archive_root is not None
        wanted = {f"{self.spec.archive_root}/{file}": file for file in self.spec.files}
        found: set[str] = set()
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    file = wanted.get(member.name)
                    stream = tar.extractfile(member) if file and member.isfile() else None
                    if file is None or stream is None:
                        continue
                    self._check_cancelled()
                    data = stream.read()  # one batch, about 30 MB
                    self._write(self.root / self.spec.folder / file, data)
                    found.add(member.name)
        except (OSError, EOFError, zlib.error, tarfile.TarError) as error:
            raise DatasetError(f"The archive from {self._url(remote)} could not be unpacked "
                               f"({error}). Try again. {self.manual}") from None
        absent = sorted(set(wanted) - found)
        if absent:
            raise DatasetError(f"The archive from {self._url(remote)} lacks {', '.join(absent)}: "
                               f"it is not the {self.spec.title} archive. {self.manual}")

    def _write(self, target: Path, data: bytes) -> None:
        try:
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
        except OSError as error:
            raise self._unwritable(target, error) from None

    def _fetch(self, remote: RemoteFile, out: IO[bytes]) -> None:
        """Stream ``remote`` into ``out``, checking its length and hash at the end."""
        url = self._url(remote)
        self._check_cancelled()
        try:
            response = urllib.request.urlopen(url, timeout=self.timeout)
        except (OSError, http.client.HTTPException) as error:
            raise self._offline(url, error) from None
        with response:
            self.done_before, self.length = self.done, _content_length(response)
            self.started += 1
            digest = self._copy(url, response, out)
        received = self.done - self.done_before
        if self.length is not None and received != self.length:
            raise DatasetError(f"The download of {url} stopped after {received:,} of "
                               f"{self.length:,} bytes; nothing was kept. Try again. "
                               f"{self.manual}")
        expected = self.hashes.get(remote.name, remote.sha256)
        if expected is not None and digest != expected:
            raise DatasetError(f"{url} is not the expected file: its SHA-256 is {digest}, "
                               f"expected {expected}; nothing was kept. Try again later. "
                               f"{self.manual}")

    def _copy(self, url: str, response: IO[bytes], out: IO[bytes]) -> str:
        hasher = hashlib.sha256()
        while True:
            self._check_cancelled()
            try:
                chunk = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as error:
                raise self._offline(url, error) from None
            if not chunk:
                return hasher.hexdigest()
            out.write(chunk)
            hasher.update(chunk)
            self.done += len(chunk)
            self.progress(self.done, self._total())

    def _total(self) -> int | None:
        if self.length is None:
            return None
        return self.done_before + self.length + sum(self.sizes[self.started:])

    def _check_cancelled(self) -> None:
        if self.cancelled():
            raise DownloadCancelled(f"The download of {self.spec.title} was cancelled; no "
                                    "partial file was kept.")

    def _url(self, remote: RemoteFile) -> str:
        return _url(remote, self.base_url)

    def _offline(self, url: str, error: BaseException) -> DatasetError:
        if isinstance(error, urllib.error.HTTPError):
            what = (f"{url} answered HTTP {error.code} {error.reason}: the server refused the "
                    "request")
        else:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            what = (f"{url} could not be reached ({reason or type(reason).__name__}): this "
                    "machine seems to be offline, or the server is down")
        return DatasetError(f"Could not download {self.spec.title}: {what}. {self.manual}")

    def _unwritable(self, path: Path, error: OSError) -> DatasetError:
        return DatasetError(f"Could not write {path} ({error.strerror or error}). Check that "
                            f"{self.root} is writable and the disk has room.")


def _content_length(response: Any) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None

"""The MNIST loader: IDX files (gzip or raw) -> float32 images in [0, 1] and int64 labels.

Where it looks, in order (the first place holding all files of the split wins):

1. the explicit ``path`` argument (nothing else is tried when it is given);
2. the directory in the environment variable ``PJSIM_DATA`` (the files directly in it, or in its
   ``mnist/`` subdirectory);
3. the user cache ``~/.cache/pjsim/mnist`` (``$XDG_CACHE_HOME/pjsim/mnist`` when that is set);
4. a download into the user cache from the usual public mirrors, when online.

Every file is checked against the MD5 of its uncompressed bytes (shared/reference.md section 6); a
mismatch, a bad IDX header or a missing file raises ``DataError`` naming the file. MNIST is by Yann
LeCun and Corinna Cortes (CC BY-SA 3.0).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from simulator.errors import PjsimError
from simulator.fileio import write_bytes_atomic

__all__ = ["MIRRORS", "MNIST_FILES", "DataError", "cache_dir", "find_mnist", "load_mnist"]


class DataError(PjsimError):
    """A dataset could not be found, downloaded or verified; names the file and what was expected."""


@dataclass(frozen=True, slots=True)
class IdxFile:
    """One MNIST file: its base name (without ``.gz``), the MD5 of its uncompressed bytes, its item count."""

    name: str
    md5: str
    count: int


#: split -> (images, labels); MD5s of the uncompressed files from shared/reference.md section 6.
MNIST_FILES: dict[str, tuple[IdxFile, IdxFile]] = {
    "train": (
        IdxFile("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb", 60000),
        IdxFile("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624", 60000),
    ),
    "test": (
        IdxFile("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea", 10000),
        IdxFile("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637", 10000),
    ),
}

#: Public mirrors serving the gzip files under their usual names (tried in order).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

_IDX_DTYPE = {0x08: np.uint8}


def cache_dir() -> Path:
    """The user cache for MNIST: ``$XDG_CACHE_HOME/pjsim/mnist`` or ``~/.cache/pjsim/mnist``."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "pjsim" / "mnist"


def _file_in(directory: Path, base: str) -> Path | None:
    """``directory/base.gz`` or ``directory/base`` (also the ``base.idx3-ubyte`` dotted variant)."""
    for candidate in (base + ".gz", base, base.replace("-idx", ".idx") + ".gz", base.replace("-idx", ".idx")):
        p = directory / candidate
        if p.is_file():
            return p
    return None


def _complete(directory: Path, split: str) -> tuple[Path, Path] | None:
    files = [_file_in(directory, f.name) for f in MNIST_FILES[split]]
    return (files[0], files[1]) if all(files) else None


def _download(split: str, target: Path) -> tuple[Path, Path]:
    """Fetch the split's gzip files into ``target``, verifying each MD5 before it is kept."""
    paths = []
    for idx in MNIST_FILES[split]:
        dest = target / (idx.name + ".gz")
        if dest.is_file():
            paths.append(dest)
            continue
        errors = []
        for mirror in MIRRORS:
            url = mirror + idx.name + ".gz"
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    blob = resp.read()
                raw = gzip.decompress(blob)
            except (urllib.error.URLError, OSError, EOFError, TimeoutError) as exc:
                errors.append(f"{url}: {exc}")
                continue
            if hashlib.md5(raw).hexdigest() != idx.md5:
                errors.append(f"{url}: MD5 mismatch")
                continue
            write_bytes_atomic(dest, blob)
            paths.append(dest)
            break
        else:
            raise DataError(
                f"MNIST {split} file {idx.name} is not available locally and could not be downloaded "
                f"({'; '.join(errors)})"
            )
    return paths[0], paths[1]


def find_mnist(split: str = "train", path: str | Path | None = None, download: bool = True) -> tuple[Path, Path]:
    """Locate (or download) the image and label files of ``split``; returns their paths.

    Raises:
        DataError: the split is unknown, the explicit path lacks the files, or nothing was found and
            the download failed (offline); the message lists every place looked at.
    """
    if split not in MNIST_FILES:
        raise DataError(f"unknown MNIST split {split!r}; expected one of {sorted(MNIST_FILES)}")
    names = ", ".join(f.name + "[.gz]" for f in MNIST_FILES[split])
    if path is not None:
        directory = Path(path).expanduser()
        found = _complete(directory, split) or _complete(directory / "mnist", split)
        if found is None:
            raise DataError(f"MNIST {split} files ({names}) not found in {directory}")
        return found
    looked = []
    env = os.environ.get("PJSIM_DATA")
    if env:
        for directory in (Path(env).expanduser(), Path(env).expanduser() / "mnist"):
            looked.append(str(directory))
            if found := _complete(directory, split):
                return found
    cache = cache_dir()
    looked.append(str(cache))
    if found := _complete(cache, split):
        return found
    if not download:
        raise DataError(f"MNIST {split} files ({names}) not found in: {', '.join(looked)}; downloads disabled")
    try:
        return _download(split, cache)
    except DataError as exc:
        raise DataError(
            f"MNIST {split} files ({names}) not found in: {', '.join(looked)} (set PJSIM_DATA or pass path=); "
            f"download failed: {exc}"
        ) from None


def _read_idx(path: Path, expected: IdxFile, verify: bool) -> np.ndarray:
    """Parse one IDX file (gzip or raw) into a uint8 array; checks magic, shape and MD5."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if verify and hashlib.md5(raw).hexdigest() != expected.md5:
        raise DataError(f"{path}: MD5 of the uncompressed bytes is not {expected.md5} (corrupt or not MNIST)")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPE:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    if not shape or shape[0] != expected.count or len(raw) != header + int(np.prod(shape)):
        raise DataError(f"{path}: IDX shape {shape} / {len(raw)} bytes do not match {expected.count} items")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


@lru_cache(maxsize=4)
def _load_arrays(images_path: Path, labels_path: Path, split: str, verify: bool) -> tuple[np.ndarray, np.ndarray]:
    img_spec, lab_spec = MNIST_FILES[split]
    images = _read_idx(images_path, img_spec, verify)
    labels = _read_idx(labels_path, lab_spec, verify)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1:
        raise DataError(f"{images_path}: expected images [N, 28, 28] and labels [N], got {images.shape} and {labels.shape}")
    return images, labels


def load_mnist(
    split: str = "train", path: str | Path | None = None, download: bool = True, verify: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load an MNIST split as tensors.

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000).
        path: directory holding the IDX files (gzip or raw); when given, nothing else is tried.
        download: allow a download into the user cache when no local copy is found.
        verify: check the MD5 of every file (about 0.1 s for the training set).

    Returns:
        ``(images, labels)``: float32 ``[N, 1, 28, 28]`` with values in [0, 1] (pixel / 255), and
        int64 ``[N]``. Fresh tensors on every call (safe to modify).

    Raises:
        DataError: see ``find_mnist``; also a corrupt file (bad header, size or checksum).
    """
    images_path, labels_path = find_mnist(split, path, download)
    images, labels = _load_arrays(images_path.resolve(), labels_path.resolve(), split, verify)
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y

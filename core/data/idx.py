"""MNIST-format IDX files (plain or gzipped): reader, writer, and the four-file data sets.

An IDX file is: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), a byte with the number of dimensions, one big-endian uint32 per
dimension, then the values big-endian in C order. MNIST and Fashion-MNIST ship as
``train-images-idx3-ubyte`` (n, 28, 28) uint8, ``train-labels-idx1-ubyte`` (n,) uint8 and the same
with ``t10k``, usually gzipped (``.gz``). Gzip is recognised by its magic bytes, not by the name.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.text import UserError

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {("u", 1): 0x08, ("i", 1): 0x09, ("i", 2): 0x0B, ("i", 4): 0x0C, ("f", 4): 0x0D, ("f", 8): 0x0E}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxError(UserError):
    """An IDX file or folder that cannot be read as MNIST-format data."""


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise IdxError(f"No IDX file at {path}.")
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise IdxError(f"{path} is a damaged gzip file ({exc}).") from None
    return raw


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of one (uncompressed) IDX file -> array in native byte order."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise IdxError(f"{name} is not an IDX file (bad magic number {raw[:4].hex() or 'none'}).")
    dtype, ndim = IDX_TYPES[raw[2]], raw[3]
    if ndim == 0:
        raise IdxError(f"{name} declares zero dimensions.")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{name} ends inside its header.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    size = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != size:
        raise IdxError(
            f"{name} should hold {size} bytes of data for shape {dims} but holds {len(raw) - header}."
        )
    arr = np.frombuffer(raw, dtype=dtype, count=int(np.prod(dims, dtype=np.int64)), offset=header)
    return arr.reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, plain or gzipped. Returns an array of its declared shape and type."""
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; gzipped if ``compress`` (default: the name ends in .gz)."""
    path = Path(path)
    a = np.asarray(array)
    code = _CODE_OF_KIND.get((a.dtype.kind, a.dtype.itemsize))
    if code is None or a.ndim == 0 or a.ndim > 255:
        raise IdxError(f"IDX cannot store a {a.ndim}-dimensional {a.dtype} array.")
    body = a.astype(IDX_TYPES[code]).tobytes()
    raw = bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + body
    if compress if compress is not None else path.suffix == ".gz":
        raw = gzip.compress(raw, mtime=0)
    path.write_bytes(raw)
    return path


@dataclass(frozen=True, eq=False)
class IdxDataset:
    """A 28 x 28 image data set in MNIST layout.

    train_images (n, 28, 28) uint8, train_labels (n,) int64, test_images (m, 28, 28) uint8,
    test_labels (m,) int64.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def _find(folder: Path, split: str, what: str, idx: int) -> Path:
    stems = [f"{split}-{what}-idx{idx}-ubyte", f"{split}-{what}.idx{idx}-ubyte"]
    for stem in stems:
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    raise IdxError(f"{folder} has no {stems[0]}[.gz] file.")


def load_idx_dataset(folder: str | Path) -> IdxDataset:
    """The four MNIST-format files in ``folder`` (train-/t10k- images idx3 and labels idx1)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise IdxError(f"No folder {folder}.")
    parts = []
    for split in ("train", "t10k"):
        images = read_idx(_find(folder, split, "images", 3))
        labels = read_idx(_find(folder, split, "labels", 1))
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise IdxError(f"The {split} images must be (n, 28, 28); they are {images.shape}.")
        if labels.ndim != 1 or len(labels) != len(images):
            raise IdxError(f"The {split} set has {len(images)} images but {labels.shape} labels.")
        if images.dtype != np.uint8:
            raise IdxError(f"The {split} images must be unsigned bytes (0..255), not {images.dtype}.")
        if len(labels) and (labels.min() < 0 or labels.max() > 9):
            raise IdxError(f"The {split} labels must be 0..9.")
        parts += [images, labels.astype(np.int64)]
    return IdxDataset(*parts)

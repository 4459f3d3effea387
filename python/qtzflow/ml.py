"""qtzflow.ml — the data and the network of the paper's image-classification experiment.

    from qtzflow import ml
    train_x, train_y, test_x, test_y = ml.load_fashion_mnist()      # Debian's dataset-fashion-mnist
    images = ml.read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")

read_idx reads an IDX file (Y. LeCun's format of MNIST and Fashion-MNIST, gzip-compressed or
not): a big-endian header of two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the number of dimensions, one 32-bit
size per dimension, then the values.  Everything is checked before it is used: the magic bytes,
the type code, 1 to 4 dimensions each of size >= 1, and a body of exactly the size the header
announces; a missing, truncated or damaged file raises ValueError naming the file and what was
wrong.  load_fashion_mnist also checks that images are 28 x 28, that the counts of images and
labels agree (60,000 and 10,000) and that labels are in 0..9.

The network (authors_network) is the QTZ authors': Conv2d(1, 32, 3, padding 1) -> ReLU ->
MaxPool 2 -> Conv2d(32, 64, 3, padding 1) -> ReLU -> MaxPool 2 -> Linear(3136, 10), Xavier-uniform
initialisation of the linear layer only (the convolutions keep PyTorch's default), 50,186
parameters; torch is imported only by the functions that need it.
"""
import gzip
import os

import numpy as np

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array an IDX file holds (see the module docstring); ValueError naming the file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as e:
        raise ValueError(f"{path}: cannot be read ({e.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: a damaged gzip stream ({e})") from None
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for an IDX header (4 bytes at least)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: magic bytes {raw[0]:#04x} {raw[1]:#04x}, an IDX file starts with 0x00 0x00")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise ValueError(f"{path}: type code {code:#04x}, must be one of " + ", ".join(f"{c:#04x}" for c in _TYPES))
    if not 1 <= ndim <= 4:
        raise ValueError(f"{path}: {ndim} dimensions, must be 1 to 4")
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise ValueError(f"{path}: the header announces {ndim} dimensions but the file ends after {len(raw)} bytes")
    shape = tuple(int(x) for x in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if any(s < 1 for s in shape):
        raise ValueError(f"{path}: dimensions {shape}, each must be >= 1")
    dtype = np.dtype(_TYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - head != expected:
        raise ValueError(f"{path}: {len(raw) - head} bytes of values, the header {shape} of {dtype.name} announces {expected}"
                         + (" (truncated)" if len(raw) - head < expected else " (trailing bytes)"))
    return np.frombuffer(raw, dtype=dtype, offset=head).reshape(shape).astype(dtype.newbyteorder("="))


def load_fashion_mnist(folder=FASHION_MNIST):
    """(train images, train labels, test images, test labels) as uint8 arrays (N x 28 x 28, N),
    from the four files of Debian's dataset-fashion-mnist (gzip-compressed or not)."""
    def find(stem):
        for name in (stem + ".gz", stem):
            p = os.path.join(folder, name)
            if os.path.exists(p):
                return p
        raise ValueError(f"{os.path.join(folder, stem)}[.gz]: no such file (Debian: apt-get install dataset-fashion-mnist)")

    out = []
    for split, count in (("train", 60000), ("t10k", 10000)):
        ip, lp = find(f"{split}-images-idx3-ubyte"), find(f"{split}-labels-idx1-ubyte")
        images, labels = read_idx(ip), read_idx(lp)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{ip}: images {images.shape} of {images.dtype}, must be N x 28 x 28 unsigned bytes")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{lp}: labels {labels.shape} of {labels.dtype}, must be N unsigned bytes")
        if len(images) != len(labels) or len(images) != count:
            raise ValueError(f"{ip}, {lp}: {len(images)} images and {len(labels)} labels, the {split} split has {count} of each")
        if labels.max() > 9:
            raise ValueError(f"{lp}: label {int(labels.max())}, must be 0..9")
        out += [images, labels]
    return tuple(out)


def authors_network(seed=None):
    """The QTZ authors' network (module docstring); with a seed, its initial weights are
    torch.manual_seed(seed)'s."""
    import torch
    from torch import nn
    if seed is not None:
        torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(3136, 10))
    nn.init.xavier_uniform_(net[7].weight)
    return net

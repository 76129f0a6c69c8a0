"""``Digits``: the UCI optical handwritten digits (8x8), bundled with ember.

1797 images of the digits 0-9 by 43 writers (E. Alpaydin, C. Kaynak, 1998, UCI Machine
Learning Repository, CC BY 4.0), as scikit-learn ships them: 64 pixel counts 0..16 and
the label per row of ``data/digits.csv.gz``. No download is ever needed.
"""
import os

import numpy as np
import ember
from .mnist import MNIST
from .vision import VisionDataset

_CSV = os.path.join(os.path.dirname(__file__), "data", "digits.csv.gz")
N_TRAIN = 1437  # the first 80 % of the rows; every digit is 33 to 37 times among the last 360


class Digits(VisionDataset):
    """The 8x8 UCI digits, shaped like MNIST.

    Args:
        root: ignored (the data ships inside the package); accepted for a uniform signature.
        train: ``True`` for the first 1437 rows, ``False`` for the last 360 (a fixed split,
            balanced across the classes), ``None`` for all 1797.
        transform, target_transform: applied to the image and the label.
        download: ignored (nothing to download).

    Items are ``(PIL image (mode 'L', 8x8), int label)``; the pixel counts 0..16 are scaled
    to 0..255, so ``ToTensor()`` gives values in [0, 1]. ``data`` is a uint8
    ``(N, 8, 8)`` tensor and ``targets`` an int64 ``(N,)`` tensor.
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        raw = np.loadtxt(_CSV, delimiter=",", dtype=np.int64)
        rows = {True: slice(0, N_TRAIN), False: slice(N_TRAIN, None), None: slice(None)}[train]
        raw = raw[rows]
        pixels = np.rint(raw[:, :64] * (255 / 16)).astype(np.uint8).reshape(-1, 8, 8)
        self.data = ember.from_numpy(pixels)
        self.targets = ember.from_numpy(raw[:, 64].copy())

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    # items exactly as MNIST's
    __getitem__ = MNIST.__getitem__
    __len__ = MNIST.__len__

    def extra_repr(self):
        return "Split: " + {True: "Train", False: "Test", None: "All"}[self.train]

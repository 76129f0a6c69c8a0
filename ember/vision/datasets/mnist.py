"""MNIST and its drop-in relatives (FashionMNIST, KMNIST, EMNIST), read from IDX files.

Layout as torchvision: ``root/<ClassName>/raw/<file>-idx?-ubyte``. ``download=True``
fetches the ``.gz`` archives from ``mirrors`` (see ``datasets.utils`` for the
``EMBER_DATASETS_MIRRORS`` override), checks their MD5 and unpacks them next to
themselves; archives already present with the right MD5 are not fetched again. Beyond
torchvision: only the requested split's files must exist (so a folder holding just the
``t10k`` files serves ``train=False``), and verified archives already in ``raw/`` are
unpacked even without ``download=True``.
"""
import os
import shutil
import string
import warnings

import numpy as np
from PIL import Image

import ember
from .utils import (_COMPRESSIONS, check_integrity, download_from_mirrors, extract_archive, mirror_urls,
                    verify_str_arg)
from .vision import VisionDataset


class MNIST(VisionDataset):
    """`MNIST <http://yann.lecun.com/exdb/mnist/>`_: 28x28 grayscale digits; items are
    ``(PIL image (mode 'L'), int label)``; ``data`` is a uint8 ``(N, 28, 28)`` tensor and
    ``targets`` an int64 ``(N,)`` tensor."""

    mirrors = [
        "http://yann.lecun.com/exdb/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets")
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets")
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data")
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data")
        return self.data

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if self._check_legacy_exist():
            self.data, self.targets = self._load_legacy_data()
            return
        if download:
            self.download()
        else:
            self._extract_local_archives()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self.data, self.targets = self._load_data()

    def _check_legacy_exist(self):
        if not os.path.exists(self.processed_folder):
            return False
        return all(check_integrity(os.path.join(self.processed_folder, f))
                   for f in (self.training_file, self.test_file))

    def _load_legacy_data(self):
        data_file = self.training_file if self.train else self.test_file
        return ember.load(os.path.join(self.processed_folder, data_file), weights_only=True)

    def _split_prefix(self):
        return "train" if self.train else "t10k"

    def _load_data(self):
        prefix = self._split_prefix()
        data = read_image_file(os.path.join(self.raw_folder, f"{prefix}-images-idx3-ubyte"))
        targets = read_label_file(os.path.join(self.raw_folder, f"{prefix}-labels-idx1-ubyte"))
        return data, targets

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        # a PIL image, as every other vision dataset returns
        img = Image.fromarray(img.numpy(), mode="L")
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self):
        return {_class: i for i, _class in enumerate(self.classes)}

    def _split_resources(self):
        prefix = self._split_prefix() + "-"
        return [(f, md5) for f, md5 in self.resources if os.path.basename(f).startswith(prefix)]

    def _check_exists(self):
        return all(check_integrity(os.path.join(self.raw_folder, os.path.splitext(os.path.basename(f))[0]))
                   for f, _ in self._split_resources())

    def _extract_local_archives(self):
        for filename, md5 in self._split_resources():
            archive = os.path.join(self.raw_folder, filename)
            if not os.path.isfile(os.path.splitext(archive)[0]) and check_integrity(archive, md5):
                extract_archive(archive, self.raw_folder)

    def download(self):
        """Fetch (or reuse) every archive of the dataset and unpack it. A file of the
        other split that cannot be fetched only warns."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        needed = set(self._split_resources())
        for filename, md5 in self.resources:
            try:
                download_from_mirrors(mirror_urls(self.mirrors, self.__class__.__name__, filename),
                                      self.raw_folder, filename, md5)
            except RuntimeError as e:
                if (filename, md5) in needed:
                    raise
                warnings.warn(f"{e}\n(not needed for the {'train' if self.train else 'test'} split)")
                continue
            if not os.path.isfile(os.path.join(self.raw_folder, os.path.splitext(filename)[0])):
                extract_archive(os.path.join(self.raw_folder, filename), self.raw_folder)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_: 28x28 grayscale
    clothing images in 10 classes, laid out as MNIST."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    """`Kuzushiji-MNIST <https://github.com/rois-codh/kmnist>`_: 28x28 cursive Japanese characters."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """`EMNIST <https://www.nist.gov/itl/products-and-services/emnist-dataset>`_: handwritten
    letters and digits; ``split`` is one of byclass, bymerge, balanced, letters, digits,
    mnist. Images are stored transposed, as in the original files (and torchvision)."""

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    mirrors = ["https://biometrics.nist.gov/cs_links/EMNIST/"]
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # merged classes: the letters whose upper and lower case look alike
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(list(_all_classes)),
        "bymerge": sorted(list(_all_classes - _merged_classes)),
        "balanced": sorted(list(_all_classes - _merged_classes)),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split, **kwargs):
        self.split = verify_str_arg(split, "split", self.splits)
        self.training_file = self._training_file(split)
        self.test_file = self._test_file(split)
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    @staticmethod
    def _training_file(split):
        return f"training_{split}.pt"

    @staticmethod
    def _test_file(split):
        return f"test_{split}.pt"

    @property
    def _file_prefix(self):
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    @property
    def images_file(self):
        return os.path.join(self.raw_folder, f"{self._file_prefix}-images-idx3-ubyte")

    @property
    def labels_file(self):
        return os.path.join(self.raw_folder, f"{self._file_prefix}-labels-idx1-ubyte")

    def _load_data(self):
        return read_image_file(self.images_file), read_label_file(self.labels_file)

    def _check_exists(self):
        return all(check_integrity(f) for f in (self.images_file, self.labels_file))

    def _extract_local_archives(self):
        for f in (self.images_file, self.labels_file):
            if not os.path.isfile(f) and os.path.isfile(f + ".gz"):
                extract_archive(f + ".gz", self.raw_folder)

    def download(self):
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        download_from_mirrors(mirror_urls(self.mirrors, self.__class__.__name__, "gzip.zip"), self.raw_folder,
                              "gzip.zip", self.md5)
        extract_archive(os.path.join(self.raw_folder, "gzip.zip"), self.raw_folder)
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        for gzip_file in os.listdir(gzip_folder):
            if gzip_file.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, gzip_file), self.raw_folder)
        shutil.rmtree(gzip_folder)


# IDX type codes -> big-endian NumPy dtypes
SN3_PASCALVINCENT_TYPEMAP = {8: np.dtype(np.uint8), 9: np.dtype(np.int8), 11: np.dtype(">i2"),
                             12: np.dtype(">i4"), 13: np.dtype(">f4"), 14: np.dtype(">f8")}


def get_int(b):
    return int.from_bytes(b, "big")


def read_sn3_pascalvincent_tensor(path, strict=True):
    """Read an IDX file (LeCun's format; ``.gz`` accepted too) as an ember tensor."""
    opener = _COMPRESSIONS.get(os.path.splitext(path)[1], open)
    with opener(path, "rb") as f:
        data = f.read()
    magic = get_int(data[0:4])
    nd, ty = magic % 256, magic // 256
    if not (1 <= nd <= 3 and ty in SN3_PASCALVINCENT_TYPEMAP):
        raise ValueError(f"{path} is not an IDX file (magic number {magic})")
    dims = [get_int(data[4 * (i + 1):4 * (i + 2)]) for i in range(nd)]
    dt = SN3_PASCALVINCENT_TYPEMAP[ty]
    parsed = np.frombuffer(data, dtype=dt, offset=4 * (nd + 1))
    if strict and parsed.shape[0] != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, found {parsed.shape[0]} values")
    return ember.from_numpy(parsed.astype(dt.newbyteorder("="), copy=True).reshape(dims))


def read_label_file(path):
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != ember.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"x should have 1 dimension instead of {x.ndim}")
    return x.long()


def read_image_file(path):
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != ember.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {x.dtype}")
    if x.ndim != 3:
        raise ValueError(f"x should have 3 dimension instead of {x.ndim}")
    return x

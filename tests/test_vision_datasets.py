"""ember.vision.datasets: the real MNIST / Fashion-MNIST IDX files, downloads from a local
HTTP server (mirrors, MD5, extraction, offline errors), CIFAR, image folders, FakeData,
the bundled Digits, and the seeds' data-loading examples."""

import functools
import gzip
import hashlib
import http.server
import os
import pickle
import shutil
import tarfile
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms


def _copy_raw(data_dir, name, dst_root, only=None):
    raw = dst_root / name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in sorted(os.listdir(os.path.join(data_dir, name, "raw"))):
        if only is None or f.startswith(only):
            shutil.copy(os.path.join(data_dir, name, "raw", f), raw)
    return raw


def _idx_payload(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    from conftest import DATA

    if not os.path.isdir(DATA):
        pytest.skip(f"shared data folder not found at {DATA}")
    root = tmp_path_factory.mktemp("mnist")
    _copy_raw(DATA, "MNIST", root)
    return root


# ------------------------------------------------------------------ MNIST family, real files
def test_mnist_real_files(mnist_root, data_dir):
    train = datasets.MNIST(str(mnist_root), train=True, download=True)  # verified archives: nothing fetched
    test = datasets.MNIST(str(mnist_root), train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.dtype == ember.uint8 and tuple(train.data.shape) == (60000, 28, 28)
    assert train.targets.dtype == ember.int64 and tuple(test.targets.shape) == (10000,)
    img, label = train[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert label == 5 and test[0][1] == 7 and isinstance(label, int)
    # pixels are the IDX payload, read here independently of the dataset code
    raw = os.path.join(data_dir, "MNIST", "raw")
    pixels = _idx_payload(os.path.join(raw, "train-images-idx3-ubyte.gz"), 16).reshape(-1, 28, 28)
    labels = _idx_payload(os.path.join(raw, "t10k-labels-idx1-ubyte.gz"), 8)
    np.testing.assert_array_equal(np.asarray(img), pixels[0])
    np.testing.assert_array_equal(train.data[59999].numpy(), pixels[59999])
    np.testing.assert_array_equal(test.targets.numpy(), labels)
    assert int(pixels[0].max()) == 255 and int(np.asarray(train[7][0]).sum()) == int(pixels[7].sum())
    # the published statistics after ToTensor()
    x = train.data.numpy() / 255.0
    assert abs(x.mean() - 0.1307) < 5e-4 and abs(x.std() - 0.3081) < 5e-4
    assert train.class_to_idx["5 - five"] == 5
    assert (
        repr(test)
        == f"Dataset MNIST\n    Number of datapoints: 10000\n    Root location: {mnist_root}\n    Split: Test"
    )


def test_mnist_seed_loader_example(mnist_root):
    """The MNIST loader of seed 000: ToTensor + Normalize, DataLoader(batch_size=32, shuffle=True)."""
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST(str(mnist_root), train=True, download=True, transform=tf)
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    test_set = datasets.MNIST(str(mnist_root), train=False, transform=tf)
    test_loader = DataLoader(test_set, batch_size=32, shuffle=True)
    for batch_x, batch_y in train_loader:
        assert (batch_x.shape, batch_y.shape) == (ember.Size([32, 1, 28, 28]), ember.Size([32]))
        break
    x, y = next(iter(test_loader))
    assert x.dtype == ember.float32 and y.dtype == ember.int64
    assert abs(float(x.min()) - (0 - 0.1307) / 0.3081) < 1e-5
    assert "Transform: Compose(" in repr(test_set)


def test_fashion_mnist_test_split_only(tmp_path, data_dir):
    _copy_raw(data_dir, "FashionMNIST", tmp_path)  # only the t10k files exist
    ds = datasets.FashionMNIST(str(tmp_path), train=False)  # verified archives are unpacked locally
    assert len(ds) == 10000 and ds.classes[9] == "Ankle boot"
    np.testing.assert_array_equal(np.bincount(ds.targets.numpy()), [1000] * 10)
    raw = os.path.join(data_dir, "FashionMNIST", "raw")
    pixels = _idx_payload(os.path.join(raw, "t10k-images-idx3-ubyte.gz"), 16).reshape(-1, 28, 28)
    labels = _idx_payload(os.path.join(raw, "t10k-labels-idx1-ubyte.gz"), 8)
    img, label = ds[123]
    np.testing.assert_array_equal(np.asarray(img), pixels[123])
    assert label == labels[123] and ds[0][1] == int(labels[0])
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True"):
        datasets.FashionMNIST(str(tmp_path), train=True)


def _write_idx(path, array):
    magic = {np.uint8: 8}[array.dtype.type] * 256 + array.ndim
    with open(path, "wb") as f:
        f.write(
            magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape) + array.tobytes()
        )


def test_kmnist_and_emnist_from_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    imgs, labels = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), np.arange(5, dtype=np.uint8)
    raw = tmp_path / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    _write_idx(raw / "t10k-images-idx3-ubyte", imgs)
    _write_idx(raw / "t10k-labels-idx1-ubyte", labels)
    k = datasets.KMNIST(str(tmp_path), train=False)
    assert len(k) == 5 and k.classes[:2] == ["o", "ki"] and k[3][1] == 3
    np.testing.assert_array_equal(np.asarray(k[4][0]), imgs[4])
    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    _write_idx(raw / "emnist-letters-train-images-idx3-ubyte", imgs)
    _write_idx(raw / "emnist-letters-train-labels-idx1-ubyte", labels)
    e = datasets.EMNIST(str(tmp_path), split="letters")
    assert (
        len(e) == 5
        and e.classes[:3] == ["N/A", "a", "b"]
        and len(datasets.EMNIST.classes_split_dict["byclass"]) == 62
    )
    with pytest.raises(ValueError, match="Unknown value 'abc' for argument split"):
        datasets.EMNIST(str(tmp_path), split="abc")
    with pytest.raises(ValueError, match="not an IDX file"):
        (raw / "bad").write_bytes(b"\x00\x00\x99\x03" + b"\x00" * 12)
        datasets.mnist.read_sn3_pascalvincent_tensor(str(raw / "bad"))


# ------------------------------------------------------------------ downloads
class _Server:
    """http.server on 127.0.0.1 serving a folder, counting the requests."""

    def __init__(self, folder):
        self.requests = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=folder)
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(data_dir):
    s = _Server(data_dir)
    yield s
    s.close()


def test_mnist_download_from_mirror_env(tmp_path, server, monkeypatch):
    monkeypatch.setenv("EMBER_DATASETS_MIRRORS", server.url + "{name}/raw/")
    ds = datasets.MNIST(str(tmp_path), train=False, download=True)
    assert len(ds) == 10000 and ds[0][1] == 7
    assert sorted(server.requests) == sorted(f"/MNIST/raw/{f}" for f, _ in datasets.MNIST.resources)
    raw = tmp_path / "MNIST" / "raw"
    assert (raw / "train-images-idx3-ubyte").stat().st_size == 60000 * 784 + 16
    assert not any(p.name.endswith(".part") for p in raw.iterdir())
    # present with the right MD5: nothing is fetched again
    datasets.MNIST(str(tmp_path), train=True, download=True)
    assert len(server.requests) == 4


def test_download_class_mirrors_and_other_split_missing(tmp_path, server):
    class LocalFashion(datasets.FashionMNIST):
        mirrors = [server.url + "FashionMNIST/raw/"]

    # the server has only the t10k files: the train archives warn, the test split loads
    with pytest.warns(UserWarning, match="not needed for the test split"):
        ds = LocalFashion(str(tmp_path), train=False, download=True)
    assert len(ds) == 10000
    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz"):
        LocalFashion(str(tmp_path / "other"), train=True, download=True)


def test_download_offline_and_corrupt(tmp_path, server, monkeypatch):
    dead = _Server(str(tmp_path))
    dead_url = dead.url
    dead.close()  # nothing listens there any more
    monkeypatch.setenv("EMBER_DATASETS_MIRRORS", dead_url + "{name}/, " + dead_url + "x/")
    with pytest.raises(RuntimeError, match="are you offline") as info:
        datasets.MNIST(str(tmp_path / "a"), download=True)
    assert dead_url + "MNIST/train-images-idx3-ubyte.gz" in str(info.value)
    assert dead_url + "x/train-images-idx3-ubyte.gz" in str(info.value)
    # a mirror serving the wrong bytes fails the MD5 check
    monkeypatch.setenv("EMBER_DATASETS_MIRRORS", server.url + "FashionMNIST/raw/")

    class WrongFile(datasets.MNIST):
        resources = [("t10k-labels-idx1-ubyte.gz", "0" * 32), ("t10k-images-idx3-ubyte.gz", "0" * 32)]

    with pytest.raises(RuntimeError, match="corrupted: its MD5 is bb300cfdad3c16e7a12a480ee83cd310"):
        WrongFile(str(tmp_path / "b"), train=False, download=True)
    assert not (tmp_path / "b" / "WrongFile" / "raw" / "t10k-labels-idx1-ubyte").exists()


def _md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def _fake_cifar(folder, base, n_train=6, n_test=4, meta=("batches.meta", "label_names")):
    rng = np.random.default_rng(1)
    d = folder / base
    d.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] if base == "cifar-10-batches-py" else ["train"]
    label_key = "labels" if base == "cifar-10-batches-py" else "fine_labels"
    for name, n in [(nm, n_train) for nm in names] + [
        ("test_batch" if label_key == "labels" else "test", n_test)
    ]:
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), label_key: list(range(n))}
        with open(d / name, "wb") as f:
            pickle.dump(entry, f, protocol=2)
    with open(d / meta[0], "wb") as f:
        pickle.dump({meta[1]: [f"class{i}" for i in range(10)]}, f, protocol=2)
    return d


def test_cifar10_download_extract_and_load(tmp_path):
    src = tmp_path / "server"
    d = _fake_cifar(src, "cifar-10-batches-py")
    with tarfile.open(src / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(d, arcname="cifar-10-batches-py")
    s = _Server(str(src))
    try:

        class LocalCIFAR10(datasets.CIFAR10):
            mirrors = [s.url]
            tgz_md5 = _md5(src / "cifar-10-python.tar.gz")
            train_list = [[n, _md5(d / n)] for n in [f"data_batch_{i}" for i in range(1, 6)]]
            test_list = [["test_batch", _md5(d / "test_batch")]]
            meta = {"filename": "batches.meta", "key": "label_names", "md5": _md5(d / "batches.meta")}

        root = tmp_path / "root"
        train = LocalCIFAR10(str(root), train=True, download=True)
        test = LocalCIFAR10(str(root), train=False)
        assert s.requests == ["/cifar-10-python.tar.gz"]
    finally:
        s.close()
    assert train.data.shape == (30, 32, 32, 3) and train.data.dtype == np.uint8 and len(test) == 4
    img, label = train[7]
    assert isinstance(img, Image.Image) and img.size == (32, 32) and label == 1
    raw = pickle.load(open(d / "data_batch_2", "rb"))["data"][1]
    np.testing.assert_array_equal(np.asarray(img), raw.reshape(3, 32, 32).transpose(1, 2, 0))
    assert train.classes[3] == "class3" and train.class_to_idx["class9"] == 9
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.CIFAR10(str(tmp_path / "empty"))


def test_cifar_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil"
    with open(path, "wb") as f:
        pickle.dump({"data": Evil()}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        datasets.cifar._load_pickle(str(path))


def test_cifar100_layout(tmp_path):
    d = _fake_cifar(tmp_path, "cifar-100-python", meta=("meta", "fine_label_names"))

    class Local100(datasets.CIFAR100):
        train_list = [["train", _md5(d / "train")]]
        test_list = [["test", _md5(d / "test")]]
        meta = {"filename": "meta", "key": "fine_label_names", "md5": _md5(d / "meta")}

    ds = Local100(str(tmp_path), train=False)
    assert len(ds) == 4 and ds.targets == [0, 1, 2, 3] and ds.classes[0] == "class0"


# ------------------------------------------------------------------ folders
@pytest.fixture
def image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for cls, n in (("cat", 3), ("dog", 4)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            a = rng.integers(0, 256, (40 + i, 50, 3), dtype=np.uint8)
            Image.fromarray(a).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    return tmp_path


def test_image_folder(image_folder):
    ds = datasets.ImageFolder(str(image_folder))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 7 and ds.targets == [0, 0, 0, 1, 1, 1, 1] and ds.imgs is ds.samples
    assert ds.samples[3] == (str(image_folder / "dog" / "0.png"), 1)
    img, target = ds[4]
    assert img.mode == "RGB" and img.size == (50, 41) and target == 1


def test_seed_imagefolder_augmentation_pipeline(image_folder):
    """Seed 003: ImageFolder + RandomRotation/RandomResizedCrop/flip/ToTensor/Normalize, a
    DataLoader, and the Resize/CenterCrop test pipeline."""
    train_transforms = transforms.Compose(
        [
            transforms.RandomRotation(30),
            transforms.RandomResizedCrop(224),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
        ]
    )
    test_transforms = transforms.Compose(
        [transforms.Resize(255), transforms.CenterCrop(224), transforms.ToTensor()]
    )
    train_data = datasets.ImageFolder(str(image_folder), transform=train_transforms)
    test_data = datasets.ImageFolder(str(image_folder), transform=test_transforms)
    ember.manual_seed(0)
    trainloader = DataLoader(train_data, batch_size=4, shuffle=True)
    images, labels = next(iter(trainloader))
    assert tuple(images.shape) == (4, 3, 224, 224) and images.dtype == ember.float32
    assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
    assert labels.dtype == ember.int64
    images, labels = next(iter(DataLoader(test_data, batch_size=7)))
    assert tuple(images.shape) == (7, 3, 224, 224) and labels.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    # the same seed gives the same augmented batch
    ember.manual_seed(5)
    a = next(iter(DataLoader(train_data, batch_size=7)))[0]
    ember.manual_seed(5)
    b = next(iter(DataLoader(train_data, batch_size=7)))[0]
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_dataset_folder_and_errors(image_folder, tmp_path_factory):
    ds = datasets.DatasetFolder(
        str(image_folder), loader=lambda p: open(p).read(), extensions=(".txt",), allow_empty=True
    )
    assert len(ds) == 1 and ds[0] == ("not an image", 1)
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes cat"):
        datasets.DatasetFolder(str(image_folder), loader=open, extensions=".txt")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(tmp_path_factory.mktemp("empty")))
    odd = datasets.ImageFolder(str(image_folder), is_valid_file=lambda p: p.endswith("1.png"))
    assert [t for _, t in odd.samples] == [0, 1]
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        datasets.VisionDataset(str(image_folder), transform=abs, transforms=abs)


# ------------------------------------------------------------------ FakeData, Digits
def test_fake_data_is_deterministic_per_index():
    ds = datasets.FakeData(size=10, image_size=(3, 8, 6), num_classes=4, transform=transforms.ToTensor())
    ember.manual_seed(123)
    state = ember.get_rng_state()
    a, la = ds[3]
    b, lb = ds[3]
    assert tuple(a.shape) == (3, 8, 6) and np.array_equal(a.numpy(), b.numpy()) and la == lb and 0 <= la < 4
    assert not np.array_equal(a.numpy(), ds[4][0].numpy())
    assert np.array_equal(ember.get_rng_state().numpy(), state.numpy())  # the global stream is untouched
    with pytest.raises(IndexError):
        ds[10]
    assert len(ds) == 10 and datasets.FakeData(size=2)[0][0].size == (224, 224)


def test_digits_bundled():
    train, test, full = datasets.Digits(), datasets.Digits(train=False), datasets.Digits(train=None)
    assert (len(train), len(test), len(full)) == (1437, 360, 1797)
    np.testing.assert_array_equal(
        np.bincount(full.targets.numpy()), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    )
    assert sorted(set(test.targets.tolist())) == list(range(10))
    img, label = train[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (8, 8) and label == 0
    # the first row of the CSV: 0,0,5,13,9,1,0,0 scaled from 0..16 to 0..255
    np.testing.assert_array_equal(np.asarray(img)[0], np.rint(np.array([0, 0, 5, 13, 9, 1, 0, 0]) * 255 / 16))
    x = datasets.Digits(train=False, transform=transforms.ToTensor())[0][0]
    assert (
        tuple(x.shape) == (1, 8, 8)
        and x.dtype == ember.float32
        and 0 <= float(x.min()) <= float(x.max()) <= 1
    )
    np.testing.assert_array_equal(test.data.numpy()[0], full.data.numpy()[1437])
    assert repr(test).splitlines()[1:] == ["    Number of datapoints: 360", "    Split: Test"]
    batch = next(
        iter(DataLoader(datasets.Digits(transform=transforms.ToTensor()), batch_size=64, shuffle=True))
    )
    assert tuple(batch[0].shape) == (64, 1, 8, 8)


def test_emnist_download_unpacks_zip_of_gz(tmp_path):
    """EMNIST ships one zip of .gz files: download, check the MD5, unzip, gunzip."""
    rng = np.random.default_rng(2)
    imgs, labels = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.array([1, 2, 3, 4], np.uint8)
    src = tmp_path / "server"
    (src / "gzip").mkdir(parents=True)
    for split in ("train", "test"):
        for kind, a in (("images-idx3", imgs), ("labels-idx1", labels)):
            raw = tmp_path / "tmp.idx"
            _write_idx(raw, a)
            with (
                open(raw, "rb") as f,
                gzip.open(src / "gzip" / f"emnist-digits-{split}-{kind}-ubyte.gz", "wb") as g,
            ):
                g.write(f.read())
    with zipfile.ZipFile(src / "gzip.zip", "w") as z:
        for p in sorted((src / "gzip").iterdir()):
            z.write(p, f"gzip/{p.name}")
    shutil.rmtree(src / "gzip")
    s = _Server(str(src))
    try:

        class LocalEMNIST(datasets.EMNIST):
            mirrors = [s.url]
            md5 = _md5(src / "gzip.zip")

        ds = LocalEMNIST(str(tmp_path / "root"), split="digits", train=False, download=True)
    finally:
        s.close()
    assert len(ds) == 4 and [ds[i][1] for i in range(4)] == [1, 2, 3, 4] and ds.classes == list("0123456789")
    np.testing.assert_array_equal(np.asarray(ds[2][0]), imgs[2])
    raw = tmp_path / "root" / "LocalEMNIST" / "raw"
    assert not (raw / "gzip").exists() and (raw / "emnist-digits-train-images-idx3-ubyte").exists()

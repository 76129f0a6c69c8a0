"""ember.vision.models: torchvision's state_dict layout (keys, shapes, dtypes), forward
shapes, the weights API offline, and a LeNet trained on real MNIST images."""

import functools
import hashlib
import os
import shutil
import urllib.error

import numpy as np
import pytest

import ember
from ember import nn
from ember.utils.data import DataLoader, TensorDataset
from ember.vision import datasets, models

# (entries, sha1 prefix of "key:shape:dtype" lines) of torchvision 0.29.1's state_dicts
TORCHVISION_STATE_DICTS = {
    "resnet18": (122, "c6d0fdc01ecd8e9f"),
    "resnet34": (218, "fc9378a66da68ccf"),
    "resnet50": (320, "d01c0afd0e210428"),
    "vgg11": (22, "9cb7ae7745c72649"),
    "vgg11_bn": (62, "1de460ba157fb464"),
    "vgg16": (32, "2187787f4795a92b"),
    "vgg16_bn": (97, "65e24b29077a73aa"),
    "alexnet": (16, "2511254dcb2a83bc"),
    "mobilenet_v2": (314, "85379de0738ce181"),
}
NUM_PARAMS = {
    "resnet18": 11689512,
    "resnet34": 21797672,
    "resnet50": 25557032,
    "vgg11": 132863336,
    "vgg16": 138357544,
    "alexnet": 61100840,
    "mobilenet_v2": 3504872,
}


SLOW = {"vgg11_bn", "vgg16", "vgg16_bn"}  # 130M+ parameters: ~10 s each to initialise


@functools.lru_cache(maxsize=None)
def _model(name):
    ember.manual_seed(0)
    return getattr(models, name)()


def _signature(model):
    sd = model.state_dict()
    sig = "\n".join(f"{k}:{tuple(v.shape)}:{str(v.dtype).split('.')[1]}" for k, v in sd.items())
    return len(sd), hashlib.sha1(sig.encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(TORCHVISION_STATE_DICTS)],
)
def test_state_dict_layout_is_torchvision(name):
    model = _model(name)
    assert _signature(model) == TORCHVISION_STATE_DICTS[name]
    if name in NUM_PARAMS:
        assert sum(p.numel() for p in model.parameters()) == NUM_PARAMS[name]


@pytest.mark.parametrize(
    "name,size", [("resnet18", 64), ("resnet50", 64), ("mobilenet_v2", 64), ("alexnet", 96), ("vgg11", 64)]
)
def test_forward_shapes(name, size):
    model = _model(name).eval()
    with ember.no_grad():
        out = model(ember.randn(2, 3, size, size))
    assert tuple(out.shape) == (2, 1000) and bool(ember.isfinite(out).all())
    small = models.resnet18(num_classes=7).eval() if name == "resnet18" else None
    if small is not None:
        assert tuple(small(ember.randn(1, 3, 32, 32)).shape) == (1, 7)


def test_resnet_options_and_init():
    m = models.resnet18(zero_init_residual=True)
    assert float(m.layer1[0].bn2.weight.abs().sum()) == 0.0
    assert float(m.bn1.weight.sum()) == 64.0 and float(m.bn1.bias.abs().sum()) == 0.0
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None"):
        models.ResNet(models.resnet.BasicBlock, [2, 2, 2, 2], replace_stride_with_dilation=[False])
    wide = models.ResNet(models.resnet.Bottleneck, [1, 1, 1, 1], width_per_group=128)
    assert tuple(wide.layer1[0].conv2.weight.shape) == (128, 128, 3, 3)
    assert repr(models.ResNet18_Weights.DEFAULT) == "ResNet18_Weights.IMAGENET1K_V1"
    assert models.ResNet50_Weights.verify("IMAGENET1K_V2") is models.ResNet50_Weights.DEFAULT
    with pytest.raises(TypeError, match="Invalid Weight class provided"):
        models.resnet18(weights=models.VGG11_Weights.DEFAULT)


def test_weights_offline_error_names_url(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(RuntimeError, match="https://download.pytorch.org/models/resnet18-f37072fd.pth"):
        models.resnet18(weights="DEFAULT")
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        with pytest.raises(RuntimeError, match=r"alexnet-owt-7be5be79\.pth.*place it at .*hub/checkpoints"):
            models.alexnet(pretrained=True)
    with pytest.raises(ValueError, match="no pretrained weights"):
        models.lenet(weights="DEFAULT")


def test_weights_from_the_hub_cache(tmp_path, monkeypatch):
    """A weights file already in $TORCH_HOME/hub/checkpoints loads without any network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    ember.manual_seed(0)
    src = models.lenet()
    path = tmp_path / "lenet.pt"
    ember.save(src.state_dict(), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    shutil.copy(path, cache / f"lenet-{digest}.pt")
    sd = models.load_state_dict_from_url(f"http://127.0.0.1:9/lenet-{digest}.pt", check_hash=True)
    dst = models.lenet()
    dst.load_state_dict(sd)
    x = ember.randn(3, 1, 28, 28)
    np.testing.assert_array_equal(dst(x).detach().numpy(), src(x).detach().numpy())
    shutil.copy(path, cache / "lenet-00000000.pt")
    with pytest.raises(RuntimeError, match="invalid hash value"):
        models.load_state_dict_from_url("http://127.0.0.1:9/lenet-00000000.pt", check_hash=True)


def test_weights_transforms_preset():
    tf = models.ResNet50_Weights.IMAGENET1K_V2.transforms()
    from PIL import Image

    out = tf(Image.new("RGB", (300, 260), (255, 0, 0)))
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == ember.float32
    np.testing.assert_allclose(float(out[0, 0, 0]), (1 - 0.485) / 0.229, rtol=1e-5)
    assert "resize_size=[232]" in repr(tf)


def test_lenet_layout():
    m = models.lenet()
    assert list(m.state_dict()) == [
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "conv2.bias",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
        "fc3.weight",
        "fc3.bias",
    ]
    assert tuple(m(ember.zeros(4, 1, 28, 28)).shape) == (4, 10)


def test_lenet_learns_mnist(tmp_path, data_dir):
    """LeNet-5 trained with ember on the first 8000 real MNIST test images reaches at
    least 97 % on the other 2000."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(data_dir, "MNIST", "raw", f), raw)
    mnist = datasets.MNIST(str(tmp_path), train=False)
    x = ((mnist.data.float() / 255.0) - 0.1307) / 0.3081
    x = x.unsqueeze(1)
    y = mnist.targets
    train = TensorDataset(x[:8000], y[:8000])
    threads = ember.get_num_threads()
    ember.set_num_threads(1)  # small matrices: one BLAS thread is fastest
    try:
        acc = _train_lenet(train, x[8000:], y[8000:])
    finally:
        ember.set_num_threads(threads)
    assert acc >= 0.97, acc


def _train_lenet(train, x_test, y_test):
    ember.manual_seed(0)
    loader = DataLoader(train, batch_size=32, shuffle=True)
    model = models.lenet()
    opt = ember.optim.Adam(model.parameters(), lr=2e-3)
    schedule = ember.optim.lr_scheduler.StepLR(opt, 1, 0.5)  # 97.6-98.6 % over seeds 0-3
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(3):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        schedule.step()
    model.eval()
    with ember.no_grad():
        pred = model(x_test).argmax(1)
    return (pred == y_test).float().mean().item()

"""The benchmark workloads (issue 7), written once for any torch-like library.

Every builder takes the library module (``ember`` or ``torch``) and returns a
zero-argument ``step`` callable doing one step and returning its result (the
loss for training steps). Both libraries get the same NumPy data and the same
NumPy weights (``weights``), so their first steps compute the same loss; the
NumPy floors (``floors.py``) start from the same arrays too.

Workloads come from the seed programs: W1 MLP, W2 seed CNN, W3 LeNet-5,
W4 SimpleNN, W5 tiny models, W6 recurrent models, W7 ResNet-ish; inference
variants of W1, W2, W7; micro-benchmarks. ``benchmarks/bench_lstm.py`` adds its
own workloads when importable.
"""
import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np


@dataclass
class Workload:
    name: str
    group: str  # "train", "infer" or "micro"
    desc: str
    build: Callable  # build(lib, quick) -> step
    floor: Optional[str] = None  # name of the NumPy floor in floors.py
    compare: bool = True  # whether ember's and torch's step results must agree


WORKLOADS = {}


def workload(name, group, desc, floor=None, compare=True):
    def register(build):
        WORKLOADS[name] = Workload(name, group, desc, build, floor, compare)
        return build
    return register


# ---------------------------------------------------------------- shared data
def weights(shapes, seed=0):
    """One float32 array per parameter shape, uniform in +-1/sqrt(fan_in)
    (a bias takes the fan-in of the weight before it), as torch's default."""
    rng = np.random.default_rng(seed)
    out, fan_in = [], 1
    for s in shapes:
        if len(s) > 1:
            fan_in = math.prod(s[1:])
        b = 1 / math.sqrt(fan_in)
        out.append(rng.uniform(-b, b, s).astype(np.float32))
    return out


def load_weights(lib, model, seed=0):
    """Overwrite ``model``'s parameters with ``weights`` of their shapes."""
    ps = list(model.parameters())
    with lib.no_grad():
        for p, w in zip(ps, weights([tuple(p.shape) for p in ps], seed)):
            p.copy_(lib.from_numpy(w))
    return model


def images(n, c, h, w, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c, h, w)).astype(np.float32)


def labels(n, classes=10, seed=2):
    return np.random.default_rng(seed).integers(0, classes, n).astype(np.int64)


def mlp_data(batch=64):
    return images(batch, 1, 28, 28), labels(batch)


def simplenn_data(batch):
    rng = np.random.default_rng(3)
    return (rng.standard_normal((batch, 100, 100)).astype(np.float32),
            rng.standard_normal((batch, 10)).astype(np.float32))


def linreg_data():
    return (np.array([[1.0], [2.0], [3.0]], np.float32),
            np.array([[2.0], [4.0], [6.0]], np.float32))


def diabetes_data(batch=32):
    rng = np.random.default_rng(4)
    return (rng.uniform(-1, 1, (batch, 8)).astype(np.float32),
            (rng.random((batch, 1)) < 0.35).astype(np.float32))


def resnet_data(batch=64):
    return images(batch, 3, 32, 32), labels(batch)


# ---------------------------------------------------------------- models
def mlp(lib):
    """W1, seed 002: 784-512-256-128-64-10 with ReLU."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = nn.Linear(784, 512)
            self.l2 = nn.Linear(512, 256)
            self.l3 = nn.Linear(256, 128)
            self.l4 = nn.Linear(128, 64)
            self.l5 = nn.Linear(64, 10)

        def forward(self, x):
            x = x.view(-1, 784)
            x = F.relu(self.l1(x))
            x = F.relu(self.l2(x))
            x = F.relu(self.l3(x))
            x = F.relu(self.l4(x))
            return self.l5(x)

    return load_weights(lib, Net())


def cnn(lib):
    """W2, seed 002: Conv(1,10,5)-MaxPool2-ReLU-Conv(10,20,5)-MaxPool2-ReLU-Linear(320,10)."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.pooling = nn.MaxPool2d(2)
            self.fc = nn.Linear(320, 10)

        def forward(self, x):
            batch_size = x.size(0)
            x = F.relu(self.pooling(self.conv1(x)))
            x = F.relu(self.pooling(self.conv2(x)))
            x = x.view(batch_size, -1)
            return self.fc(x)

    return load_weights(lib, Net())


def lenet(lib, k):
    """W3, seed 001: LeNet-5 on 1x32x32 with k x k convolutions (k = 3 or 5)."""
    nn, F = lib.nn, lib.nn.functional
    side = ((32 - k + 1) // 2 - k + 1) // 2

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, k)
            self.conv2 = nn.Conv2d(6, 16, k)
            self.fc1 = nn.Linear(16 * side * side, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(x.size(0), -1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return load_weights(lib, LeNet())


def simplenn(lib):
    """W4, seed 000: 10000-500-10."""
    nn = lib.nn

    class SimpleNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Sequential(nn.Linear(10000, 500), nn.Linear(500, 10))

        def forward(self, x):
            x = x.view(x.size(0), -1)
            return self.fc(x)

    return load_weights(lib, SimpleNN())


def linreg(lib):
    """W5, seed 002: Linear(1, 1)."""
    nn = lib.nn

    class LinearModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, x):
            return self.linear(x)

    return load_weights(lib, LinearModel())


def diabetes(lib):
    """W5, seed 002: 8-6-4-1 with Sigmoid."""
    nn = lib.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(8, 6)
            self.linear2 = nn.Linear(6, 4)
            self.linear3 = nn.Linear(4, 1)
            self.sigmoid = nn.Sigmoid()

        def forward(self, x):
            x = self.sigmoid(self.linear1(x))
            x = self.sigmoid(self.linear2(x))
            return self.sigmoid(self.linear3(x))

    return load_weights(lib, Model())


def hello_rnn(lib):
    """W6, seed 002: Embedding(4, 10), 2-layer RNN(8), Linear(8, 4)."""
    nn = lib.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(4, 10)
            self.rnn = nn.RNN(input_size=10, hidden_size=8, num_layers=2, batch_first=True)
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            hidden = lib.zeros(2, x.size(0), 8)
            x = self.emb(x)
            x, _ = self.rnn(x, hidden)
            x = self.fc(x)
            return x.view(-1, 4)

    return load_weights(lib, Model())


def resnet(lib):
    """W7, seed 002's ResidualBlock: Conv(3,16,3,p=1), two residual blocks,
    global average pool, Linear(16, 10)."""
    nn, F = lib.nn, lib.nn.functional

    class ResidualBlock(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

        def forward(self, x):
            y = F.relu(self.conv1(x))
            y = self.conv2(y)
            return F.relu(x + y)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, kernel_size=3, padding=1)
            self.block1 = ResidualBlock(16)
            self.block2 = ResidualBlock(16)
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            x = F.relu(self.conv(x))
            x = self.block2(self.block1(x))
            x = F.adaptive_avg_pool2d(x, 1).flatten(1)
            return self.fc(x)

    return load_weights(lib, Net())


# ---------------------------------------------------------------- steps
def train_step(model, loss_fn, opt, x, y):
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step.model, step.optimizer = model, opt  # for the tests
    return step


def infer_step(lib, model, x):
    model.eval()

    def step():
        with lib.no_grad():
            return model(x)
    return step


def _t(lib, *arrays):
    return [lib.from_numpy(a) for a in arrays]


@workload("W1 MLP", "train", "784-512-256-128-64-10 ReLU, CrossEntropy, SGD(0.01, m=0.5), b64",
          floor="W1")
def w1(lib, quick=False):
    model = mlp(lib)
    x, y = _t(lib, *mlp_data())
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    return train_step(model, lib.nn.CrossEntropyLoss(), opt, x, y)


@workload("W2 CNN", "train", "seed CNN on 1x28x28, CrossEntropy, SGD(0.01, m=0.5), b64",
          floor="W2")
def w2(lib, quick=False):
    model = cnn(lib)
    x, y = _t(lib, *mlp_data())
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    return train_step(model, lib.nn.CrossEntropyLoss(), opt, x, y)


def _lenet_workload(k, batch):
    @workload(f"W3 LeNet{k}x{k} b{batch}", "train",
              f"LeNet-5, {k}x{k} convs, 1x32x32, CrossEntropy, SGD(1e-3), b{batch}")
    def w3(lib, quick=False):
        model = lenet(lib, k)
        x, y = _t(lib, images(batch, 1, 32, 32), labels(batch))
        opt = lib.optim.SGD(model.parameters(), lr=1e-3)
        return train_step(model, lib.nn.CrossEntropyLoss(), opt, x, y)


for _k in (3, 5):
    for _b in (16, 128):
        _lenet_workload(_k, _b)


def _simplenn_workload(batch):
    @workload(f"W4 SimpleNN b{batch}", "train", f"10000-500-10, MSELoss, Adam(1e-4), b{batch}",
              floor=f"W4 b{batch}")
    def w4(lib, quick=False):
        model = simplenn(lib)
        x, y = _t(lib, *simplenn_data(batch))
        opt = lib.optim.Adam(model.parameters(), lr=1e-4)
        return train_step(model, lib.nn.MSELoss(), opt, x, y)


for _b in (4, 64):
    _simplenn_workload(_b)


@workload("W5 linreg", "train", "Linear(1,1) on 3 samples, MSELoss(sum), SGD(0.01)",
          floor="W5 linreg")
def w5_linreg(lib, quick=False):
    model = linreg(lib)
    x, y = _t(lib, *linreg_data())
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    return train_step(model, lib.nn.MSELoss(reduction="sum"), opt, x, y)


@workload("W5 diabetes", "train", "8-6-4-1 Sigmoid, BCELoss, SGD(0.1), b32",
          floor="W5 diabetes")
def w5_diabetes(lib, quick=False):
    model = diabetes(lib)
    x, y = _t(lib, *diabetes_data())
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    return train_step(model, lib.nn.BCELoss(), opt, x, y)


@workload("W6 hello RNN", "train",
          "Embedding(4,10), 2-layer RNN(8), Linear(8,4), b1 seq5, CrossEntropy, Adam(0.05)")
def w6_hello(lib, quick=False):
    model = hello_rnn(lib)
    x = lib.tensor([[1, 0, 2, 2, 3]])
    y = lib.tensor([3, 1, 2, 3, 2])
    opt = lib.optim.Adam(model.parameters(), lr=0.05)
    return train_step(model, lib.nn.CrossEntropyLoss(), opt, x, y)


@workload("W7 ResNet-ish", "train",
          "Conv(3,16,3,p1) + 2 residual blocks + GAP + Linear(16,10), 3x32x32, "
          "CrossEntropy, SGD(0.01, m=0.9), b64")
def w7(lib, quick=False):
    model = resnet(lib)
    x, y = _t(lib, *resnet_data())
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return train_step(model, lib.nn.CrossEntropyLoss(), opt, x, y)


@workload("W1 MLP infer", "infer", "W1 forward under no_grad, b64")
def w1_infer(lib, quick=False):
    x, = _t(lib, mlp_data()[0])
    return infer_step(lib, mlp(lib), x)


@workload("W2 CNN infer", "infer", "W2 forward under no_grad, b64")
def w2_infer(lib, quick=False):
    x, = _t(lib, mlp_data()[0])
    return infer_step(lib, cnn(lib), x)


@workload("W7 ResNet-ish infer", "infer", "W7 forward under no_grad, b64")
def w7_infer(lib, quick=False):
    x, = _t(lib, resnet_data()[0])
    return infer_step(lib, resnet(lib), x)


# ---------------------------------------------------------------- micro-benchmarks
def _leaf(lib, a):
    return lib.from_numpy(a).requires_grad_()


def _clear(*ts):
    for t in ts:
        t.grad = None


@workload("add 1-element", "micro", "a + b on 1-element tensors (per-op overhead)")
def m_add(lib, quick=False):
    a, b = lib.ones(1), lib.ones(1)
    return lambda: a + b


@workload("matmul 1024^2", "micro", "1024x1024 @ 1024x1024, float32")
def m_matmul(lib, quick=False):
    rng = np.random.default_rng(5)
    a, b = _t(lib, *(rng.standard_normal((2, 1024, 1024), dtype=np.float32)))
    return lambda: a @ b


@workload("conv2d fwd+bwd", "micro", "64x16x32x32 input, 16 3x3 filters, padding 1")
def m_conv(lib, quick=False):
    F = lib.nn.functional
    x = _leaf(lib, images(64, 16, 32, 32))
    w, b = (_leaf(lib, a) for a in weights([(16, 16, 3, 3), (16,)]))
    g = lib.from_numpy(images(64, 16, 32, 32, seed=6))

    def step():
        _clear(x, w, b)
        y = F.conv2d(x, w, b, padding=1)
        y.backward(g)
        return y
    return step


@workload("max-pool fwd+bwd", "micro", "max_pool2d(2) on 64x16x32x32")
def m_pool(lib, quick=False):
    F = lib.nn.functional
    x = _leaf(lib, images(64, 16, 32, 32))
    g = lib.from_numpy(images(64, 16, 16, 16, seed=6))

    def step():
        _clear(x)
        y = F.max_pool2d(x, 2)
        y.backward(g)
        return y
    return step


@workload("cross-entropy fwd+bwd", "micro", "cross_entropy on 256x1000 logits")
def m_xent(lib, quick=False):
    F = lib.nn.functional
    x = _leaf(lib, np.random.default_rng(7).standard_normal((256, 1000), dtype=np.float32))
    y = lib.from_numpy(labels(256, 1000))

    def step():
        _clear(x)
        loss = F.cross_entropy(x, y)
        loss.backward()
        return loss
    return step


@workload("1000-op chain fwd+bwd", "micro",
          "500 x (mul, add) on a 100-element leaf, then backward through the 1,000 nodes")
def m_chain(lib, quick=False):
    x = _leaf(lib, np.ones(100, np.float32))

    def step():
        _clear(x)
        y = x
        for _ in range(500):
            y = y * 1.001
            y = y + 0.001
        y.sum().backward()
        return y
    return step


@workload("DataLoader epoch", "micro",
          "10,000 MNIST-shaped samples (ToTensor+Normalize), batch 64, shuffled, 0 workers",
          compare=False)
def m_loader(lib, quick=False):
    from bench_dataloader import run
    rng = np.random.default_rng(8)
    n = 10_000
    imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labs = rng.integers(0, 10, n).astype(np.int64)
    batches = 3 if quick else None
    return lambda: run(lib, imgs, labs, 0, batches, 64)


def _add_external():
    """``bench_lstm.workloads()``: {name: (build_ember_step, build_torch_step)}."""
    try:
        import bench_lstm
    except ImportError:
        return
    for name, (build_ember, build_torch) in bench_lstm.workloads().items():
        def build(lib, quick=False, e=build_ember, t=build_torch):
            return (e if lib.__name__ == "ember" else t)()
        WORKLOADS.setdefault(name, Workload(name, "train", "from bench_lstm.py", build))


_add_external()

"""softmax / log_softmax / softmin, pad, interpolate, pixel and channel
shuffles and their modules against torch."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import check_op, assert_close, raises_same

pytestmark = pytest.mark.usefixtures("each_device")  # CPU, fake CuPy, GPU

rng = np.random.default_rng(3)


def _arr(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- softmax family
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((4, 5), 1), ((4, 5), 0), ((2, 3, 4), -1),
                                       ((2, 3, 4, 5), 1), ((), 0)])
def test_softmax_family(name, shape, dim):
    check_op(lambda lib, x: getattr(lib.nn.functional, name)(x, dim),
             np.asarray(_arr(*shape) * 5), rtol=1e-12, atol=1e-14)


def test_softmax_dtype_argument_and_float32():
    x = _arr(4, 6, dtype=np.float32)
    check_op(lambda lib, x: lib.nn.functional.softmax(x, 1, dtype=lib.float64), x)
    e, _ = check_op(lambda lib, x: lib.nn.functional.log_softmax(x, -1), x, rtol=1e-6)
    assert e.dtype == ember.float32


def test_softmax_is_stable():
    x = np.array([[1000.0, 0.0, -1000.0], [-1e30, 1e30, 0.0]])
    check_op(lambda lib, x: lib.nn.functional.softmax(x, 1), x)
    check_op(lambda lib, x: lib.nn.functional.log_softmax(x, 1), x)


@pytest.mark.parametrize("ndim,expected", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_implicit_dim_warns_like_torch(ndim, expected):
    x = ember.tensor(_arr(*(3,) * ndim))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been "
                                         "deprecated"):
        y = ember.nn.functional.softmax(x)
    assert_close(y, torch.softmax(torch.tensor(x.numpy()), expected), 1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        ember.nn.functional.log_softmax(x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradcheck_and_double_backward(name):
    f = getattr(ember.nn.functional, name)
    x = ember.tensor(_arr(3, 4), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: f(x, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda x: f(x, 0), (x,))


def test_softmax_errors_and_modules():
    raises_same(lambda lib: lib.nn.functional.softmax(lib.tensor([1, 2]), 0))
    raises_same(lambda lib: lib.nn.functional.log_softmax(lib.tensor([1, 2]), 0))
    raises_same(lambda lib: lib.nn.functional.softmax(lib.randn(2, 3), 2))
    x = _arr(2, 3, 4, 5)
    check_op(lambda lib, x: lib.nn.Softmax(dim=1)(x), x, rtol=1e-12)
    check_op(lambda lib, x: lib.nn.LogSoftmax(dim=-1)(x), x, rtol=1e-12)
    check_op(lambda lib, x: lib.nn.Softmax2d()(x), x, rtol=1e-12)
    ye = ember.nn.functional.log_softmax(ember.randn(2, 3, requires_grad=True), 1)
    assert ye.grad_fn.name() == "LogSoftmaxBackward0"


# ---------------------------------------------------------------- pad
PADS = [(1, 2), (2, 1, 0, 3), (1, 1, 2, 0, 1, 2), (-1, 2), (2, -1, -2, 1)]


@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("value", [0, 1.5])
def test_constant_pad(pad, value):
    check_op(lambda lib, x: lib.nn.functional.pad(x, pad, value=value), _arr(2, 3, 4, 5),
             rtol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", [((2, 3, 5), (2, 3)), ((3, 5), (1, 2)),
                                       ((2, 3, 4, 5), (1, 2, 3, 0)), ((3, 4, 5), (2, 1, 1, 3)),
                                       ((2, 2, 3, 4, 5), (1, 2, 2, 1, 1, 1)),
                                       ((2, 3, 5), (-1, 2))])
def test_nonconstant_pad(mode, shape, pad):
    x = _arr(*shape)
    f = lambda lib, x: lib.nn.functional.pad(x, pad, mode)  # noqa: E731
    try:
        f(torch, torch.tensor(x))
    except (RuntimeError, NotImplementedError):
        raises_same(f, ember.tensor(x))
        return
    check_op(f, x, rtol=1e-12)


PAD_ERRORS = [
    lambda lib: lib.nn.functional.pad(lib.randn(2, 3, 4, 5), (1,)),
    lambda lib: lib.nn.functional.pad(lib.randn(2, 3, 4, 5), (1,) * 10),
    lambda lib: lib.nn.functional.pad(lib.randn(2, 3, 4, 5), (1, 1), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.randn(2, 3, 5), (5, 1), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.randn(2, 3, 5), (6, 1), mode="circular"),
    lambda lib: lib.nn.functional.pad(lib.randn(2, 3, 5), (1, 1), mode="foo"),
    lambda lib: lib.nn.functional.pad(lib.randn(2, 3, 5), (1, 1), mode="reflect", value=2),
    lambda lib: lib.nn.functional.pad(lib.randn(2, 0, 4), (1, 1), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.randn(5), (1, 1), mode="replicate"),
    lambda lib: lib.nn.CircularPad2d(1)(lib.randn(5, 5)),
]


@pytest.mark.parametrize("case", PAD_ERRORS)
def test_pad_errors_match_torch(case):
    te = raises_same(case)
    with pytest.raises(type(te)) as ee:
        case(ember)
    assert str(ee.value) == str(te)


@pytest.mark.parametrize("make,ndim", [
    (lambda lib: lib.nn.ZeroPad2d(2), 4), (lambda lib: lib.nn.ZeroPad2d((1, 2, 0, 3)), 3),
    (lambda lib: lib.nn.ZeroPad1d(2), 3), (lambda lib: lib.nn.ZeroPad3d(1), 5),
    (lambda lib: lib.nn.ConstantPad1d(2, 3.5), 3), (lambda lib: lib.nn.ConstantPad2d((1, 0, 2, 1),
                                                                                      -1.0), 4),
    (lambda lib: lib.nn.ConstantPad3d(1, 2.0), 4), (lambda lib: lib.nn.ReflectionPad1d(2), 3),
    (lambda lib: lib.nn.ReflectionPad2d((1, 2, 2, 1)), 4), (lambda lib: lib.nn.ReflectionPad3d(1),
                                                           5),
    (lambda lib: lib.nn.ReplicationPad1d((3, 1)), 2), (lambda lib: lib.nn.ReplicationPad2d(2), 4),
    (lambda lib: lib.nn.ReplicationPad3d(1), 4), (lambda lib: lib.nn.CircularPad1d(2), 3),
    (lambda lib: lib.nn.CircularPad2d((1, 0, 2, 1)), 4), (lambda lib: lib.nn.CircularPad3d(1), 5),
])
def test_padding_modules(make, ndim):
    tm, em = make(torch), make(ember)
    assert repr(em) == repr(tm)
    check_op(lambda lib, x: (tm if lib is torch else em)(x), _arr(*(2, 3, 4, 5, 4)[5 - ndim:]),
             rtol=1e-12)


# ---------------------------------------------------------------- interpolate
MODES_2D = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True),
            ("bicubic", False), ("bicubic", True), ("area", None)]


@pytest.mark.parametrize("mode,ac", MODES_2D)
@pytest.mark.parametrize("size,scale,recompute", [
    ((8, 10), None, None), ((3, 2), None, None), (7, None, None), ((5, 6), None, None),
    (None, 2, None), (None, (1.5, 0.7), None), (None, 1.7, True), (None, 0.4, False)])
def test_interpolate_2d(mode, ac, size, scale, recompute):
    x = _arr(2, 3, 5, 6)
    check_op(lambda lib, x: lib.nn.functional.interpolate(x, size, scale, mode, ac, recompute),
             x, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode,ac,ndim", [("nearest", None, 3), ("linear", False, 3),
                                          ("linear", True, 3), ("nearest-exact", None, 5),
                                          ("trilinear", False, 5), ("trilinear", True, 5),
                                          ("area", None, 3), ("area", None, 5)])
def test_interpolate_1d_3d(mode, ac, ndim):
    x = _arr(*(2, 2, 5, 4, 3)[:ndim])
    for scale in (2.0, 0.6, 1.5):
        check_op(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=scale, mode=mode,
                                                              align_corners=ac), x, rtol=1e-10,
                 atol=1e-12)


def test_interpolate_float32_and_upsample_forms():
    x = _arr(1, 2, 4, 4, dtype=np.float32)
    e, _ = check_op(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=3,
                                                                 mode="bilinear"), x, rtol=1e-5)
    assert e.dtype == ember.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda lib, x: lib.nn.functional.upsample(x, size=(6, 5), mode="bicubic"), x,
                 rtol=1e-5, atol=1e-6)
        check_op(lambda lib, x: lib.nn.functional.upsample_nearest(x, scale_factor=2), x)
        check_op(lambda lib, x: lib.nn.functional.upsample_bilinear(x, size=7), x, rtol=1e-5,
                 atol=1e-6)
    with pytest.warns(UserWarning, match="nn.functional.upsample_nearest` is deprecated"):
        ember.nn.functional.upsample_nearest(ember.tensor(x), scale_factor=2)


INTERP_ERRORS = [
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), size=2, scale_factor=2),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4)),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), size=(2, 2, 2)),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), scale_factor=(2, 2, 2)),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), size=2, align_corners=True),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4), size=2, mode="bilinear"),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), size=2, mode="linear"),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), size=2, mode="foo"),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), size=2,
                                              recompute_scale_factor=True),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), size=(2, 2.5)),
    lambda lib: lib.nn.functional.interpolate(lib.randn(1, 1, 4, 4), size=2, antialias=True),
]


@pytest.mark.parametrize("case", INTERP_ERRORS)
def test_interpolate_errors_match_torch(case):
    te = raises_same(case)
    with pytest.raises(type(te)) as ee:
        case(ember)
    assert str(ee.value) == str(te)


def test_interpolate_gradcheck():
    x = ember.tensor(_arr(1, 2, 3, 4), requires_grad=True)
    for mode in ("bilinear", "bicubic", "nearest"):
        assert ember.autograd.gradcheck(
            lambda x: ember.nn.functional.interpolate(x, size=(5, 3), mode=mode), (x,))


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Upsample(scale_factor=2), lambda lib: lib.nn.Upsample(size=(7, 5)),
    lambda lib: lib.nn.Upsample(scale_factor=(1.5, 2), mode="bilinear", align_corners=True),
    lambda lib: lib.nn.Upsample(size=9, mode="bicubic"),
    lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=3),
    lambda lib: lib.nn.UpsamplingBilinear2d(size=(6, 8)),
])
def test_upsample_modules(make):
    tm, em = make(torch), make(ember)
    assert repr(em) == repr(tm)
    check_op(lambda lib, x: (tm if lib is torch else em)(x), _arr(2, 3, 4, 5), rtol=1e-10,
             atol=1e-12)


# ---------------------------------------------------------------- shuffles
@pytest.mark.parametrize("r,shape", [(2, (2, 8, 3, 4)), (3, (9, 2, 2)), (2, (2, 1, 4, 3, 2))])
def test_pixel_shuffle_roundtrip(r, shape):
    x = _arr(*shape)
    e, _ = check_op(lambda lib, x: lib.nn.functional.pixel_shuffle(x, r), x, rtol=1e-12)
    check_op(lambda lib, y: lib.nn.functional.pixel_unshuffle(y, r), e.detach().cpu().numpy(),
             rtol=1e-12)
    check_op(lambda lib, x: lib.nn.PixelShuffle(r)(x), x, rtol=1e-12)
    assert repr(ember.nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))
    assert repr(ember.nn.PixelUnshuffle(r)) == repr(torch.nn.PixelUnshuffle(r))


def test_channel_shuffle():
    check_op(lambda lib, x: lib.nn.functional.channel_shuffle(x, 3), _arr(2, 6, 3, 2),
             rtol=1e-12)
    check_op(lambda lib, x: lib.nn.functional.native_channel_shuffle(x, 2), _arr(2, 4, 3),
             rtol=1e-12, requires_grad=False)


SHUFFLE_ERRORS = [
    lambda lib: lib.nn.functional.pixel_shuffle(lib.randn(1, 5, 2, 2), 2),
    lambda lib: lib.nn.functional.pixel_shuffle(lib.randn(4, 2), 2),
    lambda lib: lib.nn.functional.pixel_unshuffle(lib.randn(1, 1, 3, 4), 2),
    lambda lib: lib.nn.functional.pixel_unshuffle(lib.randn(1, 1, 4, 3), 2),
    lambda lib: lib.nn.functional.channel_shuffle(lib.randn(1, 5, 2), 2),
]


@pytest.mark.parametrize("case", SHUFFLE_ERRORS)
def test_shuffle_errors_match_torch(case):
    te = raises_same(case)
    with pytest.raises(type(te)) as ee:
        case(ember)
    assert str(ee.value) == str(te)


def test_functional_namespace_has_the_kernels():
    names = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "unfold",
             "fold", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
             "adaptive_avg_pool2d", "adaptive_max_pool2d", "lp_pool2d", "max_unpool2d",
             "interpolate", "pad", "pixel_shuffle", "softmax", "log_softmax", "softmin",
             "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy", "kl_div"]
    for n in names:
        assert callable(getattr(ember.nn.functional, n)), n
    mods = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
            "Upsample", "PixelShuffle", "ZeroPad2d", "Fold", "Unfold", "CrossEntropyLoss",
            "MSELoss", "BCELoss", "NLLLoss"]
    for m in mods:
        assert issubclass(getattr(ember.nn, m), ember.nn.Module), m


@pytest.mark.parametrize("shape", list(itertools.product([1, 2], [3, 6])))
def test_seed_cnn_forward_backward(shape):
    """The seed CNN (conv 1->10 k5, max-pool 2, relu, conv 10->20 k5, max-pool 2, relu,
    linear 320->10, cross-entropy) matches torch in loss and every gradient."""
    n, _ = shape
    torch.manual_seed(0)
    tnet = [torch.nn.Conv2d(1, 10, 5), torch.nn.Conv2d(10, 20, 5), torch.nn.Linear(320, 10)]
    enet = [ember.nn.Conv2d(1, 10, 5), ember.nn.Conv2d(10, 20, 5), ember.nn.Linear(320, 10)]
    for em, tm in zip(enet, tnet):
        em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = _arr(n, 1, 28, 28, dtype=np.float32)
    y = rng.integers(0, 10, n)

    def run(lib, net, x, y):
        F = lib.nn.functional
        h = F.relu(F.max_pool2d(net[0](x), 2))
        h = F.relu(F.max_pool2d(net[1](h), 2))
        loss = F.cross_entropy(net[2](h.view(-1, 320)), y)
        loss.backward()
        return loss
    le = run(ember, enet, ember.tensor(x), ember.tensor(y))
    lt = run(torch, tnet, torch.tensor(x), torch.tensor(y))
    assert_close(le, lt, 1e-5, 1e-6)
    for em, tm in zip(enet, tnet):
        for pe, pt in zip(em.parameters(), tm.parameters()):
            assert_close(pe.grad, pt.grad, 1e-4, 1e-6)


# ---------------------------------------------------------------- on a CUDA device
from test_cuda import cuda, fake_cuda  # noqa: E402,F401 (fixtures: fake CuPy, or a real GPU)

DEVICE_CASES = {
    "conv2d": lambda F, x, y: F.conv2d(x, x[:4, :2, :3, :3] * 1, None, 2, 1, groups=2),
    "conv_transpose2d": lambda F, x, y: F.conv_transpose2d(x, x[:, :3, :3, :3], None, 2, 1, 1),
    "unfold_fold": lambda F, x, y: F.fold(F.unfold(x, 3, padding=1), (6, 5), 3, padding=1),
    "max_pool2d": lambda F, x, y: F.max_pool2d(x, 3, 2, 1),
    "avg_pool2d": lambda F, x, y: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                               count_include_pad=False),
    "adaptive": lambda F, x, y: F.adaptive_avg_pool2d(x, (4, 3)) + F.adaptive_max_pool2d(
        x, (4, 3)),
    "unpool": lambda F, x, y: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2,
                                             output_size=(6, 5)),
    "log_softmax": lambda F, x, y: F.log_softmax(x, 1),
    "cross_entropy": lambda F, x, y: F.cross_entropy(x, y, label_smoothing=0.1),
    "nll": lambda F, x, y: F.nll_loss(x, y, ignore_index=1),
    "mse": lambda F, x, y: F.mse_loss(x, x.detach() * 0.5),
    "pad": lambda F, x, y: F.pad(x, (1, 2, 2, 1), mode="reflect"),
    "interpolate": lambda F, x, y: F.interpolate(x, scale_factor=1.5, mode="bicubic"),
}


@pytest.mark.parametrize("name", sorted(DEVICE_CASES))
def test_kernels_on_cuda_device(cuda, name):
    """Forward and double backward on a CUDA tensor give the CPU's values."""
    f = DEVICE_CASES[name]
    x = _arr(4, 4, 6, 5)
    y = rng.integers(0, 4, (4, 6, 5))
    out = []
    for dev in ("cpu", "cuda"):
        xe = ember.tensor(x, device=dev, requires_grad=True)
        r = f(ember.nn.functional, xe, ember.tensor(y, device=dev))
        g, = ember.autograd.grad((r * r).sum(), xe, create_graph=True)
        g.sum().backward()
        assert r.device.type == dev and g.device.type == dev
        out.append((r.detach().cpu().numpy(), g.detach().cpu().numpy(), xe.grad.cpu().numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)

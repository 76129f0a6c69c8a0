"""Pooling (max, average, adaptive, power-average, unpooling) against torch:
values, indices, gradients, double backward, errors, module reprs."""
import itertools

import numpy as np
import pytest
import torch

import ember
from oracle import check_op, assert_close, raises_same

pytestmark = pytest.mark.usefixtures("each_device")  # CPU, fake CuPy, GPU

rng = np.random.default_rng(1)


def _arr(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def _torch_ok(fn, x):
    try:
        fn(torch, torch.tensor(x))
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("k,s,p,d,ceil", list(itertools.product(
    [2, 3, (2, 3)], [None, 1, 2, (2, 1)], [0, 1], [1, 2], [False, True])))
def test_max_pool2d_grid(k, s, p, d, ceil):
    x = _arr(2, 3, 9, 8)
    f = lambda lib, x: lib.nn.functional.max_pool2d(x, k, s, p, d, ceil, True)  # noqa: E731
    if not _torch_ok(f, x):
        return raises_same(f, ember.tensor(x))
    check_op(f, x, rtol=1e-12, atol=1e-12)  # values, int64 indices and gradients


@pytest.mark.parametrize("k,s,p,ceil,cip,div", list(itertools.product(
    [2, 3, (2, 3)], [None, 1, 2, (2, 1)], [0, 1], [False, True], [False, True], [None, 3])))
def test_avg_pool2d_grid(k, s, p, ceil, cip, div):
    x = _arr(2, 3, 9, 8)
    f = lambda lib, x: lib.nn.functional.avg_pool2d(x, k, s, p, ceil, cip, div)  # noqa: E731
    if not _torch_ok(f, x):
        return raises_same(f, ember.tensor(x))
    check_op(f, x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [
    lambda lib, x: lib.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
    lambda lib, x: lib.nn.functional.max_pool1d(x, 2, dilation=3),
    lambda lib, x: lib.nn.functional.avg_pool1d(x, 3, 2, 1, ceil_mode=True,
                                                count_include_pad=False),
    lambda lib, x: lib.nn.functional.avg_pool1d(x, 4, 3, 2),
    lambda lib, x: lib.nn.functional.lp_pool1d(x.abs(), 3, 3, 2),
])
def test_pool1d(case):
    check_op(case, _arr(2, 3, 11), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [
    lambda lib, x: lib.nn.functional.max_pool3d(x, 2, (1, 2, 2), 1, return_indices=True),
    lambda lib, x: lib.nn.functional.max_pool3d(x, 3, 2, 1, 1, True),
    lambda lib, x: lib.nn.functional.avg_pool3d(x, 3, 2, 1, ceil_mode=True),
    lambda lib, x: lib.nn.functional.avg_pool3d(x, 2, divisor_override=5),
    lambda lib, x: lib.nn.functional.adaptive_avg_pool3d(x, (2, 3, 4)),
    lambda lib, x: lib.nn.functional.adaptive_max_pool3d(x, (2, None, 4), True),
    lambda lib, x: lib.nn.functional.lp_pool3d(x.abs() + 0.1, 2, 2),
])
def test_pool3d(case):
    check_op(case, _arr(2, 2, 5, 6, 7), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("out", [1, 2, 3, (4, None), (5, 3), (9, 8), (2, 4), (7, 1), (1, 5)])
def test_adaptive_pool2d(out):
    x = _arr(2, 3, 9, 8)
    check_op(lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, out), x, rtol=1e-12,
             atol=1e-12)
    check_op(lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, out, True), x, rtol=1e-12)


@pytest.mark.parametrize("out", [1, 3, 4, 11])
def test_adaptive_pool1d(out):
    x = _arr(2, 3, 11)
    check_op(lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, out), x, rtol=1e-12)
    check_op(lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, out, True), x, rtol=1e-12)


def test_unbatched_and_ties():
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 2, return_indices=True),
             _arr(3, 6, 6), rtol=1e-12)
    # ties: the first maximum of each window wins, in values and in gradients
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1:3, 1:3] = 1.0
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 2, 1, return_indices=True), x)
    check_op(lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 3, True), x)


def test_integer_and_float32_inputs():
    xi = rng.integers(-9, 9, (2, 3, 9, 8))
    check_op(lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1), xi)
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 2, 1), xi)
    e, _ = check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 2),
                    _arr(4, 10, 24, 24, dtype=np.float32))
    assert e.dtype == ember.float32


def test_lp_pool2d():
    x = np.abs(_arr(2, 3, 9, 8)) + 0.1
    check_op(lambda lib, x: lib.nn.functional.lp_pool2d(x, 2, 3, 2), x, rtol=1e-10)
    check_op(lambda lib, x: lib.nn.functional.lp_pool2d(x, 1.5, (2, 3), ceil_mode=True), x,
             rtol=1e-10)


def test_max_unpool():
    x = torch.tensor(_arr(2, 3, 9, 8))
    for nd, xx in ((2, x), (1, x[:, :, 0])):
        pool = getattr(torch.nn.functional, f"max_pool{nd}d")
        o, i = pool(xx, 2, return_indices=True)
        size = tuple(xx.shape[2:])
        check_op(lambda lib, a, b: getattr(lib.nn.functional, f"max_unpool{nd}d")(
            a, b, 2, output_size=size), o.numpy(), i.numpy())
    o, i = torch.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True)
    check_op(lambda lib, a, b: lib.nn.MaxUnpool2d(3, 2, 1)(a, b, (9, 8)), o.numpy(), i.numpy())
    raises_same(lambda lib, a, b: lib.nn.MaxUnpool2d(3, 2, 1)(a, b), ember.tensor(o.numpy()),
                ember.tensor(i.numpy()))


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pool_gradcheck_and_double_backward(name):
    f, tf = getattr(ember.nn.functional, name), getattr(torch.nn.functional, name)
    x = ember.tensor(_arr(2, 2, 6, 5), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: f(x, 3, 2, 1), (x,))
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    ge = ember.autograd.grad((f(x, 3, 2, 1) ** 2).sum(), x, create_graph=True)[0]
    gt = torch.autograd.grad((tf(xt, 3, 2, 1) ** 2).sum(), xt, create_graph=True)[0]
    ge.sin().sum().backward()
    gt.sin().sum().backward()
    assert_close(x.grad, xt.grad, 1e-9, 1e-12)


def test_adaptive_gradcheck():
    x = ember.tensor(_arr(1, 2, 7, 5), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: ember.nn.functional.adaptive_avg_pool2d(x, (3, 2)),
                                    (x,))
    assert ember.autograd.gradcheck(lambda x: ember.nn.functional.adaptive_max_pool2d(x, (3, 2)),
                                    (x,))
    assert ember.autograd.gradgradcheck(
        lambda x: ember.nn.functional.adaptive_max_pool2d(x, (3, 2)) ** 2, (x,))


def test_grad_fn_names():
    x = ember.randn(1, 2, 6, 6, requires_grad=True)
    assert ember.nn.functional.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert ember.nn.functional.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"


POOL_ERRORS = [
    lambda lib: lib.nn.functional.max_pool2d(lib.randn(2, 3, 8, 8), 3, padding=2),
    lambda lib: lib.nn.functional.max_pool2d(lib.randn(1, 1, 1, 1), 2),
    lambda lib: lib.nn.functional.max_pool2d(lib.randn(3, 8), 2),
    lambda lib: lib.nn.functional.max_pool2d(lib.randn(2, 3, 8, 8), 2, stride=0),
    lambda lib: lib.nn.functional.max_pool2d(lib.randn(2, 3, 8, 8), 2, dilation=0),
    lambda lib: lib.nn.functional.max_pool2d(lib.randn(2, 3, 8, 8), (2, 2, 2)),
    lambda lib: lib.nn.functional.avg_pool2d(lib.randn(2, 3, 8, 8), 3, padding=2),
    lambda lib: lib.nn.functional.avg_pool2d(lib.randn(1, 1, 1, 1), 2),
    lambda lib: lib.nn.functional.avg_pool2d(lib.randn(2, 3, 8, 8), 2, divisor_override=0),
    lambda lib: lib.nn.functional.max_pool1d(lib.randn(2, 3, 1), 2),
    lambda lib: lib.nn.functional.avg_pool1d(lib.randn(2, 3, 1), 2),
    lambda lib: lib.nn.functional.adaptive_avg_pool2d(lib.randn(8), 3),
    lambda lib: lib.nn.functional.adaptive_avg_pool2d(lib.randn(1, 2, 4, 4), (1, 2, 3)),
    lambda lib: lib.nn.functional.adaptive_avg_pool1d(lib.randn(1, 2, 4), (1, 2)),
    lambda lib: lib.nn.functional.adaptive_max_pool2d(lib.randn(1, 2, 4, 4), (-1, 2)),
    lambda lib: lib.nn.functional.max_unpool2d(lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 2, 2,
                                                                                 dtype=lib.long),
                                               2, output_size=(9, 9)),
]


@pytest.mark.parametrize("case", POOL_ERRORS)
def test_pool_errors_match_torch(case):
    te = raises_same(case)
    with pytest.raises(type(te)) as ee:
        case(ember)
    assert str(ee.value) == str(te)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.MaxPool2d(2),
    lambda lib: lib.nn.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, return_indices=True,
                                 ceil_mode=True),
    lambda lib: lib.nn.MaxPool1d(3, 2, 1),
    lambda lib: lib.nn.MaxPool3d(2),
    lambda lib: lib.nn.AvgPool2d(2),
    lambda lib: lib.nn.AvgPool2d((2, 3), stride=1, padding=1, ceil_mode=True,
                                 count_include_pad=False, divisor_override=3),
    lambda lib: lib.nn.AvgPool1d(3, 2, 1, True, False),
    lambda lib: lib.nn.AvgPool3d(2, 1),
    lambda lib: lib.nn.AdaptiveAvgPool2d((3, None)),
    lambda lib: lib.nn.AdaptiveAvgPool2d(1),
    lambda lib: lib.nn.AdaptiveAvgPool1d(3),
    lambda lib: lib.nn.AdaptiveAvgPool3d(2),
    lambda lib: lib.nn.AdaptiveMaxPool2d(3, return_indices=True),
    lambda lib: lib.nn.AdaptiveMaxPool1d(2),
    lambda lib: lib.nn.AdaptiveMaxPool3d((1, 2, 2)),
    lambda lib: lib.nn.LPPool2d(2, 3),
    lambda lib: lib.nn.LPPool1d(2, 3, stride=2, ceil_mode=True),
    lambda lib: lib.nn.LPPool3d(1, 2),
    lambda lib: lib.nn.MaxUnpool2d(2),
    lambda lib: lib.nn.MaxUnpool1d(3, 2, 1),
    lambda lib: lib.nn.MaxUnpool3d(2),
])
def test_pool_modules(make):
    tm, em = make(torch), make(ember)
    assert repr(em) == repr(tm)
    if "Unpool" in repr(tm):
        return
    nd = 1 if "1d" in repr(tm) else 3 if "3d" in repr(tm) else 2
    x = np.abs(_arr(*((2, 3) + (7, 8, 6)[:nd]))) + 0.1
    check_op(lambda lib, x: (tm if lib is torch else em)(x), x, rtol=1e-10, atol=1e-12)

"""Convolution (plain and transposed, 1/2/3-d), unfold/fold and the Conv
modules against torch: values, dtypes, gradients of input, weight and
bias, double backward, errors and reprs."""
import itertools
import re

import numpy as np
import pytest
import torch

import ember
from oracle import check_op, assert_close, raises_same

pytestmark = pytest.mark.usefixtures("each_device")  # CPU, fake CuPy, GPU

rng = np.random.default_rng(0)


def _arr(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- functional conv
GRID2D = list(itertools.product([1, 2, (2, 1)], [0, 1, (2, 0), "same", "valid"], [1, 2],
                                [1, 2]))


@pytest.mark.parametrize("stride,padding,dilation,groups", GRID2D)
def test_conv2d_grid(stride, padding, dilation, groups):
    if padding == "same" and stride != 1:
        pytest.skip("torch refuses")
    x, w, b = _arr(2, 4, 9, 8), _arr(6, 4 // groups, 3, 2), _arr(6)
    check_op(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, stride, padding, dilation,
                                                           groups), x, w, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_same_conv_input_gradient_as_flipped_conv(monkeypatch, nd, groups, dilation):
    """Stride-1 'same' convolutions take their input gradient as a convolution
    with the flipped kernel: it must equal torch's."""
    taken = []
    as_conv = ember._ops.conv._input_grad_as_conv
    monkeypatch.setattr(ember._ops.conv, "_input_grad_as_conv",
                        lambda *a: taken.append(as_conv(*a)[0]) or (taken[-1], None))
    x, w = _arr(3, 4, *(7, 6, 5)[:nd]), _arr(6, 4 // groups, *(3, 5, 3)[:nd])
    name = f"conv{nd}d"
    check_op(lambda lib, x, w: getattr(lib.nn.functional, name)(
        x, w, None, 1, "same", dilation, groups), x, w, rtol=1e-9, atol=1e-9)
    assert taken and all(t is not None for t in taken)


@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_same_conv_both_gradients_from_one_set_of_columns(monkeypatch, nd, dilation):
    """One-group stride-1 'same' convolutions take both gradients from the
    columns of the output gradient: they must equal torch's."""
    monkeypatch.setattr(ember._ops.conv, "_LAST_BELOW", 0)
    monkeypatch.setattr(ember._ops.conv, "_CHUNK_BYTES", 1)  # sliced: no forward columns kept
    taken = []
    fused = ember._ops.conv._same_conv_grads
    monkeypatch.setattr(ember._ops.conv, "_same_conv_grads",
                        lambda *a: taken.append(1) or fused(*a))
    x, w, b = _arr(3, 4, *(7, 6, 5)[:nd]), _arr(6, 4, *(3, 5, 3)[:nd]), _arr(6)
    name = f"conv{nd}d"
    check_op(lambda lib, x, w, b: getattr(lib.nn.functional, name)(
        x, w, b, 1, "same", dilation), x, w, b, rtol=1e-9, atol=1e-9)
    assert taken


@pytest.mark.parametrize("stride,padding,dilation,groups,output_padding", [
    (1, 0, 1, 1, 0), (2, 1, 1, 2, 1), ((2, 3), (1, 0), (1, 2), 1, (1, 2)), (3, 2, 2, 2, 2),
    (1, 1, 3, 1, 2)])
def test_conv_transpose2d_grid(stride, padding, dilation, groups, output_padding):
    x, w, b = _arr(2, 4, 5, 4), _arr(4, 6 // groups, 3, 2), _arr(6)
    check_op(lambda lib, x, w, b: lib.nn.functional.conv_transpose2d(
        x, w, b, stride, padding, output_padding, groups, dilation), x, w, b, rtol=1e-9,
        atol=1e-9)


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    (1, 0, 1, 1), (2, 2, 1, 2), (3, "same", 2, 1), (1, "same", 2, 4), (2, 1, 3, 1)])
def test_conv1d(stride, padding, dilation, groups):
    if padding == "same" and stride != 1:
        stride = 1
    x, w, b = _arr(3, 4, 17), _arr(8, 4 // groups, 4), _arr(8)
    check_op(lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, stride, padding, dilation,
                                                           groups), x, w, b, rtol=1e-9, atol=1e-9)


def test_conv3d_and_transpose():
    x, w = _arr(2, 4, 5, 6, 5), _arr(4, 2, 2, 3, 2)
    check_op(lambda lib, x, w: lib.nn.functional.conv3d(x, w, None, (1, 2, 1), 1, (2, 1, 1), 2),
             x, w, rtol=1e-9, atol=1e-9)
    check_op(lambda lib, x, w: lib.nn.functional.conv_transpose3d(x, w, None, 2, 1, 1),
             _arr(2, 3, 3, 4, 3), _arr(3, 2, 2, 3, 2), rtol=1e-9, atol=1e-9)
    check_op(lambda lib, x, w: lib.nn.functional.conv_transpose1d(x, w, None, 3, 1, 2, 1, 2),
             _arr(2, 3, 7), _arr(3, 2, 4), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("last_below,chunk_bytes", [
    (0, 1 << 30), (10 ** 6, 1 << 30),  # columns batch-middle / batch-last
    (0, 1), (0, 8000)])  # batch-middle, built in slices of one and of several samples
@pytest.mark.parametrize("transposed", [False, True])
def test_both_column_layouts(monkeypatch, last_below, chunk_bytes, transposed):
    monkeypatch.setattr(ember._ops.conv, "_LAST_BELOW", last_below)
    monkeypatch.setattr(ember._ops.conv, "_CHUNK_BYTES", chunk_bytes)
    name = "conv_transpose2d" if transposed else "conv2d"
    kw = {"output_padding": 1} if transposed else {}
    x, b = _arr(2, 4, 7, 20), _arr(6)
    w = _arr(4, 3, 3, 2) if transposed else _arr(6, 2, 3, 2)
    check_op(lambda lib, x, w, b: getattr(lib.nn.functional, name)(
        x, w, b, (2, 3), (1, 0), dilation=(1, 2), groups=2, **kw), x, w, b, rtol=1e-9, atol=1e-9)
    check_op(lambda lib, x, w: lib.nn.functional.conv1d(x, w, padding=2), _arr(5, 4, 30),
             _arr(5, 4, 3), rtol=1e-9, atol=1e-9)


def test_conv_float32_keeps_dtype():
    x, w, b = _arr(4, 3, 12, 12, dtype=np.float32), _arr(5, 3, 5, 5, dtype=np.float32), \
        _arr(5, dtype=np.float32)
    e, t = check_op(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding=2), x, w, b,
                    rtol=1e-4, atol=1e-4)
    assert e.dtype == ember.float32


def test_unbatched_input_and_partial_grads():
    x, w = _arr(3, 7, 6), _arr(4, 3, 3, 3)
    check_op(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), x, w, rtol=1e-9,
             atol=1e-9)
    # only the weight needs a gradient (first layer of a network)
    xe, we = ember.tensor(_arr(2, 3, 6, 6)), ember.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(xe.numpy()), torch.tensor(w, requires_grad=True)
    ember.nn.functional.conv2d(xe, we).sum().backward()
    torch.nn.functional.conv2d(xt, wt).sum().backward()
    assert xe.grad is None
    assert_close(we.grad, wt.grad, 1e-9, 1e-9)


def test_empty_batch():
    e = ember.nn.functional.conv2d(ember.zeros(0, 3, 8, 8), ember.zeros(4, 3, 3, 3))
    assert tuple(e.shape) == (0, 4, 6, 6)


def test_conv_integer_input():
    x = rng.integers(-5, 5, (2, 3, 6, 6))
    w = rng.integers(-5, 5, (4, 3, 3, 3))
    check_op(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2), x, w, grad=False)


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_gradcheck_and_double_backward(transposed):
    f = ember.nn.functional.conv_transpose2d if transposed else ember.nn.functional.conv2d
    tf = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    x = ember.tensor(_arr(2, 4, 5, 5), requires_grad=True)
    w = ember.tensor(_arr(4, 2, 3, 3), requires_grad=True)
    b = ember.tensor(_arr(4), requires_grad=True)  # 4 output channels either way
    assert ember.autograd.gradcheck(lambda x, w, b: f(x, w, b, 2, 1, groups=2), (x, w, b))
    # second derivatives through create_graph match torch
    xt, wt = (torch.tensor(a.detach().numpy(), requires_grad=True) for a in (x, w))
    ge = ember.autograd.grad((f(x, w, None, 2, 1, groups=2) ** 2).sum(), (x, w),
                             create_graph=True)
    gt = torch.autograd.grad((tf(xt, wt, None, 2, 1, groups=2) ** 2).sum(), (xt, wt),
                             create_graph=True)
    x.grad = w.grad = None
    (ge[0].sin().sum() + ge[1].cos().sum()).backward()
    (gt[0].sin().sum() + gt[1].cos().sum()).backward()
    assert_close(x.grad, xt.grad, 1e-8, 1e-9)
    assert_close(w.grad, wt.grad, 1e-8, 1e-9)


def test_grad_fn_names():
    x = ember.randn(1, 2, 5, 5, requires_grad=True)
    assert ember.nn.functional.conv2d(x, ember.randn(3, 2, 3, 3)).grad_fn.name() == \
        "ConvolutionBackward0"
    assert ember.nn.functional.unfold(x, 2).grad_fn.name() == "Im2ColBackward0"


# ---------------------------------------------------------------- unfold / fold
@pytest.mark.parametrize("k,d,p,s", [(2, 1, 0, 1), ((2, 3), 2, 1, (1, 2)), (3, 1, 2, 3)])
def test_unfold_fold(k, d, p, s):
    x = _arr(2, 3, 9, 8)
    e, _ = check_op(lambda lib, x: lib.nn.functional.unfold(x, k, d, p, s), x, rtol=1e-12)
    cols = e.detach().cpu().numpy()
    check_op(lambda lib, c: lib.nn.functional.fold(c, (9, 8), k, d, p, s), cols, rtol=1e-12)
    check_op(lambda lib, c: lib.nn.Fold((9, 8), k, d, p, s)(c), cols[0], rtol=1e-12)
    check_op(lambda lib, x: lib.nn.Unfold(k, d, p, s)(x), x[0], rtol=1e-12)


def test_fold_unfold_double_backward():
    x = ember.tensor(_arr(1, 2, 5, 5), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: ember.nn.functional.fold(
        ember.nn.functional.unfold(x, 3, padding=1) ** 2, 5, 3, padding=1), (x,))
    assert ember.autograd.gradgradcheck(lambda x: ember.nn.functional.unfold(x, 2) ** 2, (x,))


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.functional.unfold(lib.randn(2, 3, 2, 2), 3),
    lambda lib: lib.nn.functional.unfold(lib.randn(2, 3, 8, 8, 8), 3),
    lambda lib: lib.nn.functional.fold(lib.randn(2, 27, 35), (8, 8), 3),
    lambda lib: lib.nn.functional.fold(lib.randn(2, 26, 36), (8, 8), 3),
    lambda lib: lib.nn.functional.fold(lib.randn(2, 3, 27, 36), (8, 8), 3),
])
def test_unfold_fold_errors(case):
    te = raises_same(case)
    with pytest.raises(type(te)) as ee:
        case(ember)
    assert str(ee.value) == str(te)


# ---------------------------------------------------------------- errors
CONV_ERRORS = [
    lambda lib: lib.nn.functional.conv2d(lib.randn(1, 1, 2, 2), lib.randn(1, 1, 5, 5)),
    lambda lib: lib.nn.functional.conv2d(lib.randn(1, 1, 4, 4), lib.randn(1, 1, 3, 3),
                                         dilation=2),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 2, 3, 3)),
    lambda lib: lib.nn.functional.conv2d(lib.randn(3, 8), lib.randn(4, 3, 3, 3)),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3)),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(3, 2, 3, 3),
                                         groups=2),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8).double(),
                                         lib.randn(4, 3, 3, 3)),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3),
                                         lib.randn(4).double()),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3),
                                         lib.randn(5)),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3), stride=2,
                                         padding="same"),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3),
                                         padding="foo"),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3), stride=0),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3),
                                         padding=-1),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3),
                                         dilation=0),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3),
                                         groups=0),
    lambda lib: lib.nn.functional.conv2d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3, 3),
                                         stride=(1, 1, 1)),
    lambda lib: lib.nn.functional.conv1d(lib.randn(2, 3, 8, 8), lib.randn(4, 3, 3)),
    lambda lib: lib.nn.functional.conv_transpose2d(lib.randn(2, 3, 8, 8),
                                                   lib.randn(3, 4, 3, 3), output_padding=2),
    lambda lib: lib.nn.functional.conv_transpose2d(lib.randn(2, 3, 8, 8),
                                                   lib.randn(4, 4, 3, 3)),
    lambda lib: lib.nn.functional.conv_transpose1d(lib.randn(2, 3, 8), lib.randn(3, 4, 3),
                                                   padding="same"),
    lambda lib: lib.nn.Conv2d(3, 4, 3, groups=2),
    lambda lib: lib.nn.Conv2d(4, 3, 3, groups=2),
    lambda lib: lib.nn.Conv2d(4, 4, 3, padding_mode="foo"),
    lambda lib: lib.nn.Conv2d(4, 4, 3, stride=2, padding="same"),
    lambda lib: lib.nn.Conv2d(4, 4, 3, padding="bar"),
    lambda lib: lib.nn.Conv2d(3, 4, 5)(lib.randn(1, 3, 2, 2)),
    lambda lib: lib.nn.ConvTranspose2d(3, 4, 5, padding_mode="reflect"),
    lambda lib: lib.nn.ConvTranspose2d(3, 4, 3, stride=2)(lib.randn(1, 3, 4, 4),
                                                          output_size=(12, 12)),
]


@pytest.mark.parametrize("case", CONV_ERRORS)
def test_conv_errors_match_torch(case):
    te = raises_same(case)
    with pytest.raises(type(te)) as ee:
        case(ember)
    assert _sets_sorted(str(ee.value)) == _sets_sorted(str(te))


def _sets_sorted(message):
    """A message with each printed set's items sorted (set order varies between runs)."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}",
                  message)


# ---------------------------------------------------------------- modules
def _copy_params(em, tm):
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Conv2d(1, 10, kernel_size=5),
    lambda lib: lib.nn.Conv2d(3, 6, (3, 5), stride=2, padding=1, groups=3, bias=False),
    lambda lib: lib.nn.Conv2d(4, 4, 3, padding="same", dilation=2, padding_mode="reflect"),
    lambda lib: lib.nn.Conv2d(4, 2, 3, padding=2, padding_mode="replicate"),
    lambda lib: lib.nn.Conv2d(4, 2, (3, 2), padding=(1, 2), padding_mode="circular"),
    lambda lib: lib.nn.Conv1d(4, 2, 3, padding="same", padding_mode="circular"),
    lambda lib: lib.nn.Conv3d(4, 2, 2, stride=(1, 2, 1), padding="valid"),
    lambda lib: lib.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
    lambda lib: lib.nn.ConvTranspose1d(4, 2, 3, dilation=2, bias=False),
    lambda lib: lib.nn.ConvTranspose3d(4, 2, 2, stride=2),
])
def test_conv_modules_match_torch(make):
    torch.manual_seed(0)
    tm, em = make(torch).double(), make(ember).double()
    assert repr(em) == repr(tm)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    _copy_params(em, tm)
    nd = tm.weight.dim() - 2
    x = _arr(*((2, 4) + (6,) * nd)) if tm.in_channels == 4 else _arr(*((2, tm.in_channels)
                                                                       + (9,) * nd))
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = em(xe), tm(xt)
    assert_close(ye, yt, 1e-9, 1e-9)
    g = _arr(*yt.shape)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad, 1e-9, 1e-9)
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        assert_close(pe.grad, pt.grad, 1e-9, 1e-9)


def test_conv_transpose_output_size():
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    em = ember.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    _copy_params(em, tm)
    x = _arr(1, 3, 4, 4, dtype=np.float32)
    for size in [(7, 7), (8, 8), [1, 2, 8, 7]]:
        assert_close(em(ember.tensor(x), output_size=size), tm(torch.tensor(x), output_size=size),
                     1e-5, 1e-6)


def test_conv_default_init_distribution():
    """kaiming_uniform_(a=sqrt(5)): weight and bias uniform in +-1/sqrt(fan_in)."""
    m = ember.nn.Conv2d(16, 32, 5)
    bound = 1 / np.sqrt(16 * 25)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.95 * bound and abs(w.mean()) < 0.05 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound


SEED_SHAPES = [  # (kernel, stride, padding) from seed 000 (its batch is 32; 2 here)
    (7, 1, 0), (9, 3, 0), (3, 1, 1), (6, 2, 3)]


@pytest.mark.parametrize("k,s,p", SEED_SHAPES)
def test_seed000_output_shape_formula(k, s, p):
    """H_out = floor((H_in + 2 p - d (k - 1) - 1) / s) + 1, as the seed prints it."""
    layer = ember.nn.Conv2d(3, 128, k, s, p)
    out = layer(ember.randn(2, 3, 100, 100))
    h = (100 + 2 * p - 1 * (k - 1) - 1) // s + 1
    assert out.shape == ember.Size([2, 128, h, h])
    assert str(out.shape) == f"torch.Size([2, 128, {h}, {h}])"
    assert re.fullmatch(rf"Conv2d\(3, 128, kernel_size=\({k}, {k}\), stride=\({s}, {s}\)"
                        rf"(, padding=\({p}, {p}\))?\)", repr(layer))


@pytest.mark.parametrize("shape,padding,chunk_bytes", [
    ((0, 3, 40, 40), 0, 1 << 30), ((0, 3, 20, 20), 1, 1 << 30), ((0, 3, 20, 20), 1, 1),
    ((0, 3, 8, 8), 1, 1 << 30)])  # wide and narrow outputs, whole and sliced
def test_conv_of_an_empty_batch(monkeypatch, shape, padding, chunk_bytes):
    monkeypatch.setattr(ember._ops.conv, "_CHUNK_BYTES", chunk_bytes)
    check_op(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=padding), _arr(*shape),
             _arr(4, 3, 3, 3), rtol=1e-9, atol=1e-9)

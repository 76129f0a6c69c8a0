"""Losses (functional and modules) against torch over their options:
values, dtypes, gradients, legacy size_average/reduce, errors, reprs."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
import oracle
from oracle import check_op, assert_close, raises_same

pytestmark = pytest.mark.usefixtures("each_device")  # CPU, fake CuPy, GPU

rng = np.random.default_rng(2)
REDUCTIONS = ["none", "mean", "sum"]


def _arr(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def _probs(*shape):
    return rng.uniform(0.02, 0.98, shape)


def _targets(n, c, shape=None, ignore=None):
    t = rng.integers(0, c, shape if shape is not None else (n,))
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


# ---------------------------------------------------------------- losses of input - target
@pytest.mark.parametrize("name,kw", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.3})])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses(name, kw, reduction):
    x, t = _arr(4, 5), _arr(4, 5)
    check_op(lambda lib, x, t: getattr(lib.nn.functional, name)(x, t, reduction=reduction, **kw),
             x, t, rtol=1e-12, atol=1e-12)  # gradients of input and target


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_pointwise_losses(name, reduction):
    x, t, w = _arr(4, 5), _arr(4, 5), _probs(4, 5)
    check_op(lambda lib, x, t, w: getattr(lib.nn.functional, name)(x, t, reduction=reduction,
                                                                   weight=w), x, t, w,
             rtol=1e-12, atol=1e-12)


def test_pointwise_broadcast_warns_like_torch():
    x, t = _arr(3, 1), _arr(3)
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[3\]\)\) that is "
                                         r"different to the input size \(torch.Size\(\[3, 1\]\)\)"):
        check_op(lambda lib, x, t: lib.nn.functional.mse_loss(x, t), x, t, rtol=1e-12)


def test_mse_float32_and_promotion():
    x, t = _arr(8, 3, dtype=np.float32), _arr(8, 3, dtype=np.float32)
    e, _ = check_op(lambda lib, x, t: lib.nn.functional.mse_loss(x, t), x, t)
    assert e.dtype == ember.float32
    check_op(lambda lib, x, t: lib.nn.functional.l1_loss(x, t), x, _arr(8, 3))
    check_op(lambda lib, x, t: lib.nn.functional.mse_loss(x, t), x, rng.integers(0, 3, (8, 3)))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_gradcheck_double_backward(name):
    f = getattr(ember.nn.functional, name)
    x = ember.tensor(_arr(3, 4), requires_grad=True)
    t = ember.tensor(_arr(3, 4), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, t: f(x, t), (x, t))
    assert ember.autograd.gradgradcheck(lambda x, t: f(x, t, reduction="none"), (x, t))


# ---------------------------------------------------------------- nll / cross entropy
CLASS_OPTIONS = list(itertools.product(REDUCTIONS, [False, True], [None, 2, -100]))


@pytest.mark.parametrize("reduction,weighted,ignore", CLASS_OPTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 4), (2, 5, 3, 2), (5,)])
def test_nll_loss(reduction, weighted, ignore, shape):
    x = _arr(*shape)
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, 5, tshape)
    if ignore is not None and t.ndim:
        t.reshape(-1)[::3] = ignore
    w = _probs(5) if weighted else None
    kw = {"ignore_index": ignore} if ignore is not None else {}
    check_op(lambda lib, x, t: lib.nn.functional.nll_loss(
        x, t, _const(lib, w), reduction=reduction, **kw), x, t, rtol=1e-10, atol=1e-12)


def _const(lib, a):
    """A class weight as a constant (torch refuses gradients for it)."""
    return None if a is None else lib.tensor(a)


@pytest.mark.parametrize("reduction,weighted,ignore", CLASS_OPTIONS)
@pytest.mark.parametrize("ls", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 4), (2, 5, 3, 2), (5,)])
def test_cross_entropy_indices(reduction, weighted, ignore, ls, shape):
    x = _arr(*shape) * 3
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, 5, tshape)
    if ignore is not None and t.ndim:
        t.reshape(-1)[::3] = ignore
    w = _probs(5) if weighted else None
    kw = {"ignore_index": ignore} if ignore is not None else {}
    check_op(lambda lib, x, t: lib.nn.functional.cross_entropy(
        x, t, _const(lib, w), reduction=reduction, label_smoothing=ls, **kw), x, t,
        rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ls", [0.0, 0.3])
@pytest.mark.parametrize("shape", [(6, 5), (2, 5, 3)])
def test_cross_entropy_probabilities(reduction, weighted, ls, shape):
    x = _arr(*shape)
    p = np.exp(_arr(*shape))
    p /= p.sum(1, keepdims=True)
    args = (x, p) + ((_probs(5),) if weighted else ())
    check_op(lambda lib, x, p, *w: lib.nn.functional.cross_entropy(
        x, p, w[0] if w else None, reduction=reduction, label_smoothing=ls), *args,
        rtol=1e-10, atol=1e-12)


def test_cross_entropy_is_stable_and_float32():
    x = np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 3.0]], dtype=np.float32)
    t = np.array([1, 0])
    e, _ = check_op(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x, t, rtol=1e-6)
    assert e.dtype == ember.float32 and np.isfinite(e.item())
    x = _arr(64, 10, dtype=np.float32)
    check_op(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x, _targets(64, 10),
             rtol=1e-5, atol=1e-6)


def test_cross_entropy_all_ignored_is_nan():
    x, t = _arr(3, 5), np.full(3, -100)
    e, _ = check_op(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), x, t)
    assert np.isnan(e.item())
    check_op(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), x, t)


@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_cross_entropy_gradcheck_double_backward(ls):
    x = ember.tensor(_arr(4, 3), requires_grad=True)
    t = ember.tensor(np.array([0, 2, 1, 2]))
    w = ember.tensor(_probs(3))
    f = lambda x: ember.nn.functional.cross_entropy(x, t, w, label_smoothing=ls)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x,))
    assert ember.autograd.gradgradcheck(f, (x,))
    n = lambda x: ember.nn.functional.nll_loss(x, t, w)  # noqa: E731
    assert ember.autograd.gradgradcheck(lambda x: n(x.log_softmax(1)) if hasattr(x, "log_softmax")
                                        else n(ember.nn.functional.log_softmax(x, 1)), (x,))


def test_cross_entropy_grad_fn_prints_like_torch():
    loss = ember.nn.functional.cross_entropy(ember.randn(3, 4, requires_grad=True),
                                             ember.tensor([0, 1, 2]))
    assert "grad_fn=<NllLossBackward0>" in repr(loss)


# ---------------------------------------------------------------- binary cross entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "full", "row"])
def test_binary_cross_entropy(reduction, weight):
    x, t = _probs(4, 3), _probs(4, 3)
    w = {None: None, "full": _probs(4, 3), "row": _probs(3)}[weight]
    check_op(lambda lib, x, t: lib.nn.functional.binary_cross_entropy(
        x, t, _const(lib, w), reduction=reduction), x, t, rtol=1e-10, atol=1e-12)


def test_binary_cross_entropy_clamps_log():
    x = np.array([0.0, 1.0, 0.5, 1e-50])
    t = np.array([1.0, 0.0, 1.0, 1.0])
    check_op(lambda lib, x, t: lib.nn.functional.binary_cross_entropy(x, t, reduction="none"),
             x, t, grad=False)
    t = ember.tensor(_probs(5))
    assert ember.autograd.gradgradcheck(
        lambda x: ember.nn.functional.binary_cross_entropy(x, t),
        (ember.tensor(_probs(5), requires_grad=True),))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted,pos", [(False, False), (True, False), (False, True),
                                          (True, True)])
def test_bce_with_logits(reduction, weighted, pos):
    x, t = _arr(4, 3) * 10, _probs(4, 3)
    extra = {}
    if weighted:
        extra["weight"] = _probs(3)
    if pos:
        extra["pos_weight"] = _probs(3) * 3
    check_op(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(
        x, t, reduction=reduction, **{k: _const(lib, v) for k, v in extra.items()}), x, t,
        rtol=1e-10, atol=1e-12)


def test_bce_with_logits_is_one_node_twice_differentiable():
    x = ember.tensor(_arr(4, 3) * 3, requires_grad=True)
    t = ember.tensor(_probs(4, 3), requires_grad=True)
    pw = ember.tensor(_probs(3) * 3)
    loss = ember.nn.functional.binary_cross_entropy_with_logits(x, t, pos_weight=pw)
    assert type(loss.grad_fn).__name__ == "BinaryCrossEntropyWithLogitsBackward0"
    assert ember.autograd.gradgradcheck(
        lambda x, t: ember.nn.functional.binary_cross_entropy_with_logits(
            x, t, weight=pw, pos_weight=pw, reduction="sum"), (x, t))


# ---------------------------------------------------------------- the other losses
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(_probs(4, 5))
    t = np.log(_probs(4, 5)) if log_target else _probs(4, 5)
    t[0, 0] = -np.inf if log_target else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda lib, x, t: lib.nn.functional.kl_div(x, t, reduction=reduction,
                                                            log_target=log_target), x, t,
                 rtol=1e-10, requires_grad=False)
        xe = ember.tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        ember.nn.functional.kl_div(xe, ember.tensor(t), reduction=reduction,
                                   log_target=log_target).sum().backward()
        torch.nn.functional.kl_div(xt, torch.tensor(t), reduction=reduction,
                                   log_target=log_target).sum().backward()
    assert_close(xe.grad, xt.grad, 1e-10, 1e-12)


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        ember.nn.functional.kl_div(ember.randn(3), ember.rand(3))


LOSS_CASES = [
    lambda lib, x, y, t: lib.nn.functional.poisson_nll_loss(x, y.abs()),
    lambda lib, x, y, t: lib.nn.functional.poisson_nll_loss(x.abs() + 0.1, y.abs() * 3,
                                                            log_input=False, full=True,
                                                            reduction="sum"),
    lambda lib, x, y, t: lib.nn.functional.gaussian_nll_loss(x, y, y.abs() + 0.1),
    lambda lib, x, y, t: lib.nn.functional.gaussian_nll_loss(x, y, (y.abs() + 0.1)[:, 0],
                                                             full=True, reduction="none"),
    lambda lib, x, y, t: lib.nn.functional.cosine_embedding_loss(x, y, t, margin=0.2),
    lambda lib, x, y, t: lib.nn.functional.cosine_embedding_loss(x, y, t, reduction="none"),
    lambda lib, x, y, t: lib.nn.functional.cosine_embedding_loss(x[0], y[0], t[0]),
    lambda lib, x, y, t: lib.nn.functional.margin_ranking_loss(x[:, 0], y[:, 0], t, 0.3),
    lambda lib, x, y, t: lib.nn.functional.hinge_embedding_loss(x, t[:, None].expand(4, 5),
                                                                margin=0.5, reduction="sum"),
    lambda lib, x, y, t: lib.nn.functional.soft_margin_loss(x, t[:, None].expand(4, 5).detach()),
    lambda lib, x, y, t: lib.nn.functional.multilabel_soft_margin_loss(x, (y > 0).double(),
                                                                       y.abs()[0]),
    lambda lib, x, y, t: lib.nn.functional.triplet_margin_loss(x, y, x * 0.5 + y),
    lambda lib, x, y, t: lib.nn.functional.triplet_margin_loss(x, y, -y, 0.7, 1, swap=True,
                                                               reduction="none"),
    lambda lib, x, y, t: lib.nn.functional.triplet_margin_with_distance_loss(
        x, y, -y, distance_function=lambda a, b: (a - b).abs().sum(-1), swap=True),
    lambda lib, x, y, t: lib.nn.functional.multi_margin_loss(x, (t > 0).long() + 2),
    lambda lib, x, y, t: lib.nn.functional.multi_margin_loss(x, (t > 0).long(), 2, 0.5,
                                                             y.abs()[0].detach(),
                                                             reduction="none"),
]


@pytest.mark.parametrize("case", LOSS_CASES)
def test_other_losses(case):
    t = np.where(rng.random(4) > 0.5, 1.0, -1.0)
    check_op(case, _arr(4, 5), _arr(4, 5), t, rtol=1e-10, atol=1e-12)


def test_multilabel_margin_loss():
    x = _arr(3, 4)
    y = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]])
    for red in REDUCTIONS:
        check_op(lambda lib, x, y: lib.nn.functional.multilabel_margin_loss(x, y, reduction=red),
                 x, y, rtol=1e-12)
    check_op(lambda lib, x, y: lib.nn.functional.multilabel_margin_loss(x, y), x[0], y[0])


# ---------------------------------------------------------------- legacy arguments, errors
@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (True, True),
                                                 (False, True), (True, False)])
def test_legacy_size_average_reduce(size_average, reduce):
    x, t = _arr(4, 5), _targets(4, 5)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        check_op(lambda lib, x, t: lib.nn.functional.cross_entropy(
            x, t, size_average=size_average, reduce=reduce), x, t, rtol=1e-12)
    with pytest.warns(UserWarning):
        em = ember.nn.MSELoss(size_average, reduce)
    tm = torch.nn.MSELoss(size_average, reduce)
    assert em.reduction == tm.reduction


LOSS_ERRORS = [
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([1, 2, 5])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([1, 2, -1])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([1., 2., 3.])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([[1, 2, 3]])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([1, 2, 3]).int()),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.rand(3, 4)),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([1, 2, 3]),
                                                weight=lib.ones(4)),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([1, 2, 3]),
                                                label_smoothing=1.5),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5), lib.tensor([1, 2, 3]),
                                                reduction="foo"),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(2, 5, 4), lib.randint(0, 5, (2, 3))),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5).long(), lib.tensor([1, 2, 3])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 5).double(), lib.tensor([1, 2, 3]),
                                                weight=lib.ones(5)),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(3, 5), lib.tensor([1., 2., 3.])),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(3, 5), lib.tensor([1, 2, 5])),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(3, 5, 2, 2), lib.randint(0, 5, (3, 2, 3))),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(3, 5, 2, 2), lib.randint(0, 5, (3, 2))),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(5), lib.tensor([2, 1])),
    lambda lib: lib.nn.functional.binary_cross_entropy(lib.rand(3, 1), lib.rand(3)),
    lambda lib: lib.nn.functional.binary_cross_entropy(lib.rand(3) * 2 + 1, lib.rand(3)),
    lambda lib: lib.nn.functional.binary_cross_entropy(lib.rand(3), lib.rand(3).double()),
    lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(lib.rand(3, 1), lib.rand(3)),
    lambda lib: lib.nn.functional.mse_loss(lib.rand(3, 2), lib.rand(4)),
    lambda lib: lib.nn.functional.mse_loss(lib.tensor([1, 2]), lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.l1_loss(lib.tensor([1, 2]), lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.mse_loss(lib.rand(3), lib.rand(3), reduction="foo"),
    lambda lib: lib.nn.functional.mse_loss(lib.rand(3), lib.rand(3), weight=lib.rand(2)),
    lambda lib: lib.nn.functional.cosine_embedding_loss(lib.randn(3, 4), lib.randn(3, 4),
                                                        lib.ones(3, 1)),
    lambda lib: lib.nn.functional.cosine_embedding_loss(lib.randn(4), lib.randn(4), lib.ones(3)),
    lambda lib: lib.nn.functional.margin_ranking_loss(lib.randn(3), lib.randn(3),
                                                      lib.ones(3, 1)),
    lambda lib: lib.nn.functional.triplet_margin_loss(lib.randn(3, 4), lib.randn(3, 4),
                                                      lib.randn(4)),
    lambda lib: lib.nn.functional.triplet_margin_loss(lib.randn(3, 4), lib.randn(3, 4),
                                                      lib.randn(3, 4), margin=0),
    lambda lib: lib.nn.functional.multi_margin_loss(lib.randn(3, 4), lib.tensor([0, 1, 2]), p=3),
    lambda lib: lib.nn.functional.gaussian_nll_loss(lib.randn(3, 4), lib.randn(3, 4),
                                                    lib.ones(2)),
    lambda lib: lib.nn.MultiMarginLoss(p=3),
    lambda lib: lib.nn.TripletMarginLoss(margin=-1),
    lambda lib: lib.nn.HuberLoss(delta="1"),
]


@pytest.mark.parametrize("case", LOSS_ERRORS)
def test_loss_errors_match_torch(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        te = raises_same(case)
        with pytest.raises(type(te)) as ee:
            case(ember)
    assert str(ee.value) == str(te)


# ---------------------------------------------------------------- modules
MODULES = [
    ("MSELoss", {}, "reg"), ("L1Loss", {"reduction": "sum"}, "reg"),
    ("SmoothL1Loss", {"beta": 0.5}, "reg"), ("HuberLoss", {"delta": 2.0}, "reg"),
    ("CrossEntropyLoss", {}, "cls"), ("CrossEntropyLoss", {"weight": "w", "ignore_index": 1,
                                                           "label_smoothing": 0.1}, "cls"),
    ("NLLLoss", {"weight": "w", "reduction": "sum"}, "cls"), ("BCELoss", {"weight": "w"}, "bin"),
    ("BCEWithLogitsLoss", {"pos_weight": "w"}, "logit"), ("KLDivLoss", {"reduction": "batchmean",
                                                                       "log_target": True}, "reg"),
    ("PoissonNLLLoss", {"full": True}, "pois"), ("SoftMarginLoss", {}, "pm1"),
    ("HingeEmbeddingLoss", {"margin": 0.5}, "pm1"), ("MultiLabelSoftMarginLoss", {}, "bin"),
    ("MultiMarginLoss", {"p": 2}, "cls"),
]


@pytest.mark.parametrize("name,kw,kind", MODULES)
def test_loss_modules(name, kw, kind):
    kw_e = {k: (ember.tensor(_probs(5)) if v == "w" else v) for k, v in kw.items()}
    kw_t = {k: (torch.tensor(kw_e[k].numpy()) if v == "w" else v) for k, v in kw.items()}
    em, tm = getattr(ember.nn, name)(**kw_e).to(oracle.DEVICE), getattr(torch.nn, name)(**kw_t)
    assert repr(em) == repr(tm)
    assert sorted(em.state_dict()) == sorted(tm.state_dict())
    x = _arr(6, 5)
    t = {"reg": _arr(6, 5), "cls": _targets(6, 5), "bin": _probs(6, 5), "logit": _probs(6, 5),
         "pois": np.abs(_arr(6, 5)) * 2, "pm1": np.where(_arr(6, 5) > 0, 1.0, -1.0)}[kind]
    if kind == "bin":
        x = _probs(6, 5)
    check_op(lambda lib, x, t: (tm if lib is torch else em)(x, t), x, t, rtol=1e-10, atol=1e-12,
             requires_grad=kind not in ("pm1", "cls"))
    check_op(lambda lib, x, t: (tm if lib is torch else em)(x, lib.tensor(t.detach().cpu().numpy())),
             x, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,args", [
    ("CosineEmbeddingLoss", {"margin": 0.1}), ("MarginRankingLoss", {"margin": 0.2}),
    ("TripletMarginLoss", {"p": 1.0, "swap": True}), ("TripletMarginWithDistanceLoss", {}),
    ("GaussianNLLLoss", {"full": True}), ("MultiLabelMarginLoss", {}), ("NLLLoss2d", {})])
def test_more_loss_module_reprs(name, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em, tm = getattr(ember.nn, name)(**args), getattr(torch.nn, name)(**args)
    assert repr(em) == repr(tm)
    for k in ("margin", "p", "swap", "full", "reduction"):
        if hasattr(tm, k):
            assert getattr(em, k) == getattr(tm, k)


def test_three_input_loss_modules():
    a, b, c = _arr(4, 5), _arr(4, 5), _arr(4, 5)
    y = np.where(rng.random(4) > 0.5, 1.0, -1.0)
    check_op(lambda lib, a, b, y: lib.nn.CosineEmbeddingLoss(0.1)(a, b, y), a, b, y, rtol=1e-10)
    check_op(lambda lib, a, b, y: lib.nn.MarginRankingLoss(0.2)(a[:, 0], b[:, 0], y), a, b, y,
             rtol=1e-10)
    check_op(lambda lib, a, b, c: lib.nn.TripletMarginLoss(swap=True)(a, b, c), a, b, c,
             rtol=1e-10)
    check_op(lambda lib, a, b, c: lib.nn.TripletMarginWithDistanceLoss()(a, b, c), a, b, c,
             rtol=1e-10)
    check_op(lambda lib, a, b, c: lib.nn.GaussianNLLLoss()(a, b, c.abs()), a, b, c, rtol=1e-10)


# ---------------------------------------------------------------- CTC
CTC_CASES = {  # targets (padded rows), input lengths, target lengths
    "plain": ([[1, 2, 3], [2, 2, 0], [4, 0, 0]], [7, 6, 5], [3, 2, 1]),
    "repeats and empty": ([[3, 3, 3], [1, 0, 0], [0, 0, 0]], [7, 7, 3], [3, 1, 0]),
    "too short": ([[1, 1, 1], [2, 3, 0], [4, 0, 0]], [4, 7, 2], [3, 2, 1]),  # first: impossible
}


def _ctc(lib, case, reduction, zero_infinity, concatenated, blank=0, dtype=np.float64):
    tg, il, tl = CTC_CASES[case]
    tg = np.array(tg)
    if blank:
        tg = np.where(tg == blank, 0, tg)  # the blank must not be a label
    if concatenated:
        tg = np.concatenate([row[:n] for row, n in zip(tg, tl)])
    lp = np.random.default_rng(3).standard_normal((7, 3, 5)).astype(dtype)
    x = lib.tensor(lp, requires_grad=True)
    loss = lib.nn.functional.ctc_loss(x.log_softmax(2), lib.tensor(tg), lib.tensor(il),
                                      lib.tensor(tl), blank, reduction, zero_infinity)
    weights = lib.tensor(np.arange(1.0, 4.0, dtype=dtype)) if reduction == "none" else 1.0
    (loss * weights).sum().backward()
    return loss, x.grad


@pytest.mark.parametrize("case", list(CTC_CASES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_matches_torch(case, reduction, zero_infinity, concatenated):
    le, ge = _ctc(ember, case, reduction, zero_infinity, concatenated)
    lt, gt = _ctc(torch, case, reduction, zero_infinity, concatenated)
    assert_close(le, lt.detach(), rtol=1e-9, atol=1e-9)
    if zero_infinity or case != "too short":  # torch's gradient of an infinite loss is NaN
        assert_close(ge, gt, rtol=1e-7, atol=1e-9)


def test_ctc_loss_float32_blank_and_module():
    le, ge = _ctc(ember, "plain", "mean", False, False, blank=4, dtype=np.float32)
    lt, gt = _ctc(torch, "plain", "mean", False, False, blank=4, dtype=np.float32)
    assert_close(le, lt.detach(), rtol=1e-5, atol=1e-5)
    assert_close(ge, gt, rtol=1e-4, atol=1e-5)
    lp = np.random.default_rng(4).standard_normal((6, 4)).astype(np.float32)
    outs = [lib.nn.CTCLoss(blank=0, reduction="sum")(lib.tensor(lp).log_softmax(1),
                                                        lib.tensor([1, 2]), (6,), (2,))
            for lib in (ember, torch)]  # unbatched
    assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    assert repr(ember.nn.CTCLoss()) == repr(torch.nn.CTCLoss())


def test_ctc_loss_input_length_beyond_time_raises():
    with pytest.raises(RuntimeError, match="input_lengths"):
        ember.nn.functional.ctc_loss(ember.zeros(3, 1, 4), ember.tensor([[1]]), [5], [1])

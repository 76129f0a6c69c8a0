"""nn layers and their functional forms against torch: the torch module's
parameters are loaded into the ember module, then forward, backward, the
gradients of every parameter, reprs, running statistics and errors compare."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
import torch.nn.functional as TF
from oracle import assert_close, to_ember, to_torch

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def load_from_torch(emod, tmod):
    """Copy torch's parameters and buffers into the ember module (strict)."""
    r = emod.load_state_dict({k: to_ember(v) for k, v in tmod.state_dict().items()})
    assert not r.missing_keys and not r.unexpected_keys


def run_both(make, *arrays, rtol=1e-5, atol=1e-6, train=True, grad_inputs=True, call=None):
    """Build the same module in both libraries (``make(nn)``), share weights,
    run forward and backward (random-weighted sum of the output) and compare
    output, input gradients and every parameter's gradient."""
    tmod, emod = make(torch.nn), make(enn)
    load_from_torch(emod, tmod)
    tmod.train(train)
    emod.train(train)
    tin = [torch.tensor(a).requires_grad_(grad_inputs and a.dtype.kind == "f") for a in arrays]
    ein = [ember.tensor(a).requires_grad_(grad_inputs and a.dtype.kind == "f") for a in arrays]
    to = (call or (lambda m, *x: m(*x)))(tmod, *tin)
    eo = (call or (lambda m, *x: m(*x)))(emod, *ein)
    assert_close(eo, to, rtol, atol)
    w = RNG.standard_normal(tuple(to.shape)).astype(to.detach().numpy().dtype)
    if to.requires_grad:
        (to * torch.tensor(w)).sum().backward()
        (eo * ember.tensor(w)).sum().backward()
        for e, t in zip(ein, tin):
            if t.requires_grad:
                assert_close(e.grad, t.grad, rtol, atol)
        eparams = dict(emod.named_parameters())
        for name, tp in tmod.named_parameters():
            if tp.grad is None:
                assert eparams[name].grad is None, name
            else:
                assert_close(eparams[name].grad, tp.grad, rtol, atol)
    for (name, tb), (ename, eb) in zip(tmod.named_buffers(), emod.named_buffers()):
        assert name == ename
        assert_close(eb, tb, rtol, atol)
    return emod, tmod


# ---------------------------------------------------------------- activations
ACTIVATIONS = [
    "ReLU()", "ReLU6()", "LeakyReLU()", "LeakyReLU(0.2)", "PReLU()", "PReLU(4)", "ELU()",
    "ELU(alpha=0.5)", "SELU()", "CELU()", "CELU(alpha=2.0)", "GELU()", "GELU(approximate='tanh')",
    "SiLU()", "Mish()", "Softplus()", "Softplus(beta=2, threshold=1)", "Softsign()", "Sigmoid()",
    "Tanh()", "Hardtanh()", "Hardtanh(-2.0, 0.5)", "Hardsigmoid()", "Hardswish()", "LogSigmoid()",
    "Threshold(0.1, 20.0)", "Tanhshrink()", "Softshrink()", "Softshrink(1.0)", "Hardshrink()",
    "GLU()", "GLU(dim=1)", "RReLU()",
]


@pytest.mark.parametrize("spec", ACTIVATIONS)
def test_activation_modules(spec):
    x = randn(3, 4, 6) * 3
    emod, tmod = run_both(lambda nn: eval("nn." + spec), x, train=False)
    assert repr(emod) == repr(tmod)


@pytest.mark.parametrize("spec", ["ReLU(inplace=True)", "LeakyReLU(0.1, inplace=True)",
                                  "ELU(inplace=True)", "SELU(inplace=True)", "CELU(inplace=True)",
                                  "SiLU(inplace=True)", "Mish(inplace=True)",
                                  "Hardtanh(inplace=True)", "ReLU6(inplace=True)",
                                  "Hardsigmoid(inplace=True)", "Hardswish(inplace=True)",
                                  "Threshold(0.0, -1.0, inplace=True)"])
def test_inplace_activations(spec):
    """In place on a non-leaf: same values and gradients, and the input is the output."""
    x = randn(4, 5) * 3
    res = {}
    for lib, nn in ((torch, torch.nn), (ember, enn)):
        leaf = lib.tensor(x).requires_grad_(True)
        h = leaf * 1.0
        m = eval("nn." + spec)
        y = m(h)
        assert y is h
        (y * lib.tensor(np.arange(20, dtype=np.float32).reshape(4, 5))).sum().backward()
        res[lib] = (y, leaf.grad, repr(m))
    assert_close(res[ember][0], res[torch][0])
    assert_close(res[ember][1], res[torch][1])
    assert res[ember][2] == res[torch][2]


def test_inplace_on_leaf_requiring_grad_raises():
    for lib in (torch, ember):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError):
            (torch.nn.functional if lib is torch else EF).relu(x, inplace=True)


@pytest.mark.parametrize("name, kwargs", [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.3}), ("elu", {"alpha": 0.7}),
    ("selu", {}), ("celu", {"alpha": 0.5}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("mish", {}), ("softplus", {"beta": 0.5, "threshold": 3.0}), ("softsign", {}),
    ("sigmoid", {}), ("tanh", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("hardswish", {}), ("logsigmoid", {}), ("tanhshrink", {}),
    ("softshrink", {"lambd": 0.3}), ("hardshrink", {"lambd": 0.3}), ("glu", {"dim": 0}),
])
def test_functional_activations_double_backward(name, kwargs):
    """Second derivatives (create_graph) agree with torch: the backward
    formulas are themselves differentiable (``f(x) * x`` keeps the first
    gradient a function of x even where f is piecewise linear)."""
    x = randn(4, 6).astype(np.float64) * 2.5
    res = {}
    for lib, F in ((torch, TF), (ember, EF)):
        t = lib.tensor(x).requires_grad_(True)
        y = getattr(F, name)(t, **kwargs)
        y = y * (t[: y.shape[0]] if name == "glu" else t)
        g, = lib.autograd.grad(y.sum(), t, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), t)
        res[lib] = (y, g, gg)
    for e, t in zip(res[ember], res[torch]):
        assert_close(e, t, rtol=1e-4, atol=1e-6)


def test_activation_grad_fn_names():
    x = ember.randn(2, 6, requires_grad=True)
    w = ember.randn(6, requires_grad=True)
    names = {"LeakyReluBackward0": EF.leaky_relu(x), "EluBackward0": EF.elu(x),
             "CeluBackward0": EF.celu(x), "GeluBackward0": EF.gelu(x),
             "SiluBackward0": EF.silu(x), "MishBackward0": EF.mish(x),
             "SoftplusBackward0": EF.softplus(x), "HardtanhBackward0": EF.relu6(x),
             "HardswishBackward0": EF.hardswish(x), "LogSigmoidBackward0": EF.logsigmoid(x),
             "ThresholdBackward0": EF.threshold(x, 0.1, 2.0), "GluBackward0": EF.glu(x),
             "PreluKernelBackward0": EF.prelu(x, w), "NativeLayerNormBackward0":
             EF.layer_norm(x, (6,)), "NativeBatchNormBackward0": EF.batch_norm(
                 x, None, None, training=True), "AddmmBackward0": EF.linear(x, w.view(1, 6), w[:1])}
    for name, y in names.items():
        assert y.grad_fn.name() == name


def test_activation_errors_match():
    for lib, F in ((torch, TF), (ember, EF)):
        with pytest.raises(RuntimeError):
            F.glu(lib.ones(3, 5), dim=1)
        with pytest.raises(RuntimeError):
            F.gelu(lib.ones(3), approximate="fast")
        with pytest.raises(RuntimeError):
            F.leaky_relu(lib.ones(3, dtype=lib.int64))
        with pytest.raises(RuntimeError):
            F.prelu(lib.ones(2, 3), lib.ones(4))
        with pytest.raises(TypeError):
            F.relu([1.0, 2.0])
        with pytest.raises(AssertionError):
            lib.nn.Hardtanh(1.0, 0.0)


def test_activation_keeps_float64_and_float32():
    for dt in (ember.float32, ember.float64):
        x = ember.randn(5, dtype=dt)
        for f in (EF.gelu, EF.silu, EF.elu, EF.softplus, EF.mish, EF.hardswish, EF.logsigmoid,
                  EF.leaky_relu, EF.hardtanh, EF.softshrink):
            assert f(x).dtype == dt, f.__name__


def test_softmax_modules_repr():
    for lib in (torch, ember):
        assert repr(lib.nn.Softmax(dim=1)) == "Softmax(dim=1)"
        assert repr(lib.nn.LogSoftmax(dim=-1)) == "LogSoftmax(dim=-1)"
        assert repr(lib.nn.Softmin(dim=0)) == "Softmin(dim=0)"
        assert repr(lib.nn.Softmax2d()) == "Softmax2d()"


@pytest.mark.skipif(not hasattr(EF, "softmax"), reason="F.softmax comes with ember/_ops/nn.py")
@pytest.mark.parametrize("spec", ["Softmax(dim=1)", "LogSoftmax(dim=-1)", "Softmin(dim=1)",
                                  "Softmax2d()"])
def test_softmax_modules(spec):
    run_both(lambda nn: eval("nn." + spec), randn(2, 3, 4, 5))


def test_rrelu_training_slopes_in_range():
    x = ember.tensor(-np.ones((1000,), np.float32))
    y = EF.rrelu(x, 0.1, 0.3, training=True)
    assert float(y.min()) >= -0.3 - 1e-6 and float(y.max()) <= -0.1 + 1e-6
    assert float(y.std()) > 0.01
    pos = ember.ones(10)
    assert_close(EF.rrelu(pos, training=True), torch.ones(10))


# ---------------------------------------------------------------- linear
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,), (2, 2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    emod, tmod = run_both(lambda nn: nn.Linear(4, 3, bias=bias), randn(*shape))
    assert repr(emod) == repr(tmod)


def test_linear_float64_and_errors():
    run_both(lambda nn: nn.Linear(4, 3).double(), randn(2, 4, dtype=np.float64))
    e, t = enn.Linear(4, 5), torch.nn.Linear(4, 5)
    with pytest.raises(RuntimeError) as te:
        t(torch.ones(2, 3))
    with pytest.raises(RuntimeError) as ee:
        e(ember.ones(2, 3))
    assert str(ee.value) == str(te.value) == \
        "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"
    with pytest.raises(RuntimeError) as ee:
        e(ember.ones(2, 2, 3))
    assert "(4x3 and 4x5)" in str(ee.value)
    with pytest.raises(RuntimeError):
        e(ember.ones(2, 4, dtype=ember.float64))
    with pytest.raises(TypeError):
        e([1.0, 2.0, 3.0, 4.0])


def test_linear_functional_grad_fns():
    x = ember.randn(2, 3, 4, requires_grad=True)
    w = ember.randn(5, 4, requires_grad=True)
    b = ember.randn(5, requires_grad=True)
    assert EF.linear(x[0], w, b).grad_fn.name() == "AddmmBackward0"
    y = EF.linear(x, w, b)
    assert y.shape == (2, 3, 5)
    assert_close(y, TF.linear(to_torch(x), to_torch(w), to_torch(b)), rtol=1e-5)


def test_bilinear():
    emod, tmod = run_both(lambda nn: nn.Bilinear(3, 4, 5), randn(6, 3), randn(6, 4))
    assert repr(emod) == repr(tmod)
    run_both(lambda nn: nn.Bilinear(3, 4, 2, bias=False), randn(2, 6, 3), randn(2, 6, 4))


def test_identity_flatten_unflatten():
    run_both(lambda nn: nn.Identity(54, unused="x"), randn(2, 3))
    for spec in ("Flatten()", "Flatten(0, 1)", "Unflatten(1, (2, 3))", "Unflatten(-1, [3, 2])"):
        emod, tmod = run_both(lambda nn: eval("nn." + spec), randn(4, 6, 6))
        assert repr(emod) == repr(tmod)
    for lib in (torch, ember):
        with pytest.raises(TypeError):
            lib.nn.Unflatten(1, (2, 3.0))
        with pytest.raises(TypeError):
            lib.nn.Unflatten(1, 6)


def test_lazy_linear():
    e, t = enn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert e.weight.__class__.__name__ == "UninitializedParameter"
    e(ember.ones(2, 7))
    t(torch.ones(2, 7))
    assert type(e) is enn.Linear and e.weight.shape == (3, 7) and e.bias.shape == (3,)
    assert repr(e) == repr(t)
    bound = 1 / np.sqrt(7)
    assert float(e.bias.abs().max()) <= bound
    lazy = enn.LazyLinear(3)
    lazy.load_state_dict(e.state_dict())
    assert type(lazy) is enn.Linear
    assert_close(lazy(ember.ones(1, 7)), to_torch(e(ember.ones(1, 7))))


# ---------------------------------------------------------------- normalisation
@pytest.mark.parametrize("spec, shape", [
    ("BatchNorm1d(4)", (8, 4)), ("BatchNorm1d(4)", (5, 4, 3)), ("BatchNorm2d(3)", (4, 3, 5, 5)),
    ("BatchNorm3d(2)", (3, 2, 3, 2, 4)), ("BatchNorm2d(3, affine=False)", (4, 3, 2, 2)),
    ("BatchNorm2d(3, momentum=None)", (4, 3, 2, 2)),
    ("BatchNorm1d(4, track_running_stats=False)", (6, 4)),
    ("BatchNorm1d(4, momentum=0.3, eps=1e-3)", (6, 4)),
    ("BatchNorm2d(3, bias=False)", (2, 3, 4, 4)),
])
def test_batchnorm_train_then_eval(spec, shape):
    tmod, emod = eval("torch.nn." + spec), eval("enn." + spec)
    assert repr(emod) == repr(tmod)
    load_from_torch(emod, tmod)
    for step in range(3):  # running statistics over several batches
        x = randn(*shape) * (step + 1) + step
        _, _ = run_both_stateful(emod, tmod, x)
    tmod.eval()
    emod.eval()
    run_both_stateful(emod, tmod, randn(*shape))
    assert_close(emod.num_batches_tracked, tmod.num_batches_tracked) \
        if tmod.num_batches_tracked is not None else None


def run_both_stateful(emod, tmod, x, rtol=1e-4, atol=1e-5):
    """Forward/backward of already-synchronised modules; compare outputs,
    input and parameter gradients, and buffers afterwards."""
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    to, eo = tmod(tx), emod(ex)
    assert_close(eo, to, rtol, atol)
    w = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    (to * torch.tensor(w)).sum().backward()
    (eo * ember.tensor(w)).sum().backward()
    assert_close(ex.grad, tx.grad, rtol, atol)
    ep = dict(emod.named_parameters())
    for name, tp in tmod.named_parameters():
        assert_close(ep[name].grad, tp.grad, rtol, atol)
        ep[name].grad = None
        tp.grad = None
    eb = dict(emod.named_buffers())
    for name, tb in tmod.named_buffers():
        assert_close(eb[name], tb, rtol, atol)
    return eo, to


def test_batchnorm_state_dict_and_eval_without_stats():
    t, e = torch.nn.BatchNorm1d(3), enn.BatchNorm1d(3)
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.state_dict()._metadata == t.state_dict()._metadata
    assert e.num_batches_tracked.dtype == ember.int64
    # eval with track_running_stats=False uses the batch statistics
    run_both(lambda nn: nn.BatchNorm1d(3, track_running_stats=False), randn(5, 3), train=False)
    # an old checkpoint without num_batches_tracked loads (version < 2)
    sd = e.state_dict()
    del sd["num_batches_tracked"]
    sd._metadata[""]["version"] = 1
    assert repr(e.load_state_dict(sd)) == "<All keys matched successfully>"


def test_batchnorm_errors():
    for lib in (torch, ember):
        with pytest.raises(ValueError):
            lib.nn.BatchNorm1d(3)(lib.ones(1, 3))  # one value per channel in training
        with pytest.raises(ValueError):
            lib.nn.BatchNorm2d(3)(lib.ones(2, 3, 4))
        with pytest.raises(RuntimeError):
            lib.nn.BatchNorm1d(3)(lib.ones(4, 5))
        m = lib.nn.BatchNorm1d(3).eval()
        m(lib.ones(1, 3))  # fine in eval


def test_batchnorm_to_double_keeps_counter_int64():
    m = enn.BatchNorm2d(2).double()
    assert m.running_mean.dtype == ember.float64 and m.num_batches_tracked.dtype == ember.int64
    m.to(ember.float32)
    assert m.weight.dtype == ember.float32 and m.num_batches_tracked.dtype == ember.int64


@pytest.mark.parametrize("spec, shape", [
    ("LayerNorm(6)", (4, 6)), ("LayerNorm([3, 6])", (2, 3, 6)),
    ("LayerNorm(6, elementwise_affine=False)", (2, 5, 6)), ("LayerNorm(6, bias=False)", (3, 6)),
    ("LayerNorm(6, eps=1e-2)", (6,)),
    ("GroupNorm(2, 4)", (3, 4, 5)), ("GroupNorm(1, 4)", (2, 4, 3, 3)),
    ("GroupNorm(4, 4, affine=False)", (2, 4, 6)), ("GroupNorm(3, 6)", (2, 6)),
    ("InstanceNorm1d(3)", (2, 3, 7)), ("InstanceNorm2d(3, affine=True)", (2, 3, 4, 5)),
    ("InstanceNorm2d(3)", (3, 4, 5)),
    ("LocalResponseNorm(3)", (2, 5, 4, 4)), ("LocalResponseNorm(2, alpha=0.1, k=2.0)", (2, 4, 6)),
    ("RMSNorm(6)", (3, 6)), ("RMSNorm([2, 6], eps=1e-3)", (4, 2, 6)),
])
def test_normalization_modules(spec, shape):
    x = randn(*shape) * 2 + 0.5
    emod, tmod = run_both(lambda nn: eval("nn." + spec), x, rtol=1e-4, atol=1e-5)
    assert repr(emod) == repr(tmod)


def test_instancenorm_running_stats():
    t = torch.nn.InstanceNorm2d(3, track_running_stats=True, affine=True)
    e = enn.InstanceNorm2d(3, track_running_stats=True, affine=True)
    load_from_torch(e, t)
    for _ in range(2):
        run_both_stateful(e, t, randn(4, 3, 5, 5) * 2 + 1)
    t.eval()
    e.eval()
    run_both_stateful(e, t, randn(2, 3, 5, 5))


@pytest.mark.parametrize("fn", [
    lambda F, x, w, b: F.layer_norm(x, (5,), w, b),
    lambda F, x, w, b: F.group_norm(x.reshape(2, 5, 3), 5, w, b),
    lambda F, x, w, b: F.batch_norm(x.reshape(3, 5, 2), None, None, w, b, training=True),
    lambda F, x, w, b: F.instance_norm(x.reshape(2, 5, 3), weight=w, bias=b),
    lambda F, x, w, b: F.batch_norm(x, (w * 0).detach(), (w * w + 0.5).detach(), w, b),
])
def test_norm_double_backward(fn):
    """create_graph through the fused norms gives torch's second derivatives."""
    x = randn(6, 5).astype(np.float64)
    w, b = randn(5).astype(np.float64), randn(5).astype(np.float64)
    res = {}
    for lib, F in ((torch, TF), (ember, EF)):
        ts = [lib.tensor(a).requires_grad_(True) for a in (x, w, b)]
        y = fn(F, *ts)
        wt = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
        grads = lib.autograd.grad((y * wt).sum(), ts, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), ts, allow_unused=True)
        res[lib] = list(grads) + list(second)
    for e, t in zip(res[ember], res[torch]):
        if t is None:  # the bias's gradient does not depend on the inputs
            assert e is None or float(e.abs().max()) == 0
        else:
            assert_close(e, t, rtol=1e-6, atol=1e-8)


def test_norm_gradcheck():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: EF.layer_norm(x, (4,), w, b), (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w, b: EF.batch_norm(x, None, None, w, b, True),
                                    (x, w, b))


def test_norm_errors():
    for lib, F in ((torch, TF), (ember, EF)):
        with pytest.raises(RuntimeError):
            F.layer_norm(lib.ones(2, 3), (4,))
        with pytest.raises(RuntimeError):
            F.group_norm(lib.ones(2, 6, 4), 4)
        with pytest.raises(ValueError):
            lib.nn.GroupNorm(4, 6)
        with pytest.raises(ValueError):
            lib.nn.InstanceNorm2d(3)(lib.ones(2, 3, 1, 1))
        with pytest.raises(ValueError):
            lib.nn.InstanceNorm1d(3, affine=True)(lib.ones(2, 4, 5))
    with pytest.raises(RuntimeError) as e:
        EF.layer_norm(ember.ones(2, 3), (4,))
    assert str(e.value) == ("Given normalized_shape=[4], expected input with shape [*, 4], but got "
                            "input of size[2, 3]")


def test_layernorm_does_not_alias_saved_state():
    """The output can be modified in place without corrupting the gradient."""
    x = ember.tensor(randn(3, 4), requires_grad=True)
    y = EF.layer_norm(x, (4,))
    ref = ember.tensor(randn(3, 4))
    (y * ref).sum().backward(retain_graph=True)
    g1 = x.grad.clone()
    x.grad = None
    y2 = EF.layer_norm(x, (4,))
    z = y2 * ref
    y2.detach().add_(100.0)
    z.sum().backward()
    assert_close(x.grad, to_torch(g1))


# ---------------------------------------------------------------- dropout
def test_dropout_train_and_eval():
    ember.manual_seed(0)
    x = ember.ones(200, 100)
    d = enn.Dropout(0.3)
    assert repr(d) == repr(torch.nn.Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"
    y = d(x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.02
    assert_close(y[y != 0], torch.full((int((y != 0).sum()),), 1 / 0.7), rtol=1e-6)
    d.eval()
    assert d(x) is x
    # gradient flows through the same mask
    xr = ember.ones(50, 40, requires_grad=True)
    d.train()
    out = d(xr)
    out.sum().backward()
    assert_close(xr.grad, to_torch(out.detach()))
    assert out.grad_fn.name() == "MulBackward0"


def test_dropout_variants():
    ember.manual_seed(1)
    x = ember.ones(8, 16, 5, 5)
    y = EF.dropout2d(x, 0.5)
    per_channel = y.reshape(8, 16, -1)
    assert bool(((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all())
    y1 = EF.dropout1d(ember.ones(4, 16, 9), 0.5)
    assert bool(((y1 == 0).all(-1) | (y1 == 2).all(-1)).all())
    y3 = EF.dropout3d(ember.ones(2, 16, 2, 3, 3), 0.5)
    assert bool(((y3.reshape(2, 16, -1) == 0).all(-1) | (y3.reshape(2, 16, -1) == 2).all(-1)).all())
    assert EF.dropout(x, 0.5, training=False) is x
    assert float(EF.dropout(x, 1.0).abs().sum()) == 0
    z = x.clone()
    assert EF.dropout(z, 0.5, inplace=True) is z
    with pytest.raises(RuntimeError):
        EF.dropout1d(ember.ones(2, 3, 4, 5), 0.5)
    for lib in (torch, ember):
        with pytest.raises(ValueError):
            lib.nn.Dropout(1.5)
        with pytest.raises(ValueError):
            lib.nn.functional.dropout(lib.ones(2), -0.1)


def test_alpha_dropout_keeps_statistics():
    ember.manual_seed(2)
    x = ember.randn(400, 500)
    y = EF.alpha_dropout(x, 0.2, training=True)
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1) < 0.02
    assert EF.alpha_dropout(x, 0.2, training=False) is x
    assert repr(enn.AlphaDropout(0.2)) == repr(torch.nn.AlphaDropout(0.2))
    f = EF.feature_alpha_dropout(ember.randn(50, 40, 6), 0.5, training=True)
    assert f.shape == (50, 40, 6)


def test_dropout_reproducible_with_seed():
    ember.manual_seed(7)
    a = EF.dropout(ember.ones(100), 0.5)
    ember.manual_seed(7)
    b = EF.dropout(ember.ones(100), 0.5)
    assert bool((a == b).all())


# ---------------------------------------------------------------- embedding
def test_embedding_against_torch():
    idx = np.array([[1, 2, 4], [4, 3, 0]], np.int64)
    emod, tmod = run_both(lambda nn: nn.Embedding(5, 3), idx)
    assert repr(emod) == repr(tmod)
    emod, tmod = run_both(lambda nn: nn.Embedding(5, 3, padding_idx=0), idx)
    assert repr(emod) == repr(tmod) == "Embedding(5, 3, padding_idx=0)"
    assert float(emod.weight.grad[0].abs().sum()) == 0
    run_both(lambda nn: nn.Embedding(5, 3, padding_idx=-1, scale_grad_by_freq=True), idx)


def test_embedding_init_and_padding_row():
    ember.manual_seed(0)
    e = enn.Embedding(2000, 50, padding_idx=3)
    assert float(e.weight[3].abs().sum()) == 0
    w = e.weight.detach().numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_embedding_max_norm():
    w = randn(6, 4) * 3
    idx = np.array([0, 2, 2, 5], np.int64)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w), max_norm=1.0)
    e = enn.Embedding.from_pretrained(ember.tensor(w), max_norm=1.0)
    assert_close(e(ember.tensor(idx)), t(torch.tensor(idx)), rtol=1e-5)
    assert_close(e.weight, t.weight, rtol=1e-5)
    assert repr(e) == repr(t)


def test_embedding_from_pretrained():
    w = ember.tensor(randn(4, 3))
    e = enn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad
    assert e.weight.data_ptr() == w.data_ptr()
    e2 = enn.Embedding.from_pretrained(w, freeze=False, padding_idx=1)
    assert e2.weight.requires_grad and e2.padding_idx == 1
    out = e2(ember.tensor([1, 2]))
    out.sum().backward()
    assert float(e2.weight.grad[1].abs().sum()) == 0 and float(e2.weight.grad[2].sum()) == 3


def test_embedding_errors():
    for lib in (torch, ember):
        e = lib.nn.Embedding(4, 2)
        with pytest.raises(IndexError):
            e(lib.tensor([4]))
        with pytest.raises(RuntimeError):
            e(lib.tensor([1.0]))
        with pytest.raises(AssertionError):
            lib.nn.Embedding(4, 2, padding_idx=4)
        with pytest.raises(AssertionError):
            lib.nn.Embedding.from_pretrained(lib.ones(3))


def test_one_hot():
    x = np.array([[0, 2], [1, 3]], np.int64)
    for n in (-1, 5):
        assert_close(EF.one_hot(ember.tensor(x), n), TF.one_hot(torch.tensor(x), n))
    for lib, F in ((torch, TF), (ember, EF)):
        with pytest.raises(RuntimeError):
            F.one_hot(lib.tensor([0, 3]), 3)
        with pytest.raises(RuntimeError):
            F.one_hot(lib.tensor([-1, 1]), 3)
        with pytest.raises(RuntimeError):
            F.one_hot(lib.tensor([0.0, 1.0]))


# ---------------------------------------------------------------- distances
@pytest.mark.parametrize("fn", [
    lambda F, a, b: F.normalize(a),
    lambda F, a, b: F.normalize(a, p=1, dim=0),
    lambda F, a, b: F.cosine_similarity(a, b),
    lambda F, a, b: F.cosine_similarity(a, b, dim=0, eps=1e-3),
    lambda F, a, b: F.pairwise_distance(a, b),
    lambda F, a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True),
])
def test_distance_functions(fn):
    a, b = randn(4, 5), randn(4, 5)
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    eo, to = fn(EF, ea, eb), fn(TF, ta, tb)
    assert_close(eo, to, rtol=1e-5, atol=1e-6)
    to.sum().backward()
    eo.sum().backward()
    assert_close(ea.grad, ta.grad, rtol=1e-4, atol=1e-6)
    if tb.grad is not None:
        assert_close(eb.grad, tb.grad, rtol=1e-4, atol=1e-6)


def test_cosine_similarity_zero_vector():
    z = np.zeros((2, 3), np.float32)
    assert_close(EF.cosine_similarity(ember.tensor(z), ember.tensor(z + 1)),
                 TF.cosine_similarity(torch.tensor(z), torch.tensor(z + 1)))


# ---------------------------------------------------------------- default initialisation
def test_default_init_distributions():
    ember.manual_seed(0)
    lin = enn.Linear(400, 300)
    bound = 1 / np.sqrt(400)  # kaiming_uniform(a=sqrt(5)) gives the same bound as the bias
    w = lin.weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    b = lin.bias.detach().numpy()
    assert b.min() >= -bound and b.max() <= bound and b.std() > 0.4 * bound
    bil = enn.Bilinear(20, 30, 40)
    assert float(bil.weight.abs().max()) <= 1 / np.sqrt(20)
    p = enn.PReLU(3, init=0.1)
    assert_close(p.weight, torch.full((3,), 0.1))
    assert repr(p) == repr(torch.nn.PReLU(3)) == "PReLU(num_parameters=3)"
    bn = enn.BatchNorm1d(3)
    assert_close(bn.weight, torch.ones(3))
    assert_close(bn.bias, torch.zeros(3))


def test_modules_dtype_and_device_args():
    m = enn.Linear(3, 2, dtype=ember.float64, device="cpu")
    assert m.weight.dtype == ember.float64 and m.bias.dtype == ember.float64
    assert enn.LayerNorm(3, dtype=ember.float64).weight.dtype == ember.float64
    assert enn.BatchNorm1d(3, dtype=ember.float64).running_var.dtype == ember.float64


def test_warnings_are_torchs():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        EF.dropout2d(ember.ones(2, 3, 4), 0.5)
    assert any("dropout2d" in str(x.message) for x in w)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kind", ["offsets", "2d", "last_offset", "padding", "empty_bag"])
def test_embedding_bag(mode, kind):
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9], np.int64)
    kwargs, call_args = {}, {}
    offsets = np.array([0, 2, 5], np.int64)
    if kind == "2d":
        idx = idx.reshape(2, 4)
        offsets = None
    elif kind == "last_offset":
        kwargs["include_last_offset"] = True
        offsets = np.array([0, 3, 8], np.int64)
    elif kind == "padding":
        kwargs["padding_idx"] = 2
    elif kind == "empty_bag":
        offsets = np.array([0, 3, 3, 8], np.int64)

    def call(m, x):
        lib = ember if isinstance(x, ember.Tensor) else torch
        off = None if offsets is None else lib.tensor(offsets)
        return m(x, off)

    emod, tmod = run_both(lambda nn: nn.EmbeddingBag(10, 3, mode=mode, **kwargs), idx, call=call)
    assert repr(emod) == repr(tmod)


def test_embedding_bag_per_sample_weights_and_errors():
    idx = np.array([1, 2, 4, 5], np.int64)
    w = np.array([0.5, 2.0, -1.0, 3.0], np.float32)
    t = torch.nn.EmbeddingBag(6, 2, mode="sum")
    e = enn.EmbeddingBag(6, 2, mode="sum")
    load_from_torch(e, t)
    tw, ew = torch.tensor(w, requires_grad=True), ember.tensor(w, requires_grad=True)
    to = t(torch.tensor(idx), torch.tensor([0, 1]), per_sample_weights=tw)
    eo = e(ember.tensor(idx), ember.tensor([0, 1]), per_sample_weights=ew)
    assert_close(eo, to)
    to.sum().backward()
    eo.sum().backward()
    assert_close(ew.grad, tw.grad)
    assert_close(e.weight.grad, t.weight.grad)
    for lib in (torch, ember):
        m = lib.nn.EmbeddingBag(6, 2)
        with pytest.raises(ValueError):
            m(lib.tensor([1, 2]))
        with pytest.raises(ValueError):
            m(lib.tensor([[1, 2]]), lib.tensor([0]))
        with pytest.raises(NotImplementedError):
            m(lib.tensor([1, 2]), lib.tensor([0]), per_sample_weights=lib.ones(2))


def test_pdist_and_distance_modules():
    x = randn(5, 3)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for p in (2, 1, 3.0):
        eo, to = EF.pdist(ex, p), TF.pdist(tx, p)
        assert_close(eo, to, rtol=1e-5)
    eo.sum().backward()
    to.sum().backward()
    assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-6)
    a, b = randn(4, 6), randn(4, 6)
    for spec in ("PairwiseDistance()", "PairwiseDistance(p=1.0, keepdim=True)",
                 "CosineSimilarity()", "CosineSimilarity(dim=0, eps=1e-6)"):
        emod, tmod = run_both(lambda nn: eval("nn." + spec), a, b)
        assert repr(emod) == repr(tmod)


@pytest.mark.skipif(not hasattr(EF, "softmax"), reason="F.softmax comes with ember/_ops/nn.py")
def test_gumbel_softmax():
    ember.manual_seed(0)
    logits = ember.tensor(randn(500, 4), requires_grad=True)
    soft = EF.gumbel_softmax(logits, tau=0.5)
    assert_close(soft.sum(-1), torch.ones(500), rtol=1e-5)
    hard = EF.gumbel_softmax(logits, hard=True)
    assert bool(((hard == 0) | (hard == 1)).all()) and bool((hard.sum(-1) == 1).all())
    (hard * ember.arange(4.0)).sum().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0

"""nn.init: statistics of the initialisers over large tensors (against
torch's formulas and torch's own draws), fans and gains, errors; nothing
records a graph."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from ember.nn import init
from oracle import assert_close


def big(*shape, requires_grad=True):
    return enn.Parameter(ember.empty(*shape), requires_grad=requires_grad)


def stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)])
def test_calculate_gain(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == \
        torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_errors():
    for lib in (torch.nn.init, init):
        with pytest.raises(ValueError):
            lib.calculate_gain("swish")
        with pytest.raises(ValueError):
            lib.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (6, 2, 3, 3), (2, 3, 1, 2, 2)])
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_error():
    for lib, L in ((torch.nn.init, torch), (init, ember)):
        with pytest.raises(ValueError):
            lib._calculate_fan_in_and_fan_out(L.empty(3))


def test_uniform_normal_constant():
    t = big(400, 500)
    init.uniform_(t, -2.0, 3.0)
    m, s, lo, hi = stats(t)
    assert lo >= -2 and hi <= 3 and abs(m - 0.5) < 0.02 and abs(s - 5 / math.sqrt(12)) < 0.02
    init.normal_(t, 1.5, 0.5)
    m, s, _, _ = stats(t)
    assert abs(m - 1.5) < 0.01 and abs(s - 0.5) < 0.01
    init.constant_(t, 0.25)
    assert float(t.min()) == float(t.max()) == 0.25
    init.ones_(t)
    assert float(t.sum()) == t.numel()
    init.zeros_(t)
    assert float(t.abs().sum()) == 0
    assert t.grad_fn is None and t.requires_grad and t.is_leaf


@pytest.mark.parametrize("a, b, mean, std", [(-2.0, 2.0, 0.0, 1.0), (-0.5, 0.1, 0.0, 1.0),
                                              (0.0, 3.0, 1.0, 0.5)])
def test_trunc_normal_matches_torch_distribution(a, b, mean, std):
    e, t = big(300, 400), torch.empty(300, 400)
    init.trunc_normal_(e, mean, std, a, b)
    torch.nn.init.trunc_normal_(t, mean, std, a, b)
    em, es, elo, ehi = stats(e)
    tm, ts = t.mean().item(), t.std().item()
    assert elo >= a and ehi <= b
    assert abs(em - tm) < 0.02 * (b - a) and abs(es - ts) < 0.02 * (b - a)


def test_trunc_normal_warns_far_mean():
    with pytest.warns(UserWarning):
        init.trunc_normal_(big(10), mean=10.0, std=1.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_xavier(shape):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    std = math.sqrt(2.0 / (fan_in + fan_out))
    t = big(*shape)
    init.xavier_uniform_(t, gain=2.0)
    m, s, lo, hi = stats(t)
    bound = math.sqrt(3.0) * 2.0 * std
    assert lo >= -bound and hi <= bound and abs(s - 2 * std) < 0.03 * 2 * std and abs(m) < 0.01
    init.xavier_normal_(t)
    m, s, _, _ = stats(t)
    assert abs(s - std) < 0.03 * std


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0), ("leaky_relu", math.sqrt(5)),
                                             ("tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (128, 64, 3, 3)
    t = big(*shape)
    fan = init._calculate_correct_fan(t, mode)
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    m, s, lo, hi = stats(t)
    bound = math.sqrt(3.0) * std
    assert lo >= -bound and hi <= bound and abs(s - std) < 0.03 * std
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    m, s, _, _ = stats(t)
    assert abs(s - std) < 0.03 * std and abs(m) < 0.03 * std


def test_kaiming_errors_and_empty():
    for lib, L in ((torch.nn.init, torch), (init, ember)):
        with pytest.raises(ValueError):
            lib.kaiming_uniform_(L.empty(3, 4), mode="fan_avg")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.kaiming_normal_(L.empty(0, 3))
        assert any("zero-element" in str(x.message) for x in w)


def test_eye_and_dirac_match_torch():
    e, t = big(3, 5), torch.empty(3, 5)
    assert_close(init.eye_(e).detach(), torch.nn.init.eye_(t))
    for shape, groups in (((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((4, 4, 3, 3, 3), 1)):
        e, t = ember.empty(*shape), torch.empty(*shape)
        assert_close(init.dirac_(e, groups), torch.nn.init.dirac_(t, groups))
    for lib, L in ((torch.nn.init, torch), (init, ember)):
        with pytest.raises(ValueError):
            lib.eye_(L.empty(2, 2, 2))
        with pytest.raises(ValueError):
            lib.dirac_(L.empty(2, 2))
        with pytest.raises(ValueError):
            lib.dirac_(L.empty(3, 2, 2), groups=2)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    t = big(*shape)
    init.orthogonal_(t, gain=2.0)
    a = t.detach().numpy().reshape(shape[0], -1).astype(np.float64)
    rows, cols = a.shape
    gram = a @ a.T if rows <= cols else a.T @ a
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError):
        init.orthogonal_(ember.empty(3))


def test_sparse():
    t = big(10, 400)
    init.sparse_(t, sparsity=0.3, std=0.5)
    a = t.detach().numpy()
    assert ((a == 0).sum(axis=0) >= 3).all()
    assert abs(a[a != 0].std() - 0.5) < 0.05
    with pytest.raises(ValueError):
        init.sparse_(ember.empty(3), 0.1)


def test_generator_makes_init_reproducible():
    g = ember.Generator().manual_seed(5)
    a = init.kaiming_uniform_(ember.empty(4, 4), generator=g).clone()
    g.manual_seed(5)
    b = init.kaiming_uniform_(ember.empty(4, 4), generator=g)
    assert bool((a == b).all())


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning):
        init.uniform(ember.empty(2))
    with pytest.warns(FutureWarning):
        init.xavier_normal(ember.empty(2, 2))


def test_init_inside_autograd_keeps_leaf():
    p = big(3, 3)
    with ember.enable_grad():
        for f in (init.uniform_, init.normal_, init.xavier_uniform_, init.orthogonal_,
                  init.eye_, init.zeros_, init.trunc_normal_):
            f(p)
            assert p.grad_fn is None and p.requires_grad

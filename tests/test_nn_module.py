"""nn.Module machinery against torch: registration, iteration order,
state_dict round trips and errors, conversion, hooks, containers, reprs,
pickling, and nn.utils."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from oracle import assert_close, to_ember, to_torch


def both(make):
    return make(torch.nn), make(enn)


def net(nn):
    """A nested model: Sequential, ModuleList, ModuleDict, a shared layer,
    buffers persistent or not, a parameter set to None."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.register_buffer("count", (torch if nn is torch.nn else ember).zeros(2))
            self.register_buffer("scratch", (torch if nn is torch.nn else ember).ones(1),
                                 persistent=False)
            self.register_parameter("unused", None)

        def forward(self, x):
            return self.fc(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
            self.blocks = nn.ModuleList([Block(), Block()])
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Linear(3, 1)})
            self.shared = self.blocks[0].fc
            self.scale = nn.Parameter((torch if nn is torch.nn else ember).ones(1))

        def forward(self, x):
            x = self.stem(x)
            for b in self.blocks:
                x = b(x)
            return self.heads["a"](x) * self.scale

    return Net()


def sync(e, t):
    e.load_state_dict({k: to_ember(v) for k, v in t.state_dict().items()})


# ---------------------------------------------------------------- iteration
def test_names_and_order_match_torch():
    t, e = both(net)
    for fn in ("named_parameters", "named_buffers", "named_modules"):
        assert [n for n, _ in getattr(e, fn)()] == [n for n, _ in getattr(t, fn)()], fn
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]
    assert [n for n, _ in e.named_modules(prefix="root")] == \
        [n for n, _ in t.named_modules(prefix="root")]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.buffers())) == len(list(t.buffers()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert all(isinstance(p, enn.Parameter) for p in e.parameters())


def test_shared_parameter_counted_once():
    for nn in (torch.nn, enn):
        a = nn.Linear(2, 2)
        s = nn.Sequential(a, a)
        assert len(list(s.parameters())) == 2
        assert len(list(s.named_modules())) == 2
        assert len(list(s.named_modules(remove_duplicate=False))) == 3


def test_state_dict_keys_order_and_metadata():
    t, e = both(net)
    tsd, esd = t.state_dict(), e.state_dict()
    assert list(esd) == list(tsd)
    assert esd._metadata == tsd._metadata
    assert type(esd) is OrderedDict
    assert not any(v.requires_grad for v in esd.values())
    assert all(v.requires_grad for k, v in e.state_dict(keep_vars=True).items()
               if k.endswith("weight"))
    assert list(e.state_dict(prefix="p.")) == list(t.state_dict(prefix="p."))
    dest = OrderedDict()
    assert e.state_dict(destination=dest) is dest


def test_load_state_dict_round_trip_and_forward():
    t, e = both(net)
    sync(e, t)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)), rtol=1e-5)
    # and back: ember's state dict loads into torch
    t2 = net(torch.nn)
    t2.load_state_dict({k: to_torch(v) for k, v in e.state_dict().items()})
    assert_close(e(ember.tensor(x)), t2(torch.tensor(x)), rtol=1e-5)


def test_load_state_dict_errors_match_torch():
    pairs = [
        (lambda nn: nn.Linear(4, 5), lambda nn: nn.Linear(3, 5)),
        (lambda nn: nn.Linear(4, 5), lambda nn: nn.Linear(4, 5, bias=False)),
        (lambda nn: nn.Sequential(nn.Linear(2, 2)), lambda nn: nn.Sequential(nn.Linear(2, 2),
                                                                               nn.Linear(2, 3))),
        (lambda nn: nn.BatchNorm1d(3), lambda nn: nn.BatchNorm1d(4)),
    ]
    for target, source in pairs:
        (tt, et), (ts, es) = both(target), both(source)
        with pytest.raises(RuntimeError) as te:
            tt.load_state_dict(ts.state_dict())
        with pytest.raises(RuntimeError) as ee:
            et.load_state_dict(es.state_dict())
        assert str(ee.value) == str(te.value)
        # non-strict: the same incompatible keys, printed the same
        try:
            tr = repr(tt.load_state_dict(ts.state_dict(), strict=False))
        except RuntimeError as err:  # size mismatches fail even when not strict
            with pytest.raises(RuntimeError) as ee:
                et.load_state_dict(es.state_dict(), strict=False)
            assert str(ee.value) == str(err)
        else:
            assert repr(et.load_state_dict(es.state_dict(), strict=False)) == tr


def test_load_state_dict_values_and_types():
    e = enn.Linear(2, 2)
    with pytest.raises(TypeError):
        e.load_state_dict([("weight", ember.zeros(2, 2))])
    with pytest.raises(RuntimeError) as err:
        e.load_state_dict({"weight": [[0.0, 0.0], [0.0, 0.0]], "bias": ember.zeros(2)})
    assert "expected torch.Tensor or Tensor-like object from checkpoint" in str(err.value)
    r = e.load_state_dict({"weight": ember.ones(2, 2), "bias": ember.zeros(2)})
    assert repr(r) == "<All keys matched successfully>" and r.missing_keys == []
    w = e.weight
    assert w is e.weight and float(w.sum()) == 4 and w.requires_grad
    # assign=True takes the given tensors as the parameters
    new = ember.full((2, 2), 3.0)
    e.load_state_dict({"weight": new, "bias": ember.zeros(2)}, assign=True)
    assert isinstance(e.weight, enn.Parameter) and e.weight.requires_grad
    assert e.weight.data_ptr() == new.data_ptr()
    # a 0-d buffer accepts a 1-element checkpoint value
    bn = enn.BatchNorm1d(2)
    sd = bn.state_dict()
    sd["num_batches_tracked"] = ember.tensor([5])
    bn.load_state_dict(sd)
    assert int(bn.num_batches_tracked) == 5


def test_incompatible_keys_repr():
    from ember.nn.modules.module import _IncompatibleKeys
    from torch.nn.modules.module import _IncompatibleKeys as T
    for m, u in (([], []), (["a"], []), (["a"], ["b.c"])):
        assert repr(_IncompatibleKeys(m, u)) == repr(T(m, u))


def test_state_dict_hooks():
    e = enn.Linear(2, 2)
    seen = []
    e.register_state_dict_pre_hook(lambda m, prefix, keep_vars: seen.append(prefix))
    e.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd.update({"extra": 1}))
    e.register_load_state_dict_post_hook(lambda m, keys: seen.append(list(keys.missing_keys)))
    sd = e.state_dict()
    assert sd["extra"] == 1 and seen == [""]
    del sd["extra"]
    del sd["bias"]
    e.load_state_dict(sd, strict=False)
    assert seen[-1] == ["bias"]


def test_extra_state():
    class WithState(enn.Module):
        def __init__(self):
            super().__init__()
            self.value = 1

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state):
            self.value = state["value"]

    m = enn.Sequential(WithState())
    sd = m.state_dict()
    assert list(sd) == ["0._extra_state"]
    sd["0._extra_state"] = {"value": 7}
    m.load_state_dict(sd)
    assert m[0].value == 7
    with pytest.raises(RuntimeError):
        m.load_state_dict({})


# ---------------------------------------------------------------- registration
def test_registration_errors_match_torch():
    cases = [
        lambda nn, L: nn.Linear(2, 2).register_buffer("a.b", L.ones(1)),
        lambda nn, L: nn.Linear(2, 2).register_buffer("", L.ones(1)),
        lambda nn, L: nn.Linear(2, 2).register_buffer("weight", L.ones(1)),
        lambda nn, L: nn.Linear(2, 2).register_buffer("x", [1.0]),
        lambda nn, L: nn.Linear(2, 2).register_buffer(3, L.ones(1)),
        lambda nn, L: nn.Linear(2, 2).register_parameter("w", L.ones(1)),
        lambda nn, L: nn.Linear(2, 2).register_parameter("a.b", None),
        lambda nn, L: nn.Linear(2, 2).register_parameter("training", None),
        lambda nn, L: nn.Linear(2, 2).add_module("a.b", nn.ReLU()),
        lambda nn, L: nn.Linear(2, 2).add_module("x", 3),
        lambda nn, L: nn.Linear(2, 2).add_module("weight", nn.ReLU()),
        lambda nn, L: setattr(nn.Linear(2, 2), "weight", L.ones(2, 2)),
        lambda nn, L: setattr(nn.Sequential(nn.ReLU()), "0", 3),
        lambda nn, L: nn.Linear(2, 2).get_submodule("nope"),
        lambda nn, L: nn.Sequential(nn.Linear(2, 2)).get_submodule("0.weight"),
        lambda nn, L: nn.Sequential(nn.Linear(2, 2)).get_parameter("0.nope"),
        lambda nn, L: nn.Sequential(nn.BatchNorm1d(2)).get_parameter("0.running_mean"),
        lambda nn, L: nn.Sequential(nn.BatchNorm1d(2)).get_buffer("0.weight"),
        lambda nn, L: getattr(nn.Linear(2, 2), "nope"),
    ]
    for case in cases:
        with pytest.raises(Exception) as te:
            case(torch.nn, torch)
        with pytest.raises(type(te.value)) as ee:
            case(enn, ember)
        assert str(ee.value) == str(te.value)


def test_assignment_before_init_and_replacement():
    class Bad(enn.Module):
        def __init__(self):
            self.fc = enn.Linear(1, 1)

    with pytest.raises(AttributeError) as e:
        Bad()
    assert str(e.value) == "cannot assign module before Module.__init__() call"
    m = enn.Linear(2, 2)
    m.weight = None
    assert m.weight is None and "weight" in m._parameters
    m.weight = enn.Parameter(ember.ones(2, 2))
    m.foo = enn.ReLU()
    assert "foo" in m._modules
    m.foo = enn.Parameter(ember.ones(1))  # replaces the module with a parameter
    assert "foo" not in m._modules and "foo" in m._parameters
    del m.foo
    assert not hasattr(m, "foo")
    m.register_buffer("buf", ember.zeros(1), persistent=False)
    m.buf = ember.ones(3)  # stays a non-persistent buffer
    assert "buf" in m._buffers and "buf" not in m.state_dict()
    m.b2 = enn.Buffer(ember.ones(2), persistent=False)
    assert "b2" in m._buffers and "b2" not in m.state_dict()
    with pytest.raises(TypeError):
        m.buf = 3
    del m.buf
    assert "buf" not in m._buffers and "buf" not in m._non_persistent_buffers_set
    assert "weight" in dir(m) and "b2" in dir(m)


def test_module_init_arguments():
    for nn in (torch.nn, enn):
        with pytest.raises(TypeError) as e:
            nn.Module(3)
        with pytest.raises(TypeError):
            nn.Module(x=3)
    with pytest.raises(NotImplementedError) as e:
        enn.Module()(1)
    assert str(e.value) == 'Module [Module] is missing the required "forward" function'


def test_set_submodule_and_get():
    e = enn.Sequential(enn.Linear(2, 2), enn.Sequential(enn.ReLU()))
    e.set_submodule("1.0", enn.Tanh())
    assert isinstance(e[1][0], enn.Tanh)
    assert e.get_submodule("1.0") is e[1][0]
    assert e.get_parameter("0.weight") is e[0].weight
    bn = enn.Sequential(enn.BatchNorm1d(2))
    assert bn.get_buffer("0.running_mean") is bn[0].running_mean
    with pytest.raises(ValueError):
        e.set_submodule("", enn.ReLU())


# ---------------------------------------------------------------- modes and conversion
def test_train_eval_recurse():
    t, e = both(net)
    e.eval()
    assert not any(m.training for m in e.modules())
    e.train()
    assert all(m.training for m in e.modules())
    assert e.train(False) is e and not e.training
    with pytest.raises(ValueError):
        e.train("yes")


def test_to_keeps_parameter_identity_and_moves_grads():
    e = net(enn)
    params = list(e.parameters())
    e(ember.ones(2, 4)).sum().backward()
    params = [p for p in params if p.grad is not None]
    grads = [p.grad for p in params]
    assert e.double() is e
    assert {id(p) for p in e.parameters()} >= {id(p) for p in params}
    assert all(p.dtype == ember.float64 for p in e.parameters())
    assert all(g.dtype == ember.float64 for g in grads)
    assert all(p.grad is g for p, g in zip(params, grads))
    assert e.blocks[0].count.dtype == ember.float64
    e.to(ember.float32)
    assert all(p.dtype == ember.float32 for p in params)
    e.half().float()
    e.to(ember.ones(1, dtype=ember.float64))
    assert params[0].dtype == ember.float64
    e.to("cpu", dtype=ember.float32)
    e.cpu().type(ember.float64)
    assert params[0].dtype == ember.float64
    with pytest.raises(TypeError):
        e.to(ember.int64)
    out = e(ember.ones(2, 4, dtype=ember.float64))
    assert out.dtype == ember.float64


def test_zero_grad_and_requires_grad():
    e = enn.Linear(3, 2)
    e(ember.ones(1, 3)).sum().backward()
    e.zero_grad(set_to_none=False)
    assert float(e.weight.grad.abs().sum()) == 0 and e.weight.grad is not None
    e.zero_grad()
    assert e.weight.grad is None and e.bias.grad is None
    assert e.requires_grad_(False) is e
    assert not any(p.requires_grad for p in e.parameters())


def test_apply():
    e = enn.Sequential(enn.Linear(2, 2), enn.Sequential(enn.Linear(2, 2)))
    seen = []

    def init(m):
        seen.append(type(m).__name__)
        if isinstance(m, enn.Linear):
            enn.init.constant_(m.weight, 0.5)

    assert e.apply(init) is e
    assert seen == ["Linear", "Linear", "Sequential", "Sequential"]
    assert float(e[1][0].weight.sum()) == 2.0


# ---------------------------------------------------------------- hooks
def test_forward_hooks_match_torch():
    def run(nn, L):
        m = nn.Linear(2, 2)
        with L.no_grad():
            m.weight.copy_(L.tensor([[1.0, 2.0], [3.0, 4.0]]))
            m.bias.zero_()
        log = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m.register_forward_pre_hook(lambda mod, args: log.append("first"), prepend=True)
        m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, kwargs, out: log.append(sorted(kwargs)),
                                with_kwargs=True)
        m.register_forward_pre_hook(lambda mod, args, kwargs: (args, kwargs), with_kwargs=True)
        y1 = m(L.ones(1, 2))
        h1.remove()
        y2 = m(L.ones(1, 2))
        return y1, y2, log

    (ty1, ty2, tlog), (ey1, ey2, elog) = run(torch.nn, torch), run(enn, ember)
    assert_close(ey1, ty1)
    assert_close(ey2, ty2)
    assert elog == tlog


def test_always_call_hook_runs_on_error():
    class Boom(enn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError):
        m(ember.ones(1))
    assert seen == [None]


def test_full_backward_hooks_match_torch():
    def run(nn, L):
        m = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
        with L.no_grad():
            m[0].weight.copy_(L.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
            m[0].bias.fill_(0.1)
        log = []

        def hook(mod, gin, gout):
            log.append(("hook", [None if g is None else g.detach().numpy().copy() for g in gin],
                        [g.detach().numpy().copy() for g in gout]))
            return (gin[0] * 2,)

        def pre(mod, gout):
            log.append(("pre", [g.detach().numpy().copy() for g in gout]))
            return (gout[0] * 3,)

        m[0].register_full_backward_hook(hook)
        m[0].register_full_backward_pre_hook(pre)
        x = L.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        m(x).sum().backward()
        return x.grad, m[0].weight.grad, log

    (txg, twg, tlog), (exg, ewg, elog) = run(torch.nn, torch), run(enn, ember)
    assert_close(exg, txg)
    assert_close(ewg, twg)
    assert [x[0] for x in elog] == [x[0] for x in tlog]
    for e, t in zip(elog, tlog):
        for ea, ta in zip(e[1:], t[1:]):
            for a, b in zip(ea, ta):
                np.testing.assert_allclose(a, b, rtol=1e-6)


def test_backward_hook_without_input_grad_and_mixing_errors():
    m = enn.Linear(2, 2)
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, len(gout))))
    with pytest.warns(UserWarning):
        m(ember.ones(1, 2)).sum().backward()
    assert seen[0][0] == (None,) and seen[0][1] == 1
    with pytest.raises(RuntimeError):
        m.register_backward_hook(lambda *a: None)
    handle_module = enn.Linear(2, 2)
    calls = []
    h = handle_module.register_backward_hook(lambda mod, gin, gout: calls.append(len(gin)))
    handle_module(ember.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls
    h.remove()
    handle_module(ember.ones(1, 2, requires_grad=True)).sum().backward()
    assert len(calls) == 1


def test_global_forward_hook():
    from ember.nn.modules.module import register_module_forward_hook
    seen = []
    h = register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__))
    try:
        enn.Sequential(enn.ReLU())(ember.ones(1))
    finally:
        h.remove()
    enn.ReLU()(ember.ones(1))
    assert seen == ["ReLU", "Sequential"]


# ---------------------------------------------------------------- reprs
def test_reprs_match_torch():
    makers = [
        net,
        lambda nn: nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU()]),
        lambda nn: nn.ModuleList(),
        lambda nn: nn.Sequential(OrderedDict([("fc1", nn.Linear(100, 20)), ("act", nn.ReLU())])),
        lambda nn: nn.Sequential(),
        lambda nn: nn.ModuleDict({"x": nn.Linear(1, 1)}),
        lambda nn: nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1)), nn.Flatten()),
    ]
    for make in makers:
        t, e = both(make)
        assert repr(e) == repr(t)


def test_parameter_containers_repr():
    def make(nn):
        L = torch if nn is torch.nn else ember
        return nn.ParameterList([nn.Parameter(L.ones(2, 3)), L.zeros(4), "s"]), \
            nn.ParameterDict({"b": nn.Parameter(L.ones(2)), "a": L.zeros(3, dtype=L.float64)})
    (tl, td), (el, ed) = both(make)
    assert repr(el) == repr(tl)
    assert repr(ed) == repr(td)


def test_extra_repr_multiline():
    class M(enn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    class T(torch.nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    e, t = M(), T()
    e.child, t.child = enn.ReLU(), torch.nn.ReLU()
    assert repr(e).replace("M(", "X(") == repr(t).replace("T(", "X(")


def test_parameter_repr_and_semantics():
    assert repr(enn.Parameter(ember.tensor([1.0, 2.0]))) == \
        repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    d = ember.ones(3)
    p = enn.Parameter(d)
    assert p.data_ptr() == d.data_ptr() and p.requires_grad and p.is_leaf
    assert not enn.Parameter(d, requires_grad=False).requires_grad
    assert enn.Parameter().shape == (0,)
    assert isinstance(p, ember.Tensor)
    assert type(p * 2) is ember.Tensor
    with pytest.raises(RuntimeError):
        enn.Parameter(ember.tensor([1, 2]))
    with pytest.raises(AttributeError):
        enn.Parameter([1.0])


# ---------------------------------------------------------------- containers
def test_sequential_operations():
    for nn in (torch.nn, enn):
        s = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Tanh())
        assert isinstance(s[-1], nn.Tanh) and len(s) == 3
        sub = s[1:]
        assert type(sub) is nn.Sequential and list(sub._modules) == ["1", "2"]
        with pytest.raises(IndexError):
            s[3]
        s.append(nn.Sigmoid())
        s.insert(0, nn.Identity())
        assert [type(m).__name__ for m in s] == ["Identity", "Linear", "ReLU", "Tanh", "Sigmoid"]
        assert isinstance(s.pop(1), nn.Linear)
        del s[0]
        assert list(s._modules) == ["0", "1", "2"]
        s[0] = nn.ELU()
        s.extend([nn.ReLU()])
        assert [type(m).__name__ for m in s + nn.Sequential(nn.ReLU())] == \
            ["ELU", "Tanh", "Sigmoid", "ReLU", "ReLU"]
        assert len(s * 2) == 8
        s += nn.Sequential(nn.Tanh())
        assert len(s) == 5
        with pytest.raises(ValueError):
            s + [nn.ReLU()]
        del s[1:3]
        assert list(s._modules) == ["0", "1", "2"]
        assert "0" not in dir(s)


def test_sequential_forward_and_ordered_dict():
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    t, e = both(lambda nn: nn.Sequential(OrderedDict([("fc", nn.Linear(3, 4)),
                                                       ("act", nn.Tanh()),
                                                       ("out", nn.Linear(4, 1))])))
    sync(e, t)
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)), rtol=1e-5)
    assert isinstance(e.fc, enn.Linear) and e[0] is e.fc


def test_module_list_and_dict():
    ml = enn.ModuleList([enn.ReLU()])
    ml.append(enn.Tanh())
    ml.extend([enn.ELU()])
    ml.insert(1, enn.Identity())
    assert [type(m).__name__ for m in ml] == ["ReLU", "Identity", "Tanh", "ELU"]
    assert isinstance(ml[-1], enn.ELU) and len(ml[1:]) == 3
    ml[0] = enn.SELU()
    del ml[1]
    assert list(ml._modules) == ["0", "1", "2"]
    assert isinstance(ml.pop(0), enn.SELU)
    assert len(ml + enn.ModuleList([enn.ReLU()])) == 3
    with pytest.raises(TypeError):
        ml.extend(3)
    with pytest.raises(IndexError):
        ml[10]
    md = enn.ModuleDict([("b", enn.ReLU()), ("a", enn.Tanh())])
    assert list(md.keys()) == ["b", "a"] and "a" in md and len(md) == 2
    md["c"] = enn.ELU()
    assert isinstance(md.pop("b"), enn.ReLU)
    md.update({"d": enn.ReLU()})
    assert list(md) == ["a", "c", "d"]
    del md["a"]
    md.clear()
    assert len(md) == 0
    with pytest.raises(ValueError):
        md.update([("x", enn.ReLU(), 3)])


def test_parameter_list_and_dict():
    pl = enn.ParameterList([ember.ones(2)])
    pl.append(enn.Parameter(ember.zeros(3)))
    assert all(isinstance(p, enn.Parameter) for p in pl) and len(pl) == 2
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pl[0] = ember.full((2,), 3.0)
    assert float(pl[0].sum()) == 6 and isinstance(pl[0], enn.Parameter)
    assert len(pl[0:1]) == 1
    with pytest.raises(RuntimeError):
        pl(1)
    with pytest.raises(TypeError):
        pl.extend(ember.ones(2))
    pd = enn.ParameterDict({"b": ember.ones(1), "a": ember.ones(2)})
    assert list(pd) == ["a", "b"]  # a plain dict is sorted, as torch does
    pd["c"] = ember.ones(3)
    assert isinstance(pd["c"], enn.Parameter) and "c" in pd
    assert pd.get("zz", 5) == 5
    assert list((pd | enn.ParameterDict({"d": ember.ones(1)})).keys()) == ["a", "b", "c", "d"]
    k, v = pd.popitem()
    assert k == "c" and v.shape == (3,)
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
    pd.clear()
    assert len(pd) == 0
    with pytest.raises(TypeError):
        pd[1] = ember.ones(1)


# ---------------------------------------------------------------- copying, pickling
class PickleNet(enn.Module):
    """Module-level, so that pickle can find the class."""

    def __init__(self):
        super().__init__()
        self.blocks = enn.ModuleList([enn.Linear(4, 4), enn.BatchNorm1d(4)])
        self.shared = self.blocks[0]
        self.out = enn.Sequential(enn.ReLU(), enn.Linear(4, 2))

    def forward(self, x):
        return self.out(self.blocks[1](self.blocks[0](x)))


def test_deepcopy_and_pickle_module():
    e = PickleNet().eval()
    e(ember.ones(1, 4)).sum().backward()
    for clone in (copy.deepcopy(e), pickle.loads(pickle.dumps(e))):
        assert repr(clone) == repr(e)
        assert clone.shared is clone.blocks[0]  # a shared submodule stays shared
        for (n, p), (n2, p2) in zip(e.named_parameters(), clone.named_parameters()):
            assert n == n2 and isinstance(p2, enn.Parameter) and p2 is not p
            assert p2.requires_grad and bool((p2 == p).all())
        assert_close(clone(ember.ones(1, 4)), to_torch(e(ember.ones(1, 4))))
    p = enn.Parameter(ember.ones(2))
    p.tag = "x"
    q = pickle.loads(pickle.dumps(p))
    assert isinstance(q, enn.Parameter) and q.tag == "x" and q.requires_grad
    assert isinstance(copy.deepcopy(p), enn.Parameter)


def test_save_load_whole_module(tmp_path):
    e = enn.Sequential(enn.Linear(2, 3), enn.ReLU())
    f = tmp_path / "m.pt"
    ember.save(e, f)
    back = ember.load(f, weights_only=False)
    assert repr(back) == repr(e)
    assert bool((back[0].weight == e[0].weight).all())
    ember.save(e.state_dict(), tmp_path / "sd.pt")
    sd = torch.load(tmp_path / "sd.pt")
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    t.load_state_dict(sd)
    assert_close(e(ember.ones(1, 2)), t(torch.ones(1, 2)))


# ---------------------------------------------------------------- nn.utils
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.5])
def test_clip_grad_norm(norm_type):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(s).astype(np.float32) * 5 for s in ((3, 4), (4,), (2, 2, 2))]
    res = {}
    for lib in (torch, ember):
        ps = [lib.nn.Parameter(lib.zeros(*g.shape)) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = lib.tensor(g)
        total = lib.nn.utils.clip_grad_norm_(ps, 2.0, norm_type=norm_type)
        res[lib] = (total, [p.grad for p in ps])
    assert_close(res[ember][0], res[torch][0], rtol=1e-5)
    for e, t in zip(res[ember][1], res[torch][1]):
        assert_close(e, t, rtol=1e-5)


def test_clip_grad_norm_edge_cases():
    p = enn.Parameter(ember.ones(2))
    p.grad = ember.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError):
        enn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert float(enn.utils.clip_grad_norm_([], 1.0)) == 0.0
    q = enn.Parameter(ember.ones(2))
    q.grad = ember.tensor([0.3, 0.4])
    total = enn.utils.clip_grad_norm_(q, 10.0)
    assert abs(float(total) - 0.5) < 1e-6 and abs(float(q.grad[1]) - 0.4) < 1e-5


def test_clip_grad_value():
    g = np.array([-3.0, -0.5, 0.2, 4.0], np.float32)
    grads = {}
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.zeros(4))
        p.grad = lib.tensor(g)
        lib.nn.utils.clip_grad_value_([p], 1.0)
        grads[lib] = p.grad
    assert_close(grads[ember], grads[torch])


def test_parameters_to_vector_round_trip():
    t, e = both(lambda nn: nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)))
    sync(e, t)
    ev, tv = enn.utils.parameters_to_vector(e.parameters()), \
        torch.nn.utils.parameters_to_vector(t.parameters())
    assert_close(ev, tv)
    enn.utils.vector_to_parameters(ev * 0 + 1, e.parameters())
    assert all(bool((p == 1).all()) for p in e.parameters())
    assert all(isinstance(p, enn.Parameter) for p in e.parameters())
    with pytest.raises(TypeError):
        enn.utils.vector_to_parameters([1.0], e.parameters())


def test_global_hooks_fire_as_torch():
    """Module-, parameter- and buffer-registration hooks, forward pre-hooks
    and full backward (pre-)hooks registered for every module: the same
    events, in the same order, as torch; removed handles stop them."""
    def events(lib):
        mm = lib.nn.modules.module
        log = []
        handles = [
            mm.register_module_module_registration_hook(lambda m, n, s: log.append(("mod", n))),
            mm.register_module_parameter_registration_hook(lambda m, n, p: log.append(("par", n))),
            mm.register_module_buffer_registration_hook(lambda m, n, b: log.append(("buf", n))),
            mm.register_module_forward_pre_hook(lambda m, a: log.append(("pre", type(m).__name__))),
            mm.register_module_full_backward_pre_hook(
                lambda m, g: log.append(("bpre", type(m).__name__))),
            mm.register_module_full_backward_hook(
                lambda m, gi, go: log.append(("bwd", type(m).__name__))),
        ]
        try:
            net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
            net(lib.ones(4, 2, requires_grad=True)).sum().backward()
        finally:
            for h in handles:
                h.remove()
        lib.nn.Linear(1, 1)(lib.ones(1, 1))
        return log
    assert events(ember) == events(torch)

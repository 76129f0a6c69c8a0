"""ember.optim against torch.optim: the same 20 steps from the same parameters
and gradients give the same parameters and state; state_dict layout, round
trips and torch interchange; param groups, zero_grad, closures, hooks, errors."""
import copy
import importlib
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, to_ember

RTOL, ATOL = 1e-5, 1e-6

# (name, options): torch's single-tensor algorithm for every option that changes the math
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.9))),  # lerp's large-weight formula
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.5, amsgrad=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2,
                     eps=1e-8, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),  # rho_t <= 5 for the first steps, rectified after
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=3, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.05, maximize=True)),
]


def _case_id(case):
    name, kw = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def _init_arrays(dtype=np.float32):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in ((5, 4), (4,), ())]


def _grad_of(x, i):
    """A deterministic, parameter-dependent gradient (a quartic bowl), computed
    in NumPy so that both libraries see bitwise the same gradients."""
    c = np.float32(1.0 + i) if x.dtype == np.float32 else 1.0 + i
    return (c * (x - 0.5) + 0.3 * x ** 3).astype(x.dtype)


def _set_grads(lib, params, sign=1):
    """``sign=-1`` for ``maximize``: the gradient of the negated bowl."""
    for i, p in enumerate(params):
        p.grad = lib.tensor(sign * _grad_of(p.detach().numpy(), i))


def _make(lib, name, kw, arrays=None, groups=None):
    arrays = _init_arrays() if arrays is None else arrays
    params = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    spec = params if groups is None else [dict(g, params=[params[i] for i in idx])
                                         for idx, g in groups]
    return params, getattr(lib.optim, name)(spec, **kw)


def _run(lib, name, kw, steps=20, **make):
    params, opt = _make(lib, name, kw, **make)
    for _ in range(steps):
        opt.zero_grad()
        _set_grads(lib, params, -1 if kw.get("maximize") else 1)
        opt.step()
    return params, opt


def _assert_state_matches(e_state, t_state):
    """Same keys in the same order, same value types, tensor dtypes/shapes/values."""
    assert list(e_state) == list(t_state)
    for k, tv in t_state.items():
        ev = e_state[k]
        if isinstance(tv, torch.Tensor):
            assert isinstance(ev, ember.Tensor), k
            assert_close(ev, tv, RTOL, ATOL)
        elif isinstance(tv, list):
            assert isinstance(ev, list) and len(ev) == len(tv), k
            for a, b in zip(ev, tv):
                if b is None:
                    assert a is None
                else:
                    assert_close(a, b, 1e-9, 1e-12)
        else:
            assert type(ev) is type(tv), (k, type(ev), type(tv))
            assert ev == pytest.approx(tv, rel=1e-9), k


def _assert_state_dicts_match(esd, tsd):
    assert list(esd) == ["state", "param_groups"]
    assert esd["param_groups"] == tsd["param_groups"]
    assert list(esd["state"]) == list(tsd["state"])
    for k in tsd["state"]:
        _assert_state_matches(esd["state"][k], tsd["state"][k])


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_twenty_steps_match_torch(case):
    name, kw = case
    ep, eo = _run(ember, name, kw)
    tp, to = _run(torch, name, kw)
    for e, t, a in zip(ep, tp, _init_arrays()):
        assert_close(e, t, RTOL, ATOL)
        assert e.grad_fn is None and e.requires_grad and e.is_leaf
        assert np.abs(e.detach().numpy() - a).max() > 1e-3  # the run went somewhere
    _assert_state_dicts_match(eo.state_dict(), to.state_dict())


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Rprop"])
def test_float64_parameters_match_torch(name):
    kw = dict(lr=0.01, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.01)
    arrays = _init_arrays(np.float64)
    ep, eo = _run(ember, name, kw, arrays=arrays)
    tp, to = _run(torch, name, kw, arrays=arrays)
    for e, t in zip(ep, tp):
        assert e.dtype == ember.float64
        assert_close(e, t, 1e-12, 1e-12)
    _assert_state_dicts_match(eo.state_dict(), to.state_dict())


def test_updates_in_place_and_bump_versions():
    params, opt = _make(ember, "Adam", dict(lr=0.1))
    arrays = [p._data for p in params]
    versions = [p._version for p in params]
    _set_grads(ember, params)
    opt.step()
    for p, a, v in zip(params, arrays, versions):
        assert p._data is a
        assert p._version > v
    assert all(opt.param_groups[0]["params"][i] is params[i] for i in range(3))


def test_step_after_forward_invalidates_saved_parameters():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = ember.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    w.grad = ember.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_params_without_grad_are_skipped():
    for name in ["SGD", "Adam", "RMSprop", "Rprop"]:
        kw = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
        ep, eo = _make(ember, name, kw)
        tp, to = _make(torch, name, kw)
        for lib, params, opt in ((ember, ep, eo), (torch, tp, to)):
            params[0].grad = lib.tensor(_grad_of(params[0].detach().numpy(), 0))
            opt.step()
        assert_close(ep[1], tp[1], 0, 0)
        _assert_state_dicts_match(eo.state_dict(), to.state_dict())
        assert list(eo.state_dict()["state"]) == [0]


def test_param_groups_with_own_options():
    groups = [((0,), dict(lr=0.01)), ((1, 2), dict(lr=0.1, betas=(0.5, 0.9), amsgrad=True))]
    ep, eo = _run(ember, "Adam", dict(lr=0.05), groups=groups)
    tp, to = _run(torch, "Adam", dict(lr=0.05), groups=groups)
    for e, t in zip(ep, tp):
        assert_close(e, t, RTOL, ATOL)
    _assert_state_dicts_match(eo.state_dict(), to.state_dict())
    assert eo.param_groups[1]["lr"] == 0.1 and eo.param_groups[0]["betas"] == (0.9, 0.999)


def test_add_param_group_and_named_params():
    a, b = (ember.zeros(2, requires_grad=True) for _ in range(2))
    opt = ember.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"][0] is b and opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([a])
    named = ember.optim.Adam([("w", a), ("b", b)])
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="with/without names"):
        named.add_param_group({"params": [ember.zeros(1, requires_grad=True)]})


@pytest.mark.parametrize("make", [
    lambda lib, p: lib.optim.SGD([], lr=0.1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1),
    lambda lib, p: lib.optim.SGD([p * 2], lr=0.1),
    lambda lib, p: lib.optim.SGD([1.0], lr=0.1),
    lambda lib, p: lib.optim.SGD([p], lr=0.1).add_param_group({"params": {p}}),
    lambda lib, p: lib.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1),
    lambda lib, p: lib.optim.SGD([p], lr=-1),
    lambda lib, p: lib.optim.SGD([p], lr=0.1, momentum=-0.5),
    lambda lib, p: lib.optim.SGD([p], lr=0.1, weight_decay=-1),
    lambda lib, p: lib.optim.SGD([p], lr=0.1, nesterov=True),
    lambda lib, p: lib.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    lambda lib, p: lib.optim.Adam([p], lr=-0.1),
    lambda lib, p: lib.optim.Adam([p], eps=-1.0),
    lambda lib, p: lib.optim.Adam([p], betas=(1.0, 0.999)),
    lambda lib, p: lib.optim.Adam([p], betas=(0.9, -0.1)),
    lambda lib, p: lib.optim.Adam([p], betas=(0.9, 1)),
    lambda lib, p: lib.optim.AdamW([p], weight_decay=-0.1),
    lambda lib, p: lib.optim.Adagrad([p], lr_decay=-1),
    lambda lib, p: lib.optim.Adagrad([p], initial_accumulator_value=-1),
    lambda lib, p: lib.optim.Adadelta([p], rho=1.5),
    lambda lib, p: lib.optim.RMSprop([p], alpha=-0.1),
    lambda lib, p: lib.optim.RMSprop([p], momentum=-0.1),
    lambda lib, p: lib.optim.Adamax([p], betas=(0.9, 1.5)),
    lambda lib, p: lib.optim.NAdam([p], momentum_decay=-1),
    lambda lib, p: lib.optim.RAdam([p], weight_decay=-1),
    lambda lib, p: lib.optim.ASGD([p], lr=-1),
    lambda lib, p: lib.optim.Rprop([p], etas=(1.5, 2.0)),
    lambda lib, p: lib.optim.LBFGS([p], lr=-1),
    lambda lib, p: lib.optim.LBFGS([{"params": [p]}, {"params": [p * 1]}]),
    lambda lib, p: lib.optim.SGD([p], lr=lib.tensor([0.1, 0.2])),
], ids=lambda f: "")
def test_bad_arguments_raise_like_torch(make):
    tp = torch.zeros(3, requires_grad=True)
    ep = ember.zeros(3, requires_grad=True)
    try:
        make(torch, tp)
    except Exception as te:
        with pytest.raises(type(te)) as ei:
            make(ember, ep)
        assert str(ei.value) == str(te)
    else:
        raise AssertionError("torch did not raise")


def test_duplicate_parameter_warns_like_torch():
    p = ember.zeros(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ember.optim.SGD([p, p], lr=0.1)


def test_zero_grad():
    p = ember.ones(3, requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and g.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    # a grad that has history (create_graph) is detached before zeroing
    (p * p).sum().backward(create_graph=True)
    assert p.grad.grad_fn is not None
    opt.zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None and not p.grad.requires_grad
    assert p.grad.tolist() == [0.0, 0.0, 0.0]


def test_closure_runs_with_grad_enabled_and_returns_loss():
    for lib in (ember, torch):
        p = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)

        def closure():
            assert lib.is_grad_enabled()
            opt.zero_grad()
            loss = (p ** 2).sum()
            loss.backward()
            return loss

        with lib.no_grad():
            loss = opt.step(closure)
        assert float(loss.detach()) == 5.0
        assert p.detach().numpy().tolist() == pytest.approx([0.8, -1.6])


def test_repr_matches_torch():
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict()), ("LBFGS", dict())]:
        e = getattr(ember.optim, name)([ember.zeros(1, requires_grad=True)], **kw)
        t = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
        assert repr(e) == repr(t)
    groups = [{"params": [ember.zeros(1, requires_grad=True)]},
              {"params": [ember.zeros(1, requires_grad=True)], "lr": 0.5}]
    tgroups = [{"params": [torch.zeros(1, requires_grad=True)]},
               {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}]
    assert repr(ember.optim.RMSprop(groups)) == repr(torch.optim.RMSprop(tgroups))


def test_adagrad_state_exists_before_the_first_step():
    _, eo = _make(ember, "Adagrad", dict(initial_accumulator_value=0.5))
    _, to = _make(torch, "Adagrad", dict(initial_accumulator_value=0.5))
    _assert_state_dicts_match(eo.state_dict(), to.state_dict())


# ----------------------------------------------------------------- state dict
@pytest.mark.parametrize("case", [CASES[1], CASES[7], CASES[14], CASES[19], CASES[23],
                                  CASES[29], CASES[32]], ids=_case_id)
def test_state_dict_round_trip(case):
    name, kw = case
    params, opt = _run(ember, name, kw, steps=10)
    sd = copy.deepcopy(opt.state_dict())
    params2 = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    opt2 = getattr(ember.optim, name)(params2, **kw)
    opt2.load_state_dict(sd)
    for ps, o in ((params, opt), (params2, opt2)):
        for _ in range(10):
            o.zero_grad()
            _set_grads(ember, ps, -1 if kw.get("maximize") else 1)
            o.step()
    for a, b in zip(params, params2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert opt.state_dict()["param_groups"] == opt2.state_dict()["param_groups"]


def _state_to_ember(value):
    if isinstance(value, torch.Tensor):
        return to_ember(value)
    if isinstance(value, dict):
        return {k: _state_to_ember(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_state_to_ember(v) for v in value]
    return value


@pytest.mark.parametrize("case", [CASES[2], CASES[6], CASES[12], CASES[17], CASES[22],
                                  CASES[30], CASES[33]], ids=_case_id)
def test_torch_state_dict_continues_in_ember(case):
    """A torch optimizer's state_dict (tensors converted) loaded into ember goes on
    exactly as torch goes on."""
    name, kw = case
    tp, to = _run(torch, name, kw, steps=10)
    ep = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tp]
    eo = getattr(ember.optim, name)(ep, **kw)
    eo.load_state_dict(_state_to_ember(to.state_dict()))
    for lib, ps, o in ((torch, tp, to), (ember, ep, eo)):
        for _ in range(10):
            o.zero_grad()
            _set_grads(lib, ps, -1 if kw.get("maximize") else 1)
            o.step()
    for e, t in zip(ep, tp):
        assert_close(e, t, RTOL, ATOL)
    _assert_state_dicts_match(eo.state_dict(), to.state_dict())


def test_load_state_dict_validates_and_casts():
    p32 = ember.zeros(3, requires_grad=True)
    opt = ember.optim.Adam([p32], lr=0.1)
    p32.grad = ember.ones(3)
    opt.step()
    sd = opt.state_dict()
    p64 = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    opt64 = ember.optim.Adam([p64])
    opt64.load_state_dict(sd)
    st = opt64.state[p64]
    assert st["exp_avg"].dtype == ember.float64 and st["step"].dtype == ember.float32
    assert opt64.param_groups[0]["lr"] == 0.1 and opt64.param_groups[0]["params"][0] is p64
    two = ember.optim.Adam([ember.zeros(1, requires_grad=True), ember.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        two.load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        ember.optim.Adam([{"params": [p32]}, {"params": [p64]}]).load_state_dict(sd)


def test_state_dict_hooks_and_load_hooks():
    p = ember.zeros(2, requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    calls = []
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
    h = opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    sd = opt.state_dict()
    assert calls == ["pre"] and sd["extra"] == 1
    h.remove()
    assert "extra" not in opt.state_dict()

    def set_lr(o, sd):
        sd = copy.deepcopy(sd)
        sd["param_groups"][0]["lr"] = 0.7
        return sd

    opt.register_load_state_dict_pre_hook(set_lr)
    opt.register_load_state_dict_post_hook(lambda o: calls.append("post"))
    opt.load_state_dict(opt.state_dict())
    assert opt.param_groups[0]["lr"] == 0.7 and calls[-1] == "post"
    opt.load_state_dict(opt.state_dict())  # hooks survive a load
    assert calls.count("post") == 2


def test_step_hooks():
    p = ember.zeros(2, requires_grad=True)
    opt = ember.optim.SGD([p], lr=1.0)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append(("pre", a, k)))
    h2 = opt.register_step_post_hook(lambda o, a, k: seen.append(("post", a, k)))
    g = ember.optim.optimizer.register_optimizer_step_post_hook(
        lambda o, a, k: seen.append("global"))
    p.grad = ember.ones(2)
    opt.step()
    assert seen == [("pre", (), {}), ("post", (), {}), "global"]
    for h in (h1, h2, g):
        h.remove()
    opt.register_step_pre_hook(lambda o, a, k: ((), {"closure": lambda: 42.0}))
    assert opt.step() == 42.0
    assert p.tolist() == [-2.0, -2.0]


def test_pickle_and_deepcopy():
    params, opt = _run(ember, "Adam", dict(lr=0.1), steps=3)
    for clone in (pickle.loads(pickle.dumps(opt)), copy.deepcopy(opt)):
        assert type(clone) is ember.optim.Adam
        assert clone.param_groups[0]["lr"] == 0.1
        state = list(clone.state.values())[0]
        assert float(state["step"]) == 3.0
        p = clone.param_groups[0]["params"][0]
        p.grad = ember.ones(p.shape)
        clone.step()


def test_custom_optimizer_subclass():
    class PlainSGD(ember.optim.Optimizer):
        def __init__(self, params, lr=ember.optim.optimizer.required):
            super().__init__(params, dict(lr=lr))

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])

    p = ember.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        PlainSGD([p])
    opt = PlainSGD([p], lr=0.5)
    hits = []
    opt.register_step_post_hook(lambda *a: hits.append(1))
    (p * 3).sum().backward()
    opt.step()
    assert p.tolist() == [-0.5, -0.5] and hits == [1] and p.grad_fn is None


def test_lr_as_tensor():
    ep, eo = _run(ember, "SGD", dict(lr=ember.tensor(0.05), momentum=0.9), steps=5)
    tp, to = _run(torch, "SGD", dict(lr=torch.tensor(0.05), momentum=0.9), steps=5)
    for e, t in zip(ep, tp):
        assert_close(e, t, RTOL, ATOL)


def test_differentiable_is_refused():
    with pytest.raises(NotImplementedError, match="differentiable"):
        ember.optim.Adam([ember.zeros(1, requires_grad=True)], differentiable=True)


def test_complex_parameters_match_torch():
    rng = np.random.default_rng(3)
    z0 = (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(np.complex64)
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)),
                     ("RMSprop", dict(lr=0.01, centered=True)), ("Rprop", dict())]:
        out = []
        for lib in (ember, torch):
            z = lib.tensor(z0.copy(), requires_grad=True)
            opt = getattr(lib.optim, name)([z], **kw)
            for _ in range(5):
                v = z.detach().numpy()
                z.grad = lib.tensor((v * (1 + 0.5j) + v.conj() ** 2 * 0.1).astype(np.complex64))
                opt.step()
            out.append(z.detach().numpy())
        np.testing.assert_allclose(out[0], out[1], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- LBFGS
def _lbfgs_run(lib, kw, dtype, steps):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((6, 6))
    A = (a @ a.T + np.eye(6)).astype(dtype)
    c = rng.standard_normal(6).astype(dtype)
    x = lib.tensor(rng.standard_normal(6).astype(dtype), requires_grad=True)
    y = lib.tensor(rng.standard_normal(2).astype(dtype), requires_grad=True)
    At, ct = lib.tensor(A), lib.tensor(c)
    opt = lib.optim.LBFGS([x, y], **kw)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (At @ x)) - (ct * x).sum() + 0.1 * (x ** 4).sum() + ((y - 1) ** 4).sum()
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    return [x, y], losses, opt


@pytest.mark.parametrize("kw", [dict(), dict(line_search_fn="strong_wolfe"),
                                dict(lr=0.5, max_iter=5, history_size=3),
                                dict(max_iter=4, line_search_fn="strong_wolfe", history_size=2)],
                         ids=str)
def test_lbfgs_matches_torch_float64(kw):
    ep, el, eo = _lbfgs_run(ember, kw, np.float64, 3)
    tp, tl, to = _lbfgs_run(torch, kw, np.float64, 3)
    np.testing.assert_allclose(el, tl, rtol=1e-10)
    for e, t in zip(ep, tp):
        assert_close(e, t, 1e-9, 1e-10)
    _assert_state_dicts_match(eo.state_dict(), to.state_dict())


def test_lbfgs_float32_first_step():
    for kw in (dict(max_iter=5), dict(max_iter=5, line_search_fn="strong_wolfe")):
        ep, el, _ = _lbfgs_run(ember, kw, np.float32, 1)
        tp, tl, _ = _lbfgs_run(torch, kw, np.float32, 1)
        for e, t in zip(ep, tp):
            assert_close(e, t, 1e-4, 1e-5)


def test_lbfgs_bad_line_search():
    p = ember.ones(2, requires_grad=True)
    opt = ember.optim.LBFGS([p], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


# ------------------------------------------------------------- with ember.nn
needs_nn = pytest.mark.skipif(not hasattr(ember.nn, "Linear"), reason="ember.nn.Linear not built")


@needs_nn
@pytest.mark.parametrize("case", [CASES[1], CASES[5], CASES[11], CASES[16], CASES[22]],
                         ids=_case_id)
def test_mlp_trains_like_torch(case):
    name, kw = case
    rng = np.random.default_rng(7)
    X = rng.standard_normal((16, 6)).astype(np.float32)
    Y = rng.standard_normal((16, 2)).astype(np.float32)

    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))

    tm = build(torch)
    em = build(ember)
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    results = []
    for lib, model in ((torch, tm), (ember, em)):
        opt = getattr(lib.optim, name)(model.parameters(), **kw)
        x, y = lib.tensor(X), lib.tensor(Y)
        for _ in range(20):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
        results.append((dict(model.named_parameters()), opt))
    (tparams, to), (eparams, eo) = results
    for k in tparams:
        assert_close(eparams[k], tparams[k], 1e-4, 1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert eo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


# ----------------------------------------------------------------- swa_utils
def _two_param_module(lib, w0, b0):
    # torch's own module paths (ember.nn may not re-export these yet)
    Module = importlib.import_module(lib.__name__ + ".nn.modules.module").Module
    Parameter = importlib.import_module(lib.__name__ + ".nn.parameter").Parameter

    class Net(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(lib.tensor(w0.copy()))
            self.register_buffer("count", lib.tensor(b0.copy()))

        def forward(self, x):
            return x * self.w

    return Net()


@pytest.mark.parametrize("mode", ["swa", "ema", "ema_multi", "swa_multi", "use_buffers"])
def test_averaged_model_matches_torch(mode):
    rng = np.random.default_rng(11)
    w0 = rng.standard_normal(5).astype(np.float32)
    b0 = np.zeros(2, np.float32)
    steps = [rng.standard_normal(5).astype(np.float32) for _ in range(6)]
    results = []
    for lib in (ember, torch):
        U = lib.optim.swa_utils
        kw = {"ema": dict(avg_fn=U.get_ema_avg_fn(0.9)),
              "ema_multi": dict(multi_avg_fn=U.get_ema_multi_avg_fn(0.8)),
              "swa_multi": dict(multi_avg_fn=U.get_swa_multi_avg_fn()),
              "use_buffers": dict(use_buffers=True)}.get(mode, {})
        model = _two_param_module(lib, w0, b0)
        avg = U.AveragedModel(model, **kw)
        for i, s in enumerate(steps):
            with lib.no_grad():
                model.w.copy_(lib.tensor(s))
                model.count.add_(1.0)
            avg.update_parameters(model)
        out = avg(lib.ones(5))
        results.append((avg, out))
    (e, eo), (t, to) = results
    assert_close(e.module.w, t.module.w, RTOL, ATOL)
    assert_close(e.module.count, t.module.count, RTOL, ATOL)
    assert_close(e.n_averaged, t.n_averaged)
    assert_close(eo, to, RTOL, ATOL)
    assert sorted(e.state_dict()) == sorted(t.state_dict())


def test_averaged_model_argument_check():
    model = _two_param_module(ember, np.zeros(2, np.float32), np.zeros(1, np.float32))
    U = ember.optim.swa_utils
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        U.AveragedModel(model, avg_fn=U.get_swa_avg_fn(), multi_avg_fn=U.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="Invalid decay value"):
        U.get_ema_avg_fn(1.5)


@pytest.mark.parametrize("case", [CASES[1], CASES[7], CASES[19], CASES[23], CASES[29],
                                  CASES[32]], ids=_case_id)
def test_state_dict_through_torch_files(case, tmp_path):
    """ember.save writes a state_dict torch.load reads and continues from, and back."""
    name, kw = case
    sign = -1 if kw.get("maximize") else 1
    ep, eo = _run(ember, name, kw, steps=5)
    ember.save(eo.state_dict(), tmp_path / "e.pt")
    tp = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in ep]
    to = getattr(torch.optim, name)(tp, **kw)
    to.load_state_dict(torch.load(tmp_path / "e.pt"))
    for lib, ps, o in ((ember, ep, eo), (torch, tp, to)):
        for _ in range(5):
            _set_grads(lib, ps, sign)
            o.step()
    torch.save(to.state_dict(), tmp_path / "t.pt")
    ep2 = [ember.tensor(p.detach().numpy(), requires_grad=True) for p in tp]
    eo2 = getattr(ember.optim, name)(ep2, **kw)
    eo2.load_state_dict(ember.load(tmp_path / "t.pt"))
    _assert_state_dicts_match(eo2.state_dict(), to.state_dict())
    for e, t in zip(ep, tp):
        assert_close(e, t, RTOL, ATOL)


def test_lbfgs_state_through_torch_files(tmp_path):
    ep, _, eo = _lbfgs_run(ember, dict(max_iter=3), np.float64, 2)
    ember.save(eo.state_dict(), tmp_path / "e.pt")
    sd = torch.load(tmp_path / "e.pt")
    _, _, to = _lbfgs_run(torch, dict(max_iter=3), np.float64, 2)
    assert list(sd["state"][0]) == list(to.state_dict()["state"][0])
    assert sd["param_groups"] == to.state_dict()["param_groups"]


def test_old_checkpoints_with_number_counters_and_missing_options():
    """torch fills in options and turns Python-number counters into tensors on load."""
    for lib in (ember, torch):
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.NAdam([p])
        sd = {"state": {0: {"step": 3, "mu_product": 0.5, "exp_avg": lib.ones(2),
                            "exp_avg_sq": lib.ones(2)}},
              "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8,
                                "weight_decay": 0, "momentum_decay": 4e-3, "params": [0]}]}
        opt.load_state_dict(sd)
        st = opt.state[p]
        assert isinstance(st["step"], lib.Tensor) and float(st["step"]) == 3.0
        assert isinstance(st["mu_product"], lib.Tensor) and str(st["mu_product"].dtype).endswith(
            "float32")
        group = opt.param_groups[0]
        assert group["decoupled_weight_decay"] is False and group["maximize"] is False
        p.grad = lib.ones(2)
        opt.step()
        assert float(st["step"]) == 4.0


@needs_nn
def test_update_bn_matches_torch():
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((8, 4)).astype(np.float32) * 3 + 1 for _ in range(5)]

    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.BatchNorm1d(3, momentum=0.3))

    torch.manual_seed(0)
    tm, em = build(torch), build(ember)
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    for lib, model in ((torch, tm), (ember, em)):
        model.eval()
        loader = [(lib.tensor(b), lib.zeros(8)) for b in batches]
        lib.optim.swa_utils.update_bn(loader, model)
        assert not model.training and model[1].momentum == 0.3
    tsd, esd = tm.state_dict(), em.state_dict()
    for k in ("1.running_mean", "1.running_var", "1.num_batches_tracked"):
        assert_close(esd[k], tsd[k], 1e-5, 1e-6)
    assert tsd["1.num_batches_tracked"].item() == 5

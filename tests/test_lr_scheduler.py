"""ember.optim.lr_scheduler against torch's: the lrs (and cycled momentum/betas)
of 50 steps, closed forms, state_dict contents and round trips, warnings, errors."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, to_ember


def _optimizer(lib, opt="SGD"):
    groups = [{"params": [lib.zeros(2, requires_grad=True)]},
              {"params": [lib.zeros(3, requires_grad=True)], "lr": 0.5}]
    if opt == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return getattr(lib.optim, opt)(groups, lr=0.1)


def _step_optimizer(opt):
    for g in opt.param_groups:
        for p in g["params"]:
            p.grad = None
    opt.step()


# name -> (optimizer kind, factory(lib.optim.lr_scheduler, optimizer))
SCHEDULERS = {
    "LambdaLR": ("SGD", lambda S, o: S.LambdaLR(o, lambda e: 0.95 ** e)),
    "LambdaLR-per-group": ("SGD", lambda S, o: S.LambdaLR(
        o, [lambda e: 1 / (e + 1), lambda e: max(0.0, 1 - e / 30)])),
    "MultiplicativeLR": ("SGD", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9)),
    "StepLR": ("SGD", lambda S, o: S.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("SGD", lambda S, o: S.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3)),
    "ConstantLR": ("SGD", lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=8)),
    "ConstantLR-default": ("SGD", lambda S, o: S.ConstantLR(o)),
    "LinearLR": ("SGD", lambda S, o: S.LinearLR(o, start_factor=0.1, end_factor=0.8,
                                                 total_iters=20)),
    "LinearLR-default": ("SGD", lambda S, o: S.LinearLR(o)),
    "ExponentialLR": ("SGD", lambda S, o: S.ExponentialLR(o, gamma=0.93)),
    "CosineAnnealingLR": ("SGD", lambda S, o: S.CosineAnnealingLR(o, T_max=15, eta_min=0.01)),
    "CosineAnnealingLR-default": ("SGD", lambda S, o: S.CosineAnnealingLR(o, T_max=50)),
    "CosineAnnealingWarmRestarts": ("SGD", lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.001)),
    "CosineAnnealingWarmRestarts-1": ("SGD", lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=7)),
    "CyclicLR": ("SGD", lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6)),
    "CyclicLR-triangular2": ("SGD", lambda S, o: S.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=4, step_size_down=7,
        mode="triangular2", base_momentum=0.7, max_momentum=0.95)),
    "CyclicLR-exp_range": ("SGD", lambda S, o: S.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.97,
        cycle_momentum=False)),
    "CyclicLR-scale_fn": ("SGD", lambda S, o: S.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 1 / (x + 1),
        scale_mode="iterations")),
    "CyclicLR-adam": ("Adam", lambda S, o: S.CyclicLR(o, base_lr=0.001, max_lr=0.01,
                                                       step_size_up=5)),
    "OneCycleLR": ("SGD", lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=60)),
    "OneCycleLR-linear": ("SGD", lambda S, o: S.OneCycleLR(
        o, max_lr=[0.5, 1.0], epochs=6, steps_per_epoch=10, pct_start=0.25,
        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0)),
    "OneCycleLR-three-phase": ("SGD", lambda S, o: S.OneCycleLR(
        o, max_lr=0.2, total_steps=51, three_phase=True, base_momentum=0.8)),
    "OneCycleLR-adam": ("Adam", lambda S, o: S.OneCycleLR(o, max_lr=0.01, total_steps=55)),
    "OneCycleLR-no-momentum": ("Adagrad", lambda S, o: S.OneCycleLR(
        o, max_lr=0.1, total_steps=55, cycle_momentum=False)),
    "PolynomialLR": ("SGD", lambda S, o: S.PolynomialLR(o, total_iters=30, power=2.0)),
    "PolynomialLR-default": ("SGD", lambda S, o: S.PolynomialLR(o)),
    "SequentialLR": ("SGD", lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=10),
            S.CosineAnnealingLR(o, T_max=20), S.ExponentialLR(o, gamma=0.9)],
        milestones=[10, 30])),
    "ChainedScheduler": ("SGD", lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.5, total_iters=4), S.ExponentialLR(o, gamma=0.9),
         S.StepLR(o, step_size=10, gamma=0.5)])),
    "ChainedScheduler-sequential": ("SGD", lambda S, o: S.ChainedScheduler(
        [S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=3),
                            S.MultiStepLR(o, [8, 20])], milestones=[5]),
         S.CosineAnnealingLR(o, T_max=12)], optimizer=o)),
}


def _row(sched, opt):
    """The scheduler's last lrs, then each group's lr and momentum or betas."""
    row = list(sched.get_last_lr())
    for g in opt.param_groups:
        row.append(g["lr"])
        row.extend(g["betas"] if "betas" in g else [g.get("momentum", 0.0)])
    return [float(v) for v in row]


def _trace(lib, key, steps=50):
    kind, make = SCHEDULERS[key]
    opt = _optimizer(lib, kind)
    sched = make(lib.optim.lr_scheduler, opt)
    out = []
    for _ in range(steps):
        _step_optimizer(opt)
        sched.step()
        out.append(_row(sched, opt))
    return out, sched, opt


def _assert_rows_equal(a, b):
    assert len(a) == len(b)
    for i, (ra, rb) in enumerate(zip(a, b)):
        assert ra == pytest.approx(rb, rel=1e-12, abs=1e-15), f"step {i}: {ra} != {rb}"


@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_fifty_steps_match_torch(key):
    e, es, _ = _trace(ember, key)
    t, ts, _ = _trace(torch, key)
    _assert_rows_equal(e, t)
    assert len({tuple(map(str, r)) for r in t}) > 1  # the schedule changes something
    assert type(es.get_last_lr()[0]) is type(ts.get_last_lr()[0])


def _plain_state(sd):
    """A scheduler state_dict with Counters, partials and nested dicts made comparable."""
    out = {}
    for k, v in sd.items():
        if k == "_schedulers":
            v = [_plain_state(s) for s in v]
        elif callable(v):
            v = "<callable>"
        out[k] = v
    return out


@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_state_dict_matches_torch(key):
    _, es, _ = _trace(ember, key, steps=17)
    _, ts, _ = _trace(torch, key, steps=17)
    e, t = _plain_state(es.state_dict()), _plain_state(ts.state_dict())
    assert list(e) == list(t)
    assert e == t


@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_state_dict_round_trip(key):
    """Saving after 20 steps and resuming a fresh scheduler continues the schedule."""
    full, _, _ = _trace(ember, key, steps=50)
    kind, make = SCHEDULERS[key]
    _, sched, opt = _trace(ember, key, steps=20)
    osd, ssd = opt.state_dict(), sched.state_dict()
    opt2 = _optimizer(ember, kind)
    sched2 = make(ember.optim.lr_scheduler, opt2)
    sched2.load_state_dict(ssd)
    opt2.load_state_dict(osd)
    rows = []
    for _ in range(30):
        _step_optimizer(opt2)
        sched2.step()
        rows.append(_row(sched2, opt2))
    _assert_rows_equal(rows, full[20:])


@pytest.mark.parametrize("key", ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
                                 "ExponentialLR", "CosineAnnealingLR", "PolynomialLR",
                                 "CosineAnnealingWarmRestarts", "LambdaLR"])
def test_closed_form_with_epoch_matches_torch(key):
    """``step(epoch)`` (deprecated) uses the closed form where torch has one."""
    epochs = [3, 4, 9, 2, 15, 15, 16, 31, 40, 7]
    if key == "CosineAnnealingWarmRestarts":
        epochs = [0.5, 1.7, 4.2, 5, 14.9, 3, 22, 40.5]
    rows = []
    for lib in (ember, torch):
        kind, make = SCHEDULERS[key]
        opt = _optimizer(lib, kind)
        sched = make(lib.optim.lr_scheduler, opt)
        r = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for ep in epochs:
                _step_optimizer(opt)
                sched.step(ep)
                r.append(list(sched.get_last_lr()))
        rows.append(r)
    _assert_rows_equal(*rows)


def test_closed_form_equals_chainable_form():
    for key in ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "PolynomialLR",
                "LinearLR", "ConstantLR"]:
        chain, sched, _ = _trace(ember, key, steps=40)
        for epoch in (5, 17, 39):
            sched.last_epoch = epoch + 1
            closed = sched._get_closed_form_lr()
            assert closed == pytest.approx(chain[epoch][:2], rel=1e-9), key


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.1, threshold_mode="abs", cooldown=3),
    dict(patience=1, cooldown=2, min_lr=[0.02, 0.1], eps=1e-3),
    dict(mode="max", patience=0, threshold_mode="rel", min_lr=0.05),
])
def test_reduce_lr_on_plateau_matches_torch(kw):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.89, 0.9, 0.91, 0.92, 0.7, 0.7, 0.71, 0.72,
               0.73, 0.8, 0.6, 0.61, 0.62, 0.63, 0.64] * 3
    traces, scheds = [], []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        rows = []
        for i, m in enumerate(metrics):
            _step_optimizer(opt)
            sched.step(lib.tensor(m) if i % 2 else m)
            rows.append(list(sched.get_last_lr()) + [sched.num_bad_epochs,
                                                     sched.cooldown_counter, sched.best])
        traces.append(rows)
        scheds.append(sched)
    _assert_rows_equal(*traces)
    assert traces[1][-1][:2] != traces[1][0][:2]
    e, t = scheds[0].state_dict(), scheds[1].state_dict()
    assert list(e) == list(t)
    assert {k: v for k, v in e.items()} == {k: v for k, v in t.items()}


def test_reduce_lr_on_plateau_state_dict_round_trip():
    opt = _optimizer(ember)
    s = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=1)
    for m in [1, 2, 2, 2]:
        s.step(m)
    s2 = ember.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(ember))
    s2.load_state_dict(s.state_dict())
    assert s2.mode == "max" and s2.best == 2 and s2.mode_worse == -math.inf
    assert s2._is_better(3, 2)


def test_initial_lr_and_base_lrs():
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert sched.base_lrs == [0.1, 0.5] and sched.last_epoch == 0
    assert sched.get_last_lr() == [0.1, 0.5]
    with pytest.raises(KeyError, match="initial_lr"):
        ember.optim.lr_scheduler.StepLR(_optimizer(ember), step_size=2, last_epoch=3)
    resumed = ember.optim.lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    assert resumed.last_epoch == 4


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = _optimizer(ember)
    sched2 = ember.optim.lr_scheduler.StepLR(opt2, step_size=2)
    _step_optimizer(opt2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()
        sched2.get_last_lr()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched2.get_lr()


def test_tensor_lr_is_updated_in_place():
    p = ember.zeros(2, requires_grad=True)
    lr = ember.tensor(0.1)
    opt = ember.optim.SGD([p], lr=lr)
    sched = ember.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    _step_optimizer(opt)
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.05)
    assert isinstance(sched.get_last_lr()[0], ember.Tensor)


@pytest.mark.parametrize("make", [
    lambda S, o: S.LambdaLR(o, [lambda e: 1.0]),
    lambda S, o: S.MultiplicativeLR(o, [0.9, 0.9]),
    lambda S, o: S.ConstantLR(o, factor=1.5),
    lambda S, o: S.LinearLR(o, start_factor=0),
    lambda S, o: S.LinearLR(o, end_factor=1.5),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5, eta_min="0"),
    lambda S, o: S.CyclicLR(o, 0.01, 0.1, mode="sine"),
    lambda S, o: S.CyclicLR(o, [0.01], 0.1),
    lambda S, o: S.CyclicLR(S, 0.01, 0.1),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=-1),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    lambda S, o: S.ReduceLROnPlateau(o, factor=1.0),
    lambda S, o: S.ReduceLROnPlateau(o, mode="avg"),
    lambda S, o: S.ReduceLROnPlateau(o, threshold_mode="pct"),
    lambda S, o: S.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda S, o: S.StepLR("sgd", 3),
    lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], milestones=[]),
    lambda S, o: S.SequentialLR(o, [], milestones=[]),
    lambda S, o: S.ChainedScheduler([]),
    lambda S, o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]),
], ids=lambda f: "")
def test_bad_arguments_raise_like_torch(make):
    try:
        make(torch.optim.lr_scheduler, _optimizer(torch))
    except Exception as te:
        with pytest.raises(type(te)) as ei:
            make(ember.optim.lr_scheduler, _optimizer(ember))
        assert str(ei.value) == str(te)
    else:
        raise AssertionError("torch did not raise")


def test_one_cycle_too_many_steps():
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        for _ in range(3):
            _step_optimizer(opt)
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            sched.step()


def test_lambda_state_dict_keeps_callable_objects_state():
    class Decay:
        def __init__(self, k):
            self.k = k

        def __call__(self, epoch):
            return self.k ** epoch

    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.LambdaLR(opt, [Decay(0.5), lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"k": 0.5}, None]
    fresh = ember.optim.lr_scheduler.LambdaLR(_optimizer(ember), [Decay(0.9), lambda e: 1.0])
    fresh.load_state_dict(sd)
    assert fresh.lr_lambdas[0].k == 0.5


@pytest.mark.parametrize("kw", [dict(swa_lr=0.05), dict(swa_lr=[0.01, 0.2], anneal_epochs=5,
                                                          anneal_strategy="linear"),
                                dict(swa_lr=0.02, anneal_epochs=0)])
def test_swalr_matches_torch(kw):
    traces = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.swa_utils.SWALR(opt, **kw)
        rows = []
        for _ in range(20):
            _step_optimizer(opt)
            sched.step()
            rows.append(_row(sched, opt))
        traces.append((rows, sched))
    _assert_rows_equal(traces[0][0], traces[1][0])
    e, t = traces[0][1].state_dict(), traces[1][1].state_dict()
    assert e == t


def test_swalr_after_a_schedule_and_bad_args():
    rows = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        S = lib.optim.lr_scheduler
        cos = S.CosineAnnealingLR(opt, T_max=10)
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.03, anneal_epochs=4)
        r = []
        for epoch in range(20):
            _step_optimizer(opt)
            (swa if epoch >= 8 else cos).step()
            r.append([g["lr"] for g in opt.param_groups])
        rows.append(r)
    _assert_rows_equal(*rows)
    for bad in (dict(swa_lr=0.1, anneal_strategy="exp"), dict(swa_lr=0.1, anneal_epochs=-1),
                dict(swa_lr=[0.1])):
        with pytest.raises(ValueError):
            ember.optim.swa_utils.SWALR(_optimizer(ember), **bad)


@pytest.mark.skipif(not hasattr(ember.nn, "Linear"), reason="ember.nn.Linear not built")
@pytest.mark.parametrize("kind,make", [
    ("SGD", lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=25)),
    ("Adam", lambda S, o: S.CyclicLR(o, base_lr=0.001, max_lr=0.05, step_size_up=4)),
    ("SGD", lambda S, o: S.SequentialLR(o, [S.LinearLR(o, 0.2, total_iters=5),
                                            S.CosineAnnealingLR(o, T_max=15)], [5])),
], ids=["OneCycle-SGD", "Cyclic-Adam", "Sequential-SGD"])
def test_training_with_a_schedule_matches_torch(kind, make):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((16, 5)).astype(np.float32)
    Y = rng.standard_normal((16, 1)).astype(np.float32)
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 1))
    em = ember.nn.Sequential(ember.nn.Linear(5, 7), ember.nn.Tanh(), ember.nn.Linear(7, 1))
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    for lib, model in ((torch, tm), (ember, em)):
        opt = (lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if kind == "SGD"
               else lib.optim.Adam(model.parameters()))
        sched = make(lib.optim.lr_scheduler, opt)
        x, y = lib.tensor(X), lib.tensor(Y)
        for _ in range(20):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            opt.step()
            sched.step()
    for (k, tv), (k2, ev) in zip(tm.state_dict().items(), em.state_dict().items()):
        assert k == k2
        assert_close(ev, tv, 1e-4, 1e-5)

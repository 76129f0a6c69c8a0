"""The CUDA backend: devices, moves, device errors, ``ember.cuda``.

Most cases run twice: on the fake CuPy of ``fake_cupy.py`` (a pretend
two-GPU machine: ember's plumbing, on any machine) and on real CuPy
(``gpu`` marker: skipped without CuPy and a GPU). Cases that need two
devices or exact pool numbers run on the fake only.
"""
import gc
import re

import numpy as np
import pytest
import torch

import ember
from ember import _backend as B

from oracle import fake_cuda_installed


@pytest.fixture
def fake_cuda():
    with fake_cuda_installed() as cp:
        yield cp


@pytest.fixture
def no_cuda():
    """A machine without CuPy (whatever this one has)."""
    saved = B._cupy, B._cupy_checked
    B._cupy, B._cupy_checked = None, True
    try:
        yield
    finally:
        B._cupy, B._cupy_checked = saved


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.gpu)])
def cuda(request):
    """The CuPy under test: the fake, or the real one on a GPU machine."""
    if request.param == "fake":
        yield request.getfixturevalue("fake_cuda")
    else:
        yield B.cupy_module()


def _same(e_gpu, e_cpu, rtol=1e-5, atol=1e-6):
    assert e_gpu.is_cuda and not e_cpu.is_cuda
    a, b = e_gpu.cpu().detach().numpy(), e_cpu.detach().numpy()
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- without CUDA
def test_no_cuda_reads_zero_and_raises_torch_errors(no_cuda):
    c = ember.cuda
    assert not c.is_available() and c.device_count() == 0 and not c.is_initialized()
    assert (c.memory_allocated(), c.max_memory_allocated(), c.memory_reserved()) == (0, 0, 0)
    assert (torch.cuda.memory_allocated(), torch.cuda.memory_reserved()) == (0, 0)
    c.empty_cache()
    c.manual_seed(1)
    c.manual_seed_all(1)
    c.seed()
    ember.manual_seed(3)  # seeds CUDA too: ignored without it, as in torch
    for f in (c.current_device, c.get_device_name, c.get_device_properties,
              c.get_device_capability, c.synchronize, c.init, c.current_stream, c.Stream,
              c.Event, c.reset_peak_memory_stats, c.mem_get_info, c.get_rng_state,
              lambda: c.set_device(0), lambda: ember.zeros(2, device="cuda"),
              lambda: ember.ones(1).cuda(), lambda: ember.ones(1).to("cuda:0")):
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            f()
    for f in (torch.cuda.current_device, torch.cuda.get_device_name, torch.cuda.synchronize,
              lambda: torch.ones(1).cuda()):
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            f()
    t = ember.ones(2)
    assert not t.is_pinned()
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is "
                                           "available."):
        t.pin_memory()
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is "
                                           "available."):
        torch.ones(2).pin_memory()
    assert not ember.backends.cuda.is_built()
    with ember.cuda.device(None), ember.cuda.device(-1):  # no-ops, as in torch
        pass


# ---------------------------------------------------------------- ember.cuda API
def test_device_queries(cuda):
    c = ember.cuda
    assert c.is_available() and c.device_count() == cuda.cuda.runtime.getDeviceCount()
    c.init()
    assert c.is_initialized() and c.current_device() == 0
    p = c.get_device_properties(0)
    raw = cuda.cuda.runtime.getDeviceProperties(0)
    assert p.name == c.get_device_name() == c.get_device_name("cuda:0") == raw["name"].decode()
    assert p.total_memory == raw["totalGlobalMem"] > 0
    assert (p.major, p.minor) == c.get_device_capability(0) == (raw["major"], raw["minor"])
    assert p.multi_processor_count == raw["multiProcessorCount"] > 0
    assert re.fullmatch(r"_CudaDeviceProperties\(name='.+', major=\d+, minor=\d+, "
                        r"total_memory=\d+MB, multi_processor_count=\d+, .*\)", repr(p))
    with pytest.raises(AssertionError, match="Invalid device id"):
        c.get_device_properties(c.device_count())
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        c.get_device_properties("cpu")
    c.synchronize()
    c.synchronize(0)
    assert ember.backends.cuda.is_built()


def test_set_device_and_device_context(fake_cuda):
    c = ember.cuda
    with c.device(1):
        assert c.current_device() == 1 == fake_cuda.cuda.runtime.getDevice()
        t = ember.zeros(2, device="cuda")  # 'cuda' means the current device
        assert t.device == ember.device("cuda:1") and t.get_device() == 1
        with c.device("cuda:0"):
            assert c.current_device() == 0
        assert c.current_device() == 1
    assert c.current_device() == 0
    with c.device_of(t):
        assert c.current_device() == 1
    with c.device_of(ember.zeros(1)):
        assert c.current_device() == 0
    c.set_device(ember.device("cuda", 1))
    try:
        assert c.current_device() == 1 and ember.ones(1).cuda().device.index == 1
    finally:
        c.set_device(0)
    with pytest.raises(RuntimeError, match="invalid device ordinal 2"):
        ember.zeros(1, device="cuda:2")


def test_memory_counters_follow_the_pool(fake_cuda):
    c = ember.cuda
    pool = fake_cuda.get_default_memory_pool()
    gc.collect()  # (as in test_memory_counters_real)
    base = c.memory_allocated()
    assert base == pool.used_bytes() and c.memory_reserved() == pool.total_bytes()
    c.reset_peak_memory_stats()
    x = ember.empty(1000, device="cuda")  # 4000 B, rounded to 4096 by the pool
    assert c.memory_allocated() == base + 4096 == c.memory_allocated(0)
    assert c.memory_allocated(1) == 0
    y = ember.empty(2000, device="cuda")
    peak = c.max_memory_allocated()
    assert peak == base + 4096 + 8192
    del x, y
    assert c.memory_allocated() == base and c.max_memory_allocated() == peak
    assert c.memory_reserved() >= peak - base and c.max_memory_reserved() >= peak
    c.empty_cache()
    assert c.memory_reserved() == c.memory_allocated()
    c.reset_peak_memory_stats()
    assert c.max_memory_allocated() == base
    free, total = c.mem_get_info()
    assert total == c.get_device_properties().total_memory and 0 < free <= total


def test_memory_counters_real(cuda):
    c = ember.cuda
    c.synchronize()
    gc.collect()  # device arrays in earlier tests' reference cycles must not be freed below
    base = c.memory_allocated()
    c.reset_peak_memory_stats()
    x = ember.empty(1 << 20, device="cuda")
    assert c.memory_allocated() >= base + 4 * (1 << 20)
    assert c.max_memory_allocated() >= c.memory_allocated()
    del x
    assert c.memory_allocated() == base
    assert c.max_memory_allocated() >= base + 4 * (1 << 20)
    c.empty_cache()
    assert c.memory_reserved() >= c.memory_allocated()


def test_streams_and_events(cuda):
    c = ember.cuda
    s = c.Stream()
    assert s.device == ember.device("cuda:0") and s != c.current_stream()
    assert c.current_stream() == c.default_stream()
    with c.stream(s):
        assert c.current_stream() == s
        x = ember.ones(4, device="cuda") * 2
    assert c.current_stream() == c.default_stream()
    with s:
        assert c.current_stream() == s
    start, end = c.Event(enable_timing=True), c.Event(enable_timing=True)
    start.record()
    y = (x @ x).sum()
    end.record()
    end.synchronize()
    assert start.query() and end.query() and start.elapsed_time(end) >= 0
    assert y.item() == 16.0
    e = s.record_event()
    c.current_stream().wait_event(e)
    e.wait()
    s.wait_stream(c.current_stream())
    s.synchronize()
    assert s.query()
    with pytest.raises(RuntimeError, match="Both events must be created with argument "
                                           "'enable_timing=True'."):
        c.Event().elapsed_time(end)
    with pytest.raises(RuntimeError, match="Both events must be recorded"):
        c.Event(enable_timing=True).elapsed_time(end)
    assert repr(s).startswith("<torch.cuda.Stream device=cuda:0 cuda_stream=0x")


def test_stream_waits_reach_cupy(fake_cuda):
    c = ember.cuda
    s = c.Stream()
    e = c.Event()
    e.record(s)
    c.current_stream().wait_event(e)
    assert fake_cuda.cuda.Stream.null.waited[-1] is e._cp
    with c.device(1):
        s1 = c.Stream()
    assert s1.device.index == 1
    with c.stream(s1):  # switches to the stream's device too, as torch does
        assert c.current_device() == 1
    assert c.current_device() == 0
    c.set_stream(s)
    try:
        assert c.current_stream() == s
    finally:
        c.set_stream(c.default_stream())


def test_cuda_random_state(cuda):
    c = ember.cuda
    ember.manual_seed(7)
    g = ember.randn(5, device="cuda")
    cpu = ember.randn(5)  # CUDA draws do not advance the CPU stream
    ember.manual_seed(7)
    assert ember.equal(ember.randn(5), cpu)
    state = c.get_rng_state()
    a = ember.rand(3, device="cuda")
    c.set_rng_state(state)
    assert ember.equal(ember.rand(3, device="cuda"), a)
    c.manual_seed(7)
    assert ember.equal(ember.randn(5, device="cuda"), g) and c.initial_seed() == 7
    assert len(c.get_rng_state_all()) == c.device_count() == len(c.default_generators)
    c.seed()
    assert c.initial_seed() != 7
    c.manual_seed_all(7)
    w = ember.empty(5, device="cuda").normal_()
    c.manual_seed(7)
    assert w.is_cuda and ember.equal(ember.empty(5, device="cuda").normal_(), w)
    gen = ember.Generator(device="cuda").manual_seed(7)
    assert ember.equal(ember.randn(5, device="cuda", generator=gen), g)
    assert ember.randint(0, 10, (4,), device="cuda").is_cuda
    assert ember.randperm(6, device="cuda").sort().values.cpu().tolist() == list(range(6))
    assert ember.normal(0.0, 1.0, (3,), device="cuda").is_cuda
    assert ember.bernoulli(ember.full((3,), 0.5, device="cuda")).is_cuda
    assert ember.multinomial(ember.ones(4, device="cuda"), 2).is_cuda


def test_tf32_flag_switches_cupy(fake_cuda):
    m = ember.backends.cuda.matmul
    linalg = fake_cuda._core._routines_linalg
    try:
        m.allow_tf32 = True
        assert m.allow_tf32 and linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_TF32
        m.allow_tf32 = False
        assert linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_DEFAULT
    finally:
        m.allow_tf32 = False
    try:
        for precision, tf32 in (("high", True), ("medium", True), ("highest", False)):
            ember.set_float32_matmul_precision(precision)
            assert ember.get_float32_matmul_precision() == precision and m.allow_tf32 == tf32
            assert (linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_TF32) == tf32
        with pytest.warns(UserWarning, match="foo is not one of"):
            ember.set_float32_matmul_precision("foo")
        assert ember.get_float32_matmul_precision() == "highest"
    finally:
        m.allow_tf32 = False
    ember.backends.cudnn.benchmark = True   # accepted: CuPy 14 has no cuDNN
    ember.backends.cudnn.deterministic = True
    assert ember.backends.cudnn.is_available() is False


# ---------------------------------------------------------------- tensors on CUDA
CREATORS = [
    ("zeros", lambda **k: ember.zeros(2, 3, **k)),
    ("ones", lambda **k: ember.ones((2, 3), dtype=ember.int32, **k)),
    ("full", lambda **k: ember.full((2,), 1.5, **k)),
    ("empty", lambda **k: ember.empty(3, **k).zero_()),
    ("eye", lambda **k: ember.eye(3, 2, **k)),
    ("arange", lambda **k: ember.arange(0, 5, 0.5, **k)),
    ("arange_int", lambda **k: ember.arange(7, **k)),
    ("linspace", lambda **k: ember.linspace(0, 1, 5, **k)),
    ("logspace", lambda **k: ember.logspace(0, 2, 3, **k)),
    ("tensor", lambda **k: ember.tensor([[1, 2], [3, 4]], **k)),
    ("tensor_float", lambda **k: ember.tensor([1.5, 2.0], dtype=ember.float64, **k)),
    ("as_tensor", lambda **k: ember.as_tensor(np.arange(4.0), **k)),
    ("asarray", lambda **k: ember.asarray([1, 2, 3], **k)),
    ("scalar_tensor", lambda **k: ember.scalar_tensor(3, **k)),
    ("tril_indices", lambda **k: ember.tril_indices(3, 3, **k)),
    ("zeros_like", lambda **k: ember.zeros_like(ember.ones(2, 2), **k)),
    ("full_like", lambda **k: ember.full_like(ember.ones(2), 4, **k)),
]


@pytest.mark.parametrize("name,make", CREATORS, ids=[n for n, _ in CREATORS])
def test_creation_on_cuda(cuda, name, make):
    g = make(device="cuda")
    assert g.device == ember.device("cuda", 0) and g.is_cuda and not g.is_cpu
    assert g.get_device() == 0
    _same(g, make())
    assert make(device=ember.device("cuda:0")).is_cuda and make(device=0).is_cuda


def test_random_creation_on_cuda(cuda):
    for make in (lambda **k: ember.rand(2, 3, **k), lambda **k: ember.randn(4, **k),
                 lambda **k: ember.randint(0, 5, (3,), **k),
                 lambda **k: ember.randperm(5, **k),
                 lambda **k: ember.rand_like(ember.ones(2), **k)):
        g = make(device="cuda")
        assert g.is_cuda and g.dtype == make().dtype


def test_new_and_like_keep_the_device(cuda):
    x = ember.ones(2, 2, device="cuda")
    for t in (x.new_zeros(3), x.new_ones(3), x.new_full((3,), 2.0), x.new_empty(3),
              x.new_tensor([1.0]), ember.zeros_like(x), ember.empty_like(x),
              ember.rand_like(x), ember.randn_like(x), ember.randint_like(x, 5)):
        assert t.is_cuda, t


def test_moves_both_ways(cuda):
    c = ember.arange(6.0).reshape(2, 3)
    g = c.to("cuda")
    assert g.is_cuda and c.cuda().is_cuda and c.cuda(0).device == g.device
    assert c.to("cuda") is not c and g.to("cuda") is g and g.cuda() is g
    assert g.cpu().device == ember.device("cpu") and ember.equal(g.cpu(), c)
    assert c.cpu() is c
    h = c.to("cuda", ember.float64)
    assert h.is_cuda and h.dtype is ember.float64
    assert c.to(device="cuda", dtype=ember.int64).dtype is ember.int64
    assert c.to(g).is_cuda and g.to(c).is_cpu
    assert c.to(ember.device("cuda", 0), non_blocking=True).is_cuda
    assert c.cuda(non_blocking=True).is_cuda and g.to("cpu", non_blocking=True).is_cpu
    assert g.to("cuda", copy=True) is not g
    assert g.double().is_cuda and g.long().is_cuda and g.half().is_cuda
    assert g.tolist() == c.tolist() and g[1, 2].item() == 5.0
    assert float(g.sum()) == 15.0 and int(g[0, 1]) == 1 and bool(g[0, 1])
    assert g.clone().is_cuda and g.detach().is_cuda and g.contiguous().is_cuda
    # a view moved: its own storage on the device
    v = c[:, 1]
    assert v.cuda().tolist() == [1.0, 4.0]


def test_move_to_second_device(fake_cuda):
    c = ember.arange(4.0)
    g1 = c.to("cuda:1")
    assert g1.device == ember.device("cuda:1") and g1._data.device.id == 1
    assert c.cuda(1).get_device() == 1
    g0 = g1.to("cuda:0")
    assert g0.get_device() == 0 and g0.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert g0.to("cuda:1").get_device() == 1 and g1.cpu().tolist() == c.tolist()
    assert ember.zeros(3, device="cuda:1").get_device() == 1
    assert ember.randn(3, device="cuda:1").get_device() == 1
    assert ember.tensor([1, 2], device="cuda:1").get_device() == 1
    assert ember.arange(3, device="cuda:1").get_device() == 1
    with ember.cuda.device(1):  # ops run on CuPy's current device
        r = g1 * 2 + g1.exp()
        assert r.get_device() == 1
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                                           "found at least two devices, cuda:1 and cuda:0!"):
        g1 + g0


def test_backward_through_moves(cuda):
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x.cuda() * 3).pow(2).sum()
    assert y.is_cuda and y.grad_fn is not None
    y.backward()
    assert x.grad.is_cpu and x.grad.tolist() == [18.0, 36.0, 54.0]
    w = ember.ones(3, device="cuda", requires_grad=True)
    (w.cpu() * ember.arange(3.0)).sum().backward()
    assert w.grad.is_cuda and w.grad.tolist() == [0.0, 1.0, 2.0]


# a sample of ops: same values as on the CPU, results on the device
OPS = [
    ("add", lambda a, b: a + b), ("sub_scalar", lambda a, b: 2.5 - a),
    ("mul", lambda a, b: a * b), ("div", lambda a, b: a / (b.abs() + 1)),
    ("pow", lambda a, b: a.abs() ** 1.5), ("exp", lambda a, b: a.exp()),
    ("log", lambda a, b: (a.abs() + 1).log()), ("tanh", lambda a, b: a.tanh()),
    ("sigmoid", lambda a, b: ember.sigmoid(a)), ("relu", lambda a, b: ember.relu(a)),
    ("where", lambda a, b: ember.where(a > 0, a, b)), ("clamp", lambda a, b: a.clamp(-0.5, 0.5)),
    ("maximum", lambda a, b: ember.maximum(a, b)), ("eq", lambda a, b: a > b),
    ("sum", lambda a, b: a.sum()), ("sum_dim", lambda a, b: a.sum(1, keepdim=True)),
    ("mean", lambda a, b: a.mean(0)), ("var", lambda a, b: a.var(1)),
    ("max_dim", lambda a, b: a.max(1)), ("argmax", lambda a, b: a.argmax()),
    ("min", lambda a, b: a.min()), ("prod", lambda a, b: a.prod(0)),
    ("cumsum", lambda a, b: a.cumsum(1)), ("softmax", lambda a, b: ember.nn.functional.softmax(a, 1)),
    ("logsumexp", lambda a, b: ember.logsumexp(a, 1)), ("norm", lambda a, b: a.norm()),
    ("matmul", lambda a, b: a @ b.T), ("mm_vec", lambda a, b: a @ b[0]),
    ("bmm", lambda a, b: ember.bmm(a[None], b.T[None])),
    ("einsum", lambda a, b: ember.einsum("ij,kj->ik", a, b)),
    ("getitem", lambda a, b: a[1:, ::2]), ("getitem_int", lambda a, b: a[2]),
    ("getitem_mask", lambda a, b: a[a > 0]), ("getitem_list", lambda a, b: a[[0, 2]]),
    ("index_select", lambda a, b: a.index_select(0, ember.tensor([2, 0], device=a.device))),
    ("gather", lambda a, b: a.gather(1, ember.tensor([[0], [1], [2]], device=a.device))),
    ("transpose", lambda a, b: a.t().contiguous()), ("reshape", lambda a, b: a.reshape(-1)),
    ("cat", lambda a, b: ember.cat([a, b], 1)), ("stack", lambda a, b: ember.stack([a, b])),
    ("sort", lambda a, b: a.sort(1)), ("topk", lambda a, b: a.topk(2, 1)),
    ("nonzero", lambda a, b: (a > 0).nonzero()), ("unique", lambda a, b: (a > 0).int().unique()),
    ("tril", lambda a, b: a.tril()), ("flip", lambda a, b: a.flip(0)),
    ("zero_dim_cpu", lambda a, b: a * ember.tensor(2.0)),
    ("unfold", lambda a, b: a.unfold(1, 2, 1)), ("argmax_keepdim", lambda a, b: a.argmax(keepdim=True)),
    ("floor_divide_int", lambda a, b: (a * 10).long() // 3), ("pow_int", lambda a, b: (a * 3).long() ** 2),
    ("scatter_multiply", lambda a, b: a.scatter(1, (b.abs() * 2).long().clamp(max=3), 2.0, reduce="multiply")),
    ("scatter_reduce_prod", lambda a, b: a.scatter_reduce(1, (b.abs() * 2).long().clamp(max=3), b, "prod")),
    ("scatter_reduce_amax", lambda a, b: a.scatter_reduce(1, (b.abs() * 2).long().clamp(max=3), b, "amax",
                                                          include_self=False)),
    ("index_add", lambda a, b: a.index_add(0, ember.tensor([0, 0, 2], device=a.device), b)),
    ("cummax", lambda a, b: a.cummax(1)), ("cummin", lambda a, b: a.cummin(0)),
    ("nanquantile", lambda a, b: ember.where(a > 1, float("nan"), a).nanquantile(0.3, 1)),
    ("quantile", lambda a, b: a.quantile(ember.tensor([0.2, 0.9], device=a.device), 0)),
]


def _ab(dev):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    return ember.tensor(a, device=dev), ember.tensor(b, device=dev)


@pytest.mark.parametrize("name,fn", OPS, ids=[n for n, _ in OPS])
def test_ops_match_cpu(cuda, name, fn):
    rg, rc = fn(*_ab("cuda")), fn(*_ab("cpu"))
    for g, c in zip(rg if isinstance(rg, tuple) else (rg,), rc if isinstance(rc, tuple) else (rc,)):
        _same(g, c, rtol=1e-5, atol=1e-5)


def test_inplace_and_setitem_on_cuda(cuda):
    g, _ = _ab("cuda")
    c, _ = _ab("cpu")
    for t in (g, c):
        t[0] = 1.0
        t[:, 1] = ember.arange(3.0, device=t.device)
        t[t < -1] = 0.0
        t.add_(1).mul_(2)
        t[ember.tensor([1, 2], device=t.device), 0] = ember.tensor(5.0)
        t.index_add_(0, ember.tensor([0], device=t.device), ember.ones(1, 4, device=t.device))
        t.clamp_(max=6)
    _same(g, c)
    g.copy_(c)  # copy_ from another device
    _same(g, c)
    assert g.is_cuda


def test_autograd_on_cuda(cuda):
    def run(dev):
        a, b = _ab(dev)
        a.requires_grad_()
        b.requires_grad_()
        y = ember.nn.functional.softmax((a @ b.T).tanh() * a[:, :3].sum(1, keepdim=True), 1)
        (y[:, 0] ** 2).sum().backward()
        return a.grad, b.grad
    for g, c in zip(run("cuda"), run("cpu")):
        _same(g, c)


def test_device_mismatch_errors(cuda):
    g, c = ember.ones(2, device="cuda"), ember.ones(2)
    msg = "Expected all tensors to be on the same device, but found at least two devices, "
    with pytest.raises(RuntimeError, match=re.escape(msg + "cuda:0 and cpu!")):
        g + c
    with pytest.raises(RuntimeError, match=re.escape(msg + "cpu and cuda:0!")):
        c * g
    with pytest.raises(RuntimeError, match=re.escape(msg + "cuda:0 and cpu!")):
        g @ c
    with pytest.raises(RuntimeError, match=re.escape(msg + "cuda:0 and cpu!")):
        ember.cat([g, c])
    lin = ember.nn.Linear(2, 3).cuda()
    with pytest.raises(RuntimeError, match=re.escape(msg + "cuda:0 and cpu!")):
        lin(ember.ones(4, 2))  # the usual mistake: the batch left on the CPU
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        ember.nn.Conv2d(1, 1, 3).cuda()(ember.ones(1, 1, 5, 5))
    # a 0-d CPU tensor combines with a CUDA tensor, as in torch
    assert (g + ember.tensor(1.0)).is_cuda and (ember.tensor(3) * g).is_cuda
    assert (g + ember.tensor(1.0)).tolist() == [2.0, 2.0]


# ops with a second tensor argument (index, mask, weight, target, ...), given it on the CPU
F = ember.nn.functional
MIXED = [
    ("cross_entropy target", lambda g, c, i: F.cross_entropy(g, i)),
    ("cross_entropy weight", lambda g, c, i: F.cross_entropy(g, i.cuda(), weight=ember.ones(4))),
    ("nll_loss weight", lambda g, c, i: F.nll_loss(g, i.cuda(), weight=ember.ones(4))),
    ("mse_loss", lambda g, c, i: F.mse_loss(g, c)),
    ("binary_cross_entropy weight",
     lambda g, c, i: F.binary_cross_entropy(g.sigmoid(), g.sigmoid(), weight=ember.ones(4))),
    ("bce_with_logits pos_weight", lambda g, c, i: F.binary_cross_entropy_with_logits(
        g, g.sigmoid(), pos_weight=ember.ones(4))),
    ("index_select", lambda g, c, i: g.index_select(1, i)),
    ("gather", lambda g, c, i: g.gather(1, i[:, None])),
    ("scatter", lambda g, c, i: g.scatter(1, i[:, None], 1.0)),
    ("scatter_add src", lambda g, c, i: g.scatter_add(1, i[:, None].cuda(), c)),
    ("index_add", lambda g, c, i: g.index_add(0, i, g)),
    ("index_copy", lambda g, c, i: g.index_copy(0, i, g)),
    ("index_fill", lambda g, c, i: g.index_fill(0, i, 1.0)),
    ("take", lambda g, c, i: g.take(i)),
    ("masked_fill", lambda g, c, i: g.masked_fill(c > 0, 1.0)),
    ("masked_select", lambda g, c, i: g.masked_select(c > 0)),
    ("masked_scatter", lambda g, c, i: g.masked_scatter(c > 0, g)),
    ("where", lambda g, c, i: ember.where(c > 0, g, g)),
    ("searchsorted", lambda g, c, i: ember.searchsorted(g, c)),
    ("bincount weights", lambda g, c, i: ember.bincount(i.cuda(), ember.ones(3))),
    ("embedding", lambda g, c, i: F.embedding(i, g)),
    ("prelu", lambda g, c, i: F.prelu(g, ember.ones(1))),
    ("layer_norm", lambda g, c, i: F.layer_norm(g, (4,), ember.ones(4))),
    ("group_norm", lambda g, c, i: F.group_norm(g[None], 1, ember.ones(3))),
    ("batch_norm", lambda g, c, i: F.batch_norm(g, ember.zeros(4), ember.ones(4))),
    ("conv2d bias", lambda g, c, i: F.conv2d(g[None, None], g[None, None, :2, :2], ember.ones(1))),
]


@pytest.mark.parametrize("name,fn", MIXED, ids=[n for n, _ in MIXED])
def test_second_argument_on_another_device(cuda, name, fn):
    g, c = _ab("cuda")[0], _ab("cpu")[1]
    msg = "Expected all tensors to be on the same device, but found at least two devices, "
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        fn(g, c, ember.tensor([0, 2, 1]))


def test_numpy_of_cuda_tensor_raises_torchs_error(cuda):
    g = ember.ones(2, device="cuda")
    msg = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
           "tensor to host memory first.")
    with pytest.raises(TypeError, match=re.escape(msg)):
        g.numpy()
    with pytest.raises(TypeError, match=re.escape(msg)):
        np.asarray(g)
    assert g.cpu().numpy().tolist() == [1.0, 1.0]


def test_numpy_error_names_the_device(fake_cuda):
    with pytest.raises(TypeError, match=re.escape("can't convert cuda:1 device type tensor")):
        ember.ones(2, device="cuda:1").numpy()


def test_printing_shows_the_device(cuda):
    assert repr(ember.tensor([1.0, 2.0], device="cuda")) == \
        "tensor([1., 2.], device='cuda:0')"
    assert repr(ember.tensor([1, 2], dtype=ember.int32, device="cuda")) == \
        "tensor([1, 2], device='cuda:0', dtype=torch.int32)"
    assert repr(ember.ones(2, device="cuda", requires_grad=True) * 2) == \
        "tensor([2., 2.], device='cuda:0', grad_fn=<MulBackward0>)"
    assert repr(ember.zeros(0, 3, device="cuda")) == \
        "tensor([], device='cuda:0', size=(0, 3))"
    p = ember.nn.Parameter(ember.ones(1, device="cuda"))
    assert repr(p) == "Parameter containing:\ntensor([1.], device='cuda:0', requires_grad=True)"
    assert str(ember.device("cuda", 0)) == "cuda:0"


def test_pin_memory(cuda):
    t = ember.arange(6.0).reshape(2, 3)
    p = t.pin_memory()
    assert p.is_pinned() and not t.is_pinned() and p is not t
    assert p.pin_memory() is p and p[1].is_pinned()  # views of pinned memory are pinned
    assert ember.equal(p, t)
    g = p.to("cuda", non_blocking=True)
    ember.cuda.current_stream().synchronize()
    assert g.is_cuda and g.cpu().tolist() == t.tolist()
    assert p.t().cuda(non_blocking=True).cpu().tolist() == t.t().tolist()
    with pytest.raises(RuntimeError, match=re.escape(
            "cannot pin 'torch.cuda.FloatTensor' only dense CPU tensors can be pinned")):
        g.pin_memory()
    assert not g.is_pinned()


def test_dataloader_pins_batches(cuda):
    from ember.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(ember.arange(8.0).reshape(4, 2), ember.arange(4))
    batches = list(DataLoader(ds, batch_size=2, pin_memory=True))
    assert len(batches) == 2 and all(x.is_pinned() and y.is_pinned() for x, y in batches)
    x = batches[1][0].to("cuda", non_blocking=True)
    assert x.cpu().tolist() == [[4.0, 5.0], [6.0, 7.0]]


def test_save_on_cuda_load_on_cpu(cuda, tmp_path):
    g = ember.arange(6.0, device="cuda")
    path = tmp_path / "g.pt"
    ember.save({"x": g, "v": g[2:], "c": ember.ones(2)}, path)
    seen = []
    ember.load(path, map_location=lambda st, loc: seen.append(loc))
    assert sorted(seen) == ["cpu", "cuda:0"]
    out = ember.load(path, map_location="cpu")
    assert out["x"].is_cpu and out["v"].tolist() == [2.0, 3.0, 4.0, 5.0]
    back = ember.load(path)
    assert back["x"].is_cuda and back["c"].is_cpu
    t = torch.load(path, map_location="cpu")  # torch reads ember's CUDA checkpoint
    assert t["x"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert ember.load(path, map_location="cuda:0")["c"].is_cuda


def test_save_on_second_device(fake_cuda, tmp_path):
    path = tmp_path / "g1.pt"
    ember.save(ember.ones(2, device="cuda:1"), path)
    seen = []
    ember.load(path, map_location=lambda st, loc: seen.append(loc))
    assert seen == ["cuda:1"] and ember.load(path).get_device() == 1
    assert ember.load(path, map_location={"cuda:1": "cuda:0"}).get_device() == 0


# ---------------------------------------------------------------- nn and optim
def _mlp(seed=0):
    ember.manual_seed(seed)
    nn = ember.nn
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 3))


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_mlp_training_matches_cpu(cuda, opt):
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((8, 6)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 3, 8))

    def run(dev):
        m = _mlp().to(dev)
        kw = {"momentum": 0.9} if opt in ("SGD", "RMSprop") else {}
        o = getattr(ember.optim, opt)(m.parameters(), lr=0.01, **kw)
        losses = []
        for _ in range(4):
            o.zero_grad()
            loss = ember.nn.functional.cross_entropy(m(x.to(dev)), y.to(dev))
            loss.backward()
            o.step()
            losses.append(loss.item())
        return m, o, losses

    mg, og, lg = run("cuda")
    mc, oc, lc = run("cpu")
    np.testing.assert_allclose(lg, lc, rtol=1e-5, atol=1e-6)
    for pg, pc in zip(mg.parameters(), mc.parameters()):
        assert pg.is_cuda and pg.grad.is_cuda
        _same(pg, pc, atol=1e-5)
    for st in og.state.values():
        for v in st.values():
            if isinstance(v, ember.Tensor) and v.dim():
                assert v.is_cuda


def test_module_moves(cuda):
    m = _mlp()
    ids = [id(p) for p in m.parameters()]
    assert m.cuda() is m and all(p.is_cuda for p in m.parameters())
    assert [id(p) for p in m.parameters()] == ids  # Parameters keep their identity
    bn = ember.nn.BatchNorm1d(3).to("cuda")
    assert bn.running_mean.is_cuda and bn.num_batches_tracked.is_cuda
    bn(ember.randn(4, 3, device="cuda"))
    assert bn.num_batches_tracked.item() == 1
    sd = m.state_dict()
    assert all(v.is_cuda for v in sd.values())
    m.cpu()
    assert all(p.is_cpu for p in m.parameters())
    m.load_state_dict(sd)  # a CUDA state dict into a CPU model: copied across
    assert all(p.is_cpu for p in m.parameters())
    m.to(ember.device("cuda"), ember.float64)
    assert all(p.is_cuda and p.dtype is ember.float64 for p in m.parameters())


def test_optimizer_state_dict_round_trip_on_cuda(cuda, tmp_path):
    m = _mlp().cuda()
    o = ember.optim.Adam(m.parameters(), lr=0.01)
    m(ember.randn(2, 6, device="cuda")).sum().backward()
    o.step()
    path = tmp_path / "opt.pt"
    ember.save({"model": m.state_dict(), "opt": o.state_dict()}, path)
    ck = ember.load(path, map_location="cpu")
    m2 = _mlp()
    m2.load_state_dict(ck["model"])
    o2 = ember.optim.Adam(m2.parameters(), lr=0.01)
    o2.load_state_dict(ck["opt"])
    m2.cuda()
    o3 = ember.optim.Adam(m2.parameters(), lr=0.01)
    o3.load_state_dict(ember.load(path)["opt"])  # CUDA state follows CUDA params
    assert all(v.is_cuda for st in o3.state.values() for v in st.values()
               if isinstance(v, ember.Tensor) and v.dim())


# ---------------------------------------------------------------- the seeds' GPU loops
def _seed000_simple_nn_losses(dev, side=20, n=32, epochs=2):
    """Seed 000 "覺得跑很慢嗎": SimpleNN moved to ``dev``, Adam, MSELoss,
    batches moved inside the loop (images side x side)."""
    import ember as torch
    from ember import nn
    from ember.utils.data import DataLoader, TensorDataset

    class SimpleNN(nn.Module):
        def __init__(self):
            super(SimpleNN, self).__init__()
            self.fc = nn.Sequential(nn.Linear(side * side, 500), nn.Linear(500, 10))

        def forward(self, x):
            x = x.view(x.size(0), -1)
            return self.fc(x)

    rng = np.random.default_rng(0)
    X = rng.random((n, side, side, 1)).astype(np.float32)
    Y = rng.integers(0, 7, [n, 10]).astype(np.float32)
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=4,
                        shuffle=True)
    simpleNN = SimpleNN()
    simpleNN.to(dev)
    optim = torch.optim.Adam(simpleNN.parameters(), lr=1e-4)
    criterion = nn.MSELoss()
    losses = []
    for epoch in range(epochs):
        simpleNN.train()
        for x, y in loader:
            y_hat = simpleNN(x.to(dev))
            loss = criterion(y.to(dev), y_hat)
            optim.zero_grad()
            loss.backward()
            optim.step()
            losses.append(loss.item())
    return losses


def _seed002_conv_mnist(dev, n=64, batch_size=16, epochs=2):
    """Seed 002 10_convMNIST_gpu: the Net on synthetic 28x28 digits, SGD with
    momentum, CrossEntropyLoss; returns the losses and the test accuracy."""
    import ember as torch
    import ember.nn.functional as F
    from ember.utils.data import DataLoader, TensorDataset

    class Net(torch.nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = torch.nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = torch.nn.Conv2d(10, 20, kernel_size=5)
            self.pooling = torch.nn.MaxPool2d(2)
            self.fc = torch.nn.Linear(320, 10)

        def forward(self, x):
            batch_size = x.size(0)
            x = F.relu(self.pooling(self.conv1(x)))
            x = F.relu(self.pooling(self.conv2(x)))
            x = x.view(batch_size, -1)
            return self.fc(x)

    rng = np.random.default_rng(0)
    X = torch.tensor(((rng.random((n, 1, 28, 28)) - 0.1307) / 0.3081).astype(np.float32))
    Y = torch.tensor(rng.integers(0, 10, n))
    torch.manual_seed(0)
    train_loader = DataLoader(TensorDataset(X, Y), shuffle=True, batch_size=batch_size)
    test_loader = DataLoader(TensorDataset(X, Y), shuffle=False, batch_size=batch_size)
    model = Net()
    device = torch.device(dev)
    model.to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    losses = []
    for epoch in range(epochs):
        for batch_idx, (inputs, target) in enumerate(train_loader, 0):
            inputs, target = inputs.to(device), target.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    correct = total = 0
    with torch.no_grad():
        for inputs, target in test_loader:
            inputs, target = inputs.to(device), target.to(device)
            _, predicted = torch.max(model(inputs).data, dim=1)
            total += target.size(0)
            correct += (predicted == target).sum().item()
    return losses, correct / total


def test_seed000_gpu_loop_matches_cpu(cuda):
    np.testing.assert_allclose(_seed000_simple_nn_losses("cuda"),
                               _seed000_simple_nn_losses("cpu"), rtol=1e-4, atol=1e-6)


def test_seed002_conv_mnist_gpu_matches_cpu(cuda):
    lg, ag = _seed002_conv_mnist("cuda")
    lc, ac = _seed002_conv_mnist("cpu")
    np.testing.assert_allclose(lg, lc, rtol=1e-4, atol=1e-5)
    assert ag == ac


@pytest.mark.gpu
@pytest.mark.slow
def test_seed000_gpu_loop_full_size():
    """The seed's own sizes (100 x 100 images, 10000 -> 500 -> 10)."""
    np.testing.assert_allclose(_seed000_simple_nn_losses("cuda", side=100, n=64, epochs=1),
                               _seed000_simple_nn_losses("cpu", side=100, n=64, epochs=1),
                               rtol=1e-4, atol=1e-5)


def test_legacy_cuda_types_and_type_names(cuda):
    x = ember.randn(3).cuda()
    assert x.type() == "torch.cuda.FloatTensor"
    assert isinstance(x, ember.cuda.FloatTensor) and not isinstance(x, ember.FloatTensor)
    assert x.type("torch.DoubleTensor").device.type == "cpu"
    y = ember.tensor([1.0, 2.0]).type(ember.cuda.LongTensor)
    assert y.is_cuda and y.dtype is ember.int64
    assert ember.cuda.FloatTensor([1, 2]).is_cuda


def test_seed_reseeds_cuda_generators(cuda):
    s = ember.seed()
    assert ember.cuda.initial_seed() == s == ember.initial_seed()


def test_dropout_on_cuda_draws_from_the_cuda_generator(cuda):
    x = ember.ones(1000).cuda()
    ember.cuda.manual_seed(5)
    a = ember.nn.functional.dropout(x, 0.5)
    state = ember.get_rng_state()
    ember.cuda.manual_seed(5)
    b = ember.nn.functional.dropout(x, 0.5)
    assert ember.equal(a.cpu(), b.cpu()) and ember.equal(state, ember.get_rng_state())

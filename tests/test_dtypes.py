"""dtypes, torch's type promotion, devices and the global RNG."""
import itertools

import numpy as np
import pytest
import torch

import ember
from oracle import DTYPES, assert_close

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_promote_types(a, b):
    assert str(ember.promote_types(getattr(ember, a), getattr(ember, b))) == \
        str(torch.promote_types(getattr(torch, a), getattr(torch, b)))


def _make(lib, name, ndim):
    shape = (2,) * ndim
    return lib.ones(shape, dtype=getattr(lib, name))


SCALARS = [True, 2, 2.5]


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
@pytest.mark.parametrize("nd", [(1, 1), (1, 0), (0, 1)])
def test_result_type_tensors(a, b, nd):
    e = ember.result_type(_make(ember, a, nd[0]), _make(ember, b, nd[1]))
    t = torch.result_type(_make(torch, a, nd[0]), _make(torch, b, nd[1]))
    assert str(e) == str(t)


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("s", SCALARS)
def test_result_type_scalar(a, s):
    assert str(ember.result_type(_make(ember, a, 1), s)) == str(torch.result_type(_make(torch, a, 1), s))


@pytest.mark.parametrize("a", [n for n in NAMES if n != "bool"])
@pytest.mark.parametrize("op", ["add", "mul", "truediv", "sub"])
@pytest.mark.parametrize("s", [2, 0.5])
def test_arithmetic_result_dtype(a, op, s):
    import operator
    f = getattr(operator, op)
    e = f(_make(ember, a, 1), s)
    t = f(_make(torch, a, 1), s)
    assert_close(e, t)


def test_bool_arithmetic():
    a, b = ember.tensor([True, False]), ember.tensor([True, True])
    ta, tb = torch.tensor([True, False]), torch.tensor([True, True])
    assert_close(a + b, ta + tb)
    assert_close(a * b, ta * tb)
    assert_close(a * 2, ta * 2)
    assert_close(a * 2.5, ta * 2.5)
    with pytest.raises(RuntimeError):
        a - b


def test_int_times_half_is_float32():
    assert ember.tensor([1, 2]).mul(0.5).dtype == ember.float32
    assert (ember.tensor([1, 2]) * 0.5).dtype == ember.float32


def test_default_dtype_roundtrip():
    assert ember.get_default_dtype() is ember.float32
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.5]).dtype is ember.float64
        assert ember.zeros(2).dtype is ember.float64
        assert (ember.tensor([1]) * 0.5).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int64)


def test_aliases_and_predicates():
    assert ember.float is ember.float32 and ember.long is ember.int64 and ember.double is ember.float64
    assert ember.half is ember.float16 and ember.int is ember.int32 and ember.short is ember.int16
    assert ember.float32.is_floating_point and not ember.int64.is_floating_point
    assert ember.is_floating_point(ember.zeros(1)) and not ember.is_floating_point(ember.zeros(1).long())
    assert repr(ember.float32) == "torch.float32"
    assert ember.can_cast(ember.int32, ember.float32) == torch.can_cast(torch.int32, torch.float32)
    assert ember.can_cast(ember.float32, ember.int32) == torch.can_cast(torch.float32, torch.int32)


@pytest.mark.parametrize("data", [[1, 2], [1.5, 2], [True, False], [[1, 2], [3, 4]], 3, 2.5, True,
                                  [1, 2.5], np.array([1, 2], dtype=np.int32),
                                  np.array([1.5], dtype=np.float64), np.float64(2.0)])
def test_tensor_dtype_inference(data):
    assert_close(ember.tensor(data), torch.tensor(data))


def test_tensor_type_conversions():
    x = ember.tensor([1.7, -2.2])
    t = torch.tensor([1.7, -2.2])
    for m in ["float", "double", "half", "long", "int", "short", "char", "byte", "bool"]:
        assert_close(getattr(x, m)(), getattr(t, m)())
    assert x.type() == t.type() == "torch.FloatTensor"
    assert x.long().type() == "torch.LongTensor"
    assert_close(x.type(ember.FloatTensor), t.type(torch.FloatTensor))
    assert_close(x.type(ember.int64), t.type(torch.int64))
    assert_close(x.to(ember.float64), t.to(torch.float64))
    assert isinstance(x, ember.FloatTensor) and not isinstance(x, ember.LongTensor)
    assert_close(ember.LongTensor([[1, 2], [3, 4]]), torch.LongTensor([[1, 2], [3, 4]]))
    assert_close(ember.FloatTensor([1, 2]), torch.FloatTensor([1, 2]))


def test_device():
    d = ember.device("cpu")
    assert repr(d) == repr(torch.device("cpu")) and str(d) == "cpu"
    assert repr(ember.device("cuda:1")) == repr(torch.device("cuda:1"))
    assert repr(ember.device("cuda", 0)) == repr(torch.device("cuda", 0))
    assert ember.zeros(1).device == ember.device("cpu") == "cpu"
    assert ember.zeros(1).to("cpu").device.type == "cpu"
    assert ember.zeros(1).cpu().is_cpu
    with pytest.raises(RuntimeError):
        ember.device("gpu")


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-GPU path")
def test_cuda_without_gpu():
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0
    with pytest.raises(AssertionError, match="CUDA"):
        ember.zeros(1).cuda()
    with pytest.raises(AssertionError):
        torch.zeros(1).cuda()


def test_rng_reproducible():
    ember.manual_seed(7)
    a = ember.rand(5)
    b = ember.randn(3)
    ember.manual_seed(7)
    assert ember.equal(a, ember.rand(5)) and ember.equal(b, ember.randn(3))
    state = ember.get_rng_state()
    c = ember.randint(0, 10, (4,))
    ember.set_rng_state(state)
    assert ember.equal(c, ember.randint(0, 10, (4,)))
    g = ember.Generator().manual_seed(3)
    g2 = ember.Generator().manual_seed(3)
    assert ember.equal(ember.randperm(10, generator=g), ember.randperm(10, generator=g2))
    assert ember.initial_seed() == 7


@pytest.mark.parametrize("fn,dtype,shape", [
    (lambda L: L.rand(2, 3), "float32", (2, 3)),
    (lambda L: L.randn((4,)), "float32", (4,)),
    (lambda L: L.randint(0, 5, (2, 2)), "int64", (2, 2)),
    (lambda L: L.randint(5, (3,)), "int64", (3,)),
    (lambda L: L.randperm(6), "int64", (6,)),
    (lambda L: L.normal(0.0, 1.0, size=(2,)), "float32", (2,)),
    (lambda L: L.normal(L.zeros(3), L.ones(3)), "float32", (3,)),
    (lambda L: L.bernoulli(L.full((3,), 0.5)), "float32", (3,)),
    (lambda L: L.multinomial(L.tensor([0.1, 0.5, 0.4]), 2), "int64", (2,)),
    (lambda L: L.multinomial(L.tensor([[0.1, 0.9], [0.5, 0.5]]), 4, replacement=True), "int64", (2, 4)),
    (lambda L: L.rand(2, dtype=L.float64), "float64", (2,)),
    (lambda L: L.randn_like(L.zeros(2, 2)), "float32", (2, 2)),
    (lambda L: L.zeros(2).uniform_(-1, 1), "float32", (2,)),
    (lambda L: L.zeros(2).normal_(), "float32", (2,)),
])
def test_random_shapes_dtypes(fn, dtype, shape):
    e, t = fn(ember), fn(torch)
    assert str(e.dtype) == str(t.dtype) == "torch." + dtype
    assert tuple(e.shape) == tuple(t.shape) == shape


def test_random_distributions():
    ember.manual_seed(0)
    x = ember.rand(20000)
    assert 0 <= float(x.min()) and float(x.max()) < 1 and abs(float(x.mean()) - 0.5) < 0.02
    y = ember.randn(20000)
    assert abs(float(y.mean())) < 0.03 and abs(float(y.std()) - 1) < 0.03
    p = ember.multinomial(ember.tensor([1.0, 0.0, 3.0]), 2)
    assert sorted(p.tolist()) == [0, 2]
    with pytest.raises(RuntimeError):
        ember.multinomial(ember.tensor([1.0, 0.0]), 3)


@pytest.mark.parametrize("expr", ["L.tensor([1, 2], dtype=L.int8) * 1000", "L.tensor([100], dtype=L.int8) + 100",
                                  "L.tensor([1], dtype=L.int16) * 100000", "L.tensor([3], dtype=L.int32) - 2**40",
                                  "L.tensor([1, 2], dtype=L.uint8) - 3"])
def test_python_int_beyond_the_integer_dtype_wraps_as_torch(expr):
    e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
    assert repr(e.dtype) == repr(t.dtype) and e.tolist() == t.tolist()

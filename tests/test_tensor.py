"""Tensor creation, attributes, views sharing storage, in-place ops, indexing."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check_op, raises_same, to_ember, to_torch


@pytest.mark.parametrize("expr", [
    "L.zeros(2, 3)", "L.zeros((2, 3))", "L.ones([2])", "L.full((2, 2), 7)", "L.full((2,), 1.5)",
    "L.full((2,), True)", "L.empty(3).shape", "L.eye(3)", "L.eye(2, 3)", "L.arange(5)",
    "L.arange(1, 4)", "L.arange(0, 1, 0.25)", "L.arange(0.5, 3)", "L.arange(10, 0, -3)",
    "L.linspace(0, 1, 5)", "L.logspace(0, 2, 3)", "L.zeros_like(L.ones(2, dtype=L.int32))",
    "L.ones_like(L.ones(2))", "L.full_like(L.ones(2), 3.0)", "L.tensor([])", "L.tensor([[1, 2]])",
    "L.Tensor(2, 3).shape", "L.Tensor([1, 2])", "L.tensor(3)", "L.as_tensor([1, 2])",
    "L.zeros(2, dtype=L.float64)", "L.tril_indices(3, 3)", "L.triu_indices(3, 3, 1)",
    "L.scalar_tensor(2)", "L.tensor([1, 2]).new_zeros(3)", "L.tensor([1., 2]).new_ones((2, 2))",
    "L.tensor([1., 2]).new_full((2,), 4)", "L.tensor([1., 2]).new_tensor([3, 4])",
])
def test_creation(expr):
    e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
    if isinstance(t, torch.Size):
        assert tuple(e) == tuple(t)
    else:
        assert_close(e, t)


def test_attributes():
    e = ember.arange(24.).reshape(2, 3, 4)
    t = torch.arange(24.).reshape(2, 3, 4)
    assert e.shape == t.shape and e.size() == t.size() and e.size(1) == t.size(1) == 3
    assert e.size(-1) == 4 and e.dim() == e.ndim == 3 and e.numel() == 24
    assert e.stride() == t.stride() and e.transpose(0, 2).stride() == t.transpose(0, 2).stride()
    assert e[:, 1:].storage_offset() == t[:, 1:].storage_offset()
    assert e.element_size() == 4 and e.is_contiguous() and not e.transpose(0, 1).is_contiguous()
    assert repr(e.shape) == "torch.Size([2, 3, 4])"
    assert_close(e.T, t.permute(2, 1, 0))
    assert_close(e.mT, t.mT)
    assert e.is_leaf and not e.requires_grad and e.grad_fn is None
    with pytest.raises(IndexError):
        e.size(3)


def test_item_tolist_bool_len_iter():
    e = ember.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert e[0, 1].item() == 2.0 and e.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert len(e) == 2 and [r.tolist() for r in e] == [[1.5, 2.0], [3.0, 4.0]]
    assert bool(ember.tensor([1])) and not bool(ember.tensor(0.0))
    assert float(ember.tensor(2.5)) == 2.5 and int(ember.tensor(3)) == 3
    assert [10, 20, 30][ember.tensor(1)] == 20
    with pytest.raises(RuntimeError):
        bool(e)
    with pytest.raises(RuntimeError):
        e.item()
    with pytest.raises(TypeError):
        len(ember.tensor(1.0))
    assert hash(e) == id(e)
    assert f"{ember.tensor(2.5):.2f}" == "2.50"


def test_numpy_shares_memory_both_ways():
    a = np.zeros(3, dtype=np.float32)
    t = ember.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5
    t[1] = 7
    assert a[1] == 7
    n = t.numpy()
    n[2] = 9
    assert t[2].item() == 9
    assert np.asarray(t) is not None and np.asarray(t)[2] == 9
    with pytest.raises(RuntimeError):
        ember.zeros(2, requires_grad=True).numpy()
    assert ember.tensor(np.array([1, 2], dtype=np.int16)).dtype is ember.int16
    assert ember.tensor(a)[0].item() == 5
    a[0] = 1
    assert ember.tensor(a)[0].item() == 1  # tensor() copies; from_numpy shares
    with pytest.raises(TypeError):
        ember.from_numpy(np.array(["a"]))


@pytest.mark.parametrize("make_view", [
    lambda x: x.view(6, 4), lambda x: x.reshape(-1), lambda x: x[1], lambda x: x[:, 1:3],
    lambda x: x.transpose(0, 1), lambda x: x.permute(2, 0, 1), lambda x: x.narrow(2, 1, 2),
    lambda x: x.unsqueeze(0), lambda x: x.flatten(), lambda x: x[..., 0], lambda x: x.select(1, 2),
    lambda x: x.unbind(0)[1], lambda x: x.split(1, 1)[2], lambda x: x.chunk(2, 2)[0],
    lambda x: x.t() if x.dim() == 2 else x.movedim(0, 2), lambda x: x.view_as(x),
    lambda x: x.unflatten(2, (2, 2)), lambda x: x.diagonal(), lambda x: x.detach(),
])
def test_views_share_storage(make_view):
    e = ember.arange(24.).reshape(2, 3, 4)
    t = torch.arange(24.).reshape(2, 3, 4)
    ev, tv = make_view(e), make_view(t)
    ev.add_(100)
    tv.add_(100)
    assert_close(e, t)
    e.mul_(2)
    t.mul_(2)
    assert_close(ev, tv)
    assert ev._version == e._version


def test_view_errors():
    raises_same(lambda L, x: x.transpose(0, 1).view(-1), ember.zeros(2, 3))
    raises_same(lambda L, x: x.view(5), ember.zeros(2, 3))
    raises_same(lambda L, x: x.view(-1, -1), ember.zeros(2, 3))
    raises_same(lambda L, x: x.reshape(4, 2), ember.zeros(2, 3))
    raises_same(lambda L, x: x.expand(3, 3), ember.zeros(2, 3))
    raises_same(lambda L, x: x.permute(0, 0), ember.zeros(2, 3))
    raises_same(lambda L, x: x.transpose(0, 5), ember.zeros(2, 3))
    raises_same(lambda L, x: L.cat([x, x.t()]), ember.zeros(2, 3))
    raises_same(lambda L, x: L.stack([x, x.t()]), ember.zeros(2, 3))
    raises_same(lambda L, x: x.sum(3), ember.zeros(2, 3))
    raises_same(lambda L, x: x + L.zeros(4), ember.zeros(2, 3))
    raises_same(lambda L, x: x @ L.zeros(4, 2), ember.zeros(2, 3))
    raises_same(lambda L, x: x[5], ember.zeros(2, 3))
    raises_same(lambda L, x: x[0, 0, 0], ember.zeros(2, 3))
    raises_same(lambda L, x: x[L.tensor([0.5])], ember.zeros(2, 3))
    raises_same(lambda L, x: x.backward(), ember.zeros(2, 3, requires_grad=True) * 2)
    raises_same(lambda L, x: x.backward(), ember.zeros(2, 3))
    raises_same(lambda L, x: x.gather(0, L.tensor([[5]])), ember.zeros(2, 3))
    raises_same(lambda L, x: x.index_select(0, L.tensor([1.0])), ember.zeros(2, 3))
    raises_same(lambda L, x: x.squeeze(4), ember.zeros(2, 3))
    raises_same(lambda L, x: x.masked_fill(L.zeros(2, 3), 1.0), ember.zeros(2, 3))
    raises_same(lambda L, x: x.mean(), ember.zeros(2, 3, dtype=ember.int64))
    raises_same(lambda L, x: x.add_(0.5), ember.zeros(2, 3, dtype=ember.int64))
    raises_same(lambda L, x: x.requires_grad_(), ember.zeros(2, 3, dtype=ember.int64))


def test_inplace_ops_match_torch():
    for name, args in [("add_", (2,)), ("sub_", (1.5,)), ("mul_", (3,)), ("div_", (2,)),
                       ("clamp_", (-0.5, 0.5)), ("pow_", (2,)), ("exp_", ()), ("neg_", ()),
                       ("abs_", ()), ("sqrt_", ()), ("zero_", ()), ("fill_", (4,)),
                       ("masked_fill_", None), ("copy_", None), ("addcmul_", None), ("lerp_", None),
                       ("floor_", ()), ("sigmoid_", ()), ("tanh_", ()), ("relu_", ())]:
        a = np.random.default_rng(0).random((3, 4)).astype(np.float32)
        e, t = ember.tensor(a), torch.tensor(a)
        if name == "masked_fill_":
            args_e, args_t = (e > 0.5, 0.0), (t > 0.5, 0.0)
        elif name == "copy_":
            args_e, args_t = (ember.ones(4),), (torch.ones(4),)
        elif name == "addcmul_":
            args_e, args_t = (e.clone(), e.clone()), (t.clone(), t.clone())
        elif name == "lerp_":
            args_e, args_t = (ember.ones(3, 4), 0.3), (torch.ones(3, 4), 0.3)
        else:
            args_e = args_t = args
        re = getattr(e, name)(*args_e)
        rt = getattr(t, name)(*args_t)
        assert re is e, name
        assert_close(e, rt)
    x = ember.ones(2)
    x += 1
    x *= 3
    x -= 1
    x /= 5
    assert_close(x, torch.tensor([1.0, 1.0]))


def test_inplace_on_leaf_requiring_grad_errors():
    raises_same(lambda L, x: x.add_(1), ember.zeros(2, requires_grad=True))
    w = ember.zeros(2, requires_grad=True)
    with ember.no_grad():
        w.add_(1)
    assert w.tolist() == [1.0, 1.0] and w.is_leaf


def test_inplace_autograd_and_version_counter():
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.add_(1)
        y.mul_(3)
        assert y._version == 2
        (y * y).sum().backward()
        grads.append(x.grad)
    assert_close(*grads)
    for lib in (ember, torch):  # ExpBackward0 saves its output, then it is modified
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_setitem_forms():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    for idx, val in [((1,), 5.0), ((slice(None), 2), -1.0), ((np.array([0, 2]),), 3.0),
                     ((slice(1, 3), slice(None, None, 2)), 7.0), ((Ellipsis, -1), 0.5)]:
        e, t = ember.tensor(a), torch.tensor(a)
        e[idx] = val
        t[idx] = val
        assert_close(e, t)
    e, t = ember.tensor(a), torch.tensor(a)
    e[e > 10] = 0
    t[t > 10] = 0
    assert_close(e, t)
    e[0] = ember.arange(6.)
    t[0] = torch.arange(6.)
    assert_close(e, t)
    e[:, 0] = ember.tensor([9.0])  # broadcasting
    t[:, 0] = torch.tensor([9.0])
    assert_close(e, t)
    e[[0, 1], [1, 2]] = ember.tensor([-1.0, -2.0])
    t[[0, 1], [1, 2]] = torch.tensor([-1.0, -2.0])
    assert_close(e, t)


@pytest.mark.parametrize("idx", [
    (0,), (-1,), (slice(1, 3),), (slice(None, None, 2), 1), (None, 0), (Ellipsis, 1),
    ([0, 2, 2],), ((slice(None), [1, 0])), ([0, 1], [2, 3]), ("mask",), (1, slice(None), None),
    ("t_idx",), ("t_idx2d",),
])
def test_getitem_with_grad(idx):
    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)

    def f(L, x):
        ii = []
        for i in (idx if isinstance(idx, tuple) else (idx,)):
            if i == "mask":
                i = x > 0
            elif i == "t_idx":
                i = L.tensor([2, 0])
            elif i == "t_idx2d":
                i = L.tensor([[0, 1], [1, 1]])
            ii.append(i)
        return x[tuple(ii)]
    check_op(f, a)


def test_setitem_autograd():
    for lib in (ember, torch):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = lib.zeros(2, 3)
        h[0] = w * 2
        h[1, 1:] = w[:2] ** 2
        (h * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        if lib is ember:
            eg, eh = w.grad, h
        else:
            assert_close(eg, w.grad)
            assert_close(eh, h)


def test_clone_detach_contiguous_data():
    e = ember.arange(6.).reshape(2, 3).requires_grad_()
    c = e.clone()
    assert c.grad_fn.name() == "CloneBackward0"
    d = e.detach()
    assert not d.requires_grad and d._data is e._data
    t = e.t().contiguous()
    assert t.is_contiguous()
    x = ember.zeros(3)
    x.data = ember.ones(2)
    assert x.shape == (2,)
    y = ember.ones(2, requires_grad=True)
    z = y.data
    z.add_(1)
    assert y.tolist() == [2.0, 2.0] and not z.requires_grad


def test_resize_and_repeat():
    e = ember.arange(12.).reshape(3, 4)
    t = torch.arange(12.).reshape(3, 4)
    e.resize_(3, 1, 4)
    t.resize_(3, 1, 4)
    assert_close(e, t)
    assert_close(ember.arange(3.).repeat(2, 2), torch.arange(3.).repeat(2, 2))


def test_pickle_and_deepcopy():
    e = ember.arange(6.).reshape(2, 3).requires_grad_()
    e2 = pickle.loads(pickle.dumps(e))
    assert_close(e2, torch.arange(6.).reshape(2, 3)) and e2.requires_grad
    e3 = copy.deepcopy(e)
    assert e3.requires_grad and e3._data is not e._data
    with pytest.raises(RuntimeError):
        copy.deepcopy(e * 2)


@pytest.mark.parametrize("fn", [
    lambda L, x: L.where(x > 0, x, L.zeros_like(x)), lambda L, x: x.nonzero(),
    lambda L, x: L.nonzero(x > 0, as_tuple=True), lambda L, x: x.masked_select(x > 0),
    lambda L, x: x.take(L.tensor([0, 5, 7])), lambda L, x: x.flip(0, 1),
    lambda L, x: x.roll(2), lambda L, x: x.roll((1, -1), (0, 1)), lambda L, x: x.triu(1),
    lambda L, x: x.argsort(1), lambda L, x: x.sort(0, descending=True),
    lambda L, x: x.topk(2, largest=False), lambda L, x: (x > 0).long().unique(),
    lambda L, x: L.tensor([3, 1, 3, 2]).unique(return_counts=True),
    lambda L, x: L.tensor([3, 1, 3, 2]).unique(return_inverse=True),
    lambda L, x: x.scatter(1, L.tensor([[0], [1], [2]]), 9.0),
    lambda L, x: x.index_add(0, L.tensor([0, 0]), L.ones(2, 4)),
    lambda L, x: x.argmax(), lambda L, x: x.argmin(1, keepdim=True),
    lambda L, x: L.cat([x, x], dim=-1), L_hstack := (lambda L, x: L.hstack([x, x])),
    lambda L, x: L.vstack([x, x]), lambda L, x: x.any(), lambda L, x: (x > 0).all(1),
    lambda L, x: x.kthvalue(2, 1), lambda L, x: x.cummax(1), lambda L, x: x.count_nonzero(),
    lambda L, x: L.searchsorted(L.tensor([1.0, 2.0, 3.0]), L.tensor([2.5, 0.1])),
    lambda L, x: L.bucketize(L.tensor([2.5, 0.1]), L.tensor([1.0, 2.0, 3.0])),
    lambda L, x: x.tensor_split(3, 1), lambda L, x: x.split([1, 2], 0),
    lambda L, x: L.broadcast_tensors(x, L.ones(4)), lambda L, x: x.expand(2, 3, 4),
    lambda L, x: L.meshgrid(L.arange(3), L.arange(2), indexing="ij"),
    lambda L, x: x.repeat_interleave(2, dim=0), lambda L, x: x.diag(),
    lambda L, x: L.diag(L.tensor([1.0, 2.0])), lambda L, x: x.unfold(1, 2, 1),
    lambda L, x: L.isclose(x, x + 1e-9), lambda L, x: x.nan_to_num(),
    lambda L, x: L.allclose(x, x), lambda L, x: L.equal(x, x.clone()),
    lambda L, x: x.aminmax(), lambda L, x: x.histc(bins=4), lambda L, x: x.mode(1),
])
def test_selection_ops(fn):
    a = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    eo, to = fn(ember, ember.tensor(a)), fn(torch, torch.tensor(a))
    if isinstance(to, bool):
        assert eo == to
    else:
        assert_close(eo, to, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- torch.softmax, resize, types
@pytest.mark.parametrize("expr", ["L.softmax(x, 1)", "L.log_softmax(x, 0)", "x.softmax(-1)",
                                  "x.log_softmax(dim=1)", "L.softmax(x, 1, L.float64)",
                                  "x.log_softmax(0, dtype=L.float64)"])
def test_softmax_function_and_method_forms(expr):
    a = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    check_op(lambda lib, x: eval(expr, {"L": lib, "x": x}), a)


def test_deprecated_resize_reshapes_with_torch_warning_and_error():
    a = np.arange(12.0)
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
            y = x.resize(3, 4)
        assert tuple(y.shape) == (3, 4)
        (y * lib.arange(12.0).reshape(3, 4)).sum().backward()
        assert np.array_equal(x.grad.numpy(), np.arange(12.0))
    te = raises_same(lambda lib: lib.zeros(2, 3).resize(4, 5))
    with pytest.raises(type(te), match="requested resize to 4x5") as ee:
        ember.zeros(2, 3).resize(4, 5)
    assert str(ee.value) == str(te)


@pytest.mark.parametrize("target", ["torch.DoubleTensor", "torch.LongTensor", "torch.BoolTensor"])
def test_type_by_name(target):
    e = ember.tensor([1.5, 2.5]).type(target)
    t = torch.tensor([1.5, 2.5]).type(target)
    assert_close(e, t)
    assert e.type() == t.type()


def test_type_by_unknown_name_raises_as_torch():
    te = raises_same(lambda lib: lib.tensor([1.5]).type("LongTensor"))
    with pytest.raises(type(te)) as ee:
        ember.tensor([1.5]).type("LongTensor")
    assert str(ee.value) == str(te)


def test_legacy_cuda_type_objects():
    assert repr(ember.cuda.FloatTensor) == repr(torch.cuda.FloatTensor)
    assert repr(ember.LongTensor) == repr(torch.LongTensor)
    x = ember.randn(2)
    assert isinstance(x, ember.FloatTensor) and not isinstance(x, ember.cuda.FloatTensor)
    assert x.type(ember.DoubleTensor).dtype is ember.float64


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.float16])
def test_uniform_normal_fill_in_place_with_their_statistics(dtype):
    w = ember.empty(400, 500, dtype=dtype)
    ptr = w.data_ptr()
    w.uniform_(-3.0, 1.0)
    assert w.dtype is dtype and w.data_ptr() == ptr
    assert -3.0 <= float(w.min()) and float(w.max()) <= 1.0
    assert abs(float(w.float().mean()) + 1.0) < 0.02
    w.normal_(2.0, 0.5)
    assert abs(float(w.float().mean()) - 2.0) < 0.01 and abs(float(w.float().std()) - 0.5) < 0.01
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    a = ember.empty(5, dtype=dtype).normal_(generator=g1)
    assert ember.equal(a, ember.empty(5, dtype=dtype).normal_(generator=g2))
    v = ember.empty(4, 6, dtype=dtype).t().uniform_(5.0, 6.0)  # non-contiguous storage
    assert 5.0 <= float(v.min()) and float(v.max()) <= 6.0


@pytest.mark.parametrize("expr", ["x[[[0, 1], [1, 2]]]", "x[[L.tensor(0), L.tensor(2)]]", "x[[0, 2]]",
                                  "x[[slice(None), 1]]", "x[[None, 0]]"])
def test_list_index_of_sequences_is_a_tuple_as_torch(expr):
    a = np.arange(12.0).reshape(3, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e = eval(expr, {"L": ember, "x": ember.tensor(a)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = eval(expr, {"L": torch, "x": torch.tensor(a)})
    assert_close(e, t)
    assert any("non-tuple sequence" in str(w.message) for w in caught) == (expr != "x[[0, 2]]")

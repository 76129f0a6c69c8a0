"""Broadcasting and reductions over generated shapes (hypothesis), against torch."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ember
from oracle import check_op

pytestmark = pytest.mark.usefixtures("each_device")  # CPU, fake CuPy, GPU

shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)
OPS = {
    "add": lambda L, a, b: a + b, "mul": lambda L, a, b: a * b, "sub": lambda L, a, b: a - b,
    "div": lambda L, a, b: a / (b.abs() + 1), "max": lambda L, a, b: L.maximum(a, b),
    "where": lambda L, a, b: L.where(a > b, a, b), "pow": lambda L, a, b: a.abs() ** (b / 4),
}


@settings(max_examples=60, deadline=None)
@given(shapes=shapes, op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2**16))
def test_binary_broadcasting(shapes, op, seed):
    r = np.random.default_rng(seed)
    a = r.standard_normal(shapes.input_shapes[0]).astype(np.float64)
    b = r.standard_normal(shapes.input_shapes[1]).astype(np.float64)
    check_op(OPS[op], np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5),
       data=st.data())
def test_reductions_over_dims(shape, data):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    keep = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["sum", "mean", "amax", "amin", "std", "logsumexp"]))
    a = np.random.default_rng(0).standard_normal(shape)
    if name == "std" and np.prod([shape[d] for d in dims]) < 2:
        return
    check_op(lambda L, x: getattr(x, name)(tuple(dims), keepdim=keep), a, rtol=1e-6, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_permuted_views_then_ops(shape, data):
    perm = data.draw(st.permutations(range(len(shape))))
    a = np.random.default_rng(1).standard_normal(shape)
    check_op(lambda L, x: (x.permute(*perm).exp() * 2).reshape(-1).cumsum(0), a, rtol=1e-6,
             atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(sa=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
       sb=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
def test_matmul_shapes(sa, sb):
    sb = list(sb)
    sb[-2 if len(sb) > 1 else 0] = sa[-1]
    a = np.random.default_rng(2).standard_normal(sa)
    b = np.random.default_rng(3).standard_normal(tuple(sb))
    try:
        torch.matmul(torch.tensor(a), torch.tensor(b))
    except RuntimeError:
        import pytest
        with pytest.raises(RuntimeError):
            ember.matmul(ember.tensor(a), ember.tensor(b))
        return
    check_op(lambda L, x, y: L.matmul(x, y), a, b, rtol=1e-6, atol=1e-8)

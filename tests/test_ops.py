"""Core ops against PyTorch: values, dtypes, shapes and gradients."""
import numpy as np
import pytest

from oracle import check_op

pytestmark = pytest.mark.usefixtures("each_device")  # CPU, fake CuPy, GPU

r = np.random.default_rng(0)
A = r.standard_normal((3, 4)).astype(np.float32)
Bm = r.standard_normal((4, 5)).astype(np.float32)
C = r.standard_normal((3, 4)).astype(np.float32)
P = np.abs(A) + 0.5

tests = {
 'add': (lambda T,a,b: a+b, A, C),
 'add_bcast': (lambda T,a,b: a+b, A, C[0]),
 'sub': (lambda T,a,b: a-b*2, A, C),
 'mul': (lambda T,a,b: a*b, A, C),
 'div': (lambda T,a,b: a/b, A, P),
 'rdiv': (lambda T,a: 1/a, P),
 'pow': (lambda T,a: a**3, A),
 'powt': (lambda T,a,b: a**b, P, C),
 'rpow': (lambda T,a: 2**a, A),
 'matmul': (lambda T,a,b: a@b, A, Bm),
 'exp': (lambda T,a: T.exp(a), A),
 'log': (lambda T,a: T.log(a), P),
 'sigmoid': (lambda T,a: T.sigmoid(a), A),
 'tanh': (lambda T,a: a.tanh(), A),
 'relu': (lambda T,a: a.relu(), A),
 'sum': (lambda T,a: a.sum(), A),
 'sum1': (lambda T,a: a.sum(1, keepdim=True), A),
 'mean': (lambda T,a: a.mean(0), A),
 'max': (lambda T,a: a.max(), A),
 'maxdim': (lambda T,a: a.max(1), A),
 'std': (lambda T,a: a.std(1), A),
 'var': (lambda T,a: a.var(), A),
 'norm': (lambda T,a: a.norm(), A),
 'lse': (lambda T,a: T.logsumexp(a, 1), A),
 'cumsum': (lambda T,a: a.cumsum(1), A),
 'cumprod': (lambda T,a: a.cumprod(1), A),
 'prod': (lambda T,a: a.prod(1), A),
 'view': (lambda T,a: a.view(4,3)*2, A),
 'T': (lambda T,a: a.T @ a, A),
 'perm': (lambda T,a: a.reshape(3,2,2).permute(2,0,1), A),
 'cat': (lambda T,a,b: T.cat([a,b],1), A, C),
 'stack': (lambda T,a,b: T.stack([a,b],1), A, C),
 'split': (lambda T,a: a.split(2, 1)[1]*3, A),
 'chunk': (lambda T,a: a.chunk(2, 0)[0]*3, A),
 'unbind': (lambda T,a: a.unbind(1)[2]*3, A),
 'index': (lambda T,a: a[1:, ::2], A),
 'index_adv': (lambda T,a: a[[0,2,0]], A),
 'index_mask': (lambda T,a: a[a>0], A),
 'gather': (lambda T,a: a.gather(1, T.tensor([[0,1],[2,3],[1,1]])), A),
 'where': (lambda T,a,b: T.where(a>0, a, b), A, C),
 'clamp': (lambda T,a: a.clamp(-0.5, 0.5), A),
 'abs': (lambda T,a: a.abs(), A),
 'sqrt': (lambda T,a: a.sqrt(), P),
 'expand': (lambda T,a: a[0].expand(3,4)*a, A),
 'squeeze': (lambda T,a: a.unsqueeze(0).squeeze(0), A),
 'flip': (lambda T,a: a.flip(0), A),
 'roll': (lambda T,a: a.roll(1, 1), A),
 'tril': (lambda T,a: a.tril(), A),
 'sort': (lambda T,a: a.sort(1), A),
 'topk': (lambda T,a: a.topk(2, 1), A),
 'einsum': (lambda T,a,b: T.einsum('ij,jk->ik', a, b), A, Bm),
 'repeat': (lambda T,a: a.repeat(2,1), A),
 'masked_fill': (lambda T,a: a.masked_fill(a<0, 0.), A),
 'index_select': (lambda T,a: a.index_select(1, T.tensor([0,2])), A),
 'amax': (lambda T,a: a.amax(1), A),
 'median': (lambda T,a: a.median(1), A),
 'maximum': (lambda T,a,b: T.maximum(a,b), A, C),
 'bmm': (lambda T,a,b: T.bmm(a.reshape(1,3,4), b.reshape(1,4,5)), A, Bm),
 'mv': (lambda T,a,b: T.mv(a, b[:,0]), A, Bm),
 'addmm': (lambda T,a,b,c: T.addmm(c[0,:], a, b[:, :4]), A, Bm, C),
 'erf': (lambda T,a: T.erf(a), A),
 'lerp': (lambda T,a,b: T.lerp(a, b, 0.3), A, C),
 'scatter_add': (lambda T,a: T.zeros(3,5).scatter_add(1, T.tensor([[0,1,1,4]]*3), a), A),
}


@pytest.mark.parametrize("name", sorted(tests))
def test_op_matches_torch(name):
    fn, *arrays = tests[name]
    check_op(fn, *arrays, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- scatter_reduce, searching, counting
_SR = np.random.default_rng(5)
_SR_IDX = _SR.integers(0, 4, (3, 5))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    grad = reduce in ("sum", "mean")  # the others refuse inputs needing a gradient
    check_op(lambda lib, x, s: x.scatter_reduce(1, lib.tensor(_SR_IDX), s, reduce,
                                                include_self=include_self),
             _SR.standard_normal((3, 4)), _SR.standard_normal((3, 5)), requires_grad=grad)
    ints = (_SR.integers(0, 9, (3, 4)), _SR.integers(-5, 5, (3, 5)))
    check_op(lambda lib, x, s: x.scatter_reduce(1, lib.tensor(_SR_IDX), s, reduce,
                                                include_self=include_self), *ints)


def test_scatter_reduce_refuses_gradient_it_lacks():
    import ember
    x = ember.zeros(3, 4, requires_grad=True)
    with pytest.raises(NotImplementedError, match="amax"):
        x.scatter_reduce(1, ember.tensor(_SR_IDX), ember.ones(3, 5), "amax")
    with pytest.raises(RuntimeError, match="reduce argument"):
        x.scatter_reduce(1, ember.tensor(_SR_IDX), ember.ones(3, 5), "max")


@pytest.mark.parametrize("expr", [
    "L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, "
    "return_counts=True)",
    "L.searchsorted(L.tensor([1, 3, 5, 7, 9]), L.tensor([[3, 6, 9], [0, 10, 5]]))",
    "L.searchsorted(L.tensor([1, 3, 5, 7, 9]), L.tensor([3, 6, 9]), right=True)",
    "L.searchsorted(L.tensor([[1, 3, 5], [2, 4, 6]]), L.tensor([[3, 6], [1, 5]]), out_int32=True)",
    "L.bucketize(L.tensor([[3, 6, 9], [0, 10, 5]]), L.tensor([1, 3, 5, 7, 9]))",
    "L.bucketize(L.tensor([3, 6, 9]), L.tensor([1, 3, 5, 7, 9]), right=True)",
    "L.histc(L.tensor([0.5, 1.5, 1.7, 3.0, -2.0]), 4)",
    "L.histc(L.tensor([0.5, 1.5, 1.7, 3.0, -2.0]), 3, -1, 2)",
    "L.bincount(L.tensor([0, 1, 1, 3]))",
    "L.bincount(L.tensor([0, 1, 1, 3]), L.tensor([0.5, 0.5, 1.0, 2.0]))",
    "L.bincount(L.tensor([0, 1, 1, 3]), L.tensor([1, 2, 3, 4]), minlength=6)",
])
def test_searching_and_counting(expr):
    import ember
    import torch
    e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
    e, t = (e, t) if isinstance(t, tuple) else ((e,), (t,))
    for a, b in zip(e, t):
        assert a.dtype.__repr__() == b.dtype.__repr__() and a.tolist() == b.tolist()


def test_masked_scatter_values_gradients_and_error():
    mask = np.array([[True, False, True], [False, True, True]])
    check_op(lambda lib, x, s: x.masked_scatter(lib.tensor(mask), s),
             np.random.default_rng(6).standard_normal((2, 3)),
             np.random.default_rng(7).standard_normal((2, 5)))
    check_op(lambda lib, x, s: x.masked_scatter(lib.tensor([True, False, True]), s),
             np.zeros((2, 3)), np.arange(10.0).reshape(2, 5))
    import ember
    with pytest.raises(RuntimeError, match="Number of elements of source"):
        ember.zeros(4).masked_scatter(ember.tensor([True, True, False, True]), ember.ones(2))


_Q = np.random.default_rng(8).standard_normal((4, 5))


@pytest.mark.parametrize("expr", [
    "x.cummax(1)", "x.cummin(0)", "L.mode(L.round(x), 1)", "x.round().mode(0, keepdim=True)",
    "x.quantile(0.3)", "x.quantile(0.5, dim=1)", "x.quantile(L.tensor([0.1, 0.9], dtype=x.dtype), dim=0)",
    "x.quantile(0.25, dim=1, keepdim=True)", "x.quantile(L.tensor([0.2, 0.7], dtype=x.dtype), keepdim=True)",
    "x.quantile(0.4, dim=1, interpolation='lower')", "x.quantile(0.4, dim=1, interpolation='higher')",
    "x.quantile(0.4, dim=1, interpolation='nearest')", "x.quantile(0.4, dim=1, interpolation='midpoint')",
    "L.xlogy(x.abs(), 2.0)", "x.tile(2)", "x.tile(2, 1)",
])
def test_value_picking_ops_have_gradients(expr):
    check_op(lambda lib, x: eval(expr, {"L": lib, "x": x}), _Q)


def test_fmax_fmin_gradients_with_ties_and_nan():
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    b = np.array([1.0, 3.0, 0.5, np.nan, 2.0])
    check_op(lambda lib, x, y: lib.fmax(x, y), a, b)
    check_op(lambda lib, x, y: lib.fmin(x, y), a, b)


@pytest.mark.parametrize("shapes", [((3, 4), (5, 4)), ((2, 3, 4), (4,)), ((4,), (4,)), ((), (2, 3))])
def test_inner_any_rank(shapes):
    r = np.random.default_rng(9)
    check_op(lambda lib, x, y: lib.inner(x, y), r.standard_normal(shapes[0]),
             r.standard_normal(shapes[1]))


@pytest.mark.parametrize("expr", ["L.atleast_1d(L.tensor(1.0), L.ones(2))",
                                  "L.atleast_2d([L.tensor(1.0), L.ones(2)])",
                                  "L.atleast_3d(L.ones(2, 3))", "L.atleast_3d(L.ones(2), L.ones(1, 2))"])
def test_atleast_nd_one_or_several(expr):
    import ember
    import torch
    e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
    assert type(e) is type(t) or isinstance(e, ember.Tensor)
    e, t = (e, t) if isinstance(t, tuple) else ((e,), (t,))
    assert [tuple(a.shape) for a in e] == [tuple(b.shape) for b in t]


@pytest.mark.parametrize("expr", ["L.tensor([True, False]).square()", "L.tensor([True, False]).sign()",
                                  "L.tensor([True, False]).sgn()", "L.tensor([[1, 2], [3, 4]]).nansum(1)",
                                  "L.tensor([True, False, True]).nansum()",
                                  "L.tensor([1.0, float('nan'), 2.0]).nansum()"])
def test_integer_and_bool_result_dtypes(expr):
    import ember
    import torch
    e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
    assert repr(e.dtype) == repr(t.dtype) and e.tolist() == t.tolist()


@pytest.mark.parametrize("args", [(), (1,), (-1, 0, 2), (2, 1), (0, 2, 0), (1, -1, 1)])
def test_diag_embed_dims(args):
    check_op(lambda lib, x: x.diag_embed(*args), np.random.default_rng(10).standard_normal((2, 3)))


# ---------------------------------------------------------------- more of torch's namespace
_R = np.random.default_rng(13)
_A34, _B34 = _R.standard_normal((3, 4)), _R.standard_normal((3, 4))


@pytest.mark.parametrize("expr", [
    "L.divide(x, y)", "L.multiply(x, y)", "L.subtract(x, y, alpha=2)", "x.divide(y)", "L.positive(x)",
    "L.logaddexp(x * 300, y)", "L.logaddexp2(x, y * 200)", "L.deg2rad(x)", "x.rad2deg()",
    "L.sinc(L.cat([x, L.zeros_like(x)]))",
    "L.ravel(x.t())", "L.rot90(x)", "L.rot90(x, 2)", "L.rot90(x, -1, (1, 0))", "L.hsplit(x, 2)[1]",
    "L.vsplit(x, [1])[1]", "L.dsplit(x.reshape(3, 2, 2), 2)[0]", "L.diagflat(x[0])", "L.diagflat(x[0], -1)",
    "L.diff(x)", "L.diff(x, 2, 0)", "L.diff(x, dim=0, prepend=y[:1], append=y[1:])", "L.trapezoid(x)",
    "L.trapezoid(x, dx=0.5, dim=0)", "L.trapezoid(x, y.cumsum(1).abs())", "L.cumulative_trapezoid(x)",
    "L.cov(x)", "L.cov(x, correction=0)", "L.cov(x, fweights=L.tensor([1, 2, 1, 3]), aweights=y[0].abs())",
    "L.corrcoef(x)", "L.dist(x, y)", "L.dist(x, y, 1)", "L.cdist(x, y)", "L.cdist(x, y[:2], p=1)",
    "L.cdist(x.reshape(1, 3, 4), y.reshape(1, 3, 4), compute_mode='donot_use_mm_for_euclid_dist')",
    "L.block_diag(x, y[:1], L.tensor(2.0, dtype=x.dtype))", "L.cartesian_prod(x[0], y[0, :2])",
    "L.combinations(x[0])", "L.combinations(x[0], 3)", "L.combinations(x[0], with_replacement=True)",
])
def test_compositions_match_torch(expr):
    check_op(lambda lib, x, y: eval(expr, {"L": lib, "x": x, "y": y}), _A34, _B34)


@pytest.mark.parametrize("expr", [  # torch cannot differentiate these: values only
    "L.heaviside(L.cat([x, L.zeros_like(x)]), L.tensor(0.5, dtype=x.dtype))",
    "L.vander(x[0])", "L.vander(x[0], 3, increasing=True)"])
def test_compositions_values_match_torch(expr):
    check_op(lambda lib, x, y: eval(expr, {"L": lib, "x": x, "y": y}), _A34, _B34,
             requires_grad=False)


@pytest.mark.parametrize("expr", ["L.gcd(L.tensor([12, 18, -8]), L.tensor([8, 12, 6]))",
                                  "L.lcm(L.tensor([4, 6]), L.tensor([6, 4]))",
                                  "L.isin(L.tensor([1, 2, 3, 4]), L.tensor([2, 4]))",
                                  "L.isin(L.tensor([1, 2, 3]), L.tensor([2]), invert=True)",
                                  "L.unravel_index(L.tensor([5, 7]), (3, 4))",
                                  "L.diff(L.tensor([True, True, False]))"])
def test_integer_compositions_match_torch(expr):
    import ember
    import torch
    e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
    e, t = (e, t) if isinstance(t, tuple) else ((e,), (t,))
    for a, b in zip(e, t):
        assert repr(a.dtype) == repr(b.dtype) and a.tolist() == b.tolist()


@pytest.mark.parametrize("expr", [
    "L.slogdet(x)[1]", "L.linalg.slogdet(x).logabsdet", "L.logdet(x @ x.mT + L.eye(3, dtype=x.dtype))",
    "L.ldexp(x, L.tensor([1, 2, 3]))", "x.select_scatter(y[0], 0, 1)", "L.select_scatter(x, y[:, 1], 1, 2)",
    "L.conj(x)", "L.real(x)", "x.resolve_conj()",
])
def test_determinants_and_small_utilities(expr):
    r = np.random.default_rng(14)
    check_op(lambda lib, x, y: eval(expr, {"L": lib, "x": x, "y": y}),
             r.standard_normal((3, 3)) + 2 * np.eye(3), r.standard_normal((3, 3)))


def test_frexp_and_slogdet_sign():
    import ember
    import torch
    for expr in ("L.frexp(L.tensor([1.5, -3.0, 0.0]))", "L.slogdet(L.tensor([[2.0, 1.0], [1.0, -3.0]]))"):
        e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
        assert type(e).__name__ == type(t).__name__.split(".")[-1] and len(e) == len(t) == 2
        for a, b in zip(e, t):
            assert repr(a.dtype) == repr(b.dtype) and a.tolist() == pytest.approx(b.tolist())


_NAN = np.array([[1.0, np.nan, 3.0, 2.0], [4.0, 1.0, 2.0, 3.0], [np.nan, 5.0, np.nan, 0.5]])


@pytest.mark.parametrize("expr", ["L.median(x)", "L.median(x, 1)", "x.median(0, keepdim=True)",
                                  "L.nanmedian(x)", "L.nanmedian(x, 1)", "x.nanmedian(0, True)"])
def test_median_nan_propagates_and_nanmedian_skips(expr):
    check_op(lambda lib, x: eval(expr, {"L": lib, "x": x}), _NAN)


def test_histogram():
    import ember
    import torch
    for expr in ("L.histogram(L.tensor([1.0, 2, 1]), bins=4, range=(0.0, 3.0))",
                 "L.histogram(L.tensor([1.0, 2, 1, 7]), L.tensor([0.0, 1, 2, 3]))",
                 "L.tensor([0.5, 2.5, 2.0]).histogram(2, weight=L.tensor([1.0, 2, 3]), density=True)"):
        e, t = eval(expr, {"L": ember}), eval(expr, {"L": torch})
        for a, b in zip(e, t):
            assert repr(a.dtype) == repr(b.dtype) and a.tolist() == pytest.approx(b.tolist())


@pytest.mark.parametrize("expr", [
    "x.nanquantile(0.5, 1)", "x.nanquantile(L.tensor([0.2, 0.9], dtype=x.dtype), 0, keepdim=True)",
    "x.nanquantile(0.3)", "L.nanquantile(x, 0.7, 1, interpolation='nearest')", "x.quantile(0.5, 1)",
    "x.cummax(1)", "x.cummin(1)", "L.sign(x)"])
def test_nan_aware_ops(expr):
    a = np.array([[1.0, np.nan, 3.0, 2.0], [4.0, 1.0, 2.0, 3.0], [np.nan] * 4])
    check_op(lambda lib, x: eval(expr, {"L": lib, "x": x}), a)


def test_unique_keeps_every_nan():
    import ember
    import torch
    a = [1.0, float("nan"), 1.0, float("nan")]
    assert str(ember.unique(ember.tensor(a)).tolist()) == str(torch.unique(torch.tensor(a)).tolist())


@pytest.mark.parametrize("expr", [
    "L.zeros(3, 4).gather(1, L.tensor([[1, 7, -2]]))",
    "L.zeros(3, 4).gather(1, L.tensor([[-1]]))",
    "L.zeros(3, 4).scatter(1, L.tensor([[-1]]), 1.0)",
    "L.zeros(3, 4).scatter(1, L.tensor([[4]]), 1.0, reduce='multiply')",
    "L.zeros(3, 4).scatter_add(0, L.tensor([[4]]), L.ones(1, 1))",
    "L.zeros(3, 4).scatter_reduce(1, L.tensor([[4]]), L.ones(1, 1), 'prod')",
    "L.zeros(3, 4).scatter_reduce(1, L.tensor([[4]]), L.ones(1, 1), 'amax', include_self=False)",
])
def test_gather_scatter_index_out_of_range(expr):
    import torch
    import ember
    with pytest.raises(RuntimeError) as te:
        eval(expr, {"L": torch})
    with pytest.raises(RuntimeError) as ee:
        eval(expr, {"L": ember})
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "bool"])
@pytest.mark.parametrize("shapes", [((90, 100),) * 3, ((90, 100), (1, 100), (90, 1)),
                                    ((90, 100), (90, 100), ())])
def test_large_where_selects_exactly(dtype, shapes):
    """where() above the bitwise-select threshold (9,000 elements) gives torch's bits:
    NaN, infinities and -0.0 included, with broadcasting and a 0-d operand."""
    import torch
    import ember
    rng = np.random.default_rng(9)
    a, b = ((rng.standard_normal(s) * 50).astype(dtype) for s in shapes[1:])
    if a.dtype.kind == "f":
        a.reshape(-1)[:4], b.reshape(-1)[:1] = [np.nan, np.inf, -np.inf, -0.0], [-0.0]
    m = rng.random(shapes[0]) > 0.5
    e = ember.where(ember.tensor(m), ember.tensor(a), ember.tensor(b))
    t = torch.where(torch.tensor(m), torch.tensor(a), torch.tensor(b))
    assert e.dtype == ember.tensor(a).dtype and tuple(e.shape) == tuple(t.shape)
    assert e.numpy().tobytes() == t.numpy().tobytes()


@pytest.mark.parametrize("value", [float("-inf"), float("nan"), -0.0, 3.5])
def test_large_masked_fill_and_smooth_losses_match_torch(value):
    """masked_fill and the smooth L1 / Huber losses (values and gradients) go
    through the bitwise select above 9,000 elements too."""
    import torch
    import ember
    rng = np.random.default_rng(10)
    x, y = rng.standard_normal((2, 90, 100)).astype(np.float32)
    m = rng.random((90, 1)) > 0.5  # broadcast mask
    e = ember.tensor(x).masked_fill(ember.tensor(m), value)
    assert e.numpy().tobytes() == torch.tensor(x).masked_fill(torch.tensor(m), value).numpy().tobytes()
    for name in ("smooth_l1_loss", "huber_loss"):
        check_op(lambda lib, a, b: getattr(lib.nn.functional, name)(a, b, reduction="sum"), x, y,
                 rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("name", ["relu", "softplus", "mish"])
def test_relu_family_bits_on_special_values(name):
    """-0.0, NaN and infinities give torch's exact bits (relu runs as a clip)."""
    import torch
    import ember
    v = np.array([np.nan, -0.0, 0.0, -1.5, 2.0, np.inf, -np.inf] * 2000, np.float32)
    e = getattr(ember.nn.functional, name)(ember.tensor(v)).numpy()
    t = getattr(torch.nn.functional, name)(torch.tensor(v)).numpy()
    ok = ~np.isnan(t)  # (a NaN's sign is not specified)
    np.testing.assert_array_equal(np.signbit(e[ok]), np.signbit(t[ok]))
    np.testing.assert_allclose(e, t, rtol=1e-6, atol=0, equal_nan=True)


@pytest.mark.parametrize("expr", [
    "L.where(m, x, 0.0)", "L.where(m, -1.5, x)", "L.where(m, x, float('nan'))",
    "L.where(m, (x * 10).to(L.int8), 100)", "L.where(m, (x * 10).long(), 2.5)",
    "L.where(m, x > 0, 1)", "L.where(m, x.double(), 1)", "L.where(m, x.half(), 3)"])
def test_large_where_with_a_scalar(expr):
    """A scalar operand joins the bitwise select when it has the tensor's dtype."""
    import torch
    import ember
    rng = np.random.default_rng(11)
    x = rng.standard_normal((100, 100)).astype(np.float32)
    m = x > 0.3
    t = eval(expr, {"L": torch, "x": torch.tensor(x), "m": torch.tensor(m)})
    e = eval(expr, {"L": ember, "x": ember.tensor(x), "m": ember.tensor(m)})
    assert str(e.dtype) == str(t.dtype) and e.numpy().tobytes() == t.numpy().tobytes()


@pytest.mark.parametrize("kw", [{"min": 0.0}, {"max": 0.0}, {"min": -0.0}, {"min": -1.0, "max": 0.5}])
def test_clamp_bits_on_special_values(kw):
    """clamp with one bound keeps -0.0 and NaN as torch does (values and gradients)."""
    import torch
    import ember
    v = np.array([np.nan, -0.0, 0.0, -1.5, 2.0, np.inf, -np.inf] * 3, np.float32)
    e = ember.tensor(v).clamp(**kw).numpy()
    t = torch.tensor(v).clamp(**kw).numpy()
    ok = ~np.isnan(t)
    np.testing.assert_array_equal(np.signbit(e[ok]), np.signbit(t[ok]))
    np.testing.assert_array_equal(e, t)
    check_op(lambda lib, x: x.clamp(**kw), np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 4.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_and_cube_on_extremes(dtype):
    """sigmoid is torch's 1 / (1 + exp(-x)) (0 where exp overflows) and x ** 3 is x * x * x,
    as torch computes them."""
    import torch
    import ember
    v = np.concatenate([np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -88.8, -89.0, -100.0, 100.0,
                                  -745.2, 20.0, -20.0, 1e-30]),
                        np.random.default_rng(12).standard_normal(20000) * 30]).astype(dtype)
    e, t = ember.tensor(v).sigmoid().numpy(), torch.tensor(v).sigmoid().numpy()
    np.testing.assert_allclose(e, t, rtol=6e-7 if dtype == "float32" else 1e-15, atol=0)  # 2 ulp
    e, t = (ember.tensor(v) ** 3).numpy(), (torch.tensor(v) ** 3).numpy()
    assert e.tobytes() == t.tobytes()


def test_float32_erf_is_accurate_near_zero():
    """erf(x) ~ 1.13 x near 0: the float32 kernel keeps its relative precision there
    (the A&S formula alone had an absolute error of 1.5e-7: erf(1e-8) was 9 % off)."""
    import torch
    import ember
    v = np.concatenate([np.logspace(-30, 0, 300), -np.logspace(-12, 0.5, 300),
                        np.random.default_rng(13).standard_normal(20000) * 2]).astype(np.float32)
    e, t = ember.erf(ember.tensor(v)).numpy(), torch.erf(torch.tensor(v)).numpy()
    np.testing.assert_allclose(e, t, rtol=4e-7, atol=2e-7)
    small = np.abs(v) < 0.5
    np.testing.assert_allclose(e[small], t[small], rtol=3e-7, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "bool"])
def test_sign_bits(dtype):
    """sign gives torch's bits: NaN and -0.0 map to +0.0; ints and bools keep their dtype."""
    import torch
    import ember
    v = np.array([np.nan, -0.0, 0.0, -2.0, 3.0, np.inf, -np.inf] if dtype.startswith("float")
                 else [-3, 0, 5, 1]).astype(dtype)
    e, t = ember.sign(ember.tensor(v)).numpy(), torch.sign(torch.tensor(v)).numpy()
    assert e.dtype == t.dtype and e.tobytes() == t.tobytes()

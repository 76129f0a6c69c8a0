"""Autograd: graph nodes, the engine, grad modes, hooks, custom Functions,
higher-order gradients and gradcheck for every differentiable op."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close

E = ember


def both(fn):
    """Run ``fn(lib)`` for ember and torch; return both results."""
    return fn(ember), fn(torch)


def test_grad_accumulates_and_zero():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        return x.grad
    assert_close(*both(f))


def test_grad_fn_names_and_next_functions():
    x = E.tensor([1.0, 2.0], requires_grad=True)
    w = E.tensor([3.0, 4.0], requires_grad=True)
    checks = {"AddBackward0": x + w, "MulBackward0": x * w, "SubBackward0": x - w,
              "DivBackward0": x / w, "SumBackward0": (x * w).sum(), "MeanBackward0": x.mean(),
              "PowBackward0": x ** 2, "ExpBackward0": x.exp(), "MmBackward0": x.view(1, 2) @ w.view(2, 1),
              "ViewBackward0": x.view(2, 1), "TBackward0": x.view(1, 2).t(), "NegBackward0": -x,
              "SigmoidBackward0": x.sigmoid(), "TanhBackward0": x.tanh(), "ReluBackward0": x.relu(),
              "CatBackward0": E.cat([x, w]), "StackBackward0": E.stack([x, w]),
              "SumBackward1": x.sum(0), "MaxBackward1": x.max(), "SelectBackward0": x[0],
              "SliceBackward0": x[1:], "IndexBackward0": x[[0, 0]], "CloneBackward0": x.clone(),
              "ExpandBackward0": x.expand(3, 2), "UnsqueezeBackward0": x.unsqueeze(0),
              "PermuteBackward0": x.view(1, 2).permute(1, 0), "SqrtBackward0": x.sqrt(),
              "LogBackward0": x.log(), "AbsBackward0": x.abs(), "ClampBackward1": x.clamp(0, 1),
              "WhereBackward0": E.where(x > 1, x, w), "SqueezeBackward0": x.view(1, 2).squeeze(),
              "TransposeBackward0": x.view(1, 2).transpose(0, 1)}
    for name, t in checks.items():
        assert t.grad_fn.name() == name, (name, t.grad_fn.name())
    y = x * w
    nf = y.grad_fn.next_functions
    assert [type(n).__name__ for n, _ in nf] == ["AccumulateGrad", "AccumulateGrad"]
    assert nf[0][0].variable is x
    z = x * 2
    assert z.grad_fn.next_functions[1] == (None, 0)
    assert repr(y).endswith("grad_fn=<MulBackward0>)")


def test_backward_twice_errors_with_torch_message():
    for L in (E, torch):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            y.backward()
        y2 = (x.exp()).sum()
        y2.backward(retain_graph=True)
        y2.backward()


def test_backward_gradient_and_nonscalar():
    def f(L):
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        y.backward(gradient=L.tensor([1.0, 0.1, 0.01]))
        return x.grad
    assert_close(*both(f))
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (E.ones(2, requires_grad=True) * 2).backward()


def test_second_derivative_create_graph():
    def f(L):
        x = L.tensor([0.5, 1.5], requires_grad=True)
        y = (x ** 3 + x.sin() * x.exp()).sum()
        (g,) = L.autograd.grad(y, x, create_graph=True)
        (h,) = L.autograd.grad(g.sum(), x)
        return g.detach(), h
    e, t = both(f)
    assert_close(e[0], t[0], rtol=1e-5)
    assert_close(e[1], t[1], rtol=1e-5)


def test_autograd_grad_allow_unused_and_inputs():
    x = E.tensor([1.0], requires_grad=True)
    z = E.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        E.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = E.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [2.0]
    assert x.grad is None  # autograd.grad does not accumulate
    y2 = (x * z).sum()
    y2.backward(inputs=[z])
    assert z.grad.tolist() == [1.0] and x.grad is None


def test_grad_wrt_non_leaf():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = (h ** 2).sum()
        return L.autograd.grad(y, h)[0]
    assert_close(*both(f))


def test_retain_grad_and_hooks():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10)
        (h * h).sum().backward()
        return h.grad, x.grad, seen[0]
    e, t = both(f)
    for a, b in zip(e, t):
        assert_close(a, b)
    x = E.ones(1, requires_grad=True)
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    (x * 2).sum().backward()
    assert x.grad.item() == 2


def test_no_grad_modes():
    x = E.ones(2, requires_grad=True)
    with E.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with E.no_grad():
        with E.enable_grad():
            assert (x * 2).requires_grad
    with E.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert E.is_grad_enabled()
    E.set_grad_enabled(False)
    assert not E.is_grad_enabled()
    E.set_grad_enabled(True)

    @E.no_grad()
    def f(t):
        return t * 2

    @E.no_grad
    def g(t):
        return t * 2
    assert not f(x).requires_grad and not g(x).requires_grad
    with E.inference_mode():
        assert not (x * 2).requires_grad and E.is_inference_mode_enabled()

    @E.inference_mode()
    def h(t):
        return t * 2
    assert not h(x).requires_grad


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        E.tensor([1, 2], requires_grad=True)
    x = E.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad_(False)
    assert y.requires_grad and not y.is_leaf and x.is_leaf
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    y.detach_()
    assert y.grad_fn is None


def test_long_chain_is_iterative():
    x = E.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0001
    y.backward()
    assert abs(x.grad.item() - 1.0001 ** 10000) < 1e-2


def test_saved_arrays_freed_after_backward():
    x = E.ones(3, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._saved is None


class Cube(E.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x ** 3 * k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * 3 * x ** 2 * ctx.k, None


class TCube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x ** 3 * k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.k, None


def test_custom_function():
    xe = E.tensor([1.0, 2.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    ye, yt = Cube.apply(xe, 2.0), TCube.apply(xt, 2.0)
    assert_close(ye, yt)
    assert ye.grad_fn.name() == "CubeBackward"
    ye.sum().backward()
    yt.sum().backward()
    assert_close(xe.grad, xt.grad)
    # second order through a Function whose backward uses ops
    xe.grad = None
    (g,) = E.autograd.grad(Cube.apply(xe, 1.0).sum(), xe, create_graph=True)
    (h,) = E.autograd.grad(g.sum(), xe)
    assert h.tolist() == [6.0, 12.0]


def test_once_differentiable_and_non_differentiable():
    class Sq(E.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            return x * x, idx

        @staticmethod
        @E.autograd.once_differentiable
        def backward(ctx, g, gidx):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    x = E.tensor([1.0, 3.0], requires_grad=True)
    y, i = Sq.apply(x)
    assert not i.requires_grad and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 6.0]
    y, _ = Sq.apply(x)
    gy = E.ones(2, requires_grad=True)  # a differentiable grad_output, as in double backward
    (g,) = E.autograd.grad(y, x, gy, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_anomaly_detection_names_op():
    x = E.tensor([-1.0, 1.0], requires_grad=True)
    with E.autograd.detect_anomaly():
        y = x.sqrt()  # NaN at -1 in forward; backward of sqrt gives NaN
        with pytest.raises(RuntimeError, match="SqrtBackward0"), pytest.warns(RuntimeWarning):
            y.sum().backward()
    assert not E.is_anomaly_enabled()


def test_variable_legacy():
    v = E.autograd.Variable(E.ones(2), requires_grad=True)
    assert isinstance(v, E.Tensor) and v.requires_grad


# ------------------------------------------------------------------ gradcheck of every op
GRADCHECK = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - 2 * b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b.abs() + 1), "pow": lambda a, b: (a.abs() + 0.5) ** b,
    "pow_s": lambda a, b: a ** 3, "rpow": lambda a, b: 2 ** a, "matmul": lambda a, b: a @ b.t(),
    "atan2": lambda a, b: E.atan2(a, b + 3), "maximum": lambda a, b: E.maximum(a, b),
    "minimum": lambda a, b: E.minimum(a, b), "where": lambda a, b: E.where(a > 0, a, b),
    "clamp_t": lambda a, b: a.clamp(min=b - 0.5, max=b + 0.5), "lerp": lambda a, b: E.lerp(a, b, 0.3),
    "addcmul": lambda a, b: E.addcmul(a, a, b, value=0.5), "addcdiv": lambda a, b: E.addcdiv(a, a, b.abs() + 1),
    "remainder": lambda a, b: E.remainder(a, 1.7), "fmod": lambda a, b: E.fmod(a, 1.7),
    "einsum": lambda a, b: E.einsum("ij,kj->ik", a, b), "einsum_sum": lambda a, b: E.einsum("ij->j", a),
    "einsum_bcast": lambda a, b: E.einsum("ij,ij->i", a, b), "cat": lambda a, b: E.cat([a, b], 1),
    "stack": lambda a, b: E.stack([a, b]), "outer": lambda a, b: E.outer(a[0], b[1]),
    "dot": lambda a, b: E.dot(a[0], b[0]), "mv": lambda a, b: E.mv(a, b[0]),
    "addmm": lambda a, b: E.addmm(a[0, :3], a, b.t(), beta=0.5, alpha=2),
    "bmm": lambda a, b: E.bmm(a.unsqueeze(0), b.t().unsqueeze(0)),
    "matmul_1d": lambda a, b: a[0] @ b.t(), "matmul_b": lambda a, b: a.unsqueeze(0).expand(2, 3, 4) @ b.t(),
    "hypot": lambda a, b: E.hypot(a, b + 2),
}
UNARY = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs", "neg",
         "expm1", "log1p", "log2", "log10", "asin", "acos", "atan", "sinh", "cosh", "asinh", "erf",
         "erfc", "reciprocal", "square", "frac", "exp2", "atanh", "acosh", "erfinv"]
REDUCE = {
    "sum": lambda a: a.sum(), "sum_dim": lambda a: a.sum((0, 1), keepdim=True), "mean": lambda a: a.mean(1),
    "prod": lambda a: a.prod(1), "prod_all": lambda a: a.prod(), "max": lambda a: a.max(),
    "max_dim": lambda a: a.max(1)[0], "min_dim": lambda a: a.min(0, keepdim=True)[0],
    "amax": lambda a: a.amax(1), "amin": lambda a: a.amin(), "std": lambda a: a.std(1),
    "var": lambda a: a.var(0, unbiased=False), "norm": lambda a: a.norm(), "norm1": lambda a: a.norm(1, dim=1),
    "norm_p3": lambda a: a.norm(3), "logsumexp": lambda a: a.logsumexp(1), "cumsum": lambda a: a.cumsum(1),
    "cumprod": lambda a: a.cumprod(1), "median": lambda a: a.median(1)[0], "median_all": lambda a: a.median(),
    "sort": lambda a: a.sort(1)[0], "topk": lambda a: a.topk(2, 1)[0], "kthvalue": lambda a: a.kthvalue(2, 1)[0],
    "view": lambda a: a.view(4, 3), "reshape_T": lambda a: a.t().reshape(12), "permute": lambda a: a.permute(1, 0),
    "expand": lambda a: a[:1].expand(5, 4), "getitem": lambda a: a[1:, ::2], "getitem_adv": lambda a: a[[0, 0, 2]],
    "getitem_mask": lambda a: a[a > 0], "gather": lambda a: a.gather(1, E.tensor([[0, 0], [1, 3], [2, 2]])),
    "scatter": lambda a: a.scatter(1, E.tensor([[0], [1], [2]]), 0.0),
    "scatter_add": lambda a: E.zeros(3, 6, dtype=a.dtype).scatter_add(1, E.tensor([[0, 1, 1, 5]] * 3), a),
    "index_select": lambda a: a.index_select(1, E.tensor([3, 0, 3])),
    "index_add": lambda a: a.index_add(0, E.tensor([1, 1]), a[:2] * 2),
    "masked_fill": lambda a: a.masked_fill(a > 0, 2.0), "masked_select": lambda a: a.masked_select(a > 0),
    "take": lambda a: a.take(E.tensor([0, 5, 5])), "flip": lambda a: a.flip(1), "roll": lambda a: a.roll(1, 0),
    "tril": lambda a: a.tril(), "triu": lambda a: a.triu(1), "repeat": lambda a: a.repeat(2, 3),
    "split": lambda a: a.split(2, 1)[1], "chunk": lambda a: a.chunk(3, 0)[2], "unbind": lambda a: a.unbind(1)[3],
    "narrow": lambda a: a.narrow(1, 1, 2), "squeeze": lambda a: a.unsqueeze(1).squeeze(1),
    "diagonal": lambda a: a.diagonal(), "diag_embed": lambda a: E.diag_embed(a),
    "trace": lambda a: a[:3, :3].trace(), "clamp": lambda a: a.clamp(-0.3, 0.3), "sign": lambda a: a.sign(),
    "flatten": lambda a: a.flatten(), "movedim": lambda a: a.movedim(0, 1),
    "unfold": lambda a: a.unfold(1, 2, 1), "repeat_interleave": lambda a: a.repeat_interleave(2, 0),
    "index_put": lambda a: a.index_put((E.tensor([0, 0]),), E.ones(2, 4, dtype=a.dtype), accumulate=True),
    "nan_to_num": lambda a: a.nan_to_num(), "logit": lambda a: (a.sigmoid()).logit(),
    "inverse": lambda a: E.inverse(a[:3, :3] + 3 * E.eye(3, dtype=a.dtype)),
    "det": lambda a: E.det(a[:3, :3]), "cross": lambda a: E.cross(a[:, :3], a[:, 1:], dim=1),
    "round": lambda a: a * 2 + a.round(), "floor": lambda a: a + a.floor(),
    "xlogy": lambda a: E.xlogy(a, a.abs() + 1), "float_power": lambda a: E.float_power(a.abs() + 1, 2),
}


def _inputs(seed=0):
    r = np.random.default_rng(seed)
    a = r.standard_normal((3, 4))
    a[np.abs(a) < 0.1] += 0.3  # keep away from kinks
    b = r.standard_normal((3, 4))
    return (E.tensor(a).requires_grad_(), E.tensor(b).requires_grad_())


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck_binary(name):
    a, b = _inputs()
    assert E.autograd.gradcheck(GRADCHECK[name], (a, b))


@pytest.mark.parametrize("name", UNARY)
def test_gradcheck_unary(name):
    r = np.random.default_rng(1)
    x = r.uniform(0.2, 0.8, (2, 3)) if name in ("asin", "acos", "atanh", "log", "sqrt", "rsqrt", "log2",
                                                "log10", "erfinv", "log1p") else r.standard_normal((2, 3))
    if name == "acosh":
        x = x ** 2 + 1.5
    if name in ("relu", "abs", "frac"):
        x[np.abs(x - np.round(x)) < 0.1] += 0.25
    x = E.tensor(x).requires_grad_()
    assert E.autograd.gradcheck(getattr(E, name), (x,))


@pytest.mark.parametrize("name", sorted(REDUCE))
def test_gradcheck_reduce_shape(name):
    a, _ = _inputs(2)
    assert E.autograd.gradcheck(REDUCE[name], (a,))


@pytest.mark.parametrize("name", ["mul", "div", "matmul", "einsum", "pow", "atan2", "addmm", "where"])
def test_gradgradcheck(name):
    a, b = _inputs(3)
    assert E.autograd.gradgradcheck(GRADCHECK[name], (a, b))


@pytest.mark.parametrize("name", ["exp", "log", "sin", "tanh", "sigmoid", "sqrt", "erf"])
def test_gradgradcheck_unary(name):
    x = E.tensor(np.random.default_rng(4).uniform(0.3, 0.9, (2, 2))).requires_grad_()
    assert E.autograd.gradgradcheck(getattr(E, name), (x,))


@pytest.mark.parametrize("name", ["sum_dim", "mean", "prod", "max_dim", "std", "norm", "logsumexp",
                                  "cumsum", "cumprod", "gather", "getitem_adv", "expand", "index_select"])
def test_gradgradcheck_reduce(name):
    a, _ = _inputs(5)
    assert E.autograd.gradgradcheck(REDUCE[name], (a,))


def test_gradcheck_detects_wrong_gradient():
    class Wrong(E.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = E.tensor([1.0, 2.0], dtype=E.float64, requires_grad=True)
    with pytest.raises(E.autograd.GradcheckError):
        E.autograd.gradcheck(Wrong.apply, (x,))
    assert not E.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_functional_jacobian_hessian():
    f_e = lambda x: (x ** 3).sum()
    x = np.array([1.0, 2.0])
    he = E.autograd.functional.hessian(f_e, E.tensor(x))
    ht = torch.autograd.functional.hessian(lambda t: (t ** 3).sum(), torch.tensor(x))
    assert_close(he, ht)
    je = E.autograd.functional.jacobian(lambda t: t * t, E.tensor(x))
    jt = torch.autograd.functional.jacobian(lambda t: t * t, torch.tensor(x))
    assert_close(je, jt)


def test_inplace_through_views_copyslices():
    def f(L):
        w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = w * 2
        x[1:] += 5 * w[:2]  # __iadd__ on a view of a non-leaf
        y = x.view(3, 1)
        y[0, 0] = w[2] ** 2  # setitem through a view
        h = L.zeros(2, 3)
        h[0][1:] = w[:2]  # a view of a plain tensor receives a value that requires grad
        out = (x * L.tensor([1.0, 2.0, 3.0])).sum() + (h * 3).sum() + y.sum()
        out.backward()
        return w.grad, x, h
    e, t = both(f)
    for a, b in zip(e, t):
        assert_close(a, b)
    assert repr(e[1]).endswith("grad_fn=<CopySlices>)")
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w = E.ones(3, requires_grad=True)
        w[0:2].mul_(2)


def test_gradcheck_inplace_view_write():
    def f(a, b):
        x = a * 1.0
        x[:, 1].mul_(b[:, 0])
        x.t()[2:] += b[:, 2:].t() ** 2
        return x
    a, b = _inputs(7)
    assert E.autograd.gradcheck(f, (a, b))
    assert E.autograd.gradgradcheck(f, (a, b))


@pytest.mark.parametrize("write", [
    lambda lib, y: y.fill_(5), lambda lib, y: y.zero_(), lambda lib, y: y[1:].zero_(),
    lambda lib, y: y.copy_(lib.zeros(3)), lambda lib, y: y[:2].copy_(lib.zeros(2)),
    lambda lib, y: y[::2].fill_(1.5),
])
def test_overwriting_values_cuts_their_gradient(write):
    """An in-place write of values without history into a tensor inside the
    graph: the overwritten elements pass no gradient back (zeros, as torch)."""
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        write(lib, y)
        assert y.requires_grad and not y.is_leaf
        (y * x).sum().backward()
        grads.append(x.grad)
    assert_close(grads[0], grads[1])


def test_copy_from_a_tensor_with_history_gives_zeros_to_the_overwritten_one():
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([4.0, 5.0, 6.0], requires_grad=True)
        z = x * 2
        z.copy_(w * w)
        (z * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append((x.grad, w.grad))
    (ex, ew), (tx, tw) = grads
    assert ex is not None  # zeros, as torch: the old values were used, then overwritten
    assert_close(ex, tx)
    assert_close(ew, tw)


_FA = np.random.default_rng(11).standard_normal(3)
_FM = np.random.default_rng(12).standard_normal((3, 3))


@pytest.mark.parametrize("name", ["jvp", "hvp", "vhp"])
def test_functional_jvp_hvp_vhp(name):
    def run(lib):
        F = lib.autograd.functional
        m = lib.tensor(_FM)
        x = lib.tensor(_FA)
        if name == "jvp":
            out, r = F.jvp(lambda t: (m @ t).tanh() * t.sum(), x, lib.ones(3, dtype=lib.float64))
            return [out, r]
        two = lambda a, b: (a ** 2 * b).sum() + (b ** 3).sum() + a.prod()  # noqa: E731
        out, r = getattr(F, name)(two, (x, x * 3), (x, x.flip(0)))
        return [out, *r]
    for e, t in zip(run(ember), run(torch)):
        assert_close(e, t)

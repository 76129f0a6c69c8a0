"""Reductions and scans: sum, mean, prod, max/min (with indices), std/var,
norm, logsumexp, cumsum/cumprod, all/any, median."""
import builtins
import math

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.graph import Node, SavedOutput
from .common import arr, attach, dims_arg, xp_of, _gs, return_type


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced ``dims``."""
    if not keepdim and dims:
        s = list(g._data.shape)
        for d in dims:
            s.insert(d, 1)
        g = g.reshape(s)
    return g.expand(shape)


def _reduce_args(input, dim, keepdim, name):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(input._data.ndim)), None
    dims = dims_arg(dim, input._data.ndim)
    return dims, dims


def _sum_dtype(input, dtype):
    if dtype is not None:
        return B.to_dtype(dtype).np
    k = input._data.dtype.kind
    return np.int64 if k in "biu" else None


class SumBackward0(Node):
    def backward(self, g):
        return _expand_back(g, self.shape, self.dims, self.keepdim),


class SumBackward1(SumBackward0):
    pass


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, out=None):
    if axis is not None:
        dim = axis
    d = input._data
    if dim is None and not keepdim and dtype is None and d.dtype.kind in "fc":
        dims, given = tuple(range(d.ndim)), None  # the hot path: a float total
        r = _wrap(arr(d.sum()))
    else:
        dims, given = _reduce_args(input, dim, keepdim, "sum")
        r = _wrap(arr(d.sum(axis=dims if d.ndim else None, keepdims=bool(keepdim),
                            dtype=_sum_dtype(input, dtype))))
    if _gs[0] and input._rg:
        n = (SumBackward0 if given is None else SumBackward1)((input,))
        n.shape, n.dims, n.keepdim = d.shape, (dims if d.ndim else ()), keepdim
        attach(r, n)
    return r


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .pointwise import isnan, where
    if input._data.dtype.kind not in "fc":  # no NaN to skip
        return sum(input, dim, keepdim, dtype=dtype)
    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


class MeanBackward0(Node):
    def backward(self, g):
        return _expand_back(g, self.shape, self.dims, self.keepdim) / self.count,


class MeanBackward1(MeanBackward0):
    pass


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, out=None):
    if axis is not None:
        dim = axis
    d = input._data
    if dtype is not None:
        d = d.astype(B.to_dtype(dtype).np)
    elif d.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {input.dtype.name.capitalize().replace('Int64', 'Long')}")
    dims, given = _reduce_args(input, dim, keepdim, "mean")
    with np.errstate(invalid="ignore", divide="ignore"):
        r = _wrap(arr(d.mean(axis=dims if d.ndim else None, keepdims=bool(keepdim))))
    if _gs[0] and input._rg:
        n = (MeanBackward0 if given is None else MeanBackward1)((input,))
        n.shape, n.dims, n.keepdim = d.shape, (dims if d.ndim else ()), keepdim
        n.count = builtins.max(int(np.prod([d.shape[i] for i in dims])) if d.ndim else 1, 1)
        attach(r, n)
    return r


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .pointwise import isnan
    notnan = ~isnan(input)
    return nansum(input, dim, keepdim) / notnan.sum(dim, keepdim)


class ProdBackward0(Node):
    def backward(self, g):
        x, r = self.saved
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        if self.dim is None:
            flat = x.reshape(-1)
            return (g * _prod_others(flat, 0).reshape(self.shape)),
        return g * _prod_others(x, self.dim),


ProdBackward1 = type("ProdBackward1", (ProdBackward0,), {})


def _prod_others(x, dim):
    """Product of all elements along ``dim`` except each one (zero-safe)."""
    from .shape import cat, narrow
    from .creation import ones_like
    n = x.shape[dim]
    one = ones_like(narrow(x, dim, 0, 1))
    left = cat([one, narrow(x, dim, 0, n - 1).cumprod(dim)], dim) if n > 1 else one
    xr = x.flip(dim)
    right = cat([one, narrow(xr, dim, 0, n - 1).cumprod(dim)], dim).flip(dim) if n > 1 else one
    return left * right


def prod(input, dim=None, keepdim=False, *, dtype=None):
    d = input._data
    if dtype is not None:
        d = d.astype(B.to_dtype(dtype).np)
    elif d.dtype.kind in "biu":
        d = d.astype(np.int64)
    if dim is None:
        r = _wrap(arr(d.prod()))
        dims, keepdim = tuple(range(d.ndim)), False
    else:
        dim = _wrap_dim(dim, d.ndim)
        r = _wrap(arr(d.prod(axis=dim, keepdims=keepdim)))
        dims = (dim,)
    if _gs[0] and input._rg:
        n = (ProdBackward0 if dim is None else ProdBackward1)((input,))
        n.save(input, None)
        n.shape, n.dims, n.keepdim, n.dim = d.shape, dims, keepdim, dim
        attach(r, n)
    return r


# ---------------------------------------------------------------- max / min
class _EvenlyBackward(Node):
    """amax/amin and the full max/min: the gradient is shared by ties."""

    def backward(self, g):
        x, r = self.saved
        rb = _expand_back(r, self.shape, self.dims, self.keepdim)
        mask = (x == rb).to(g.dtype)
        count = _expand_back(mask.sum(self.dims, keepdim=True), self.shape, (), True)
        return _expand_back(g, self.shape, self.dims, self.keepdim) * mask / count,


MaxBackward1 = type("MaxBackward1", (_EvenlyBackward,), {})
MinBackward1 = type("MinBackward1", (_EvenlyBackward,), {})
AmaxBackward0 = type("AmaxBackward0", (_EvenlyBackward,), {})
AminBackward0 = type("AminBackward0", (_EvenlyBackward,), {})


class _IndexedBackward(Node):
    """max/min/median/sort along a dim: the gradient goes to the chosen index."""

    def backward(self, g, *rest):
        idx, = self.saved
        from .creation import zeros
        if not self.keepdim:
            g = g.unsqueeze(self.dim)
            idx = idx.unsqueeze(self.dim)
        z = zeros(self.shape, dtype=g.dtype, device=g.device)
        return z.scatter(self.dim, idx, g),


class MaxBackward0(_IndexedBackward):
    num_outputs = 2


class MinBackward0(_IndexedBackward):
    num_outputs = 2


class MedianBackward1(_IndexedBackward):
    num_outputs = 2


def _check_nonempty(d, name, dim=None):
    if d.size == 0 and (dim is None or d.shape[dim] == 0):
        raise IndexError(f"{name}(): Expected reduction dim {'' if dim is None else dim} to have "
                         "non-zero size." if dim is not None else
                         f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                         "Specify the reduction dim with the 'dim' argument.")


def _minmax(input, dim, keepdim, is_max, other=None):
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        from .pointwise import maximum, minimum
        return maximum(input, other) if is_max else minimum(input, other)
    d = input._data
    xp = xp_of(input)
    name = "max" if is_max else "min"
    if dim is None:
        _check_nonempty(d, name)
        r = _wrap(arr(d.max() if is_max else d.min()))
        if _gs[0] and input._rg:
            n = (MaxBackward1 if is_max else MinBackward1)((input,))
            n.save(input, SavedOutput(r))
            n.shape, n.dims, n.keepdim = d.shape, tuple(range(d.ndim)), False
            attach(r, n)
        return r
    dim = _wrap_dim(dim, d.ndim)
    _check_nonempty(d, name, dim)
    if d.ndim == 0:
        idx = xp.zeros((), dtype=np.int64)
        v = d.copy()
    else:
        idx = (d.argmax if is_max else d.argmin)(axis=dim, keepdims=True)
        v = xp.take_along_axis(d, idx, axis=dim)
        if not keepdim:
            idx, v = idx.squeeze(dim), v.squeeze(dim)
    values, indices = _wrap(arr(v)), _wrap(arr(idx.astype(np.int64)))
    if _gs[0] and input._rg:
        n = (MaxBackward0 if is_max else MinBackward0)((input,))
        n.save(indices)
        n.shape, n.dim, n.keepdim = d.shape, dim, keepdim
        attach(values, n)
    return return_type(name, (values, indices))


def max(input, dim=None, keepdim=False, *, out=None):
    return _minmax(input, dim, keepdim, True)


def min(input, dim=None, keepdim=False, *, out=None):
    return _minmax(input, dim, keepdim, False)


def _amaxmin(input, dim, keepdim, is_max):
    d = input._data
    dims = dims_arg(dim if dim not in ((), []) else None, d.ndim) if d.ndim else ()
    r = _wrap(arr((d.max if is_max else d.min)(axis=dims if d.ndim else None, keepdims=keepdim)))
    if _gs[0] and input._rg:
        n = (AmaxBackward0 if is_max else AminBackward0)((input,))
        n.save(input, SavedOutput(r))
        n.shape, n.dims, n.keepdim = d.shape, dims, keepdim
        attach(r, n)
    return r


def amax(input, dim=(), keepdim=False):
    return _amaxmin(input, dim, keepdim, True)


def amin(input, dim=(), keepdim=False):
    return _amaxmin(input, dim, keepdim, False)


def aminmax(input, *, dim=None, keepdim=False):
    return return_type("aminmax", (amin(input, dim if dim is not None else (), keepdim),
                                   amax(input, dim if dim is not None else (), keepdim)),
                       ("min", "max"))


def _arg(input, dim, keepdim, is_max):
    d = input._data
    f = d.argmax if is_max else d.argmin
    if dim is None:
        r = f()
        if keepdim:
            r = xp_of(input).asarray(r).reshape((1,) * d.ndim)
    else:
        dim = _wrap_dim(dim, d.ndim)
        r = f(axis=dim, keepdims=keepdim) if d.ndim else f()
    return _wrap(arr(xp_of(input).asarray(r).astype(np.int64)))


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, True)


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, False)


# ---------------------------------------------------------------- statistics
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(x, False): the old positional unbiased
        dim, unbiased = None, dim
    c = _correction(unbiased, correction)
    mu = mean(input, dim, keepdim=True)
    diff = input - mu
    d = input._data
    dims = dims_arg(dim, d.ndim) if d.ndim else ()
    n = int(np.prod([d.shape[i] for i in dims])) if d.ndim else 1
    return sum(diff * diff, dims if d.ndim else None, keepdim) / builtins.max(n - c, 0)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    from .pointwise import sqrt
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)




class NormBackward1(Node):
    def backward(self, g):
        x, r = self.saved
        from .pointwise import where
        rb = _expand_back(r, self.shape, self.dims, self.keepdim)
        gb = _expand_back(g, self.shape, self.dims, self.keepdim)
        return where(rb == 0, 0.0, gb * x / rb),


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    from .pointwise import abs as _abs
    if dtype is not None:
        input = input.to(dtype)
    if p in ("fro", 2, 2.0) and not (p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2):
        d = input._data
        dims = dims_arg(dim, d.ndim) if d.ndim else ()
        xp = xp_of(input)
        dd = d if d.dtype.kind in "fc" else d.astype(B.get_default_dtype().np)
        sq = (dd * dd.conj()).real if dd.dtype.kind == "c" else dd * dd
        r = _wrap(arr(xp.sqrt(sq.sum(axis=dims if d.ndim else None, keepdims=keepdim))))
        if _gs[0] and input._rg:
            n = NormBackward1((input,))
            n.save(input, SavedOutput(r))
            n.shape, n.dims, n.keepdim = d.shape, dims, keepdim
            attach(r, n)
        return r
    if p == "nuc":
        from ..linalg import matrix_norm
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
    a = _abs(input)
    if p in (math.inf, float("inf")):
        return amax(a, dim if dim is not None else (), keepdim)
    if p in (-math.inf, float("-inf")):
        return amin(a, dim if dim is not None else (), keepdim)
    if p == 0:
        return sum((a != 0).to(input.dtype), dim, keepdim)
    if p == 1:
        return sum(a, dim, keepdim)
    return sum(a ** p, dim, keepdim) ** (1.0 / p)


class LogsumexpBackward0(Node):
    def backward(self, g):
        x, r = self.saved
        from .pointwise import exp
        return (_expand_back(g, self.shape, self.dims, self.keepdim)
                * exp(x - _expand_back(r, self.shape, self.dims, self.keepdim))),


def logsumexp(input, dim=None, keepdim=False):
    d = input._data
    if d.dtype.kind not in "fc":
        d = d.astype(B.get_default_dtype().np)
    xp = xp_of(input)
    dims = dims_arg(dim, d.ndim) if d.ndim else ()
    if d.size == 0:
        m = xp.zeros(tuple(1 if i in dims else s for i, s in enumerate(d.shape)), dtype=d.dtype)
    else:
        m = d.max(axis=dims if d.ndim else None, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        s = xp.log(xp.exp(d - m).sum(axis=dims if d.ndim else None, keepdims=True)) + m
    if not keepdim and d.ndim:
        s = s.squeeze(dims)
    r = _wrap(arr(s.reshape(()) if d.ndim == 0 else s))
    if _gs[0] and input._rg:
        n = LogsumexpBackward0((input,))
        n.save(input, SavedOutput(r))
        n.shape, n.dims, n.keepdim = d.shape, dims, keepdim
        attach(r, n)
    return r


# ---------------------------------------------------------------- scans
class CumsumBackward0(Node):
    def backward(self, g):
        return g.flip(self.dim).cumsum(self.dim).flip(self.dim),


def cumsum(input, dim, *, dtype=None):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    r = _wrap(arr(xp_of(input).cumsum(d, axis=dim if d.ndim else None,
                                      dtype=_sum_dtype(input, dtype)).reshape(d.shape)))
    if _gs[0] and input._rg:
        n = CumsumBackward0((input,))
        n.dim = dim
        attach(r, n)
    return r


class CumprodBackward0(Node):
    def backward(self, g):
        x, r = self.saved
        # d out_j / d x_i = out_j / x_i for j >= i (x without zeros)
        from .pointwise import where
        s = (g * r).flip(self.dim).cumsum(self.dim).flip(self.dim)
        safe = where(x == 0, 1.0, x)
        return where(x == 0, _cumprod_zero_grad(x, g, self.dim), s / safe),


def _cumprod_zero_grad(x, g, dim):
    """Exact gradient by brute force (only reached when x has zeros)."""
    from .shape import narrow, cat
    n = x.shape[dim]
    cols = []
    for i in range(n):
        # d/dx_i of sum_j g_j prod_{k<=j} x_k
        total = None
        for j in range(i, n):
            terms = [narrow(x, dim, k, 1) for k in range(j + 1) if k != i]
            p = terms[0] if terms else None
            for t in terms[1:]:
                p = p * t
            term = narrow(g, dim, j, 1) * (p if p is not None else 1.0)
            total = term if total is None else total + term
        cols.append(total)
    return cat(cols, dim)


def cumprod(input, dim, *, dtype=None):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    r = _wrap(arr(xp_of(input).cumprod(d, axis=dim if d.ndim else None,
                                       dtype=_sum_dtype(input, dtype)).reshape(d.shape)))
    if _gs[0] and input._rg:
        n = CumprodBackward0((input,))
        n.save(input, SavedOutput(r))
        n.dim = dim
        attach(r, n)
    return r


def cummax(input, dim):
    return _cum_ext(input, dim, True)


def cummin(input, dim):
    return _cum_ext(input, dim, False)


def _accumulate(ufunc, a, axis):
    """``ufunc.accumulate`` (CuPy has it for add only: others on the host)."""
    if type(a) is np.ndarray:
        return ufunc.accumulate(a, axis=axis)
    return B.move_array(ufunc.accumulate(B.move_array(a, B.CPU), axis=axis), B.device_of_array(a))


def _cum_ext(input, dim, is_max):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    xp = xp_of(input)
    v = _accumulate(np.maximum if is_max else np.minimum, d, dim)
    n = d.shape[dim]
    pos = xp.arange(n).reshape([-1 if i == dim else 1 for i in range(d.ndim)])
    same = d == v
    if d.dtype.kind in "fc":  # a NaN carried along is the first NaN's
        same |= xp.isnan(d) & xp.isnan(v)
    hit = xp.where(same, pos, -1)
    idx = _wrap(_accumulate(np.maximum, hit, dim).astype(np.int64))
    values = input.gather(dim, idx) if _gs[0] and input._rg else _wrap(v)  # with a gradient
    return return_type("cummax" if is_max else "cummin", (values, idx))


def logcumsumexp(input, dim):
    from .pointwise import exp, log
    m = input.detach().amax()
    return log(cumsum(exp(input - m), dim)) + m


# ---------------------------------------------------------------- logical and order statistics
def all(input, dim=None, keepdim=False):
    d = input._data
    axis = None if dim is None else (dims_arg(dim, d.ndim) if d.ndim else None)
    return _wrap(arr(xp_of(input).all(d, axis=axis, keepdims=keepdim)))


def any(input, dim=None, keepdim=False):
    d = input._data
    axis = None if dim is None else (dims_arg(dim, d.ndim) if d.ndim else None)
    return _wrap(arr(xp_of(input).any(d, axis=axis, keepdims=keepdim)))


def count_nonzero(input, dim=None):
    d = input._data
    axis = None if dim is None else dims_arg(dim, d.ndim)
    return _wrap(arr(xp_of(input).asarray((d != 0).sum(axis=axis)).astype(np.int64)))


def _median(input, dim, keepdim, name, skip_nan):
    """The lower median along ``dim`` (of all elements when None) and its
    index. A NaN makes the median NaN (its first position), unless
    ``skip_nan``: then the median is of the other elements."""
    d = input._data
    xp = xp_of(input)
    if dim is None:
        if d.size == 0:
            return _wrap(xp.asarray(np.nan, dtype=d.dtype))
        m = _median(input.detach().reshape(-1), 0, False, name, skip_nan)[0]
        if not (_gs[0] and input._rg):
            return m
        # the gradient is shared by every element equal to the median (as torch)
        from .pointwise import where
        md = m._data
        tie = (d == md) | (xp.isnan(d) & xp.isnan(md)) if d.dtype.kind in "fc" else d == md
        share = where(_wrap(tie), input, 0.0) * float(1.0 / tie.sum())
        picked = sum(share)
        return m + (picked - picked.detach())
    dim = _wrap_dim(dim, d.ndim)
    if d.ndim == 0:
        return return_type(name, (input.clone(), _wrap(xp.zeros((), np.int64))))
    order = xp.argsort(d, axis=dim, kind="stable")  # NaNs last
    nan = xp.isnan(d) if d.dtype.kind in "fc" else None
    if skip_nan and nan is not None:
        k = xp.maximum(d.shape[dim] - nan.sum(axis=dim, keepdims=True) - 1, 0) // 2
    else:
        k = xp.full(d.shape[:dim] + (1,) + d.shape[dim + 1:], (d.shape[dim] - 1) // 2)
    idx = xp.take_along_axis(order, k, axis=dim)
    if not skip_nan and nan is not None:
        has = nan.any(axis=dim, keepdims=True)
        idx = xp.where(has, xp.argmax(nan, axis=dim, keepdims=True), idx)
    v = xp.take_along_axis(d, idx, axis=dim)
    if not keepdim:
        idx, v = idx.squeeze(dim), v.squeeze(dim)
    values, indices = _wrap(arr(v)), _wrap(arr(idx.astype(np.int64)))
    if _gs[0] and input._rg:
        n = MedianBackward1((input,))
        n.save(indices)
        n.shape, n.dim, n.keepdim = d.shape, dim, keepdim
        attach(values, n)
    return return_type(name, (values, indices))


def median(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, "median", False)


def nanmedian(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, "nanmedian", True)


def mode(input, dim=-1, keepdim=False):
    d = B.move_array(input._data, B.CPU)
    dim = _wrap_dim(dim, d.ndim)
    moved = np.moveaxis(d, dim, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    vals, idxs = [], []
    for row in flat:
        u, c = np.unique(row, return_counts=True)
        v = u[np.argmax(c)]
        vals.append(v)
        idxs.append(np.nonzero(row == v)[0][-1])
    shp = moved.shape[:-1]
    v = np.array(vals, dtype=d.dtype).reshape(shp)
    i = np.array(idxs, dtype=np.int64).reshape(shp)
    if keepdim:
        v, i = np.expand_dims(v, dim), np.expand_dims(i, dim)
    dev = input.device
    i = _wrap(B.move_array(i, dev))
    if _gs[0] and input._rg:  # the values as a gather, with a gradient
        picked = input.gather(dim, i if keepdim else i.unsqueeze(dim))
        return return_type("mode", (picked if keepdim else picked.squeeze(dim), i))
    return return_type("mode", (_wrap(B.move_array(v, dev)), i))


def _quantile(input, q, dim, keepdim, interpolation, skip_nan):
    xp = xp_of(input)
    qa = q._data if isinstance(q, Tensor) else q
    if not (_gs[0] and input._rg):
        if skip_nan and xp is not np:  # CuPy has no nanquantile: on the host
            return _quantile(input.cpu(), q.cpu() if isinstance(q, Tensor) else q, dim, keepdim,
                             interpolation, True).to(input.device)
        f = xp.nanquantile if skip_nan else xp.quantile
        r = f(input._data, qa, axis=dim, keepdims=keepdim, method=interpolation)
        return _wrap(arr(xp.asarray(r, dtype=input._data.dtype)))
    # with a gradient: interpolate between neighbouring sorted values (NaNs sort last),
    # gathered per row at positions q * (n - 1), n the row's count (of non-NaN values)
    from .pointwise import where
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _wrap_dim(dim, input._data.ndim)
    srt = x.sort(d).values
    nan = xp.isnan(x._data)
    size = x._data.shape[d]
    n = size - nan.sum(axis=d, keepdims=True) if skip_nan else xp.full(
        x._data.shape[:d] + (1,) + x._data.shape[d + 1:], size)
    has_nan = None if skip_nan else nan.any(axis=d, keepdims=True)
    outs = []
    for qi in np.atleast_1d(np.asarray(qa, dtype=np.float64)):
        pos = qi * xp.maximum(n - 1, 0)
        lo, hi = xp.floor(pos).astype(np.int64), xp.ceil(pos).astype(np.int64)
        frac = pos - lo
        if interpolation in ("lower", "higher", "nearest"):
            lo = hi = {"lower": lo, "higher": hi,
                       "nearest": xp.round(pos).astype(np.int64)}[interpolation]
        elif interpolation == "midpoint":
            frac = xp.where(hi > lo, 0.5, 0.0)
        if has_nan is not None:  # a row with a NaN takes its last sorted value, a NaN (as torch)
            lo, hi = xp.where(has_nan, size - 1, lo), xp.where(has_nan, size - 1, hi)
        a, b = srt.gather(d, _wrap(lo)), srt.gather(d, _wrap(hi))
        r = where(_wrap(lo == hi), a, a + (b - a) * _wrap(frac.astype(input._data.dtype)))
        outs.append(r if keepdim and dim is not None else r.squeeze(d))
    from .shape import stack
    r = stack(outs, 0)
    if keepdim and dim is None:
        r = r.reshape((-1,) + (1,) * input._data.ndim)
    return r if np.ndim(qa) else r[0]


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, True)


# ---------------------------------------------------------------- compositions
def diff(input, n=1, dim=-1, prepend=None, append=None):
    from .shape import cat
    dim = _wrap_dim(dim, input._data.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        m = x._data.shape[dim]
        hi, lo = x.narrow(dim, 1, m - 1), x.narrow(dim, 0, m - 1)
        x = hi != lo if x._data.dtype.kind == "b" else hi - lo
    return x


def _trapezoids(y, x, dx, dim):
    """The area of each interval along ``dim``: mean height times width
    (from the sample points ``x``, else ``dx``, else 1)."""
    m = y._data.shape[dim]
    mids = (y.narrow(dim, 1, m - 1) + y.narrow(dim, 0, m - 1)) / 2
    if x is None:
        return mids * (1.0 if dx is None else dx)
    return mids * diff(x, dim=dim if x.dim() == y.dim() else -1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    dim = _wrap_dim(dim, y._data.ndim)
    return sum(_trapezoids(y, x, dx, dim), dim)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    dim = _wrap_dim(dim, y._data.ndim)
    return cumsum(_trapezoids(y, x, dx, dim), dim)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) over the columns (observations)."""
    x = input if input.dim() == 2 else input.reshape(1, -1)
    n = x._data.shape[1]
    w = None
    for extra in (fweights, aweights):
        if extra is not None:
            w = extra.to(x.dtype) if w is None else w * extra
    if w is None:
        xc = x - x.mean(1, keepdim=True)
        c = xc @ xc.mT / (n - correction)
    else:
        ws = w.sum()
        mean_ = (x * w).sum(1, keepdim=True) / ws
        xc = x - mean_
        if aweights is None:
            norm = ws - correction
        else:
            norm = ws - correction * (w * aweights).sum() / ws
        c = (xc * w) @ xc.mT / norm
    return c if input.dim() == 2 else c.reshape(())


def corrcoef(input):
    from .pointwise import sqrt, clamp
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = sqrt(c.diagonal())
    return clamp(c / d[:, None] / d[None, :], -1, 1)


def dist(input, other, p=2):
    return norm(input - other, p)


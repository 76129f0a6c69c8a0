"""Indexing and selection: ``x[idx]``, ``x[idx] = v``, gather/scatter,
index_* ops, masks, nonzero, take, sort/topk/unique."""
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.graph import Node
from .common import (arr, attach, sum_to, xp_of, _gs, return_type, check_devices, check_inplace,
                     inplace_result, select, snapshot, grad_for)
from .shape import make_view


# ---------------------------------------------------------------- index normalisation
def _index_part(i, xp, dev):
    if isinstance(i, Tensor):
        d = i._data
        if d.dtype.kind == "b":
            return B.move_array(d, dev)
        if d.dtype.kind not in "iu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if d.ndim == 0:
            return int(d)
        return B.move_array(d, dev)
    if isinstance(i, (list, tuple)) and not isinstance(i, str):
        a = np.asarray([x.item() if isinstance(x, Tensor) else x for x in i]) if any(
            isinstance(x, Tensor) for x in i) else np.asarray(i)
        if a.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return B.move_array(a, dev) if dev.type != "cpu" else a
    if isinstance(i, np.ndarray) and dev.type != "cpu":
        return B.move_array(i, dev)
    return i


def normalize_index(t, idx):
    """Turn a torch index into one NumPy/CuPy accepts; report whether it is
    basic (the result is a view)."""
    dev = t.device if type(t._data) is not np.ndarray else B.CPU
    if isinstance(idx, list) and len(idx) < 32 and any(
            i is None or i is Ellipsis or isinstance(i, (list, tuple, slice, Tensor)) for i in idx):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and "
                      "will be changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In "
                      "pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], "
                      "which will result either in an error or a different result", stacklevel=3)
        idx = tuple(idx)  # torch (still) reads such a list as a tuple of indices
    if isinstance(idx, tuple):
        parts = tuple(_index_part(i, None, dev) for i in idx)
    else:
        parts = _index_part(idx, None, dev)
    items = parts if isinstance(parts, tuple) else (parts,)
    basic = all(isinstance(i, (int, slice, type(None), type(Ellipsis))) and not isinstance(i, bool)
                for i in items)
    for i in items:
        if isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise ValueError("step must be greater than zero")
    return parts, basic


class IndexBackward0(Node):
    def backward(self, g):
        return index_put(zeros_like_shape(self.shape, g), self.idx, g, accumulate=True),


SliceBackward0 = type("SliceBackward0", (IndexBackward0,), {})
SelectBackward0 = type("SelectBackward0", (IndexBackward0,), {})


def zeros_like_shape(shape, g):
    from .creation import zeros
    return zeros(shape, dtype=g.dtype, device=g.device)


def getitem(self, idx):
    if type(idx) is int:
        d = self._data
        if d.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        n = d.shape[0]
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of bounds for dimension 0 with size {n}")
        return make_view(self, d[idx, ...], SelectBackward0, shape=d.shape, idx=idx)
    parts, basic = normalize_index(self, idx)
    d = self._data
    if basic:  # a trailing ... makes NumPy return a 0-d view, never a scalar
        parts = (parts if isinstance(parts, tuple) else (parts,))
        if Ellipsis not in parts:
            parts = parts + (Ellipsis,)
    try:
        a = d[parts]
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    if basic:
        node = SliceBackward0 if not any(type(i) is int for i in (
            parts if isinstance(parts, tuple) else (parts,))) else SelectBackward0
        return make_view(self, a, node, shape=d.shape, idx=parts)
    r = _wrap(arr(a))
    if _gs[0] and self._rg:
        n = IndexBackward0((self,))
        n.shape, n.idx = d.shape, parts
        attach(r, n)
    return r


# ---------------------------------------------------------------- index_put (setitem)
class IndexPutBackward0(Node):
    def backward(self, g):
        gx = None
        if self.mx is not None:
            gx = g if self.accumulate else index_put(g, self.idx, 0.0)
        gv = grad_for(getitem(g, self.idx), self.mv) if self.mv is not None else None
        return gx, gv


def _ufunc_at(ufunc, a, idx, v):
    """``ufunc.at(a, idx, v)``: in place, every repeated index applied. On
    CuPy, add is ``cupyx.scatter_add``; CuPy lacks ``at`` for most other
    ufuncs, so they run on a host copy."""
    if type(a) is np.ndarray:
        ufunc.at(a, idx, v)
    elif ufunc is np.add:
        import cupyx
        cupyx.scatter_add(a, idx, v)
    else:
        h = B.move_array(a, B.CPU)
        idx = tuple(B.move_array(i, B.CPU) if hasattr(i, "shape") else i for i in idx)
        ufunc.at(h, idx, B.move_array(v, B.CPU))
        a[...] = B.move_array(h, B.device_of_array(a))


def index_put(input, indices, values, accumulate=False):
    """Out of place: a copy of ``input`` with ``values`` written (or added)
    at ``indices`` (already normalised or a torch index)."""
    parts = indices
    if not _is_normalized(indices):
        parts, _ = normalize_index(input, indices)
    d = input._data.copy()
    v = values._data if isinstance(values, Tensor) else values
    if isinstance(values, Tensor) and type(v) is not type(d):
        v = B.move_array(v, input.device)
    try:
        if accumulate:
            _ufunc_at(np.add, d, parts, v)
        else:
            d[parts] = v
    except ValueError as e:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be "
                           f"broadcast to indexing result of shape {list(d[parts].shape)}") from e
    r = _wrap(d)
    if _gs[0] and (input._rg or (isinstance(values, Tensor) and values._rg)):
        n = IndexPutBackward0((input, values if isinstance(values, Tensor) else None))
        n.mx = input if input._rg else None
        n.mv = values if isinstance(values, Tensor) and values._rg else None
        n.idx, n.accumulate = parts, accumulate
        attach(r, n)
    return r


class _Normalized(tuple):
    pass


def _is_normalized(idx):
    return isinstance(idx, _Normalized) or isinstance(idx, (slice, int, np.ndarray)) or (
        isinstance(idx, tuple) and all(not isinstance(i, (Tensor, list)) for i in idx))


def setitem(self, idx, value):
    if isinstance(value, Tensor) and value._data.dtype != self._data.dtype and _gs[0] and value._rg:
        value = value.to(self.dtype)
    parts, _ = normalize_index(self, idx)
    vrg = isinstance(value, Tensor) and value._rg
    if _gs[0] and (self._rg or vrg):
        check_inplace(self)
        return inplace_result(self, index_put(snapshot(self), parts, value))
    v = value._data if isinstance(value, Tensor) else value
    if isinstance(value, Tensor) and type(v) is not type(self._data):
        v = B.move_array(v, self.device)
    try:
        self._data[parts] = v
    except ValueError as e:
        raise RuntimeError(str(e)) from None
    self._bump_version()


def index_put_(self, indices, values, accumulate=False):
    parts, _ = normalize_index(self, tuple(indices))
    if _gs[0] and (self._rg or (isinstance(values, Tensor) and values._rg)):
        check_inplace(self)
        return inplace_result(self, index_put(snapshot(self), parts, values, accumulate))
    v = values._data if isinstance(values, Tensor) else values
    if accumulate:
        _ufunc_at(np.add, self._data, parts, v)
    else:
        self._data[parts] = v
    self._bump_version()
    return self


# ---------------------------------------------------------------- gather / scatter
def _check_index(index, name):
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")


def _along(xp, shape, dim, idx):
    """A full advanced index placing ``idx`` along ``dim``."""
    grids = list(xp.ix_(*[xp.arange(s) for s in idx.shape]))
    grids[dim] = idx
    return tuple(grids)


class GatherBackward0(Node):
    def backward(self, g):
        index, = self.saved
        z = zeros_like_shape(self.shape, g)
        return z.scatter_add(self.dim, index, g), None


def _check_range(i, dim, n):
    """torch's error for a gather/scatter index outside ``[0, n)``."""
    bad = (i < 0) | (i >= n)
    if bad.any():
        raise RuntimeError(f"index {int(i.reshape(-1)[int(bad.argmax())])} is out of bounds for "
                           f"dimension {dim} with size {n}")


def gather(input, dim, index, *, sparse_grad=False):
    _check_index(index, "gather")
    check_devices(input, index)
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    i = index._data
    if i.ndim != d.ndim and not (i.ndim <= 1 and d.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(i.ndim):
        if k != dim and i.shape[k] > d.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(i.shape)} "
                               f"to be no larger than self {list(d.shape)} apart from dimension {dim}")
    _check_range(i, dim, d.shape[dim])
    xp = xp_of(input)
    r = _wrap(arr(d[_along(xp, d.shape, dim, i)])) if d.ndim else _wrap(d.copy())
    if _gs[0] and input._rg:
        n = GatherBackward0((input, None))
        n.save(index)
        n.shape, n.dim = d.shape, dim
        attach(r, n)
    return r


class ScatterBackward0(Node):
    def backward(self, g):
        index, = self.saved
        gx = g.scatter(self.dim, index, 0.0) if self.mx is not None else None
        gs = g.gather(self.dim, index) if self.ms is not None else None
        return gx, None, gs


class ScatterAddBackward0(Node):
    def backward(self, g):
        index, = self.saved
        return (g if self.mx is not None else None, None,
                g.gather(self.dim, index) if self.ms is not None else None)


def _scatter(input, dim, index, src, reduce, add):
    _check_index(index, "scatter_add" if add else "scatter")
    check_devices(input, index, src if isinstance(src, Tensor) and src._data.ndim else None)
    d = input._data.copy()
    dim = _wrap_dim(dim, d.ndim)
    i = index._data
    _check_range(i, dim, d.shape[dim] if d.ndim else 1)
    xp = xp_of(input)
    full = _along(xp, d.shape, dim, i)
    if isinstance(src, Tensor):
        s = src._data[tuple(slice(0, n) for n in i.shape)]
    else:
        s = xp.asarray(src, dtype=d.dtype)
    if add or reduce == "add":
        _ufunc_at(np.add, d, full, s)
    elif reduce == "multiply":
        _ufunc_at(np.multiply, d, full, s)
    else:
        d[full] = s
    r = _wrap(d)
    srg = isinstance(src, Tensor) and src._rg
    if _gs[0] and (input._rg or srg):
        n = (ScatterAddBackward0 if add else ScatterBackward0)(
            (input, None, src if isinstance(src, Tensor) else None))
        n.save(index)
        n.dim, n.mx, n.ms = dim, (input if input._rg else None), (src if srg else None)
        attach(r, n)
    return r


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    if src is None:
        src = value
    return _scatter(input, dim, index, src, reduce, False)


def scatter_add(input, dim, index, src):
    return _scatter(input, dim, index, src, None, True)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """'sum' and 'mean' are built from scatter and scatter_add (so they have
    gradients); 'prod', 'amax' and 'amin' reduce the arrays in place and
    refuse inputs that need a gradient."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    base = input if include_self else scatter(input, dim, index, 0)
    if reduce in ("sum", "mean"):
        total = scatter_add(base, dim, index, src)
        if reduce == "sum":
            return total
        xp = xp_of(input)
        count = scatter_add(_wrap(xp.full(input._data.shape, int(include_self), np.int64)), dim,
                            index, _wrap(xp.ones(index._data.shape, np.int64)))
        count = count.clamp_min(1)
        return total / count if total._data.dtype.kind == "f" else total.div(count,
                                                                              rounding_mode="floor")
    if _gs[0] and (input._rg or src._rg):
        raise NotImplementedError(f"the derivative of scatter_reduce(reduce='{reduce}') is not "
                                  "implemented in ember")
    d = base._data.copy()
    dim = _wrap_dim(dim, d.ndim)
    _check_range(index._data, dim, d.shape[dim])
    full = _along(xp_of(input), d.shape, dim, index._data)
    s = src._data[tuple(slice(0, n) for n in index._data.shape)]
    if not include_self:  # the untouched identity of the reduction, then reduce into it
        ident = {"prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
        if d.dtype.kind != "f" and reduce != "prod":
            ident = (np.iinfo(d.dtype).min if reduce == "amax" else np.iinfo(d.dtype).max)
        d[full] = ident
    _ufunc_at({"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce], d, full, s)
    return _wrap(d)


class IndexSelectBackward0(Node):
    def backward(self, g):
        index, = self.saved
        z = zeros_like_shape(self.shape, g)
        return z.index_add(self.dim, index, g), None


def index_select(input, dim, index):
    check_devices(input, index)
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    if index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    i = index._data.reshape(-1)
    n = d.shape[dim] if d.ndim else 1
    if i.size and (int(i.max()) >= n or int(i.min()) < -n):
        raise IndexError("index out of range in self")
    r = _wrap(xp_of(input).take(d, i, axis=dim) if d.ndim else d.copy())
    if _gs[0] and input._rg:
        n_ = IndexSelectBackward0((input, None))
        n_.save(index)
        n_.shape, n_.dim = d.shape, dim
        attach(r, n_)
    return r


class IndexAddBackward0(Node):
    def backward(self, g):
        index, = self.saved
        gs = None
        if self.ms is not None:
            gs = g.index_select(self.dim, index)
            if self.alpha != 1:
                gs = gs * self.alpha
            gs = sum_to(gs, self.ms._data.shape)
        return (g if self.mx is not None else None), None, gs


def index_add(input, dim, index, source, *, alpha=1):
    check_devices(input, index, source)
    d = input._data.copy()
    dim = _wrap_dim(dim, d.ndim)
    s = source._data * alpha if alpha != 1 else source._data
    idx = [slice(None)] * d.ndim
    idx[dim] = index._data
    if d.ndim == 0:
        d += s.sum()
    else:
        _ufunc_at(np.add, d, tuple(idx), s if s.ndim == d.ndim else s.reshape(
            [len(index._data) if k == dim else d.shape[k] for k in range(d.ndim)]))
    r = _wrap(d)
    if _gs[0] and (input._rg or source._rg):
        n = IndexAddBackward0((input, None, source))
        n.save(index)
        n.dim, n.alpha = dim, alpha
        n.mx, n.ms = (input if input._rg else None), (source if source._rg else None)
        attach(r, n)
    return r


def index_copy(input, dim, index, source):
    check_devices(input, index, source)
    dim = _wrap_dim(dim, input._data.ndim)
    idx = (slice(None),) * dim + (index._data,)
    return index_put(input, idx, source)


def index_fill(input, dim, index, value):
    check_devices(input, index)
    dim = _wrap_dim(dim, input._data.ndim)
    idx = (slice(None),) * dim + (index._data,)
    return index_put(input, idx, value)


# ---------------------------------------------------------------- masks
class MaskedFillBackward0(Node):
    def backward(self, g):
        mask, = self.saved
        gx = grad_for(where_(mask, 0.0, g), self.mx) if self.mx is not None else None
        gv = where_(mask, g, 0.0).sum().to(self.mv.dtype) if self.mv is not None else None
        return gx, None, gv


def where_(c, a, b):
    from .pointwise import where
    return where(c, a, b)


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype " +
                           (mask.dtype.name if isinstance(mask, Tensor) else type(mask).__name__))
    check_devices(input, mask)
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                           f"with {value._data.ndim} dimension(s).")
    d = input._data
    xp = xp_of(input)
    m = mask._data
    try:
        np.broadcast_shapes(d.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({d.shape[-1] if d.ndim else 1}) must match the "
                           f"size of tensor b ({m.shape[-1] if m.ndim else 1}) at non-singleton "
                           f"dimension") from None
    v = value._data.astype(d.dtype) if isinstance(value, Tensor) else value
    if isinstance(value, Tensor) and type(v) is not type(d):
        v = B.move_array(v, input.device)
    r = _wrap(select(xp, m, xp.asarray(v, dtype=d.dtype), d))
    vrg = isinstance(value, Tensor) and value._rg
    if _gs[0] and (input._rg or vrg):
        n = MaskedFillBackward0((input, None, value if isinstance(value, Tensor) else None))
        n.save(mask)
        n.mx, n.mv = (input if input._rg else None), (value if vrg else None)
        attach(r, n)
    return r


class MaskedSelectBackward0(Node):
    def backward(self, g):
        mask, = self.saved
        z = zeros_like_shape(self.shape, g)
        m = mask.expand(self.shape) if mask._data.shape != self.shape else mask
        return grad_for(index_put(z, (m._data,), g), self.mx), None


def masked_select(input, mask):
    check_devices(input, mask)
    xp = xp_of(input)
    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    d = xp.broadcast_to(input._data, shape)
    m = xp.broadcast_to(mask._data, shape)
    r = _wrap(d[m])
    if _gs[0] and input._rg:
        n = MaskedSelectBackward0((input, None))
        n.save(mask)
        n.shape, n.mx = shape, input
        attach(r, n)
    return r


def masked_scatter(input, mask, source):
    """The masked places take ``source``'s elements in order: ``where(mask,
    take(source, rank of each place), input)``, so both inputs get gradients."""
    from .pointwise import where
    check_devices(input, mask, source)
    xp = xp_of(input)
    m = xp.broadcast_to(mask._data, input._data.shape)
    rank = xp.cumsum(m.reshape(-1)) - 1
    if rank.size and int(rank[-1]) >= source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if not rank.size or int(rank[-1]) < 0:  # nothing masked
        return input.clone()
    picked = take(source, _wrap(xp.maximum(rank, 0).reshape(m.shape)))
    return where(_wrap(m), picked, input)


def nonzero(input, *, as_tuple=False):
    d = input._data
    xp = xp_of(input)
    if as_tuple:
        if d.ndim == 0:
            return (_wrap(xp.zeros(int(bool(d)), dtype=np.int64)),)
        return tuple(_wrap(i.astype(np.int64)) for i in xp.nonzero(d))
    return _wrap(xp.argwhere(d).astype(np.int64))


def argwhere(input):
    return nonzero(input)


class TakeBackward0(Node):
    def backward(self, g):
        index, = self.saved
        z = zeros_like_shape((self.numel,), g)
        z = index_put(z, (index._data.reshape(-1),), g.reshape(-1), accumulate=True)
        return z.reshape(self.shape), None


def take(input, index):
    check_devices(input, index)
    d = input._data
    i = index._data
    if i.size and (int(i.max()) >= d.size or int(i.min()) < -d.size):
        raise IndexError(f"out of range: tried to access index {int(i.max())} on a tensor of "
                         f"{d.size} elements.")
    r = _wrap(d.reshape(-1)[i])
    if _gs[0] and input._rg:
        n = TakeBackward0((input, None))
        n.save(index)
        n.shape, n.numel = d.shape, d.size
        attach(r, n)
    return r


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices.reshape(-1))
    return gather(input, dim, indices.expand(
        tuple(indices._data.shape[k] if k == _wrap_dim(dim, input._data.ndim) else s
              for k, s in enumerate(input._data.shape))) if indices._data.ndim == input._data.ndim
        else indices)


# ---------------------------------------------------------------- sorting
class SortBackward0(Node):
    num_outputs = 2

    def backward(self, g, *rest):
        idx, = self.saved
        z = zeros_like_shape(self.shape, g)
        return z.scatter(self.dim, idx, g),


TopkBackward0 = type("TopkBackward0", (SortBackward0,), {})
KthvalueBackward0 = type("KthvalueBackward0", (SortBackward0,), {})


def _sort_idx(xp, d, dim, descending, stable=True):
    if not descending:
        return xp.argsort(d, axis=dim, kind="stable")
    if d.dtype.kind in "fi":
        neg = -d if d.dtype.kind == "f" else -(d.astype(np.int64))
        if d.dtype.kind == "f":  # NaN is largest in torch's order
            neg = xp.where(xp.isnan(d), -np.inf, neg)
        return xp.argsort(neg, axis=dim, kind="stable")
    # unsigned / bool: reverse a stable ascending sort, keeping ties in order
    n = d.shape[dim]
    rev = xp.flip(d, axis=dim)
    o = xp.argsort(rev, axis=dim, kind="stable")
    return xp.flip(n - 1 - o, axis=dim)


def _take_sorted(input, dim, order, name, node_cls, keep=None):
    d = input._data
    xp = xp_of(input)
    v = xp.take_along_axis(d, order, axis=dim)
    values, indices = _wrap(v), _wrap(order.astype(np.int64))
    if _gs[0] and input._rg:
        n = node_cls((input,))
        n.save(indices)
        n.shape, n.dim = d.shape, dim
        attach(values, n)
    return return_type(name, (values, indices))


def sort(input, dim=-1, descending=False, stable=False):
    d = input._data
    if d.ndim == 0:
        return return_type("sort", (input.clone(), _wrap(xp_of(input).zeros((), np.int64))))
    dim = _wrap_dim(dim, d.ndim)
    order = _sort_idx(xp_of(input), d, dim, descending)
    return _take_sorted(input, dim, order, "sort", SortBackward0)


def argsort(input, dim=-1, descending=False, stable=False):
    d = input._data
    if d.ndim == 0:
        return _wrap(xp_of(input).zeros((), np.int64))
    dim = _wrap_dim(dim, d.ndim)
    return _wrap(_sort_idx(xp_of(input), d, dim, descending).astype(np.int64))


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    d = input._data
    dim = _wrap_dim(dim, max(d.ndim, 1)) if d.ndim else 0
    n = d.shape[dim] if d.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if d.ndim == 0:
        return return_type("topk", (input.clone(), _wrap(xp_of(input).zeros((), np.int64))))
    order = _sort_idx(xp_of(input), d, dim, largest)
    order = order[(slice(None),) * dim + (slice(0, k),)]
    return _take_sorted(input, dim, order, "topk", TopkBackward0)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    if not 1 <= k <= d.shape[dim]:
        raise IndexError(f"kthvalue(): selected number k out of range for dimension {dim}")
    order = _sort_idx(xp_of(input), d, dim, False)
    order = order[(slice(None),) * dim + (slice(k - 1, k),)]
    r = _take_sorted(input, dim, order, "kthvalue", KthvalueBackward0)
    if keepdim:
        return r
    return return_type("kthvalue", (r[0].squeeze(dim), r[1].squeeze(dim)))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    xp = xp_of(input)
    d = input._data
    res = xp.unique(d, return_inverse=return_inverse, return_counts=return_counts, axis=dim,
                    equal_nan=False)  # every NaN is its own value, as torch
    if not (return_inverse or return_counts):
        return _wrap(res)
    out = [_wrap(res[0])]
    k = 1
    if return_inverse:
        inv = res[k].astype(np.int64)
        out.append(_wrap(inv.reshape(d.shape) if dim is None else inv.reshape(-1)))
        k += 1
    if return_counts:
        out.append(_wrap(res[k].astype(np.int64)))
    return tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    xp = xp_of(input)
    d = input._data.reshape(-1)
    if d.size == 0:
        return _wrap(d)
    keep = xp.concatenate([xp.ones(1, bool), d[1:] != d[:-1]])
    vals = d[keep]
    out = [_wrap(vals)]
    if return_inverse:
        out.append(_wrap((xp.cumsum(keep) - 1).astype(np.int64).reshape(input._data.shape)))
    if return_counts:
        starts = xp.nonzero(keep)[0]
        out.append(_wrap(xp.diff(xp.concatenate([starts, xp.asarray([d.size])])).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    check_devices(sorted_sequence, values if isinstance(values, Tensor) else None)
    xp = xp_of(sorted_sequence)
    s = sorted_sequence._data
    v = values._data if isinstance(values, Tensor) else xp.asarray(values)
    side = side or ("right" if right else "left")
    if s.ndim == 1:
        r = xp.searchsorted(s, v, side=side)
    else:
        r = xp.stack([xp.searchsorted(a, b, side=side) for a, b in
                      zip(s.reshape(-1, s.shape[-1]), v.reshape(-1, v.shape[-1]))]).reshape(v.shape)
    return _wrap(xp.asarray(r).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    xp = xp_of(input)
    r = xp.searchsorted(boundaries._data, input._data, side="left" if not right else "right")
    return _wrap(xp.asarray(r).astype(np.int32 if out_int32 else np.int64))


def histc(input, bins=100, min=0, max=0):
    d = B.move_array(input._data, B.CPU)
    lo, hi = (float(d.min()), float(d.max())) if min == max and d.size else (min, max)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    h, _ = np.histogram(d, bins=bins, range=(lo, hi))
    return _wrap(B.move_array(h.astype(d.dtype), input.device))


def bincount(input, weights=None, minlength=0):
    check_devices(input, weights)
    xp = xp_of(input)
    w = weights._data if weights is not None else None
    r = xp.bincount(input._data, weights=w, minlength=minlength)
    return _wrap(r.astype(w.dtype if w is not None and w.dtype.kind == "f" else
                          np.float64 if w is not None else np.int64, copy=False))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    xp = xp_of(elements) if isinstance(elements, Tensor) else xp_of(test_elements)
    e = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return _wrap(arr(xp.isin(e, t, assume_unique=assume_unique, invert=invert)))


def unravel_index(indices, shape):
    xp = xp_of(indices)
    return tuple(_wrap(a.astype(np.int64)) for a in xp.unravel_index(indices._data, tuple(shape)))


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """Counts (float, as torch) and bin edges, by NumPy's histogram."""
    from .common import return_type
    d = B.move_array(input._data, B.CPU)
    b = B.move_array(bins._data, B.CPU) if isinstance(bins, Tensor) else bins
    w = B.move_array(weight._data, B.CPU) if weight is not None else None
    h, edges = np.histogram(d, bins=b, range=range, weights=w, density=density)
    dev = input.device
    return return_type("histogram", (_wrap(B.move_array(h.astype(d.dtype), dev)),
                                     _wrap(B.move_array(edges.astype(d.dtype), dev))),
                       ("hist", "bin_edges"))


"""Helpers shared by every op family: wrapping results, recording graph
nodes, torch's promotion for mixed operands, and sum-to-shape for the
gradients of broadcast inputs."""
import numbers

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap, _wrap_dim, Size
from ..autograd import grad_mode
from ..autograd.graph import Node

_gs = grad_mode._state
_ndarray = np.ndarray
_np_scalar = np.generic


def arr(r):
    """NumPy returns scalars from 0-d operations; tensors always hold arrays."""
    return np.asarray(r) if isinstance(r, _np_scalar) else r


_SELECT_MIN = 8192  # elements: below it np.where is faster


def select(xp, m, a, b):
    """``xp.where(m, a, b)``. NumPy arrays (or an array and a scalar of its
    dtype) of one non-complex dtype, the largest operand of at least
    _SELECT_MIN elements, are selected bitwise, ``b ^ ((a ^ b) & -m)``:
    exact, and 5-7x faster than np.where, whose loop over a large random mask
    costs about 4 ns an element on NumPy 2.4."""
    if xp is not np or max(m.size, getattr(a, "size", 1), getattr(b, "size", 1)) < _SELECT_MIN:
        return xp.where(m, a, b)  # (small: no checks added to the per-op path)
    if (type(a) is _ndarray) != (type(b) is _ndarray):  # one scalar operand
        t = a if type(a) is _ndarray else b
        if np.result_type(a, b) == t.dtype:
            a, b = (t, np.asarray(b, t.dtype)) if t is a else (np.asarray(a, t.dtype), t)
    if type(a) is not _ndarray or type(b) is not _ndarray or a.dtype != b.dtype \
            or a.dtype.kind == "c":
        return np.where(m, a, b)
    shape = np.broadcast_shapes(m.shape, a.shape, b.shape)
    t = np.dtype(f"i{a.dtype.itemsize}")
    ai = np.broadcast_to(a, shape).view(t)
    bi = np.broadcast_to(b, shape).view(t)
    mi = np.broadcast_to(m, shape).astype(t)
    np.negative(mi, out=mi)  # all ones where m
    r = np.bitwise_xor(ai, bi)
    r &= mi
    r ^= bi
    return r.view(a.dtype)


def out(r):
    return _wrap(np.asarray(r) if isinstance(r, _np_scalar) else r)


def needs_grad(*ts):
    if not _gs[0]:
        return False
    for t in ts:
        if t is not None and t.__class__ is not float and getattr(t, "_rg", False):
            return True
    return False


def attach(result, node, output_nr=0):
    """Make ``result`` the ``output_nr``-th output of ``node``."""
    result._grad_fn = node
    result._rg = True
    result._output_nr = output_nr
    return result


def record(result, node_cls, inputs, saved=None, **attrs):
    """Attach a new ``node_cls`` node over ``inputs`` when any needs grad."""
    if _gs[0]:
        for t in inputs:
            if getattr(t, "_rg", False):
                node = node_cls(inputs)
                if saved is not None:
                    node.save(*saved)
                for k, v in attrs.items():
                    setattr(node, k, v)
                result._grad_fn = node
                result._rg = True
                return result
    return result


def xp_of(t):
    return np if type(t._data) is _ndarray else B.array_module(t._data)


def check_same_device(a, b):
    if type(a) is not type(b) or (type(a) is not _ndarray and a.device != b.device):
        da, db = B.device_of_array(a), B.device_of_array(b)
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                           f"two devices, {da} and {db}!")


def check_devices(t, *others):
    """torch's RuntimeError unless each of ``others`` (tensors, or None) is
    on ``t``'s device."""
    for o in others:
        if o is not None:
            check_same_device(t._data, o._data)


def dtype_of(x):
    return B._BY_NP[x._data.dtype] if isinstance(x, Tensor) else B.scalar_dtype(x)


def result_dtype(*xs):
    """torch.result_type over tensors and Python numbers."""
    dims, zeros, scalars = [], [], []
    for x in xs:
        if isinstance(x, Tensor):
            (dims if x._data.ndim else zeros).append(B._BY_NP[x._data.dtype])
        elif x is not None:
            scalars.append(B.scalar_dtype(x))
    return B.result_type_of(dims, zeros, scalars)


def _scalar_value(x, dt):
    if isinstance(x, np.generic):
        x = x.item()
    if dt.is_floating_point and isinstance(x, int):
        return float(x)
    if dt._category == 1 and isinstance(x, int) and not isinstance(x, bool):
        info = np.iinfo(dt.np)
        if not info.min <= x <= info.max:  # torch wraps around like C
            return np.array(x).astype(dt.np)[()]
    return x


_I_LO = {np.dtype(t): int(np.iinfo(t).min) for t in (np.int8, np.int16, np.int32, np.int64)}
_I_HI = {np.dtype(t): int(np.iinfo(t).max) for t in (np.int8, np.int16, np.int32, np.int64)}


def operands(a, b):
    """Arrays (or weak Python scalars) for a binary op, cast so that NumPy's
    result has torch's dtype, plus that dtype's NumPy form."""
    if isinstance(a, Tensor):
        ad = a._data
        if isinstance(b, Tensor):
            bd = b._data
            if type(ad) is not type(bd) or (type(ad) is not _ndarray
                                            and ad.data.device_id != bd.data.device_id):
                ad, bd = _cross_device(ad, bd)
            if ad.shape != bd.shape:
                check_broadcast(ad.shape, bd.shape)
            if ad.dtype == bd.dtype:
                return ad, bd, ad.dtype
            if ad.ndim and bd.ndim:  # both dimensioned: plain promotion
                dt = B._PROMOTE[B._BY_NP[ad.dtype], B._BY_NP[bd.dtype]].np
                return (ad if ad.dtype == dt else ad.astype(dt),
                        bd if bd.dtype == dt else bd.astype(dt), dt)
        elif isinstance(b, float) and ad.dtype.kind == "f":
            return ad, b, ad.dtype
        elif type(b) is int and -2**31 < b < 2**31 and (
                ad.dtype.kind == "f" or ad.dtype.kind == "i" and _I_LO[ad.dtype] <= b <= _I_HI[ad.dtype]):
            return ad, b, ad.dtype
        elif not isinstance(b, numbers.Number):
            raise TypeError(f"unsupported operand type: {type(b).__name__}")
    elif isinstance(b, Tensor):
        if not isinstance(a, numbers.Number):
            raise TypeError(f"unsupported operand type: {type(a).__name__}")
    else:
        raise TypeError("expected a Tensor operand")
    dt = result_dtype(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # arrays already on one device
        return (ad if ad.dtype == dt.np else ad.astype(dt.np),
                bd if bd.dtype == dt.np else bd.astype(dt.np), dt.np)
    return _cast(a, dt), _cast(b, dt), dt.np


def check_broadcast(sa, sb):
    """torch's error for shapes that do not broadcast."""
    for i in range(1, min(len(sa), len(sb)) + 1):
        a, b = sa[-i], sb[-i]
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) "
                               f"at non-singleton dimension {max(len(sa), len(sb)) - i}")


def _cast(x, dt):
    if isinstance(x, Tensor):
        d = x._data
        return d if d.dtype == dt.np else d.astype(dt.np)
    return _scalar_value(x, dt)


def _cross_device(ad, bd):
    """torch lets a 0-d CPU tensor meet a CUDA tensor; nothing else mixes."""
    if type(ad) is _ndarray and ad.ndim == 0:
        return B.move_array(ad, B.device_of_array(bd)), bd
    if type(bd) is _ndarray and bd.ndim == 0:
        return ad, B.move_array(bd, B.device_of_array(ad))
    check_same_device(ad, bd)
    return ad, bd


def sum_to(g, shape):
    """Reduce gradient ``g`` to ``shape`` by summing broadcast dimensions."""
    gs = g._data.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and gs[i + lead] != 1)
    if axes:
        g = g.sum(dim=axes, keepdim=True)
    if lead or g._data.shape != shape:
        g = g.reshape(shape)
    return g


def pad_constant(xp, x, widths, value=0):
    """``xp.pad(x, widths, constant_values=value)`` as one fill and one copy
    (numpy's generic pad costs about 100 µs a call)."""
    out = xp.full(tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, widths)), value, x.dtype)
    out[tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape, widths))] = x
    return out


def grad_for(g, t):
    """Gradient ``g`` shaped and typed for input ``t`` (None if t needs none)."""
    if t is None or not getattr(t, "_rg", False):
        return None
    g = sum_to(g, t._data.shape)
    if g._data.dtype != t._data.dtype:
        g = g.to(B._BY_NP[t._data.dtype])
    return g


def dims_arg(dim, ndim):
    """Normalise an int / tuple / list / None ``dim`` to a sorted tuple."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(dim, ndim),)
    dims = tuple(sorted(_wrap_dim(d, ndim) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return dims


def shape_arg(size):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(torch.Size)``."""
    if len(size) == 1 and type(size[0]) is tuple:  # the internal fast path
        size = size[0]
        if all(type(s) is int for s in size):
            return size
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = size[0]
    if isinstance(size, Tensor):
        size = size.tolist()
    try:
        return tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"size must be a tuple of ints, but got {size!r}") from None


def to_tensor(x, like=None):
    """A tensor from a Tensor, number or array-like; numbers follow ``like``'s device."""
    if isinstance(x, Tensor):
        return x
    from .creation import tensor
    if isinstance(x, numbers.Number) and like is not None:
        return tensor(x, dtype=B.result_type_of([], [], [B.scalar_dtype(x)]), device=like.device)
    return tensor(x, device=like.device if like is not None else None)


def check_inplace(t):
    """torch refuses in-place ops on leaves that require grad (outside no_grad)."""
    if _gs[0] and t._rg and t._grad_fn is None:
        if t._base is not None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def inplace_result(self, result, overwrite=False):
    """Write an out-of-place ``result`` into ``self`` (the in-place op path
    with autograd), adopting its history; ``overwrite``: ``result`` does not
    derive from ``self`` (copy_, fill_), whose old history then gets zeros."""
    rt = result._data.dtype
    st = self._data.dtype
    if rt != st and _kind_rank(rt) > _kind_rank(st):
        raise RuntimeError(f"result type {B._BY_NP[rt].name.capitalize()} can't be cast to the "
                           f"desired output type {B._BY_NP[st].name.capitalize()}")
    if result._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    root = self._base
    if root is not None and (root._rg or result._rg):
        from .shape import rebase_view_history
        rebase_view_history(self, result)
        return self
    self._data[...] = result._data
    self._bump_version()
    if self._rg and _gs[0] and (overwrite or not result._rg):
        n = CopyBackwards((self, result))
        self._grad_fn, self._output_nr = n, 0
    elif result._rg:
        self._grad_fn = result._grad_fn
        self._output_nr = result._output_nr
        self._rg = True
    return self


class CopyBackwards(Node):
    """The old values of an overwritten tensor get zeros; the new ones, the gradient."""

    def backward(self, g):
        return g * 0, g


def _kind_rank(npdt):
    return "biufc".index(npdt.kind) if npdt.kind != "u" else 1


def snapshot(self):
    """A copy of ``self`` that keeps its place in the graph, for in-place ops
    that must save the value from before the write."""
    c = _wrap(self._data.copy())
    c._rg = self._rg
    c._grad_fn = self._grad_fn
    c._output_nr = self._output_nr
    if self._grad_fn is None and self._rg:
        c._accum = self._grad_accumulator()
    return c


class NamedTuple(tuple):
    """torch.return_types.*: a named pair that prints like torch's."""
    _fields = ()
    _name = ""

    def __new__(cls, *values):
        return tuple.__new__(cls, values)

    def __getattr__(self, name):
        try:
            return self[type(self)._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __repr__(self):
        body = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
        return f"torch.return_types.{self._name}(\n{body})"

    def __reduce__(self):
        return (return_type, (self._name, tuple(self)))


_RETURN_TYPES = {}


def return_type(name, values=None, fields=("values", "indices")):
    cls = _RETURN_TYPES.get(name)
    if cls is None:
        cls = _RETURN_TYPES[name] = type(name, (NamedTuple,), {"_fields": fields, "_name": name})
    return cls if values is None else cls(*values)


__all__ = ["Tensor", "Size", "Node", "np", "B"]

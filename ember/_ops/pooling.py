"""Pooling kernels: max, average, adaptive, power-average pooling and max
unpooling in 1, 2 and 3 dimensions.

Windows are visited by looping in Python over the kernel offsets, each step
one vectorised op on a strided slice of the (padded) input:
``maximum(out, slice, out=out)`` for max pooling, an add for averages. Max
pooling records which offset won (first match, as torch); backward writes
the gradient back through the same slices. Kernels work on any leading
dimensions, so unbatched inputs need no special path. Under ``create_graph``
the gradients are built from ember ops and are differentiable again.
"""
import itertools
import math

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.graph import Node
from .common import attach, xp_of, pad_constant, _gs
from . import linalg as L
from . import reduce as R
from .creation import zeros
from .indexing import scatter_add, scatter


# ---------------------------------------------------------------- geometry
def _tuple(v, nd, name, what):
    """kernel_size / stride / padding / dilation as an nd-tuple."""
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        sizes = {1: "one int", 2: "two ints", 3: "three ints"}[nd]
        raise RuntimeError(f"{name}: {what} must either be a single int, or a tuple of {sizes}")
    return v


def _pool_out(size, k, s, p, d, ceil):
    """torch's pooling_output_shape."""
    o = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= size + p:
        o -= 1
    return o


def _window_slices(K, O, stride, dil):
    """(offset number, slices into the padded input) per kernel offset."""
    return [(i, (Ellipsis,) + tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
                                    for k, d, s, o in zip(kk, dil, stride, O)))
            for i, kk in enumerate(itertools.product(*[range(k) for k in K]))]


def _pad_input(xp, x, S, K, O, stride, pad, dil, value):
    """Pad the trailing spatial dims by ``pad`` before and as much as the
    last window needs after."""
    nd = len(S)
    hi = tuple(max(0, (O[i] - 1) * stride[i] + dil[i] * (K[i] - 1) + 1 - pad[i] - S[i])
               for i in range(nd))
    if max(pad) == 0 and max(hi) == 0:
        return x
    widths = ((0, 0),) * (x.ndim - nd) + tuple(zip(pad, hi))
    return pad_constant(xp, x, widths, value)


def _overlapping(K, stride, dil):
    return any(s < d * (k - 1) + 1 for k, s, d in zip(K, stride, dil))


def _crop(xp, gp, S, pad):
    if max(pad) == 0 and gp.shape[-len(S):] == tuple(S):
        return gp
    return xp.ascontiguousarray(gp[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pad, S))])


class _Geometry:
    """Everything a pooling backward needs to revisit the windows."""
    __slots__ = ("S", "K", "O", "stride", "pad", "dil", "windows")

    def __init__(self, S, K, O, stride, pad, dil):
        self.S, self.K, self.O, self.stride, self.pad, self.dil = S, K, O, stride, pad, dil
        self.windows = _window_slices(K, O, stride, dil)

    def padded_shape(self, lead):
        nd = len(self.S)
        return lead + tuple(max(self.S[i] + self.pad[i],
                                (self.O[i] - 1) * self.stride[i]
                                + self.dil[i] * (self.K[i] - 1) + 1) + self.pad[i]
                            for i in range(nd))


_GEOMETRIES = {}


def _geometry(S, K, O, stride, pad, dil):
    """A cached ``_Geometry`` (networks pool the same shapes every step)."""
    key = (S, K, O, stride, pad, dil)
    g = _GEOMETRIES.get(key)
    if g is None:
        if len(_GEOMETRIES) > 256:
            _GEOMETRIES.clear()
        g = _GEOMETRIES[key] = _Geometry(S, K, O, stride, pad, dil)
    return g


def _check_pool(input, nd, name, K, stride, pad, dil, ceil):
    """Shapes and torch's errors; returns the output spatial size."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    shape = input._data.shape
    if input._data.ndim not in (nd + 1, nd + 2) or min(shape[-nd - 1:]) == 0:
        dims = {1: "2D or 3D", 2: "3D or 4D", 3: "4D or 5D"}[nd]
        raise RuntimeError(f"non-empty {dims} (batch mode) tensor expected for input")
    if min(stride) == 0:
        raise RuntimeError("stride should not be zero")
    if min(dil) <= 0:
        names = ("dilationT", "dilationH", "dilationW")[3 - nd:] if nd > 1 else ("dilation",)
        raise RuntimeError("dilation should be greater than zero, but got "
                           + " ".join(f"{n}: {d}" for n, d in zip(names, dil)))
    if min(K) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_size={K}")
    for k, p, d in zip(K, pad, dil):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    S = shape[-nd:]
    O = tuple(_pool_out(S[i], K[i], stride[i], pad[i], dil[i], ceil) for i in range(nd))
    if min(O) <= 0:
        if nd == 1 and name == "max_pool1d":
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {O[0]}")
        c = shape[-nd - 1]
        ins, outs = (c,) + tuple(S), (c,) + O
        if nd == 1:
            ins, outs = (c, 1) + tuple(S), (c, 1) + O
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, ins))}). Calculated output "
                           f"size: ({'x'.join(map(str, outs))}). Output size is too small")
    return tuple(S), O


# ---------------------------------------------------------------- max pooling
def _lowest(dtype):
    return -np.inf if dtype.kind in "fc" else np.iinfo(dtype).min


def _max_pool_raw(xp, x, g, need_arg):
    """Values and (if asked) the number of the winning kernel offset."""
    xpd = _pad_input(xp, x, g.S, g.K, g.O, g.stride, g.pad, g.dil, _lowest(x.dtype))
    out = arg = None
    for i, sl in g.windows:
        v = xpd[sl]
        if out is None:
            out = v.copy()
            if need_arg:
                arg = xp.zeros(out.shape, np.uint8 if math.prod(g.K) < 256 else np.int32)
            continue
        if need_arg:  # offsets are numbered upwards, so a win lifts arg to i
            xp.maximum(arg, (v > out) * arg.dtype.type(i), out=arg)
        xp.maximum(out, v, out=out)
    return out, arg


def _flat_indices(xp, arg, g):
    """torch's indices: flat positions in each input plane."""
    nd = len(g.S)
    kidx = xp.unravel_index(arg, g.K) if nd > 1 else (arg,)
    flat = None
    for i in range(nd):
        shape = [1] * nd
        shape[i] = g.O[i]
        base = (xp.arange(g.O[i], dtype=np.int64) * g.stride[i] - g.pad[i]).reshape(shape)
        pos = kidx[i].astype(np.int64) * g.dil[i] + base
        flat = pos if flat is None else flat * g.S[i] + pos
    return flat


class MaxPoolBackward(Node):
    """Backward of max pooling: the gradient goes to the winning element of
    each window (the offset numbers saved in ``arg``)."""

    def name(self):
        return f"MaxPool{len(self.geom.S)}DWithIndicesBackward0"

    def free_buffers(self):
        self.arg = None

    def backward(self, grad):
        x, = self.saved
        g = self.geom
        if _gs[0]:
            return _scatter_back(grad, _wrap(_flat_indices(xp_of(grad), self.arg, g)),
                                 x._data.shape, len(g.S)),
        xp = xp_of(grad)
        gd = grad._data
        shape = g.padded_shape(gd.shape[:-len(g.S)])
        arg = self.arg
        if _overlapping(g.K, g.stride, g.dil):
            gp = _sum_into_winners(xp, gd, arg, g, shape)
        else:
            gp = xp.zeros(shape, gd.dtype)
            for i, sl in g.windows:
                xp.multiply(gd, arg == i, out=gp[sl])
        return _wrap(_crop(xp, gp, g.S, g.pad)),


def _sum_into_winners(xp, gd, arg, g, shape):
    """Each output gradient added to its window's winning element of the padded
    input ``shape``, by one bincount over flat positions (windows overlap)."""
    nd = len(g.S)
    Sp = shape[-nd:]
    kidx = xp.unravel_index(arg, g.K) if nd > 1 else (arg,)
    pos = None
    for i in range(nd):
        along = [1] * nd
        along[i] = g.O[i]
        p = kidx[i].astype(np.int64) * g.dil[i] + (
            xp.arange(g.O[i], dtype=np.int64) * g.stride[i]).reshape(along)
        pos = p if pos is None else pos * Sp[i] + p
    lead = shape[:-nd]
    pos = pos + (xp.arange(math.prod(lead), dtype=np.int64) * math.prod(Sp)).reshape(
        lead + (1,) * nd)
    out = xp.bincount(pos.reshape(-1), weights=gd.reshape(-1), minlength=math.prod(shape))
    return out.astype(gd.dtype, copy=False).reshape(shape)


def _scatter_back(grad, indices, shape, nd):
    """Gradient of picking elements at flat plane ``indices`` (shaped like
    ``grad``) out of an input of ``shape``; ember ops, so differentiable."""
    lead = tuple(shape[:-nd])
    z = zeros(lead + (math.prod(shape[-nd:]),), dtype=grad.dtype, device=grad.device)
    return scatter_add(z, -1, indices.reshape(lead + (-1,)), grad.reshape(lead + (-1,))) \
        .reshape(tuple(shape))


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd,
              name):
    K = _tuple(kernel_size, nd, name, "kernel_size")
    st = K if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _tuple(stride, nd, name, "stride")
    pad = _tuple(padding, nd, name, "padding")
    dil = _tuple(dilation, nd, name, "dilation")
    S, O = _check_pool(input, nd, name, K, st, pad, dil, ceil_mode)
    g = _geometry(S, K, O, st, pad, dil)
    xp = xp_of(input)
    rg = _gs[0] and input._rg
    out, arg = _max_pool_raw(xp, input._data, g, rg or return_indices)
    out = _wrap(out)
    if rg:
        n = MaxPoolBackward((input,))
        n.save(input)
        n.geom, n.arg = g, arg
        attach(out, n)
    if return_indices:
        return out, _wrap(_flat_indices(xp, arg, g))
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1,
                     "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2,
                     "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3,
                     "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------- average pooling
def _avg_divisor(xp, g, count_include_pad, dtype):
    """Elements per window (torch's rule), as an array over the output."""
    nd = len(g.S)
    div = None
    for i in range(nd):
        start = np.arange(g.O[i]) * g.stride[i] - g.pad[i]
        end = np.minimum(start + g.K[i], g.S[i] + g.pad[i])
        size = end - start if count_include_pad else \
            np.minimum(end, g.S[i]) - np.maximum(start, 0)
        shape = [1] * nd
        shape[i] = g.O[i]
        size = size.reshape(shape)
        div = size if div is None else div * size
    return xp.asarray(div.astype(dtype if dtype.kind == "f" else np.float64))


def _window_sum(xp, x, g):
    xpd = _pad_input(xp, x, g.S, g.K, g.O, g.stride, g.pad, g.dil, 0)
    out = None
    for _, sl in g.windows:
        if out is None:
            out = xpd[sl].copy()
        else:
            out += xpd[sl]
    return out


def _window_spread(xp, gd, g):
    """Adjoint of ``_window_sum``: each output's value added over its window."""
    gp = xp.zeros(g.padded_shape(gd.shape[:-len(g.S)]), gd.dtype)
    over = _overlapping(g.K, g.stride, g.dil)
    for _, sl in g.windows:
        if over:
            gp[sl] += gd
        else:
            gp[sl] = gd
    return _crop(xp, gp, g.S, g.pad)


def _divide(xp, s, div):
    if s.dtype.kind in "fc":
        s /= div
        return s
    return xp.trunc(s / div).astype(s.dtype)


class AvgPoolBackward(Node):
    def name(self):
        return f"AvgPool{len(self.geom.S)}DBackward0"

    def backward(self, grad):
        return _avg_spread_op(grad, self.geom, self.div),


class AvgPoolBackwardBackward(Node):
    def backward(self, grad):
        return _avg_pool_op(grad, self.geom, self.div),


def _avg_pool_op(x, g, div):
    """Window sums over ``div`` (an array over the output, or a number)."""
    xp = xp_of(x)
    out = _wrap(_divide(xp, _window_sum(xp, x._data, g), div))
    if _gs[0] and x._rg:
        n = AvgPoolBackward((x,))
        n.save()
        n.geom, n.div = g, div
        attach(out, n)
    return out


def _avg_spread_op(grad, g, div):
    """The average-pooling input gradient as an op (its own adjoint pair)."""
    xp = xp_of(grad)
    out = _wrap(_window_spread(xp, grad._data / div, g))
    if _gs[0] and grad._rg:
        n = AvgPoolBackwardBackward((grad,))
        n.save()
        n.geom, n.div = g, div
        attach(out, n)
    return out


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nd, name):
    K = _tuple(kernel_size, nd, name, "kernel_size")
    st = K if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _tuple(stride, nd, name, "stride")
    pad = _tuple(padding, nd, name, "padding")
    dil = (1,) * nd
    S, O = _check_pool(input, nd, name, K, st, pad, dil, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    g = _geometry(S, K, O, st, pad, dil)
    xp = xp_of(input)
    if divisor_override is not None:
        div = divisor_override
    elif not ceil_mode and (count_include_pad or not any(pad)):
        div = math.prod(K)
    else:
        div = _avg_divisor(xp, g, count_include_pad, input._data.dtype)
    return _avg_pool_op(input, g, div)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                     "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3, "avg_pool3d")


# ---------------------------------------------------------------- adaptive pooling
def _adaptive_args(input, output_size, nd, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    shape = tuple(input._data.shape)
    if len(shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(shape)}")
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        if nd == 1:
            raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got "
                               f"{len(output_size)})")
        raise RuntimeError(f"{name}: output_size must be {nd}")
    S = shape[-nd:]
    O = tuple(s if o is None else int(o) for s, o in zip(S, output_size))
    if any(o < 0 for o in O):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(O)}: {list(shape[:-nd] + O)}")
    return S, O


def _adaptive_bounds(s, o):
    """Window starts and ends: floor(i*s/o) to ceil((i+1)*s/o)."""
    i = np.arange(o)
    return (i * s) // o, -((-(i + 1) * s) // o)


def _average_matrix(s, o, like):
    """``(o, s)`` matrix whose rows average the adaptive windows."""
    start, end = _adaptive_bounds(s, o)
    j = np.arange(s)
    m = ((j >= start[:, None]) & (j < end[:, None])) / (end - start)[:, None]
    from .creation import tensor
    return tensor(m.astype(like._data.dtype), device=like.device)


def _adaptive_avg_pool(input, output_size, nd, name):
    S, O = _adaptive_args(input, output_size, nd, name)
    if all(o == 1 for o in O):  # global average, as torch: a mean
        return R.mean(input, tuple(range(-nd, 0)), keepdim=True)
    if all(o and s % o == 0 for s, o in zip(S, O)):
        K = tuple(s // o for s, o in zip(S, O))
        g = _geometry(S, K, O, K, (0,) * nd, (1,) * nd)
        return _avg_pool_op(input, g, math.prod(K))
    y = input
    for i in range(nd):  # separable: one small matmul per dimension
        if S[i] != O[i]:
            d = input._data.ndim - nd + i
            a = _average_matrix(S[i], O[i], input)
            y = L.matmul(y.movedim(d, -1), a.t()).movedim(-1, d)
    return y.contiguous()


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


class AdaptiveMaxPoolBackward(Node):
    def name(self):
        return f"AdaptiveMaxPool{self.nd}DBackward0"

    def free_buffers(self):
        self.indices = None

    def backward(self, grad):
        x, = self.saved
        return _scatter_back(grad, _wrap(self.indices), x._data.shape, self.nd),


def _adaptive_max_raw(xp, x, S, O):
    """Values and flat plane indices of adaptive max pooling."""
    nd = len(S)
    lead = x.shape[:-nd]
    if all(o == 1 for o in O):
        flat = x.reshape(lead + (-1,))
        idx = xp.argmax(flat, axis=-1)[..., None]
        if flat.dtype.kind == "f":  # NaN wins, as torch
            nan = xp.isnan(flat)
            idx = xp.where(nan.any(-1, keepdims=True), xp.argmax(nan, -1)[..., None], idx)
        vals = xp.take_along_axis(flat, idx, -1)
        return vals.reshape(lead + O), idx.reshape(lead + O).astype(np.int64)
    bounds = [_adaptive_bounds(s, o) for s, o in zip(S, O)]
    kmax = [int((e - b).max()) for b, e in bounds]
    out = idx = None
    for kk in itertools.product(*[range(k) for k in kmax]):
        pos = []
        for i, (b, e) in enumerate(bounds):
            p = np.minimum(b + kk[i], e - 1)
            shape = [1] * nd
            shape[i] = O[i]
            pos.append(xp.asarray(p.reshape(shape)))
        v = x[(Ellipsis,) + tuple(pos)]
        flat = pos[0]
        for i in range(1, nd):
            flat = flat * S[i] + pos[i]
        if out is None:
            out = v.copy()
            idx = xp.broadcast_to(flat, out.shape).astype(np.int64)
            continue
        m = v > out
        xp.copyto(idx, xp.broadcast_to(flat, idx.shape), where=m)
        xp.copyto(out, v, where=m)
    return out, idx


def _adaptive_max_pool(input, output_size, return_indices, nd, name):
    S, O = _adaptive_args(input, output_size, nd, name)
    xp = xp_of(input)
    if all(o and s % o == 0 for s, o in zip(S, O)) and not all(o == 1 for o in O):
        K = tuple(s // o for s, o in zip(S, O))
        return _max_pool(input, K, K, 0, 1, False, return_indices, nd, name)
    vals, idx = _adaptive_max_raw(xp, input._data, S, O)
    out = _wrap(vals)
    if _gs[0] and input._rg:
        n = AdaptiveMaxPoolBackward((input,))
        n.save(input)
        n.indices, n.nd = idx, nd
        attach(out, n)
    return (out, _wrap(idx)) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool2d(input, output_size, True)


# ---------------------------------------------------------------- power-average pooling
def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd):
    """``(sum over the window of x ** p) ** (1 / p)``, as torch composes it."""
    from .activation import relu
    from .pointwise import sign, abs as abs_
    name = f"avg_pool{nd}d"
    K = _tuple(kernel_size, nd, name, "kernel_size")
    out = _avg_pool(input ** norm_type, K, stride, 0, ceil_mode, True, None, nd, name)
    return (sign(out) * relu(abs_(out))).mul(math.prod(K)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


# ---------------------------------------------------------------- max unpooling
def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd):
    name = f"max_unpool{nd}d"
    K = _tuple(kernel_size, nd, name, "kernel_size")
    st = K if stride is None else _tuple(stride, nd, name, "stride")
    pad = _tuple(padding, nd, name, "padding")
    shape = tuple(input._data.shape)
    default = [(shape[-nd + d] - 1) * st[d] + K[d] - 2 * pad[d] for d in range(nd)]
    if output_size is None:
        O = tuple(default)
    else:
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        if len(output_size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for d in range(nd):
            lo, hi = default[d] - st[d], default[d] + st[d]
            if not lo < output_size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                                 f"{lo} and {hi})")
        O = tuple(int(o) for o in output_size)
    if tuple(indices._data.shape) != shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(shape)}) but got indices tensor with shape: "
                           f"{list(indices._data.shape)}")
    lead = shape[:-nd]
    size = math.prod(O)
    flat = indices._data.reshape(-1)
    bad = (flat < 0) | (flat >= size)
    if bad.any():
        raise RuntimeError(f"Found an invalid max index: {int(flat[bad.argmax()])} (output "
                           f"volumes are of size {'x'.join(map(str, O))})")
    z = zeros(lead + (size,), dtype=input.dtype, device=input.device)
    return scatter(z, -1, indices.reshape(lead + (-1,)), input.reshape(lead + (-1,))) \
        .reshape(lead + tuple(O))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)

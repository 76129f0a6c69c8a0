"""Convolution kernels: ``unfold``/``fold`` (im2col/col2im) and convolution,
plain and transposed, in 1, 2 and 3 dimensions.

Forward: the zero-padded input seen through a strided window view is copied
into batch-first columns ``(N, C, *K, *O)`` (batch innermost for narrow
outputs) and multiplied by the weight, the GEMMs writing the output in
place; large columns are built and consumed a slice of the batch at a time.
Backward: the weight gradient is a GEMM against the same columns (kept from
the forward pass when small, rebuilt otherwise). The input gradient of a
stride-1 'same' convolution is the same convolution of the output gradient
with the flipped kernel, and its columns give the weight gradient too;
otherwise it is a GEMM giving column gradients that col2im scatters back by
looping over the kernel offsets and adding strided slices. A transposed convolution is
the input gradient of a convolution, so the same kernels serve it. Under
``create_graph`` the gradients are built from ember ops (unfold, fold,
matmul), so they are differentiable again.
"""
import itertools
import math

import numpy as np

from .._tensor import Tensor, _wrap, _TYPE_NAMES
from ..autograd.graph import Node
from .. import _backend as B
from .common import attach, xp_of, check_devices, pad_constant, _gs
from . import linalg as L

# Columns of more than _CHUNK_BYTES * 2 are built and consumed a slice of the
# batch at a time, each slice's about _CHUNK_BYTES: they stay in cache between
# im2col and the GEMM and are never page-faulted in afresh (a 36 MiB im2col
# costs more than its GEMM). Smaller columns are kept from forward for the
# weight gradient.
_CHUNK_BYTES = 4 << 20


# ---------------------------------------------------------------- arguments
def _ntuple(v, n, name):
    """``v`` as an n-tuple of ints; torch's error for a wrong length."""
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values "
                           f"to match the convolution dimensions, but got {name}={list(v)}")
    return v


def _pairs(p):
    return tuple((a, a) for a in p)


def _out_size(size, k, s, pads, d):
    """Windows along each dim of a ``size`` input padded by ``pads``."""
    return tuple((size[i] + pads[i][0] + pads[i][1] - d[i] * (k[i] - 1) - 1) // s[i] + 1
                 for i in range(len(size)))


def _as_strided(xp, a, shape, strides):
    if xp is np and a.flags.c_contiguous:  # the direct constructor: far less overhead
        return np.ndarray(shape, a.dtype, a, 0, strides)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def _move(a, src, dst):
    """``moveaxis`` for one axis by a transpose (moveaxis costs microseconds)."""
    axes = list(range(a.ndim))
    axes.insert(dst % a.ndim, axes.pop(src % a.ndim))
    return a.transpose(axes)


# ---------------------------------------------------------------- raw kernels
# Convolution columns are laid out batch-first, (N, C, *K, *O): im2col reads
# the NCHW input directly in runs of an output row, and per-sample GEMMs
# write NCHW outputs in place. For narrow outputs (``last``) the batch goes
# innermost, (C, *K, *O, N): runs then span (row x batch), for the price of
# moving the activations to batch-last. (unfold's columns are (C, *K, N, *O).)
_LAST_BELOW = 16


def _rows(xp, a, last):
    """``(N, C, *S)`` as contiguous ``(C, N, *S)``, or ``(C, *S, N)`` if ``last``."""
    return xp.ascontiguousarray(_move(a, 0, -1) if last else a.swapaxes(0, 1))


def _unrows(xp, a, last):
    """The inverse of ``_rows``."""
    return xp.ascontiguousarray(_move(a, -1, 0) if last else a.swapaxes(0, 1))


def _im2col(xp, x, K, O, stride, pads, dil, last, first=False):
    """Columns ``(C, *K, N, *O)`` (``(C, *K, *O, N)`` if ``last``, ``(N, C,
    *K, *O)`` if ``first``) of ``x`` ``(N, C, *S)`` zero-padded by ``pads``
    ((lo, hi) per spatial dim)."""
    padded = any(lo or hi for lo, hi in pads)
    if last:
        x = _rows(xp, x, True)
        if padded:
            x = pad_constant(xp, x, ((0, 0),) + pads + ((0, 0),))
        st = x.strides
        sp, c, n = st[1:-1], st[:1], st[-1:]
        cs, ns = x.shape[:1], x.shape[-1:]
    else:
        if padded:
            x = pad_constant(xp, x, ((0, 0), (0, 0)) + pads)
        st = x.strides
        sp, c, n = st[2:], st[1:2], st[:1]
        cs, ns = x.shape[1:2], x.shape[:1]
    ks = tuple(a * d for a, d in zip(sp, dil))
    os_ = tuple(a * s for a, s in zip(sp, stride))
    if last:
        v = _as_strided(xp, x, cs + K + O + ns, c + ks + os_ + n)
    elif first:
        v = _as_strided(xp, x, ns + cs + K + O, n + c + ks + os_)
    else:
        v = _as_strided(xp, x, cs + K + ns + O, c + ks + n + os_)
    return xp.ascontiguousarray(v)


def _col2im(xp, cols, S, stride, pads, dil, last=False):
    """Sum windows ``cols`` laid out ``(*K, *B, *O)`` (any leading ``B``
    dims; ``(*K, *B, *O, N)`` if ``last``) back into ``(*B, *S[, N])``."""
    nd = len(S)
    t = cols.ndim - int(last)
    K = cols.shape[:nd]
    O = cols.shape[t - nd:t]
    B = cols.shape[nd:t - nd]
    lead = (slice(None),) * len(B)
    full = tuple(S[i] + pads[i][0] + pads[i][1] for i in range(nd))
    out = xp.zeros(B + full + cols.shape[t:], cols.dtype)
    for kk in itertools.product(*[range(k) for k in K]):
        sl = tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
                   for k, d, s, o in zip(kk, dil, stride, O))
        out[lead + sl] += cols[kk]
    if any(lo or hi for lo, hi in pads):
        out = out[lead + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, S))]
    return out


def _batch_chunks(N, C, K, O, itemsize, last):
    """Batch slices for columns of ``C * prod(K)`` rows by ``N * prod(O)``
    (one slice, the whole batch, when they are small or laid out ``last``)."""
    per = C * math.prod(K) * math.prod(O) * itemsize
    if last or per * N <= 2 * _CHUNK_BYTES:
        return [slice(None)]
    nb = max(1, _CHUNK_BYTES // per)
    return [slice(i, i + nb) for i in range(0, N, nb)]


def _conv_last(xp, x, w, O, stride, pads, dil, groups):
    """Convolution of ``x`` ``(N, C, *S)`` with batch-last columns ``(C, *K,
    *O, N)`` (for narrow outputs): ``y (N, F, *O)`` and the columns."""
    N, C = x.shape[:2]
    F = w.shape[0]
    cols = _im2col(xp, x, w.shape[2:], O, stride, pads, dil, True)
    ck = C // groups * math.prod(w.shape[2:])
    yt = xp.matmul(w.reshape(groups, F // groups, ck), cols.reshape(groups, ck, -1))
    return _unrows(xp, yt.reshape((F,) + O + (N,)), True), cols


def _conv_raw(xp, x, w, b, O, stride, pads, dil, groups, last):
    """Convolution of ``x`` ``(N, C, *S)``: ``y (N, F, *O)`` and the columns
    (None when built in batch slices). Unless ``last``, the columns are
    batch-first, ``(N, C, *K, *O)``, and the GEMMs write y's slices in place."""
    N, F, O = x.shape[0], w.shape[0], tuple(O)
    if last:
        y, cols = _conv_last(xp, x, w, O, stride, pads, dil, groups)
    else:
        chunks = _batch_chunks(N, x.shape[1], w.shape[2:], O, x.itemsize, False)
        y = xp.empty((N, F) + O, x.dtype)
        wg = w.reshape(groups, F // groups, -1)
        for sl in chunks:
            cols = _im2col(xp, x[sl], w.shape[2:], O, stride, pads, dil, False, first=True)
            n = cols.shape[0]
            xp.matmul(wg, cols.reshape(n, groups, wg.shape[2], math.prod(O)),
                      out=y[sl].reshape(n, groups, F // groups, math.prod(O)))
        cols = cols if len(chunks) == 1 else None
    if b is not None:
        y += b.reshape((F,) + (1,) * len(O))
    return y, cols


def _conv_weight_of_input(xp, x, gy, wshape, stride, pads, dil, groups, last):
    """Weight gradient from the input ``x`` and the output gradient ``gy``
    (both batch-first), building the columns (in batch slices when large)."""
    K, O = wshape[2:], gy.shape[2:]
    gw = None
    for sl in _batch_chunks(x.shape[0], x.shape[1], K, O, x.itemsize, last):
        cols = _im2col(xp, x[sl], K, O, stride, pads, dil, last, first=not last)
        g = _conv_weight_raw(xp, cols, gy[sl], wshape, groups, last)
        gw = g if gw is None else xp.add(gw, g, out=gw)
    return gw


def _conv_weight_raw(xp, cols, gy, wshape, groups, last):
    """Weight gradient from the input's columns and the output gradient
    ``gy`` ``(N, F, *O)``: per sample and group ``gy @ cols.T``, summed over
    the batch (batch-first columns); for batch-last columns one GEMM per
    group over gy's rows, ``(cols @ gyt.T).T`` (steadier in OpenBLAS than
    ``gyt @ cols.T`` for the long inner dimension)."""
    N, F = gy.shape[:2]
    ck = math.prod(wshape[1:])
    if last:
        gyt = _rows(xp, gy, True).reshape(groups, F // groups, -1)
        gw = xp.matmul(cols.reshape(groups, ck, -1), gyt.swapaxes(1, 2)).swapaxes(1, 2)
    else:
        p = math.prod(gy.shape[2:])  # (not -1: N may be 0)
        gw = xp.matmul(gy.reshape(N, groups, F // groups, p),
                       cols.reshape(N, groups, ck, p).swapaxes(2, 3)).sum(0)
    return xp.ascontiguousarray(gw).reshape(wshape)


def _input_grad_as_conv(xp, gy, w, S, stride, pads, dil, groups, x=None):
    """The input gradient of a stride-1, 'same'-padded convolution as the
    same convolution of the output gradient with the flipped, transposed
    kernel (one efficient GEMM per slice instead of a thin GEMM and col2im:
    W7 step -17%), and, given the input ``x`` (one group, wide rows), the
    weight gradient from the same columns of ``gy``; (None, None) when the
    convolution is not of that kind (for 'valid' ones the padded gradient is
    much larger than the input, and col2im wins)."""
    K = w.shape[2:]
    tpads = tuple((d * (k - 1) - lo, d * (k - 1) - hi) for d, k, (lo, hi) in zip(dil, K, pads))
    if max(stride) > 1 or tpads != tuple(pads):
        return None, None
    F, cg = w.shape[:2]
    wt = w.reshape((groups, F // groups, cg) + K).swapaxes(1, 2)
    wt = xp.ascontiguousarray(wt[(Ellipsis,) + (slice(None, None, -1),) * len(K)])
    wt = wt.reshape((groups * cg, F // groups) + K)
    if x is None or groups > 1 or S[-1] < _LAST_BELOW:
        return _conv_raw(xp, gy, wt, None, S, stride, tpads, dil, groups,
                         S[-1] < _LAST_BELOW)[0], None
    return _same_conv_grads(xp, gy, x, wt, tpads, dil)


def _same_conv_grads(xp, gy, x, wt, tpads, dil):
    """Both gradients of a one-group stride-1 'same' convolution from one set
    of columns of ``gy`` per batch slice: ``gx`` as the convolution with the
    flipped kernel ``wt``, and ``gw[f, c, k] = sum x[c] * cols[f, K-1-k]``
    over the positions (no columns of ``x`` to build)."""
    N, C = x.shape[:2]
    F = gy.shape[1]
    K, S = wt.shape[2:], x.shape[2:]
    kn, p = math.prod(K), math.prod(S)  # (no -1 reshapes: N may be 0)
    w2 = wt.reshape(C, F * kn)
    gx, gw = xp.empty(x.shape, x.dtype), None
    for sl in _batch_chunks(N, F, K, S, gy.itemsize, False):
        cols = _im2col(xp, gy[sl], K, S, (1,) * len(S), tpads, dil, False, first=True)
        n = cols.shape[0]
        cols = cols.reshape(n, F * kn, p)
        xp.matmul(w2, cols, out=gx[sl].reshape(n, C, p))
        part = xp.matmul(cols, x[sl].reshape(n, C, p).swapaxes(1, 2)).sum(0)  # (F * kn, C)
        gw = part if gw is None else xp.add(gw, part, out=gw)
    gw = gw.reshape((F,) + K + (C,))[(slice(None),) + (slice(None, None, -1),) * len(K)]
    return gx, xp.ascontiguousarray(_move(gw, -1, 1))


def _conv_input_raw(xp, gyt, w, S, stride, pads, dil, groups, last):
    """Input gradient (the transposed convolution) of the output gradient's
    rows ``gyt`` onto ``(N, C, *S)``: column gradients ``w.T @ gyt``, then
    col2im."""
    nd = len(S)
    F = gyt.shape[0]
    N = gyt.shape[-1] if last else gyt.shape[1]
    inner = gyt.shape[1:]  # (N, *O) or (*O, N)
    K = w.shape[2:]
    cg = w.shape[1]
    chunks = _batch_chunks(N, cg * groups, K, inner[1:], gyt.itemsize, last)
    if len(chunks) > 1:
        gx = xp.empty((N, cg * groups) + tuple(S), gyt.dtype)
        for sl in chunks:
            gx[sl] = _conv_input_raw(xp, gyt[:, sl], w, S, stride, pads, dil, groups, last)
        return gx
    fg = F // groups
    kn = math.prod(K)
    wt = xp.ascontiguousarray(w.reshape(groups, fg, cg, kn).transpose(0, 3, 2, 1))
    g2 = gyt.reshape(groups, fg, -1)
    if groups == 1:
        gc = xp.matmul(wt.reshape(kn * cg, fg), g2[0])
    else:
        gc = xp.matmul(wt.reshape(groups, kn * cg, fg), g2)
    gc = _move(gc.reshape((groups,) + K + (cg,) + inner), 0, nd)  # (*K, g, cg, ...)
    gx = _col2im(xp, gc, S, stride, pads, dil, last)
    return _unrows(xp, gx.reshape((groups * cg,) + (tuple(S) + (N,) if last else (N,) + S)),
                   last)


# ---------------------------------------------------------------- unfold / fold ops
class Im2ColBackward0(Node):
    def backward(self, g):
        return _fold_nd(g, self.S, self.K, self.O, self.stride, self.pads, self.dil),


class Col2ImBackward0(Node):
    def backward(self, g):
        return _unfold_nd(g, self.K, self.O, self.stride, self.pads, self.dil, self.in_shape),


def _unfold_nd(x, K, O, stride, pads, dil, shape=None):
    """Columns ``(N, C, *K, *O)`` of ``x`` as an op, reshaped to ``shape``."""
    xp = xp_of(x)
    nd = len(K)
    c = _im2col(xp, x._data, K, O, stride, pads, dil, False)  # (C, *K, N, *O)
    c = xp.ascontiguousarray(_move(c, nd + 1, 0))
    out = _wrap(c if shape is None else c.reshape(shape))
    if _gs[0] and x._rg:
        n = Im2ColBackward0((x,))
        n.save()
        n.S, n.K, n.O, n.stride, n.pads, n.dil = x._data.shape[2:], K, O, stride, pads, dil
        attach(out, n)
    return out


def _fold_nd(cols, S, K, O, stride, pads, dil):
    """col2im of columns (any shape holding ``(N, C, *K, *O)``) onto
    ``(N, C, *S)`` as an op."""
    xp = xp_of(cols)
    nd = len(S)
    N = cols._data.shape[0]
    d = cols._data.reshape((N, -1) + tuple(K) + tuple(O))
    t = xp.ascontiguousarray(d.transpose(tuple(range(2, 2 + nd)) + (1, 0)
                                         + tuple(range(2 + nd, 2 + 2 * nd))))  # (*K, C, N, *O)
    out = _wrap(_unrows(xp, _col2im(xp, t, S, stride, pads, dil), False))
    if _gs[0] and cols._rg:
        n = Col2ImBackward0((cols,))
        n.save()
        n.K, n.O, n.stride, n.pads, n.dil = K, O, stride, pads, dil
        n.in_shape = cols._data.shape
        attach(out, n)
    return out


def _fold_args(kernel_size, dilation, padding, stride):
    return (_ntuple(kernel_size, 2, "kernel_size"), _ntuple(dilation, 2, "dilation"),
            _ntuple(padding, 2, "padding"), _ntuple(stride, 2, "stride"))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a ``(N, C, H, W)`` (or ``(C, H, W)``) input as
    columns ``(N, C * kh * kw, L)``."""
    shape = tuple(input._data.shape)
    if len(shape) not in (3, 4) or any(s == 0 for s in shape[1:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {list(shape)}")
    K, dil, pad, st = _fold_args(kernel_size, dilation, padding, stride)
    x = input if len(shape) == 4 else input.unsqueeze(0)
    S = x._data.shape[2:]
    O = _out_size(S, K, st, _pairs(pad), dil)
    if any(o < 1 for o in O):
        raise RuntimeError(f"Given input with spatial size {tuple(S)}, kernel_size={K}, "
                           f"dilation={dil}, padding={pad}, calculated shape of the array of "
                           f"sliding blocks as {O}, but its components must be at least one.")
    N, C = x._data.shape[:2]
    cols = _unfold_nd(x, K, O, st, _pairs(pad), dil, (N, C * K[0] * K[1], O[0] * O[1]))
    return cols if len(shape) == 4 else cols.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns ``(N, C * kh * kw, L)`` into ``(N, C, *output_size)``."""
    shape = tuple(input._data.shape)
    if len(shape) not in (2, 3) or any(s == 0 for s in shape[1:]):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch "
                           f"size and non-zero dimensions for input, but got: {list(shape)}")
    S = _ntuple(output_size, 2, "output_size")
    K, dil, pad, st = _fold_args(kernel_size, dilation, padding, stride)
    x = input if len(shape) == 3 else input.unsqueeze(0)
    ck, n = x._data.shape[1:]
    if ck % (K[0] * K[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ck} and kernel_size={K}.")
    O = _out_size(S, K, st, _pairs(pad), dil)
    if O[0] * O[1] != n:
        raise RuntimeError(f"Given output_size={S}, kernel_size={K}, dilation={dil}, "
                           f"padding={pad}, stride={st}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {O[0]} * {O[1]} = "
                           f"{O[0] * O[1]}, but got input.size(2)={n}.")
    out = _fold_nd(x, S, K, O, st, _pairs(pad), dil)
    return out if len(shape) == 3 else out.squeeze(0)


# ---------------------------------------------------------------- convolution ops
class ConvolutionBackward0(Node):
    """Backward of a convolution (``transposed`` False) or of a transposed
    convolution; ``cols`` holds the forward columns when they were kept."""
    cols = None

    def free_buffers(self):
        self.cols = None

    def backward(self, g):
        x, w = self.saved
        need_x, need_w, need_b = (f is not None for f, _ in self.next_functions)
        gb = None
        if need_b:
            gb = g.sum(dim=(0,) + tuple(range(2, g._data.ndim)))
        if _gs[0]:
            gx, gw = self._graph_grads(g, x, w, need_x, need_w)
        else:
            gx, gw = self._raw_grads(g, x, w, need_x, need_w)
        return gx, gw, gb

    def _raw_grads(self, g, x, w, need_x, need_w):
        xp = xp_of(g)
        gd, xd, wd = g._data, x._data, w._data
        st, pads, dil, grp = self.stride, self.pads, self.dil, self.groups
        last = self.last
        gx = gw = None
        if not self.transposed:
            if need_x:
                gx, gw = _input_grad_as_conv(xp, gd, wd, xd.shape[2:], st, pads, dil, grp,
                                             xd if need_w and self.cols is None else None)
            if need_x and gx is None:
                gx = _conv_input_raw(xp, _rows(xp, gd, last), wd, xd.shape[2:], st, pads, dil,
                                     grp, last)
            if need_w and gw is None:
                gw = (_conv_weight_raw(xp, self.cols, gd, wd.shape, grp, last)
                      if self.cols is not None else
                      _conv_weight_of_input(xp, xd, gd, wd.shape, st, pads, dil, grp, last))
            gx, gw = (None if a is None else _wrap(a) for a in (gx, gw))
        else:  # roles: conv input g, conv output-gradient x
            cols = None
            if need_x:
                r, cols = _conv_raw(xp, gd, wd, None, xd.shape[2:], st, pads, dil, grp, last)
                gx = _wrap(r)
            if need_w:
                gw = _wrap(_conv_weight_raw(xp, cols, xd, wd.shape, grp, last)
                           if cols is not None else
                           _conv_weight_of_input(xp, gd, xd, wd.shape, st, pads, dil, grp, last))
        return gx, gw

    def _graph_grads(self, g, x, w, need_x, need_w):
        """The same gradients from differentiable ember ops."""
        st, pads, dil, grp = self.stride, self.pads, self.dil, self.groups
        K = w._data.shape[2:]
        if self.transposed:  # roles: conv input g, conv output-gradient x
            gx = _conv_op(g, w, None, x._data.shape[2:], st, pads, dil, grp) if need_x else None
            gw = _weight_grad_op(g, x, w, st, pads, dil, grp) if need_w else None
            return gx, gw
        gw = _weight_grad_op(x, g, w, st, pads, dil, grp) if need_w else None
        gx = None
        if need_x:
            N, F = g._data.shape[:2]
            O = g._data.shape[2:]
            ck = w._data.shape[1] * math.prod(K)
            wt = w.reshape(grp, F // grp, ck).transpose(1, 2)
            gc = L.matmul(wt, g.reshape(N, grp, F // grp, math.prod(O)))
            gx = _fold_nd(gc, x._data.shape[2:], K, O, st, pads, dil)
        return gx, gw


def _weight_grad_op(x, gy, w, stride, pads, dil, groups):
    """Weight gradient of ``conv(x, w) -> y`` given ``gy``, from ember ops."""
    N, F = gy._data.shape[:2]
    O = gy._data.shape[2:]
    K = w._data.shape[2:]
    n = math.prod(O)
    ck = w._data.shape[1] * math.prod(K)
    cols = _unfold_nd(x, K, O, stride, pads, dil, (N, groups, ck, n))
    gw = L.matmul(gy.reshape(N, groups, F // groups, n), cols.transpose(2, 3)).sum(0)
    return gw.reshape(w._data.shape)


def _conv_op(x, w, b, O, stride, pads, dil, groups):
    """Convolution of checked arguments; output spatial size ``O``."""
    last = O[-1] < _LAST_BELOW
    y, cols = _conv_raw(xp_of(x), x._data, w._data, None if b is None else b._data, O, stride,
                        pads, dil, groups, last)
    return _record(_wrap(y), x, w, b, False, stride, pads, dil, groups, last, cols)


def _conv_transpose_op(x, w, b, S, stride, pads, dil, groups):
    """Transposed convolution of checked arguments onto spatial size ``S``."""
    xp = xp_of(x)
    last = x._data.shape[-1] < _LAST_BELOW  # the width of the convolution it transposes
    y = _conv_input_raw(xp, _rows(xp, x._data, last), w._data, S, stride, pads, dil, groups,
                        last)
    if b is not None:
        y += b._data.reshape((-1,) + (1,) * len(S))
    return _record(_wrap(y), x, w, b, True, stride, pads, dil, groups, last)


def _record(out, x, w, b, transposed, stride, pads, dil, groups, last, cols=None):
    if _gs[0] and (x._rg or w._rg or (b is not None and b._rg)):
        n = ConvolutionBackward0((x, w, b))
        n.save(x, w)
        n.transposed, n.last = transposed, last
        n.stride, n.pads, n.dil, n.groups = stride, pads, dil, groups
        if cols is not None and w._rg:
            n.cols = cols
        attach(out, n)
    return out


# ---------------------------------------------------------------- checks
def _dim_names(nd):
    return ("depth", "height", "width")[3 - nd:] if nd <= 3 else tuple(map(str, range(nd)))


def _check_common(input, weight, bias, stride, dilation, nd, name, groups):
    """Checks shared by plain and transposed convolution; returns the batched
    input, whether it was batched, the kernel size, stride and dilation."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, ...)")
    xs = tuple(input._data.shape)
    if len(xs) not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(xs)}")
    wd = weight._data.ndim
    if wd < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if wd != nd + 2:
        raise RuntimeError(f"expected stride to be a single integer value or a list of {wd - 2} "
                           f"values to match the convolution dimensions, but got stride="
                           f"{[1] * nd}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    check_devices(input, weight, bias)
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(input).capitalize()} but found "
                           f"{_scalar_name(weight).capitalize()}")
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"Input type ({_scalar_name(input)}) and bias type "
                           f"({_scalar_name(bias)}) should be the same")
    stride = _ntuple(stride, nd, "stride")
    dil = _ntuple(dilation, nd, "dilation")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dil) <= 0:
        raise RuntimeError("non-positive dilation is not supported")
    batched = input._data.ndim == nd + 2
    return (input if batched else input.unsqueeze(0)), batched, weight._data.shape[2:], stride, dil


def _scalar_name(t):
    """torch's lower-case scalar type name: float, double, long, ..."""
    return _TYPE_NAMES[B._BY_NP[t._data.dtype]][6:-6].lower()


def _conv(input, weight, bias, stride, padding, dilation, groups, nd, name):
    x, batched, K, stride, dil = _check_common(input, weight, bias, stride, dilation, nd, name,
                                               groups)
    ws = tuple(weight._data.shape)
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if max(stride) != 1:
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = tuple(d * (k - 1) for d, k in zip(dil, K))
            pads = tuple((t // 2, t - t // 2) for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        p = _ntuple(padding, nd, "padding")
        if min(p) < 0:
            raise RuntimeError("negative padding is not supported")
        pads = _pairs(p)
    xs = tuple(x._data.shape)
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size [{list(ws)}] instead")
    if xs[1] != ws[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(ws)}, expected "
                           f"input{list(xs)} to have {ws[1] * groups} channels, but got {xs[1]} "
                           "channels instead")
    if bias is not None and tuple(bias._data.shape) != (ws[0],):
        raise RuntimeError(f"Given weight of size {list(ws)}, expected bias to be 1-dimensional "
                           f"with {ws[0]} elements, but got bias of size "
                           f"{list(bias._data.shape)} instead")
    padded = tuple(xs[2 + i] + pads[i][0] + pads[i][1] for i in range(nd))
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dil, K))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                           "actual input size")
    O = _out_size(xs[2:], K, stride, pads, dil)
    y = _conv_op(x, weight, bias, O, stride, pads, dil, groups)
    return y if batched else y.squeeze(0)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd,
                    name):
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    x, batched, K, stride, dil = _check_common(input, weight, bias, stride, dilation, nd, name,
                                               groups)
    ws = tuple(weight._data.shape)
    pad = _ntuple(padding, nd, "padding")
    if any(a < 0 for a in pad):
        raise RuntimeError("negative padding is not supported")
    op = _ntuple(output_padding, nd, "output_padding")
    if any(o >= s and o >= d for o, s, d in zip(op, stride, dil)):
        names = _dim_names(max(nd, 2))
        lead = (0,) * (len(names) - nd)
        parts = [f"output_padding_{n}: {v}" for n, v in zip(names, lead + op)]
        parts += [f"stride_{n}: {v}" for n, v in zip(names, (1,) * len(lead) + stride)]
        parts += [f"dilation_{n}: {v}" for n, v in zip(names, (1,) * len(lead) + dil)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    xs = tuple(x._data.shape)
    if xs[1] != ws[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected "
                           f"input{list(xs)} to have {ws[0]} channels, but got {xs[1]} channels "
                           "instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size [{list(ws)}] instead")
    cout = ws[1] * groups
    if bias is not None and tuple(bias._data.shape) != (cout,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected bias to be "
                           f"1-dimensional with {cout} elements, but got bias of size "
                           f"{list(bias._data.shape)} instead")
    S = tuple((xs[2 + i] - 1) * stride[i] - 2 * pad[i] + dil[i] * (K[i] - 1) + op[i] + 1
              for i in range(nd))
    if any(s < 0 for s in S):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, xs[2:]))}). "
                           f"Calculated output size per channel: ({' x '.join(map(str, S))}). "
                           "Output size is too small")
    y = _conv_transpose_op(x, weight, bias, S, stride, _pairs(pad), dil, groups)
    return y if batched else y.squeeze(0)


# ---------------------------------------------------------------- public functions
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           2, "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           3, "conv_transpose3d")

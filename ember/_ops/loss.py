"""Softmax and the losses of ``nn.functional``.

softmax and log_softmax are fused ops: forward subtracts the maximum along
``dim`` (numerically stable), backward uses the saved output. cross_entropy
is one fused log-softmax + NLL op, forward and backward; nll_loss,
binary_cross_entropy and the losses of ``input - target`` (mse, l1,
smooth_l1, huber) are fused kernels too. Their backward works on backend
arrays; under ``create_graph`` it is written with ember ops, so it can be
differentiated again. The rarer losses are compositions of ember ops.
"""
import math
import warnings

import numpy as np

from .._tensor import Tensor, _wrap, _wrap_dim, Size
from ..autograd.graph import Node, SavedOutput
from .. import _backend as B
from .common import attach, check_devices, select, xp_of, grad_for, result_dtype, _gs
from . import pointwise as P
from . import reduce as R
from .activation import logsigmoid, logsigmoid_raw
from .shape import cat, stack


# ---------------------------------------------------------------- softmax
def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _dtype_name(npdt):
    """torch's scalar type name: Float, Double, Long, ..."""
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(np.dtype(npdt).name, np.dtype(npdt).name)


def _softmax_input(input, dim, dtype, name, stacklevel):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if dim is None:
        dim = _softmax_dim(name, input._data.ndim, stacklevel + 1)
    if dtype is not None:
        input = input.to(dtype)
    d = input._data
    if d.dtype.kind not in "fc":
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for "
                                  f"'{_dtype_name(d.dtype)}'")
    return input, _wrap_dim(dim, d.ndim)


class SoftmaxBackward0(Node):
    def backward(self, g):
        y, = self.saved
        dim = self.dim
        if g._data.ndim == 0:  # a 0-d softmax is constant
            return g * 0,
        if _gs[0]:
            return y * (g - (g * y).sum(dim, keepdim=True)),
        yd, gd = y._data, g._data
        r = gd * yd
        s = r.sum(dim, keepdims=True)
        r -= yd * s
        return _wrap(r),


class LogSoftmaxBackward0(Node):
    def backward(self, g):
        y, = self.saved
        dim = self.dim
        if g._data.ndim == 0:
            return g * 0,
        if _gs[0]:
            return g - y.exp() * g.sum(dim, keepdim=True),
        xp = xp_of(g)
        gd = g._data
        r = xp.exp(y._data)
        r *= gd.sum(dim, keepdims=True)
        return _wrap(gd - r),


def _shifted(xp, d, dim):
    """``d - max(d, dim)``: the numerically stable softmax argument."""
    if d.ndim == 0:
        return xp.zeros_like(d)
    return d - d.max(dim, keepdims=True)


def _sums(xp, e, dim):
    """``e.sum(dim, keepdims=True)``; over the last axis of a contiguous array as
    a BLAS matrix-vector product (NumPy's reduction is 3-5x slower there)."""
    if dim % e.ndim == e.ndim - 1 and e.flags.c_contiguous and e.dtype in (np.float32,
                                                                             np.float64):
        return xp.matmul(e, xp.ones(e.shape[-1], e.dtype))[..., None]
    return e.sum(dim, keepdims=True)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    input, dim = _softmax_input(input, dim, dtype, "softmax", _stacklevel)
    xp = xp_of(input)
    e = _shifted(xp, input._data, dim)
    xp.exp(e, out=e)
    e /= _sums(xp, e, dim) if e.ndim else e
    return _with_output_saved(SoftmaxBackward0, input, e, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    input, dim = _softmax_input(input, dim, dtype, "log_softmax", _stacklevel)
    xp = xp_of(input)
    z = _shifted(xp, input._data, dim)
    if z.ndim:
        z -= xp.log(_sums(xp, xp.exp(z), dim))
    return _with_output_saved(LogSoftmaxBackward0, input, z, dim)


def _with_output_saved(node_cls, input, r, dim):
    out = _wrap(r)
    if _gs[0] and input._rg:
        n = node_cls((input,))
        n.save(SavedOutput(out))
        n.dim = dim
        attach(out, n)
    return out


def method_form(fn):
    """``torch.softmax(input, dim, dtype)`` / ``Tensor.softmax(dim, dtype)``:
    ``dim`` required, ``dtype`` third."""
    def op(input, dim, dtype=None):
        return fn(input, dim, dtype=dtype)
    op.__name__ = op.__qualname__ = fn.__name__
    return op


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input._data.ndim, _stacklevel)
    return softmax(-input, dim, dtype=dtype)


# ---------------------------------------------------------------- reduction arguments
def legacy_get_string(size_average, reduce, emit_warning=True):
    """torch's ``_Reduction.legacy_get_string``: the old boolean pair as a
    reduction name."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _reduction(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    """Apply a reduction to a tensor of losses (ember ops)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_raw(xp, loss, reduction):
    if reduction == "none":
        return loss
    s = loss.sum()
    if reduction == "mean":
        s = s / loss.size if loss.size else xp.asarray(np.nan, loss.dtype)
    return xp.asarray(s, dtype=loss.dtype)


def _no_grad_for(t, fn, arg):
    """torch's refusal of gradients for arguments its kernel does not differentiate."""
    if t is not None and _gs[0] and t._rg:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{arg}'. This input cannot have requires_grad True.")


def _size_warning(input, target):
    if input._data.shape != target._data.shape:
        warnings.warn(f"Using a target size ({Size(target._data.shape)}) that is different to the "
                      f"input size ({Size(input._data.shape)}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", stacklevel=3)


# ---------------------------------------------------------------- losses of input - target
def _mse(M, d, p):
    return d * d


def _mse_grad(M, d, p):
    return d * 2


def _l1(M, d, p):
    return M.abs(d)


def _l1_grad(M, d, p):
    return M.sign(d)


def _smooth_l1(M, d, beta):
    a = M.abs(d)
    return select(M, a < beta, d * d * (0.5 / beta), a - 0.5 * beta)


def _smooth_l1_grad(M, d, beta):
    return select(M, M.abs(d) < beta, d / beta, M.sign(d))


def _huber(M, d, delta):
    a = M.abs(d)
    return select(M, a < delta, d * d * 0.5, (a - 0.5 * delta) * delta)


def _huber_grad(M, d, delta):
    return select(M, M.abs(d) < delta, d, M.sign(d) * delta)


class _DiffLossBackward(Node):
    """Backward of a loss of ``input - target``: the derivative of the loss
    at the saved difference, times the incoming gradient."""
    grad_of = None

    def free_buffers(self):
        self.diff = None

    def backward(self, g):
        x, t = self.saved
        if _gs[0]:
            d = self.grad_of(P, x - t, self.param)
            gd = d * (g / self.n if self.reduction == "mean" else g)
        else:
            xp = xp_of(g)
            d = self.grad_of(xp, self.diff, self.param)
            gg = g._data
            if self.reduction == "mean":
                gg = gg / self.n
            d *= gg
            gd = _wrap(d)
        return grad_for(gd, x), (grad_for(-gd, t) if t._rg else None)


class MseLossBackward0(_DiffLossBackward):
    grad_of = staticmethod(_mse_grad)


class L1LossBackward0(_DiffLossBackward):
    grad_of = staticmethod(_l1_grad)


class SmoothL1LossBackward0(_DiffLossBackward):
    grad_of = staticmethod(_smooth_l1_grad)


class HuberLossBackward0(_DiffLossBackward):
    grad_of = staticmethod(_huber_grad)


def _diff_loss(input, target, reduction, fn, node_cls, param, name, weight=None,
               mean_by_weight=True):
    """Fused ``reduce(fn(input - target))`` with broadcasting as torch; with
    ``weight``, the weighted form (mean: over the weight sum, or over the
    elements for huber_loss)."""
    check_devices(input, target, weight)
    if weight is not None:
        if tuple(weight._data.shape) != tuple(input._data.shape):
            raise ValueError("Weights and input must have the same size.")
        loss = _diff_loss(input, target, "none", fn, node_cls, param, name) * weight
        if reduction == "mean" and mean_by_weight:
            return loss.sum() / weight.sum()
        return _reduce(loss, reduction)
    for a, nm in ((input, "input"), (target, "target")):
        if not isinstance(a, Tensor):
            raise TypeError(f"{name}(): argument '{nm}' must be Tensor, not {type(a).__name__}")
    xp = xp_of(input)
    dt = result_dtype(input, target).np
    xd, td = input._data, target._data
    if dt.kind not in "fc":
        if name == "mse_loss":
            raise NotImplementedError(f"\"mse_cpu\" not implemented for '{_dtype_name(dt)}'")
        if reduction == "mean":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                               "a floating point or complex dtype. Got: " + _dtype_name(dt))
    if xd.shape != td.shape:
        from .common import check_broadcast
        check_broadcast(xd.shape, td.shape)
    d = xp.subtract(xd, td, dtype=dt)
    out = _wrap(_reduce_raw(xp, fn(xp, d, param), reduction))
    if _gs[0] and (input._rg or target._rg):
        n = node_cls((input, target))
        n.save(input, target)
        n.diff, n.param, n.reduction, n.n = d, param, reduction, d.size
        attach(out, n)
    return out


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    return _diff_loss(input, target, reduction, _mse, MseLossBackward0, None, "mse_loss", weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    return _diff_loss(input, target, reduction, _l1, L1LossBackward0, None, "l1_loss", weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _diff_loss(input, target, reduction, _l1, L1LossBackward0, None, "l1_loss")
    return _diff_loss(input, target, reduction, _smooth_l1, SmoothL1LossBackward0, beta,
                      "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _size_warning(input, target)
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _diff_loss(input, target, reduction, _huber, HuberLossBackward0, delta, "huber_loss",
                      weight, mean_by_weight=False)


# ---------------------------------------------------------------- nll_loss and cross_entropy
def _class_layout(input, target, weight, ignore_index, name):
    """Check nll/cross-entropy arguments as torch does; return the input as
    ``(M, C)`` rows, targets ``(M,)``, the ``none`` output shape and C."""
    check_devices(input, target, weight)
    xs = tuple(input._data.shape)
    ts = tuple(target._data.shape)
    td = target._data
    nd = len(xs)
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd >= 2 and len(ts) >= 1 and ts[0] != xs[0]:
        raise ValueError(f"Expected input batch_size ({xs[0]}) to match target batch_size "
                         f"({ts[0]}).")
    if nd == 1 and len(ts) == 1 and ts[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                           f"{ts[0]}")
    if nd <= 2:
        if len(ts) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif nd == 4 and name == "nll_loss":
        if len(ts) != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {len(ts)}")
        if ts != (xs[0],) + xs[2:]:
            raise RuntimeError(f"size mismatch (got input: {list(xs)} , target: {list(ts)}")
    elif ts != (xs[0],) + xs[2:]:
        raise RuntimeError(f"Expected target size {[xs[0]] + list(xs[2:])}, got {list(ts)}")
    if td.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_dtype_name(td.dtype)}")
    C = xs[1] if nd >= 2 else xs[0]
    if weight is not None:
        if weight._data.size != C:
            raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no "
                               f"classes but got weight tensor of shape: "
                               f"{list(weight._data.shape)}")
        if weight._data.dtype != input._data.dtype:
            raise RuntimeError(f"expected scalar type {_dtype_name(input._data.dtype)} but found "
                               f"{_dtype_name(weight._data.dtype)}")
        _no_grad_for(weight, "nll_loss_forward", "weight")
    xp = xp_of(input)
    x = input._data
    if nd == 1:
        rows = x.reshape(1, C)
    elif nd == 2:
        rows = x
    else:
        rows = xp.moveaxis(x, 1, -1).reshape(-1, C)
    t = td.reshape(-1)
    if t.size and 0 <= t.min() and t.max() < C and not (0 <= ignore_index < C):
        valid = None  # the common case: every target counts
    else:
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= C))
        if bad.any():
            raise IndexError(f"Target {int(t[bad.argmax()])} is out of bounds.")
    return rows, t, valid, ts if nd != 1 else (), C


def _to_layout(xp, rows, shape):
    """Rows ``(M, C)`` back to the input's layout (class dim second)."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    return xp.ascontiguousarray(xp.moveaxis(rows.reshape((shape[0],) + shape[2:] + (shape[1],)),
                                            -1, 1))


def _pick_weights(xp, t, valid, weight, dtype):
    """Per-row weight ``w[target]`` (0 where ignored), the safe targets and
    the validity mask (all True when ``valid`` is None)."""
    if valid is None:
        valid = xp.ones(t.shape, bool)
        return (xp.ones(t.shape, dtype) if weight is None else weight._data[t]), t, valid
    ts = xp.where(valid, t, 0)
    if weight is None:
        return valid.astype(dtype), ts, valid
    return weight._data[ts] * valid, ts, valid


def _one_hot_rows(xp, ts, valid, C, dtype):
    oh = xp.zeros((ts.shape[0], C), dtype)
    oh[xp.arange(ts.shape[0]), ts] = valid
    return oh


def _div(a, b):
    """``a / b``, quietly NaN for 0/0 as torch (only NumPy warns)."""
    if type(b) is np.ndarray and not b:
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b
    return a / b


def _reduce_rows(xp, losses, wt, reduction, out_shape, dtype):
    """Per-row losses reduced as nll_loss does (mean: over the target
    weights); also returns the mean's denominator."""
    if reduction == "none":
        return losses.reshape(out_shape), None
    denom = xp.asarray(wt.sum())
    out = losses.sum()
    if reduction == "mean":
        out = _div(out, denom)
    return xp.asarray(out, dtype=dtype), denom


class _ClassLossBackward(Node):
    """Shared state of the fused nll_loss / cross_entropy backward."""

    def _rows(self, g, factor):
        """``factor`` (per row) times the incoming gradient of each row; rows
        of ignored targets get exactly 0 (even when the mean is 0/0)."""
        if self.reduction == "none":
            g = g.reshape(-1)
        if isinstance(g, Tensor):
            if self.reduction == "mean":
                g = g / _wrap(self.denom)
            return P.where(_wrap(self.valid), g * _wrap(factor), 0.0)
        if self.reduction == "mean":
            d = self.denom
            if type(d) is np.ndarray and not d:  # every target ignored: no gradient
                return np.zeros_like(factor)
            g = g / d
        r = g * factor
        return B.array_module(r).where(self.valid, r, 0).astype(factor.dtype, copy=False)


class NllLossBackward0(_ClassLossBackward):
    def backward(self, g):
        x, _ = self.saved
        xp = xp_of(g)
        shape = x._data.shape
        M, C = self.rows_shape
        if _gs[0]:
            oh = _wrap(_to_layout(xp, _one_hot_rows(xp, self.ts, self.valid, C, x._data.dtype),
                                  shape))
            return -oh * _per_row(self._rows(g, self.wt), shape), None, None
        rows = xp.zeros((M, C), x._data.dtype)
        rows[xp.arange(M), self.ts] = -self._rows(g._data, self.wt)
        return _wrap(_to_layout(xp, rows, shape)), None, None


def _per_row(s, shape):
    """A per-row tensor ``(M,)`` broadcastable against the input layout."""
    if len(shape) <= 1:
        return s.reshape(())
    if len(shape) == 2:
        return s.reshape(-1, 1)
    return s.reshape((shape[0],) + shape[2:]).unsqueeze(1)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    rows, t, valid, out_shape, C = _class_layout(input, target, weight, ignore_index,
                                                 "nll_loss")
    xp = xp_of(input)
    wt, ts, valid = _pick_weights(xp, t, valid, weight, rows.dtype)
    losses = -rows[xp.arange(rows.shape[0]), ts] * wt
    out, denom = _reduce_rows(xp, losses, wt, reduction, out_shape, rows.dtype)
    out = _wrap(out)
    if _gs[0] and input._rg:
        n = NllLossBackward0((input, target, weight))
        n.save(input, target)
        n.wt, n.ts, n.valid, n.denom, n.reduction = wt, ts, valid, denom, reduction
        n.rows_shape = rows.shape
        attach(out, n)
    return out


class CrossEntropyBackward(_ClassLossBackward):
    """Backward of the fused log-softmax + NLL: ``(softmax - one_hot)`` times
    the target weight, plus the label-smoothing term; the softmax comes from
    the exponentials kept from the forward pass."""

    def name(self):
        return "AddBackward0" if self.ls else "NllLossBackward0"  # torch's outermost node

    def free_buffers(self):
        self.exp = None

    def backward(self, g):
        x, _ = self.saved
        xp = xp_of(g)
        shape = x._data.shape
        M, C = self.exp.shape
        ls, w = self.ls, self.w
        if _gs[0]:
            cd = 1 if len(shape) >= 2 else 0
            p = softmax(x, cd)
            oh = _wrap(_to_layout(xp, _one_hot_rows(xp, self.ts, self.valid, C, x._data.dtype),
                                  shape))
            gx = (p - oh) * _per_row(self._rows(g, self.wt * (1 - ls)), shape)
            if ls:
                wb = _wrap((w._data if w is not None else xp.ones(C, x._data.dtype))
                           .reshape((C,) + (1,) * (len(shape) - cd - 1)))
                tot = float(C) if w is None else w.sum()
                c2 = self._rows(g, self.valid.astype(x._data.dtype) * (ls / C))
                gx = gx + (p * tot - wb) * _per_row(c2, shape)
            return gx, None, None
        coef = self._rows(g._data, self.wt * (1 - ls))
        if ls:
            c2 = self._rows(g._data, self.valid.astype(self.exp.dtype) * (ls / C))
            gx = self.exp * ((coef + c2 * (C if w is None else w._data.sum())) / self.expsum)[:, None]
            gx -= (c2[:, None] * w._data) if w is not None else c2[:, None]
        else:  # softmax times the row's coefficient, in one pass
            gx = self.exp * (coef / self.expsum)[:, None]
        gx[xp.arange(M), self.ts] -= coef
        return _wrap(_to_layout(xp, gx, shape)), None, None


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    reduction = _reduction(reduction, size_average, reduce)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError("cross_entropy(): argument 'input' and 'target' must be Tensor")
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for "
                                  f"'{_dtype_name(input._data.dtype)}'")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target._data.dtype.kind == "f" and target._data.shape == input._data.shape:
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    rows, t, valid, out_shape, C = _class_layout(input, target, weight, ignore_index,
                                                 "cross_entropy")
    xp = xp_of(input)
    z = rows - rows.max(1, keepdims=True)
    e = xp.exp(z)
    es = _sums(xp, e, 1)[:, 0]
    lse = xp.log(es)  # log-probabilities are z - lse
    wt, ts, valid = _pick_weights(xp, t, valid, weight, rows.dtype)
    M = rows.shape[0]
    losses = (lse - z[xp.arange(M), ts]) * wt
    ls = float(label_smoothing)
    if ls:  # minus the (weighted) sum of the log-probabilities of each row
        smooth = (C * lse - z.sum(1)) if weight is None else \
            (weight._data.sum() * lse - z @ weight._data)
        losses = losses * (1 - ls) + smooth * valid * (ls / C)
    out, denom = _reduce_rows(xp, losses, wt, reduction, out_shape, rows.dtype)
    out = _wrap(out)
    if _gs[0] and input._rg:
        n = CrossEntropyBackward((input, target, weight))
        n.save(input, target)
        n.exp, n.expsum, n.wt, n.ts, n.valid, n.denom = e, es, wt, ts, valid, denom
        n.reduction, n.ls, n.w = reduction, ls, weight
        attach(out, n)
    return out


def _cross_entropy_probs(input, target, weight, reduction, ls):
    """Class probabilities as target (ember ops, as torch composes it)."""
    cd = 1 if input._data.ndim >= 2 else 0
    C = input._data.shape[cd]
    if weight is not None and weight._data.size != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no "
                           f"classes but got weight tensor of shape: {list(weight._data.shape)}")
    logp = log_softmax(input, cd)
    if ls:
        target = target * (1 - ls) + ls / C
    prod = logp * target
    if weight is not None:
        prod = prod * weight.reshape((C,) + (1,) * (input._data.ndim - cd - 1))
    if reduction == "none":
        return -prod.sum(cd)
    if reduction == "sum":
        return -prod.sum()
    n = input._data.size // C
    if n == 0:
        return -prod.sum() * float("nan")
    return -prod.sum() / n


# ---------------------------------------------------------------- binary cross entropy
class BinaryCrossEntropyBackward0(Node):
    def backward(self, g):
        x, t, w = self.saved
        gg = g / self.n if self.reduction == "mean" else g
        gx = None
        if not x._rg:
            pass
        elif _gs[0]:
            gx = (x - t) / (x * (1 - x)).clamp_min(1e-12) * gg
            if w is not None:
                gx = gx * w
        else:
            xp = xp_of(g)
            xd, td = x._data, t._data
            gx = xd - td
            gx /= xp.clip((1 - xd) * xd, 1e-12, np.inf)
            gx *= gg._data
            if w is not None:
                gx *= w._data
            gx = _wrap(gx)
        gt = None
        if t._rg:
            gt = -P.logit(x) * gg
            if w is not None:
                gt = gt * w
        return gx, gt, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    check_devices(input, target, weight)
    if tuple(target._data.shape) != tuple(input._data.shape):
        raise ValueError(f"Using a target size ({Size(target._data.shape)}) that is different to "
                         f"the input size ({Size(input._data.shape)}) is deprecated. Please "
                         "ensure they have the same size.")
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"Found dtype {_dtype_name(target._data.dtype)} but expected "
                           f"{_dtype_name(input._data.dtype)}")
    xp = xp_of(input)
    x, t = input._data, target._data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None:
        _no_grad_for(weight, "binary_cross_entropy", "weight")
        weight = weight.expand(tuple(np.broadcast_shapes(t.shape, weight._data.shape)))
    with np.errstate(divide="ignore"):
        lx = xp.clip(xp.log(x), -100, np.inf)
        l1x = xp.clip(xp.log1p(-x), -100, np.inf)
    loss = -(t * lx + (1 - t) * l1x)
    if weight is not None:
        loss *= weight._data
    out = _wrap(_reduce_raw(xp, loss, reduction))
    if _gs[0] and (input._rg or target._rg):
        n = BinaryCrossEntropyBackward0((input, target, weight))
        n.save(input, target, weight)
        n.reduction, n.n = reduction, x.size
        attach(out, n)
    return out


class BinaryCrossEntropyWithLogitsBackward0(Node):
    """d/dx = lw sigmoid(x) - pos_weight t and d/dt = -x - (pos_weight - 1)
    logsigmoid(x), where lw = 1 + (pos_weight - 1) t; times weight (ember ops,
    so the gradient is differentiable again)."""

    def backward(self, g):
        x, t, w, pw = self.saved
        gg = g / self.n if self.reduction == "mean" else g
        if w is not None:
            gg = gg * w
        gx = gt = None
        if x._rg:
            if pw is None:
                gx = (P.sigmoid(x) - t) * gg
            else:
                gx = (((pw - 1) * t + 1) * P.sigmoid(x) - pw * t) * gg
            gx = grad_for(gx, x)
        if t._rg:
            gt = -x if pw is None else -x - (pw - 1) * logsigmoid(x)
            gt = grad_for(gt * gg, t)
        return gx, gt, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """``(1 - t) x - (1 + (pos_weight - 1) t) logsigmoid(x)``, stable for any x; one fused op."""
    reduction = _reduction(reduction, size_average, reduce)
    check_devices(input, target, weight, pos_weight)
    if tuple(target._data.shape) != tuple(input._data.shape):
        raise ValueError(f"Target size ({Size(target._data.shape)}) must be the same as input "
                         f"size ({Size(input._data.shape)})")
    _no_grad_for(weight, "binary_cross_entropy_with_logits", "weight")
    _no_grad_for(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    xp = xp_of(input)
    x, t = input._data, target._data
    ls = logsigmoid_raw(xp, x)
    if pos_weight is not None:
        ls *= (pos_weight._data - 1) * t + 1
    loss = (1 - t) * x - ls
    if weight is not None:
        loss = loss * weight._data
    out = _wrap(_reduce_raw(xp, loss, reduction))
    if _gs[0] and (input._rg or target._rg):
        n = BinaryCrossEntropyWithLogitsBackward0((input, target, weight, pos_weight))
        n.save(input, target, weight, pos_weight)
        n.reduction, n.n = reduction, loss.size
        attach(out, n)
    return out


# ---------------------------------------------------------------- other losses (ember ops)
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                          "the support size.'batchmean' divides only by the batch size, and "
                          "aligns with the KL div math definition.'mean' will be changed to "
                          "behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        if reduction != "batchmean":
            reduction = _reduction(reduction)
    if log_target:
        loss = P.exp(target) * (target - input)
    else:
        loss = P.xlogy(target, target) - target * input
    if reduction == "batchmean":
        loss = loss.sum()
        return loss / input._data.shape[0] if input._data.ndim else loss
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = P.exp(input) - target * input
    else:
        loss = input - target * P.log(input + eps)
    if full:
        st = target * P.log(target) - target + 0.5 * P.log(2 * math.pi * target)
        loss = loss + st.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    from .creation import ones_like
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    vs, xs = tuple(var._data.shape), tuple(input._data.shape)
    if vs != xs:
        if xs[:-1] == vs:
            var = var.unsqueeze(-1)
        elif not (len(xs) == len(vs) and sum(y for x, y in zip(xs, vs) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    from ..autograd import grad_mode
    with grad_mode.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (P.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    td = target._data.ndim
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if td == 1 else 1
    if input1._data.ndim != want or input2._data.ndim != want:
        raise RuntimeError(f"{td}D target tensor expects {want}D input tensors, but found inputs "
                           f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = td
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    m1 = (input1 * input1).sum(dim) + eps
    m2 = (input2 * input2).sum(dim) + eps
    cos = prod / P.sqrt(m1 * m2)
    pos = P.where(target == 1, 1 - cos, 0.0)
    neg = P.where(target == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if not (input1.dim() == input2.dim() == target.dim()):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.size()}, input2: {input2.size()}, "
                           f"target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    m = P.where(target != 1, (margin - input).clamp_min(0), 0.0)
    s = P.where(target != -1, input, 0.0)
    return _reduce(m + s, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    _no_grad_for(target, "soft_margin_loss", "target")
    return _reduce(P.log1p(P.exp(-input * target)), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    cd = input._data.ndim - 1
    loss = loss.sum(cd) / input._data.shape[cd]
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """``sum_{j != y} max(0, margin - x[y] + x[j]) ** p * w[y] / C`` per sample."""
    reduction = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _no_grad_for(weight, "multi_margin_loss", "weight")
    x = input if input.dim() == 2 else input.reshape(1, -1)
    C = x._data.shape[1]
    t = target.reshape(-1, 1)
    if x._data.shape[0] != t._data.shape[0]:
        raise RuntimeError(f"inconsistent target size, expected {x._data.shape[0]} but got "
                           f"{list(target.shape)}")
    td = t._data
    if td.size and (td.min() < 0 or td.max() >= C):
        raise RuntimeError("target out of range")
    m = (margin - x.gather(1, t) + x).clamp_min(0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * weight.index_select(0, t.reshape(-1)).reshape(-1, 1)
    xp = xp_of(input)
    other = _wrap(xp.arange(C)[None, :] != td)
    loss = (m * other).sum(1) / C
    if input.dim() < 2:
        loss = loss.reshape(target.shape)
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Hinge over (target class, non-target class) pairs; ``target`` lists
    class indices, ended by -1."""
    reduction = _reduction(reduction, size_average, reduce)
    x = input if input.dim() == 2 else input.reshape(1, -1)
    td = target._data.reshape(x._data.shape)
    xp = xp_of(input)
    C = td.shape[1]
    ended = xp.cumsum(td < 0, axis=1) > 0
    is_t = xp.zeros(td.shape, bool)
    rows, cols = xp.nonzero(~ended)
    is_t[rows, td[rows, cols]] = True
    pair = _wrap((is_t[:, :, None] & ~is_t[:, None, :]).astype(x._data.dtype))
    h = (1 - (x.unsqueeze(2) - x.unsqueeze(1))).clamp_min(0)
    loss = (h * pair).sum((1, 2)) / C
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _lengths(xp, v, name):
    """``input_lengths`` / ``target_lengths`` (a tensor, list or tuple) as an int array."""
    a = v._data if isinstance(v, Tensor) else np.asarray(v)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{name} must be integral")
    return xp.asarray(a, dtype=np.int64).reshape(-1)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification: minus the log of the total
    probability of every alignment of ``targets`` with ``log_probs`` (T, N,
    C), by the forward (alpha) recursion over the extended label sequence
    (blank, l1, blank, l2, ..., blank), in ember ops. Unreachable states hold
    a large negative number rather than -inf, so gradients stay finite."""
    reduction = _reduction(reduction)
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.reshape(1, -1)
    xp = xp_of(log_probs)
    T, N, C = log_probs.shape
    il = _lengths(xp, input_lengths, "input_lengths")
    tl = _lengths(xp, target_lengths, "target_lengths")
    if il.shape[0] != N or tl.shape[0] != N:
        raise RuntimeError(f"input_lengths and target_lengths must have size batch_size={N}, "
                           f"got {il.shape[0]} and {tl.shape[0]}")
    if int(il.max(initial=0)) > T:
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{int(il.max())}")
    td = targets._data
    S = int(tl.max(initial=0))
    if td.ndim == 1:  # the targets of all samples, concatenated
        starts = xp.concatenate([xp.zeros(1, np.int64), xp.cumsum(tl)[:-1]])
        lab = xp.zeros((N, max(S, 1)), np.int64)
        for n in range(N):
            lab[n, :tl[n]] = td[starts[n]:starts[n] + tl[n]]
    else:
        lab = xp.asarray(td[:, :max(S, 1)], dtype=np.int64)
    L = 2 * S + 1
    ext = xp.full((N, L), blank, np.int64)
    ext[:, 1::2] = lab[:, :S]
    ext[:, 1::2][xp.arange(S)[None, :] >= tl[:, None]] = blank
    skip = xp.zeros((N, L), bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    dt = log_probs._data.dtype
    neg = float(np.finfo(dt).min) / 8
    emit = log_probs.gather(2, _wrap(xp.broadcast_to(ext, (T, N, L)).copy()))  # (T, N, L)
    far = _wrap(xp.full((N, 2), neg, dt))
    skip_t, never = _wrap(skip), _wrap(xp.full((N, L), neg, dt))
    alpha = P.where(_wrap(xp.arange(L)[None, :] < 2), emit[0], never)
    for t in range(1, T):
        from1 = cat((far[:, :1], alpha[:, :-1]), 1)
        from2 = P.where(skip_t, cat((far, alpha[:, :-2]), 1), never)
        step = R.logsumexp(stack((alpha, from1, from2)), 0) + emit[t]
        alpha = P.where(_wrap((t < il)[:, None]), step, alpha)
    end = alpha.gather(1, _wrap((2 * tl)[:, None]))
    before = P.where(_wrap((tl > 0)[:, None]), alpha.gather(1, _wrap(xp.maximum(2 * tl - 1, 0)
                                                                      [:, None])), far[:, :1])
    loss = -R.logsumexp(cat((end, before), 1), 1)
    # torch's gradient with respect to log_probs is exp(log_probs) minus the
    # alignment posteriors (it assumes log_softmax inputs, through which the
    # extra term vanishes); this zero-valued term adds it
    p = P.exp(log_probs) * _wrap((xp.arange(T)[:, None] < il[None, :]).astype(dt)[:, :, None])
    loss = loss + (p.sum((0, 2)) - p.sum((0, 2)).detach())
    impossible = _wrap(loss._data > -neg / 2)
    loss = P.where(impossible, 0.0 if zero_infinity else math.inf, loss)
    if unbatched:
        loss = loss.reshape(())
    if reduction == "mean":
        return (loss / _wrap(xp.maximum(tl, 1).astype(dt).reshape(loss.shape))).mean()
    return loss.sum() if reduction == "sum" else loss


def _pairwise_distance(x1, x2, p, eps):
    nd = max(x1.dim(), x2.dim())
    return R.norm(x1 - x2 + eps, p, nd - 1 if nd else None)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    return triplet_margin_with_distance_loss(
        anchor, positive, negative, distance_function=lambda x, y: _pairwise_distance(x, y, p, eps),
        margin=margin, swap=swap, reduction=reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, b, c = anchor.dim(), positive.dim(), negative.dim()
    if not a == b == c:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {b}D, and "
                           f"negative {c}D inputs")
    dist = distance_function or (lambda x, y: _pairwise_distance(x, y, 2, 1e-6))
    dp = dist(anchor, positive)
    dn = dist(anchor, negative)
    if swap:
        dn = P.minimum(dn, dist(positive, negative))
    return _reduce((margin + dp - dn).clamp_min(0), reduction)

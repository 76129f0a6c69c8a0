"""Activation, dropout, normalisation and embedding kernels (the ops behind
``nn.functional``).

Activations compute on backend arrays; their backward is written with
ember ops, so ``create_graph`` differentiates through them. The
normalisations are fused: forward keeps the normalised input and the
inverse std, plain backward reuses them, and under ``create_graph``
backward recomputes them with ember ops so that the gradient is itself
differentiable.
"""
import math

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap, _wrap_dim, Size, _TYPE_NAMES
from ..autograd.graph import Node, SavedOutput
from .common import attach, check_devices, select, xp_of, _gs
from . import pointwise as P
from . import reduce as R
from . import shape as S
from .creation import zeros

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2 * math.pi)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_tensor(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def _float_input(input, name):
    _check_tensor(input, name)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"\"{name}\" not implemented for '{_legacy_name(input)[:-6]}'")
    return input._data


def _act(node_cls, input, r, save_out=False, **attrs):
    """Wrap result array ``r``; record ``node_cls`` (input and, if asked,
    the output saved) when ``input`` needs grad."""
    out = _wrap(r)
    if _gs[0] and input._rg:
        n = node_cls((input,))
        n.save(input, SavedOutput(out) if save_out else None)
        for k, v in attrs.items():
            setattr(n, k, v)
        attach(out, n)
    return out


def _inplace_form(fn):
    """``f(input, ..., inplace=True)`` runs the out-of-place op and writes back."""
    return P.inplace(fn)


# ---------------------------------------------------------------- piecewise linear
def _slopes(x, below):
    """1 where ``x > 0``, else ``below``: exact values without a branchy ``where``."""
    d = x._data
    pos = d > 0
    f = (~pos).astype(d.dtype)
    f *= below
    f += pos
    return _wrap(f)


class LeakyReluBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        return g * _slopes(x, self.slope),


def _leaky_relu(input, negative_slope):
    d = _float_input(input, "leaky_relu_cpu")
    xp = xp_of(input)
    if 0 <= negative_slope <= 1:
        r = xp.maximum(d, d * negative_slope)
    else:
        r = select(xp, d > 0, d, d * negative_slope)
    return _act(LeakyReluBackward0, input, r, slope=negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return _inplace_form(_leaky_relu)(input, negative_slope)
    return _leaky_relu(input, negative_slope)


class HardtanhBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        return g * ((x > self.lo) & (x < self.hi)),


def _hardtanh(input, min_val, max_val):
    d = input._data
    if d.dtype.kind == "b":
        raise RuntimeError("\"hardtanh\" not implemented for 'Bool'")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    r = xp_of(input).clip(d, min_val, max_val)
    return _act(HardtanhBackward0, input, r, lo=min_val, hi=max_val)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace_form(_hardtanh)(input, min_val, max_val)
    return _hardtanh(input, min_val, max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def relu(input, inplace=False):
    _check_tensor(input, "relu")
    return input.relu_() if inplace else P.relu(input)


class ThresholdBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        return g * (x > self.threshold),


def _threshold(input, threshold, value):
    d = input._data
    return _act(ThresholdBackward0, input,
                select(xp_of(input), d > threshold, d, xp_of(input).asarray(value, d.dtype)),
                threshold=threshold)


def threshold(input, threshold, value, inplace=False):
    if inplace:
        return _inplace_form(_threshold)(input, threshold, value)
    return _threshold(input, threshold, value)


class _ShrinkBackward(Node):
    def backward(self, g):
        x, _ = self.saved
        return g * ((x > self.lambd) | (x < -self.lambd)),


class HardshrinkBackward0(_ShrinkBackward):
    pass


class SoftshrinkBackward0(_ShrinkBackward):
    pass


def hardshrink(input, lambd=0.5):
    d = _float_input(input, "hardshrink_cpu")
    xp = xp_of(input)
    r = select(xp, (d > lambd) | (d < -lambd), d, xp.zeros((), d.dtype))
    return _act(HardshrinkBackward0, input, r, lambd=lambd)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    d = _float_input(input, "softshrink_cpu")
    xp = xp_of(input)
    r = select(xp, d > lambd, d - lambd, select(xp, d < -lambd, d + lambd, xp.zeros((), d.dtype)))
    return _act(SoftshrinkBackward0, input, r.astype(d.dtype, copy=False), lambd=lambd)


class HardsigmoidBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        return g * ((x > -3.0) & (x < 3.0)) * (1.0 / 6.0),


def _hardsigmoid(input):
    d = _float_input(input, "hardsigmoid_cpu")
    r = xp_of(input).clip(d + 3.0, 0.0, 6.0)
    r *= 1.0 / 6.0
    return _act(HardsigmoidBackward0, input, r)


def hardsigmoid(input, inplace=False):
    return _inplace_form(_hardsigmoid)(input) if inplace else _hardsigmoid(input)


class HardswishBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        mid = g * (x / 3.0 + 0.5)
        return P.where(x < -3.0, 0.0, P.where(x <= 3.0, mid, g)),


def _hardswish(input):
    d = _float_input(input, "hardswish_cpu")
    r = xp_of(input).clip(d + 3.0, 0.0, 6.0)
    r *= d
    r *= 1.0 / 6.0
    return _act(HardswishBackward0, input, r)


def hardswish(input, inplace=False):
    return _inplace_form(_hardswish)(input) if inplace else _hardswish(input)


# ---------------------------------------------------------------- exponential family
class EluBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        neg = g * (self.scale * self.alpha * self.input_scale) * P.exp(x * self.input_scale)
        return P.where(x > 0, g * self.scale if self.scale != 1 else g, neg),


class CeluBackward0(EluBackward0):
    pass


def _elu_kernel(input, alpha, scale, input_scale, node_cls, name):
    d = _float_input(input, name)
    xp = xp_of(input)
    neg = xp.expm1(d * input_scale if input_scale != 1 else d)
    neg *= alpha * scale
    r = select(xp, d > 0, d * scale if scale != 1 else d, neg)
    return _act(node_cls, input, r, alpha=alpha, scale=scale, input_scale=input_scale)


def _elu(input, alpha):
    return _elu_kernel(input, alpha, 1.0, 1.0, EluBackward0, "elu_cpu")


def elu(input, alpha=1.0, inplace=False):
    return _inplace_form(_elu)(input, alpha) if inplace else _elu(input, alpha)


def _selu(input):
    return _elu_kernel(input, _SELU_ALPHA, _SELU_SCALE, 1.0, EluBackward0, "elu_cpu")


def selu(input, inplace=False):
    return _inplace_form(_selu)(input) if inplace else _selu(input)


def _celu(input, alpha):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu_kernel(input, alpha, 1.0, 1.0 / alpha, CeluBackward0, "elu_cpu")


def celu(input, alpha=1.0, inplace=False):
    return _inplace_form(_celu)(input, alpha) if inplace else _celu(input, alpha)


class SoftplusBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        bx = x * self.beta if self.beta != 1 else x
        return P.where(bx > self.threshold, g, g * P.sigmoid(bx)),


def softplus(input, beta=1.0, threshold=20.0):
    d = _float_input(input, "softplus_cpu")
    xp = xp_of(input)
    bx = d * beta if beta != 1 else d
    # log1p(exp(bx)) without overflow: max(bx, 0) + log1p(exp(-|bx|))
    sp = xp.clip(bx, 0, np.inf) + xp.log1p(xp.exp(-xp.abs(bx)))
    if beta != 1:
        sp /= beta
    r = select(xp, bx > threshold, d, sp)
    return _act(SoftplusBackward0, input, r, beta=beta, threshold=threshold)


class LogSigmoidBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        return g * P.sigmoid(-x),


def logsigmoid_raw(xp, d):
    """``log(sigmoid(d))`` of an array, stable for any d."""
    return xp.minimum(d, 0) - xp.log1p(xp.exp(-xp.abs(d)))


def logsigmoid(input):
    d = _float_input(input, "log_sigmoid_forward_cpu")
    return _act(LogSigmoidBackward0, input, logsigmoid_raw(xp_of(input), d))


class _AuxBackward(Node):
    """A node keeping an array from forward (``aux``) that backward reuses;
    under ``create_graph`` it is recomputed from the input with ember ops."""

    def aux_of(self, x):
        return _wrap(self.aux) if not _gs[0] else self.recompute(x)

    def free_buffers(self):
        self.aux = None


class GeluBackward0(_AuxBackward):
    def recompute(self, x):
        if self.approximate == "tanh":
            return P.tanh((x + 0.044715 * x * x * x) * _SQRT_2_PI)
        return (P.erf(x * _SQRT1_2) + 1.0) * 0.5

    def backward(self, g):
        x, _ = self.saved
        a = self.aux_of(x)
        if self.approximate == "tanh":  # a = tanh(inner)
            inner_d = (x * x * (3 * 0.044715) + 1.0) * _SQRT_2_PI
            return g * (0.5 * (a + 1.0) + 0.5 * x * (1.0 - a * a) * inner_d),
        return g * (a + x * P.exp(x * x * -0.5) * _INV_SQRT_2PI),


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    d = _float_input(input, "GeluKernelImpl")
    xp = xp_of(input)
    if approximate == "tanh":
        aux = xp.tanh((d + 0.044715 * d * d * d) * _SQRT_2_PI)
        r = (aux + 1.0) * d
        r *= 0.5
    else:
        aux = (P._erf_kernel(xp, d * _SQRT1_2) + 1.0) * 0.5
        r = d * aux
    out = _act(GeluBackward0, input, r.astype(d.dtype, copy=False), approximate=approximate,
               aux=aux.astype(d.dtype, copy=False))
    return out


class SiluBackward0(_AuxBackward):
    def recompute(self, x):
        return P.sigmoid(x)

    def backward(self, g):
        x, _ = self.saved
        s = self.aux_of(x)
        return g * s * (x * (1.0 - s) + 1.0),


def _silu(input):
    d = _float_input(input, "silu_cpu")
    s = P._sigmoid_kernel(xp_of(input), d)
    return _act(SiluBackward0, input, d * s, aux=s)


def silu(input, inplace=False):
    return _inplace_form(_silu)(input) if inplace else _silu(input)


class MishBackward0(_AuxBackward):
    def recompute(self, x):
        return P.tanh(softplus(x))

    def backward(self, g):
        x, _ = self.saved
        t = self.aux_of(x)
        return g * (t + x * P.sigmoid(x) * (1.0 - t * t)),


def _mish(input):
    d = _float_input(input, "mish_cpu")
    xp = xp_of(input)
    t = xp.tanh(xp.clip(d, 0, np.inf) + xp.log1p(xp.exp(-xp.abs(d))))
    return _act(MishBackward0, input, d * t, aux=t)


def mish(input, inplace=False):
    return _inplace_form(_mish)(input) if inplace else _mish(input)


def softsign(input):
    return input / (P.abs(input) + 1)


def tanhshrink(input):
    return input - P.tanh(input)


def sigmoid(input):
    return P.sigmoid(input)


def tanh(input):
    return P.tanh(input)


class GluBackward0(Node):
    def backward(self, g):
        x, _ = self.saved
        a, b = S.chunk(x, 2, self.dim)
        sb = P.sigmoid(b)
        return S.cat([g * sb, g * a * sb * (1.0 - sb)], self.dim),


def glu(input, dim=-1):
    _check_tensor(input, "glu")
    d = input._data
    if d.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = _wrap_dim(dim, d.ndim)
    n = d.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {n}")
    a, b = xp_of(input).split(d, 2, axis=dim)
    return _act(GluBackward0, input, a * P._sigmoid_kernel(xp_of(input), b), dim=dim)


class PreluKernelBackward0(Node):
    def backward(self, g):
        x, w = self.saved
        wb = _channel_view(w, x)
        gx = P.where(x > 0, g, g * wb) if self.mx else None
        gw = None
        if self.mw:
            gw = P.where(x > 0, 0.0, g * x)
            dims = tuple(i for i in range(x.dim()) if i != (1 if x.dim() > 1 else 0))
            if w.numel() == 1:
                gw = gw.sum().reshape(w.shape)
            elif dims:
                gw = gw.sum(dim=dims)
        return gx, gw


def _channel_view(w, x):
    """A per-channel weight shaped to broadcast over ``x`` (channels at dim 1)."""
    if w.numel() == 1 or x.dim() < 2:
        return w.reshape(()) if w.numel() == 1 else w
    return w.reshape((-1,) + (1,) * (x.dim() - 2))


def prelu(input, weight):
    _check_tensor(input, "prelu")
    check_devices(input, weight)
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    nw = weight.numel()
    if nw != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = input.shape[1] if input.dim() >= 2 else input.shape[0]
        if c != nw:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {nw} and channel size = {c}.")
    d = input._data
    wd = _channel_view(_wrap(weight._data), input)._data
    r = _wrap(select(xp_of(input), d > 0, d, d * wd))
    if _gs[0] and (input._rg or weight._rg):
        n = PreluKernelBackward0((input, weight))
        n.save(input, weight)
        n.mx, n.mw = input._rg, weight._rg
        attach(r, n)
    return r


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, generator=None):
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    d = input._data
    noise = B.rng_of(generator, input.device).uniform(lower, upper, d.shape).astype(d.dtype)
    noise = np.where(B.move_array(d, B.CPU) >= 0, np.ones((), d.dtype), noise)
    slope = _wrap(B.move_array(noise, input.device))
    return input.mul_(slope) if inplace else input * slope


# ---------------------------------------------------------------- dropout
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, p, shape, generator=None):
    """A scaled Bernoulli(1 - p) mask of ``shape`` in ``input``'s dtype and device."""
    d = input._data
    dt = np.float64 if d.dtype == np.float64 else np.float32
    keep = B.rng_of(generator, input.device).random(shape, dtype=dt) >= p
    if p == 1.0:
        m = np.zeros(shape, d.dtype)
    else:
        m = keep.astype(d.dtype)
        m *= 1.0 / (1.0 - p)
    return _wrap(m if type(d) is np.ndarray else B.move_array(m, input.device))


def _apply_mask(input, mask, inplace):
    return input.mul_(mask) if inplace else input * mask


def dropout(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _apply_mask(input, _keep_mask(input, p, input._data.shape), inplace)


def _feature_dropout(input, p, training, inplace, batched_dim):
    """Zero whole channels: one mask value per (N, C), broadcast over the rest."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    d = input._data
    lead = 2 if d.ndim == batched_dim else 1
    shape = d.shape[:lead] + (1,) * (d.ndim - lead)
    return _apply_mask(input, _keep_mask(input, p, shape), inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
            f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
            f"a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    import warnings
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and "
                      f"will result in an error in a future release. To retain the behavior and "
                      f"silence this warning, please use dropout instead. Note that dropout2d "
                      f"exists to provide channel-wise dropout on inputs with 2 spatial "
                      f"dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"3D or 4D inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=2)
        return _feature_dropout(input, p, training, inplace, 3)
    return _feature_dropout(input, p, training, inplace, 4)


def dropout3d(input, p=0.5, training=True, inplace=False):
    import warnings
    nd = input.dim()
    if nd not in (4, 5):
        warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and "
                      f"will result in an error in a future release. To retain the behavior and "
                      f"silence this warning, please use dropout instead. Note that dropout3d "
                      f"exists to provide channel-wise dropout on inputs with 3 spatial "
                      f"dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"4D or 5D inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, 5)


def _alpha_dropout(input, p, training, mask_shape):
    """SELU-preserving dropout: dropped units go to alpha', then an affine
    correction keeps mean and variance."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha = _SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    keep = _keep_mask(input, p, mask_shape) * (1.0 - p)  # 0/1 mask
    b = (keep - 1.0) * (alpha * a) + alpha * a * p
    return input * (keep * a) + b


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    r = _alpha_dropout(input, p, training, input._data.shape)
    return input.copy_(r) if inplace and r is not input else r


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    d = input._data
    r = _alpha_dropout(input, p, training, d.shape[:2] + (1,) * (d.ndim - 2))
    return input.copy_(r) if inplace and r is not input else r


# ---------------------------------------------------------------- normalisation
def _dot_over(xp, a, b, axes):
    """``(a * b).sum(axes, keepdims=True)`` without the product's temporary."""
    idx = "abcdefghijklmnopqrstuvwxyz"[:a.ndim]
    kept = "".join(c for i, c in enumerate(idx) if i not in axes)
    s = xp.einsum(f"{idx},{idx}->{kept}", a, b)
    return s.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape)))


def _stats(d, axes, eps):
    """Mean, centred input and inverse std of ``d`` over ``axes`` (kept)."""
    xp = np if type(d) is np.ndarray else B.array_module(d)
    mean = d.mean(axis=axes, keepdims=True)
    xc = d - mean
    var = _dot_over(xp, xc, xc, axes) / (d.size // mean.size)
    rstd = 1.0 / xp.sqrt(var + eps)
    return mean, var, xc, rstd.astype(d.dtype, copy=False)


def _recompute_stats(x, axes, eps):
    """The same statistics with ember ops (for a differentiable backward)."""
    mean = R.mean(x, axes, True)
    xc = x - mean
    rstd = P.rsqrt(R.mean(xc * xc, axes, True) + eps)
    return xc * rstd, rstd


def _norm_input_grad(gxhat, xhat, rstd, axes):
    """d loss / d x of ``xhat = (x - mean) * rstd`` given d loss / d xhat."""
    return rstd * (gxhat - R.mean(gxhat, axes, True) - xhat * R.mean(gxhat * xhat, axes, True))


def _sum_over(t, axes):
    return R.sum(t, axes) if axes else t


class _NormBackward(Node):
    """Backward of ``y = xhat * w + b``, ``xhat`` normalised over ``axes`` of
    the input viewed as ``norm_shape``; ``w``/``b`` broadcast as ``wshape``
    and their gradients sum over ``paxes``."""

    def backward(self, g):
        x, w, b = self.saved
        if _gs[0]:  # create_graph: statistics with history
            xhat, rstd = _recompute_stats(self._norm(x), self.axes, self.eps)
        else:
            xhat, rstd = _wrap(self.xhat), _wrap(self.rstd)
        gw = gb = gx = None
        if w is not None and w._rg:
            gw = _sum_over(g * self._orig(xhat), self.paxes).reshape(w.shape)
        if b is not None and b._rg:
            gb = _sum_over(g, self.paxes).reshape(b.shape)
        if x._rg:
            gxhat = g * w.reshape(self.wshape) if w is not None else g
            gx = self._orig(_norm_input_grad(self._norm(gxhat), xhat, rstd, self.axes))
        return gx, gw, gb

    def _norm(self, t):
        return t if self.norm_shape is None else t.reshape(self.norm_shape)

    def _orig(self, t):
        return t if self.norm_shape is None else t.reshape(self.shape)

    def free_buffers(self):
        self.xhat = self.rstd = None


class NativeLayerNormBackward0(_NormBackward):
    pass


class NativeBatchNormBackward0(_NormBackward):
    """Batch norm keeps the centred input ``xc`` (not ``xhat``) when its
    statistics are per channel, as are ``w`` and ``b``: see ``_fused_norm``."""
    xc = None

    def backward(self, g):
        if self.xc is None or _gs[0]:  # instance norm, or differentiable
            return super().backward(g)
        # the input gradient is a per-channel combination
        # k * (g - mean(g) - xhat * mean(g * xhat)), k = rstd * w, xhat = xc * rstd
        x, w, b = self.saved
        gd, xc, rstd, axes = g._data, self.xc, self.rstd, self.axes
        gb = gd.sum(axis=axes, keepdims=True)
        gw = _dot_over(xp_of(g), gd, xc, axes) * rstd
        gx = None
        if x._rg:
            m = gd.size // gb.size
            k = rstd * w._data.reshape(self.wshape) if w is not None else rstd
            gx = gd * k
            gx -= xc * (k * rstd * gw / m)
            gx -= k * gb / m
            gx = _wrap(gx.astype(gd.dtype, copy=False))
        return (gx, _wrap(gw.reshape(w.shape)) if w is not None and w._rg else None,
                _wrap(gb.reshape(b.shape)) if b is not None and b._rg else None)

    def free_buffers(self):
        self.xhat = self.xc = self.rstd = None


class NativeGroupNormBackward0(_NormBackward):
    pass


def _fused_norm(node_cls, input, weight, bias, axes, paxes, wshape, eps, norm_shape=None):
    """Normalise ``input`` (viewed as ``norm_shape`` when given) over
    ``axes``, then scale and shift per ``wshape``; returns (out, mean, var).
    When the statistics are per channel like the weight (batch norm), the
    scale folds into one factor: ``y = xc * (rstd * w) + b``."""
    d = input._data
    dn = d.reshape(norm_shape) if norm_shape is not None else d
    if dn.dtype.kind != "f":
        raise RuntimeError(f"expected a floating point input, got {input.dtype}")
    mean, var, xc, rstd = _stats(dn, axes, eps)
    rg = _gs[0] and (input._rg or (weight is not None and weight._rg)
                     or (bias is not None and bias._rg))
    per_channel = axes == paxes and norm_shape is None
    if per_channel:
        y = xc * (rstd * weight._data.reshape(wshape) if weight is not None else rstd)
    else:
        xc *= rstd  # now xhat
        y = xc.reshape(d.shape)
        if weight is not None:
            y = y * weight._data.reshape(wshape)
        elif rg:  # xhat is kept for backward: never the output itself
            y = y.copy()
    if bias is not None:
        y += bias._data.reshape(wshape)
    out = _wrap(y)
    if rg:
        n = node_cls((input, weight, bias))
        n.save(input, weight, bias)
        if per_channel:
            n.xc = xc
        else:
            n.xhat = xc
        n.rstd, n.axes, n.paxes, n.wshape, n.eps = rstd, axes, paxes, wshape, eps
        n.norm_shape, n.shape = norm_shape, d.shape
        attach(out, n)
    return out, mean, var


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    _check_tensor(input, "layer_norm")
    check_devices(input, weight, bias)
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    shape = input._data.shape
    k = len(ns)
    if k == 0 or len(shape) < k or tuple(shape[len(shape) - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(p.shape)} and normalized_shape = {list(ns)}")
    axes = tuple(range(len(shape) - k, len(shape)))
    return _fused_norm(NativeLayerNormBackward0, input, weight, bias, axes,
                       tuple(range(len(shape) - k)), ns, eps)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    _check_tensor(input, "group_norm")
    check_devices(input, weight, bias)
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{len(shape)}")
    n, c = shape[0], shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(shape)} and num_groups={num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p.dim() != 1 or p.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(p.shape)} and "
                               f"input of shape {list(shape)}")
    wshape = (c,) + (1,) * (len(shape) - 2)
    paxes = (0,) + tuple(range(2, len(shape)))
    return _fused_norm(NativeGroupNormBackward0, input, weight, bias, (2,), paxes, wshape, eps,
                       norm_shape=(n, num_groups, -1))[0]


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """In place: running = (1 - momentum) * running + momentum * batch stat,
    with the unbiased batch variance."""
    m = momentum
    unbiased = var * (count / (count - 1))
    if running_mean is not None:
        rm = running_mean._data
        rm *= (1 - m)
        rm += (m * mean.reshape(rm.shape)).astype(rm.dtype, copy=False)
        running_mean._bump_version()
    if running_var is not None:
        rv = running_var._data
        rv *= (1 - m)
        rv += (m * unbiased.reshape(rv.shape)).astype(rv.dtype, copy=False)
        running_var._bump_version()


class _BatchNormEvalBackward(Node):
    """Backward of ``(x - running_mean) * rstd * w + b`` (statistics fixed)."""

    def backward(self, g):
        x, w, b = self.saved
        rstd = _wrap(self.rstd)
        gx = gw = gb = None
        if x._rg:
            gx = g * (rstd * w.reshape(self.wshape) if w is not None else rstd)
        if w is not None and w._rg:
            gw = R.sum(g * ((x - _wrap(self.shift)) * rstd), self.paxes)
        if b is not None and b._rg:
            gb = R.sum(g, self.paxes)
        return gx, gw, gb

    def free_buffers(self):
        self.rstd = self.shift = None


NativeBatchNormBackward0Eval = type("NativeBatchNormBackward0", (_BatchNormEvalBackward,), {})


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    _check_tensor(input, "batch_norm")
    check_devices(input, running_mean, running_var, weight, bias)
    d = input._data
    if d.ndim < 2:
        raise ValueError(f"Expected 2D or higher input (got {d.ndim}D input)")
    c = d.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    axes = (0,) + tuple(range(2, d.ndim))
    wshape = (c,) + (1,) * (d.ndim - 2)
    if training:
        count = d.size // c
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {Size(d.shape)}")
        out, mean, var = _fused_norm(NativeBatchNormBackward0, input, weight, bias, axes, axes,
                                     wshape, eps)
        if running_mean is not None or running_var is not None:
            _update_running(running_mean, running_var, mean, var, count, momentum)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    xp = xp_of(input)
    rstd = (1.0 / xp.sqrt(running_var._data + eps)).astype(d.dtype, copy=False).reshape(wshape)
    shift = running_mean._data.astype(d.dtype, copy=False).reshape(wshape)
    y = d - shift
    y *= rstd if weight is None else rstd * weight._data.reshape(wshape)
    if bias is not None:
        y += bias._data.reshape(wshape)
    out = _wrap(y)
    if _gs[0] and (input._rg or (weight is not None and weight._rg)
                   or (bias is not None and bias._rg)):
        n = NativeBatchNormBackward0Eval((input, weight, bias))
        n.save(input, weight, bias)
        n.rstd, n.shift, n.wshape, n.paxes = rstd, shift, wshape, axes
        attach(out, n)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Each (sample, channel) normalised over its spatial positions; running
    statistics average the per-instance statistics over the batch."""
    _check_tensor(input, "instance_norm")
    d = input._data
    if d.ndim < 3:
        raise ValueError(f"Expected 3D or higher input (got {d.ndim}D input)")
    c = d.shape[1]
    wshape = (c,) + (1,) * (d.ndim - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    count = int(np.prod(d.shape[2:]))
    if count <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{Size(d.shape)}")
    axes = tuple(range(2, d.ndim))
    paxes = (0,) + axes
    out, mean, var = _fused_norm(NativeBatchNormBackward0, input, weight, bias, axes, paxes,
                                 wshape, eps)
    if running_mean is not None or running_var is not None:
        _update_running(running_mean, running_var, mean.mean(axis=0), var.mean(axis=0),
                        count, momentum)
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Each channel divided by (k + alpha/size * sum of squares over ``size``
    neighbouring channels) ** beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    c = input.shape[1]
    lo, hi = size // 2, (size - 1) // 2
    pad_shape = list(input.shape)
    pad_lo, pad_hi = list(pad_shape), list(pad_shape)
    pad_lo[1], pad_hi[1] = lo, hi
    padded = S.cat([zeros(pad_lo, dtype=input.dtype, device=input.device), sq,
                    zeros(pad_hi, dtype=input.dtype, device=input.device)], 1)
    div = S.narrow(padded, 1, 0, c)
    for i in range(1, size):
        div = div + S.narrow(padded, 1, i, c)
    div = (div * (alpha / size) + k) ** beta
    return input / div


# ---------------------------------------------------------------- embedding
class EmbeddingBackward0(Node):
    def backward(self, g):
        idx, = self.saved
        flat = idx.reshape(-1)
        g2 = g.reshape(-1, self.num_weights[1])
        if self.scale_grad_by_freq:
            counts = _wrap(xp_of(idx).bincount(flat._data, minlength=self.num_weights[0])
                           .astype(g._data.dtype))
            g2 = g2 / counts.index_select(0, flat).unsqueeze(1)
        if self.padding_idx is not None:
            g2 = g2 * (flat != self.padding_idx).unsqueeze(1)
        gw = zeros(self.num_weights, dtype=g.dtype, device=g.device)
        return None, gw.index_add(0, flat, g2)


def _embedding_renorm_(weight, idx, max_norm, norm_type):
    """Rows of ``weight`` used by ``idx`` rescaled in place to norm <= max_norm."""
    xp = xp_of(weight)
    rows = xp.unique(idx._data.reshape(-1))
    w = weight._data
    sel = w[rows]
    norms = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] = sel * scale[:, None]
    weight._bump_version()


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    _check_tensor(input, "embedding")
    check_devices(weight, input)
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"torch.{_legacy_name(input)} instead (while checking arguments for "
                           f"embedding)")
    if sparse:
        raise NotImplementedError("sparse embedding gradients are not supported; use sparse=False")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= num
    i = input._data
    if i.size and (int(i.max()) >= num or int(i.min()) < 0):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    w = weight._data
    out = _wrap(xp_of(weight).take(w, i.reshape(-1), axis=0).reshape(i.shape + w.shape[1:]))
    if _gs[0] and weight._rg:
        n = EmbeddingBackward0((None, weight))
        n.save(input)
        n.num_weights, n.padding_idx = w.shape, padding_idx
        n.scale_grad_by_freq = scale_grad_by_freq
        attach(out, n)
    return out


def _legacy_name(t):
    """``LongTensor`` etc., as torch names dtypes in its messages."""
    return _TYPE_NAMES[t.dtype].split(".")[-1]


def one_hot(tensor, num_classes=-1):
    _check_tensor(tensor, "one_hot")
    if tensor._data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    d = tensor._data
    xp = xp_of(tensor)
    if num_classes == -1:
        if d.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(d.max()) + 1
    if d.size:
        if int(d.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(d.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (d[..., None] == xp.arange(num_classes)).astype(np.int64)
    return _wrap(out)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embeddings: the rows of a 2-D
    ``input``, or the slices of a 1-D ``input`` that ``offsets`` start."""
    from .indexing import gather
    from .creation import arange
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                f"GitHub.")
        if per_sample_weights.shape != input.shape:
            raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) "
                             f"is not None, then it must have the same shape as the input "
                             f"({input.shape})")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated is "
                             f"a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets)}")
        nb, per = input.shape
        starts = np.arange(0, nb * per, per, dtype=np.int64)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = B.move_array(offsets._data, B.CPU).astype(np.int64)
        if include_last_offset:
            starts = starts[:-1]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    n = input.numel()
    nbags = len(starts)
    bag_of = np.zeros(n, np.int64)  # bag id of every entry
    if n and nbags:
        np.add.at(bag_of, starts[1:][starts[1:] < n], 1)
        bag_of = np.cumsum(bag_of)
    keep = np.ones(n, bool)
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += weight.shape[0]
        keep = B.move_array(input._data, B.CPU) != padding_idx
    emb = embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
    if per_sample_weights is not None:
        emb = emb * per_sample_weights.unsqueeze(1)
    dev = weight.device
    rows = np.nonzero(keep)[0]
    bags = bag_of[rows]
    emb = emb.index_select(0, _wrap(B.move_array(rows, dev)))
    counts = np.bincount(bags, minlength=nbags)
    if mode == "max":
        d = B.move_array(emb._data, B.CPU)
        first = np.full((nbags, d.shape[1]), -1, np.int64)
        if len(rows):
            best = np.full((nbags, d.shape[1]), -np.inf)
            np.maximum.at(best, bags, d)
            pos = np.where(d == best[bags], np.arange(len(rows))[:, None], len(rows))
            first = np.full((nbags, d.shape[1]), len(rows), np.int64)
            np.minimum.at(first, bags, pos)
        empty = counts == 0
        first[empty] = 0
        if not len(rows):
            return zeros((nbags, weight.shape[1]), dtype=weight.dtype, device=dev)
        out = gather(emb, 0, _wrap(B.move_array(first, dev)))
        return out * _wrap(B.move_array((~empty)[:, None].astype(d.dtype), dev))
    out = zeros((nbags, weight.shape[1]), dtype=weight.dtype, device=dev)
    out = out.index_add(0, _wrap(B.move_array(bags, dev)), emb)
    if mode == "mean":
        out = out / _wrap(B.move_array(np.maximum(counts, 1).astype(out._data.dtype)[:, None], dev))
    return out

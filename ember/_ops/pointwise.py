"""Pointwise ops: arithmetic, comparisons, logic, and the unary math family.

Each op computes on backend arrays (``xp`` is NumPy or CuPy) and, when an
input requires grad, records a node whose ``backward`` uses ember ops.
"""
import math
import numbers

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap
from ..autograd.graph import Node, SavedOutput
from .common import (arr, attach, grad_for, operands, out, xp_of, _gs, dtype_of,
                     result_dtype, check_devices, check_inplace, select, inplace_result,
                     snapshot, to_tensor)


def _is_t(x):
    return isinstance(x, Tensor)


def _rg(x):
    return isinstance(x, Tensor) and x._rg


def _meta(x):
    """What a binary node keeps of an input to shape its gradient."""
    return x if isinstance(x, Tensor) and x._rg else None


class _Binary(Node):
    """Base of two-input nodes; ``a``/``b`` are the inputs (tensors or numbers)."""

    def _set(self, a, b):
        self.ma, self.mb = _meta(a), _meta(b)
        return self


def _tensors_only(*xs):
    return tuple(x if isinstance(x, Tensor) else None for x in xs)


def _record2(r, cls, a, b, save=None, **attrs):
    if _gs[0] and (_rg(a) or _rg(b)):
        n = cls((a if _is_t(a) else None, b if _is_t(b) else None))._set(a, b)
        if save is not None:
            n.save(*save)
        for k, v in attrs.items():
            setattr(n, k, v)
        attach(r, n)
    return r


# ---------------------------------------------------------------- arithmetic
class AddBackward0(_Binary):
    def backward(self, g):
        gb = g if self.alpha == 1 else g * self.alpha
        return grad_for(g, self.ma), grad_for(gb, self.mb)


class SubBackward0(_Binary):
    def backward(self, g):
        return grad_for(g, self.ma), grad_for(-g if self.alpha == 1 else g * -self.alpha, self.mb)


class RsubBackward1(_Binary):
    def backward(self, g):
        return grad_for(-g, self.ma), None


def add(input, other, *, alpha=1, out=None):
    ad, bd, _ = operands(input, other)
    if alpha != 1:
        bd = bd * alpha
    r = _out(ad + bd, out)
    return _record2(r, AddBackward0, input, other, alpha=alpha)


def sub(input, other, *, alpha=1, out=None):
    ad, bd, dt = operands(input, other)
    if dt == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        bd = bd * alpha
    r = _out(ad - bd, out)
    return _record2(r, SubBackward0, input, other, alpha=alpha)


def rsub(input, other, alpha=1):
    if _is_t(other):
        return sub(other, input, alpha=alpha)
    ad, bd, _ = operands(input, other)
    r = _wrap(arr(bd - ad * alpha if alpha != 1 else bd - ad))
    return _record2(r, RsubBackward1, input, None)


class MulBackward0(_Binary):
    def backward(self, g):
        a, b = self.saved
        a = self.sa if a is None else a
        b = self.sb if b is None else b
        return (grad_for(g * b, self.ma) if self.ma is not None else None,
                grad_for(g * a, self.mb) if self.mb is not None else None)


def mul(input, other, *, out=None):
    ad, bd, _ = operands(input, other)
    r = _out(ad * bd, out)
    if _gs[0] and (_rg(input) or _rg(other)):
        n = MulBackward0((input if _is_t(input) else None, other if _is_t(other) else None))
        n._set(input, other)
        # keep only what each gradient needs
        n.save(input if _is_t(input) and _rg(other) else None,
               other if _is_t(other) and _rg(input) else None)
        n.sa, n.sb = input, other
        attach(r, n)
    return r


class DivBackward0(_Binary):
    def backward(self, g):
        a, b = self.saved
        a = self.sa if a is None else a
        b = self.sb if b is None else b
        ga = grad_for(g / b, self.ma) if self.ma is not None else None
        gb = grad_for(-g * a / (b * b), self.mb) if self.mb is not None else None
        return ga, gb


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return floor_divide(input, other)
        if rounding_mode == "trunc":
            return _trunc_divide(input, other)
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{rounding_mode}'")
    ad, bd, dt = operands(input, other)
    if dt.kind not in "fc":
        f = B.get_default_dtype().np
        ad = ad.astype(f) if hasattr(ad, "astype") else float(ad)
        bd = bd.astype(f) if hasattr(bd, "astype") else float(bd)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = _out(ad / bd, out)
    if _gs[0] and (_rg(input) or _rg(other)):
        n = DivBackward0((input if _is_t(input) else None, other if _is_t(other) else None))
        n._set(input, other)
        n.save(input if _is_t(input) and _rg(other) else None, other if _is_t(other) else None)
        n.sa, n.sb = input, other
        attach(r, n)
    return r


def true_divide(input, other):
    return div(input, other)


def floor_divide(input, other):
    ad, bd, dt = operands(input, other)
    if dt.kind in "iu" and np.any(bd == 0):  # (a NEP-18 call: works on CuPy arrays)
        raise RuntimeError("ZeroDivisionError")
    with np.errstate(divide="ignore", invalid="ignore"):
        return _wrap(arr(ad // bd))


def _trunc_divide(input, other):
    ad, bd, dt = operands(input, other)
    xp = np if not _is_t(input) else xp_of(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        if dt.kind in "iu":
            q = xp.trunc(ad / bd).astype(dt)
        else:
            q = xp.trunc(ad / bd)
    return _wrap(arr(q))


class RemainderBackward0(_Binary):
    def backward(self, g):
        a, b = self.saved
        a, b = (self.sa if a is None else a), (self.sb if b is None else b)
        gb = None
        if self.mb is not None:
            gb = grad_for(-g * floor_divide(a, b), self.mb)
        return grad_for(g, self.ma), gb


def remainder(input, other):
    ad, bd, dt = operands(input, other)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = _wrap(arr(ad % bd))
    return _record2(r, RemainderBackward0, input, other, save=_tensors_only(input, other),
                    sa=input, sb=other)


class FmodBackward0(_Binary):
    def backward(self, g):
        a, b = self.saved
        a, b = (self.sa if a is None else a), (self.sb if b is None else b)
        gb = grad_for(-g * _trunc_divide(a, b), self.mb) if self.mb is not None else None
        return grad_for(g, self.ma), gb


def fmod(input, other):
    ad, bd, _ = operands(input, other)
    xp = xp_of(input) if _is_t(input) else xp_of(other)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = _wrap(arr(xp.fmod(ad, bd)))
    return _record2(r, FmodBackward0, input, other, save=_tensors_only(input, other),
                    sa=input, sb=other)


class PowBackward0(_Binary):
    def backward(self, g):
        a, b, r = self.saved
        b = self.sb if b is None else b
        ga = gb = None
        if self.ma is not None:
            if isinstance(b, numbers.Number):
                ga = g * b * (a ** (b - 1)) if b != 0 else g * 0
            else:
                ga = g * b * where(b == 0, 1.0, a) ** (b - 1)
            ga = grad_for(ga, self.ma)
        if self.mb is not None:
            a = self.sa if a is None else a
            la = log(a) if _is_t(a) else math.log(a)
            gb = grad_for(where((a == 0) & (b >= 0), 0.0, g * r * la) if _is_t(a)
                          else g * r * la, self.mb)
        return ga, gb


def pow(input, exponent):
    ad, bd, dt = operands(input, exponent)
    if dt.kind in "iu" and np.any(bd < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if type(bd) in (int, float) and bd == 3 and dt.kind == "f":
            r = _wrap(ad * ad * ad)  # torch's x*x*x (NumPy's float pow is 700x slower)
        else:
            r = _wrap(arr(ad ** bd))
    if _gs[0] and (_rg(input) or _rg(exponent)):
        n = PowBackward0((input if _is_t(input) else None, exponent if _is_t(exponent) else None))
        n._set(input, exponent)
        n.sa, n.sb = input, exponent
        n.save(input if _is_t(input) else None, exponent if _is_t(exponent) else None,
               SavedOutput(r) if _rg(exponent) else None)
        attach(r, n)
    return r


def float_power(input, exponent):
    x = input.double() if _is_t(input) else float(input)
    e = exponent.double() if _is_t(exponent) else exponent
    return pow(x, e)


class Atan2Backward0(_Binary):
    def backward(self, g):
        a, b = self.saved
        d = a * a + b * b
        return grad_for(g * b / d, self.ma), grad_for(-g * a / d, self.mb)


def atan2(input, other):
    ad, bd, dt = operands(input, other)
    xp = xp_of(input)
    if dt.kind not in "fc":
        ad, bd = ad.astype(B.get_default_dtype().np), bd.astype(B.get_default_dtype().np)
    r = _wrap(arr(xp.arctan2(ad, bd)))
    return _record2(r, Atan2Backward0, input, other, save=(input, other))


arctan2 = atan2


class _MinMaxBackward(_Binary):
    """The first operand takes the share ``first(a, b)`` of the gradient,
    the second the rest."""

    def backward(self, g):
        a, b = self.saved
        wa = self.first(a, b).to(g.dtype)
        return (grad_for(g * wa, self.ma) if self.ma is not None else None,
                grad_for(g * (1 - wa), self.mb) if self.mb is not None else None)


class MaximumBackward0(_MinMaxBackward):
    first = staticmethod(lambda a, b: where(a == b, 0.5, (a > b).to(a.dtype)))  # ties split


class MinimumBackward0(_MinMaxBackward):
    first = staticmethod(lambda a, b: where(a == b, 0.5, (a < b).to(a.dtype)))


class FmaxBackward0(_MinMaxBackward):  # won, tied, or facing a NaN: all to the first
    first = staticmethod(lambda a, b: logical_or(a >= b, isnan(b)))


class FminBackward0(_MinMaxBackward):
    first = staticmethod(lambda a, b: logical_or(a <= b, isnan(b)))


def maximum(input, other):
    ad, bd, _ = operands(input, other)
    r = _wrap(arr(xp_of(input).maximum(ad, bd)))
    return _record2(r, MaximumBackward0, input, other, save=(input, other))


def minimum(input, other):
    ad, bd, _ = operands(input, other)
    r = _wrap(arr(xp_of(input).minimum(ad, bd)))
    return _record2(r, MinimumBackward0, input, other, save=(input, other))


def fmax(input, other):
    ad, bd, _ = operands(input, other)
    r = _wrap(arr(xp_of(input).fmax(ad, bd)))
    return _record2(r, FmaxBackward0, input, other, save=(input, other))


def fmin(input, other):
    ad, bd, _ = operands(input, other)
    r = _wrap(arr(xp_of(input).fmin(ad, bd)))
    return _record2(r, FminBackward0, input, other, save=(input, other))


def hypot(input, other):
    return sqrt(input * input + other * other)


# ---------------------------------------------------------------- comparison and logic
def _compare(ufunc_name):
    def op(input, other, *, out=None):
        if not isinstance(other, (Tensor, numbers.Number)):
            if ufunc_name in ("equal", "not_equal"):
                return ufunc_name == "not_equal"
            raise TypeError(f"unsupported operand type for comparison: {type(other).__name__}")
        ad, bd, _ = operands(input, other)
        xp = xp_of(input) if _is_t(input) else xp_of(other)
        return _wrap(arr(getattr(xp, ufunc_name)(ad, bd)))
    op.__name__ = ufunc_name
    return op


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(ufunc_name):
    def op(input, other):
        ad, bd, _ = operands(input, other)
        return _wrap(arr(getattr(xp_of(input), ufunc_name)(ad, bd)))
    op.__name__ = ufunc_name
    return op


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


def logical_not(input):
    return _wrap(arr(xp_of(input).logical_not(input._data)))


def _bitwise(ufunc_name):
    def op(input, other):
        ad, bd, dt = operands(input, other)
        if dt.kind not in "biu":
            raise RuntimeError(f"\"{ufunc_name}_cpu\" not implemented for '{B._BY_NP[dt].name.capitalize()}'")
        return _wrap(arr(getattr(xp_of(input) if _is_t(input) else xp_of(other), ufunc_name)(ad, bd)))
    op.__name__ = ufunc_name
    return op


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def bitwise_not(input):
    if input._data.dtype.kind not in "biu":
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{input.dtype.name.capitalize()}'")
    return _wrap(arr(xp_of(input).invert(input._data)))


def equal(input, other):
    """True when both have the same shape and elements."""
    if input._data.shape != other._data.shape:
        return False
    ad, bd, _ = operands(input, other)
    return bool((ad == bd).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    ad, bd, _ = operands(input, other)
    return _wrap(arr(xp_of(input).isclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan)))


# ---------------------------------------------------------------- unary math
class _Unary(Node):
    """One-input node; the subclass's ``grad(g, x, out)`` is the formula."""

    def backward(self, g):
        x, r = self.saved
        return grad_for(type(self).grad(g, x, r), self.mx)


def _floatify(d):
    return d if d.dtype.kind in "fc" else d.astype(B.get_default_dtype().np)


def _unary(name, kernel, grad=None, saves="x", keep_int=False):
    """Define op ``name``: ``kernel(xp, array) -> array``; ``grad(g, x, out)``
    in ember ops; ``saves`` which of x/out the backward reads."""
    node_cls = None
    if grad is not None:
        node_cls = type(name.capitalize() + "Backward0", (_Unary,), {"grad": staticmethod(grad)})

    def op(input, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        d = input._data
        xp = np if type(d) is np.ndarray else B.array_module(d)
        if not keep_int:
            d = _floatify(d)
        with np.errstate(all="ignore"):
            r = _out(kernel(xp, d), out)
        if node_cls is not None and _gs[0] and input._rg:
            n = node_cls((input,))
            n.mx = input
            n.save(input if "x" in saves else None, SavedOutput(r) if "out" in saves else None)
            attach(r, n)
        return r

    op.__name__ = name
    return op


def _zero_grad(g, x, r):
    return g * 0


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_2_SQRTPI = 2.0 / math.sqrt(math.pi)

exp = _unary("exp", lambda xp, d: xp.exp(d), lambda g, x, r: g * r, "out")
exp2 = _unary("exp2", lambda xp, d: xp.exp2(d), lambda g, x, r: g * r * _LN2, "out")
expm1 = _unary("expm1", lambda xp, d: xp.expm1(d), lambda g, x, r: g * (r + 1), "out")
log = _unary("log", lambda xp, d: xp.log(d), lambda g, x, r: g / x)
log2 = _unary("log2", lambda xp, d: xp.log2(d), lambda g, x, r: g / (x * _LN2))
log10 = _unary("log10", lambda xp, d: xp.log10(d), lambda g, x, r: g / (x * _LN10))
log1p = _unary("log1p", lambda xp, d: xp.log1p(d), lambda g, x, r: g / (x + 1))
sqrt = _unary("sqrt", lambda xp, d: xp.sqrt(d), lambda g, x, r: g / (2 * r), "out")
rsqrt = _unary("rsqrt", lambda xp, d: 1 / xp.sqrt(d), lambda g, x, r: g * -0.5 * r * r * r, "out")
sin = _unary("sin", lambda xp, d: xp.sin(d), lambda g, x, r: g * cos(x))
cos = _unary("cos", lambda xp, d: xp.cos(d), lambda g, x, r: -g * sin(x))
tan = _unary("tan", lambda xp, d: xp.tan(d), lambda g, x, r: g * (1 + r * r), "out")
asin = _unary("asin", lambda xp, d: xp.arcsin(d), lambda g, x, r: g * rsqrt(1 - x * x))
acos = _unary("acos", lambda xp, d: xp.arccos(d), lambda g, x, r: -g * rsqrt(1 - x * x))
atan = _unary("atan", lambda xp, d: xp.arctan(d), lambda g, x, r: g / (1 + x * x))
sinh = _unary("sinh", lambda xp, d: xp.sinh(d), lambda g, x, r: g * cosh(x))
cosh = _unary("cosh", lambda xp, d: xp.cosh(d), lambda g, x, r: g * sinh(x))
tanh = _unary("tanh", lambda xp, d: xp.tanh(d), lambda g, x, r: g * (1 - r * r), "out")
asinh = _unary("asinh", lambda xp, d: xp.arcsinh(d), lambda g, x, r: g * rsqrt(x * x + 1))
acosh = _unary("acosh", lambda xp, d: xp.arccosh(d), lambda g, x, r: g * rsqrt(x * x - 1))
atanh = _unary("atanh", lambda xp, d: xp.arctanh(d), lambda g, x, r: g / (1 - x * x))
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def _sigmoid_kernel(xp, d):
    """torch's ``1 / (1 + exp(-x))``: exp overflows to inf below -88 (float32),
    giving 0 (no branchy where: 10x faster)."""
    e = xp.exp(-d)
    e += 1
    return xp.reciprocal(e, out=e)


sigmoid = _unary("sigmoid", _sigmoid_kernel, lambda g, x, r: g * r * (1 - r), "out")
reciprocal = _unary("reciprocal", lambda xp, d: 1 / d, lambda g, x, r: -g * r * r, "out")
neg = _unary("neg", lambda xp, d: -d, lambda g, x, r: -g, "", keep_int=True)
negative = neg
abs = _unary("abs", lambda xp, d: xp.abs(d), lambda g, x, r: g * sign(x), keep_int=True)
absolute = abs
def _sign(xp, d):
    """torch's sign: of a bool, itself; of a float (d > 0) - (d < 0), so NaN
    and -0.0 give +0.0 (np.sign then nan_to_num took 3x as long)."""
    if d.dtype == bool:
        return d.copy()
    if d.dtype.kind == "f":
        return (d > 0).astype(d.dtype) - (d < 0).astype(d.dtype)
    return xp.sign(d)


sign = _unary("sign", _sign, _zero_grad, "", keep_int=True)
sgn = sign
floor = _unary("floor", lambda xp, d: d if d.dtype.kind in "biu" else xp.floor(d), _zero_grad, "",
               keep_int=True)
ceil = _unary("ceil", lambda xp, d: d if d.dtype.kind in "biu" else xp.ceil(d), _zero_grad, "",
              keep_int=True)
trunc = _unary("trunc", lambda xp, d: d if d.dtype.kind in "biu" else xp.trunc(d), _zero_grad, "",
               keep_int=True)
fix = trunc
frac = _unary("frac", lambda xp, d: d - xp.trunc(d), lambda g, x, r: g, "")
square = _unary("square", lambda xp, d: (d.astype(np.int64) if d.dtype == bool else d) ** 2,
                lambda g, x, r: 2 * g * x, keep_int=True)
# relu of floats as clip(0, inf): torch's bits (-0.0 stays -0.0, NaN stays NaN), and 3x
# faster than maximum(d, 0), which misses NumPy's SIMD loop for a scalar operand
relu = _unary("relu", lambda xp, d: xp.clip(d, 0, np.inf) if d.dtype.kind == "f" else
              xp.maximum(d, 0), lambda g, x, r: g * (r > 0), "out", keep_int=True)
signbit = _unary("signbit", lambda xp, d: xp.signbit(d), keep_int=True)


class RoundBackward0(_Unary):
    grad = staticmethod(_zero_grad)


def round(input, *, decimals=0):
    d = input._data
    r = _wrap(arr(d if d.dtype.kind in "biu" else xp_of(input).round(d, decimals)))
    if _gs[0] and input._rg:
        n = RoundBackward0((input,))
        n.mx = input
        n.save(None, None)
        attach(r, n)
    return r


def _erf_kernel(xp, d):
    if xp is not np:
        import cupyx.scipy.special as sp
        return sp.erf(d)
    if d.dtype == np.float64:
        return np.frompyfunc(math.erf, 1, 1)(d).astype(np.float64)
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: float32 precision away from 0; below
    # |x| = 0.5 the Maclaurin series to x^11 (relative error < 3e-8), as erf(x) ~ 1.13 x there
    x = d.astype(np.float32, copy=False)  # (float32 arithmetic: within 2 ulp of torch's)
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-x * x)
    x2 = x * x
    series = x * _2_SQRTPI * (1 + x2 * (-1 / 3 + x2 * (1 / 10 + x2 * (-1 / 42 + x2 * (
        1 / 216 + x2 * (-1 / 1320))))))
    return select(np, np.abs(x) < 0.5, series, np.sign(x) * y).astype(d.dtype)


def _erfinv_kernel(xp, d):
    """Giles' single-precision approximation refined by two Newton steps."""
    x = d.astype(np.float64)
    w = -xp.log((1.0 - x) * (1.0 + x))
    small = w < 5.0
    ws = w - 2.5
    p1 = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p1 = c + p1 * ws
    wl = xp.sqrt(xp.maximum(w, 5.0)) - 3.0
    p2 = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        p2 = c + p2 * wl
    y = xp.where(small, p1, p2) * x
    for _ in range(2):
        err = _erf_kernel(xp, y) - x
        y = y - err / (_2_SQRTPI * xp.exp(-y * y))
    y = xp.where(x == 1, np.inf, xp.where(x == -1, -np.inf, y))
    return y.astype(d.dtype)


erf = _unary("erf", _erf_kernel, lambda g, x, r: g * _2_SQRTPI * exp(-x * x))
erfc = _unary("erfc", lambda xp, d: 1 - _erf_kernel(xp, d), lambda g, x, r: -g * _2_SQRTPI * exp(-x * x))
erfinv = _unary("erfinv", _erfinv_kernel, lambda g, x, r: g * (math.sqrt(math.pi) / 2) * exp(r * r),
                "out")


def logit(input, eps=None):
    x = input if eps is None else clamp(input, eps, 1 - eps)
    return log(x / (1 - x))


def xlogy(input, other):
    if not isinstance(other, Tensor):
        other = to_tensor(other, input)
    r = input * log(other)
    return where(input == 0, 0.0, r)


def isnan(input):
    return _wrap(arr(xp_of(input).isnan(input._data)))


def isinf(input):
    return _wrap(arr(xp_of(input).isinf(input._data)))


def isfinite(input):
    return _wrap(arr(xp_of(input).isfinite(input._data)))


def isposinf(input):
    return _wrap(arr(xp_of(input).isposinf(input._data)))


def isneginf(input):
    return _wrap(arr(xp_of(input).isneginf(input._data)))


def isreal(input):
    return _wrap(arr(xp_of(input).isreal(input._data)))


class NanToNumBackward0(_Unary):
    grad = staticmethod(lambda g, x, r: g * isfinite(x))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    d = input._data
    r = _wrap(arr(xp_of(input).nan_to_num(d, nan=nan, posinf=posinf, neginf=neginf)))
    if _gs[0] and input._rg:
        n = NanToNumBackward0((input,))
        n.mx = input
        n.save(input, None)
        attach(r, n)
    return r


# ---------------------------------------------------------------- clamp, lerp, where
class ClampBackward1(Node):
    def backward(self, g):
        x, = self.saved
        mask = None
        if self.lo is not None:
            mask = x >= self.lo
        if self.hi is not None:
            m = x <= self.hi
            mask = m if mask is None else mask & m
        return g * mask,


class ClampBackward0(Node):
    """clamp with tensor bounds: the gradient goes to whichever value was chosen."""

    def backward(self, g):
        x, lo, hi = self.saved
        gx = g
        glo = ghi = None
        if lo is not None:
            below = x < lo
            glo = grad_for(where(below, g, 0.0), lo) if lo._rg else None
            gx = where(below, 0.0, gx)
        if hi is not None:
            above = x > hi
            if lo is not None:
                above = above & ~(x < lo)
            ghi = grad_for(where(above, g, 0.0), hi) if hi._rg else None
            gx = where(above, 0.0, gx)
        return grad_for(gx, x), glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        r = input
        lo = to_tensor(min, input) if min is not None else None
        hi = to_tensor(max, input) if max is not None else None
        with _no_record():
            if lo is not None:
                r = maximum(r, lo)
            if hi is not None:
                r = minimum(r, hi)
        r = _wrap(r._data)
        if _gs[0] and (input._rg or _rg(lo) or _rg(hi)):
            n = ClampBackward0((input, lo, hi))
            n.save(input, lo, hi)
            attach(r, n)
        return r
    d = input._data
    xp = xp_of(input)
    dt = result_dtype(input, *(v for v in (min, max) if v is not None))
    if dt.np != d.dtype:
        d = d.astype(dt.np)
    lo, hi = min, max
    if d.dtype.kind == "f":  # a missing bound as an infinity: torch's bits (clip(-0.0, 0,
        lo = -np.inf if min is None else min  # None) is +0.0), and 3x faster
        hi = np.inf if max is None else max
    r = _out(xp.clip(d, lo, hi), out)
    if _gs[0] and input._rg:
        n = ClampBackward1((input,))
        n.save(input)
        n.lo, n.hi = min, max
        attach(r, n)
    return r


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class _no_record:
    def __enter__(self):
        self.prev = _gs[0]
        _gs[0] = False

    def __exit__(self, *exc):
        _gs[0] = self.prev


def lerp(input, end, weight):
    return input + weight * (end - input)


class WhereBackward0(Node):
    def backward(self, g):
        cond, = self.saved
        zero = 0.0
        return (None, grad_for(where(cond, g, zero), self.ma), grad_for(where(cond, zero, g), self.mb))


def where(condition, input=None, other=None):
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if condition._data.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype.name.capitalize()}")
    for t in (input, other):
        if _is_t(t) and t._data.ndim:
            check_devices(condition, t)
    ad, bd, _ = operands(input, other) if (_is_t(input) or _is_t(other)) else (
        input, other, np.result_type(input, other))
    if not (_is_t(input) or _is_t(other)):
        dt = result_dtype(input, other)
        ad, bd = np.asarray(input, dt.np), np.asarray(other, dt.np)
    xp = xp_of(condition)
    r = _wrap(arr(select(xp, condition._data, ad, bd)))
    if _gs[0] and (_rg(input) or _rg(other)):
        n = WhereBackward0((None, input if _is_t(input) else None, other if _is_t(other) else None))
        n.ma, n.mb = _meta(input), _meta(other)
        n.save(condition)
        attach(r, n)
    return r


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2 if value != 1 else input + tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 / tensor2 if value != 1 else input + tensor1 / tensor2


# ---------------------------------------------------------------- conversion
class ToCopyBackward0(Node):
    def backward(self, g):
        if self.src_dtype is not None and g._data.dtype != self.src_dtype.np:
            g = _to_dtype(g, self.src_dtype)
        if self.src_device is not None:
            g = _to_device(g, self.src_device)
        return g,


def _to_dtype(t, dt):
    r = _wrap(t._data.astype(dt.np))
    if _gs[0] and t._rg and dt._category >= 2:
        n = ToCopyBackward0((t,))
        n.src_dtype, n.src_device = t.dtype, None
        attach(r, n)
    return r


def _to_device(t, dev, non_blocking=False):
    r = _wrap(B.move_array(t._data, dev, non_blocking))
    if _gs[0] and t._rg:
        n = ToCopyBackward0((t,))
        n.src_dtype, n.src_device = None, t.device
        attach(r, n)
    return r


# ---------------------------------------------------------------- in-place forms
def _out(r, out):
    r = arr(r)
    if out is None:
        return _wrap(r)
    out._data[...] = r
    out._bump_version()
    return out


def _same_kind(self, other):
    if isinstance(other, Tensor):
        k, s = other._data.dtype.kind, self._data.dtype.kind
        if "biufc".index(k) > "biufc".index(s) and not (k == "u" and s == "i"):
            raise RuntimeError(f"result type {other.dtype.name.capitalize()} can't be cast to the "
                               f"desired output type {self.dtype.name.capitalize()}")
    elif isinstance(other, float) and self._data.dtype.kind in "biu":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{self.dtype.name.capitalize()}")


def _fast_inplace(ufunc_name, slow):
    """``x.add_(y)`` etc.: one ufunc with ``out=`` when nothing records a
    graph; otherwise the out-of-place op written back into ``x``."""
    def op(self, other, *args, **kwargs):
        if _gs[0] and (self._rg or _rg(other)):
            check_inplace(self)
            return inplace_result(self, slow(snapshot(self), other, *args, **kwargs))
        alpha = kwargs.get("alpha", args[0] if args else 1)
        _same_kind(self, other)
        od = other._data if isinstance(other, Tensor) else other
        if alpha != 1:
            od = od * alpha
        xp = np if type(self._data) is np.ndarray else B.array_module(self._data)
        try:
            getattr(xp, ufunc_name)(self._data, od, out=self._data, casting="unsafe")
        except ValueError as e:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape") from e
        self._bump_version()
        return self
    op.__name__ = ufunc_name + "_"
    return op


add_ = _fast_inplace("add", add)
sub_ = _fast_inplace("subtract", sub)
mul_ = _fast_inplace("multiply", mul)


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and self._data.dtype.kind in "fc" and not (
            _gs[0] and (self._rg or _rg(other))):
        od = other._data if isinstance(other, Tensor) else other
        xp = np if type(self._data) is np.ndarray else B.array_module(self._data)
        xp.divide(self._data, od, out=self._data, casting="unsafe")
        self._bump_version()
        return self
    return inplace(div)(self, other, rounding_mode=rounding_mode)


def inplace(fn):
    """The in-place form of any out-of-place op."""
    def op(self, *args, **kwargs):
        if _gs[0] and (self._rg or any(_rg(a) for a in args)):
            check_inplace(self)
            return inplace_result(self, fn(snapshot(self), *args, **kwargs))
        with _no_record():
            r = fn(self, *args, **kwargs)
        return inplace_result(self, r)
    op.__name__ = fn.__name__ + "_"
    return op


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        src = to_tensor(src)
    if _gs[0] and (self._rg or src._rg):
        check_inplace(self)
        from .shape import expand
        r = _to_dtype(src, self.dtype) if src._data.dtype != self._data.dtype else src
        if B.device_of_array(r._data) != self.device:
            r = _to_device(r, self.device)
        r = expand(r, self._data.shape) if r._data.shape != self._data.shape else r
        r = r + 0 if r is src else r  # a node of its own
        return inplace_result(self, r, overwrite=True)
    d = B.move_array(src._data, self.device)
    try:
        self._data[...] = d
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self._data.shape}) must match the size of "
                           f"tensor b ({src._data.shape}) at non-singleton dimension") from None
    self._bump_version()
    return self


def fill_(self, value):
    check_inplace(self)
    v = value.item() if isinstance(value, Tensor) else value
    if _gs[0] and self._rg:  # through autograd: no gradient reaches the old values
        from .creation import full_like
        return inplace_result(self, full_like(self, v), overwrite=True)
    self._data[...] = v
    self._bump_version()
    return self


def zero_(self):
    return fill_(self, 0)


def clamp_(self, min=None, max=None):
    if not (_gs[0] and self._rg) and not isinstance(min, Tensor) and not isinstance(max, Tensor):
        xp = xp_of(self)
        xp.clip(self._data, min, max, out=self._data)
        self._bump_version()
        return self
    return inplace(clamp)(self, min, max)


def addcmul_(self, tensor1, tensor2, *, value=1):
    if not (_gs[0] and (self._rg or _rg(tensor1) or _rg(tensor2))):
        p = tensor1._data * tensor2._data
        if value != 1:
            p *= value
        self._data += p
        self._bump_version()
        return self
    return inplace(addcmul)(self, tensor1, tensor2, value=value)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    if not (_gs[0] and (self._rg or _rg(tensor1) or _rg(tensor2))):
        p = tensor1._data / tensor2._data
        if value != 1:
            p *= value
        self._data += p
        self._bump_version()
        return self
    return inplace(addcdiv)(self, tensor1, tensor2, value=value)


def lerp_(self, end, weight):
    if not (_gs[0] and (self._rg or _rg(end) or _rg(weight))):
        w = weight._data if isinstance(weight, Tensor) else weight
        self._data += w * (end._data - self._data)
        self._bump_version()
        return self
    return inplace(lerp)(self, end, weight)


def sqrt_(self):
    if not (_gs[0] and self._rg) and self._data.dtype.kind == "f":
        xp_of(self).sqrt(self._data, out=self._data)
        self._bump_version()
        return self
    return inplace(sqrt)(self)


# ---------------------------------------------------------------- compositions and aliases
divide, multiply, subtract = div, mul, sub


def positive(input):
    return input


def logaddexp(input, other):
    """``log(exp(a) + exp(b))`` without overflow: ``max + log1p(exp(-|a - b|))``."""
    return maximum(input, other) + log1p(exp(-abs(input - other)))


def logaddexp2(input, other):
    """``log2(2**a + 2**b)``."""
    return maximum(input, other) + log1p(exp2(-abs(input - other))) / math.log(2.0)


def deg2rad(input):
    return input * (math.pi / 180.0)


def rad2deg(input):
    return input * (180.0 / math.pi)


def sinc(input):
    """``sin(pi x) / (pi x)``, 1 at 0."""
    px = input * math.pi
    safe = where(px == 0, 1.0, px)
    return where(px == 0, 1.0, sin(safe) / safe)


def heaviside(input, values):
    return where(input == 0, values, (input > 0).to(input.dtype))


def gcd(input, other):
    ad, bd, _ = operands(input, other)
    return _wrap(arr(xp_of(input).gcd(ad, bd)))


def lcm(input, other):
    ad, bd, _ = operands(input, other)
    return _wrap(arr(xp_of(input).lcm(ad, bd)))


def ldexp(input, other):
    """``input * 2 ** other``."""
    return mul(input, pow(2.0, other) if isinstance(other, Tensor) else 2.0 ** other)


def frexp(input):
    """Mantissa in [0.5, 1) and int32 exponent with ``input = mantissa * 2 ** exponent``."""
    from .common import return_type
    m, e = xp_of(input).frexp(input._data)
    return return_type("frexp", (_wrap(m), _wrap(e.astype(np.int32))), ("mantissa", "exponent"))


def real(input):
    """A real tensor is its own real part (ember has no complex views)."""
    return input


conj = resolve_conj = resolve_neg = real


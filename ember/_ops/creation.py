"""Tensor creation: from data, filled, ranges, and random sampling."""
import math
import numbers

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap, Size
from ..autograd import grad_mode
from .common import shape_arg, xp_of

_PY_SCALAR_KINDS = (bool, int, float, complex)


def _finish(a, device, requires_grad):
    """Place array ``a`` on ``device`` and wrap it."""
    dev = B.to_device(device) if device is not None else B.default_device()
    if dev.type != "cpu" or type(a) is not np.ndarray:
        a = B.move_array(a, dev)
    t = _wrap(a)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and len(data):
        data = data[0]
    return data


def _infer_np_dtype(data, a):
    """torch's inference: Python floats -> default dtype, ints -> int64,
    bools -> bool, complex -> default complex; NumPy data keeps its dtype."""
    leaf = _first_leaf(data)
    if isinstance(leaf, (np.generic, np.ndarray)) or isinstance(leaf, Tensor):
        if a.dtype == np.float64 and isinstance(leaf, Tensor) and leaf._data.dtype != np.float64:
            return B.get_default_dtype().np
        return None
    k = a.dtype.kind
    if k == "f":
        return B.get_default_dtype().np
    if k == "c":
        return (B.complex128 if B.get_default_dtype() is B.float64 else B.complex64).np
    if k in "iu":
        return np.int64
    return None


def _to_array(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        return np.stack([B.move_array(_to_array(x), B.CPU) for x in data]) if data else np.zeros(0)
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple)):
        if any(isinstance(x, Tensor) for x in data[0]):
            return np.stack([_to_array(x) for x in data])
    try:
        a = np.asarray(data) if not hasattr(data, "__cuda_array_interface__") else data
    except ValueError as e:
        raise ValueError(f"expected sequence of equal-length lists: {e}") from None
    if a.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(_first_leaf(data)).__name__}")
    if a.dtype.kind in "USV":
        raise TypeError(f"new(): invalid data type '{a.dtype.kind == 'U' and 'str' or a.dtype}'")
    return a


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    a = _to_array(data)
    if dtype is not None:
        target = B.to_dtype(dtype).np
    else:
        target = _infer_np_dtype(data, a) if not isinstance(data, Tensor) else None
        if target is None and a.dtype not in B._BY_NP:
            target = B.from_numpy_dtype(a.dtype).np
    if target is not None and a.dtype != target:
        a = a.astype(target)
    elif a is data or isinstance(data, Tensor) or not a.flags.owndata:
        a = a.copy()  # torch.tensor always copies its data
    return _finish(a, device, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return tensor(s, dtype=dtype or B.get_default_dtype(), device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray) and (dtype is None or B.to_dtype(dtype).np == data.dtype) and \
            (device is None or B.to_device(device).type == "cpu"):
        B.from_numpy_dtype(data.dtype)
        return _wrap(data)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    if copy:
        return tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)
    t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    B.from_numpy_dtype(ndarray.dtype)
    return _wrap(ndarray)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    return _wrap(np.frombuffer(buffer, dtype=B.to_dtype(dtype).np, count=count, offset=offset))


def _dt(dtype):
    return B.to_dtype(dtype).np if dtype is not None else B.get_default_dtype().np


def _xp(device):
    dev = B.to_device(device) if device is not None else B.default_device()
    return B.xp_of_device(dev), dev


def _filled(fill, size, dtype, device, requires_grad):
    shape = shape_arg(size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    xp, dev = _xp(device)
    if dev.type == "cuda":
        with xp.cuda.Device(dev.index):
            a = fill(xp, shape, _dt(dtype))
    else:
        a = fill(xp, shape, _dt(dtype))
    t = _wrap(a)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False):
    return _filled(lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False):
    return _filled(lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False, memory_format=None):
    return _filled(lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = B.result_type_of([], [], [B.scalar_dtype(fill_value)])
    return _filled(lambda xp, s, d: xp.full(s, fill_value, d), (tuple(size),) if not isinstance(
        size, int) else (size,), dtype, device, requires_grad)


def _like(fn, input, dtype, device, requires_grad, *args):
    return fn(input._data.shape, *args, dtype=dtype or input.dtype,
              device=device if device is not None else input.device, requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None):
    return full(input._data.shape, fill_value, dtype=dtype or input.dtype,
                device=device if device is not None else input.device, requires_grad=requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    return _filled(lambda xp, s, d: xp.eye(s[0], s[1], dtype=d), (n, m if m is not None else n),
                   dtype, device, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = B.result_type_of([], [], [B.scalar_dtype(v) for v in vals])
    dtype = B.to_dtype(dtype)
    n = int(math.ceil((end - start) / step))
    xp, dev = _xp(device)
    if dtype.is_floating_point:
        a = (xp.arange(n, dtype=np.float64) * step + start).astype(dtype.np)
    else:
        a = xp.arange(start, start + n * step, step, dtype=np.int64)[:n].astype(dtype.np)
    return _finish(a, dev, requires_grad)


def range_(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    return arange(start, end + step if end is not None else start + step, step,
                  dtype=dtype or B.get_default_dtype(), device=device, requires_grad=requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    xp, dev = _xp(device)
    a = xp.linspace(float(start), float(end), int(steps), dtype=np.float64)
    return _finish(a.astype(_dt(dtype)), dev, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False, out=None):
    xp, dev = _xp(device)
    a = xp.logspace(float(start), float(end), int(steps), base=base, dtype=np.float64)
    return _finish(a.astype(_dt(dtype)), dev, requires_grad)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.tril_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(np.int64 if dtype is None else B.to_dtype(dtype).np),
                   device, False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.triu_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(np.int64 if dtype is None else B.to_dtype(dtype).np),
                   device, False)


def complex(real, imag):
    return _wrap(real._data + 1j * imag._data)


def polar(abs, angle):
    return _wrap(abs._data * np.exp(1j * angle._data))


# ---------------------------------------------------------------- random sampling
def _rng(generator, dev):
    """The stream to sample from: ``generator``'s, else the default one of
    ``dev`` (samples are drawn on the host, then placed on ``dev``)."""
    return B.rng_of(generator, dev)


def _rand_place(a, dtype, dev, requires_grad):
    return _finish(a.astype(_dt(dtype), copy=False), dev, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dt, dev = _dt(dtype), B.to_device(device)
    a = _rng(generator, dev).random(shape_arg(size),
                                    dtype=dt if dt in (np.float32, np.float64) else np.float64)
    return _rand_place(a, dtype, dev, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dt, dev = _dt(dtype), B.to_device(device)
    a = _rng(generator, dev).standard_normal(
        shape_arg(size), dtype=dt if dt in (np.float32, np.float64) else np.float64)
    return _rand_place(a, dtype, dev, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False, out=None):
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dev = B.to_device(device)
    a = _rng(generator, dev).integers(low, high, size=tuple(size), dtype=np.int64)
    return _finish(a.astype(B.to_dtype(dtype).np if dtype is not None else np.int64), dev,
                   requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, generator=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(input._data.shape, generator=generator, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(input._data.shape, generator=generator, dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dev = B.to_device(device)
    a = _rng(generator, dev).permutation(n)
    return _finish(a.astype(B.to_dtype(dtype).np if dtype is not None else np.int64), dev,
                   requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False, out=None):
    """normal(mean, std, size) with floats, or elementwise with tensors."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if mt or st:
        if st and bool((std._data < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        ref = mean if mt else std
        shape = np.broadcast_shapes(mean._data.shape if mt else (), std._data.shape if st else ())
        z = _rng(generator, ref.device).standard_normal(shape).astype(ref._data.dtype)
        m = B.move_array(mean._data, B.CPU) if mt else mean
        s = B.move_array(std._data, B.CPU) if st else std
        return _finish((m + s * z).astype(ref._data.dtype), ref.device, False)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dev = B.to_device(device)
    a = _rng(generator, dev).normal(mean, std, size=tuple(size) if size is not None else ())
    return _rand_place(a, dtype, dev, requires_grad)


def bernoulli(input, p=None, *, generator=None, out=None):
    probs = B.move_array(input._data, B.CPU) if p is None else np.full(input._data.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    a = (_rng(generator, input.device).random(probs.shape) < probs).astype(input._data.dtype)
    return _finish(a, input.device, False)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    p = B.move_array(input._data, B.CPU).astype(np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = p.reshape(-1, p.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = _rng(generator, input.device)
    out_rows = []
    for r in rows:
        s = r.sum()
        if s <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            out_rows.append(rng.choice(len(r), size=num_samples, replace=True, p=r / s))
        else:  # Gumbel top-k: sampling without replacement in proportion to weights
            with np.errstate(divide="ignore"):
                keys = np.log(r) - np.log(-np.log(rng.random(len(r))))
            out_rows.append(np.argsort(-keys, kind="stable")[:num_samples])
    a = np.stack(out_rows).astype(np.int64)
    return _finish(a.reshape(p.shape[:-1] + (num_samples,)), input.device, False)


def poisson(input, generator=None):
    a = _rng(generator, input.device).poisson(B.move_array(input._data, B.CPU)).astype(
        input._data.dtype)
    return _finish(a, input.device, False)


# in-place fills (no graph: torch treats them as initialisation)
def _fill_random(self, a):
    self._data[...] = B.move_array(np.asarray(a, dtype=self._data.dtype), self.device) \
        if type(self._data) is not np.ndarray else a
    self._bump_version()
    return self


def _fill_affine(self, generator, draw, scale, shift):
    """Fill with ``draw * scale + shift``, drawn straight into float32/float64
    CPU storage (no float64 temporary), else drawn in float64 and placed."""
    d, rng = self._data, _rng(generator, self.device)
    if type(d) is np.ndarray and d.dtype.name in ("float32", "float64") and d.flags.c_contiguous:
        getattr(rng, draw)(dtype=d.dtype, out=d)
        d *= scale
        d += shift
        self._bump_version()
        return self
    return _fill_random(self, getattr(rng, draw)(d.shape) * scale + shift)


def uniform_(self, from_=0.0, to=1.0, *, generator=None):
    return _fill_affine(self, generator, "random", to - from_, from_)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill_affine(self, generator, "standard_normal", std, mean)


def bernoulli_(self, p=0.5, *, generator=None):
    pr = B.move_array(p._data, B.CPU) if isinstance(p, Tensor) else p
    return _fill_random(self, _rng(generator, self.device).random(self._data.shape) < pr)


def exponential_(self, lambd=1.0, *, generator=None):
    return _fill_random(self, _rng(generator, self.device).exponential(1.0 / lambd,
                                                                       self._data.shape))


def geometric_(self, p, *, generator=None):
    return _fill_random(self, _rng(generator, self.device).geometric(p, self._data.shape))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    return _fill_random(self, _rng(generator, self.device).lognormal(mean, std, self._data.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _fill_random(self, median + sigma * _rng(generator, self.device).standard_cauchy(
        self._data.shape))


def random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        if self._data.dtype.kind == "f":
            to = 2 ** np.finfo(self._data.dtype).nmant + 1
        elif self._data.dtype.kind == "b":
            to = 2
        else:
            to = int(np.iinfo(self._data.dtype).max) + 1
    return _fill_random(self, _rng(generator, self.device).integers(from_, to, self._data.shape))

"""The oracle helper every test uses: move data between ember and real
PyTorch, and compare values, dtypes, shapes and gradients."""
import contextlib

import numpy as np
import pytest
import torch

import ember
from ember import _backend as B
from ember.cuda import memory as cuda_memory

import fake_cupy

DTYPES = {getattr(ember, n): getattr(torch, n) for n in (
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "complex64", "complex128")}
TO_EMBER_DTYPE = {v: k for k, v in DTYPES.items()}

# Where ember's side of ``check_op`` runs: "cpu", or "cuda" (conftest's each_device).
DEVICE = "cpu"


def _forget_cupy():
    """Make ember detect CuPy again, with fresh CUDA state."""
    B._cupy, B._cupy_checked = None, False
    B._cuda_generators.clear()
    cuda_memory._peaks.clear()
    cuda_memory._tracking.clear()
    ember.cuda._state["initialized"] = False


@contextlib.contextmanager
def fake_cuda_installed():
    """ember on the fake CuPy of fake_cupy.py (a pretend two-GPU machine)."""
    saved = B._cupy, B._cupy_checked
    cp = fake_cupy.install()
    _forget_cupy()
    try:
        yield cp
    finally:
        fake_cupy.uninstall()
        _forget_cupy()
        B._cupy, B._cupy_checked = saved


def to_torch(x, requires_grad=None):
    """An ember tensor (or nested list/tuple of them) as torch tensors."""
    if isinstance(x, (list, tuple)):
        return type(x)(to_torch(v, requires_grad) for v in x)
    if not isinstance(x, ember.Tensor):
        return x
    t = torch.from_numpy(np.array(x.detach().cpu().numpy(), copy=True))
    rg = x.requires_grad if requires_grad is None else requires_grad
    return t.requires_grad_(rg) if rg else t


def to_ember(t, requires_grad=None):
    if isinstance(t, (list, tuple)):
        return type(t)(to_ember(v, requires_grad) for v in t)
    if not isinstance(t, torch.Tensor):
        return t
    e = ember.tensor(t.detach().cpu().numpy().copy())
    rg = t.requires_grad if requires_grad is None else requires_grad
    return e.requires_grad_(rg) if rg else e


def assert_close(e, t, rtol=1e-5, atol=1e-6, check_dtype=True, equal_nan=True):
    """ember tensor ``e`` equals torch tensor ``t``: shape, dtype, values."""
    if isinstance(t, (tuple, list)):
        assert len(e) == len(t), f"length {len(e)} != {len(t)}"
        for a, b in zip(e, t):
            assert_close(a, b, rtol, atol, check_dtype, equal_nan)
        return
    if not isinstance(t, torch.Tensor):
        if isinstance(e, ember.Tensor):
            e = e.item()
        np.testing.assert_allclose(e, t, rtol=rtol, atol=atol)
        return
    assert isinstance(e, ember.Tensor), f"expected an ember Tensor, got {type(e).__name__}"
    assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != {tuple(t.shape)}"
    if check_dtype:
        assert str(e.dtype) == str(t.dtype), f"dtype {e.dtype} != {t.dtype}"
    a = e.detach().cpu().numpy()
    b = t.detach().cpu().numpy()
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a.astype(np.float64) if a.dtype.kind != "c" else a,
                                   b.astype(np.float64) if b.dtype.kind != "c" else b,
                                   rtol=rtol, atol=atol, equal_nan=equal_nan)


def assert_grads_close(e_tensors, t_tensors, rtol=1e-5, atol=1e-6):
    for i, (e, t) in enumerate(zip(e_tensors, t_tensors)):
        if t.grad is None:
            assert e.grad is None, f"input {i}: ember has a grad, torch has none"
        else:
            assert e.grad is not None, f"input {i}: torch has a grad, ember has none"
            assert_close(e.grad, t.grad, rtol, atol)


def check_op(fn, *arrays, requires_grad=True, rtol=1e-5, atol=1e-6, efn=None, grad=True,
             check_dtype=True):
    """Run ``fn`` on ember and on torch with the same inputs (NumPy arrays or
    scalars); compare outputs, then gradients of ``out.sum()`` (or of a
    random-weighted sum for non-scalar outputs)."""
    efn = efn or fn
    ein, tin = [], []
    for a in arrays:
        if isinstance(a, np.ndarray):
            rg = requires_grad and a.dtype.kind == "f"
            e = ember.tensor(a.copy(), device=DEVICE).requires_grad_(rg)
            t = torch.tensor(a.copy()).requires_grad_(rg)
        else:
            e = t = a
        ein.append(e)
        tin.append(t)
    eo = efn(ember if DEVICE == "cpu" else _OnDevice(), *ein)
    to = fn(torch, *tin)
    for e in eo if isinstance(eo, (tuple, list)) else (eo,):
        if isinstance(e, ember.Tensor):
            assert e.device.type == DEVICE, f"result on {e.device}, inputs on {DEVICE}"
    assert_close(eo, to, rtol, atol, check_dtype)
    if not grad:
        return eo, to
    eo1 = eo[0] if isinstance(eo, tuple) else eo
    to1 = to[0] if isinstance(to, tuple) else to
    if to1.requires_grad:
        w = np.random.default_rng(0).standard_normal(tuple(to1.shape)).astype(
            to1.detach().numpy().dtype)
        (to1 * torch.tensor(w)).sum().backward()
        (eo1 * ember.tensor(w, device=DEVICE)).sum().backward()
        assert_grads_close([e for e in ein if isinstance(e, ember.Tensor)],
                           [t for t in tin if isinstance(t, torch.Tensor)], rtol, atol)
    return eo, to


def raises_same(fn, *args):
    """``fn(lib, *args)`` raises the same exception class in both."""
    try:
        fn(torch, *[to_torch(a) for a in args])
    except Exception as te:
        with pytest.raises(type(te)):
            fn(ember, *args)
        return te
    raise AssertionError("torch did not raise")


class _OnDevice:
    """``ember`` whose creation functions default to ``DEVICE``: the
    constants an op under test builds from ``lib`` join its inputs there."""
    _CREATORS = {"tensor", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace",
                 "eye", "rand", "randn", "randint", "randperm"}

    def __getattr__(self, name):
        f = getattr(ember, name)
        if name not in self._CREATORS:
            return f
        return lambda *a, **kw: f(*a, **{"device": DEVICE, **kw})


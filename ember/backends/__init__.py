"""``ember.backends``: the flags torch code sets.

``cuda.matmul.allow_tf32`` switches CuPy's float32 matrix products to
TF32 tensor cores (CuPy otherwise reads ``CUPY_TF32`` once, at import; the
flag starts from that variable, off by default as in torch). The cuDNN
flags are accepted and have no effect: CuPy 14 has no cuDNN.
"""
import os
import warnings
from types import SimpleNamespace

import numpy as np

from .. import _backend as B


class _Matmul:
    """``ember.backends.cuda.matmul``."""

    def __init__(self):
        self._tf32 = int(os.environ.get("CUPY_TF32", "0") or 0) > 0
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self):
        return self._tf32

    @allow_tf32.setter
    def allow_tf32(self, value):
        self._tf32 = bool(value)
        cp = B.cupy_module()
        if cp is not None:
            _set_tf32(cp, self._tf32)


def _set_tf32(cp, on):
    """CuPy's compute type for float32 and complex64 products: TF32 or default."""
    from cupy._core import _routines_linalg as L
    ct = L.COMPUTE_TYPE_TF32 if on else L.COMPUTE_TYPE_DEFAULT
    for dt in (np.float32, np.complex64):
        L.set_compute_type(dt, ct)


def set_float32_matmul_precision(precision):
    """'highest' computes float32 products in float32; 'high' and 'medium' allow TF32."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    cuda.matmul.allow_tf32 = precision != "highest"
    _precision[0] = precision


def get_float32_matmul_precision():
    return "highest" if not cuda.matmul.allow_tf32 else _precision[0]


_precision = ["high"]  # the last TF32 precision asked for
cuda = SimpleNamespace(matmul=_Matmul(), is_built=lambda: B.cupy_module() is not None)
cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                        is_available=lambda: False, version=lambda: None)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
mkldnn = SimpleNamespace(enabled=False, is_available=lambda: False)
openmp = SimpleNamespace(is_available=lambda: False)

"""Ember: PyTorch's programming model in pure Python on NumPy and CuPy.

``import ember as torch`` and write PyTorch code.
"""
from . import _allocator  # noqa: F401  (glibc malloc thresholds; EMBER_MALLOPT=0 opts out)
from . import _backend
from ._backend import (dtype, device, Generator, get_default_dtype, set_default_dtype,
                       bool_ as bool, uint8, int8, int16, int32, int64, float16, float32, float64,
                       complex64, complex128)
from ._tensor import Tensor, Size
from ._tensor_str import set_printoptions, get_printoptions
from . import autograd
from .autograd import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled
from .autograd.grad_mode import is_inference_mode_enabled
from .autograd.anomaly_mode import set_detect_anomaly, is_anomaly_enabled
from ._ops import pointwise as _P, reduce as _R, shape as _S, indexing as _I, linalg as _L
from ._ops import creation as _C


def _export(mod):
    """Every public function an op module defines becomes ``ember.<name>``."""
    for k, v in vars(mod).items():
        if not k.startswith("_") and callable(v) and not isinstance(v, type) \
                and getattr(v, "__module__", None) == mod.__name__:
            globals()[k] = v


for _m in (_P, _R, _S, _I, _L, _C):
    _export(_m)
range = _C.range_  # noqa: A001
from .random import (manual_seed, seed, initial_seed, get_rng_state, set_rng_state,
                     default_generator)
from . import random, cuda, backends, linalg
from .backends import set_float32_matmul_precision, get_float32_matmul_precision
from ._legacy import (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor,
                      CharTensor, ByteTensor, BoolTensor)
from ._utils import (is_tensor, is_storage, is_floating_point, is_complex, is_nonzero, numel,
                     promote_types, result_type, can_cast, set_num_threads, get_num_threads,
                     typename, compile)

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
cfloat = complex64
cdouble = complex128
bool = bool

strided = "torch.strided"
preserve_format = contiguous_format = channels_last = None

__version__ = "0.1.0"

from . import nn, optim, utils  # noqa: E402
from ._ops.loss import method_form as _method_form  # noqa: E402

softmax = Tensor.softmax = _method_form(nn.functional.softmax)
log_softmax = Tensor.log_softmax = _method_form(nn.functional.log_softmax)
from .serialization import save, load  # noqa: E402

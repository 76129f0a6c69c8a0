"""``Tensor``: a backend array plus autograd fields.

Operators and most methods are the op functions of ``ember._ops`` bound at
the bottom of this file; this class keeps only what is about the tensor
itself (metadata, conversion, autograd entry points, printing).
"""
import numpy as np

from . import _backend as B
from .autograd import grad_mode
from .autograd.graph import AccumulateGrad, _RemovableHandle

_new = object.__new__
_gs = grad_mode._state


class Tensor:
    __slots__ = ("_data", "_rg", "_grad", "_grad_fn", "_output_nr", "_vc", "_base",
                 "_accum", "_hooks", "_retains_grad", "__weakref__")

    # ------------------------------------------------------------------ creation
    def __new__(cls, *args, device=None, dtype=None):
        """The legacy constructor: ``Tensor(2, 3)`` (uninitialised float32 of
        that shape), ``Tensor([1, 2])`` (data), ``Tensor()`` (empty)."""
        from ._ops import creation
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            a = args[0]
            if isinstance(a, Tensor):
                return a
            if isinstance(a, Size):
                t = creation.empty(tuple(a), dtype=B.float32, device=device)
            else:
                t = creation.tensor(a, dtype=dtype or B.float32, device=device)
        else:
            shape = tuple(int(s) for s in args)
            t = creation.empty(shape, dtype=B.get_default_dtype() if cls is Tensor else B.float32,
                               device=device)
        if cls is not Tensor:
            return cls._from(t)
        return t

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def _from(cls, t):
        """A new ``cls`` instance sharing ``t``'s array (no autograd history)."""
        r = _new(cls)
        r._data = t._data
        r._rg = False
        r._grad = None
        r._grad_fn = None
        r._output_nr = 0
        r._vc = None
        r._base = None
        r._accum = None
        r._hooks = None
        r._retains_grad = False
        return r

    # ---------------------------------------------------------------- metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return B._BY_NP[self._data.dtype]

    @property
    def device(self):
        return B.device_of_array(self._data)

    @property
    def is_cuda(self):
        return type(self._data) is not np.ndarray

    @property
    def is_cpu(self):
        return type(self._data) is np.ndarray

    @property
    def layout(self):
        return "torch.strided"

    @property
    def is_sparse(self):
        return False

    @property
    def is_quantized(self):
        return False

    @property
    def is_meta(self):
        return False

    def dim(self):
        return self._data.ndim

    ndim = property(dim)

    def ndimension(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        if self._data.size <= 1 or 0 in self._data.shape:
            st = _contiguous_strides(self._data.shape) if self._data.size == 0 else st
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self):
        root = _root_array(self._data)
        return (_ptr(self._data) - _ptr(root)) // self._data.itemsize

    def data_ptr(self):
        return _ptr(self._data)

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def is_signed(self):
        return self.dtype.is_signed

    def get_device(self):
        return -1 if type(self._data) is np.ndarray else self._data.device.id

    def is_shared(self):
        return False

    def is_pinned(self, device=None):
        return B.is_pinned(self._data)

    def _is_view(self):
        return self._base is not None

    @property
    def _version(self):
        vc = self._vc
        return 0 if vc is None else vc[0]

    def _bump_version(self):
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1

    # ------------------------------------------------------------ autograd state
    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use "
                    "a computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._rg = bool(requires_grad)
        return self

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and _gs[0] is not None:
            import warnings
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if type(value._data) is not type(self._data):
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def output_nr(self):
        return self._output_nr

    def retain_grad(self):
        if self._grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        import weakref
        node = self._grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._add_pre_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        acc = self._grad_accumulator()
        return acc.register_hook(lambda gi, go: hook(self))

    def _grad_accumulator(self):
        acc = self._accum
        if acc is None:
            acc = self._accum = AccumulateGrad(self)
        return acc

    def _accumulate_leaf_grad(self, g, create_graph, shared):
        if self._hooks:
            for hook in self._hooks:
                r = hook(g)
                if r is not None:
                    g = r
        self._add_grad(g if create_graph else g.detach(), shared)
        acc = self._accum
        if acc is not None and acc._hooks:
            for hook in acc._hooks:
                hook((), (g,))

    def _add_grad(self, g, shared):
        """``.grad += g``: in place when possible; never aliases a gradient
        that another tensor or the caller may still hold."""
        if g._data.dtype != self._data.dtype:
            g = g.to(self.dtype)
        cur = self._grad
        if cur is None:
            arr = g._data
            base = arr.base
            if g._rg or id(arr) in shared or not arr.flags.writeable or (
                    base is not None and not _whole_view(arr, base, shared)):
                if not g._rg:
                    g = Tensor._wrap(arr.copy())
            elif base is not None:
                shared.add(id(base))
            shared.add(id(g._data))
            self._grad = g
        elif g._rg or cur._rg or _gs[0]:
            self._grad = cur + g
        else:
            np_add = B.array_module(cur._data).add
            if cur._data.shape == g._data.shape:
                np_add(cur._data, g._data, out=cur._data)
                cur._bump_version()
            else:
                self._grad = cur + g

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        t = Tensor._wrap(self._data)
        if self._vc is None:
            self._vc = [0]
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._rg = False
        return self

    @property
    def data(self):
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    # ---------------------------------------------------------------- conversion
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if type(self._data) is np.ndarray else self._data.item()

    def tolist(self):
        return B.move_array(self._data, B.CPU).tolist()

    def numpy(self, force=False):
        if type(self._data) is not np.ndarray:
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            return self._data.get()
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if type(self._data) is not np.ndarray:
            self.numpy()  # torch's TypeError: copy to the host with .cpu() first
        a = self._data
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __reduce_ex__(self, proto):
        return (_rebuild_tensor, (type(self), B.move_array(self._data, B.CPU), self._rg,
                                  str(self.device)))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment. If you were attempting to "
                               "deepcopy a module, this may be because of a torch.nn.utils.weight_norm "
                               "usage, see https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = type(self)._from(Tensor._wrap(self._data.copy()))
        new._rg = self._rg
        if self._grad is not None:
            import copy
            new._grad = copy.deepcopy(self._grad, memo)
        if type(self) is not Tensor and hasattr(self, "__dict__"):
            import copy
            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = new
        return new

    def __setstate__(self, state):
        pass

    # ---------------------------------------------------------------- devices
    def to(self, *args, **kwargs):
        non_blocking = kwargs.get("non_blocking", False) or any(a is True for a in args)
        dev, dt, copy = _parse_to(args, kwargs)
        from ._ops import pointwise
        out = self
        if dt is not None and dt.np != self._data.dtype:
            out = pointwise._to_dtype(out, dt)
        if dev is not None and B.device_of_array(out._data) != dev:
            out = pointwise._to_device(out, dev, non_blocking)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self, memory_format=None):
        return self.to(B.CPU)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = B.device("cuda", device)
        return self.to(device, non_blocking=non_blocking)

    def type(self, dtype=None, non_blocking=False):
        """The type name (``'torch.cuda.FloatTensor'``), or a copy as that
        type: a legacy type name or class also picks the device, a dtype keeps it."""
        if dtype is None:
            name = _TYPE_NAMES[self.dtype]
            return name.replace("torch.", "torch.cuda.", 1) if self.is_cuda else name
        if isinstance(dtype, str):
            cuda = dtype.startswith("torch.cuda.")
            name = dtype.replace("torch.cuda.", "torch.", 1)
            for k, v in _TYPE_NAMES.items():
                if v == name:
                    return self.to("cuda" if cuda else "cpu", k, non_blocking)
            raise ValueError(f"invalid type: '{dtype}'")
        if hasattr(dtype, "is_cuda"):  # torch.FloatTensor, torch.cuda.LongTensor, ...
            return self.to("cuda" if dtype.is_cuda else "cpu", dtype.dtype, non_blocking)
        return self.to(B.to_dtype(dtype))

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self, memory_format=None):
        return self.to(B.float32)

    def double(self, memory_format=None):
        return self.to(B.float64)

    def half(self, memory_format=None):
        return self.to(B.float16)

    def long(self, memory_format=None):
        return self.to(B.int64)

    def int(self, memory_format=None):
        return self.to(B.int32)

    def short(self, memory_format=None):
        return self.to(B.int16)

    def char(self, memory_format=None):
        return self.to(B.int8)

    def byte(self, memory_format=None):
        return self.to(B.uint8)

    def bool(self, memory_format=None):
        return self.to(B.bool_)

    def cfloat(self):
        return self.to(B.complex64)

    def cdouble(self):
        return self.to(B.complex128)

    def pin_memory(self, device=None):
        """A copy in page-locked host memory, so ``.to('cuda', non_blocking=True)``
        can copy without waiting (the tensor itself if already pinned)."""
        if type(self._data) is not np.ndarray:
            raise RuntimeError(f"cannot pin '{_TYPE_NAMES[self.dtype].replace('torch.', 'torch.cuda.')}'"
                               " only dense CPU tensors can be pinned")
        if B.cupy_module() is None:
            raise RuntimeError("Cannot access accelerator device when none is available.")
        return self if B.is_pinned(self._data) else _wrap(B.pin_array(self._data))

    def share_memory_(self):
        return self

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ._ops import creation
        return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                               requires_grad=requires_grad)

    def _new_filled(self, fn, size, dtype, device, requires_grad):
        if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
            size = tuple(size[0])
        return fn(size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from ._ops import creation
        return self._new_filled(creation.zeros, size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from ._ops import creation
        return self._new_filled(creation.ones, size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from ._ops import creation
        return self._new_filled(creation.empty, size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from ._ops import creation
        return creation.full(tuple(size), fill_value, dtype=dtype or self.dtype,
                             device=device or self.device, requires_grad=requires_grad)


def _wrap(arr):
    """A plain tensor around ``arr`` (the hot path for every op result)."""
    t = _new(Tensor)
    t._data = arr
    t._rg = False
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._vc = None
    t._base = None
    t._accum = None
    t._hooks = None
    t._retains_grad = False
    return t


Tensor._wrap = staticmethod(_wrap)


def _rebuild_tensor(cls, arr, requires_grad, device="cpu"):
    # A freshly unpickled writable array is the tensor's own memory (out-of-band
    # buffers, e.g. DataLoader batches in shared memory): no copy.
    if not (type(arr) is np.ndarray and arr.flags.writeable):
        arr = np.array(arr)
    t = _wrap(B.move_array(arr, B.to_device(device)) if device != "cpu" else arr)
    t._rg = requires_grad
    return t if cls is Tensor else cls._from_rebuilt(t, requires_grad)


def _whole_view(a, base, shared):
    """Whether gradient array ``a``, a view of ``base``, may become a ``.grad``
    as it is: it spans all of ``base`` in C order, and ``base`` is a temporary
    of this backward that no other gradient (nor the caller's, see
    ``shared``) has claimed. A Linear's weight gradient arrives so (the
    transpose of a fresh product), as does a bias gradient (a reshaped sum)."""
    return (type(base) is type(a) and base.base is None and id(base) not in shared
            and a.flags.c_contiguous and a.nbytes == base.nbytes)


def _ptr(a):
    if type(a) is np.ndarray:
        return a.__array_interface__["data"][0]
    return a.data.ptr


def _root_array(a):
    while a.base is not None and hasattr(a.base, "dtype"):
        a = a.base
    return a


def _contiguous_strides(shape):
    st, acc = [], 1
    for s in reversed(shape):
        st.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(st))


def _wrap_dim(dim, ndim):
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return int(dim) % n


def _parse_to(args, kwargs):
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {list(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, B.dtype) or a in (float, int, bool):
            dt = a
        elif isinstance(a, (str, B.device, int)) and not isinstance(a, bool):
            dev = a
        elif isinstance(a, bool):
            pass  # non_blocking positional
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got {a!r}")
    return (B.to_device(dev) if dev is not None else None,
            B.to_dtype(dt) if dt is not None else None, copy)


_TYPE_NAMES = {B.float32: "torch.FloatTensor", B.float64: "torch.DoubleTensor",
               B.float16: "torch.HalfTensor", B.int64: "torch.LongTensor",
               B.int32: "torch.IntTensor", B.int16: "torch.ShortTensor",
               B.int8: "torch.CharTensor", B.uint8: "torch.ByteTensor",
               B.bool_: "torch.BoolTensor", B.complex64: "torch.ComplexFloatTensor",
               B.complex128: "torch.ComplexDoubleTensor"}


class Size(tuple):
    """``torch.Size``: a tuple that prints as ``torch.Size([2, 3])``."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))


# ---------------------------------------------------------------------------
# Operators and op methods: bound straight to the op functions (no extra
# call layer on the hot path).
from ._ops import creation as _C, indexing as _I, linalg as _L  # noqa: E402
from ._ops import pointwise as _P, reduce as _R, shape as _S  # noqa: E402


def _rev(fn):
    def r(self, other):
        return fn(other, self)
    r.__name__ = "__r" + fn.__name__ + "__"
    return r


def _invert(self):
    return _P.logical_not(self) if self._data.dtype == np.bool_ else _P.bitwise_not(self)


def _contains(self, element):
    return bool((self == element).any())


def _where(self, condition, other):
    return _P.where(condition, self, other)


def _pow_(self, exponent):
    return _P.inplace(_P.pow)(self, exponent)


def _ifloordiv(self, other):
    return _P.inplace(_P.floor_divide)(self, other)


_INPLACE_OF = ("neg", "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "rsqrt",
               "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
               "acosh", "atanh", "sigmoid", "reciprocal", "sign", "floor", "ceil", "trunc", "frac",
               "square", "relu", "erf", "erfc", "erfinv", "round", "nan_to_num", "fmod",
               "remainder", "atan2", "logit", "clamp_min", "clamp_max", "floor_divide",
               "true_divide", "logical_not", "logical_and", "logical_or", "logical_xor",
               "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "maximum", "minimum",
               "hypot", "eq", "ne", "lt", "le", "gt", "ge")
for _name in _INPLACE_OF:
    setattr(Tensor, _name + "_", _P.inplace(getattr(_P, _name)))

for _mod, _names in (
        (_P, ("add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow",
              "float_power", "atan2", "arctan2", "maximum", "minimum", "fmax", "fmin", "hypot",
              "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
              "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
              "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "equal", "allclose",
              "isclose", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
              "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
              "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "sigmoid",
              "reciprocal", "neg", "negative", "abs", "absolute", "sign", "sgn", "floor", "ceil",
              "trunc", "fix", "frac", "square", "relu", "signbit", "round", "erf", "erfc",
              "erfinv", "logit", "xlogy", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
              "isreal", "nan_to_num", "clamp", "clip", "clamp_min", "clamp_max", "lerp",
              "addcmul", "addcdiv", "add_", "sub_", "mul_", "div_", "copy_", "fill_", "zero_",
              "clamp_", "addcmul_", "addcdiv_", "lerp_", "sqrt_", "divide", "multiply", "subtract",
              "positive", "logaddexp", "logaddexp2", "deg2rad", "rad2deg", "sinc", "heaviside", "gcd",
              "lcm", "ldexp", "frexp", "conj", "resolve_conj", "resolve_neg")),
        (_R, ("sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax",
              "argmax", "argmin", "var", "std", "norm", "logsumexp", "cumsum", "cumprod", "cummax",
              "cummin", "logcumsumexp", "all", "any", "count_nonzero", "median", "mode",
              "quantile", "diff", "cov", "corrcoef", "dist", "nanmedian", "nanquantile")),
        (_S, ("view", "view_as", "reshape", "reshape_as", "flatten", "unflatten", "squeeze",
              "unsqueeze", "permute", "transpose", "swapaxes", "swapdims", "t", "movedim",
              "moveaxis", "expand", "expand_as", "broadcast_to", "narrow", "slice_scatter",
              "clone", "contiguous", "repeat", "tile", "repeat_interleave", "resize", "resize_",
              "resize_as_", "split", "chunk", "tensor_split", "unbind", "select", "flip",
              "fliplr", "flipud", "roll", "tril", "triu", "diagonal", "diag", "diag_embed",
              "trace", "as_strided", "unfold", "ravel", "rot90", "hsplit", "vsplit", "dsplit",
              "diagflat", "select_scatter")),
        (_I, ("index_select", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add",
              "index_copy", "index_fill", "index_put", "index_put_", "masked_fill",
              "masked_select", "masked_scatter", "nonzero", "argwhere", "take", "take_along_dim",
              "sort", "argsort", "msort", "topk", "kthvalue", "unique", "unique_consecutive",
              "bincount", "histc", "histogram")),
        (_L, ("matmul", "mm", "bmm", "mv", "dot", "inner", "vdot", "outer", "ger", "addmm",
              "addmv", "addr", "baddbmm", "addbmm", "cross", "inverse", "det", "kron", "slogdet",
              "logdet")),
        (_C, ("uniform_", "normal_", "bernoulli_", "exponential_", "geometric_", "log_normal_",
              "cauchy_", "random_", "multinomial", "bernoulli")),
):
    for _name in _names:
        setattr(Tensor, _name, getattr(_mod, _name))

for _name in ("scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
              "masked_fill", "masked_scatter", "tril", "triu"):
    setattr(Tensor, _name + "_", _P.inplace(getattr(Tensor, _name)))


def _metadata_inplace(fn):
    """``t_``, ``transpose_``, ``squeeze_``, ``unsqueeze_``: self becomes the view."""
    def op(self, *args, **kwargs):
        r = fn(self, *args, **kwargs)
        self._data = r._data
        if r._grad_fn is not None:
            self._grad_fn, self._output_nr = r._grad_fn, r._output_nr
        return self
    op.__name__ = fn.__name__ + "_"
    return op


for _name in ("t", "transpose", "squeeze", "unsqueeze", "swapaxes", "swapdims"):
    setattr(Tensor, _name + "_", _metadata_inplace(getattr(_S, _name)))

Tensor.where = _where
Tensor.pow_ = _pow_
Tensor.__add__ = _P.add
Tensor.__radd__ = _rev(_P.add)
Tensor.__iadd__ = _P.add_
Tensor.__sub__ = _P.sub
Tensor.__rsub__ = _rev(_P.sub)
Tensor.__isub__ = _P.sub_
Tensor.__mul__ = _P.mul
Tensor.__rmul__ = _rev(_P.mul)
Tensor.__imul__ = _P.mul_
Tensor.__truediv__ = _P.div
Tensor.__rtruediv__ = _rev(_P.div)
Tensor.__itruediv__ = _P.div_
Tensor.__floordiv__ = _P.floor_divide
Tensor.__rfloordiv__ = _rev(_P.floor_divide)
Tensor.__ifloordiv__ = _ifloordiv
Tensor.__mod__ = _P.remainder
Tensor.__rmod__ = _rev(_P.remainder)
Tensor.__pow__ = _P.pow
Tensor.__rpow__ = _rev(_P.pow)
Tensor.__ipow__ = _pow_
Tensor.__matmul__ = _L.matmul
Tensor.__rmatmul__ = _rev(_L.matmul)
Tensor.__neg__ = _P.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = _P.abs
Tensor.__invert__ = _invert
Tensor.__and__ = _P.bitwise_and
Tensor.__rand__ = _rev(_P.bitwise_and)
Tensor.__or__ = _P.bitwise_or
Tensor.__ror__ = _rev(_P.bitwise_or)
Tensor.__xor__ = _P.bitwise_xor
Tensor.__rxor__ = _rev(_P.bitwise_xor)
Tensor.__iand__ = _P.inplace(_P.bitwise_and)
Tensor.__ior__ = _P.inplace(_P.bitwise_or)
Tensor.__ixor__ = _P.inplace(_P.bitwise_xor)
Tensor.__eq__ = _P.eq
Tensor.__ne__ = _P.ne
Tensor.__lt__ = _P.lt
Tensor.__le__ = _P.le
Tensor.__gt__ = _P.gt
Tensor.__ge__ = _P.ge
Tensor.__getitem__ = _I.getitem
Tensor.__setitem__ = _I.setitem
Tensor.__contains__ = _contains
Tensor.T = property(_S.T)
Tensor.mT = property(_S.mT)
Tensor.H = property(lambda self: _S.T(self) if self._data.ndim == 2 else self)
Tensor.mH = property(_S.mT)
Tensor.real = property(lambda self: _wrap(self._data.real) if self.is_complex() else self)
Tensor.imag = property(lambda self: _wrap(self._data.imag))
Tensor.conj = lambda self: _wrap(self._data.conj()) if self.is_complex() else self
Tensor.abs_ = _P.inplace(_P.abs)

"""``Parameter`` (a tensor a Module registers as learnable), ``Buffer`` and
the uninitialised parameter of lazy modules."""
from .._tensor import Tensor, _wrap
from .._ops import creation

__all__ = ["Parameter", "UninitializedParameter", "is_lazy", "Buffer", "UninitializedTensorMixin"]


def _alias(cls, data, requires_grad):
    """A ``cls`` instance over ``data``'s array, sharing its version counter."""
    r = cls._from(data)
    if data._vc is None:
        data._vc = [0]
    r._vc = data._vc
    if requires_grad:
        r.requires_grad_(True)
    return r


class Parameter(Tensor):
    """``Parameter(data=None, requires_grad=True)``: shares ``data``'s memory."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = creation.empty(0)
        if not isinstance(data, Tensor):
            data.detach()  # torch fails here for non-tensors (AttributeError)
        return _alias(cls, data, requires_grad)

    @classmethod
    def _from_rebuilt(cls, t, requires_grad):
        return cls(t, requires_grad)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(_wrap(self._data.copy()), self._rg)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        fn, args = super().__reduce_ex__(proto)
        state = self.__dict__
        return (fn, args, dict(state)) if state else (fn, args)

    def __setstate__(self, state):
        self.__dict__.update(state)


class Buffer(Tensor):
    """A tensor that, assigned to a Module attribute, registers as a buffer."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = creation.empty(0)
        t = _alias(cls, data, data._rg)
        t.persistent = persistent
        return t

    @classmethod
    def _from_rebuilt(cls, t, requires_grad):
        return cls(t)


class UninitializedTensorMixin:
    """A parameter or buffer whose shape a lazy module sets on its first call."""

    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self._data = creation.empty(shape, device=device, dtype=dtype)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes.")

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))


def is_lazy(param):
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _alias(cls, creation.empty(0, device=device, dtype=dtype), requires_grad)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, self.device, self.dtype)
        memo[id(self)] = result
        return result


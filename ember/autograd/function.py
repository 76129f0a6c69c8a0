"""``autograd.Function``: user-defined ops with static forward/backward."""
import functools

from . import grad_mode
from .graph import Node


class FunctionCtx:
    """What ``forward`` gets as ``ctx``; it is also the graph node."""

    def save_for_backward(self, *tensors):
        self.save(*tensors)

    @property
    def saved_tensors(self):
        return self.saved

    def mark_non_differentiable(self, *args):
        self._non_diff = {id(a) for a in args}

    def mark_dirty(self, *args):
        self._dirty = {id(a) for a in args}

    def set_materialize_grads(self, value):
        self._materialize = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The node of one ``Function.apply`` call."""

    _forward_cls = None

    def __init__(self, inputs):
        super().__init__(inputs)
        self._non_diff = set()
        self._dirty = set()
        self._materialize = True
        self._out_meta = ()

    def backward(self, *grads):
        from .._ops.creation import zeros
        if self._materialize:
            grads = tuple(zeros(s, dtype=dt, device=dev) if g is None else g
                          for g, (s, dt, dev) in zip(grads, self._out_meta))
        res = self._forward_cls.backward(self, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n = len(self.next_functions)
        if len(res) < n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(res)})")
        return tuple(res[:n])

    def name(self):
        return type(self).__name__


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Subclass with ``@staticmethod forward(ctx, *args)`` and
    ``@staticmethod backward(ctx, *grad_outputs)``; call ``Cls.apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor, _wrap
        node = cls._backward_cls(args)
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        with grad_mode.no_grad():
            out = cls.forward(node, *args, **kwargs)
        record = grad_mode.is_grad_enabled() and any(node.needs_input_grad)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        result = []
        metas = []
        ids = {id(a) for a in args if isinstance(a, Tensor)}
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                diff = id(o) not in node._non_diff
                if id(o) in ids and id(o) not in node._dirty:
                    o = _wrap(o._data)  # an input returned as-is becomes a new alias
                metas.append((o._data.shape, o.dtype, o.device))
                if record and diff and o._data.dtype.kind in "fc":
                    o._grad_fn = node
                    o._output_nr = i
                    o._rg = True
            else:
                metas.append(((), None, None))
            result.append(o)
        node._out_meta = tuple(metas)
        node.num_outputs = len(outs)
        return result[0] if single else tuple(result)


def once_differentiable(fn):
    """Mark a backward as not differentiable itself: it runs without
    recording, and a second differentiation through it raises."""
    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with grad_mode.no_grad():
            res = fn(ctx, *grads)
        if not grad_mode.is_grad_enabled():
            return res
        from .._tensor import Tensor
        single = not isinstance(res, tuple)
        outs = (res,) if single else res
        err = _OnceDifferentiableError([g for g in grads if isinstance(g, Tensor)])
        marked = []
        for r in outs:
            if isinstance(r, Tensor) and any(g._rg for g in grads if isinstance(g, Tensor)):
                r._grad_fn = err
                r._rg = True
            marked.append(r)
        return marked[0] if single else tuple(marked)
    return wrapper


class _OnceDifferentiableError(Node):
    def backward(self, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")

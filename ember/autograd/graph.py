"""Graph nodes. Every differentiable op records one ``Node`` subclass whose
name is torch's (``MulBackward0``) and whose ``backward`` is written with
ember ops, so graphs of gradients can themselves be differentiated."""
import traceback

from . import anomaly_mode

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the graph "
          "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
          "you need to backward through the graph a second time or if you need to access saved "
          "tensors after calling backward.")


class Node:
    """A recorded operation. ``next_functions`` pairs each differentiable
    input with the node that produced it (or its AccumulateGrad)."""

    __slots__ = ("next_functions", "_saved", "_versions", "_pre_hooks", "_hooks",
                 "_retained", "_trace", "_freed", "__weakref__", "__dict__")
    num_outputs = 1

    def __init__(self, inputs):
        nf = []
        for t in inputs:
            if t is None or not getattr(t, "_rg", False):
                nf.append((None, 0))
            elif t._grad_fn is not None:
                nf.append((t._grad_fn, t._output_nr))
            else:
                nf.append((t._grad_accumulator(), 0))
        self.next_functions = tuple(nf)
        self._saved = None
        self._pre_hooks = None
        self._hooks = None
        self._retained = None
        self._freed = False
        self._trace = traceback.format_stack()[:-2] if anomaly_mode._enabled[0] else None

    def save(self, *tensors):
        """Keep tensors for backward; an in-place change to one is detected.
        Wrap this node's own outputs in ``SavedOutput`` (no reference cycle)."""
        self._saved = tensors
        self._versions = tuple(t._version if t is not None else 0 for t in tensors)

    @property
    def saved(self):
        s = self._saved
        if s is None:
            if self._freed:
                raise RuntimeError(_FREED)
            return ()
        for t, v in zip(s, self._versions):
            if t is not None and t._version != v:
                if type(t) is SavedOutput:
                    t = t.unpack(self)
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{t.type()} {list(t.shape)}], which is output 0 "
                    f"of {t._grad_fn.name() if t._grad_fn else 'AsStridedBackward0'}, is at version "
                    f"{t._version}; expected version {v} instead. Hint: enable anomaly detection "
                    "to find the operation that failed to compute its gradient, with "
                    "torch.autograd.set_detect_anomaly(True).")
        return tuple(t.unpack(self) if type(t) is SavedOutput else t for t in s)

    def release(self):
        if self._saved is not None:
            self._saved = None
            self._freed = True
        self.free_buffers()

    def free_buffers(self):
        """Ops that keep raw arrays (not tensors) drop them here."""

    def name(self):
        return type(self).__name__

    def backward(self, *grads):
        raise NotImplementedError

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward."""
        return self._add_pre_hook(None, fn)

    def _add_pre_hook(self, output_nr, fn):
        if self._pre_hooks is None:
            self._pre_hooks = []
        entry = (output_nr, fn)
        self._pre_hooks.append(entry)
        return _RemovableHandle(self._pre_hooks, entry)

    @property
    def metadata(self):
        return self.__dict__

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    def __call__(self, *grads):
        return self.backward(*grads)


class SavedOutput:
    """An op's own output kept for its backward without a reference cycle:
    the tensor is rebuilt (pointing back at the node) when backward runs."""

    __slots__ = ("data", "vc", "nr")

    def __init__(self, t):
        if t._vc is None:
            t._vc = [0]
        self.data = t._data
        self.vc = t._vc
        self.nr = t._output_nr

    @property
    def _version(self):
        return self.vc[0]

    def unpack(self, node):
        from .._tensor import _wrap
        t = _wrap(self.data)
        t._vc = self.vc
        t._grad_fn = node
        t._rg = True
        t._output_nr = self.nr
        return t


class AccumulateGrad(Node):
    """The sink for a leaf tensor: adds the incoming gradient into ``.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.next_functions = ()
        self.variable = variable
        self._saved = None
        self._pre_hooks = None
        self._hooks = None
        self._retained = None
        self._freed = False
        self._trace = None


class _RemovableHandle:
    def __init__(self, container, item):
        self._container = container
        self._item = item

    def remove(self):
        try:
            self._container.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


RemovableHandle = _RemovableHandle

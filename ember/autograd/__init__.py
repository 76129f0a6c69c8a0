"""``ember.autograd``: backward, grad, grad modes, custom Functions, checks."""
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .function import Function, once_differentiable, FunctionCtx
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled)
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from . import graph, functional
from .engine import run_backward


def _make_grads(outputs, grad_outputs):
    from .._tensor import Tensor, _wrap
    from .._backend import array_module
    res = []
    for o, g in zip(outputs, grad_outputs):
        if g is None:
            d = o._data
            if d.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if d.dtype.kind not in "fc":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs but "
                                   f"got {o.dtype}")
            g = _wrap(array_module(d).ones(d.shape, d.dtype))
        elif not isinstance(g, Tensor):
            from .._ops.creation import tensor
            g = tensor(g, dtype=o.dtype, device=o.device)
        elif g._data.shape != o._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {g.shape} and "
                               f"output[0] has a shape of {o.shape}.")
        res.append(g)
    return res


def _seq(x):
    if x is None:
        return None
    return [x] if hasattr(x, "_data") else list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    tensors = _seq(tensors)
    grads = _seq(grad_tensors if grad_tensors is not None else grad_variables) or [None] * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _seq(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    results = run_backward(tensors, _make_grads(tensors, grads), retain_graph, create_graph,
                           inputs=inputs, accumulate_into_grad=True)
    if inputs is not None:  # non-leaf inputs get .grad too (leaves got it in the engine)
        for t, g in zip(inputs, results):
            if t._grad_fn is not None and g is not None:
                t._add_grad(g if create_graph else g.detach(), set())


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    outputs = _seq(outputs)
    single = not isinstance(inputs, (list, tuple))
    inputs = _seq(inputs)
    grads = _seq(grad_outputs) or [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    res = run_backward(outputs, _make_grads(outputs, grads), retain_graph, create_graph,
                       inputs=inputs, allow_unused=allow_unused, accumulate_into_grad=False)
    if materialize_grads:
        from .._ops.creation import zeros_like
        res = [zeros_like(x) if r is None else r for r, x in zip(res, inputs)]
    return tuple(res)


class Variable:
    """The pre-0.4 wrapper: ``Variable(t)`` is just ``t``."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if requires_grad:
            data.requires_grad_(True)
        return data

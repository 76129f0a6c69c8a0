"""Higher-level derivatives built on ``autograd.grad``: jacobian, hessian, vjp, jvp, vhp, hvp."""
def _is_tensor(x):
    from .._tensor import Tensor
    return isinstance(x, Tensor)


def _tuple(x):
    return (x,) if _is_tensor(x) else tuple(x)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    from . import grad
    single = _is_tensor(inputs)
    inputs = tuple(x.detach().requires_grad_() for x in _tuple(inputs))
    out = func(*inputs)
    g = grad(_tuple(out), inputs, v, create_graph=create_graph, allow_unused=True)
    g = tuple(g)
    return out, (g[0] if single else g)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs) / d inputs, shaped ``out.shape + in.shape``."""
    from . import grad
    from .._ops.creation import zeros_like, zeros
    from .._ops.shape import stack
    single_in = _is_tensor(inputs)
    inputs = tuple(x.detach().requires_grad_() for x in _tuple(inputs))
    out = func(*inputs)
    single_out = _is_tensor(out)
    outs = _tuple(out)
    result = []
    for o in outs:
        rows = [[] for _ in inputs]
        flat = o.reshape(-1)
        for j in range(flat.shape[0]):
            gs = grad([flat[j]], inputs, retain_graph=True, create_graph=create_graph,
                      allow_unused=True)
            for k, (x, g) in enumerate(zip(inputs, gs)):
                rows[k].append(zeros_like(x) if g is None else g)
        per_in = tuple(stack(r).reshape(o.shape + x.shape) if r else zeros(o.shape + x.shape)
                       for r, x in zip(rows, inputs))
        result.append(per_in[0] if single_in else per_in)
    return result[0] if single_out else tuple(result)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False):
    """Second derivatives of a scalar function."""
    from . import grad
    single = _is_tensor(inputs)

    def first(*xs):
        out = func(*xs)
        gs = grad([out], xs, create_graph=True, allow_unused=True)
        return gs[0] if single else tuple(gs)

    return jacobian(first, inputs, create_graph=create_graph)


def _directions(v, xs):
    """``v`` as a tuple matching ``xs`` (None: ones, for one-element inputs)."""
    from .._ops.creation import ones_like
    if v is None:
        if not all(x.numel() == 1 for x in xs):
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        return tuple(ones_like(x) for x in xs)
    return _tuple(v)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)`` by the double-vjp trick: the vjp of a dummy
    cotangent ``u`` is linear in ``u``; its derivative along ``v`` is J v."""
    from . import grad
    from .._ops.creation import zeros_like
    inputs = tuple(x.detach().requires_grad_() for x in _tuple(inputs))
    out = func(*inputs)
    outs = _tuple(out)
    us = tuple(zeros_like(o).requires_grad_() for o in outs)
    gs = grad(outs, inputs, us, create_graph=True, allow_unused=True)
    used = [(g, d) for g, d in zip(gs, _directions(v, inputs)) if g is not None]
    jv = grad([g for g, _ in used], us, [d for _, d in used], create_graph=create_graph,
              allow_unused=True) if used else (None,) * len(us)
    jv = tuple(zeros_like(o) if j is None else j for o, j in zip(outs, jv))
    if not create_graph:
        out = out.detach() if _is_tensor(out) else tuple(o.detach() for o in out)
    return out, (jv[0] if _is_tensor(out) else jv)


def _second(func, inputs, v, create_graph):
    """``func``'s value at ``inputs`` and the derivative of ``grad(func) . v``."""
    from . import grad
    from .._ops.creation import zeros_like
    xs = tuple(x.detach().requires_grad_() for x in _tuple(inputs))
    out = func(*xs)
    gs = grad([out], xs, create_graph=True, allow_unused=True)
    dot = sum((g * d).sum() for g, d in zip(gs, _directions(v, xs)) if g is not None)
    hv = grad([dot], xs, create_graph=create_graph, allow_unused=True) if _is_tensor(dot) \
        else (None,) * len(xs)
    hv = tuple(zeros_like(x) if h is None else h for x, h in zip(xs, hv))
    return (out if create_graph else out.detach()), (hv[0] if _is_tensor(inputs) else hv)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``."""
    return _second(func, inputs, v, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)``: the Hessian of a twice-differentiable scalar
    function is symmetric, so this is ``vhp``."""
    return _second(func, inputs, v, create_graph)

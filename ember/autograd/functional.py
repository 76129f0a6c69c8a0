"""Higher-level derivatives built on ``autograd.grad``: jacobian, hessian, vjp."""
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

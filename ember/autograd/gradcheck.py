"""Numerical gradient checks: finite differences against autograd."""
import numpy as np


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _flat_outputs(fn, inputs):
    from .._tensor import Tensor
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numerical_jacobian(fn, inputs, i, eps):
    """d outputs / d inputs[i] by central differences, one column per element."""
    x = inputs[i]
    flat = x._data.reshape(-1)
    cols = []
    for k in range(flat.size):
        orig = flat[k].item()
        flat[k] = orig + eps
        plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _flat_outputs(fn, inputs)]
        flat[k] = orig - eps
        minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _flat_outputs(fn, inputs)]
        flat[k] = orig
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
                    if plus else np.zeros(0))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def _analytical_jacobian(fn, inputs, diff_idx):
    from . import grad as autograd_grad
    from .._ops.creation import zeros_like
    outs = _flat_outputs(fn, inputs)
    rows = {i: [] for i in diff_idx}
    for o in outs:
        n = o._data.size
        for j in range(n):
            go = zeros_like(o)
            go._data.reshape(-1)[j] = 1
            if not o._rg:
                for i in diff_idx:
                    rows[i].append(np.zeros(inputs[i]._data.size))
                continue
            gs = autograd_grad([o], [inputs[i] for i in diff_idx], [go], retain_graph=True,
                               allow_unused=True)
            for i, g in zip(diff_idx, gs):
                rows[i].append(np.zeros(inputs[i]._data.size) if g is None
                               else g._data.astype(np.float64).reshape(-1))
    return {i: (np.stack(r) if r else np.zeros((0, inputs[i]._data.size))) for i, r in rows.items()}


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, fast_mode=False, masked=None):
    from .._tensor import Tensor
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in diff_idx:
        if inputs[i].dtype.name not in ("float64", "complex128"):
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of double "
                          "precision floating point.", UserWarning)
    analytical = _analytical_jacobian(func, inputs, diff_idx)
    for i in diff_idx:
        num = _numerical_jacobian(func, inputs, i, eps)
        ana = analytical[i]
        if num.shape != ana.shape or not np.allclose(ana, num, rtol=rtol, atol=atol):
            msg = (f"Jacobian mismatch for output 0 with respect to input {i},\n"
                   f"numerical:{num}\nanalytical:{ana}\n")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **kwargs):
    """gradcheck of the function (inputs, grad_outputs) -> input gradients."""
    from . import grad as autograd_grad
    from .._ops.creation import randn
    inputs = _as_tuple(inputs)
    outs = _flat_outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(randn(o.shape, dtype=o.dtype).requires_grad_() for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_grads(*args):
        ins, gos = args[:n], args[n:]
        o = _flat_outputs(func, ins)
        gs = autograd_grad(o, [x for x in ins if getattr(x, "requires_grad", False)], gos,
                           create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)

"""Rprop: resilient backpropagation, sign-based per-coordinate steps."""
from .optimizer import (Optimizer, _check_differentiable, _check_tensor_lr, _real, _step_tensor,
                        _steps_to_tensors, _to_scalar, _xp, _zeros_like)

from .._tensor import _wrap

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""torch.optim.Rprop: each coordinate's step size grows by ``etas[1]`` while
    its gradient keeps its sign and shrinks by ``etas[0]`` when it flips (that
    coordinate then skips the update), clamped to ``step_sizes``;
    ``p -= sign(g) * step_size``."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        _check_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self, "step")

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["prev"] = _zeros_like(p)
                    lr = _to_scalar(group["lr"])
                    s = _xp(p._data).empty_like(p._data)
                    s[...] = complex(lr, lr) if s.dtype.kind == "c" else lr
                    state["step_size"] = _wrap(s)
                state["step"]._data += 1
                a = _real(p._data)
                xp = _xp(a)
                t, u, w = self._scratch(a, 3)
                g = self._grad(xp, a, _real(grad._data), maximize, 0, t)
                prev, step_size = _real(state["prev"]._data), _real(state["step_size"]._data)
                xp.multiply(g, prev, out=u)  # sign of the change, then the factor
                xp.sign(u, out=u)
                xp.copyto(u, etaplus, where=u > 0)
                xp.copyto(u, etaminus, where=u < 0)
                xp.copyto(u, 1, where=u == 0)
                step_size *= u
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                xp.copyto(w, g)  # grad, zero where the sign flipped
                xp.copyto(w, 0, where=u == u.dtype.type(etaminus))
                prev[...] = w
                xp.sign(w, out=w)
                w *= step_size
                a -= w
                p._bump_version()
        return loss

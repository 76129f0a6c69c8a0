"""Rprop: resilient backpropagation, sign-based per-coordinate steps."""
from .optimizer import (Optimizer, _check_args, _count, _full_like, _real, _step_tensor,
                        _to_scalar, _zeros_like)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""torch.optim.Rprop: each coordinate's step size grows by ``etas[1]`` while
    its gradient keeps its sign and shrinks by ``etas[0]`` when it flips (that
    coordinate then skips the update), clamped to ``step_sizes``;
    ``p -= sign(g) * step_size``."""

    _legacy_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _counters = ("step",)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_args(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_args(lr, differentiable=differentiable)
        super().__init__(params, dict(
            lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
            differentiable=differentiable, capturable=capturable))

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["prev"] = _zeros_like(p)
        state["step_size"] = _full_like(p, _to_scalar(group["lr"]))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for p, a, g, xp, (t, u, w) in self._params(group, 3):
                state = self._state(p, group)
                _count(state)
                g = self._grad(xp, a, g, maximize, 0, t)
                prev, step_size = _real(state["prev"]._data), _real(state["step_size"]._data)
                xp.multiply(g, prev, out=u)  # sign of the change, then the factor
                xp.sign(u, out=u)
                xp.copyto(u, etaplus, where=u > 0)
                xp.copyto(u, etaminus, where=u < 0)
                xp.copyto(u, 1, where=u == 0)
                step_size *= u
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                xp.copyto(w, g)  # the gradient, zero where its sign flipped
                xp.copyto(w, 0, where=u == u.dtype.type(etaminus))
                prev[...] = w
                xp.sign(w, out=w)
                w *= step_size
                a -= w
        return loss

"""Adadelta: step sizes from running averages of squared gradients and updates."""
from .optimizer import Optimizer, _check_args, _count, _real, _step_tensor, _to_scalar, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""torch.optim.Adadelta: ``v = rho * v + (1 - rho) * g * g``,
    ``d = sqrt(u + eps) / sqrt(v + eps) * g``, ``u = rho * u + (1 - rho) * d * d``,
    ``p -= lr * d``."""

    _legacy_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _counters = ("step",)

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_args(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_args(lr, eps=eps, weight_decay=weight_decay, differentiable=differentiable)
        super().__init__(params, dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
            capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["square_avg"] = _zeros_like(p)
        state["acc_delta"] = _zeros_like(p)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, rho, eps = _to_scalar(group["lr"]), group["rho"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p, a, g, xp, (t, u, w) in self._params(group, 3):
                state = self._state(p, group)
                _count(state)
                g = self._grad(xp, a, g, maximize, weight_decay, t)
                sq, acc = _real(state["square_avg"]._data), _real(state["acc_delta"]._data)
                sq *= rho
                xp.multiply(g, 1 - rho, out=u)
                u *= g
                sq += u
                xp.add(sq, eps, out=u)  # std
                xp.sqrt(u, out=u)
                xp.add(acc, eps, out=w)  # delta
                xp.sqrt(w, out=w)
                w /= u
                w *= g
                acc *= rho
                xp.multiply(w, 1 - rho, out=u)
                u *= w
                acc += u
                xp.multiply(w, -lr, out=u)
                a += u
        return loss

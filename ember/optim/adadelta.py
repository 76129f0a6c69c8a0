"""Adadelta: step sizes from running averages of squared gradients and updates."""
from .optimizer import (Optimizer, _check_differentiable, _check_tensor_lr, _real, _step_tensor,
                        _steps_to_tensors, _to_scalar, _xp, _zeros_like)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""torch.optim.Adadelta: ``v = rho * v + (1 - rho) * g * g``,
    ``d = sqrt(u + eps) / sqrt(v + eps) * g``, ``u = rho * u + (1 - rho) * d * d``,
    ``p -= lr * d``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
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
            lr, rho, eps = _to_scalar(group["lr"]), group["rho"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                state["step"]._data += 1
                a = _real(p._data)
                xp = _xp(a)
                t, u, w = self._scratch(a, 3)
                g = self._grad(xp, a, _real(grad._data), maximize, weight_decay, t)
                sq, acc = _real(state["square_avg"]._data), _real(state["acc_delta"]._data)
                sq *= rho
                xp.multiply(g, 1 - rho, out=u)
                u *= g
                sq += u
                xp.add(sq, eps, out=u)   # std
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
                p._bump_version()
        return loss

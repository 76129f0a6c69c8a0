"""RMSprop, optionally centered and with momentum."""
from .optimizer import (Optimizer, _check_differentiable, _check_tensor_lr, _lerp, _real,
                        _step_tensor, _steps_to_tensors, _to_scalar, _xp, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""torch.optim.RMSprop: ``v = alpha * v + (1 - alpha) * g * g``; ``avg = sqrt(v)``
    (``sqrt(v - m * m)`` when centered, ``m = lerp(m, g, 1 - alpha)``) ``+ eps``;
    ``p -= lr * g / avg`` or, with momentum, ``b = momentum * b + g / avg; p -= lr * b``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        _check_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self, "step")

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = _to_scalar(group["lr"]), group["alpha"], group["eps"]
            weight_decay, momentum = group["weight_decay"], group["momentum"]
            centered, maximize = group["centered"], group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                state["step"]._data += 1
                a = _real(p._data)
                xp = _xp(a)
                t, u, w = self._scratch(a, 3)
                g = self._grad(xp, a, _real(grad._data), maximize, weight_decay, t)
                sq = _real(state["square_avg"]._data)
                sq *= alpha
                xp.multiply(g, 1 - alpha, out=u)
                u *= g
                sq += u
                if centered:
                    ga = _real(state["grad_avg"]._data)
                    _lerp(xp, ga, g, 1 - alpha, u)
                    xp.multiply(ga, -1, out=u)
                    u *= ga
                    u += sq
                    xp.sqrt(u, out=u)
                else:
                    xp.sqrt(sq, out=u)
                u += eps
                if momentum > 0:
                    buf = _real(state["momentum_buffer"]._data)
                    buf *= momentum
                    xp.divide(g, u, out=w)
                    buf += w
                    xp.multiply(buf, -lr, out=w)
                else:
                    xp.multiply(g, -lr, out=w)
                    w /= u
                a += w
                p._bump_version()
        return loss

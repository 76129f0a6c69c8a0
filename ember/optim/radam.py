"""RAdam: Adam with a rectified adaptive learning rate."""
from .optimizer import (Optimizer, _check_differentiable, _check_tensor_lr, _lerp, _real,
                        _step_tensor, _steps_to_tensors, _to_scalar, _xp, _zeros_like)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""torch.optim.RAdam: Adam's moments; while the variance estimate is
    untrustworthy (``rho_t <= 5``) the step is plain momentum ``lr * m_hat``,
    afterwards ``lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        _check_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self, "step")

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
            maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                st = state["step"]._data
                st += 1
                step = float(st)
                a = _real(p._data)
                xp = _xp(a)
                t, u, w = self._scratch(a, 3)
                if weight_decay != 0 and decoupled:
                    a *= 1 - lr * weight_decay
                    g = self._grad(xp, a, _real(grad._data), maximize, 0, t)
                else:
                    g = self._grad(xp, a, _real(grad._data), maximize, weight_decay, t)
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                _lerp(xp, m, g, 1 - beta1, u)
                v *= beta2
                xp.multiply(g, 1 - beta2, out=u)
                u *= g
                v += u
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
                xp.divide(m, bias_correction1, out=u)  # bias-corrected exp_avg
                u *= lr
                if rho_t > 5.0:
                    xp.sqrt(v, out=w)  # adaptive lr
                    w += eps
                    xp.reciprocal(w, out=w)  # torch's scalar / tensor
                    w *= bias_correction2 ** 0.5
                    u *= w
                    u *= ((rho_t - 4) * (rho_t - 2) * rho_inf
                          / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                a -= u
                p._bump_version()
        return loss

"""RAdam: Adam with a rectified adaptive learning rate."""
from .optimizer import (Optimizer, _adam_moments, _check_args, _count, _real, _step_tensor,
                        _to_scalar, _zeros_like)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""torch.optim.RAdam: Adam's moments; while the variance estimate is
    untrustworthy (``rho_t <= 5``) the step is plain momentum ``lr * m_hat``,
    afterwards ``lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps)``."""

    _legacy_defaults = dict(foreach=None, maximize=False, differentiable=False,
                            decoupled_weight_decay=False, capturable=False)
    _counters = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay,
                    differentiable=differentiable)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
            foreach=foreach, capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
            maximize = group["maximize"]
            decoupled_lr = lr if group["decoupled_weight_decay"] else None
            rho_inf = 2 / (1 - beta2) - 1
            for p, a, g, xp, (t, u, w) in self._params(group, 3):
                state = self._state(p, group)
                step = _count(state)
                g = self._grad(xp, a, g, maximize, weight_decay, t, decoupled_lr)
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                _adam_moments(xp, m, v, g, beta1, beta2, u)
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
        return loss

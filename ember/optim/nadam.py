"""NAdam: Adam with Nesterov momentum."""
from .optimizer import (Optimizer, _adam_moments, _check_args, _count, _real, _step_tensor,
                        _to_scalar, _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""torch.optim.NAdam: momentum schedule ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi))``,
    ``p -= lr * ((1 - mu_t) / (1 - prod mu) * g + mu_{t+1} / (1 - prod mu * mu_{t+1}) * m)
    / (sqrt(v / (1 - beta2^t)) + eps)``."""

    _legacy_defaults = dict(maximize=False, foreach=None, capturable=False, differentiable=False,
                            decoupled_weight_decay=False)
    _counters = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay,
                    momentum_decay=momentum_decay, differentiable=differentiable)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable))

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["mu_product"] = _step_tensor(1.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
            momentum_decay, maximize = group["momentum_decay"], group["maximize"]
            decoupled_lr = lr if group["decoupled_weight_decay"] else None
            for p, a, g, xp, (t, u, w) in self._params(group, 3):
                state = self._state(p, group)
                step = _count(state)
                bias_correction2 = 1 - beta2 ** step
                g = self._grad(xp, a, g, maximize, weight_decay, t, decoupled_lr)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                mp = state["mu_product"]._data  # float32, as torch keeps it
                mp *= mu
                mu_product = float(mp)
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                _adam_moments(xp, m, v, g, beta1, beta2, u)
                xp.divide(v, bias_correction2, out=u)  # denom
                xp.sqrt(u, out=u)
                u += eps
                xp.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=w)
                w /= u
                a += w
                xp.multiply(m, -lr * mu_next / (1.0 - mu_product * mu_next), out=w)
                w /= u
                a += w
        return loss

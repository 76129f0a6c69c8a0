"""NAdam: Adam with Nesterov momentum."""
from .optimizer import (Optimizer, _check_differentiable, _check_tensor_lr, _lerp, _real,
                        _step_tensor, _steps_to_tensors, _to_scalar, _xp, _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""torch.optim.NAdam: momentum schedule ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi))``,
    ``p -= lr * ((1 - mu_t) / (1 - prod mu) * g + mu_{t+1} / (1 - prod mu * mu_{t+1}) * m)
    / (sqrt(v / (1 - beta2^t)) + eps)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        _check_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
        _steps_to_tensors(self, "step", "mu_product")

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
            momentum_decay, maximize = group["momentum_decay"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _step_tensor(1.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                st = state["step"]._data
                st += 1
                step = float(st)
                a = _real(p._data)
                xp = _xp(a)
                t, u, w = self._scratch(a, 3)
                bias_correction2 = 1 - beta2 ** step
                if weight_decay != 0 and decoupled:
                    a *= 1 - lr * weight_decay
                    g = self._grad(xp, a, _real(grad._data), maximize, 0, t)
                else:
                    g = self._grad(xp, a, _real(grad._data), maximize, weight_decay, t)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                mp = state["mu_product"]._data
                mp *= mu
                mu_product = float(mp)
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                _lerp(xp, m, g, 1 - beta1, u)
                v *= beta2
                xp.multiply(g, 1 - beta2, out=u)
                u *= g
                v += u
                xp.divide(v, bias_correction2, out=u)  # denom
                xp.sqrt(u, out=u)
                u += eps
                xp.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=w)
                w /= u
                a += w
                xp.multiply(m, -lr * mu_next / (1.0 - mu_product * mu_next), out=w)
                w /= u
                a += w
                p._bump_version()
        return loss

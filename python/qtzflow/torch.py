"""qtzflow.torch — the QTZ authors' quantized gradient optimizers for PyTorch.

    from qtzflow.torch import QtSGD, QtAdam, QtAdamW
    opt = QtAdam(model.parameters(), lr=1e-3, epochs=15, steps_per_epoch=600)

Each step, per parameter tensor (particles/quantized_gradient.hpp has the equations and the
exact float32 arithmetic): h = -lr*g (QtSGD) or the bias-corrected Adam step (QtAdam; QtAdamW
first decays the weights by lr*weight_decay), the warm-up push r = lr*s(t_e)*h/|h| with
s = (1 + tanh(-kappa (t_e - epochs/2)))/2, and w <- w + floor(Q_p (h + r))/Q_p with
Q_p = eta*base^floor(log_base ln(t_e + 2)), t_e = the tensor's step count / steps_per_epoch.
The step runs in qtzflow's C++, in place on the tensor's memory (float32, CPU).

Ablations (keywords): quantizer="round" (to nearest, ties to even, instead of the floor),
push=False (r = 0), quantizer="gaussian" (no grid: h + r plus Gaussian noise of the variance
Q_p^-2/12 a uniform rounding error would add, drawn from qtzflow's counter-based stream `seed`).

After each step, `last_statistics` lists per tensor Q_p, s(t_e), |h|, the mean |h + r|, the
mean and mean square of the rounding residual Q_p(h + r) - floor(Q_p(h + r)), and the fraction
of weights that moved; with record_residuals=True the residuals themselves are kept in
state[p]["residuals"] (a float32 array, overwritten each step).

torch is imported here, not by `import qtzflow`: the rest of the module works without it.
"""
import numpy as np
import torch

from . import _core
from ._core import gradient_noise, gradient_qp, push_factor  # noqa: F401  (the schedule and the gaussian ablation's draws)

__all__ = ["QtSGD", "QtAdam", "QtAdamW", "QuantizedOptimizer", "gradient_qp", "push_factor", "gradient_noise"]


class QuantizedOptimizer(torch.optim.Optimizer):
    """The common optimizer; rule is "sgd", "adam" or "adamw" (QtSGD, QtAdam, QtAdamW set it)."""

    def __init__(self, params, rule, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, quantizer="floor", push=True,
                 epochs=15, steps_per_epoch=600, eta=2.0 ** 19, base=2.0, kappa=2.0, seed=0, record_residuals=False):
        if rule not in ("sgd", "adam", "adamw"):
            raise ValueError(f"rule = {rule!r}: must be one of 'sgd', 'adam', 'adamw'")
        if quantizer not in ("floor", "round", "gaussian"):
            raise ValueError(f"quantizer = {quantizer!r}: must be one of 'floor', 'round', 'gaussian'")
        if not (epochs > 0):
            raise ValueError(f"epochs = {epochs!r}: must be > 0 (the push is centred at half of it)")
        if len(betas) != 2:
            raise ValueError(f"betas = {betas!r}: must be a pair (beta1, beta2)")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, quantizer=quantizer, push=bool(push),
                        tau0=0.5 * epochs, steps_per_epoch=steps_per_epoch, eta=eta, base=base, kappa=kappa)
        super().__init__(params, defaults)
        self.rule = rule
        self.seed = int(seed)
        self.record_residuals = bool(record_residuals)
        self.last_statistics = []
        # each tensor's place in the parameter list names its noise stream (gaussian ablation)
        self._index = {}
        for group in self.param_groups:
            for p in group["params"]:
                self._index.setdefault(id(p), len(self._index))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        stats = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                order = _dense_order(p)
                if p.dtype != torch.float32 or p.device.type != "cpu" or order is None:
                    raise ValueError(f"parameter of shape {tuple(p.shape)}: must be a dense float32 tensor on the CPU "
                                     "(contiguous or in another memory format such as channels_last)")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    if self.rule != "sgd":
                        state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                        state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if self.record_residuals:
                        state["residuals"] = np.zeros(p.numel(), dtype=np.float32)
                state["step"] += 1
                # The update is elementwise (and ||h|| a sum over the tensor), so it runs over the
                # memory in storage order: every tensor is viewed through the permutation that
                # makes p contiguous (the identity for a contiguous p).
                grad = p.grad.detach()
                if grad.stride() != p.stride():
                    grad = torch.empty_like(p, memory_format=torch.preserve_format).copy_(grad)
                if self.rule != "sgd":
                    for k in ("exp_avg", "exp_avg_sq"):
                        if state[k].stride() != p.stride():  # a state loaded from another layout
                            state[k] = torch.empty_like(p, memory_format=torch.preserve_format).copy_(state[k])
                moments = (_in_order(state["exp_avg"], order), _in_order(state["exp_avg_sq"], order)) if self.rule != "sgd" else (None, None)
                beta1, beta2 = group["betas"]
                s = _core._quantized_gradient_step(
                    _in_order(p.detach(), order), _in_order(grad, order), moments[0], moments[1], state["step"], self.rule, group["quantizer"], group["push"],
                    group["lr"], beta1, beta2, group["eps"], group["weight_decay"], group["eta"], group["base"], group["kappa"], group["tau0"],
                    group["steps_per_epoch"], self.seed, self._index.get(id(p), 0), state.get("residuals"))
                stats.append(s)
        self.last_statistics = stats
        return loss


def _dense_order(t):
    """The permutation of t's dimensions that lists them in storage order (largest stride first),
    if t is dense (no gaps, no overlaps) so that t.permute(order) is contiguous; else None."""
    order = sorted(range(t.dim()), key=lambda d: -t.stride(d))
    return order if t.permute(order).is_contiguous() else None


def _in_order(t, order):
    """The NumPy view of t's memory in storage order (the array the C++ update walks)."""
    return t.permute(order).numpy()


class QtSGD(QuantizedOptimizer):
    """QtSGD: h = -lr*g, quantized (module docstring)."""

    def __init__(self, params, lr=1e-3, **kw):
        super().__init__(params, "sgd", lr=lr, **kw)


class QtAdam(QuantizedOptimizer):
    """QtAdam: h = the bias-corrected Adam step, quantized (module docstring)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, **kw):
        super().__init__(params, "adam", lr=lr, betas=betas, eps=eps, **kw)


class QtAdamW(QuantizedOptimizer):
    """QtAdamW: QtAdam with decoupled weight decay (0.01 by default, as the authors')."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, **kw):
        super().__init__(params, "adamw", lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, **kw)

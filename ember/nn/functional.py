"""``torch.nn.functional``: the functional forms of the layers. Kernels live
in ``ember._ops`` (activation.py: activations, dropout, normalisation,
embedding; nn.py: convolution, pooling, losses); what is here composes them."""
import numpy as np

from .._tensor import Tensor as _Tensor
from ..autograd import grad_mode as _grad_mode
from .._ops.activation import (
    relu, relu6, leaky_relu, hardtanh, threshold, hardshrink, softshrink, hardsigmoid, hardswish,
    elu, selu, celu, softplus, logsigmoid, gelu, silu, mish, softsign, tanhshrink, sigmoid, tanh,
    glu, prelu, rrelu, dropout, dropout1d, dropout2d, dropout3d, alpha_dropout,
    feature_alpha_dropout, layer_norm, group_norm, batch_norm, instance_norm, local_response_norm,
    embedding, embedding_bag, one_hot)
from .._ops import linalg as _L, pointwise as _P, reduce as _R, shape as _S
from .._ops.creation import zeros_like as _zeros_like
# conv, pooling, losses: see ember/_ops/nn.py
from .._ops.nn import (  # noqa: E402
    conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, unfold, fold,
    max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices, max_pool2d_with_indices,
    max_pool3d_with_indices, avg_pool1d, avg_pool2d, avg_pool3d, adaptive_avg_pool1d,
    adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool2d,
    adaptive_max_pool3d, adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices,
    lp_pool1d, lp_pool2d, lp_pool3d, max_unpool1d, max_unpool2d, max_unpool3d,
    softmax, log_softmax, mse_loss, l1_loss, smooth_l1_loss, huber_loss, nll_loss, cross_entropy,
    binary_cross_entropy, binary_cross_entropy_with_logits, kl_div, poisson_nll_loss,
    gaussian_nll_loss, cosine_embedding_loss, margin_ranking_loss, hinge_embedding_loss,
    soft_margin_loss, multilabel_soft_margin_loss, multi_margin_loss, multilabel_margin_loss,
    triplet_margin_loss, triplet_margin_with_distance_loss, pad, interpolate, upsample,
    upsample_nearest, upsample_bilinear, pixel_shuffle, pixel_unshuffle, channel_shuffle,
    native_channel_shuffle)


def _inplace_of(fn):
    def f(input, *args, **kwargs):
        return fn(input, *args, inplace=True, **kwargs)
    f.__name__ = fn.__name__ + "_"
    return f


relu_ = _inplace_of(relu)
leaky_relu_ = _inplace_of(leaky_relu)
hardtanh_ = _inplace_of(hardtanh)
elu_ = _inplace_of(elu)
selu_ = _inplace_of(selu)
celu_ = _inplace_of(celu)
rrelu_ = _inplace_of(rrelu)


def threshold_(input, threshold_value, value):
    return threshold(input, threshold_value, value, inplace=True)


def _check_tensor(t, fn, arg, pos):
    if not isinstance(t, _Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(t).__name__}")


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: one addmm for 2-D input (batched inputs
    go through a 2-D view), matmul for 1-D."""
    _check_tensor(input, "linear", "input", 1)
    _check_tensor(weight, "linear", "weight", 2)
    nd = input._data.ndim
    wt = weight.t() if weight._data.ndim == 2 else weight
    if nd == 2:
        return _L.addmm(bias, input, wt) if bias is not None else _L.mm(input, wt)
    if nd > 2 and weight._data.ndim == 2:
        lead = input._data.shape[:-1]
        x2 = input.reshape(-1, input._data.shape[-1])
        y = _L.addmm(bias, x2, wt) if bias is not None else _L.mm(x2, wt)
        return y.view(lead + (y._data.shape[-1],))
    y = _L.matmul(input, wt)
    return y + bias if bias is not None else y


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1 @ weight[k] @ x2 + bias_k`` over the leading dimensions."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be a 3-dimensional tensor, but got "
                           f"{weight.dim()}-dimensional tensor")
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input sizes {input1.shape[-1]} and {input2.shape[-1]} "
                           f"do not match weight of shape {list(weight.shape)}")
    # (..., 1, 1, in1) @ (out, in1, in2) -> (..., out, 1, in2); times x2, summed over in2
    left = _L.matmul(input1.unsqueeze(-2).unsqueeze(-2), weight)
    y = _R.sum(left.squeeze(-2) * input2.unsqueeze(-2), -1)
    return y + bias if bias is not None else y


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    denom = _R.norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return _P.div(input, denom, out=out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Each input divided by its (eps-clamped) norm, then the dot product;
    the clamp is not differentiated, as in torch."""
    x1, x2 = _S.broadcast_tensors(x1, x2)
    n1 = _R.norm(x1, 2, dim, keepdim=True).clone()
    n2 = _R.norm(x2, 2, dim, keepdim=True).clone()
    with _grad_mode.no_grad():
        n1.clamp_(min=eps)
        n2.clamp_(min=eps)
    return _R.sum((x1 / n1) * (x2 / n2), dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    nd = max(x1.dim(), x2.dim())
    return _R.norm(x1 - x2 + eps, p, nd - 1 if nd else None, keepdim)


def pdist(input, p=2):
    """Distances between all pairs of rows i < j, in row-major order."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    a = input.index_select(0, _tensor_like(i, input))
    b = input.index_select(0, _tensor_like(j, input))
    return _R.norm(a - b, p, 1)


def _tensor_like(a, like):
    from .._ops.creation import tensor
    return tensor(a, device=like.device)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Softmax of (logits + Gumbel noise) / tau; ``hard``: one-hot in the
    forward pass, the soft sample's gradient in the backward pass."""
    from .._ops.creation import empty_like
    gumbels = -empty_like(logits).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)  # noqa: F821 (from ember._ops.nn)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-input, dim, dtype=dtype)  # noqa: F821 (from ember._ops.nn)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``input / sqrt(mean(input ** 2) + eps) * weight`` over the trailing
    ``normalized_shape`` dimensions."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    shape = tuple(input.shape)
    if tuple(shape[len(shape) - k:]) != tuple(normalized_shape):
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with "
                           f"shape [*, {', '.join(map(str, normalized_shape))}], but got input of "
                           f"size{input.shape}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(len(shape) - k, len(shape)))
    y = input * _P.rsqrt(_R.mean(input * input, dims, keepdim=True) + eps)
    return y * weight if weight is not None else y


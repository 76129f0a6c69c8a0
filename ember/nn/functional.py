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
    triplet_margin_loss, triplet_margin_with_distance_loss, ctc_loss, pad, interpolate, upsample,
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



# ---------------------------------------------------------------- attention (issue 4)
import math  # noqa: E402
import warnings  # noqa: E402

from .._tensor import _wrap  # noqa: E402
from .._ops.common import xp_of as _xp  # noqa: E402

_CPP_DTYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
                    "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
                    "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
                    "bool": "bool"}


def _cpp_dtype(t):
    return _CPP_DTYPE_NAMES.get(t.dtype.name, t.dtype.name)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, *, scale=None, enable_gqa=False):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two
    dimensions. A bool ``attn_mask`` marks the pairs that may attend; a
    float one is added to the scores; ``is_causal`` also hides the pairs
    above the diagonal. A query that may attend to nothing gets zeros."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_tensor(t, "scaled_dot_product_attention", name, ("query", "key", "value").index(
            name) + 1)
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {_cpp_dtype(query)} key.dtype: {_cpp_dtype(key)} and "
                           f"value.dtype: {_cpp_dtype(value)} instead.")
    if attn_mask is not None and attn_mask.dtype.name != "bool" and \
            not attn_mask.dtype.is_floating_point:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, "
                           f"but got attn_mask.dtype: {_cpp_dtype(attn_mask)} and  query.dtype: "
                           f"{_cpp_dtype(query)} instead.")
    if is_causal and attn_mask is not None and (
            query.dim() != 4 or dropout_p > 0.0 or value.shape[-1] != query.shape[-1] or
            _grad_mode.is_grad_enabled() and (query._rg or key._rg or value._rg)):
        # torch's math kernel refuses both; its CPU flash kernel (4-D, no dropout, equal head
        # sizes, no autograd) applies both
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    xp = _xp(query)
    L, S = query.shape[-2], key.shape[-2]
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise RuntimeError("Number of heads in key and value must divide the number of heads "
                               "in ")
        key = _S.repeat_interleave(key, hq // hk, -3)
        value = _S.repeat_interleave(value, hq // hk, -3)
    sf = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = _L.matmul(query * sf, key.transpose(-2, -1))
    hidden = xp.triu(xp.ones((L, S), dtype=bool), 1) if is_causal else None
    bias = None
    if attn_mask is not None:
        if attn_mask.dtype.name == "bool":
            hidden = ~attn_mask._data if hidden is None else hidden | ~attn_mask._data
        else:
            bias = attn_mask
    if hidden is not None:
        const = _wrap(xp.where(hidden, -math.inf, 0).astype(scores._data.dtype))
        bias = const if bias is None else bias + const
    keep = None
    if bias is not None:
        dead = xp.isneginf(bias._data).all(-1, keepdims=True)
        if dead.any():  # torch's safe softmax: rows with nothing to attend give zeros
            bias = bias.masked_fill(_wrap(dead), 0.0)
            keep = _wrap((~dead).astype(scores._data.dtype))
        scores = scores + bias
    attn = softmax(scores, -1)  # noqa: F821 (from ember._ops.nn)
    if keep is not None:
        attn = attn * keep
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return _L.matmul(attn, value)


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched; torch's AssertionErrors for bad ranks."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be 3-D "
                                 f"but found {key.dim()}-D and {value.dim()}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.dim()}-D tensor "
                                 f"instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.dim()}-D tensor "
                                 f"instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D tensor "
                                     f"instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if attn_mask.shape != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask as a float one (-inf where True); float masks as they are."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype.name != "bool" and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      f"same type for both instead.", stacklevel=2)
    if not is_float:
        mask = _zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, _Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v projected by the stacked ``w`` (3E, E): one product for
    self-attention, two for encoder-decoder attention, else three."""
    E = q.size(-1)
    if k is v:
        if q is k:
            return tuple(linear(q, w, b).chunk(3, -1))
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = b.split([E, E * 2]) if b is not None else (None, None)
        return (linear(q, w_q, b_q),) + tuple(linear(k, w_kv, b_kv).chunk(2, -1))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = b.chunk(3) if b is not None else (None, None, None)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    for name, t, shape in (("query weights", w_q, (Eq, Eq)), ("key weights", w_k, (Eq, Ek)),
                           ("value weights", w_v, (Eq, Ev)), ("query bias", b_q, (Eq,)),
                           ("key bias", b_k, (Eq,)), ("value bias", b_v, (Eq,))):
        if t is not None and t.shape != shape:
            raise AssertionError(f"expecting {name} shape of {shape}, but got {t.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
        bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True,
        key_padding_mask=None, need_weights=True, attn_mask=None, use_separate_proj_weight=False,
        q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
        average_attn_weights=True, is_causal=False):
    """The computation of ``nn.MultiheadAttention`` on sequence-first
    ``(L, N, E)`` (or unbatched ``(L, E)``) inputs; returns
    ``(attn_output, attn_weights or None)``."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to create "
                           "this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the is_causal hint alone goes to scaled_dot_product_attention
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                             f"{embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is "
                                     f"None")
        b_q, b_k, b_v = in_proj_bias.chunk(3) if in_proj_bias is not None else (None,) * 3
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight,
                                 b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if attn_mask.shape != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if attn_mask.shape != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _S.cat([k, bias_k.repeat(1, bsz, 1)])
        v = _S.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))  # noqa: F821 (from ember._ops.nn)
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))  # noqa: F821
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    for name, static in (("k", static_k), ("v", static_v)):
        if static is not None:
            if static.size(0) != bsz * num_heads:
                raise AssertionError(f"expecting static_{name}.size(0) of {bsz * num_heads}, but "
                                     f"got {static.size(0)}")
            if static.size(2) != head_dim:
                raise AssertionError(f"expecting static_{name}.size(2) of {head_dim}, but got "
                                     f"{static.size(2)}")
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None \
        else static_k
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None \
        else static_v

    if add_zero_attn:
        from .._ops.creation import zeros
        zero_shape = (bsz * num_heads, 1, head_dim)
        k = _S.cat([k, zeros(zero_shape, dtype=k.dtype, device=k.device)], dim=1)
        v = _S.cat([v, zeros(zero_shape, dtype=v.dtype, device=v.device)], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))  # noqa: F821
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))  # noqa: F821
    src_len = k.size(1)

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        weights = _L.matmul(q * math.sqrt(1.0 / float(q.shape[-1])), k.transpose(-2, -1))
        if attn_mask is not None:
            weights = weights + attn_mask
        weights = softmax(weights, dim=-1)  # noqa: F821
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = _L.matmul(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    return (out if is_batched else out.squeeze(1)), None

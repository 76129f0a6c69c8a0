"""The heavy ``nn.functional`` kernels, named in one place: convolution
(conv.py), pooling (pooling.py), softmax and losses (loss.py), and here
padding, interpolation and pixel shuffling: index gathers and reshapes built
from ember ops, so autograd comes with them.
"""
import math
import numbers
import warnings

import numpy as np

from ..autograd.graph import Node
from .common import attach, xp_of, _gs
from .._tensor import _wrap
from .creation import tensor as _tensor
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                   conv_transpose3d, unfold, fold)
from .pooling import (max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices,  # noqa: F401
                      max_pool2d_with_indices, max_pool3d_with_indices, avg_pool1d, avg_pool2d,
                      avg_pool3d, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                      adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,
                      adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices,
                      lp_pool1d, lp_pool2d, lp_pool3d, max_unpool1d, max_unpool2d, max_unpool3d)
from .loss import (softmax, log_softmax, softmin, mse_loss, l1_loss,  # noqa: F401
                   smooth_l1_loss, huber_loss, nll_loss, cross_entropy, binary_cross_entropy,
                   binary_cross_entropy_with_logits, kl_div, poisson_nll_loss, gaussian_nll_loss,
                   cosine_embedding_loss, margin_ranking_loss, hinge_embedding_loss,
                   soft_margin_loss, multilabel_soft_margin_loss, multi_margin_loss,
                   multilabel_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss,
                   ctc_loss)


# ---------------------------------------------------------------- padding
_NONCONST = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


class ConstantPadNdBackward0(Node):
    def backward(self, g):
        return _constant_pad(g, tuple(-p for p in self.pad), 0),


def _constant_pad(input, pad, value):
    """Pad (or, for negative amounts, crop) the trailing dims; ``pad`` as torch
    orders it: last dim first, (before, after) pairs."""
    d = input._data
    nd = len(pad) // 2
    shape = list(d.shape)
    src, dst = [], []
    for i in range(nd):
        ax = d.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = shape[ax] + lo + hi
        if n < 0:
            raise RuntimeError(f"The input size {shape[ax]}, plus negative padding {lo} and {hi} "
                               f"resulted in a negative output size, which is invalid. Check "
                               f"dimension {ax} of your input.")
        src.append(slice(max(-lo, 0), shape[ax] - max(-hi, 0)))
        dst.append(slice(max(lo, 0), max(lo, 0) + max(0, shape[ax] - max(-lo, 0) - max(-hi, 0))))
        shape[ax] = n
    xp = xp_of(input)
    out = xp.full(shape, value, dtype=d.dtype) if value else xp.zeros(shape, d.dtype)
    lead = (slice(None),) * (d.ndim - nd)
    out[lead + tuple(reversed(dst))] = d[lead + tuple(reversed(src))]
    r = _wrap(out)
    if _gs[0] and input._rg:
        n = ConstantPadNdBackward0((input,))
        n.save()
        n.pad = tuple(pad)
        attach(r, n)
    return r


def _pad_index(n, lo, hi, mode):
    """Source positions along one dim of size ``n`` for a (lo, hi) pad."""
    if mode == "circular":  # crop first, then wrap around what is left
        start = max(-lo, 0)
        m = n - start - max(-hi, 0)
        return start + np.arange(-max(lo, 0), m + max(hi, 0)) % m
    j = np.arange(-lo, n + hi)
    if mode == "reflect":
        j = np.abs(j)
        return np.where(j >= n, 2 * (n - 1) - j, j)
    return np.clip(j, 0, n - 1)


def pad(input, pad, mode="constant", value=None):
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    ndim = input._data.ndim
    if len(pad) > 2 * ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{ndim}")
    if mode == "constant":
        return _constant_pad(input, pad, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    nd = len(pad) // 2
    if ndim not in (nd + 1, nd + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input "
                                  f"tensor.\n" + _NONCONST)
    shape = tuple(input._data.shape)
    if mode == "reflect" and any(s == 0 for s in shape[ndim - nd - 1:]):
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{list(shape)}")
    y = input
    for i in range(nd):
        ax = ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = shape[ax]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) at "
                               f"dimension {ax} of input {list(shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo or hi:
            idx = _tensor(_pad_index(n, lo, hi, mode), device=input.device)
            y = y.index_select(ax, idx)
    return y


# ---------------------------------------------------------------- interpolation
_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}


def _scale(in_size, out_size, scale, align_corners, ft):
    """torch's area_pixel_compute_scale, in the float type ``ft`` that torch
    computes coordinates in (float32, or float64 for double inputs)."""
    if align_corners:
        return ft((in_size - 1) / (out_size - 1)) if out_size > 1 else ft(0)
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(in_size) / ft(out_size)


def _nearest_index(in_size, out_size, scale, exact, ft):
    if not exact:
        if out_size == in_size:
            return np.arange(out_size)
        if out_size == 2 * in_size:
            return np.arange(out_size) >> 1
    dst = np.arange(out_size, dtype=ft)
    s = _scale(in_size, out_size, scale, False, ft)
    src = np.floor((dst + ft(0.5)) * s if exact else dst * s).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _source_coords(in_size, out_size, scale, align_corners, cubic, ft):
    s = _scale(in_size, out_size, scale, align_corners, ft)
    dst = np.arange(out_size, dtype=ft)
    if align_corners:
        return s * dst
    src = s * (dst + ft(0.5)) - ft(0.5)
    return src if cubic else np.maximum(src, ft(0))


def _cubic_weights(t):
    a = t.dtype.type(-0.75)

    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return c2(t + 1), c1(t), c1(1 - t), c2(2 - t)


def _along(x, dim, index, weight=None):
    """``x`` gathered at ``index`` along ``dim``, times ``weight`` there."""
    y = x.index_select(dim, _tensor(index, device=x.device))
    if weight is None:
        return y
    w = weight.astype(x._data.dtype).reshape((-1,) + (1,) * (x._data.ndim - dim - 1))
    return y * _tensor(w, device=x.device)


def _resample(x, dim, in_size, out_size, scale, mode, align_corners):
    """One spatial dim of ``interpolate``."""
    ft = np.float64 if x._data.dtype == np.float64 else np.float32
    if mode in ("nearest", "nearest-exact"):
        return _along(x, dim, _nearest_index(in_size, out_size, scale, mode == "nearest-exact",
                                             ft))
    cubic = mode == "bicubic"
    src = _source_coords(in_size, out_size, scale, align_corners, cubic, ft)
    i0 = np.floor(src).astype(np.int64)
    if not cubic:
        i0 = np.minimum(i0, in_size - 1)
        lam = np.clip(src - i0, 0, 1).astype(ft)
        i1 = np.minimum(i0 + 1, in_size - 1)
        return _along(x, dim, i0, 1 - lam) + _along(x, dim, i1, lam)
    ws = _cubic_weights((src - i0).astype(ft))
    y = None
    for k, w in enumerate(ws):
        t = _along(x, dim, np.clip(i0 - 1 + k, 0, in_size - 1), w)
        y = t if y is None else y + t
    return y


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    ndim = input._data.ndim
    dim = ndim - 2
    shape = tuple(input._data.shape)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = [None] * dim
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(shape[2:])} and output size of {size}. Please provide "
                                 "input tensor in (N, C, d1, d2, ...,dK) format and output size "
                                 "in (o1, o2, ...,oK) format.")
            if not all(isinstance(s, numbers.Integral) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                "or Tuple[int, int, int], but got size with types "
                                f"{[type(s) for s in size]}")
            out_size = [int(s) for s in size]
        else:
            out_size = [int(size)] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(shape[2:])} and scale_factor of shape {scale_factor}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                                 "and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out_size = [int(math.floor(shape[2 + i] * scales[i])) for i in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        scales = [None] * dim
    if antialias:
        if not (mode in ("bilinear", "bicubic", "lanczos") and ndim == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                             "modes and requires a 4-D tensor as input")
        raise NotImplementedError("interpolate(antialias=True) is not supported by ember")
    if mode in ("nearest", "nearest-exact", "area") and ndim in (3, 4, 5) or \
            _LINEAR.get(mode) == ndim:
        if any(o <= 0 for o in out_size):
            raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                               f"({', '.join(map(str, shape[2:]))}) output "
                               f"({', '.join(map(str, out_size))})")
        if mode == "area":
            from .pooling import _adaptive_avg_pool
            return _adaptive_avg_pool(input, out_size, dim, f"adaptive_avg_pool{dim}d")
        y = input
        for i in range(dim):
            if out_size[i] != shape[2 + i] or mode not in ("nearest", "nearest-exact") \
                    or scales[i] not in (None, 1.0):
                y = _resample(y, 2 + i, shape[2 + i], out_size[i], scales[i], mode,
                              align_corners)
        return y if y is not input else input.clone()
    expect = {3: "linear", 4: "bilinear", 5: "trilinear"}
    if mode in _LINEAR and ndim in expect:
        needs = {"linear": "3D", "bilinear": "4D", "trilinear": "5D", "bicubic": "4D"}[mode]
        raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {needs} input")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                              f"{ndim}D) for the modes: nearest | linear | bilinear | bicubic | "
                              f"trilinear | lanczos | area | nearest-exact (got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------- pixel and channel shuffles
def _check_shuffle(input, name, factor, what):
    nd = input._data.ndim
    if nd < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {nd} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """``(*, C r^2, H, W)`` to ``(*, C, H r, W r)``."""
    r = int(upscale_factor)
    _check_shuffle(input, "pixel_shuffle", r, "upscale_factor")
    *lead, c, h, w = input._data.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = tuple(lead)
    k = len(lead)
    y = input.reshape(lead + (c // (r * r), r, r, h, w))
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H r, W r)`` to ``(*, C r^2, H, W)``."""
    r = int(downscale_factor)
    _check_shuffle(input, "pixel_unshuffle", r, "downscale_factor")
    *lead, c, h, w = input._data.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    lead = tuple(lead)
    k = len(lead)
    y = input.reshape(lead + (c, h // r, r, w // r, r))
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(lead + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups: ``(N, g, C/g, *)`` read
    as ``(N, C/g, g, *)``."""
    shape = tuple(input._data.shape)
    if len(shape) <= 2:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {len(shape)} dimension(s)")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {shape[1]} "
                           f"channels and {groups} groups.")
    y = input.reshape((shape[0], groups, shape[1] // groups) + shape[2:]).transpose(1, 2)
    return y.reshape(shape)


native_channel_shuffle = channel_shuffle

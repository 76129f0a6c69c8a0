"""The tensor half of ``transforms.functional``: images as ``[..., C, H, W]`` ember tensors.

Written with ember ops, so the geometric and color ops are differentiable and run on
whatever device the image lives on; index and weight tables are built with NumPy on the
host (they depend only on the sizes) and applied as one matmul or one gather.
"""
import functools
import math
import warnings

import numpy as np

import ember
from ember import _backend as B

_INT_MAX = {ember.uint8: 255, ember.int8: 127, ember.int16: 32767, ember.int32: 2147483647,
            ember.int64: 9223372036854775807}


def _is_tensor_a_torch_image(x):
    return x.ndim >= 2


def _assert_image_tensor(img):
    if not _is_tensor_a_torch_image(img):
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img):
    _assert_image_tensor(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    height, width = img.shape[-2:]
    return [channels, height, width]


def get_image_size(img):
    _assert_image_tensor(img)
    return [img.shape[-1], img.shape[-2]]


def get_image_num_channels(img):
    _assert_image_tensor(img)
    return 1 if img.ndim == 2 else img.shape[-3]


def _max_value(dtype):
    # floating images live in [0, 1]
    return _INT_MAX.get(dtype, 1)


def _assert_channels(img, permitted):
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def convert_image_dtype(image, dtype=ember.float32):
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == ember.float32 and dtype in (ember.int32, ember.int64)) or (
                image.dtype == ember.float64 and dtype == ember.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        # max + 1 - eps spreads [0, 1] evenly over the integer range (1.0 alone maps to max)
        eps = 1e-3
        return image.mul(float(_max_value(dtype)) + 1.0 - eps).to(dtype)
    input_max = _max_value(image.dtype)
    if dtype.is_floating_point:
        return image.to(dtype) / float(input_max)
    output_max = _max_value(dtype)
    if input_max > output_max:
        factor = (input_max + 1) // (output_max + 1)
        return ember.div(image, factor, rounding_mode="floor").to(dtype)
    factor = (output_max + 1) // (input_max + 1)
    return image.to(dtype) * factor


def vflip(img):
    _assert_image_tensor(img)
    return img.flip(-2)


def hflip(img):
    _assert_image_tensor(img)
    return img.flip(-1)


def crop(img, top, left, height, width):
    _assert_image_tensor(img)
    _, h, w = get_dimensions(img)
    right = left + width
    bottom = top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding_ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                        max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return pad(img[..., max(top, 0):bottom, max(left, 0):right], padding_ltrb, fill=0)
    return img[..., top:bottom, left:right]


def rgb_to_grayscale(img, num_output_channels=1):
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(dim=-3)
        # ITU-R 601-2 luma, as TensorFlow and torchvision weight it
        l_img = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
    else:
        l_img = img.clone()
    if num_output_channels == 3:
        return l_img.expand(img.shape)
    return l_img


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    bound = _max_value(img1.dtype)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def adjust_brightness(img, brightness_factor):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    return _blend(img, ember.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [3, 1])
    c = get_dimensions(img)[0]
    dtype = img.dtype if img.is_floating_point() else ember.float32
    gray = rgb_to_grayscale(img) if c == 3 else img
    mean = ember.mean(gray.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def _rgb2hsv(img):
    r, g, b = img.unbind(dim=-3)
    maxc = ember.amax(img, dim=-3)
    minc = ember.amin(img, dim=-3)
    # where max == min the hue and saturation are 0; keep the divisions finite there
    eqc = maxc == minc
    cr = maxc - minc
    ones = ember.ones_like(maxc)
    s = cr / ember.where(eqc, ones, maxc)
    cr_divisor = ember.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = ember.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return ember.stack((h, s, maxc), dim=-3)


def _hsv2rgb(img):
    h, s, v = img.unbind(dim=-3)
    i = ember.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(ember.int32) % 6
    p = ember.clamp(v * (1.0 - s), 0.0, 1.0)
    q = ember.clamp(v * (1.0 - s * f), 0.0, 1.0)
    t = ember.clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    mask = (i.unsqueeze(dim=-3) == ember.arange(6, device=i.device).view(-1, 1, 1)).to(img.dtype)
    a1 = ember.stack((v, q, p, p, t, v), dim=-3)
    a2 = ember.stack((t, v, v, q, p, p), dim=-3)
    a3 = ember.stack((p, p, t, v, v, q), dim=-3)
    a4 = ember.stack((a1, a2, a3), dim=-4)
    return ember.einsum("...ijk, ...xijk -> ...xjk", mask, a4)


def adjust_hue(img, hue_factor):
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, ember.Tensor):
        raise TypeError("Input img should be Tensor image")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:  # as PIL: a gray image has no hue
        return img
    orig_dtype = img.dtype
    hsv = _rgb2hsv(convert_image_dtype(img, ember.float32))
    h, s, v = hsv.unbind(dim=-3)
    h = (h + hue_factor) % 1.0
    rgb = _hsv2rgb(ember.stack((h, s, v), dim=-3))
    return convert_image_dtype(rgb, orig_dtype)


def adjust_saturation(img, saturation_factor):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def adjust_gamma(img, gamma, gain=1):
    if not isinstance(img, ember.Tensor):
        raise TypeError("Input img should be a Tensor.")
    _assert_channels(img, [1, 3])
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    dtype = img.dtype
    result = img if img.is_floating_point() else convert_image_dtype(img, ember.float32)
    result = (gain * result ** gamma).clamp(0, 1)
    return convert_image_dtype(result, dtype)


def _parse_pad_padding(padding):
    """[left, right, top, bottom] from an int or a 1-, 2- or 4-sequence."""
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[0], padding[1], padding[1]]
    return [padding[0], padding[2], padding[1], padding[3]]


def _pad_indices(n, before, after, mode):
    """Source indices along one axis for the index-based padding modes."""
    i = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(i, 0, n - 1)
    if mode == "reflect":
        if before >= n or after >= n:
            raise RuntimeError(f"Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension of size {n}")
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    # symmetric: the edge value is repeated
    period = 2 * n
    i = np.mod(i, period)
    return np.where(i >= n, period - 1 - i, i)


def pad(img, padding, fill=0, padding_mode="constant"):
    _assert_image_tensor(img)
    if fill is None:
        fill = 0
    if not isinstance(padding, (int, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in [1, 2, 4]:
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, "
                         f"not a {len(padding)} element tuple")
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    left, right, top, bottom = _parse_pad_padding(padding)
    # negative padding crops
    h, w = img.shape[-2:]
    if min(left, right, top, bottom) < 0:
        img = img[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, right, top, bottom = (max(x, 0) for x in (left, right, top, bottom))
        h, w = img.shape[-2:]
    if padding_mode == "constant":
        lead = tuple(img.shape[:-2])

        def block(hh, ww):
            return ember.full(lead + (hh, ww), fill, dtype=img.dtype, device=img.device)
        parts = ([block(h, left)] if left else []) + [img] + ([block(h, right)] if right else [])
        img = ember.cat(parts, dim=-1) if len(parts) > 1 else img
        w = img.shape[-1]
        parts = ([block(top, w)] if top else []) + [img] + ([block(bottom, w)] if bottom else [])
        return ember.cat(parts, dim=-2) if len(parts) > 1 else img
    iy = _pad_indices(h, top, bottom, padding_mode)
    ix = _pad_indices(w, left, right, padding_mode)
    return img[..., iy[:, None], ix[None, :]]


def _cast_squeeze_in(img, req_dtypes):
    need_squeeze = img.ndim < 4
    if need_squeeze:
        img = img.unsqueeze(dim=0)
    out_dtype = img.dtype
    need_cast = out_dtype not in req_dtypes
    if need_cast:
        img = img.to(req_dtypes[0])
    return img, need_cast, need_squeeze, out_dtype


def _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype):
    if need_squeeze:
        img = img.squeeze(dim=0)
    if need_cast:
        if out_dtype in _INT_MAX:
            img = ember.round(img)  # round, then cast: truncation would bias down
        img = img.to(out_dtype)
    return img


def _cubic1(x, a):
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic2(x, a):
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _aa_filter(x, interpolation):
    x = np.abs(x)
    one = x.dtype.type(1)
    if interpolation == "bilinear":
        return np.maximum(one - x, 0)
    # Keys' cubic with a = -0.5, as PIL's antialiased bicubic
    a = x.dtype.type(-0.5)
    return np.where(x < one, _cubic1(x, a), np.where(x < 2 * one, _cubic2(x, a), 0))


@functools.lru_cache(maxsize=256)
def _resize_matrix(in_size, out_size, interpolation, antialias, dt):
    """``(out_size, in_size)`` weights of torch's ``interpolate`` along one axis
    (align_corners=False; the antialiased path is PIL's separable filter). Computed in
    the image's float dtype ``dt``, as torch does, so that rounding to uint8 agrees."""
    scale = dt(in_size) / dt(out_size)
    dst = np.arange(out_size).astype(dt)
    m = np.zeros((out_size, in_size), dtype=dt)
    rows = np.arange(out_size)
    half = dt(0.5)
    if interpolation in ("nearest", "nearest-exact"):
        offset = half if interpolation == "nearest-exact" else dt(0.0)
        src = np.minimum(np.floor((dst + offset) * scale).astype(np.int64), in_size - 1)
        m[rows, src] = 1
    elif antialias:
        support = dt(1.0 if interpolation == "bilinear" else 2.0)
        if scale >= 1.0:
            support = support * scale
        invscale = dt(1.0) / scale if scale >= 1.0 else dt(1.0)
        center = scale * (dst + half)
        xmin = np.maximum(np.trunc(center - support + half).astype(np.int64), 0)
        xmax = np.minimum(np.trunc(center + support + half).astype(np.int64), in_size)
        taps = [xmin + k for k in range(int(math.ceil(support)) * 2 + 1)]
        weights = [np.where(j < xmax, _aa_filter((j.astype(dt) - center + half) * invscale, interpolation), 0)
                   .astype(dt) for j in taps]
        total = np.zeros(out_size, dtype=dt)
        for w in weights:  # tap by tap, the order torch sums in
            total += w
        total[total == 0] = 1
        for j, w in zip(taps, weights):
            ok = j < xmax
            m[rows[ok], j[ok]] = w[ok] / total[ok]
    elif interpolation == "bilinear":
        src = np.maximum(scale * (dst + half) - half, dt(0))
        i0 = src.astype(np.int64)
        lam = src - i0.astype(dt)
        i1 = i0 + (i0 < in_size - 1)
        np.add.at(m, (rows, i0), dt(1) - lam)
        np.add.at(m, (rows, i1), lam)
    else:  # bicubic, a = -0.75 as torch
        src = scale * (dst + half) - half
        i0 = np.floor(src).astype(np.int64)
        t = src - i0.astype(dt)
        one, two, a = dt(1), dt(2), dt(-0.75)
        ws = (_cubic2(t + one, a), _cubic1(t, a), _cubic1(one - t, a), _cubic2(two - t, a))
        for k, wk in enumerate(ws):
            np.add.at(m, (rows, np.clip(i0 - 1 + k, 0, in_size - 1)), wk.astype(dt))
    m.flags.writeable = False  # cached and shared
    return m


def resize(img, size, interpolation="bilinear", antialias=True):
    _assert_image_tensor(img)
    if antialias is None:
        antialias = False
    if interpolation not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")
    if antialias and interpolation not in ("bilinear", "bicubic"):
        antialias = False  # irrelevant for the other modes, as documented
    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [ember.float32, ember.float64])
    np_dtype = _float_np(img)
    (h, w), (oh, ow) = img.shape[-2:], size
    mh = ember.from_numpy(_resize_matrix(h, oh, interpolation, antialias, np_dtype)).to(img.device)
    mw = ember.from_numpy(_resize_matrix(w, ow, interpolation, antialias, np_dtype).T).to(img.device)
    img = ember.matmul(mh, ember.matmul(img, mw))
    if interpolation == "bicubic" and out_dtype == ember.uint8:
        img = img.clamp(min=0, max=255)
    return _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype)


def _assert_grid_transform_inputs(img, matrix, interpolation, fill, supported_interpolation_modes,
                                  coeffs=None):
    if not isinstance(img, ember.Tensor):
        raise TypeError("Input img should be Tensor")
    _assert_image_tensor(img)
    if matrix is not None and not isinstance(matrix, list):
        raise TypeError("Argument matrix should be a list")
    if matrix is not None and len(matrix) != 6:
        raise ValueError("Argument matrix should have 6 float values")
    if coeffs is not None and len(coeffs) != 8:
        raise ValueError("Argument coeffs should have 8 float values")
    if fill is not None and not isinstance(fill, (int, float, tuple, list)):
        warnings.warn("Argument fill should be either int, float, tuple or list")
    num_channels = get_dimensions(img)[0]
    if fill is not None and isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != num_channels:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the number of "
                         f"channels of the image ({len(fill)} != {num_channels})")
    if interpolation not in supported_interpolation_modes:
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")


def _fma(a, b, c):
    """``a * b + c`` rounded once, as the fused multiply-add in torch's CPU kernels
    (exact through float64 for float32 operands)."""
    if isinstance(a, np.ndarray):
        return (a.astype(np.float64) * b + c).astype(a.dtype)
    if a.dtype != ember.float32:
        return a * b + c
    return (a.double() * b.double() + c.double()).float()


def _grid_sample(img, gx, gy, mode):
    """``grid_sample`` with zero padding and align_corners=False; ``gx``/``gy`` are
    the normalized [-1, 1] sampling coordinates (NumPy, ``(oh, ow)``). The arithmetic
    follows torch's CPU kernel step by step, so that rounding to integers agrees."""
    h, w = img.shape[-2:]
    dt = gx.dtype.type
    x = _fma(gx + dt(1), w / 2, -0.5)
    y = _fma(gy + dt(1), h / 2, -0.5)

    def tap(iy, ix, weight):
        ok = (ix >= 0) & (ix <= w - 1) & (iy >= 0) & (iy <= h - 1)
        vals = img[..., np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)]
        return vals, ember.tensor(np.where(ok, weight, 0), dtype=img.dtype, device=img.device)

    if mode == "nearest":
        vals, wt = tap(np.rint(y).astype(np.int64), np.rint(x).astype(np.int64), 1.0)
        return vals * wt
    x0, y0 = np.floor(x), np.floor(y)
    we, wn = x - x0, y - y0             # distances to the west and north neighbours
    ww, ws = dt(1) - we, dt(1) - wn
    i0, j0 = y0.astype(np.int64), x0.astype(np.int64)
    v, wt = tap(i0, j0, ws * ww)
    out = v * wt
    for di, dj, weight in ((0, 1, ws * we), (1, 0, wn * ww), (1, 1, wn * we)):
        v, wt = tap(i0 + di, j0 + dj, weight)
        out = _fma(v, wt, out)
    return out


def _apply_grid_transform(img, gx, gy, mode, fill):
    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [ember.float32, ember.float64])
    if fill is not None:
        # sample a ones-channel along: it says how much of each output pixel came from the image
        mask = ember.ones(img.shape[:-3] + (1,) + img.shape[-2:], dtype=img.dtype, device=img.device)
        img = ember.cat((img, mask), dim=-3)
    img = _grid_sample(img, gx, gy, mode)
    if fill is not None:
        mask = img[..., -1:, :, :].expand(img.shape[:-3] + (img.shape[-3] - 1,) + img.shape[-2:])
        img = img[..., :-1, :, :]
        fill_list = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = ember.tensor(fill_list, dtype=img.dtype, device=img.device).view(-1, 1, 1).expand_as(img)
        if mode == "nearest":
            img = ember.where(mask < 0.5, fill_img, img)
        else:
            img = img * mask + (1.0 - mask) * fill_img
    return _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype)


def _float_np(img):
    return np.float64 if img.dtype == ember.float64 else np.float32


def _gen_affine_grid(theta, w, h, ow, oh, np_dtype):
    """Sampling grid of an affine map given in pixel units about the image center."""
    d = np_dtype(0.5)
    xs = np.linspace(-ow * 0.5 + d, ow * 0.5 + d - 1, ow, dtype=np_dtype)
    ys = np.linspace(-oh * 0.5 + d, oh * 0.5 + d - 1, oh, dtype=np_dtype)
    t = np.asarray(theta, dtype=np_dtype).reshape(2, 3) / np.array([[0.5 * w], [0.5 * h]], dtype=np_dtype)
    gx = xs[None, :] * t[0, 0] + ys[:, None] * t[0, 1] + t[0, 2]
    gy = xs[None, :] * t[1, 0] + ys[:, None] * t[1, 1] + t[1, 2]
    return gx, gy


def affine(img, matrix, interpolation="nearest", fill=None):
    _assert_grid_transform_inputs(img, matrix, interpolation, fill, ["nearest", "bilinear"])
    h, w = img.shape[-2:]
    gx, gy = _gen_affine_grid(matrix, w, h, w, h, _float_np(img))
    return _apply_grid_transform(img, gx, gy, interpolation, fill)


def _compute_affine_output_size(matrix, w, h):
    """Size (w, h) that holds the whole transformed image, as PIL's expand."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.array(matrix, dtype=np.float32).reshape(2, 3)
    new_pts = pts @ theta.T
    min_vals = new_pts.min(axis=0) + np.array((w * 0.5, h * 0.5), dtype=np.float32)
    max_vals = new_pts.max(axis=0) + np.array((w * 0.5, h * 0.5), dtype=np.float32)
    # truncate to 1e-4 so that 1e-15 noise does not round a side up
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(max_vals / tol) * tol)
    cmin = np.floor(np.trunc(min_vals / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate(img, matrix, interpolation="nearest", expand=False, fill=None):
    _assert_grid_transform_inputs(img, matrix, interpolation, fill, ["nearest", "bilinear"])
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _compute_affine_output_size(matrix, w, h) if expand else (w, h)
    gx, gy = _gen_affine_grid(matrix, w, h, ow, oh, _float_np(img))
    return _apply_grid_transform(img, gx, gy, interpolation, fill)


def perspective(img, perspective_coeffs, interpolation="bilinear", fill=None):
    if not isinstance(img, ember.Tensor):
        raise TypeError("Input img should be Tensor.")
    _assert_image_tensor(img)
    _assert_grid_transform_inputs(img, None, interpolation, fill, ["nearest", "bilinear"],
                                  coeffs=perspective_coeffs)
    oh, ow = img.shape[-2:]
    dt = _float_np(img)
    c = np.asarray(perspective_coeffs, dtype=dt)
    xs = np.linspace(0.5, ow + 0.5 - 1.0, ow, dtype=dt)[None, :]
    ys = np.linspace(0.5, oh + 0.5 - 1.0, oh, dtype=dt)[:, None]
    den = c[6] * xs + c[7] * ys + 1.0
    gx = (c[0] * xs + c[1] * ys + c[2]) / dt(0.5 * ow) / den - 1.0
    gy = (c[3] * xs + c[4] * ys + c[5]) / dt(0.5 * oh) / den - 1.0
    return _apply_grid_transform(img, gx, gy, interpolation, fill)


def _gaussian_kernel1d(kernel_size, sigma, np_dtype):
    half = (kernel_size - 1) * 0.5
    x = np.linspace(-half, half, kernel_size, dtype=np_dtype)
    pdf = np.exp(-0.5 * (x / np_dtype(sigma)) ** 2)
    return pdf / pdf.sum()


def _conv_separable(img, kx, ky):
    """Valid 2-D correlation with the outer product ``ky ⊗ kx``, one pass per axis."""
    h, w = img.shape[-2:]
    ox, oy = w - len(kx) + 1, h - len(ky) + 1
    out = sum(float(k) * img[..., :, i:i + ox] for i, k in enumerate(kx))
    return sum(float(k) * out[..., i:i + oy, :] for i, k in enumerate(ky))


def gaussian_blur(img, kernel_size, sigma):
    if not isinstance(img, ember.Tensor):
        raise TypeError(f"img should be Tensor. Got {type(img)}")
    _assert_image_tensor(img)
    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [ember.float32, ember.float64])
    dt = _float_np(img)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], dt)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], dt)
    img = pad(img, [kernel_size[0] // 2, kernel_size[1] // 2], padding_mode="reflect")
    img = _conv_separable(img, kx, ky)
    return _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype)


def invert(img):
    _assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])
    return _max_value(img.dtype) - img


def posterize(img, bits):
    _assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    if img.dtype != ember.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    _assert_channels(img, [1, 3])
    return img & -int(2 ** (8 - bits))


def solarize(img, threshold):
    _assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])
    if threshold > _max_value(img.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    return ember.where(img >= threshold, invert(img), img)


def _blurred_degenerate_image(img):
    """PIL's SMOOTH filter (3x3, center 5) on the interior; the border stays."""
    k = np.array([1.0, 1.0, 1.0])
    work, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [ember.float32, ember.float64])
    # the 3x3 kernel [[1,1,1],[1,5,1],[1,1,1]] / 13 = (box 3x3 + 4 * center) / 13
    box = _conv_separable(work, k, k)
    smooth = (box + 4.0 * work[..., 1:-1, 1:-1]) / 13.0
    smooth = _cast_squeeze_out(smooth, need_cast, need_squeeze, out_dtype)
    result = img.clone()
    result[..., 1:-1, 1:-1] = smooth
    return result


def adjust_sharpness(img, sharpness_factor):
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        return img
    return _blend(img, _blurred_degenerate_image(img), sharpness_factor)


def autocontrast(img):
    _assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])
    bound = _max_value(img.dtype)
    dtype = img.dtype if img.is_floating_point() else ember.float32
    minimum = img.amin(dim=(-2, -1), keepdim=True).to(dtype)
    maximum = img.amax(dim=(-2, -1), keepdim=True).to(dtype)
    flat = maximum == minimum
    scale = bound / ember.where(flat, ember.ones_like(maximum), maximum - minimum)
    minimum = ember.where(flat, ember.zeros_like(minimum), minimum)
    scale = ember.where(flat, ember.ones_like(scale), scale)
    return ((img - minimum) * scale).clamp(0, bound).to(img.dtype)


def _equalize_channel(chan):
    """PIL's equalize of one uint8 channel (NumPy array)."""
    hist = np.bincount(chan.reshape(-1), minlength=256)
    nonzero = hist[hist != 0]
    step = nonzero[:-1].sum() // 255
    if step == 0:
        return chan
    lut = (np.cumsum(hist) + step // 2) // step
    lut = np.clip(np.concatenate([[0], lut[:-1]]), 0, 255)
    return lut[chan].astype(np.uint8)


def equalize(img):
    _assert_image_tensor(img)
    if not (3 <= img.ndim <= 4):
        raise TypeError(f"Input image tensor should have 3 or 4 dimensions, but found {img.ndim}")
    if img.dtype != ember.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    _assert_channels(img, [1, 3])
    a = B.move_array(img._data, B.CPU)
    flat = a.reshape((-1,) + a.shape[-2:])
    out = np.stack([_equalize_channel(c) for c in flat]).reshape(a.shape)
    return ember.from_numpy(out).to(img.device)


def normalize(tensor, mean, std, inplace=False):
    _assert_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    if not inplace:
        tensor = tensor.clone()
    dtype = tensor.dtype
    mean = ember.as_tensor(mean, dtype=dtype, device=tensor.device)
    std = ember.as_tensor(std, dtype=dtype, device=tensor.device)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def erase(img, i, j, h, w, v, inplace=False):
    _assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img

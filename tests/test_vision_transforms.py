"""ember.vision.transforms: values against NumPy/Pillow computed by hand, shapes, dtypes,
ranges, reprs, errors, and seeded determinism of every random transform.
(The comparison with torchvision itself is in test_vision_torchvision.py.)"""

import random

import numpy as np
import pytest
from PIL import Image

import ember
import ember.vision as torchvision
from ember.vision import transforms as T
from ember.vision.transforms import functional as F

RNG = np.random.default_rng(7)
U8 = RNG.integers(0, 256, (3, 12, 17), dtype=np.uint8)  # CHW
F32 = RNG.random((3, 12, 17)).astype(np.float32)
PIL_RGB = Image.fromarray(U8.transpose(1, 2, 0))
PIL_L = Image.fromarray(U8[0])


def t(a):
    return ember.from_numpy(np.array(a))


def arr(x):
    if isinstance(x, Image.Image):
        a = np.asarray(x)
        return a.transpose(2, 0, 1) if a.ndim == 3 else a[None]
    return x.numpy()


# ------------------------------------------------------------------ conversions
def test_to_tensor_pil_and_ndarray():
    x = T.ToTensor()(PIL_RGB)
    assert x.dtype == ember.float32 and tuple(x.shape) == (3, 12, 17)
    np.testing.assert_allclose(x.numpy(), U8 / 255.0, rtol=0, atol=1e-7)
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    g = T.ToTensor()(PIL_L)
    assert tuple(g.shape) == (1, 12, 17)
    # HWC ndarray: uint8 scaled, other dtypes kept as they are
    h = T.ToTensor()(U8.transpose(1, 2, 0))
    np.testing.assert_allclose(h.numpy(), U8 / 255.0, atol=1e-7)
    d = T.ToTensor()(np.arange(6, dtype=np.float64).reshape(2, 3))
    assert d.dtype == ember.float64 and tuple(d.shape) == (1, 2, 3) and float(d.max()) == 5.0
    # mode "1" is 0/1, mode "I" keeps int32
    b = T.ToTensor()(PIL_L.convert("1"))
    assert set(np.unique(b.numpy())) <= {0.0, 1.0}
    i = T.ToTensor()(PIL_L.convert("I"))
    assert i.dtype == ember.int32 and int(i.max()) == int(U8[0].max())


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor([1, 2])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        F.to_tensor(np.zeros((1, 2, 3, 4), np.uint8))


def test_pil_to_tensor_and_back():
    x = T.PILToTensor()(PIL_RGB)
    assert x.dtype == ember.uint8 and tuple(x.shape) == (3, 12, 17)
    np.testing.assert_array_equal(x.numpy(), U8)
    back = T.ToPILImage()(x)
    assert back.mode == "RGB" and np.array_equal(np.asarray(back), np.asarray(PIL_RGB))
    # floats are taken as [0, 1] and truncated after * 255
    f = T.ToPILImage()(t(F32))
    np.testing.assert_array_equal(np.asarray(f), (F32.transpose(1, 2, 0) * 255).astype(np.uint8))
    assert T.ToPILImage()(t(F32[:1])).mode == "L"
    assert T.ToPILImage()(t(U8[:2])).mode == "LA"
    assert T.ToPILImage(mode="F")(t(F32[:1])).mode == "F"
    assert F.to_pil_image(t(U8[:1].astype(np.int16))).mode == "I;16"
    with pytest.raises(ValueError, match="Incorrect mode"):
        F.to_pil_image(t(U8[:1]), mode="F")
    with pytest.raises(ValueError, match="> 4 channels"):
        F.to_pil_image(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        F.to_pil_image([1])


def test_convert_image_dtype():
    x = t(U8)
    f = T.ConvertImageDtype(ember.float32)(x)
    assert f.dtype == ember.float32
    np.testing.assert_allclose(f.numpy(), U8 / 255.0, atol=1e-7)
    back = F.convert_image_dtype(t(F32), ember.uint8)
    np.testing.assert_array_equal(back.numpy(), (F32 * (256 - 1e-3)).astype(np.uint8))
    np.testing.assert_array_equal(F.convert_image_dtype(x, ember.int32).numpy(), U8.astype(np.int64) << 23)
    np.testing.assert_array_equal(
        F.convert_image_dtype(t(U8.astype(np.int16) * 128), ember.uint8).numpy(),
        (U8.astype(np.int16) * 128) >> 7,
    )
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(t(F32), ember.int32)


# ------------------------------------------------------------------ normalize
def test_normalize_values_and_inplace():
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    x = t(F32)
    y = T.Normalize(mean, std)(x)
    expect = (F32 - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(y.numpy(), expect, rtol=1e-6)
    np.testing.assert_array_equal(x.numpy(), F32)  # not in place by default
    z = T.Normalize(mean, std, inplace=True)(x)
    assert z is x
    np.testing.assert_allclose(x.numpy(), expect, rtol=1e-6)
    # batches (N, C, H, W) normalize per channel too
    b = F.normalize(t(np.stack([F32, F32])), mean, std)
    np.testing.assert_allclose(b.numpy()[1], expect, rtol=1e-6)


def test_normalize_errors():
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(t(F32), [0.5] * 3, [0.5, 0.0, 0.5])
    with pytest.raises(TypeError, match="should be a float tensor"):
        F.normalize(t(U8), [0.5], [0.5])
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        F.normalize(t(F32[0]), [0.5], [0.5])
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.normalize(PIL_RGB, [0.5], [0.5])


def test_normalize_autograd():
    x = ember.tensor(F32, requires_grad=True)
    F.normalize(x, [0.0] * 3, [0.5, 2.0, 4.0]).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[:, 0, 0], [2.0, 0.5, 0.25])


# ------------------------------------------------------------------ resize & crops
def test_resize_pil_matches_pillow():
    out = T.Resize((7, 9))(PIL_RGB)
    assert out.size == (9, 7)
    assert np.array_equal(np.asarray(out), np.asarray(PIL_RGB.resize((9, 7), Image.Resampling.BILINEAR)))
    out = T.Resize(6, interpolation=T.InterpolationMode.NEAREST)(PIL_RGB)  # smaller edge (h=12) -> 6
    assert out.size == (8, 6)
    assert np.array_equal(np.asarray(out), np.asarray(PIL_RGB.resize((8, 6), Image.Resampling.NEAREST)))
    assert T.Resize(6, max_size=7)(PIL_RGB).size == (7, 5)  # 6x8 would exceed 7: 5x7
    assert T.Resize(12)(PIL_RGB) is PIL_RGB  # already that size


def test_resize_tensor_antialias_matches_pillow_float():
    """Antialiased tensor resize is PIL's filter: compare with Pillow on a mode-F image."""
    for size, mode, pil_mode in [
        ((5, 6), "BILINEAR", Image.Resampling.BILINEAR),
        ((5, 6), "BICUBIC", Image.Resampling.BICUBIC),
        ((20, 31), "BILINEAR", Image.Resampling.BILINEAR),
    ]:
        out = F.resize(t(F32[:1]), list(size), getattr(T.InterpolationMode, mode), antialias=True)
        ref = np.asarray(Image.fromarray(F32[0], mode="F").resize(size[::-1], pil_mode))
        np.testing.assert_allclose(out.numpy()[0], ref, atol=2e-5)


def test_resize_tensor_by_hand():
    x = t(np.array([[[0.0, 1.0]]], np.float32))
    np.testing.assert_allclose(F.resize(x, [1, 4], antialias=False).numpy()[0, 0], [0, 0.25, 0.75, 1])
    y = t(np.arange(4, dtype=np.float32).reshape(1, 1, 4))
    np.testing.assert_allclose(
        F.resize(y, [1, 2], antialias=True).numpy()[0, 0], [1.25 / 1.75, 4 / 1.75], rtol=1e-6
    )
    np.testing.assert_allclose(F.resize(y, [1, 2], antialias=False).numpy()[0, 0], [0.5, 2.5])
    n = F.resize(t(U8), [5, 8], T.InterpolationMode.NEAREST)
    rows, cols = np.floor(np.arange(5) * 12 / 5).astype(int), np.floor(np.arange(8) * 17 / 8).astype(int)
    np.testing.assert_array_equal(n.numpy(), U8[:, rows][:, :, cols])
    u = F.resize(t(U8), [24, 34])
    assert u.dtype == ember.uint8 and tuple(u.shape) == (3, 24, 34)
    # batches keep their leading dimensions
    assert tuple(F.resize(t(np.stack([F32] * 2)), [6, 6]).shape) == (2, 3, 6, 6)


def test_resize_autograd():
    x = ember.tensor(F32[:1], requires_grad=True)
    F.resize(x, [4, 5]).sum().backward()
    assert tuple(x.grad.shape) == (1, 12, 17)
    np.testing.assert_allclose(float(x.grad.sum()), 20.0, rtol=1e-5)  # each output row of weights sums to 1


def test_resize_errors():
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize([1, 2, 3])
    with pytest.raises(ValueError, match="max_size should only be passed"):
        F.resize(t(F32), [4, 4], max_size=10)
    with pytest.raises(ValueError, match="must be strictly greater"):
        F.resize(t(F32), 10, max_size=10)
    with pytest.raises(ValueError, match="unsupported with Tensor input"):
        F.resize(t(F32), [4, 4], T.InterpolationMode.LANCZOS)


def test_crops():
    x = t(U8)
    np.testing.assert_array_equal(F.crop(x, 2, 3, 5, 6).numpy(), U8[:, 2:7, 3:9])
    # outside the image is zero-padded
    c = F.crop(x, -2, 14, 4, 5).numpy()
    assert c.shape == (3, 4, 5) and (c[:, :2] == 0).all() and (c[:, :, 3:] == 0).all()
    np.testing.assert_array_equal(c[:, 2:, :3], U8[:, :2, 14:])
    cc = T.CenterCrop((4, 5))(x).numpy()
    np.testing.assert_array_equal(cc, U8[:, 4:8, 6:11])
    big = T.CenterCrop(20)(x)
    assert tuple(big.shape) == (3, 20, 20) and int(big.numpy()[:, :4].max()) == 0
    p = T.CenterCrop((4, 5))(PIL_RGB)
    np.testing.assert_array_equal(arr(p), U8[:, 4:8, 6:11])


def test_five_and_ten_crop():
    tl, tr, bl, br, center = T.FiveCrop(4)(t(U8))
    np.testing.assert_array_equal(tl.numpy(), U8[:, :4, :4])
    np.testing.assert_array_equal(tr.numpy(), U8[:, :4, -4:])
    np.testing.assert_array_equal(bl.numpy(), U8[:, -4:, :4])
    np.testing.assert_array_equal(br.numpy(), U8[:, -4:, -4:])
    np.testing.assert_array_equal(center.numpy(), U8[:, 4:8, 6:10])
    ten = T.TenCrop((4, 5), vertical_flip=True)(PIL_RGB)
    assert len(ten) == 10 and all(im.size == (5, 4) for im in ten)
    np.testing.assert_array_equal(arr(ten[5]), U8[:, ::-1][:, :4, :5])
    with pytest.raises(ValueError, match="bigger than input size"):
        F.five_crop(t(U8), 13)


def test_pad_modes_match_numpy():
    x = t(U8)
    for padding, mode, np_mode in [
        (2, "constant", "constant"),
        ([1, 3], "edge", "edge"),
        ([1, 2, 3, 4], "reflect", "reflect"),
        ([3, 1, 2, 5], "symmetric", "symmetric"),
    ]:
        p = padding if isinstance(padding, list) else [padding]
        left, top, right, bottom = (p * 4)[:4] if len(p) == 1 else (p * 2 if len(p) == 2 else p)
        widths = ((0, 0), (top, bottom), (left, right))
        kw = {"constant_values": 9} if np_mode == "constant" else {}
        expect = np.pad(U8, widths, np_mode, **kw)
        np.testing.assert_array_equal(T.Pad(padding, fill=9, padding_mode=mode)(x).numpy(), expect)
        np.testing.assert_array_equal(arr(T.Pad(padding, fill=9, padding_mode=mode)(PIL_RGB)), expect)
    # negative padding crops
    np.testing.assert_array_equal(
        F.pad(x, [-1, 2, -3, 0], padding_mode="edge").numpy(),
        np.pad(U8[:, :, 1:-3], ((0, 0), (2, 0), (0, 0)), "edge"),
    )
    with pytest.raises(ValueError, match="Padding mode should be"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple"):
        T.Pad([1, 2, 3])


def test_flips():
    x = t(U8)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), U8[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x).numpy(), U8[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(x) is x
    np.testing.assert_array_equal(arr(T.RandomHorizontalFlip(p=1.0)(PIL_RGB)), U8[:, :, ::-1])
    np.testing.assert_array_equal(arr(T.RandomVerticalFlip(p=1.0)(PIL_RGB)), U8[:, ::-1])


# ------------------------------------------------------------------ geometry
SQ = RNG.integers(0, 256, (3, 9, 9), dtype=np.uint8)


@pytest.mark.parametrize("interp", ["NEAREST", "BILINEAR"])
def test_rotate_quarter_turns_are_rot90(interp):
    mode = getattr(T.InterpolationMode, interp)
    for k in (1, 2, 3):
        out = F.rotate(t(SQ), 90.0 * k, mode)
        np.testing.assert_array_equal(out.numpy(), np.rot90(SQ, k, axes=(1, 2)))
        pil = F.rotate(Image.fromarray(SQ.transpose(1, 2, 0)), 90.0 * k, mode)
        np.testing.assert_array_equal(arr(pil), np.rot90(SQ, k, axes=(1, 2)))
    rr = T.RandomRotation((90, 90))(t(SQ))
    np.testing.assert_array_equal(rr.numpy(), np.rot90(SQ, 1, axes=(1, 2)))


def test_rotate_expand_and_fill():
    x = t(np.ones((1, 4, 8), np.float32))
    out = F.rotate(x, 90, expand=True)
    assert tuple(out.shape) == (1, 8, 4)
    filled = F.rotate(x, 45, fill=[0.5])
    corner = filled.numpy()[0, 0, 0]
    assert corner == 0.5 and filled.numpy()[0, 2, 4] == 1.0
    pil = F.rotate(Image.new("L", (8, 4), 255), 45, expand=True, fill=7)
    assert pil.size[0] > 8 and np.asarray(pil)[0, 0] == 7


def test_affine_translate_is_a_shift():
    out = F.affine(t(U8), angle=0.0, translate=[2, 1], scale=1.0, shear=[0.0, 0.0])
    expect = np.zeros_like(U8)
    expect[:, 1:, 2:] = U8[:, :-1, :-2]
    np.testing.assert_array_equal(out.numpy(), expect)
    pil = F.affine(PIL_RGB, angle=0.0, translate=[2, 1], scale=1.0, shear=0.0)
    np.testing.assert_array_equal(arr(pil), expect)
    ident = T.RandomAffine(0)(t(U8))
    np.testing.assert_array_equal(ident.numpy(), U8)
    with pytest.raises(ValueError, match="scale should be positive"):
        F.affine(t(U8), 0.0, [0, 0], 0.0, 0.0)
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.5, 2))


def test_perspective_identity():
    pts = [[0, 0], [16, 0], [16, 11], [0, 11]]
    out = F.perspective(t(F32), pts, pts)
    np.testing.assert_allclose(out.numpy(), F32, atol=1e-5)


# ------------------------------------------------------------------ color
def test_grayscale():
    x = t(F32)
    g = T.Grayscale()(x).numpy()
    np.testing.assert_allclose(g[0], 0.2989 * F32[0] + 0.587 * F32[1] + 0.114 * F32[2], rtol=1e-6)
    g3 = T.Grayscale(num_output_channels=3)(x)
    assert tuple(g3.shape) == (3, 12, 17)
    p = T.Grayscale()(PIL_RGB)
    assert p.mode == "L" and np.array_equal(np.asarray(p), np.asarray(PIL_RGB.convert("L")))
    assert T.Grayscale(3)(PIL_RGB).mode == "RGB"
    assert T.RandomGrayscale(p=1.0)(PIL_RGB).mode == "RGB"  # keeps the number of channels
    np.testing.assert_allclose(T.RandomGrayscale(p=1.0)(x).numpy()[1], g[0], rtol=1e-6)


def test_adjustments_by_hand():
    x = t(F32)
    np.testing.assert_allclose(F.adjust_brightness(x, 1.5).numpy(), np.clip(F32 * 1.5, 0, 1), rtol=1e-6)
    gray_mean = (0.2989 * F32[0] + 0.587 * F32[1] + 0.114 * F32[2]).mean()
    np.testing.assert_allclose(
        F.adjust_contrast(x, 0.5).numpy(), np.clip(0.5 * F32 + 0.5 * gray_mean, 0, 1), rtol=1e-5
    )
    gray = 0.2989 * F32[0] + 0.587 * F32[1] + 0.114 * F32[2]
    np.testing.assert_allclose(
        F.adjust_saturation(x, 0.0).numpy(), np.broadcast_to(gray, F32.shape), rtol=1e-5
    )
    np.testing.assert_allclose(F.adjust_hue(x, 0.0).numpy(), F32, atol=1e-6)
    # hue by a third of a turn maps pure red to pure green
    red = t(np.array([1.0, 0.0, 0.0], np.float32).reshape(3, 1, 1))
    np.testing.assert_allclose(F.adjust_hue(red, 1 / 3).numpy().ravel(), [0, 1, 0], atol=1e-5)
    np.testing.assert_allclose(F.adjust_gamma(x, 2.0).numpy(), F32**2, rtol=1e-5)
    # PIL images go through ImageEnhance
    from PIL import ImageEnhance

    np.testing.assert_array_equal(
        np.asarray(F.adjust_brightness(PIL_RGB, 0.7)),
        np.asarray(ImageEnhance.Brightness(PIL_RGB).enhance(0.7)),
    )
    with pytest.raises(ValueError, match="is not in"):
        F.adjust_hue(x, 0.7)
    with pytest.raises(ValueError, match="non-negative"):
        F.adjust_brightness(x, -1)


def test_color_jitter_identity_and_checks():
    cj = T.ColorJitter()
    assert cj.brightness is None and cj.hue is None
    np.testing.assert_array_equal(cj(t(F32)).numpy(), F32)
    assert T.ColorJitter(brightness=0.5).brightness == (0.5, 1.5)
    assert T.ColorJitter(hue=0.2).hue == (-0.2, 0.2)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(TypeError, match="should be a single number or a list/tuple with length 2"):
        T.ColorJitter(brightness=[1, 2, 3])


def _blur_by_hand(img, k, sigma):
    x = np.linspace(-(k - 1) / 2, (k - 1) / 2, k)
    w = np.exp(-0.5 * (x / sigma) ** 2)
    w /= w.sum()
    p = np.pad(img.astype(np.float64), ((0, 0), (k // 2, k // 2), (k // 2, k // 2)), "reflect")
    h = sum(w[i] * p[:, :, i : i + img.shape[2]] for i in range(k))
    return sum(w[i] * h[:, i : i + img.shape[1]] for i in range(k))


def test_gaussian_blur_by_hand():
    out = F.gaussian_blur(t(F32), 5, 1.2)
    np.testing.assert_allclose(out.numpy(), _blur_by_hand(F32, 5, 1.2), atol=1e-6)
    u = F.gaussian_blur(t(U8), [3, 3], [0.8, 0.8])
    np.testing.assert_array_equal(u.numpy(), np.round(_blur_by_hand(U8, 3, 0.8)).astype(np.uint8))
    p = F.gaussian_blur(PIL_RGB, 3, 0.8)
    np.testing.assert_array_equal(arr(p), u.numpy())
    with pytest.raises(ValueError, match="odd and positive"):
        F.gaussian_blur(t(F32), 4)
    with pytest.raises(ValueError, match="sigma values should be positive"):
        T.GaussianBlur(3, sigma=(2.0, 1.0))


def test_erase_and_random_erasing():
    x = t(F32)
    e = F.erase(x, 1, 2, 3, 4, ember.tensor(0.0))
    assert (e.numpy()[:, 1:4, 2:6] == 0).all()
    np.testing.assert_array_equal(x.numpy(), F32)  # copy by default
    ember.manual_seed(0)
    out = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))(x).numpy()
    changed = (out != F32).any(axis=0)
    assert changed.any() and np.allclose(out[0][changed], 0.1)
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1.0, 2.0))(x)


def test_point_ops():
    x = t(U8)
    np.testing.assert_array_equal(F.invert(x).numpy(), 255 - U8)
    np.testing.assert_array_equal(F.posterize(x, 3).numpy(), U8 & 0b11100000)
    np.testing.assert_array_equal(F.solarize(x, 128).numpy(), np.where(U8 >= 128, 255 - U8, U8))
    ac = F.autocontrast(x).numpy()
    assert (
        ac.reshape(3, -1).min(axis=1).tolist() == [0, 0, 0]
        and ac.reshape(3, -1).max(axis=1).tolist() == [255] * 3
    )
    from PIL import ImageOps

    np.testing.assert_array_equal(F.equalize(x).numpy(), arr(ImageOps.equalize(PIL_RGB)))
    np.testing.assert_array_equal(arr(T.RandomInvert(p=1.0)(PIL_RGB)), 255 - U8)


# ------------------------------------------------------------------ containers
def test_compose_lambda_apply_choice_order():
    add1 = T.Lambda(lambda v: v + 1)
    times2 = T.Lambda(lambda v: v * 2)
    assert T.Compose([add1, times2])(1) == 4
    assert T.RandomApply([add1], p=1.0)(1) == 2 and T.RandomApply([add1], p=0.0)(1) == 1
    random.seed(3)
    picks = {T.RandomChoice([add1, times2])(5) for _ in range(30)}
    assert picks == {6, 10}
    assert T.RandomChoice([add1, times2], p=[0.0, 1.0])(5) == 10
    random.seed(0)
    orders = {T.RandomOrder([add1, times2])(1) for _ in range(30)}
    assert orders == {3, 4}
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    with pytest.raises(TypeError, match="should be a sequence"):
        T.RandomChoice(add1)


def test_reprs():
    assert (
        repr(T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]))
        == "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"
    )
    assert repr(T.Resize(256)) == "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert (
        repr(T.RandomResizedCrop(224))
        == "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear, antialias=True)"
    )
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert (
        repr(T.RandomRotation(30))
        == "RandomRotation(degrees=[-30.0, 30.0], interpolation=nearest, expand=False, fill=0)"
    )
    assert (
        repr(T.RandomAffine(10, translate=(0.1, 0.1)))
        == "RandomAffine(degrees=[-10.0, 10.0], translate=(0.1, 0.1))"
    )
    assert (
        repr(T.ColorJitter(0.2, 0.3))
        == "ColorJitter(brightness=(0.8, 1.2), contrast=(0.7, 1.3), saturation=None, hue=None)"
    )
    assert repr(T.Grayscale()) == "Grayscale(num_output_channels=1)"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.GaussianBlur(3)) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0))"
    assert (
        repr(T.RandomErasing())
        == "RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False)"
    )
    assert repr(T.RandomApply([T.ToTensor()], p=0.3)) == "RandomApply(\n    p=0.3\n    ToTensor()\n)"
    assert repr(T.RandomChoice([T.ToTensor()])) == "RandomChoice(\n    ToTensor()\n)(p=None)"
    assert repr(T.ToPILImage()) == "ToPILImage()"
    assert repr(T.Lambda(abs)) == "Lambda()"
    assert repr(T.TenCrop(4)) == "TenCrop(size=(4, 4), vertical_flip=False)"
    assert repr(T.RandomPosterize(4)) == "RandomPosterize(bits=4,p=0.5)"


# ------------------------------------------------------------------ every random transform
RANDOM_CASES = [
    ("RandomCrop", lambda: T.RandomCrop(8, padding=2), "both"),
    (
        "RandomCrop-pad_if_needed",
        lambda: T.RandomCrop((14, 20), pad_if_needed=True, padding_mode="reflect"),
        "both",
    ),
    ("RandomResizedCrop", lambda: T.RandomResizedCrop(10), "both"),
    ("RandomHorizontalFlip", lambda: T.RandomHorizontalFlip(), "both"),
    ("RandomVerticalFlip", lambda: T.RandomVerticalFlip(), "both"),
    ("RandomRotation", lambda: T.RandomRotation(40, fill=1), "both"),
    (
        "RandomRotation-bilinear-expand",
        lambda: T.RandomRotation(40, T.InterpolationMode.BILINEAR, expand=True),
        "both",
    ),
    (
        "RandomAffine",
        lambda: T.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-5, 5, -5, 5)),
        "both",
    ),
    ("RandomPerspective", lambda: T.RandomPerspective(p=1.0), "both"),
    ("ColorJitter", lambda: T.ColorJitter(0.4, 0.4, 0.4, 0.1), "both"),
    ("RandomGrayscale", lambda: T.RandomGrayscale(p=0.5), "both"),
    ("GaussianBlur", lambda: T.GaussianBlur(5), "both"),
    ("RandomErasing", lambda: T.RandomErasing(p=1.0, value="random"), "tensor"),
    ("RandomApply", lambda: T.RandomApply([T.ColorJitter(0.5)], p=0.5), "both"),
    ("RandomInvert", lambda: T.RandomInvert(), "both"),
    ("RandomPosterize", lambda: T.RandomPosterize(2), "uint8"),
    ("RandomSolarize", lambda: T.RandomSolarize(100), "uint8"),
    ("RandomAdjustSharpness", lambda: T.RandomAdjustSharpness(2.0), "both"),
    ("RandomAutocontrast", lambda: T.RandomAutocontrast(), "both"),
    ("RandomEqualize", lambda: T.RandomEqualize(), "uint8"),
]


def _inputs(kind):
    if kind == "tensor":
        return [t(F32)]
    if kind == "uint8":
        # low contrast and more pixels than gray levels, so that equalize changes it
        low = np.random.default_rng(1).integers(50, 110, (3, 30, 40), dtype=np.uint8)
        return [t(low), Image.fromarray(low.transpose(1, 2, 0))]
    return [t(F32), t(U8), PIL_RGB]


@pytest.mark.parametrize("name,make,kind", RANDOM_CASES, ids=[c[0] for c in RANDOM_CASES])
def test_random_transform_seeded_shape_dtype_range(name, make, kind):
    tr = make()
    for img in _inputs(kind):
        outs = []
        for seed in (0, 0, 1, 2, 3, 4):
            ember.manual_seed(seed)
            outs.append(tr(img))
        first = outs[0]
        # the same seed gives the same output
        np.testing.assert_array_equal(arr(first), arr(outs[1]))
        # some other seed gives a different one
        assert any(
            arr(o).shape != arr(first).shape or not np.array_equal(arr(o), arr(first)) for o in outs[2:]
        )
        if isinstance(img, Image.Image):
            assert isinstance(first, Image.Image) and first.mode == img.mode
        else:
            assert first.dtype == img.dtype and first.ndim == 3 and first.shape[0] == 3
            if img.dtype == ember.float32 and name != "RandomErasing":
                assert float(first.min()) >= -1e-6 and float(first.max()) <= 1 + 1e-6


def test_random_transforms_on_batches():
    batch = t(np.stack([F32, F32]))
    for tr in (
        T.RandomRotation(30),
        T.RandomAffine(10, translate=(0.1, 0.1)),
        T.RandomResizedCrop(8),
        T.ColorJitter(0.3, 0.3, 0.3, 0.05),
        T.GaussianBlur(3),
        T.RandomErasing(p=1.0),
    ):
        ember.manual_seed(1)
        out = tr(batch)
        assert out.shape[:2] == (2, 3)
        # one draw of the parameters serves the whole batch
        np.testing.assert_allclose(out.numpy()[0], out.numpy()[1], atol=1e-6)


def test_random_resized_crop_full_square_is_a_resize():
    sq = t(F32[:, :12, :12])
    out = T.RandomResizedCrop(6, scale=(1.0, 1.0), ratio=(1.0, 1.0))(sq)
    np.testing.assert_allclose(out.numpy(), F.resize(sq, [6, 6]).numpy(), atol=1e-6)


def test_random_crop_params_and_errors():
    ember.manual_seed(0)
    i, j, h, w = T.RandomCrop.get_params(t(F32), (5, 6))
    assert 0 <= i <= 7 and 0 <= j <= 11 and (h, w) == (5, 6)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(20)(t(F32))


def test_transforms_compose_with_nn_sequential():
    seq = ember.nn.Sequential(T.CenterCrop(8), T.Normalize((0.5,) * 3, (0.5,) * 3))
    out = seq(t(F32))
    np.testing.assert_allclose(out.numpy(), (F32[:, 2:10, 4:12] - 0.5) / 0.5, rtol=1e-6)


def test_torchvision_alias():
    assert torchvision.transforms.ToTensor is T.ToTensor
    assert torchvision.get_image_backend() == "PIL"
    from ember.vision.transforms import InterpolationMode

    assert InterpolationMode.BILINEAR.value == "bilinear"


# ------------------------------------------------------------------ every deterministic transform
DETERMINISTIC_CASES = [
    ("ToTensor", lambda: T.ToTensor(), "pil", ember.float32, (3, 12, 17), (0, 1)),
    ("PILToTensor", lambda: T.PILToTensor(), "pil", ember.uint8, (3, 12, 17), (0, 255)),
    (
        "ConvertImageDtype",
        lambda: T.ConvertImageDtype(ember.float64),
        "uint8",
        ember.float64,
        (3, 12, 17),
        (0, 1),
    ),
    ("Normalize", lambda: T.Normalize((0.5,) * 3, (0.25,) * 3), "float", ember.float32, (3, 12, 17), (-2, 2)),
    ("Resize", lambda: T.Resize((6, 8)), "both", None, (3, 6, 8), None),
    ("CenterCrop", lambda: T.CenterCrop(5), "both", None, (3, 5, 5), None),
    ("Pad", lambda: T.Pad((1, 2), padding_mode="reflect"), "both", None, (3, 16, 19), None),
    ("Grayscale", lambda: T.Grayscale(3), "both", None, (3, 12, 17), None),
    ("GaussianBlur-fixed", lambda: T.GaussianBlur(3, sigma=1.0), "both", None, (3, 12, 17), None),
    ("Lambda", lambda: T.Lambda(F.hflip), "both", None, (3, 12, 17), None),
    ("Compose", lambda: T.Compose([T.CenterCrop(8), T.Resize(4)]), "both", None, (3, 4, 4), None),
]


@pytest.mark.parametrize(
    "name,make,kind,dtype,shape,value_range", DETERMINISTIC_CASES, ids=[c[0] for c in DETERMINISTIC_CASES]
)
def test_deterministic_transform_shape_dtype_range(name, make, kind, dtype, shape, value_range):
    tr = make()
    inputs = {"pil": [PIL_RGB], "uint8": [t(U8)], "float": [t(F32)], "both": [t(F32), t(U8), PIL_RGB]}[kind]
    for img in inputs:
        a, b = tr(img), tr(img)
        np.testing.assert_array_equal(arr(a), arr(b))
        if isinstance(a, Image.Image):
            assert a.mode == img.mode and arr(a).shape == shape
            continue
        assert tuple(a.shape) == shape
        assert a.dtype == (dtype or img.dtype)
        lo, hi = value_range or ((0, 1) if a.is_floating_point() else (0, 255))
        assert lo - 1e-6 <= float(a.min()) and float(a.max()) <= hi + 1e-6


def test_linear_transformation_whitening():
    x = t(F32[:, :2, :2])
    n = 3 * 2 * 2
    mean = ember.from_numpy(F32[:, :2, :2].reshape(-1).copy())
    out = T.LinearTransformation(ember.eye(n), mean)(x)
    np.testing.assert_allclose(out.numpy(), 0.0, atol=1e-7)
    m = ember.from_numpy(np.random.default_rng(0).random((n, n)).astype(np.float32))
    out = T.LinearTransformation(m, ember.zeros(n))(x)
    np.testing.assert_allclose(out.numpy().reshape(-1), F32[:, :2, :2].reshape(-1) @ m.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="should be square"):
        T.LinearTransformation(ember.zeros(2, 3), ember.zeros(2))
    with pytest.raises(ValueError, match="incompatible shape"):
        T.LinearTransformation(ember.eye(4), ember.zeros(4))(x)


def test_seed_numpy_image_pipelines():
    """Seed 000's pipelines on a (100, 100, 3) uint8 NumPy image: ToPILImage -> ToTensor,
    with flips and RandomRotation, and with Normalize([mean], [std]) from NumPy statistics."""
    img = np.random.default_rng(0).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    basic = T.Compose([T.ToPILImage(), T.ToTensor()])
    x = basic(img)
    assert tuple(x.shape) == (3, 100, 100) and x.dtype == ember.float32
    np.testing.assert_allclose(x.numpy(), img.transpose(2, 0, 1) / 255.0, atol=1e-7)
    ember.manual_seed(0)
    aug = T.Compose([T.ToPILImage(), T.RandomHorizontalFlip(), T.RandomRotation(15), T.ToTensor()])
    y = aug(img)
    assert tuple(y.shape) == (3, 100, 100) and 0 <= float(y.min()) and float(y.max()) <= 1
    mean, std = np.mean(img / 255.0), np.std(img / 255.0)
    norm = T.Compose([T.ToPILImage(), T.ToTensor(), T.Normalize([mean], [std], inplace=False)])
    z = norm(img)
    assert abs(float(z.mean())) < 1e-4 and abs(float(z.std()) - 1) < 1e-3

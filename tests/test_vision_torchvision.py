"""ember.vision against torchvision itself (torch 2.14.1 + torchvision 0.29.1), where it is
importable; skipped otherwise. Run it in an environment holding both, e.g.
``/work/venv-tv/bin/python -m pytest tests/test_vision_torchvision.py``."""

import io
import os
import shutil

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
import torchvision.transforms as TVT  # noqa: E402
import torchvision.transforms.functional as TVF  # noqa: E402

import ember  # noqa: E402
import ember.vision as ev  # noqa: E402
from ember.vision import transforms as T  # noqa: E402
from ember.vision.transforms import functional as F  # noqa: E402

pytestmark = pytest.mark.torchvision

RNG = np.random.default_rng(0)
U8 = RNG.integers(0, 256, (3, 19, 26), dtype=np.uint8)
F32 = RNG.random((3, 19, 26)).astype(np.float32)
PIL = Image.fromarray(U8.transpose(1, 2, 0))
I = F.InterpolationMode
TI = TVF.InterpolationMode


def both(kind):
    """The same image for ember and torchvision."""
    if kind == "pil":
        return PIL, PIL
    a = U8 if kind == "u8" else F32
    return ember.from_numpy(a.copy()), torch.from_numpy(a.copy())


def as_np(x):
    if isinstance(x, Image.Image):
        return np.asarray(x).astype(np.float64)
    if isinstance(x, (tuple, list)):
        return np.stack([as_np(v) for v in x])
    return np.asarray(x.numpy()).astype(np.float64)


def check(fe, ft, kinds=("u8", "f32", "pil"), atol_f=2e-6, u8_mismatch=0):
    for kind in kinds:
        e_in, t_in = both(kind)
        e, t = fe(e_in), ft(t_in)
        if kind != "pil" and not isinstance(e, tuple):
            assert str(e.dtype) == str(t.dtype)
        if kind == "pil" and not isinstance(e, tuple):
            assert e.mode == t.mode and e.size == t.size
        a, b = as_np(e), as_np(t)
        assert a.shape == b.shape, kind
        d = np.abs(a - b)
        if kind == "f32":
            assert d.max() <= atol_f, (kind, d.max())
        else:
            # integers: exact, except where float rounding lands on .5 differently
            assert d.max() <= (1 if u8_mismatch else 0) and (d > 0).sum() <= u8_mismatch, (
                kind,
                d.max(),
                (d > 0).sum(),
            )


@pytest.mark.parametrize("interp", ["NEAREST", "BILINEAR"])
@pytest.mark.parametrize("angle", [30, 90, -45.5, 180])
@pytest.mark.parametrize("expand", [False, True])
def test_rotate(interp, angle, expand):
    check(
        lambda x: F.rotate(x, angle, getattr(I, interp), expand),
        lambda x: TVF.rotate(x, angle, getattr(TI, interp), expand),
    )
    fill = [1.0, 0.5, 0.0]
    check(
        lambda x: F.rotate(x, angle, getattr(I, interp), expand, fill=fill),
        lambda x: TVF.rotate(x, angle, getattr(TI, interp), expand, fill=fill),
        kinds=("u8", "f32"),
    )


def test_rotate_center_affine_perspective():
    check(lambda x: F.rotate(x, 33, center=[3, 5]), lambda x: TVF.rotate(x, 33, center=[3, 5]))
    for interp in ("NEAREST", "BILINEAR"):
        check(
            lambda x: F.affine(x, 20, [3, -2], 1.2, [10, 5], getattr(I, interp)),
            lambda x: TVF.affine(x, 20, [3, -2], 1.2, [10, 5], getattr(TI, interp)),
        )
    sp, ep = [[0, 0], [25, 0], [25, 18], [0, 18]], [[2, 1], [22, 3], [24, 16], [1, 17]]
    check(
        lambda x: F.perspective(x, sp, ep), lambda x: TVF.perspective(x, sp, ep), atol_f=1e-5, u8_mismatch=3
    )


@pytest.mark.parametrize("size", [10, [12, 9], [40, 50], [19, 52]])
@pytest.mark.parametrize("interp", ["NEAREST", "NEAREST_EXACT", "BILINEAR", "BICUBIC"])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize(size, interp, antialias):
    kinds = ("u8", "f32") if interp == "NEAREST_EXACT" or not antialias else ("u8", "f32", "pil")
    check(
        lambda x: F.resize(x, size, getattr(I, interp), antialias=antialias),
        lambda x: TVF.resize(x, size, getattr(TI, interp), antialias=antialias),
        kinds=kinds,
        u8_mismatch=3,
    )


def test_resize_max_size_and_crops():
    check(lambda x: F.resize(x, 10, max_size=12), lambda x: TVF.resize(x, 10, max_size=12))
    check(lambda x: F.crop(x, 2, 3, 10, 12), lambda x: TVF.crop(x, 2, 3, 10, 12))
    check(lambda x: F.crop(x, -2, 20, 10, 12), lambda x: TVF.crop(x, -2, 20, 10, 12))
    check(lambda x: F.center_crop(x, [7, 30]), lambda x: TVF.center_crop(x, [7, 30]))
    check(
        lambda x: F.resized_crop(x, 1, 2, 9, 11, [20, 22]),
        lambda x: TVF.resized_crop(x, 1, 2, 9, 11, [20, 22]),
        u8_mismatch=3,
    )
    check(lambda x: F.five_crop(x, 8), lambda x: TVF.five_crop(x, 8))
    check(lambda x: F.ten_crop(x, [8, 5], True), lambda x: TVF.ten_crop(x, [8, 5], True))
    check(F.hflip, TVF.hflip)
    check(F.vflip, TVF.vflip)


@pytest.mark.parametrize(
    "padding,mode",
    [
        (3, "constant"),
        ([2, 5], "edge"),
        ([1, 2, 3, 4], "reflect"),
        ([3, 1, 2, 6], "symmetric"),
        ([-2, 1, 3, -1], "reflect"),
        ([-2, 1, 3, -1], "constant"),
    ],
)
def test_pad(padding, mode):
    check(lambda x: F.pad(x, padding, 7, mode), lambda x: TVF.pad(x, padding, 7, mode))


@pytest.mark.parametrize(
    "fn,arg",
    [
        ("adjust_brightness", 0.3),
        ("adjust_brightness", 1.7),
        ("adjust_contrast", 0.3),
        ("adjust_contrast", 1.7),
        ("adjust_saturation", 0.3),
        ("adjust_saturation", 1.7),
        ("adjust_sharpness", 0.3),
        ("adjust_sharpness", 1.7),
        ("adjust_hue", -0.4),
        ("adjust_hue", 0.1),
        ("adjust_hue", 0.5),
    ],
)
def test_color(fn, arg):
    check(lambda x: getattr(F, fn)(x, arg), lambda x: getattr(TVF, fn)(x, arg), atol_f=1e-5)


def test_color_misc():
    check(lambda x: F.adjust_gamma(x, 0.7, 1.1), lambda x: TVF.adjust_gamma(x, 0.7, 1.1))
    check(F.rgb_to_grayscale, TVF.rgb_to_grayscale)
    check(lambda x: F.rgb_to_grayscale(x, 3), lambda x: TVF.rgb_to_grayscale(x, 3))
    check(
        lambda x: F.gaussian_blur(x, [5, 3], [1.3, 0.7]), lambda x: TVF.gaussian_blur(x, [5, 3], [1.3, 0.7])
    )
    check(lambda x: F.gaussian_blur(x, 7), lambda x: TVF.gaussian_blur(x, 7))
    check(F.invert, TVF.invert)
    check(lambda x: F.posterize(x, 3), lambda x: TVF.posterize(x, 3), kinds=("u8", "pil"))
    check(lambda x: F.solarize(x, 100), lambda x: TVF.solarize(x, 100), kinds=("u8", "pil"))
    check(lambda x: F.solarize(x, 0.4), lambda x: TVF.solarize(x, 0.4), kinds=("f32",))
    check(F.autocontrast, TVF.autocontrast)
    check(F.equalize, TVF.equalize, kinds=("u8", "pil"))


def test_conversions():
    check(
        lambda x: F.convert_image_dtype(x, ember.uint8),
        lambda x: TVF.convert_image_dtype(x, torch.uint8),
        kinds=("f32",),
        atol_f=0,
    )
    for e_dt, t_dt in [
        (ember.float64, torch.float64),
        (ember.int32, torch.int32),
        (ember.int16, torch.int16),
    ]:
        check(
            lambda x: F.convert_image_dtype(x, e_dt),
            lambda x: TVF.convert_image_dtype(x, t_dt),
            kinds=("u8",),
        )
    check(
        lambda x: F.normalize(x, [0.1, 0.2, 0.3], [0.5, 0.6, 0.7]),
        lambda x: TVF.normalize(x, [0.1, 0.2, 0.3], [0.5, 0.6, 0.7]),
        kinds=("f32",),
    )
    check(
        lambda x: F.erase(x, 2, 3, 4, 5, ember.tensor(0.5)),
        lambda x: TVF.erase(x, 2, 3, 4, 5, torch.tensor(0.5)),
        kinds=("f32",),
    )
    for mode in ["L", "RGB", "RGBA", "LA", "I", "F", "1", "P", "YCbCr", "CMYK", "I;16"]:
        im = PIL.convert(mode)
        e, t = F.to_tensor(im), TVF.to_tensor(im)
        assert str(e.dtype) == str(t.dtype) and np.array_equal(e.numpy(), t.numpy())
        e, t = F.pil_to_tensor(im), TVF.pil_to_tensor(im)
        assert np.array_equal(e.numpy(), t.numpy().astype(e.numpy().dtype))
    for a in [
        U8,
        F32,
        U8[:1],
        F32[:1],
        U8[:2],
        U8[:1].astype(np.int16),
        U8[:1].astype(np.int32),
        U8[:1].astype(np.float32),
    ]:
        e = F.to_pil_image(ember.from_numpy(a.copy()))
        t = TVF.to_pil_image(torch.from_numpy(a.copy()))
        assert e.mode == t.mode and np.array_equal(np.asarray(e), np.asarray(t))
        e = F.to_pil_image(a.transpose(1, 2, 0).copy())
        t = TVF.to_pil_image(a.transpose(1, 2, 0).copy())
        assert e.mode == t.mode and np.array_equal(np.asarray(e), np.asarray(t))


PAIRS = [
    (lambda m: m.Compose([m.ToTensor(), m.Normalize((0.5,), (0.5,))])),
    (lambda m: m.Resize(256)),
    (lambda m: m.Resize([32, 24], interpolation=m.InterpolationMode.NEAREST, max_size=None)),
    (lambda m: m.CenterCrop(224)),
    (lambda m: m.CenterCrop([3, 4])),
    (lambda m: m.RandomCrop(32, padding=4)),
    (lambda m: m.RandomResizedCrop(224)),
    (lambda m: m.RandomResizedCrop((10, 12), scale=(0.5, 0.9), ratio=(0.3, 3.0))),
    (lambda m: m.RandomHorizontalFlip()),
    (lambda m: m.RandomVerticalFlip(0.2)),
    (lambda m: m.RandomRotation(30)),
    (lambda m: m.RandomRotation((-10, 20), expand=True, center=(1, 2), fill=3)),
    (lambda m: m.RandomAffine(10)),
    (
        lambda m: m.RandomAffine(
            10,
            translate=(0.1, 0.1),
            scale=(0.9, 1.1),
            shear=5,
            interpolation=m.InterpolationMode.BILINEAR,
            fill=1,
        )
    ),
    (lambda m: m.ColorJitter(0.2, 0.3, 0.4, 0.1)),
    (lambda m: m.ColorJitter()),
    (lambda m: m.Grayscale(3)),
    (lambda m: m.RandomGrayscale()),
    (lambda m: m.Pad([1, 2], fill=3, padding_mode="edge")),
    (lambda m: m.Lambda(abs)),
    (lambda m: m.RandomApply([m.ToTensor(), m.RandomHorizontalFlip()], p=0.3)),
    (lambda m: m.RandomChoice([m.ToTensor()], p=[1.0])),
    (lambda m: m.RandomOrder([m.ToTensor(), m.ToPILImage()])),
    (lambda m: m.GaussianBlur(3)),
    (lambda m: m.GaussianBlur((3, 5), sigma=1.5)),
    (lambda m: m.RandomErasing()),
    (lambda m: m.RandomErasing(p=0.2, value="random", inplace=True)),
    (lambda m: m.FiveCrop(4)),
    (lambda m: m.TenCrop(4, vertical_flip=True)),
    (lambda m: m.ToPILImage("RGB")),
    (lambda m: m.PILToTensor()),
    (lambda m: m.RandomPerspective()),
    (lambda m: m.RandomInvert()),
    (lambda m: m.RandomPosterize(3)),
    (lambda m: m.RandomSolarize(100, p=0.3)),
    (lambda m: m.RandomAdjustSharpness(2)),
    (lambda m: m.RandomAutocontrast()),
    (lambda m: m.RandomEqualize()),
]


@pytest.mark.parametrize("make", PAIRS)
def test_reprs_match(make):
    assert repr(make(T)) == repr(make(TVT))


def test_transforms_with_fixed_parameters():
    """Random transforms whose draw is pinned (p=1, equal ranges) equal torchvision's."""
    for make in [
        lambda m: m.RandomRotation((25, 25), interpolation=m.InterpolationMode.BILINEAR, fill=2),
        lambda m: m.RandomAffine((15, 15), scale=(1.1, 1.1), shear=(4, 4, 2, 2)),
        lambda m: m.RandomHorizontalFlip(1.0),
        lambda m: m.RandomGrayscale(1.0),
        lambda m: m.GaussianBlur(5, sigma=(1.1, 1.1)),
        lambda m: m.RandomResizedCrop(8, scale=(1.0, 1.0), ratio=(26 / 19, 26 / 19)),
    ]:
        check(make(T), make(TVT), atol_f=1e-5, u8_mismatch=3)


def test_mnist_matches_torchvision(tmp_path, data_dir):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in os.listdir(os.path.join(data_dir, "MNIST", "raw")):
        shutil.copy(os.path.join(data_dir, "MNIST", "raw", f), raw)
    for train in (False, True):
        tv = torchvision.datasets.MNIST(str(tmp_path), train=train, download=True)
        em = ev.datasets.MNIST(str(tmp_path), train=train)
        assert len(tv) == len(em)
        for i in (0, 1, len(tv) - 1):
            (ti, tt), (ei, et) = tv[i], em[i]
            assert tt == et and ti.mode == ei.mode and np.array_equal(np.asarray(ti), np.asarray(ei))
        np.testing.assert_array_equal(tv.targets.numpy(), em.targets.numpy())
        assert str(tv.targets.dtype) == str(em.targets.dtype) and str(tv.data.dtype) == str(em.data.dtype)
        tv.transform, em.transform = TVT.Compose(
            [TVT.ToTensor(), TVT.Normalize((0.1307,), (0.3081,))]
        ), T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
        np.testing.assert_allclose(tv[3][0].numpy(), em[3][0].numpy(), rtol=1e-6)
        assert repr(tv) == repr(em)


def test_make_grid_and_save_image(tmp_path):
    batch = RNG.random((5, 3, 6, 7)).astype(np.float32) * 3 - 1
    for kw in [
        {},
        dict(nrow=2, padding=1, pad_value=0.5),
        dict(normalize=True),
        dict(normalize=True, value_range=(-0.5, 0.5), scale_each=True),
        dict(normalize=True, scale_each=True),
    ]:
        e = ev.utils.make_grid(ember.from_numpy(batch.copy()), **kw)
        t = torchvision.utils.make_grid(torch.from_numpy(batch.copy()), **kw)
        np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-6)
    one = RNG.random((1, 6, 7)).astype(np.float32)
    np.testing.assert_allclose(
        ev.utils.make_grid(ember.from_numpy(one)).numpy(),
        torchvision.utils.make_grid(torch.from_numpy(one)).numpy(),
    )
    lst = [ember.from_numpy(b) for b in batch[:3]]
    np.testing.assert_allclose(
        ev.utils.make_grid(lst, nrow=3).numpy(),
        torchvision.utils.make_grid([torch.from_numpy(b) for b in batch[:3]], nrow=3).numpy(),
    )
    ev.utils.save_image(ember.from_numpy(batch.copy()), tmp_path / "e.png", normalize=True)
    torchvision.utils.save_image(torch.from_numpy(batch.copy()), tmp_path / "t.png", normalize=True)
    assert np.array_equal(
        np.asarray(Image.open(tmp_path / "e.png")), np.asarray(Image.open(tmp_path / "t.png"))
    )


def test_io_matches_torchvision(tmp_path):
    from torchvision import io as tio

    for mode in ["L", "RGB", "RGBA", "LA"]:
        path = tmp_path / f"{mode}.png"
        PIL.convert(mode).save(path)
        for rm in ["UNCHANGED", "GRAY", "RGB", "RGB_ALPHA", "GRAY_ALPHA"]:
            e = ev.io.read_image(str(path), getattr(ev.io.ImageReadMode, rm))
            t = tio.read_image(str(path), getattr(tio.ImageReadMode, rm))
            assert e.shape == tuple(t.shape), (mode, rm)
            # color -> gray: Pillow's ITU-R 601 luma and libpng's differ by one in a few pixels
            lossy = mode in ("RGB", "RGBA") and rm.startswith("GRAY")
            assert np.abs(e.numpy().astype(int) - t.numpy()).max() <= (1 if lossy else 0), (mode, rm)
    x = U8.copy()
    png = ev.io.encode_png(ember.from_numpy(x))
    np.testing.assert_array_equal(tio.decode_png(torch.from_numpy(png.numpy())).numpy(), x)
    tpng = tio.encode_png(torch.from_numpy(x))
    np.testing.assert_array_equal(ev.io.decode_image(ember.from_numpy(tpng.numpy())).numpy(), x)
    np.testing.assert_array_equal(
        ev.io.read_file(str(tmp_path / "L.png")).numpy(), tio.read_file(str(tmp_path / "L.png")).numpy()
    )
    jpg = tio.encode_jpeg(torch.from_numpy(x), quality=90)
    e = ev.io.decode_jpeg(ember.from_numpy(jpg.numpy()))
    assert np.abs(e.numpy().astype(int) - tio.decode_jpeg(jpg).numpy().astype(int)).max() <= 2


@pytest.mark.parametrize(
    "name,size", [("resnet18", 64), ("resnet50", 64), ("vgg11_bn", 64), ("alexnet", 96), ("mobilenet_v2", 64)]
)
def test_torchvision_weight_files_load(tmp_path, name, size):
    """A state dict torchvision wrote with torch.save loads into ember's model, which then
    computes what torchvision's computes."""
    torch.manual_seed(0)
    tv = getattr(torchvision.models, name)()
    for m in tv.modules():  # make the running statistics matter
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    tv.eval()
    path = tmp_path / f"{name}.pth"
    torch.save(tv.state_dict(), path)
    em = getattr(ev.models, name)()
    em.load_state_dict(ember.load(str(path)))
    em.eval()
    x = RNG.random((2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        ref = tv(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        out = em(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-4 * np.abs(ref).max())

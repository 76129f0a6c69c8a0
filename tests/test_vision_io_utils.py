"""ember.vision.io (Pillow-backed image files as uint8 tensors) and ember.vision.utils
(make_grid, save_image), checked against Pillow and NumPy by hand."""

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import io, utils

RNG = np.random.default_rng(3)
RGB = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "1"])
def test_read_image_modes(tmp_path, mode):
    im = Image.fromarray(RGB).convert(mode)
    path = tmp_path / "x.png"
    im.save(path)
    x = io.read_image(str(path))
    expect = {"L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "P": "RGB", "1": "L"}[mode]
    ref = np.asarray(im.convert(expect))
    ref = ref[None] if ref.ndim == 2 else ref.transpose(2, 0, 1)
    assert x.dtype == ember.uint8 and tuple(x.shape) == ref.shape
    np.testing.assert_array_equal(x.numpy(), ref)
    for read_mode, pil_mode in [
        (io.ImageReadMode.GRAY, "L"),
        (io.ImageReadMode.RGB, "RGB"),
        (io.ImageReadMode.RGB_ALPHA, "RGBA"),
        ("gray_alpha", "LA"),
    ]:
        y = io.read_image(str(path), read_mode)
        ref = np.asarray(im.convert(pil_mode))
        ref = ref[None] if ref.ndim == 2 else ref.transpose(2, 0, 1)
        np.testing.assert_array_equal(y.numpy(), ref)


def test_png_round_trip_and_bytes(tmp_path):
    x = ember.from_numpy(RGB.transpose(2, 0, 1).copy())
    data = io.encode_png(x, compression_level=9)
    assert data.dtype == ember.uint8 and data.ndim == 1 and bytes(data.numpy()[:8]) == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(io.decode_image(data).numpy(), x.numpy())
    io.write_png(x[:1], str(tmp_path / "g.png"))
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "L" and np.array_equal(np.asarray(im), RGB[:, :, 0])
    raw = io.read_file(str(tmp_path / "g.png"))
    assert bytes(raw.numpy()) == (tmp_path / "g.png").read_bytes()
    io.write_file(str(tmp_path / "copy.png"), raw)
    np.testing.assert_array_equal(io.read_image(str(tmp_path / "copy.png")).numpy(), x[:1].numpy())
    assert tuple(io.decode_image(str(tmp_path / "g.png"), io.ImageReadMode.RGB).shape) == (3, 9, 11)
    smooth = ember.from_numpy(np.broadcast_to(np.arange(0, 220, 20, dtype=np.uint8), (3, 9, 11)).copy())
    jpg = io.encode_jpeg(smooth, quality=95)
    assert bytes(jpg.numpy()[:2]) == b"\xff\xd8"
    assert np.abs(io.decode_jpeg(jpg).numpy().astype(int) - smooth.numpy()).max() <= 3
    with pytest.raises(ValueError, match="Compression level"):
        io.encode_png(x, 10)
    with pytest.raises(RuntimeError, match="uint8"):
        io.encode_png(x.float())
    with pytest.raises(RuntimeError, match="1-D uint8 tensor"):
        io.decode_image(x)


def test_exif_orientation(tmp_path):
    im = Image.fromarray(RGB)
    exif = im.getexif()
    exif[0x0112] = 6  # rotated 90 degrees clockwise
    im.save(tmp_path / "r.jpg", exif=exif, quality=100)
    plain = io.read_image(str(tmp_path / "r.jpg"))
    turned = io.read_image(str(tmp_path / "r.jpg"), apply_exif_orientation=True)
    assert tuple(plain.shape) == (3, 9, 11) and tuple(turned.shape) == (3, 11, 9)


def test_make_grid_by_hand():
    batch = RNG.random((5, 3, 6, 7)).astype(np.float32)
    g = utils.make_grid(ember.from_numpy(batch), nrow=3, padding=2, pad_value=0.25).numpy()
    assert g.shape == (3, 2 + 2 * 8, 2 + 3 * 9)
    for k in range(5):
        r, c = divmod(k, 3)
        np.testing.assert_array_equal(g[:, 2 + 8 * r : 8 + 8 * r, 2 + 9 * c : 9 + 9 * c], batch[k])
    assert (g[:, :2] == 0.25).all() and (g[:, 10:, 20:] == 0.25).all()  # padding and the empty sixth cell
    # one-channel images become three equal channels; normalize maps min..max to 0..1
    gray = RNG.random((2, 1, 4, 4)).astype(np.float32) * 10 - 3
    n = utils.make_grid(ember.from_numpy(gray), normalize=True, padding=0).numpy()
    assert n.shape == (3, 4, 8) and np.allclose(n[0], n[2])
    np.testing.assert_allclose(
        n[0], np.concatenate(list((gray[:, 0] - gray.min()) / (gray.max() - gray.min())), 1), atol=1e-6
    )
    each = utils.make_grid(ember.from_numpy(gray), normalize=True, scale_each=True, padding=0).numpy()
    assert each[0, :, :4].max() == 1.0 and each[0, :, 4:].min() == 0.0
    clipped = utils.make_grid(ember.from_numpy(gray), normalize=True, value_range=(0, 1), padding=0).numpy()
    np.testing.assert_allclose(clipped[0], np.concatenate(list(np.clip(gray[:, 0], 0, 1)), 1))
    single = utils.make_grid(ember.from_numpy(batch[0]))
    np.testing.assert_array_equal(single.numpy(), batch[0])
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        utils.make_grid([batch[0]])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(ember.from_numpy(batch), normalize=True, value_range=[0, 1])


def test_save_image(tmp_path):
    batch = RNG.random((4, 3, 5, 5)).astype(np.float32)
    utils.save_image(ember.from_numpy(batch), tmp_path / "grid.png", nrow=2, padding=1)
    grid = utils.make_grid(ember.from_numpy(batch), nrow=2, padding=1).numpy()
    expect = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    with Image.open(tmp_path / "grid.png") as im:
        np.testing.assert_array_equal(np.asarray(im), expect)
    buf = tmp_path / "x.jpg"
    utils.save_image(ember.from_numpy(batch[0]), str(buf), format="JPEG")
    with Image.open(buf) as im:
        assert im.format == "JPEG" and im.size == (5, 5)

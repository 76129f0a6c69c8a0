"""``torchvision.io``'s image functions, on Pillow: bytes in and out as uint8 tensors,
images as uint8 ``C x H x W`` tensors."""
import io as _io
from enum import Enum

import numpy as np
from PIL import Image, ImageOps

import ember


class ImageReadMode(Enum):
    """Color mode to decode into: as stored, or converted to gray / gray+alpha / RGB / RGBA."""
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODE = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
             ImageReadMode.RGB_ALPHA: "RGBA"}


def read_file(path):
    """The bytes of a file as a 1-D uint8 tensor."""
    with open(path, "rb") as f:
        return ember.from_numpy(np.frombuffer(f.read(), dtype=np.uint8).copy())


def write_file(filename, data):
    """Write a 1-D uint8 tensor's bytes to ``filename``."""
    with open(filename, "wb") as f:
        f.write(_bytes_of(data, "data"))


def _bytes_of(data, name):
    if not isinstance(data, ember.Tensor) or data.dtype != ember.uint8 or data.ndim != 1:
        raise RuntimeError(f"{name} must be a 1-D uint8 tensor of encoded bytes")
    return np.ascontiguousarray(data.numpy(force=True)).tobytes()


def _read_mode(mode):
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or a str, got {type(mode)}")
    return mode


def _to_tensor(img, mode):
    if mode is ImageReadMode.UNCHANGED:
        if img.mode in ("1", "P", "PA", "CMYK", "YCbCr", "I;16"):
            img = img.convert({"1": "L", "P": "RGBA" if "transparency" in img.info else "RGB", "PA": "RGBA",
                               "CMYK": "RGB", "YCbCr": "RGB", "I;16": "I"}[img.mode])
    else:
        img = img.convert(_PIL_MODE[mode])
    a = np.asarray(img)
    if a.dtype == np.uint16:
        a = a.astype(np.int32)  # ember has no uint16 dtype
    if a.ndim == 2:
        a = a[:, :, None]
    return ember.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode a PNG/JPEG/GIF/BMP/WebP/TIFF (bytes tensor, or a path) into a uint8
    ``C x H x W`` tensor."""
    mode = _read_mode(mode)
    data = open(input, "rb").read() if isinstance(input, (str, bytes)) or hasattr(input, "__fspath__") \
        else _bytes_of(input, "input")
    with Image.open(_io.BytesIO(data)) as img:
        img.load()
        if apply_exif_orientation:
            img = ImageOps.exif_transpose(img)
        return _to_tensor(img, mode)


decode_png = decode_jpeg = decode_image


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Read an image file into a uint8 ``C x H x W`` tensor."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def _to_pil(input):
    if not isinstance(input, ember.Tensor) or input.dtype != ember.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.ndim != 3 or input.shape[0] not in (1, 2, 3, 4):
        raise RuntimeError("The input tensor must be C x H x W with 1 to 4 channels, "
                           f"got {tuple(input.shape)}")
    a = np.ascontiguousarray(input.numpy(force=True).transpose(1, 2, 0))
    return Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a)


def _encode(input, format, **options):
    buf = _io.BytesIO()
    _to_pil(input).save(buf, format=format, **options)
    return ember.from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def encode_png(input, compression_level=6):
    """A uint8 ``C x H x W`` tensor as PNG bytes (a 1-D uint8 tensor)."""
    if not 0 <= compression_level <= 9:
        raise ValueError("Compression level should be between 0 and 9")
    return _encode(input, "PNG", compress_level=compression_level)


def write_png(input, filename, compression_level=6):
    write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality=75):
    """A uint8 ``C x H x W`` tensor (1 or 3 channels) as JPEG bytes."""
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    return _encode(input, "JPEG", quality=quality)


def write_jpeg(input, filename, quality=75):
    write_file(filename, encode_jpeg(input, quality))

"""The evaluation preprocessing of the pretrained classification weights."""
import ember
from ember import nn
from . import functional as F


class ImageClassification(nn.Module):
    """Resize, center-crop, scale to float in [0, 1] and normalize with ImageNet statistics."""

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=F.InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, ember.Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, ember.float32)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        s = self.__class__.__name__ + "("
        for k in ("crop_size", "resize_size", "mean", "std", "interpolation"):
            s += f"\n    {k}={getattr(self, k)}"
        return s + "\n)"

"""``torchvision.utils``: ``make_grid`` and ``save_image``."""
import math

import numpy as np
from PIL import Image

import ember


@ember.no_grad()
def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0,
              **kwargs):
    """Tile a ``(B, C, H, W)`` batch (or a list of ``C x H x W`` images) into one image,
    ``nrow`` per row with ``padding`` pixels of ``pad_value`` between them. One-channel
    images become three-channel. ``normalize`` rescales to [0, 1] using ``value_range``
    (default: the min and max, of each image if ``scale_each``)."""
    if not isinstance(tensor, ember.Tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not isinstance(t, ember.Tensor):
                    raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if isinstance(tensor, list):
        tensor = ember.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = ember.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = ember.cat((tensor, tensor, tensor), 1)

    if normalize is True:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(t):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))

        if scale_each is True:
            for t in tensor:
                norm_range(t)
        else:
            norm_range(tensor)

    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = tensor[k]
    return grid


@ember.no_grad()
def save_image(tensor, fp, format=None, **kwargs):
    """``make_grid(tensor, **kwargs)`` written as an image file (values in [0, 1])."""
    grid = make_grid(tensor, **kwargs)
    # + 0.5 rounds to the nearest integer once scaled to [0, 255]
    ndarr = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", ember.uint8).numpy()
    ndarr = np.ascontiguousarray(ndarr[:, :, 0] if ndarr.shape[2] == 1 else ndarr)
    Image.fromarray(ndarr).save(fp, format=format)

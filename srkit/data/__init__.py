"""Data utilities of the evaluation protocol: MATLAB-compatible resize, cropping, colour, image IO."""

from .color import rgb2ycbcr, rgb_to_y, ycbcr2rgb
from .crop import modcrop
from .imresize import imresize
from .io import ImageReadError, read_image, write_image

__all__ = ["ImageReadError", "imresize", "modcrop", "read_image", "rgb2ycbcr", "rgb_to_y", "write_image", "ycbcr2rgb"]

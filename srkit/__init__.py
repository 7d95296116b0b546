"""srkit: super-resolution with fused Triton/CUDA kernels.

Quick start::

    from srkit.models import create_model, list_models, load   # the zoo; load() reads official files
    from srkit.inference import Upscaler                        # uint8 LR -> uint8 SR, tiled as memory needs
    from srkit.data import imresize, modcrop, read_image        # MATLAB-exact bicubic, image files
    from srkit import metrics                                   # PSNR/SSIM under the papers' protocol

    net = load("imdn_x4")                  # an official checkpoint by name (downloaded once), or a file
                                           # path; create_model("imdn", scale=4) to train one
    sr = Upscaler(net)(read_image("photo.png"))

On the command line: ``srkit --help``, ``srkit-bench --help``, ``srkit-search --help``; the README
and docs/ say more.

Layers, lowest first (a layer imports only those below it): the kernels (``srkit.kernels``,
``srkit._C``, ``srkit.reference``) <- ``srkit.ops`` <- ``srkit.nn`` <- ``srkit.models`` <-
``srkit.inference`` / ``srkit.evaluate`` / training, ``srkit-bench`` <- ``srkit.search``.
``srkit.metrics`` and ``srkit.data`` hold the evaluation protocol (they import only ops).
"""

__version__ = "0.1.0"

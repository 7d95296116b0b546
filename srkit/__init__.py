"""srkit: super-resolution with fused Triton/CUDA kernels.

Layers, lowest first (a layer imports only those below it): the kernels (``srkit.kernels``,
``srkit._C``, ``srkit.reference``) <- ``srkit.ops`` <- ``srkit.nn`` <- ``srkit.models`` <-
``srkit.inference`` / ``srkit.evaluate`` / training, ``srkit-bench`` <- ``srkit.search``.
``srkit.metrics`` and ``srkit.data`` hold the evaluation protocol (they import only ops).
"""

__version__ = "0.1.0"

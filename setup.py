"""Builds the extension ``srkit._C``.

* The C++ CPU kernels (OpenMP) in ``csrc/cpu`` are always built.
* The CUDA kernels in ``csrc/cuda`` (torch-free ``.cu`` files plus the torch binding
  ``csrc/cuda_bindings.cpp``) are added when a CUDA toolkit and a CUDA build of torch are
  present. ``SRKIT_CUDA=1`` forces them (and fails loudly if that is impossible),
  ``SRKIT_CUDA=0`` skips them.

Install with ``pip install --no-build-isolation .`` so the extension is built against the
torch that is already installed.
"""

from __future__ import annotations

import glob
import os
import sys

import torch
from setuptools import find_packages, setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

ROOT = os.path.dirname(os.path.abspath(__file__))


def _want_cuda() -> bool:
    flag = os.environ.get("SRKIT_CUDA", "").strip()
    have = torch.version.cuda is not None and CUDA_HOME is not None
    if flag == "0":
        return False
    if flag == "1":
        if not have:
            sys.exit(
                "SRKIT_CUDA=1 but CUDA cannot be built: "
                f"torch.version.cuda={torch.version.cuda!r}, CUDA_HOME={CUDA_HOME!r}"
            )
        return True
    return have


def _extension():
    rel = lambda paths: sorted(os.path.relpath(p, ROOT) for p in paths)  # noqa: E731
    sources = rel(
        glob.glob(os.path.join(ROOT, "csrc", "*.cpp")) + glob.glob(os.path.join(ROOT, "csrc", "cpu", "*.cpp"))
    )
    cxx = ["-O3", "-fopenmp"]  # torch picks the C++ standard it needs
    macros = []
    if _want_cuda():
        sources += rel(glob.glob(os.path.join(ROOT, "csrc", "cuda", "*.cu")))
        macros.append(("SRKIT_WITH_CUDA", "1"))
        return CUDAExtension(
            "srkit._C",
            sources,
            define_macros=macros,
            extra_compile_args={"cxx": cxx, "nvcc": ["-O3"]},
            extra_link_args=["-fopenmp"],
        )
    sources = [s for s in sources if not s.endswith("cuda_bindings.cpp")]
    return CppExtension("srkit._C", sources, define_macros=macros, extra_compile_args=cxx, extra_link_args=["-fopenmp"])


setup(
    # every package under srkit/ (models, train, profiler, ... included), plus the two mapped folders
    packages=["srkit", *(f"srkit.{p}" for p in find_packages("srkit")), "srkit.kernels", "srkit.search"],
    package_dir={"srkit": "srkit", "srkit.kernels": "kernels", "srkit.search": "search"},
    ext_modules=[_extension()],
    cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True)},
)

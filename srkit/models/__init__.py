"""The model zoo on srkit's layers.

``create_model(name, scale=..., **kwargs)`` / ``list_models()``; ``load(path)`` reads srkit
checkpoints and the published files of every zoo architecture that has them, in each layout
their authors and the main toolkits (BasicSR, KAIR, EDSR-PyTorch) save, detecting the architecture
and its layout from the state dict (:mod:`.detect`); ``save(model, path)`` writes safetensors.
Every family (a folder, listed once in :mod:`.families`) registers its models when imported: no
folder scanning.
"""

from . import families  # noqa: F401  (imports every family, which registers its models)
from .base import SRNet
from .catalog import BLOCK_TYPES, BlockSpec, build_block
from .checkpoint import load, read_checkpoint, save
from .detect import CheckpointError, detect
from .errors import ModelArgsError
from .genotype import from_genotype
from .registry import ModelEntry, create_model, list_models, model_entry
from .srresnet import SRGANDiscriminator

__all__ = [
    "BLOCK_TYPES",
    "BlockSpec",
    "CheckpointError",
    "ModelArgsError",
    "build_block",
    "ModelEntry",
    "SRGANDiscriminator",
    "SRNet",
    "create_model",
    "detect",
    "from_genotype",
    "list_models",
    "load",
    "model_entry",
    "read_checkpoint",
    "save",
]

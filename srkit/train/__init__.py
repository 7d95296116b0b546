"""Training: ``train(load_config(...), out)``; ``srkit train`` is its command line."""

from . import recipes
from .config import ConfigError, DataConfig, OptimConfig, TrainConfig, load_config
from .trainer import train

__all__ = ["ConfigError", "DataConfig", "OptimConfig", "TrainConfig", "load_config", "recipes", "train"]

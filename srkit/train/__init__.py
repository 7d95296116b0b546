"""Training: ``train(load_config(...), out)``; ``srkit train`` is its command line."""

from .config import ConfigError, DataConfig, OptimConfig, TrainConfig, load_config
from . import recipes
from .trainer import train

__all__ = ["ConfigError", "DataConfig", "OptimConfig", "TrainConfig", "load_config", "recipes", "train"]

"""The training configuration: typed dataclasses, loadable from YAML, overridable as ``a.b=value``."""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..devices import device_problem
from ..validation import Rule, first_problem
from . import recipes
from .losses import parse_loss


class ConfigError(ValueError):
    """A configuration value or field that is not valid; the message names the field."""


@dataclass
class DataConfig:
    data: str = "skimage"  # a folder (HR/ [+ LR_bicubic/X<s>/]) or 'skimage' (the embedded photographs)
    val_data: str | None = None  # default: the held-out images, else skimage's validation split or the data
    holdout: int = 0  # n >= 2: every n-th training image is kept out of training and validates (unless val_data)
    patch: int = 96  # HR patch side
    batch: int = 16
    flips: bool = True
    rot90: bool = True
    workers: int = 0
    rgb_mean: str = (
        "none"  # none | div2k | data (the training images' mean) | r,g,b: subtracted from the input, added back
    )


@dataclass
class PerceptualConfig:
    """VGG19 features for the loss term 'perceptual' (e.g. loss: mse+perceptual*0.006, SRGAN's VGG54)."""

    weights: str | None = None  # a file in torchvision's layout (features.<i>.weight), e.g. vgg19-dcbb9e9d.pth
    layer: str = "relu5_4"  # conv<s>_<i> or relu<s>_<i>
    criterion: str = "mse"  # mse | l1


@dataclass
class AdversarialConfig:
    """SRGAN-style training: the generator first trains ``pretrain_iters`` iterations on ``pretrain_loss``
    alone, then on ``loss`` + ``weight`` x the adversarial term against an SRGAN discriminator."""

    enabled: bool = False
    weight: float = 1e-3
    pretrain_iters: int = 0
    pretrain_loss: str = "mse"
    d_blocks: int = 4
    d_channels: int = 64
    d_kernel: int = 3
    d_act: str = "lrelu"
    d_lr: float = 1e-4


@dataclass
class OptimConfig:
    name: str = "adam"  # adam | adamw | sgd
    lr: float = 5e-4
    weight_decay: float = 0.0
    momentum: float = 0.9  # sgd
    schedule: str = "cosine"  # cosine | step | multistep | none
    step_size: int = 1000
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.5
    warmup_iters: int = 0
    clip_grad: float | None = None


@dataclass
class TrainConfig:
    model: str = "espcn"  # a zoo name or a genotype JSON file
    scale: int = 4
    model_args: dict[str, Any] = field(default_factory=dict)
    loss: str = "l1"  # sum of l1 | mse | charbonnier | tv | perceptual terms, e.g. 'l1+tv*0.01', 'mse+perceptual*0.006'
    iters: int = 1000
    max_minutes: float | None = None
    amp: str = "none"  # none | bf16 | fp16
    ema: float | None = 0.999
    val_every: int = 250
    snapshots: list[int] = field(default_factory=list)  # iterations whose weights are kept (snapshots/model_<it>)
    seed: int = 0
    device: str = "cpu"
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)
    tensorboard: bool = True  # event files in <out>/tensorboard
    # auto | paper | quick | none: the model's training recipe fills the fields not given (srkit.train.recipes);
    # `srkit train` asks for auto, the Python API for none
    recipe: str = "none"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 as a string
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}") from None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (tp is int and not float(value).is_integer())
        ):
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
        return tp(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    return value


def _build(cls: type, values: Any, where: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"{where + '.' if where else ''}{unknown[0]}: no such field (fields: {', '.join(sorted(names))})"
        )
    kwargs = {k: _coerce(v, hints[k], f"{where + '.' if where else ''}{k}") for k, v in values.items()}
    return cls(**kwargs)


def _finite(v: float | None, low: float, *, strict: bool = True) -> bool:
    return v is not None and math.isfinite(v) and (v > low if strict else v >= low)


def _rules(cfg: TrainConfig) -> list[Rule]:
    """(field, holds, what is allowed) for every value a run could not mean."""
    o, d, a = cfg.optim, cfg.data, cfg.adversarial
    return [
        ("scale", cfg.scale >= 1, "an integer >= 1"),
        ("iters", cfg.iters >= 1, "an integer >= 1"),
        ("max_minutes", cfg.max_minutes is None or _finite(cfg.max_minutes, 0), "null or a finite number > 0"),
        (
            "data.patch",
            cfg.scale < 1 or (d.patch >= cfg.scale and d.patch % cfg.scale == 0),
            f"a multiple of the scale ({cfg.scale})",
        ),
        ("data.batch", d.batch >= 1, "an integer >= 1"),
        ("data.workers", d.workers >= 0, "an integer >= 0"),
        ("data.holdout", d.holdout == 0 or d.holdout >= 2, "0 (none) or an integer >= 2"),
        ("optim.lr", _finite(o.lr, 0), "a finite number > 0"),
        ("optim.weight_decay", _finite(o.weight_decay, 0, strict=False), "a finite number >= 0"),
        ("optim.momentum", _finite(o.momentum, 0, strict=False) and o.momentum < 1, "a number in [0, 1)"),
        ("optim.gamma", _finite(o.gamma, 0), "a finite number > 0"),
        ("optim.step_size", o.step_size >= 1, "an integer >= 1"),
        ("optim.milestones", all(m >= 1 for m in o.milestones), "iterations >= 1"),
        ("optim.warmup_iters", o.warmup_iters >= 0, "an integer >= 0"),
        ("optim.clip_grad", o.clip_grad is None or _finite(o.clip_grad, 0), "null or a finite number > 0"),
        ("amp", cfg.amp in ("none", "bf16", "fp16"), "none, bf16 or fp16"),
        ("optim.name", o.name in ("adam", "adamw", "sgd"), "adam, adamw or sgd"),
        ("optim.schedule", o.schedule in ("cosine", "step", "multistep", "none"), "cosine, step, multistep or none"),
        ("ema", cfg.ema is None or 0 < cfg.ema < 1, "null or a number in (0, 1)"),
        ("val_every", cfg.val_every >= 1, "an integer >= 1"),
        ("device", not device_problem(cfg.device), device_problem(cfg.device) or "a device this machine has"),
        ("snapshots", all(1 <= s <= cfg.iters for s in cfg.snapshots), f"iterations from 1 to iters ({cfg.iters})"),
        ("data.rgb_mean", _mean_ok(d.rgb_mean), "none, div2k, data, or one or three numbers r,g,b"),
        ("adversarial.weight", _finite(a.weight, 0, strict=False), "a finite number >= 0"),
        ("adversarial.d_lr", _finite(a.d_lr, 0), "a finite number > 0"),
        ("adversarial.pretrain_iters", a.pretrain_iters >= 0, "an integer >= 0"),
        ("adversarial.d_blocks", a.d_blocks >= 1, "an integer >= 1"),
        ("adversarial.d_channels", a.d_channels >= 1, "an integer >= 1"),
        ("perceptual.criterion", cfg.perceptual.criterion in ("mse", "l1"), "mse or l1"),
    ]


def _check(cfg: TrainConfig) -> TrainConfig:
    from ..models import list_models  # the zoo is only needed to name the choices

    if not cfg.model.endswith(".json") and cfg.model not in list_models():
        raise ConfigError(
            f"model: unknown model {cfg.model!r} (a zoo name: {', '.join(list_models())}; or a genotype JSON file)"
        )
    for where, spec in (("loss", cfg.loss), ("adversarial.pretrain_loss", cfg.adversarial.pretrain_loss)):
        try:
            terms = [name for name, _ in parse_loss(spec)]
        except ValueError as e:
            raise ConfigError(f"{where}: {e}") from None
        if "perceptual" in terms and not cfg.perceptual.weights:
            raise ConfigError(
                f"{where}: the 'perceptual' term needs perceptual.weights, a VGG19 weights file in "
                "torchvision's layout (e.g. vgg19-dcbb9e9d.pth); srkit does not download it"
            )
    problem = first_problem(cfg.to_dict(), _rules(cfg))
    if problem:
        raise ConfigError(problem)
    return cfg


def _mean_ok(v: str) -> bool:
    if v in ("none", "div2k", "data"):
        return True
    try:
        return len([float(x) for x in v.split(",")]) in (1, 3)
    except ValueError:
        return False


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    typed: dict[str, Any] | None = None,
    base: dict[str, Any] | None = None,
) -> TrainConfig:
    """``base`` (top-level fields: a command line's own defaults) over the dataclass defaults, the
    YAML file's values (if any) over those, then ``key.sub=value`` overrides (YAML-parsed), then
    ``typed`` values by dotted name (taken as they are: a command line's already-typed options, so
    ``--data null`` is a folder called null, not None)."""
    values: dict[str, Any] = dict(base or {})
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text())
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({_yaml_problem(e)})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not a text file (a YAML mapping of TrainConfig fields is expected)") from None
        if loaded is None:  # an empty file is a mistake more often than a wish for every default
            raise ConfigError(f"{path}: empty; expected a mapping of TrainConfig fields (e.g. model: espcn)")
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of TrainConfig fields, got {type(loaded).__name__}")
        values |= loaded
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected key=value")
        try:
            _set(values, key, yaml.safe_load(raw))
        except yaml.YAMLError as e:
            raise ConfigError(f"override {item!r}: the value is not YAML ({e.__class__.__name__})") from None
        except (AttributeError, TypeError):  # a.b=... where a holds a value, not a mapping
            raise ConfigError(f"override {item!r}: {key.rsplit('.', 1)[0]} is not a mapping of fields") from None
    for key, value in (typed or {}).items():
        _set(values, key, value)
    return _check(apply_recipe(_build(TrainConfig, values, ""), set(_flat(values))))


def _yaml_problem(e: yaml.YAMLError) -> str:
    """PyYAML's problem and where, on one line."""
    mark = getattr(e, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{getattr(e, 'problem', None) or type(e).__name__}{where}"


def apply_recipe(cfg: TrainConfig, given: set[str]) -> TrainConfig:
    """``cfg`` with its recipe's values in every field not in ``given`` (dotted names); with
    ``max_minutes`` and no ``iters`` given, the clock ends the run and drives the schedule."""
    if cfg.recipe not in recipes.RECIPES_CHOICES:
        raise ConfigError(f"recipe: invalid value {cfg.recipe!r} (allowed: {', '.join(recipes.RECIPES_CHOICES)})")
    if cfg.max_minutes is not None and "iters" not in given:
        cfg = dataclasses.replace(cfg, iters=recipes.TIME_BOUNDED_ITERS)
    name, recipe = recipes.choose(cfg.recipe, cfg.model, cfg.iters, cfg.max_minutes)
    if recipe is None:
        return cfg
    values = _flat(cfg.to_dict())
    values |= {k: v for k, v in recipe.fields(cfg.scale, cfg.iters).items() if k not in given}
    values["recipe"] = name
    return _build(TrainConfig, _nest(values), "")


def _set(values: dict[str, Any], key: str, value: Any) -> None:
    """``values[a][b] = value`` for the dotted name ``a.b``."""
    *path, last = key.split(".")
    for part in path:
        values = values.setdefault(part, {})
    values[last] = value


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in flat.items():
        _set(out, key, v)
    return out


# What a resumed run can take from a changed configuration: how long it runs, how often it
# validates, where, and its learning rate (the schedule's base, applied from the resume point).
RESUMABLE = ("iters", "max_minutes", "val_every", "snapshots", "device", "tensorboard", "data.workers", "optim.lr")


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v and prefix + k != "model_args":
            out |= _flat(v, f"{prefix}{k}.")
        else:
            out[prefix + k] = v
    return out


# what a recipe derives from the run's length: a resumed run given other iterations keeps the recorded ones
ITERS_DERIVED = ("optim.step_size", "optim.milestones", "optim.warmup_iters")


def keep_recorded_schedule(saved: dict[str, Any] | None, cfg: TrainConfig) -> TrainConfig:
    """``cfg`` for resuming the run recorded as ``saved`` with other ``iters``: the schedule points its
    recipe derived from the recorded length are kept, so extending a finished run continues its
    schedule instead of being refused for a changed step size."""
    if not saved or saved.get("iters") == cfg.iters or cfg.recipe == "none" or saved.get("recipe") != cfg.recipe:
        return cfg
    old = _flat(saved)
    return _build(TrainConfig, _nest(_flat(cfg.to_dict()) | {k: old[k] for k in ITERS_DERIVED if k in old}), "")


def resume_changes(saved: dict[str, Any] | None, cfg: TrainConfig) -> list[str]:
    """The fields ``cfg`` changes against the checkpoint's configuration ``saved``; a change a
    resumed run cannot honour (the model, the data, the loss...) is refused by name. Fields the
    checkpoint predates are not compared."""
    if not saved:
        return []
    old, new = _flat(saved), _flat(cfg.to_dict())
    diff = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    refused = [k for k in diff if k not in RESUMABLE]
    if refused:
        shown = "; ".join(f"{k}: {old[k]!r} -> {new[k]!r}" for k in refused)
        hint = (
            "; it predates training recipes: resume it with --recipe none"
            if "recipe" not in old and cfg.recipe != "none"
            else ""
        )
        raise ConfigError(
            f"--resume cannot change {shown} (a resumed run can change {', '.join(RESUMABLE)}); "
            f"start a new run folder, or --overwrite this one{hint}"
        )
    return diff

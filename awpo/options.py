"""One mechanism for every configuration block of the recipe: typed option dataclasses in verl's style.

A block (``algorithm.awpo``, ``reward.reward_kwargs``, ``reward.reward_kwargs.judge``) is a frozen dataclass derived
from :class:`Options`, which behaves as verl's ``verl.base_config.BaseConfig`` does (fields are read-only after
construction; the instance is a read-only mapping with ``get``) without importing verl: the converters and the
offline scorers use these blocks too, and ``import verl`` costs seconds and loads every plugin. Each field is
declared with :func:`option`, which records its one-line help and its allowed values; :meth:`Options.from_mapping`
reads a block from a Hydra ``DictConfig`` or a plain mapping, and construction validates every field by its type
annotation and its declared range in :func:`_checked_value` — the only place where option values are checked.
Rules that tie several fields together live in each block's :meth:`Options.check`.

Every error is a :class:`ConfigError` whose message starts with the full key, e.g.
``algorithm.awpo.clip_ratio: must be < 1.0, got 1.5``. The configuration reference in ``docs/configuration.md``
and the recipe's option defaults in ``recipe/awpo/config/awpo_options.yaml`` are generated from these
declarations (:mod:`awpo.config_reference`).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from omegaconf import DictConfig, OmegaConf

OptionsT = TypeVar("OptionsT", bound="Options")

HELP = "help"
CHOICES = "choices"
LOW = "low"
HIGH = "high"
HIGH_EXCLUSIVE = "high_exclusive"
LOW_EXCLUSIVE = "low_exclusive"
_MISSING = dataclasses.MISSING


class ConfigError(ValueError):
    """An invalid configuration value; the message starts with the full key (``algorithm.awpo.gate: ...``)."""


def option(
    default: Any = _MISSING,
    *,
    help: str,
    choices: Sequence[str] | None = None,
    low: float | None = None,
    high: float | None = None,
    low_exclusive: bool = False,
    high_exclusive: bool = False,
    default_factory: Callable[[], Any] | Any = _MISSING,
) -> Any:
    """Declare one option of an :class:`Options` block.

    Args:
        default: the default value (or ``default_factory`` for a mutable one).
        help: one line saying what the option does (shown in the generated reference and YAML).
        choices: the allowed values of a string option.
        low, high: the allowed range of a number (inclusive unless ``low_exclusive``/``high_exclusive``).
        default_factory: builds the default (dicts, nested blocks).
    """
    metadata = {
        HELP: help,
        CHOICES: tuple(choices) if choices is not None else None,
        LOW: low,
        HIGH: high,
        LOW_EXCLUSIVE: low_exclusive,
        HIGH_EXCLUSIVE: high_exclusive,
    }
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Options(Mapping):
    """Base of the recipe's configuration blocks (see the module docstring).

    Subclasses set ``PREFIX`` (the block's key in the training config) and declare their fields with
    :func:`option`; they may override :meth:`check` for rules that involve several fields.
    """

    PREFIX: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = _type_hints(type(self))
        for item in option_fields(type(self)):
            value = _checked_value(getattr(self, item.name), hints[item.name], item, f"{self.PREFIX}.{item.name}")
            object.__setattr__(self, item.name, value)
        self.check()

    def check(self) -> None:
        """Rules that involve several fields (raise :class:`ConfigError` naming a key). None by default."""

    def __getitem__(self, key: str) -> Any:
        if key not in _option_names(type(self)):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_option_names(type(self)))

    def __len__(self) -> int:
        return len(_option_names(type(self)))

    def error(self, name: str, message: str) -> ConfigError:
        """A :class:`ConfigError` for this block's option ``name``."""
        return ConfigError(f"{self.PREFIX}.{name}: {message}")

    @classmethod
    def from_mapping(cls: type[OptionsT], mapping: Any) -> OptionsT:
        """Build the block from a ``DictConfig`` (interpolations resolved), a mapping, or None (all defaults).

        Raises:
            ConfigError: the block is not a mapping, has an unknown key, or a value of the wrong type or range.
        """
        if mapping is None:
            return cls()
        if isinstance(mapping, cls):
            return mapping
        if isinstance(mapping, DictConfig):
            mapping = OmegaConf.to_container(mapping, resolve=True)
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"{cls.PREFIX}: expected a mapping of settings, got {type(mapping).__name__}")
        known = _option_names(cls)
        unknown = sorted(str(key) for key in mapping if key not in known)
        if unknown:
            raise ConfigError(f"{cls.PREFIX}.{unknown[0]}: unknown key; valid keys are {', '.join(sorted(known))}")
        return cls(**dict(mapping))

    def to_dict(self) -> dict[str, Any]:
        """The block as plain values (nested blocks as dicts), in declaration order."""
        return {
            item.name: value.to_dict() if isinstance(value := getattr(self, item.name), Options) else value
            for item in option_fields(type(self))
        }


def option_fields(cls: type[Options]) -> tuple[dataclasses.Field, ...]:
    """The declared options of a block, in declaration order."""
    return dataclasses.fields(cls)


def _option_names(cls: type[Options]) -> tuple[str, ...]:
    return tuple(item.name for item in dataclasses.fields(cls))


def nested_block(annotation: Any) -> type[Options] | None:
    """The :class:`Options` subclass an annotation names, or None."""
    return annotation if isinstance(annotation, type) and issubclass(annotation, Options) else None


def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _checked_value(value: Any, annotation: Any, item: dataclasses.Field, key: str) -> Any:
    """``value`` checked against the field's type annotation and declared range (ints become floats where a float
    is declared; mappings become nested blocks where a block is declared).

    Raises:
        ConfigError: naming ``key``.
    """
    optional, annotation = _strip_optional(annotation)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key}: may not be null")
    block = nested_block(annotation)
    if block is not None:
        return value if isinstance(value, block) else block.from_mapping(value)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        _check_range(value, item, key)
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        _check_range(value, item, key)
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        choices = item.metadata.get(CHOICES)
        if choices is not None and value not in choices:
            raise ConfigError(f"{key}: unknown value {value!r}; expected one of {', '.join(choices)}")
        return value
    if typing.get_origin(annotation) is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    raise TypeError(f"{key}: unsupported option type {annotation!r}")


def _strip_optional(annotation: Any) -> tuple[bool, Any]:
    """(whether None is allowed, the annotation without None)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return len(members) < len(typing.get_args(annotation)), members[0]
    return False, annotation


def _check_range(value: float, item: dataclasses.Field, key: str) -> None:
    low, high = item.metadata.get(LOW), item.metadata.get(HIGH)
    if low is not None and (value < low or (value == low and item.metadata.get(LOW_EXCLUSIVE))):
        bound = f"> {low}" if item.metadata.get(LOW_EXCLUSIVE) else f">= {low}"
        raise ConfigError(f"{key}: must be {bound}, got {value!r}")
    if high is not None and (value > high or (value == high and item.metadata.get(HIGH_EXCLUSIVE))):
        bound = f"< {high}" if item.metadata.get(HIGH_EXCLUSIVE) else f"<= {high}"
        raise ConfigError(f"{key}: must be {bound}, got {value!r}")

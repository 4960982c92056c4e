"""The one configuration mechanism (awpo.options): type and range checks, full-key errors, nested blocks, and the
generated reference and YAML defaults staying current."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from omegaconf import OmegaConf

from awpo import config_reference
from awpo.options import ConfigError, Options, option


@dataclass(frozen=True)
class Inner(Options):
    """A nested block."""

    PREFIX: ClassVar[str] = "outer.inner"

    level: int = option(2, low=1, help="an int with a lower bound")


@dataclass(frozen=True)
class Outer(Options):
    """A block with one field of every supported kind."""

    PREFIX: ClassVar[str] = "outer"

    name: str = option("a", choices=("a", "b"), help="a choice")
    ratio: float = option(0.5, low=0.0, high=1.0, high_exclusive=True, help="a half-open range")
    limit: float | None = option(None, low=0.0, low_exclusive=True, help="optional, strictly positive")
    flag: bool = option(False, help="a switch")
    body: dict[str, Any] = option(default_factory=dict, help="a mapping")
    inner: Inner = option(default_factory=Inner, help="a nested block")


def test_defaults_and_mapping_behaviour() -> None:
    block = Outer.from_mapping(None)
    assert block == Outer()
    assert list(block) == ["name", "ratio", "limit", "flag", "body", "inner"]
    assert block["ratio"] == 0.5 and block.get("missing", 7) == 7
    assert block.to_dict() == {
        "name": "a",
        "ratio": 0.5,
        "limit": None,
        "flag": False,
        "body": {},
        "inner": {"level": 2},
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.ratio = 0.1  # type: ignore[misc]


def test_reads_dictconfig_and_mapping_alike_and_normalises_numbers() -> None:
    raw = {"name": "b", "ratio": 0, "limit": 3, "flag": True, "body": {"k": [1]}, "inner": {"level": 5}}
    from_dictconfig = Outer.from_mapping(OmegaConf.create(raw))
    assert from_dictconfig == Outer.from_mapping(raw)
    assert isinstance(from_dictconfig.ratio, float) and isinstance(from_dictconfig.limit, float)
    assert from_dictconfig.inner == Inner(level=5)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "c"}, "outer.name: unknown value 'c'; expected one of a, b"),
        ({"name": 3}, "outer.name: expected a string, got 3"),
        ({"ratio": 1.0}, "outer.ratio: must be < 1.0, got 1.0"),
        ({"ratio": -0.5}, "outer.ratio: must be >= 0.0, got -0.5"),
        ({"ratio": math.inf}, "outer.ratio: expected a finite number"),
        ({"ratio": True}, "outer.ratio: expected a finite number, got True"),
        ({"ratio": "0.5"}, "outer.ratio: expected a finite number"),
        ({"ratio": None}, "outer.ratio: may not be null"),
        ({"limit": 0.0}, "outer.limit: must be > 0.0, got 0.0"),
        ({"flag": 1}, "outer.flag: expected true or false, got 1"),
        ({"body": [1]}, "outer.body: expected a mapping"),
        ({"inner": {"level": 0}}, "outer.inner.level: must be >= 1, got 0"),
        ({"inner": {"level": 1.5}}, "outer.inner.level: expected an integer, got 1.5"),
        ({"inner": {"depth": 1}}, "outer.inner.depth: unknown key; valid keys are level"),
        ({"inner": 4}, "outer.inner: expected a mapping of settings, got int"),
        ({"rate": 0.1}, "outer.rate: unknown key; valid keys are body, flag, inner, limit, name, ratio"),
    ],
)
def test_every_bad_value_names_its_full_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Outer.from_mapping(raw)
    assert str(error.value).startswith(message)


def test_a_block_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^outer: expected a mapping of settings, got list"):
        Outer.from_mapping([1, 2])


def test_generated_reference_and_yaml_defaults_are_current() -> None:
    """docs/configuration.md and recipe/awpo/config/awpo_options.yaml are generated from the declarations; run
    `python -m awpo.config_reference --write` after changing an option."""
    for path, text in config_reference.generated_files().items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is out of date"
    assert config_reference.main(["--check"]) == 0


def test_generated_reference_covers_every_option() -> None:
    markdown = config_reference.render_markdown()
    yaml_text = config_reference.render_yaml()
    for block in config_reference.blocks():
        assert f"## `{block.PREFIX}`" in markdown
        for item in dataclasses.fields(block):
            assert f"| `{item.name}` |" in markdown
            assert f" {item.name}:" in yaml_text

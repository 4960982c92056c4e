"""Judge settings: the ``reward.reward_kwargs.judge`` block of the recipe config.

:meth:`JudgeConfig.from_mapping` reads the block (an OmegaConf ``DictConfig`` or a plain mapping) and rejects
unknown keys and bad values with a :class:`JudgeConfigError` that names ``reward.reward_kwargs.judge.<key>``.
The API key itself is never part of the config: only the name of the environment variable that holds it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from awpo.rewards.judge.prompt import RubricError, RubricTemplate

CONFIG_PREFIX = "reward.reward_kwargs.judge"
BACKENDS = ("rule", "openai", "verl_router")
FALLBACKS = ("none", "rule")
RESERVED_BODY_KEYS = ("messages", "model", "n", "stream")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class JudgeConfigError(ValueError):
    """Raised for an invalid ``reward.reward_kwargs.judge.*`` setting; the message names the key."""


@dataclass(frozen=True)
class JudgeConfig:
    """Settings of the reasoning judge (``reward.reward_kwargs.judge.*``).

    Attributes:
        backend: ``rule`` (deterministic offline scorer, no model), ``openai`` (any OpenAI-compatible
            ``/v1/chat/completions`` endpoint at ``base_url``) or ``verl_router`` (verl's reward-model servers,
            through the router address verl hands to the reward code). Default ``rule``.
        base_url: the endpoint's base URL including ``/v1``, e.g. ``http://127.0.0.1:8000/v1``; required for
            ``openai``, unused otherwise. Default None.
        model: the model name sent in each request (vLLM: the served model name; for ``verl_router`` use
            ``reward.reward_model.model_path``); required for ``openai`` and ``verl_router``. Default None.
        api_key_env: the environment variable holding the API key, sent as ``Authorization: Bearer``; no header
            when it is unset or empty. The key is read once when the judge is built and never logged.
            Default ``AWPO_JUDGE_API_KEY``.
        max_concurrency: the most requests in flight per process (one judge is shared by all samples of a reward
            worker). Default 64.
        timeout_s: the limit of one HTTP attempt, in seconds. Default 30.0.
        max_retries: further attempts after a timeout, connection error, 429 or 5xx (so at most
            ``max_retries + 1`` attempts); other 4xx and malformed replies are not retried. Default 3.
        backoff_base_s: the base of the exponential backoff, in seconds: before retry k (k = 0, 1, …) the judge
            sleeps a uniformly random time in [0, min(backoff_max_s, backoff_base_s · 2^k)] ("full jitter").
            Default 0.5.
        backoff_max_s: the cap of one backoff sleep, in seconds; also caps a ``Retry-After`` sent with a 429 or a
            5xx, which is honoured instead of the jittered delay. Default 8.0.
        deadline_s: the most time one sample's judging may take once it holds a concurrency slot, in seconds
            (attempts plus backoff sleeps; an attempt is cut short at the deadline). None means
            ``(max_retries + 1) · timeout_s + max_retries · backoff_max_s``. Default None.
        temperature: sampling temperature sent to the judge. Default 0.0.
        max_tokens: the judge's completion budget, in tokens (a short justification plus the score). Default 512.
        seed: a sampling seed sent with each request (vLLM honours it); None sends none. Default None.
        extra_body: further fields merged into every request body, e.g.
            ``{"chat_template_kwargs": {"enable_thinking": false}}`` for a Qwen3 judge on vLLM, or ``top_p``.
            May not set ``messages``, ``model``, ``n`` or ``stream``. Default {}.
        include_reference: show the reference (gold) action to the judge in a ``<reference>`` block.
            Default False.
        cache_size: entries of the in-memory LRU cache of successful scores, keyed by the SHA-256 of the exact
            request body; 0 disables the cache. Default 100000.
        max_block_chars: the longest content of one prompt block (tools, conversation, reasoning, action,
            reference), in characters; longer content is cut in the middle with a marker. Default 12000.
        rubric_path: a rubric file in the format of the built-in ``prompts/rubric_v1.md``; None uses the built-in
            rubric. Default None.
        fallback: what a sample gets when a model backend fails: ``none`` (q missing) or ``rule`` (the rule
            backend's score; the status still records the failure). Default ``none``.
        circuit_breaker_failures: after this many consecutive samples that failed with a timeout, connection
            error, 429 or 5xx, requests are skipped (status ``CIRCUIT_OPEN``) for ``circuit_breaker_cooldown_s``,
            so that an outage costs seconds per step, not hours; 0 disables the breaker. Default 32.
        circuit_breaker_cooldown_s: how long the breaker stays open, in seconds; afterwards requests are tried
            again and one more failure reopens it until a request succeeds. Default 30.0.
    """

    backend: str = "rule"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "AWPO_JUDGE_API_KEY"
    max_concurrency: int = 64
    timeout_s: float = 30.0
    max_retries: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    deadline_s: float | None = None
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    include_reference: bool = False
    cache_size: int = 100_000
    max_block_chars: int = 12_000
    rubric_path: str | None = None
    fallback: str = "none"
    circuit_breaker_failures: int = 32
    circuit_breaker_cooldown_s: float = 30.0

    def __post_init__(self) -> None:
        _check_choice("backend", self.backend, BACKENDS)
        _check_choice("fallback", self.fallback, FALLBACKS)
        self._check_endpoint()
        if not isinstance(self.api_key_env, str) or not _ENV_NAME.fullmatch(self.api_key_env):
            raise JudgeConfigError(f"{CONFIG_PREFIX}.api_key_env: expected an environment variable name")
        for name, low in (("max_concurrency", 1), ("max_retries", 0), ("max_tokens", 1), ("cache_size", 0)):
            _check_int(name, getattr(self, name), low=low)
        _check_int("max_block_chars", self.max_block_chars, low=256)
        _check_int("circuit_breaker_failures", self.circuit_breaker_failures, low=0)
        if self.seed is not None:
            _check_int("seed", self.seed, low=0)
        for name in ("timeout_s", "backoff_base_s", "backoff_max_s", "temperature", "circuit_breaker_cooldown_s"):
            object.__setattr__(self, name, _check_float(name, getattr(self, name), low=0.0))
        if self.timeout_s <= 0:
            raise JudgeConfigError(f"{CONFIG_PREFIX}.timeout_s: must be > 0, got {self.timeout_s!r}")
        if self.backoff_max_s < self.backoff_base_s:
            raise JudgeConfigError(
                f"{CONFIG_PREFIX}.backoff_max_s: must be >= backoff_base_s ({self.backoff_base_s}), "
                f"got {self.backoff_max_s!r}"
            )
        if self.deadline_s is not None:
            object.__setattr__(self, "deadline_s", _check_float("deadline_s", self.deadline_s, low=0.0))
            if self.deadline_s <= 0:
                raise JudgeConfigError(f"{CONFIG_PREFIX}.deadline_s: must be > 0, got {self.deadline_s!r}")
        if not isinstance(self.include_reference, bool):
            raise JudgeConfigError(f"{CONFIG_PREFIX}.include_reference: expected true or false")
        self._check_extra_body()
        self._check_rubric()

    def __hash__(self) -> int:
        """A hash over every field (``extra_body`` as canonical JSON), so a config can key a per-process judge."""
        fields = dataclasses.asdict(self)
        fields["extra_body"] = json.dumps(self.extra_body, sort_keys=True)
        return hash(tuple(sorted(fields.items())))

    @property
    def effective_deadline_s(self) -> float:
        """``deadline_s``, or the default bound derived from the timeout, retries and backoff cap (seconds)."""
        if self.deadline_s is not None:
            return self.deadline_s
        return (self.max_retries + 1) * self.timeout_s + self.max_retries * self.backoff_max_s

    def api_key(self) -> str | None:
        """The API key from ``api_key_env``, or None when the variable is unset or empty."""
        return os.environ.get(self.api_key_env) or None

    @classmethod
    def from_mapping(cls, mapping: Any) -> JudgeConfig:
        """Build the settings from the ``reward.reward_kwargs.judge`` block.

        Args:
            mapping: a ``DictConfig`` (interpolations are resolved), a mapping, or None for all defaults.

        Raises:
            JudgeConfigError: the block is not a mapping, has an unknown key or a bad value (naming the key).
        """
        if mapping is None:
            return cls()
        if isinstance(mapping, DictConfig):
            mapping = OmegaConf.to_container(mapping, resolve=True)
        if not isinstance(mapping, Mapping):
            raise JudgeConfigError(f"{CONFIG_PREFIX}: expected a mapping of settings, got {type(mapping).__name__}")
        known = {item.name for item in dataclasses.fields(cls)}
        unknown = sorted(str(key) for key in mapping if key not in known)
        if unknown:
            raise JudgeConfigError(
                f"{CONFIG_PREFIX}.{unknown[0]}: unknown key; valid keys are {', '.join(sorted(known))}"
            )
        return cls(**dict(mapping))

    def _check_endpoint(self) -> None:
        for name in ("base_url", "model", "rubric_path"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise JudgeConfigError(f"{CONFIG_PREFIX}.{name}: expected a non-empty string or null, got {value!r}")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise JudgeConfigError(f"{CONFIG_PREFIX}.base_url: must start with http:// or https://")
        if self.backend == "openai" and self.base_url is None:
            raise JudgeConfigError(
                f"{CONFIG_PREFIX}.base_url: required for backend=openai (e.g. http://127.0.0.1:8000/v1)"
            )
        if self.backend in ("openai", "verl_router") and self.model is None:
            raise JudgeConfigError(f"{CONFIG_PREFIX}.model: required for backend={self.backend}")

    def _check_extra_body(self) -> None:
        if not isinstance(self.extra_body, Mapping):
            raise JudgeConfigError(f"{CONFIG_PREFIX}.extra_body: expected a mapping, got {self.extra_body!r}")
        reserved = sorted(set(self.extra_body) & set(RESERVED_BODY_KEYS))
        if reserved:
            raise JudgeConfigError(f"{CONFIG_PREFIX}.extra_body: may not set {', '.join(reserved)}")
        try:
            json.dumps(self.extra_body, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise JudgeConfigError(f"{CONFIG_PREFIX}.extra_body: not JSON-serialisable: {error}") from error
        object.__setattr__(self, "extra_body", dict(self.extra_body))

    def _check_rubric(self) -> None:
        try:
            template = RubricTemplate.load(self.rubric_path)
        except RubricError as error:
            raise JudgeConfigError(f"{CONFIG_PREFIX}.rubric_path: {error}") from error
        if self.include_reference and not template.has_reference:
            raise JudgeConfigError(
                f"{CONFIG_PREFIX}.rubric_path: include_reference=true needs a {{{{reference}}}} placeholder "
                f"in {template.source!r}"
            )


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise JudgeConfigError(f"{CONFIG_PREFIX}.{name}: unknown value {value!r}; expected one of {', '.join(choices)}")


def _check_int(name: str, value: Any, *, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise JudgeConfigError(f"{CONFIG_PREFIX}.{name}: expected an integer, got {value!r}")
    if value < low:
        raise JudgeConfigError(f"{CONFIG_PREFIX}.{name}: must be >= {low}, got {value!r}")


def _check_float(name: str, value: Any, *, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise JudgeConfigError(f"{CONFIG_PREFIX}.{name}: expected a finite number, got {value!r}")
    if value < low:
        raise JudgeConfigError(f"{CONFIG_PREFIX}.{name}: must be >= {low}, got {value!r}")
    return float(value)

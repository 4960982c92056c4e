"""Judge settings: the ``reward.reward_kwargs.judge`` block of the recipe config (see ``docs/configuration.md``).

The API key itself is never part of the config: only the name of the environment variable that holds it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from awpo.options import Options, option
from awpo.rewards.judge.prompt import RubricError, RubricTemplate

BACKENDS = ("rule", "openai", "verl_router")
FALLBACKS = ("none", "rule")
STRUCTURED_OUTPUTS = ("none", "regex")
RESERVED_BODY_KEYS = ("messages", "model", "n", "stream")
STRUCTURED_OUTPUTS_FIELD = "structured_outputs"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=16)
def load_rubric(path: str | None) -> RubricTemplate:
    """The rubric at ``path`` (None: the built-in one), read and parsed once per process.

    Raises:
        RubricError: the file cannot be read or is not a valid rubric.
    """
    return RubricTemplate.load(path)


@dataclass(frozen=True)
class JudgeConfig(Options):
    """Settings of the reasoning judge (``reward.reward_kwargs.judge.*``); docs/judge.md explains the backends."""

    PREFIX: ClassVar[str] = "reward.reward_kwargs.judge"

    backend: str = option(
        "rule",
        choices=BACKENDS,
        help="rule: deterministic offline scorer (no model); openai: any OpenAI-compatible /v1/chat/completions "
        "endpoint at base_url; verl_router: verl's reward-model servers, through the router address verl hands "
        "to the reward code.",
    )
    base_url: str | None = option(
        None, help="Endpoint base URL including /v1, e.g. http://127.0.0.1:8000/v1; required for backend=openai."
    )
    model: str | None = option(
        None,
        help="Model name sent in each request (vLLM: the served model name; verl_router: "
        "reward.reward_model.model_path); required for openai and verl_router.",
    )
    api_key_env: str = option(
        "AWPO_JUDGE_API_KEY",
        help="Environment variable holding the API key, sent as a Bearer token (none when unset or empty); read "
        "once, never logged.",
    )
    max_concurrency: int = option(64, low=1, help="Most requests in flight per process (one judge per reward worker).")
    timeout_s: float = option(30.0, low=0.0, low_exclusive=True, help="Limit of one HTTP attempt, in seconds.")
    max_retries: int = option(
        3,
        low=0,
        help="Further attempts after a timeout, connection error, 429 or 5xx (other 4xx and malformed replies are "
        "not retried).",
    )
    backoff_base_s: float = option(
        0.5,
        low=0.0,
        help="Base of the full-jitter exponential backoff, in seconds: before retry k the judge sleeps a uniform "
        "time in [0, min(backoff_max_s, backoff_base_s·2^k)].",
    )
    backoff_max_s: float = option(
        8.0, low=0.0, help="Cap of one backoff sleep, in seconds; also caps an honoured Retry-After."
    )
    deadline_s: float | None = option(
        None,
        low=0.0,
        low_exclusive=True,
        help="Most time one sample's judging may take once it holds a concurrency slot, in seconds; null = "
        "(max_retries + 1)·timeout_s + max_retries·backoff_max_s.",
    )
    temperature: float = option(0.0, low=0.0, help="Sampling temperature sent to the judge.")
    max_tokens: int = option(512, low=1, help="The judge's completion budget, in tokens.")
    seed: int | None = option(None, low=0, help="Sampling seed sent with each request (vLLM honours it); null: none.")
    extra_body: dict[str, Any] = option(
        default_factory=dict,
        help="Further request fields, e.g. {chat_template_kwargs: {enable_thinking: false}} for a Qwen3 judge on "
        "vLLM; may not set messages, model, n or stream.",
    )
    structured_output: str = option(
        "none",
        choices=STRUCTURED_OUTPUTS,
        help="regex: each request carries vLLM's structured_outputs {regex: ...}, so the reply is a short text "
        "without '<' followed by <score>N</score> with N an integer 0-10 (vLLM >= 0.10.2; other servers reject "
        "or ignore the field); none: free text. Either way the reply is parsed strictly.",
    )
    include_reference: bool = option(False, help="Show the reference (gold) action to the judge.")
    cache_size: int = option(
        100_000,
        low=0,
        help="Entries of the LRU cache of successful scores, keyed by the SHA-256 of the request body; 0 disables.",
    )
    max_block_chars: int = option(
        12_000, low=256, help="Longest content of one prompt block, in characters (cut in the middle beyond)."
    )
    rubric_path: str | None = option(
        None, help="A rubric file in the format of awpo/rewards/judge/prompts/rubric_v1.md; null: the built-in one."
    )
    fallback: str = option(
        "none",
        choices=FALLBACKS,
        help="What a sample gets when a model backend fails: none (q missing) or rule (the rule score; the failure "
        "is still counted).",
    )
    circuit_breaker_failures: int = option(
        32,
        low=0,
        help="Consecutive transport failures after which requests are skipped for circuit_breaker_cooldown_s; "
        "0 disables the breaker.",
    )
    circuit_breaker_cooldown_s: float = option(30.0, low=0.0, help="How long the breaker stays open, in seconds.")

    def __hash__(self) -> int:
        """A hash over every field (``extra_body`` as canonical JSON), so a config can key a per-process judge."""
        fields = dataclasses.asdict(self)
        fields["extra_body"] = json.dumps(self.extra_body, sort_keys=True)
        return hash(tuple(sorted(fields.items())))

    def check(self) -> None:
        """Rules over several fields: endpoint, key variable, backoff, extra body and rubric."""
        for name in ("base_url", "model", "rubric_path"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise self.error(name, f"expected a non-empty string or null, got {value!r}")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise self.error("base_url", "must start with http:// or https://")
        if self.backend == "openai" and self.base_url is None:
            raise self.error("base_url", "required for backend=openai (e.g. http://127.0.0.1:8000/v1)")
        if self.backend in ("openai", "verl_router") and self.model is None:
            raise self.error("model", f"required for backend={self.backend}")
        if not _ENV_NAME.fullmatch(self.api_key_env):
            raise self.error("api_key_env", "expected an environment variable name")
        if self.backoff_max_s < self.backoff_base_s:
            raise self.error(
                "backoff_max_s", f"must be >= backoff_base_s ({self.backoff_base_s}), got {self.backoff_max_s!r}"
            )
        reserved = sorted(set(self.extra_body) & set(RESERVED_BODY_KEYS))
        if reserved:
            raise self.error("extra_body", f"may not set {', '.join(reserved)}")
        if self.structured_output != "none" and STRUCTURED_OUTPUTS_FIELD in self.extra_body:
            raise self.error(
                "extra_body", f"may not set {STRUCTURED_OUTPUTS_FIELD} when structured_output={self.structured_output}"
            )
        try:
            json.dumps(self.extra_body, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise self.error("extra_body", f"not JSON-serialisable: {error}") from error
        try:
            template = self.rubric()
        except RubricError as error:
            raise self.error("rubric_path", str(error)) from error
        if self.include_reference and not template.has_reference:
            raise self.error(
                "rubric_path",
                f"include_reference=true needs a {{{{reference}}}} placeholder in {template.source!r}",
            )

    def rubric(self) -> RubricTemplate:
        """The configured rubric (loaded once per process and path)."""
        return load_rubric(self.rubric_path)

    @property
    def effective_deadline_s(self) -> float:
        """``deadline_s``, or the default bound derived from the timeout, retries and backoff cap (seconds)."""
        if self.deadline_s is not None:
            return self.deadline_s
        return (self.max_retries + 1) * self.timeout_s + self.max_retries * self.backoff_max_s

    def api_key(self) -> str | None:
        """The API key from ``api_key_env``, or None when the variable is unset or empty."""
        return os.environ.get(self.api_key_env) or None

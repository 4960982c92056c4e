"""``reward.reward_kwargs.judge.*`` settings: defaults, overrides, and errors that name the key."""

from __future__ import annotations

import logging

import pytest
from omegaconf import OmegaConf

from awpo.options import ConfigError
from awpo.rewards.judge import Judge, JudgeConfig


def test_defaults() -> None:
    config = JudgeConfig.from_mapping(None)
    assert config == JudgeConfig()
    assert (config.backend, config.api_key_env, config.max_concurrency, config.timeout_s) == (
        "rule",
        "AWPO_JUDGE_API_KEY",
        64,
        30.0,
    )
    assert (config.max_retries, config.backoff_base_s, config.backoff_max_s) == (3, 0.5, 8.0)
    assert (config.temperature, config.max_tokens, config.include_reference, config.cache_size) == (
        0.0,
        512,
        False,
        100_000,
    )
    assert config.fallback == "none"
    assert config.effective_deadline_s == 4 * 30.0 + 3 * 8.0


def test_reads_dictconfig_and_mapping_alike() -> None:
    block = {
        "backend": "openai",
        "base_url": "http://127.0.0.1:8000/v1",
        "model": "Qwen/Qwen3-8B",
        "timeout_s": 5,
        "extra_body": {"chat_template_kwargs": {"enable_thinking": False}},
        "include_reference": True,
        "deadline_s": 12,
    }
    from_dictconfig = JudgeConfig.from_mapping(OmegaConf.create(block))
    assert from_dictconfig == JudgeConfig.from_mapping(block)
    assert from_dictconfig.timeout_s == 5.0 and isinstance(from_dictconfig.timeout_s, float)
    assert from_dictconfig.extra_body == {"chat_template_kwargs": {"enable_thinking": False}}
    assert from_dictconfig.effective_deadline_s == 12.0


def test_resolves_interpolations_against_the_whole_config() -> None:
    root = OmegaConf.create(
        {
            "reward": {
                "reward_model": {"model_path": "Qwen/Qwen3-8B"},
                "reward_kwargs": {"judge": {"backend": "verl_router", "model": "${reward.reward_model.model_path}"}},
            }
        }
    )
    assert JudgeConfig.from_mapping(root.reward.reward_kwargs.judge).model == "Qwen/Qwen3-8B"


@pytest.mark.parametrize(
    ("block", "key"),
    [
        ({"bakend": "rule"}, "bakend"),
        ({"backend": "vllm"}, "backend"),
        ({"backend": "openai", "model": "m"}, "base_url"),
        ({"backend": "openai", "base_url": "127.0.0.1:8000/v1", "model": "m"}, "base_url"),
        ({"backend": "openai", "base_url": "http://h/v1"}, "model"),
        ({"backend": "verl_router"}, "model"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": 4.0}, "max_concurrency"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": "30"}, "timeout_s"),
        ({"max_retries": -1}, "max_retries"),
        ({"backoff_base_s": 2.0, "backoff_max_s": 1.0}, "backoff_max_s"),
        ({"deadline_s": 0}, "deadline_s"),
        ({"temperature": float("nan")}, "temperature"),
        ({"max_tokens": True}, "max_tokens"),
        ({"include_reference": "yes"}, "include_reference"),
        ({"cache_size": -1}, "cache_size"),
        ({"max_block_chars": 10}, "max_block_chars"),
        ({"fallback": "zero"}, "fallback"),
        ({"api_key_env": "MY KEY"}, "api_key_env"),
        ({"extra_body": {"messages": []}}, "extra_body"),
        ({"extra_body": [1]}, "extra_body"),
        ({"rubric_path": "/nonexistent/rubric.md"}, "rubric_path"),
        ({"circuit_breaker_failures": -1}, "circuit_breaker_failures"),
        ({"seed": 1.5}, "seed"),
        ({"structured_output": "json"}, "structured_output"),
        ({"structured_output": "regex", "extra_body": {"structured_outputs": {"regex": "x"}}}, "extra_body"),
    ],
)
def test_bad_settings_name_the_key(block: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"^reward\.reward_kwargs\.judge\.{key}:"):
        JudgeConfig.from_mapping(block)


def test_a_non_mapping_block_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"^reward\.reward_kwargs\.judge:"):
        JudgeConfig.from_mapping(["backend", "rule"])


def test_custom_rubric_files_are_checked(tmp_path) -> None:
    good = tmp_path / "good.md"
    good.write_text(
        "<!-- role: system -->\nGrade it.\n<!-- role: user -->\n{{tools}}\n{{conversation}}\n{{reasoning}}\n"
        "{{action}}\n<score>N</score>\n",
        encoding="utf-8",
    )
    assert JudgeConfig(rubric_path=str(good)).rubric_path == str(good)
    with pytest.raises(ConfigError, match=r"judge\.rubric_path: .*reference"):
        JudgeConfig(rubric_path=str(good), include_reference=True)
    missing = tmp_path / "missing.md"
    missing.write_text(
        "<!-- role: system -->\nGrade.\n<!-- role: user -->\n{{reasoning}} {{extra}}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"judge\.rubric_path: .*unknown placeholders \['extra'\]"):
        JudgeConfig(rubric_path=str(missing))


def test_the_api_key_stays_out_of_reprs_and_logs(monkeypatch, caplog) -> None:
    secret = "sk-test-very-secret-0123456789"
    monkeypatch.setenv("MY_JUDGE_KEY", secret)
    config = JudgeConfig.from_mapping(
        {"backend": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": "MY_JUDGE_KEY"}
    )
    caplog.set_level(logging.DEBUG)
    judge = Judge(config)
    assert config.api_key() == secret
    for text in (repr(config), str(config), repr(judge), repr(judge._client), caplog.text):
        assert secret not in text
    monkeypatch.setenv("MY_JUDGE_KEY", "")
    assert config.api_key() is None


def test_verl_router_needs_the_router_address() -> None:
    config = JudgeConfig(backend="verl_router", model="Qwen/Qwen3-8B")
    with pytest.raises(ValueError, match="reward_router_address"):
        Judge(config)
    assert "http://10.0.0.5:31000/v1/chat/completions" in repr(Judge(config, router_address="10.0.0.5:31000"))


def test_configs_are_hashable_by_value() -> None:
    first = JudgeConfig(extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    second = JudgeConfig.from_mapping({"extra_body": {"chat_template_kwargs": {"enable_thinking": False}}})
    assert first == second and hash(first) == hash(second)
    assert len({first, second, JudgeConfig()}) == 2


def test_structured_output_sends_the_score_regex_to_vllm() -> None:
    """``structured_output=regex`` adds vLLM's ``structured_outputs`` field, sized to the completion budget."""
    base = {"backend": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m", "max_tokens": 64}
    free = Judge(JudgeConfig.from_mapping(base))
    constrained = Judge(JudgeConfig.from_mapping({**base, "structured_output": "regex"}))
    assert "structured_outputs" not in free._fixed_body
    assert constrained._fixed_body["structured_outputs"] == {"regex": "[ -;=-~\\n]{0,32}<score>(?:10|[0-9])</score>"}

"""The ``awpo`` reward manager driven through verl's own ``load_reward_manager`` + ``run_single`` on real
``DataProto`` items built with the project's tiny tokenizer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from verl import DataProto
from verl.trainer.ppo.reward import load_reward_manager

from awpo.rewards.judge import JudgeStatus
from awpo.rewards.manager import AWPORewardManager
from awpo.train import compose_config
from tests.judge_server import JudgeServer

TOOLS = json.dumps(
    [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["city"],
                },
            },
        }
    ]
)
GROUND_TRUTH = json.dumps({"calls": [{"name": "get_weather", "arguments": {"city": "Sydney", "days": 3}}]})
MESSAGES = [{"role": "user", "content": "Weather in Sydney for 3 days?"}]
RESPONSE_LENGTH = 96
EXTRA_KEYS = {
    "score",
    "outcome",
    "format",
    "exact_match",
    "correct_name",
    "n_pred_calls",
    "n_gold_calls",
    "reasoning",
    "judge_status",
    "judge_latency_s",
    "judge_cache_hit",
    "judge_clamped",
}


def rollout(tokenizer, response: str, ground_truth: str = GROUND_TRUTH) -> DataProto:
    """One trajectory as verl's agent loop hands it to the reward manager: left-padded prompt, right-padded
    response, the dataset columns in ``non_tensor_batch``."""
    prompt = tokenizer.apply_chat_template(
        MESSAGES, tools=json.loads(TOOLS), add_generation_prompt=True, tokenize=False
    )
    prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
    response_ids = tokenizer.encode(response + tokenizer.eos_token, add_special_tokens=False)[:RESPONSE_LENGTH]
    padded = response_ids + [tokenizer.pad_token_id] * (RESPONSE_LENGTH - len(response_ids))
    attention = [1] * len(prompt_ids) + [1] * len(response_ids) + [0] * (RESPONSE_LENGTH - len(response_ids))
    return DataProto.from_single_dict(
        {
            "prompts": torch.tensor([prompt_ids]),
            "responses": torch.tensor([padded]),
            "attention_mask": torch.tensor([attention]),
            "data_source": np.array(["xlam"], dtype=object),
            "reward_model": np.array([{"style": "rule", "ground_truth": ground_truth}], dtype=object),
            "extra_info": np.array([{"tools": TOOLS, "index": 0}], dtype=object),
            "raw_prompt": np.array([MESSAGES], dtype=object),
        }
    )


def call_text(arguments: dict, reasoning: str = "The user wants the weather.") -> str:
    body = json.dumps({"name": "get_weather", "arguments": arguments})
    return f"<think>\n{reasoning}\n</think>\n\n<tool_call>\n{body}\n</tool_call>"


@pytest.mark.asyncio
async def test_load_reward_manager_and_run_single(tiny_tokenizer) -> None:
    config = compose_config(["reward.reward_kwargs.outcome=binary"])
    manager = load_reward_manager(config, tiny_tokenizer, reward_router_address=None, reward_model_tokenizer=None)
    assert isinstance(manager, AWPORewardManager)

    correct = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": 3})))
    assert correct["reward_score"] == 1.0
    assert set(correct["reward_extra_info"]) == EXTRA_KEYS
    assert correct["reward_extra_info"]["outcome"] == 1.0
    assert 0.0 <= correct["reward_extra_info"]["reasoning"] <= 1.0  # the default rule judge
    assert correct["reward_extra_info"]["judge_status"] == float(JudgeStatus.OK)

    wrong = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": "3"})))
    assert wrong["reward_score"] == 0.0
    assert set(wrong["reward_extra_info"]) == EXTRA_KEYS

    garbage = await manager.run_single(rollout(tiny_tokenizer, "I think the weather is nice"))
    assert garbage["reward_score"] == 0.0
    assert garbage["reward_extra_info"]["format"] == 0.0


@pytest.mark.asyncio
async def test_fine_mode_and_default_options(tiny_tokenizer) -> None:
    manager = load_reward_manager(compose_config(), tiny_tokenizer)
    partial_credit = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": "3"})))
    assert partial_credit["reward_score"] == pytest.approx(2.5 / 3)


@pytest.mark.asyncio
async def test_custom_reward_function_computes_the_outcome(tiny_tokenizer, tmp_path) -> None:
    module = tmp_path / "my_reward.py"
    module.write_text(
        "def my_score(data_source, solution_str, ground_truth, extra_info=None):\n"
        "    return {'score': 0.25, 'bonus': 1}\n"
    )
    config = compose_config(
        [f"reward.custom_reward_function.path={module}", "reward.custom_reward_function.name=my_score"]
    )
    manager = load_reward_manager(config, tiny_tokenizer)
    result = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney"})))
    assert result["reward_score"] == 0.25
    assert result["reward_extra_info"]["outcome"] == 0.25
    assert result["reward_extra_info"]["bonus"] == 1.0
    assert 0.0 <= result["reward_extra_info"]["reasoning"] <= 1.0


def test_bad_reward_kwargs_name_the_key(tiny_tokenizer) -> None:
    with pytest.raises(ValueError, match=r"reward\.reward_kwargs\.outcome: unknown value 'exact'"):
        load_reward_manager(compose_config(["reward.reward_kwargs.outcome=exact"]), tiny_tokenizer)
    with pytest.raises(ValueError, match=r"reward\.reward_kwargs\.strict: unknown key"):
        load_reward_manager(compose_config(["+reward.reward_kwargs.strict=true"]), tiny_tokenizer)


@pytest.mark.asyncio
async def test_malformed_ground_truth_is_a_clear_error(tiny_tokenizer) -> None:
    manager = load_reward_manager(compose_config(), tiny_tokenizer)
    with pytest.raises(ValueError, match="ground truth is not valid JSON"):
        await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney"}), ground_truth="oops"))


@pytest.mark.asyncio
async def test_rule_judge_ranks_grounded_reasoning_above_contradictory(tiny_tokenizer) -> None:
    manager = load_reward_manager(compose_config(), tiny_tokenizer)
    grounded = call_text(
        {"city": "Sydney", "days": 3},
        "The user asks for the weather in Sydney for 3 days. get_weather takes a city and a number of days, "
        "so I will call get_weather with city Sydney and days 3.",
    )
    contradictory = call_text(
        {"city": "Paris", "days": 9}, "No tool is needed here; I will just answer from memory without calling anything."
    )
    good = await manager.run_single(rollout(tiny_tokenizer, grounded))
    bad = await manager.run_single(rollout(tiny_tokenizer, contradictory))
    assert good["reward_extra_info"]["reasoning"] > bad["reward_extra_info"]["reasoning"]


@pytest.mark.asyncio
async def test_empty_reasoning_is_missing_not_zero(tiny_tokenizer) -> None:
    manager = load_reward_manager(compose_config(), tiny_tokenizer)
    result = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": 3}, reasoning="")))
    assert result["reward_score"] == 1.0
    assert math.isnan(result["reward_extra_info"]["reasoning"])
    assert result["reward_extra_info"]["judge_status"] == float(JudgeStatus.NO_REASONING)


@pytest.mark.asyncio
async def test_openai_judge_scores_through_a_real_server(tiny_tokenizer) -> None:
    with JudgeServer(score="8") as server:
        config = compose_config(
            [
                "reward.reward_kwargs.judge.backend=openai",
                f"reward.reward_kwargs.judge.base_url={server.base_url}",
                "reward.reward_kwargs.judge.model=judge",
            ]
        )
        manager = load_reward_manager(config, tiny_tokenizer)
        first = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": 3})))
        again = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": 3})))
        assert server.request_count == 1
    assert first["reward_extra_info"]["reasoning"] == pytest.approx(0.8)
    assert again["reward_extra_info"]["judge_cache_hit"] == 1.0
    request_text = json.dumps(server.requests[0].body)
    assert "get_weather" in request_text and "The user wants the weather." in request_text


@pytest.mark.asyncio
async def test_judge_outage_degrades_to_missing_reasoning(tiny_tokenizer) -> None:
    config = compose_config(
        [
            "reward.reward_kwargs.judge.backend=openai",
            "reward.reward_kwargs.judge.base_url=http://127.0.0.1:9/v1",
            "reward.reward_kwargs.judge.model=judge",
            "reward.reward_kwargs.judge.max_retries=1",
            "reward.reward_kwargs.judge.backoff_base_s=0.01",
            "reward.reward_kwargs.judge.backoff_max_s=0.02",
        ]
    )
    manager = load_reward_manager(config, tiny_tokenizer)
    result = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": 3})))
    assert result["reward_score"] == 1.0
    assert math.isnan(result["reward_extra_info"]["reasoning"])
    assert result["reward_extra_info"]["judge_status"] == float(JudgeStatus.CONNECTION)


def test_bad_judge_settings_name_the_key(tiny_tokenizer) -> None:
    with pytest.raises(ValueError, match=r"reward\.reward_kwargs\.judge\.backend"):
        load_reward_manager(compose_config(["reward.reward_kwargs.judge.backend=gpt"]), tiny_tokenizer)

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

from awpo.rewards.manager import AWPORewardManager
from recipe.awpo.compose import compose_awpo_config

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
EXTRA_KEYS = {"score", "outcome", "format", "exact_match", "correct_name", "n_pred_calls", "n_gold_calls", "reasoning"}


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


def call_text(arguments: dict) -> str:
    body = json.dumps({"name": "get_weather", "arguments": arguments})
    return f"<think>\nThe user wants the weather.\n</think>\n\n<tool_call>\n{body}\n</tool_call>"


@pytest.mark.asyncio
async def test_load_reward_manager_and_run_single(tiny_tokenizer) -> None:
    config = compose_awpo_config(["reward.reward_kwargs.outcome=binary"])
    manager = load_reward_manager(config, tiny_tokenizer, reward_router_address=None, reward_model_tokenizer=None)
    assert isinstance(manager, AWPORewardManager)

    correct = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": 3})))
    assert correct["reward_score"] == 1.0
    assert set(correct["reward_extra_info"]) == EXTRA_KEYS
    assert correct["reward_extra_info"]["outcome"] == 1.0
    assert math.isnan(correct["reward_extra_info"]["reasoning"])

    wrong = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": "3"})))
    assert wrong["reward_score"] == 0.0
    assert set(wrong["reward_extra_info"]) == EXTRA_KEYS

    garbage = await manager.run_single(rollout(tiny_tokenizer, "I think the weather is nice"))
    assert garbage["reward_score"] == 0.0
    assert garbage["reward_extra_info"]["format"] == 0.0


@pytest.mark.asyncio
async def test_fine_mode_and_default_options(tiny_tokenizer) -> None:
    manager = load_reward_manager(compose_awpo_config(), tiny_tokenizer)
    partial_credit = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney", "days": "3"})))
    assert partial_credit["reward_score"] == pytest.approx(2.5 / 3)


@pytest.mark.asyncio
async def test_custom_reward_function_computes_the_outcome(tiny_tokenizer, tmp_path) -> None:
    module = tmp_path / "my_reward.py"
    module.write_text(
        "def my_score(data_source, solution_str, ground_truth, extra_info=None):\n"
        "    return {'score': 0.25, 'bonus': 1}\n"
    )
    config = compose_awpo_config(
        [f"reward.custom_reward_function.path={module}", "reward.custom_reward_function.name=my_score"]
    )
    manager = load_reward_manager(config, tiny_tokenizer)
    result = await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney"})))
    assert result["reward_score"] == 0.25
    assert result["reward_extra_info"]["outcome"] == 0.25
    assert result["reward_extra_info"]["bonus"] == 1.0
    assert math.isnan(result["reward_extra_info"]["reasoning"])


def test_bad_reward_kwargs_name_the_key(tiny_tokenizer) -> None:
    with pytest.raises(ValueError, match=r"reward\.reward_kwargs\.outcome: unknown value 'exact'"):
        load_reward_manager(compose_awpo_config(["reward.reward_kwargs.outcome=exact"]), tiny_tokenizer)
    with pytest.raises(ValueError, match=r"reward\.reward_kwargs\.strict: unknown option"):
        load_reward_manager(compose_awpo_config(["+reward.reward_kwargs.strict=true"]), tiny_tokenizer)


@pytest.mark.asyncio
async def test_malformed_ground_truth_is_a_clear_error(tiny_tokenizer) -> None:
    manager = load_reward_manager(compose_awpo_config(), tiny_tokenizer)
    with pytest.raises(ValueError, match="ground truth is not valid JSON"):
        await manager.run_single(rollout(tiny_tokenizer, call_text({"city": "Sydney"}), ground_truth="oops"))

"""The ``awpo_multiturn_agent`` loop with a scripted model (a fake rollout server that returns fixed generations) and
the ``awpo`` reward manager on its episodes: executed calls, tool results and user turns masked out of the loss,
error results instead of crashes, the step, result and length limits, missed-function turns, separate states for
concurrent episodes, and multi-turn rewards with the single-turn rows' keys."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import torch
from verl import DataProto
from verl.trainer.ppo.reward import load_reward_manager
from verl.workers.rollout.replica import TokenOutput

from awpo.multiturn.bfcl_tasks import load_bfcl_tasks
from awpo.multiturn.environment import ERROR_PREFIX
from awpo.multiturn.episode import COMPLETED, EXTRA_FIELD, RESPONSE_LENGTH, STEP_LIMIT, EpisodeRecord
from awpo.multiturn.task import AGENT_NAME, MultiTurnTask, announcement
from awpo.train import compose_config
from data_preprocess.multiturn import task_row
from tests.bfcl_cases import calls_response
from tests.conftest import agent_loop
from tests.test_reward_manager import EXTRA_KEYS

DONE = "<think>\nThe request is done.\n</think>\n\nDone."
LENGTHS = ("actor_rollout_ref.rollout.prompt_length=16384", "actor_rollout_ref.rollout.response_length=8192")

TICKETS = MultiTurnTask(
    task_id="tickets_0",
    involved_classes=("TicketAPI",),
    initial_config={"TicketAPI": {"ticket_queue": [], "ticket_counter": 1, "current_user": "ana"}},
    turns=(
        ({"role": "user", "content": "Open a ticket titled Printer broken."},),
        ({"role": "user", "content": "Now close ticket 1."},),
    ),
    ground_truth=(
        ({"name": "create_ticket", "arguments": {"title": "Printer broken"}},),
        ({"name": "close_ticket", "arguments": {"ticket_id": 1}},),
    ),
    source="test",
)


class ScriptedServer:
    """A rollout server whose model says the given texts in order (then ``DONE``); records every request."""

    def __init__(self, tokenizer: Any, texts: Sequence[str]) -> None:
        self.tokenizer = tokenizer
        self.texts = list(texts)
        self.generated: list[list[int]] = []
        self.max_tokens: list[int] = []

    async def generate(self, *, request_id: str, prompt_ids: list[int], sampling_params: dict, **_: Any) -> TokenOutput:
        text = self.texts.pop(0) if self.texts else DONE
        ids = self.tokenizer.encode(text + "<|im_end|>", add_special_tokens=False)[: sampling_params["max_tokens"]]
        self.generated.append(ids)
        self.max_tokens.append(sampling_params["max_tokens"])
        return TokenOutput(token_ids=ids, log_probs=None, stop_reason="completed")


def ground_truth_script(task: MultiTurnTask) -> list[str]:
    """Each turn: one generation with the turn's calls (when it has any), then one that calls nothing."""
    script = []
    for calls in task.ground_truth:
        if calls:
            script.append(calls_response(list(calls)))
        script.append(DONE)
    return script


@functools.cache
def config_with(*overrides: str) -> Any:
    return compose_config([*LENGTHS, *overrides])


async def play(
    tokenizer: Any, task: MultiTurnTask, texts: Sequence[str], *overrides: str
) -> tuple[Any, EpisodeRecord, ScriptedServer, dict]:
    config = config_with(*overrides)
    server = ScriptedServer(tokenizer, texts)
    loop = agent_loop(AGENT_NAME, config, server, tokenizer)
    row = task_row(task, "train", 0, "multiturn")
    item = {"raw_prompt": row["prompt"], "reward_model": row["reward_model"], "extra_info": row["extra_info"]}
    output = await loop.run({"temperature": 1.0}, **item)
    return output, EpisodeRecord.from_json(output.extra_fields[EXTRA_FIELD]), server, row


def tool_messages(record: EpisodeRecord) -> list[str]:
    return [message["content"] for message in record.messages if message["role"] == "tool"]


@pytest.mark.asyncio
async def test_ground_truth_episode_executes_every_turn_and_masks_the_context(tiny_tokenizer) -> None:
    task = load_bfcl_tasks("multi_turn_base")[0]  # file system + posting, four turns
    output, record, server, _ = await play(tiny_tokenizer, task, ground_truth_script(task))
    assert record.end == COMPLETED
    assert record.calls_by_turn() == [[list(calls), []] for calls in task.ground_truth]
    # the response mask is 1 exactly on the generated tokens, in order
    generated = [token for token, mask in zip(output.response_ids, output.response_mask, strict=True) if mask]
    assert generated == [token for ids in server.generated for token in ids]
    context = tiny_tokenizer.decode(
        [t for t, m in zip(output.response_ids, output.response_mask, strict=True) if not m]
    )
    assert "<tool_response>" in context and '"current_working_directory": "document"' in context
    assert task.turns[1][0]["content"] in context  # the scripted user's second turn
    assert "<tool_call>" not in context
    assert output.num_turns == len(record.messages)


@pytest.mark.asyncio
async def test_bad_calls_become_error_results_and_the_episode_goes_on(tiny_tokenizer) -> None:
    bad = [
        {"name": "no_such_function", "arguments": {}},
        {"name": "_load_scenario", "arguments": {"scenario": {}}},
        {"name": "create_ticket", "arguments": {"title": "x", "color": "red"}},
        {"name": "create_ticket", "arguments": ["not", "an", "object"]},
        {"name": "get_ticket", "arguments": {"ticket_id": "__import__('os').system('id')"}},
    ]
    script = [calls_response(bad), calls_response([{"name": "create_ticket", "arguments": {"title": "ok"}}] * 3)]
    _, record, _, _ = await play(tiny_tokenizer, TICKETS, script, "multiturn.max_calls_per_step=2")
    results = tool_messages(record)
    assert len(results) == len(bad) + 3
    assert all(result.startswith(ERROR_PREFIX) for result in results[:4])
    assert "not executed" in results[2] and "not executed" in results[-1]  # beyond two calls per generation
    assert record.end == COMPLETED and len(record.turns) == 2
    assert [len(step.calls) for step in record.turns[0]] == [2, 2, 0]


@pytest.mark.asyncio
async def test_a_turn_that_keeps_calling_ends_the_episode_at_the_step_limit(tiny_tokenizer) -> None:
    call = calls_response([{"name": "get_user_tickets", "arguments": {}}])
    _, record, server, _ = await play(tiny_tokenizer, TICKETS, [call] * 50, "multiturn.max_steps_per_turn=3")
    assert record.end == STEP_LIMIT
    assert len(record.turns) == 1 and len(record.turns[0]) == 4  # bfcl-eval's rule: stop after limit + 1
    assert len(server.generated) == 4


@pytest.mark.asyncio
async def test_long_results_are_cut_and_the_token_budget_ends_the_episode(tiny_tokenizer) -> None:
    task = load_bfcl_tasks("multi_turn_base")[0]
    cat = calls_response([{"name": "cd", "arguments": {"folder": "document"}}, {"name": "ls", "arguments": {}}])
    _, record, _, _ = await play(tiny_tokenizer, task, [cat], "multiturn.max_result_chars=40")
    assert any("...(truncated)..." in result and len(result) <= 40 for result in tool_messages(record))

    output, record, server, _ = await play(
        tiny_tokenizer,
        TICKETS,
        ground_truth_script(TICKETS),
        "actor_rollout_ref.rollout.response_length=60",
        "multiturn.max_tokens_per_step=50",
    )
    assert record.end == RESPONSE_LENGTH
    assert len(output.response_ids) <= 60
    assert server.max_tokens[0] == 50 and all(tokens <= 60 for tokens in server.max_tokens)


@pytest.mark.asyncio
async def test_missed_function_turn_announces_the_function(tiny_tokenizer) -> None:
    task = next(task for task in load_bfcl_tasks("multi_turn_miss_func") if task.missed_functions)
    (turn, names), *_ = task.missed_functions.items()
    _, record, _, row = await play(tiny_tokenizer, task, ground_truth_script(task))
    shown = {tool["function"]["name"] for tool in json.loads(row["extra_info"]["tools"])}
    assert not shown & set(names)
    user_turns = [message["content"] for message in record.messages if message["role"] == "user"]
    assert user_turns[turn] == announcement(task.involved_classes, names)
    assert record.end == COMPLETED


@pytest.mark.asyncio
async def test_two_concurrent_episodes_of_one_task_keep_separate_states(tiny_tokenizer) -> None:
    def opens(title: str) -> list[str]:
        return [calls_response([{"name": "create_ticket", "arguments": {"title": title}}]), DONE, DONE]

    (_, first, _, _), (_, second, _, _) = await asyncio.gather(
        play(tiny_tokenizer, TICKETS, opens("first")), play(tiny_tokenizer, TICKETS, opens("second"))
    )
    assert json.loads(tool_messages(first)[0])["title"] == "first"
    assert json.loads(tool_messages(second)[0])["id"] == 1  # its own counter, not the other episode's


def episode_data(output: Any, row: dict) -> DataProto:
    """One finished episode as verl hands it to the reward manager."""
    prompt, response = output.prompt_ids, output.response_ids
    return DataProto.from_single_dict(
        {
            "prompts": torch.tensor([prompt]),
            "responses": torch.tensor([response]),
            "attention_mask": torch.ones(1, len(prompt) + len(response), dtype=torch.long),
            "data_source": np.array([row["data_source"]], dtype=object),
            "reward_model": np.array([row["reward_model"]], dtype=object),
            "extra_info": np.array([row["extra_info"]], dtype=object),
            "raw_prompt": np.array([row["prompt"]], dtype=object),
            "tool_extra_fields": np.array([output.extra_fields], dtype=object),
        }
    )


@pytest.mark.asyncio
async def test_reward_manager_scores_episodes_with_the_single_turn_keys(tiny_tokenizer) -> None:
    task = load_bfcl_tasks("multi_turn_base")[0]
    binary = load_reward_manager(config_with("reward.reward_kwargs.outcome=binary"), tiny_tokenizer)
    fine = load_reward_manager(config_with(), tiny_tokenizer)

    output, _, _, row = await play(tiny_tokenizer, task, ground_truth_script(task))
    solved = await binary.run_single(episode_data(output, row))
    assert set(solved["reward_extra_info"]) == EXTRA_KEYS
    assert solved["reward_score"] == 1.0
    info = solved["reward_extra_info"]
    assert (info["exact_match"], info["format"], info["correct_name"]) == (1.0, 1.0, 1.0)
    assert info["n_pred_calls"] == info["n_gold_calls"] == sum(map(len, task.ground_truth))
    assert 0.0 <= info["reasoning"] <= 1.0  # the rule judge read the whole trajectory

    first_turn_only = [calls_response(list(task.ground_truth[0])), DONE, DONE, DONE, DONE]
    output, _, _, row = await play(tiny_tokenizer, task, first_turn_only)
    assert (await binary.run_single(episode_data(output, row)))["reward_score"] == 0.0
    partial = await fine.run_single(episode_data(output, row))
    assert partial["reward_score"] == pytest.approx(1 / task.num_turns)
    assert set(partial["reward_extra_info"]) == EXTRA_KEYS

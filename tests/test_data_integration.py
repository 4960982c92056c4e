"""Converted data end to end: verl's RLHFDataset loads it with a real tokenizer, the awpo_tool_agent loop renders the
prompt with the model's chat template and the sample's own tools, and every converted ground truth scores 1.0 when
the response is the ground truth itself."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from verl.utils.dataset.rl_dataset import RLHFDataset, get_dataset_class
from verl.utils.tokenizer import normalize_token_ids
from verl.workers.rollout.replica import TokenOutput

from awpo.dataset import AWPOToolDataset
from awpo.rewards.score import compute_score
from awpo.rows import AGENT_NAME, messages_for_chat_template
from awpo.tools import sample_tools
from awpo.train import compose_config
from data_preprocess import bfcl
from tests.conftest import agent_loop
from tests.converter_rows import TRAINING_CONVERTERS

# BFCL's own answers make these entries unsatisfiable for any response (a required argument without an acceptable
# value, or an answer argument the schema does not declare); bfcl-eval's checker rejects every answer to them too.
BFCL_UNSATISFIABLE = {
    "live_simple_106-63-0",
    "live_simple_112-68-0",
    "live_multiple_507-149-4",
    "live_multiple_862-181-3",
    "live_multiple_964-207-0",
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every converter run on its fixture (the chat converter on each of its formats; BFCL on the installed data),
    val split included."""
    import datasets

    root = tmp_path_factory.mktemp("converted")
    datasets.config.HF_DATASETS_CACHE = str(root / "hf_cache")
    outputs = {}
    for name, main, source in TRAINING_CONVERTERS:
        outputs[name] = root / name
        assert main(["--input", str(source), "--output-dir", str(outputs[name]), "--val-ratio", "0"]) == 0
    outputs["bfcl"] = root / "bfcl"
    assert bfcl.main(["--output-dir", str(outputs["bfcl"])]) == 0
    return outputs


def training_files(converted: dict[str, Path]) -> list[str]:
    """The ``train.parquet`` of every training converter (all but BFCL)."""
    return [str(directory / "train.parquet") for name, directory in converted.items() if name != "bfcl"]


def parquet_files(converted: dict[str, Path]) -> list[Path]:
    return [path for directory in converted.values() for path in sorted(directory.glob("*.parquet"))]


def ground_truth_response(ground_truth: str) -> str:
    calls = json.loads(ground_truth)["calls"]
    if not calls:
        return "<think>\nNone of the tools applies.\n</think>\n\nI cannot help with that using the available tools."
    blocks = "\n".join(f"<tool_call>\n{json.dumps(call)}\n</tool_call>" for call in calls)
    return f"<think>\nThe request maps onto these calls.\n</think>\n\n{blocks}"


def test_every_converted_ground_truth_scores_one(converted: dict[str, Path]) -> None:
    scored = 0
    for path in parquet_files(converted):
        for row in pq.read_table(path).to_pylist():
            if row["data_source"].startswith("bfcl") and row["extra_info"]["source_id"] in BFCL_UNSATISFIABLE:
                continue
            ground_truth = row["reward_model"]["ground_truth"]
            response = ground_truth_response(ground_truth)
            for mode in ("fine", "binary"):
                result = compute_score(row["data_source"], response, ground_truth, row["extra_info"], outcome=mode)
                assert result["score"] == 1.0, (path, row["extra_info"]["source_id"], mode, result)
            scored += 1
    assert scored > 3_400


def test_rlhf_dataset_loads_the_rows(converted: dict[str, Path], tiny_tokenizer) -> None:
    config = compose_config(["data.max_prompt_length=4096", "data.filter_overlong_prompts=true"]).data
    files = training_files(converted)
    dataset = RLHFDataset(files, tiny_tokenizer, config)
    rows = sum(pq.read_metadata(path).num_rows for path in files)
    assert len(dataset) == rows
    item = dataset[0]
    assert item["agent_name"] == AGENT_NAME
    assert item["data_source"] in {"toolace", "xlam", "hammer", "rlla", "chat"}
    assert isinstance(item["raw_prompt"], list) and item["raw_prompt"][-1]["role"] in {"user", "tool"}
    assert json.loads(item["reward_model"]["ground_truth"])["calls"] is not None
    assert sample_tools(item["extra_info"])


def rendered_length(tokenizer, row: dict) -> int:
    """Prompt tokens as the awpo_tool_agent loop renders the row (its own tools, generation prompt)."""
    messages = messages_for_chat_template(list(row["prompt"]))
    token_ids = tokenizer.apply_chat_template(
        messages, tools=sample_tools(row["extra_info"]), add_generation_prompt=True, tokenize=True
    )
    return len(normalize_token_ids(token_ids))


def test_the_recipe_filters_overlong_prompts_with_their_tools(converted: dict[str, Path], tiny_tokenizer) -> None:
    files = training_files(converted)
    rows = [row for path in files for row in pq.read_table(path).to_pylist()]
    lengths = sorted(rendered_length(tiny_tokenizer, row) for row in rows)
    limit = lengths[len(lengths) // 2]
    expected = sum(length <= limit for length in lengths)
    config = compose_config([f"data.max_prompt_length={limit}", "data.filter_overlong_prompts=true"]).data
    assert get_dataset_class(config) is AWPOToolDataset
    dataset = AWPOToolDataset(files, tiny_tokenizer, config)
    assert 0 < len(dataset) == expected < len(rows)
    kept = [dataset.dataframe[index] for index in range(len(dataset))]
    assert max(rendered_length(tiny_tokenizer, row) for row in kept) <= limit
    # verl's own filter measures the prompts without their tools and keeps every one of them
    assert len(RLHFDataset(files, tiny_tokenizer, config)) == len(rows)


class RecordingServer:
    """Stands in for the rollout server: records the prompt token ids and returns a fixed response."""

    def __init__(self, response_ids: list[int]) -> None:
        self.response_ids = response_ids
        self.prompts: list[list[int]] = []

    async def generate(self, *, request_id: str, prompt_ids: list[int], sampling_params: dict, **kwargs) -> TokenOutput:
        self.prompts.append(list(prompt_ids))
        return TokenOutput(token_ids=self.response_ids, log_probs=None, stop_reason="completed")


@pytest.mark.asyncio
async def test_agent_loop_renders_each_sample_with_its_own_tools(converted: dict[str, Path], tiny_tokenizer) -> None:
    config = compose_config(["actor_rollout_ref.rollout.prompt_length=4096"])
    files = training_files(converted)
    dataset = RLHFDataset(files, tiny_tokenizer, config.data)
    response_ids = tiny_tokenizer.encode("<think>\nok\n</think>\n\nNo tool.<|im_end|>", add_special_tokens=False)
    checked = 0
    for index in range(len(dataset)):
        item = dataset[index]
        server = RecordingServer(response_ids)
        loop = agent_loop(item["agent_name"], config, server, tiny_tokenizer)
        output = await loop.run({"temperature": 1.0}, **{k: v for k, v in item.items() if k != "agent_name"})
        tools = json.loads(item["extra_info"]["tools"])
        expected = tiny_tokenizer.apply_chat_template(
            messages_for_chat_template(item["raw_prompt"]), tools=tools, add_generation_prompt=True, tokenize=False
        )
        expected_ids = tiny_tokenizer.encode(expected, add_special_tokens=False)
        assert server.prompts == [expected_ids], index
        assert output.prompt_ids == expected_ids
        assert output.response_ids == response_ids
        rendered = tiny_tokenizer.decode(server.prompts[0])
        assert all(f'"name": "{tool["function"]["name"]}"' in rendered for tool in tools)
        checked += 1
    assert checked == len(dataset) > 10

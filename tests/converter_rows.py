"""The converter tests' fixtures, expected rows and messages, and a conversion's outputs read back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from awpo.rows import AGENT_NAME
from data_preprocess import chat, hammer, toolace, toolrl, xlam

FIXTURES = Path(__file__).parent / "fixtures" / "data"
# Every training converter's command line with a fixture in its format (the chat converter once per format).
TRAINING_CONVERTERS: list[tuple[str, Callable[[list[str]], int], Path]] = [
    ("toolace", toolace.main, FIXTURES / "toolace" / "data.json"),
    ("xlam", xlam.main, FIXTURES / "xlam" / "xlam_function_calling.json"),
    ("hammer", hammer.main, FIXTURES / "hammer" / "xlam_irrelevance.json"),
    ("rlla", toolrl.main, FIXTURES / "toolrl" / "rlla_rl.json"),
    ("openai", chat.main, FIXTURES / "chat" / "openai_messages.jsonl"),
    ("sharegpt", chat.main, FIXTURES / "chat" / "glaive_toolcall.json"),
    ("reason", chat.main, FIXTURES / "chat" / "reason_tool_use.jsonl"),
]


def message(role: str, content: str) -> dict:
    """A prompt message without tool calls, as the parquet stores it."""
    return {"role": role, "content": content, "tool_calls": None}


def call_message(name: str, arguments: str, content: str = "") -> dict:
    """An assistant prompt message with one call, ``arguments`` the exact JSON text expected."""
    return {
        "role": "assistant",
        "content": content,
        "tool_calls": [{"type": "function", "function": {"name": name, "arguments": arguments}}],
    }


def function_tool(name: str, description: str, properties: dict, required: list[str]) -> dict:
    """An expected OpenAI tool schema."""
    parameters = {"type": "object", "properties": properties, "required": required}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


def expected_row(
    data_source: str, index: int, source_id: str, turn: int, prompt: list, truth: dict, tools: list
) -> dict:
    """A ``train`` row as a converter writes it."""
    return {
        "data_source": data_source,
        "agent_name": AGENT_NAME,
        "prompt": prompt,
        "ability": "tool_use",
        "reward_model": {"style": "rule", "ground_truth": json.dumps(truth, ensure_ascii=False)},
        "extra_info": {
            "split": "train",
            "index": index,
            "source_id": source_id,
            "turn_index": turn,
            "tools": json.dumps(tools, ensure_ascii=False),
        },
    }


def read_rows(path: Path) -> list[dict]:
    """The rows of a parquet file."""
    return pq.read_table(path).to_pylist()


def read_stats(output: Path) -> dict:
    """A conversion's ``stats.json``."""
    return json.loads((output / "stats.json").read_text())


def truths(rows: list[dict]) -> list[dict]:
    """The decoded ground truth of each row."""
    return [json.loads(row["reward_model"]["ground_truth"]) for row in rows]

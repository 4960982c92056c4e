"""Throughput and peak memory of the converters on synthetic data in each source format.

    .venv/bin/python scripts/bench_preprocess.py [--formats xlam toolrl chat] [--rows 20000 100000] [--seed 0]

For each format and size, writes that many realistic synthetic records (1-3 tools with python-ish parameter types,
1-3 calls, nested and list arguments, numbers given as strings) to a temporary JSONL file, runs the converter in a
subprocess, and reports the converter's own rows/s (its ``stats.json``: the streaming loop, reading to writing), the
end-to-end rows/s (process start to exit, imports included) and the subprocess's peak RSS (``os.wait4``):

- ``xlam``: xLAM rows, ``python -m data_preprocess.xlam --irrelevance-ratio 0.15``;
- ``toolrl``: ToolRL ``rlla`` records (the tools listed in the system prompt with ``"default": ""``, the calls as
  ``<tool_call>`` lines), ``python -m data_preprocess.toolrl``;
- ``chat``: OpenAI messages (system, user, assistant ``tool_calls`` with JSON-string arguments, the tool result and
  a final answer; JSON-schema tools), ``python -m data_preprocess.chat``.

Every record makes one sample. Memory must not grow with the row count: the converters stream their input and write
parquet in batches. Targets: ≥ 5,000 rows/s, flat peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_preprocess.tool_schema import normalize_tools

REPO_ROOT = Path(__file__).resolve().parents[1]

TOOLRL_INTRO = (
    "You are a helpful multi-turn dialogue assistant capable of leveraging tool calls to solve user tasks and "
    "provide structured chat responses."
)
TOOLRL_SECTIONS = (
    "**Steps for Each Turn**\n1. **Think:** Recall the context.\n2. **Decide on Tool Usage:** Pick the tools.\n"
    "3. **Respond Appropriately:** Answer if needed.\n\n**Output Format**\n```plaintext\n<think> ... </think>\n"
    '<tool_call>\n{"name": "Tool name", "parameters": {"Parameter name": "Parameter content"}}\n</tool_call>\n'
    "<response> AI's final response </response>\n```\n\n**Important Notes**\n1. Always include `<think>`.\n"
    "2. Each tool call is a JSON object with a name and parameters.\n3. Refer to the dialogue history and `<obs>`."
)
TARGET_ROWS_PER_S = 5000
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "city",
    "price",
    "stock",
    "weather",
    "movie",
    "song",
    "team",
    "player",
    "recipe",
    "flight",
    "hotel",
]
PARAMETER_KINDS = (
    "str",
    "int",
    "float",
    "bool",
    "List[int]",
    "List[str]",
    "Dict[str, Any]",
    "Tuple[float, float]",
    "str, optional",
    "int, optional",
)


def _value(kind: str, rng: random.Random) -> Any:
    base = kind.removesuffix(", optional")
    if base == "str":
        return " ".join(rng.choices(WORDS, k=rng.randint(1, 3)))
    if base == "int":
        number = rng.randint(0, 500)
        return str(number) if rng.random() < 0.2 else number
    if base == "float":
        number = round(rng.uniform(-100, 100), 2)
        return str(number) if rng.random() < 0.2 else number
    if base == "bool":
        return rng.choice([True, False, "true", "false"])
    if base == "List[int]":
        return [rng.randint(0, 99) for _ in range(rng.randint(1, 6))]
    if base == "List[str]":
        return rng.choices(WORDS, k=rng.randint(1, 4))
    if base == "Dict[str, Any]":
        return {"name": rng.choice(WORDS), "size": rng.randint(1, 9), "tags": rng.choices(WORDS, k=2)}
    return [round(rng.uniform(-90, 90), 4), round(rng.uniform(-180, 180), 4)]


def synthetic_tools_and_calls(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """1-3 tools with xLAM's flat parameter map, and 1-3 calls of them (``{"name", "arguments"}``)."""
    tools = []
    for number in range(rng.randint(1, 3)):
        parameters = {}
        for position in range(rng.randint(1, 4)):
            kind = rng.choice(PARAMETER_KINDS)
            spec: dict[str, Any] = {"description": f"The {rng.choice(WORDS)} to use.", "type": kind}
            if kind.endswith("optional"):
                spec["default"] = _value(kind, rng)
            parameters[f"{rng.choice(WORDS)}_{position}"] = spec
        tools.append(
            {
                "name": f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{number}",
                "description": "Looks things up.",
                "parameters": parameters,
            }
        )
    calls = []
    for _ in range(rng.randint(1, 3)):
        tool = rng.choice(tools)
        arguments = {
            name: _value(spec["type"], rng)
            for name, spec in tool["parameters"].items()
            if not spec["type"].endswith("optional") or rng.random() < 0.5
        }
        calls.append({"name": tool["name"], "arguments": arguments})
    return tools, calls


def _query(index: int, rng: random.Random) -> str:
    return f"Please {' '.join(rng.choices(WORDS, k=12))} (request {index})."


def xlam_record(index: int, rng: random.Random) -> dict[str, Any]:
    """One xLAM-format row (``tools`` and ``answers`` as JSON strings)."""
    tools, calls = synthetic_tools_and_calls(rng)
    return {"id": index, "query": _query(index, rng), "tools": json.dumps(tools), "answers": json.dumps(calls)}


def toolrl_record(index: int, rng: random.Random) -> dict[str, Any]:
    """One ToolRL ``rlla`` record: the tools in the system prompt, every parameter with a ``default``."""
    tools, calls = synthetic_tools_and_calls(rng)
    listed = "\n".join(
        f"{number}. Name: {tool['name']}\nDescription: {tool['description']}\nParameters: "
        + json.dumps({name: {"default": "", **spec} for name, spec in tool["parameters"].items()})
        for number, tool in enumerate(tools, 1)
    )
    lines = "\n".join(json.dumps({"name": call["name"], "parameters": call["arguments"]}) for call in calls)
    return {
        "instruction": f"{TOOLRL_INTRO}\n\n**Available Tools**\nIn your response, you can use the following tools:\n"
        f"{listed}\n\n{TOOLRL_SECTIONS}",
        "input": f"**Dialogue Records History**\n<user> {_query(index, rng)} </user>",
        "output": f"<think> I should call the tools. </think>\n<tool_call>\n{lines}\n</tool_call>",
    }


def chat_record(index: int, rng: random.Random) -> dict[str, Any]:
    """One OpenAI-messages record: a call turn (the sample), its result and a final answer."""
    tools, calls = synthetic_tools_and_calls(rng)
    tool_calls = [
        {
            "id": f"call_{number}",
            "type": "function",
            "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
        }
        for number, c in enumerate(calls)
    ]
    return {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": _query(index, rng)},
            {"role": "assistant", "content": None, "tool_calls": tool_calls},
            {"role": "tool", "tool_call_id": "call_0", "content": json.dumps({"status": "ok", "items": [1, 2, 3]})},
            {"role": "assistant", "content": "Done: everything went through."},
        ],
        "tools": normalize_tools(tools, []),
    }


FORMATS: dict[str, tuple[Callable[[int, random.Random], dict[str, Any]], list[str]]] = {
    "xlam": (xlam_record, ["data_preprocess.xlam", "--irrelevance-ratio", "0.15"]),
    "toolrl": (toolrl_record, ["data_preprocess.toolrl"]),
    "chat": (chat_record, ["data_preprocess.chat"]),
}


def write_rows(path: Path, record: Callable[[int, random.Random], dict[str, Any]], rows: int, seed: int) -> None:
    """Write ``rows`` synthetic records as JSON lines."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(rows):
            handle.write(json.dumps(record(index, rng)) + "\n")


@dataclass(frozen=True)
class Run:
    """One converter run: wall and CPU seconds (user + system) of the process, its peak RSS and its stats."""

    wall_s: float
    cpu_s: float
    peak_rss: int
    stats: dict[str, Any]


def run_converter(module: list[str], input_path: Path, output_dir: Path) -> Run:
    """Run a converter (``module``: its module and options) in a subprocess. Its ``datasets`` cache, if it makes one,
    goes to the scratch directory."""
    command = [sys.executable, "-m", *module, "--input", str(input_path), "--output-dir", str(output_dir)]
    started = time.perf_counter()
    environment = {**os.environ, "HF_DATASETS_CACHE": str(output_dir.parent / "hf_datasets_cache")}
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"converter failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
    stats = json.loads((output_dir / "stats.json").read_text())
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, stats)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", nargs="+", choices=list(FORMATS), default=list(FORMATS), help="(all)")
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000], help="sizes (20000 100000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data (0)")
    args = parser.parse_args(argv)
    results: list[tuple[str, int, Run]] = []
    with tempfile.TemporaryDirectory(prefix="bench_preprocess_") as scratch:
        for name in args.formats:
            record, module = FORMATS[name]
            for rows in args.rows:
                input_path = Path(scratch) / f"{name}_{rows}.jsonl"
                write_rows(input_path, record, rows, args.seed)
                run = run_converter(module, input_path, Path(scratch) / f"out_{name}_{rows}")
                input_path.unlink()
                written = run.stats["samples_written"]["total"]
                if written != rows:
                    raise RuntimeError(f"{name}: {rows} rows in, {written} written: {run.stats['skipped_records']}")
                results.append((name, rows, run))
    print(f"{'format':>7} {'rows':>8} {'converter rows/s':>17} {'end-to-end rows/s':>18} {'rows/CPU-s':>11}", end="")
    print(f" {'wall s':>7} {'peak RSS MiB':>13}")
    for name, rows, run in results:
        print(
            f"{name:>7} {rows:>8} {run.stats['records_per_s']:>17,.0f} {rows / run.wall_s:>18,.0f} "
            f"{rows / run.cpu_s:>11,.0f} {run.wall_s:>7.1f} {run.peak_rss / 2**20:>13.0f}"
        )
    slowest = min(run.stats["records_per_s"] for _, _, run in results)
    slowest_cpu = min(rows / run.cpu_s for _, rows, run in results)
    peaks = {name: [run.peak_rss for format_name, _, run in results if format_name == name] for name in args.formats}
    growth = max(max(values) / min(values) for values in peaks.values())
    print(
        f"slowest converter rate {slowest:,.0f} rows/s (target ≥ {TARGET_ROWS_PER_S:,}); slowest per CPU second "
        f"{slowest_cpu:,.0f} (process CPU, the rate to read on a shared machine); largest peak RSS ratio within a "
        f"format {growth:.2f}"
    )
    return 0 if slowest >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: outcome-reward throughput against verl's built-in ``rlla`` (ToolRL) reward, in one process.

    python scripts/bench_reward.py [--responses 10000] [--group-size 8] [--seed 0] [--repeats 3]

Generates realistic tool-use samples: prompts with 1–3 tools (typed, nested parameters) and 1–4 gold calls, each
answered by ``--group-size`` responses (GRPO's rollout.n; the responses of a prompt share its tools and ground truth,
as in training) that are correct, carry a wrong value, a wrong type, a missing argument, an extra call, broken
format, or no call. The parse caches are cleared before each run. The same calls are written in rlla's format (one
``<tool_call>`` block of JSON lines with ``parameters``). Pinned to one CPU core where the OS allows; prints
responses/s of each (best of ``--repeats``) and the ratio, at the given group size and with no sharing (group 1).
Targets: >= 10,000 responses/s, and not slower than rlla.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import time
from collections.abc import Callable
from typing import Any

from verl.utils.reward_score.rlla import compute_score as rlla_compute_score

from awpo.rewards.outcome import parse_ground_truth
from awpo.rewards.score import compute_score
from awpo.tools import parse_tools

WORDS = ["sydney", "paris", "weather", "flight", "hotel", "stock", "price", "news", "tokyo", "email", "report"]
KINDS = (
    ["correct"] * 8 + ["wrong_value"] * 3 + ["wrong_type", "missing_argument", "extra_call", "bad_format", "no_call"]
)


def make_tool(rng: random.Random, index: int) -> dict[str, Any]:
    properties = {
        "query": {"type": "string", "description": "what to look up"},
        "limit": {"type": "integer", "description": "max results"},
        "ratio": {"type": "number"},
        "strict": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "filters": {
            "type": "object",
            "properties": {"min": {"type": "number"}, "region": {"type": "string"}, "ids": {"type": "array"}},
        },
    }
    chosen = rng.sample(sorted(properties), rng.randint(2, 5))
    return {
        "type": "function",
        "function": {
            "name": f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{index}",
            "description": "a tool",
            "parameters": {"type": "object", "properties": {k: properties[k] for k in chosen}, "required": chosen[:1]},
        },
    }


def make_value(rng: random.Random, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "string":
        return " ".join(rng.choices(WORDS, k=rng.randint(1, 3)))
    if kind == "integer":
        return rng.randint(1, 500)
    if kind == "number":
        return round(rng.uniform(0, 100), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        return rng.choices(WORDS, k=rng.randint(1, 4))
    return {
        "min": round(rng.uniform(0, 5), 1),
        "region": rng.choice(WORDS),
        "ids": [rng.randint(1, 99) for _ in range(3)],
    }


def perturb(rng: random.Random, calls: list[dict], kind: str) -> list[dict]:
    calls = json.loads(json.dumps(calls))
    target = rng.choice(calls)["arguments"]
    key = rng.choice(sorted(target))
    if kind == "wrong_value":
        target[key] = "zz" if isinstance(target[key], str) else [] if isinstance(target[key], list) else 0
    elif kind == "wrong_type":
        target[key] = str(target[key])
    elif kind == "missing_argument":
        del target[key]
    elif kind == "extra_call":
        calls.append(calls[0])
    return calls


def make_samples(count: int, group_size: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    samples = []
    for index in range((count + group_size - 1) // group_size):
        tools = [make_tool(rng, index * 3 + i) for i in range(rng.randint(1, 3))]
        gold = []
        for _ in range(rng.randint(1, 4)):
            function = rng.choice(tools)["function"]
            properties = function["parameters"]["properties"]
            gold.append({"name": function["name"], "arguments": {k: make_value(rng, v) for k, v in properties.items()}})
        for _ in range(min(group_size, count - len(samples))):
            kind = rng.choice(KINDS)
            predicted = (
                [] if kind == "no_call" else gold if kind in ("correct", "bad_format") else perturb(rng, gold, kind)
            )
            thought = "The user asks for " + " ".join(rng.choices(WORDS, k=12)) + "; I will call the matching tools."
            samples.append({"tools": tools, "gold": gold, "predicted": predicted, "kind": kind, "thought": thought})
    return samples


def ours_inputs(sample: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    blocks = "\n".join(f"<tool_call>\n{json.dumps(call)}\n</tool_call>" for call in sample["predicted"])
    response = f"<think>\n{sample['thought']}\n</think>\n\n{blocks or 'No tool applies.'}"
    if sample["kind"] == "bad_format":
        response = response.replace("</tool_call>", "", 1)
    return response, json.dumps({"calls": sample["gold"]}), {"tools": json.dumps(sample["tools"])}


def rlla_inputs(sample: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    def block(calls: list[dict]) -> str:
        lines = "\n".join(json.dumps({"name": c["name"], "parameters": c["arguments"]}) for c in calls)
        return f"<tool_call>\n{lines}\n</tool_call>" if calls else "<response>No tool applies.</response>"

    response = f"<think>{sample['thought']}</think>\n{block(sample['predicted'])}"
    if sample["kind"] == "bad_format":
        response = response.replace("</tool_call>", "", 1)
    ground_truth = f"<think> I should use the appropriate tool. </think>\n{block(sample['gold'])}"
    return f"<|im_start|>assistant\n{response}<|im_end|>", ground_truth, {"experiment_name": "qwen-bench"}


def best_rate(score: Callable[[str, str, dict], object], inputs: list[tuple], repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        parse_ground_truth.cache_clear()
        parse_tools.cache_clear()
        with contextlib.redirect_stdout(io.StringIO()):
            start = time.perf_counter()
            for response, ground_truth, extra_info in inputs:
                score(response, ground_truth, extra_info)
            elapsed = time.perf_counter() - start
        best = max(best, len(inputs) / elapsed)
    return best


def run(responses: int, group_size: int, seed: int, repeats: int) -> tuple[float, float]:
    """(ours, rlla) responses/s on the same generated responses."""
    samples = make_samples(responses, group_size, seed)
    ours = [ours_inputs(s) for s in samples]
    theirs = [rlla_inputs(s) for s in samples]
    ours_rate = best_rate(lambda r, g, e: compute_score("bench", r, g, e), ours, repeats)
    rlla_rate = best_rate(lambda r, g, e: rlla_compute_score("rlla", r, g, e), theirs, repeats)
    correct = sum(compute_score("bench", *inputs)["score"] == 1.0 for inputs in ours)
    print(f"{responses} responses, {group_size} per prompt ({correct} scored 1.0), best of {repeats} runs")
    print(f"  awpo outcome reward: {ours_rate:10,.0f} responses/s")
    print(f"  verl rlla (ToolRL):  {rlla_rate:10,.0f} responses/s")
    print(f"  ours / rlla = {ours_rate / rlla_rate:.2f}")
    return ours_rate, rlla_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        print("pinned to one CPU core")
    ours_rate, rlla_rate = run(args.responses, args.group_size, args.seed, args.repeats)
    if args.group_size != 1:
        run(args.responses, 1, args.seed, args.repeats)
    verdict = "PASS" if ours_rate >= 10_000 else "FAIL"
    print(f"throughput target >= 10,000 responses/s (group {args.group_size}): {verdict}")
    print(f"not slower than rlla (group {args.group_size}): {'PASS' if ours_rate >= rlla_rate else 'FAIL'}")


if __name__ == "__main__":
    main()

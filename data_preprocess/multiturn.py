"""Multi-turn task files (:mod:`awpo.multiturn.task`) → verl parquet rows for the ``awpo_multiturn_agent`` loop.

    python -m data_preprocess.multiturn --tasks TASKS.jsonl [MORE.jsonl ...] --output-dir DIR
        [--val-ratio 0.1] [--seed 0] [--data-source multiturn]

One row per task, in the project's row schema (:data:`awpo.rows.ROW_SCHEMA`):

- ``prompt``: the first user turn; ``agent_name``: ``awpo_multiturn_agent``;
- ``extra_info.tools``: the OpenAI schemas of the functions shown at the start (BFCL's docs of the involved classes
  without the task's missed functions, normalised by :mod:`data_preprocess.tool_schema`), which the loop renders
  with the model's chat template; ``extra_info.source_id``: the task id;
- ``reward_model.ground_truth``: the whole task (:meth:`awpo.multiturn.task.MultiTurnTask.ground_truth_json`).

Writes ``train.parquet``, ``val.parquet`` (a ``--val-ratio`` fraction of tasks, chosen by hashing the seed and the
task id) and ``stats.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from awpo.multiturn.task import AGENT_NAME, MultiTurnTask, TaskError, read_tasks
from awpo.rows import ABILITY, REWARD_STYLE, text_message, to_json
from data_preprocess.augment import unit_draw
from data_preprocess.pipeline import TRAIN_SPLITS, ratio
from data_preprocess.tool_schema import normalize_tools
from data_preprocess.writer import ParquetOutputs, write_json_atomic

DEFAULT_DATA_SOURCE = "multiturn"


def task_row(task: MultiTurnTask, split: str, index: int, data_source: str) -> dict[str, Any]:
    """The parquet row of one task (see the module docstring)."""
    tools = normalize_tools(task.shown_docs(), [])
    return {
        "data_source": data_source,
        "agent_name": AGENT_NAME,
        "prompt": [text_message(message["role"], message["content"]) for message in task.user_messages(0)],
        "ability": ABILITY,
        "reward_model": {"style": REWARD_STYLE, "ground_truth": task.ground_truth_json()},
        "extra_info": {
            "split": split,
            "index": index,
            "source_id": task.task_id,
            "turn_index": 0,
            "tools": to_json(tools),
        },
    }


def write_task_rows(
    tasks: Iterable[MultiTurnTask],
    output_dir: Path,
    split_of: Callable[[MultiTurnTask], str],
    data_source_of: Callable[[MultiTurnTask], str],
    splits: tuple[str, ...] = TRAIN_SPLITS,
) -> dict[str, Any]:
    """Write ``<split>.parquet`` for every split (atomically) and return the counts written.

    Returns:
        ``{"rows": {split: count}, "by_data_source": {data_source: count}, "by_class": {class: count}}``.
    """
    rows: Counter = Counter(dict.fromkeys(splits, 0))
    by_data_source: Counter = Counter()
    by_class: Counter = Counter()
    with ParquetOutputs({split: output_dir / f"{split}.parquet" for split in splits}) as outputs:
        for task in tasks:
            split, data_source = split_of(task), data_source_of(task)
            outputs.write(split, task_row(task, split, rows[split], data_source))
            rows[split] += 1
            by_data_source[data_source] += 1
            by_class.update(task.involved_classes)
    return {"rows": dict(rows), "by_data_source": dict(by_data_source), "by_class": dict(sorted(by_class.items()))}


def hash_task_split(seed: int, val_ratio: float) -> Callable[[MultiTurnTask], str]:
    """``"val"`` for a ``val_ratio`` fraction of tasks, chosen by hashing the seed and the task id."""

    def split_of(task: MultiTurnTask) -> str:
        return "val" if unit_draw(seed, "multiturn_split", task.task_id) < val_ratio else "train"

    return split_of


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Convert multi-turn task files into verl parquet rows.")
    parser.add_argument("--tasks", nargs="+", type=Path, required=True, help="JSON-lines task files")
    parser.add_argument("--output-dir", type=Path, required=True, help="writes train.parquet, val.parquet, stats.json")
    parser.add_argument("--val-ratio", type=ratio, default=0.1, help="fraction of tasks in val.parquet (0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (0)")
    parser.add_argument(
        "--data-source", default=DEFAULT_DATA_SOURCE, help=f"the rows' data_source ({DEFAULT_DATA_SOURCE})"
    )
    args = parser.parse_args(argv)
    try:
        tasks = [task for path in args.tasks for task in read_tasks(path)]
    except (OSError, TaskError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    counts = write_task_rows(
        tasks, args.output_dir, hash_task_split(args.seed, args.val_ratio), lambda _: args.data_source
    )
    stats = {"tasks": [str(path) for path in args.tasks], "val_ratio": args.val_ratio, "seed": args.seed, **counts}
    write_json_atomic(args.output_dir / "stats.json", stats)
    print(f"[multiturn] wrote {counts['rows']} rows to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""BFCL's multi-turn entries as rows for the ``awpo_multiturn_agent`` loop: validation rows, or an explicit split.

    python -m data_preprocess.bfcl_multiturn --output-dir DIR [--categories multi_turn_base ...]
    python -m data_preprocess.bfcl_multiturn --output-dir DIR --split-train-fraction 0.5 [--seed 0]   # split mode

BFCL's 800 multi-turn entries (multi_turn_base, multi_turn_miss_func, multi_turn_miss_param,
multi_turn_long_context; 200 each) are a test set. By default every entry becomes a validation row
(``val.parquet``, ``data_source`` ``bfcl_<category>``), for in-loop validation of a model trained on other tasks
(e.g. ``data_preprocess.multiturn_generate``).

**Split mode** (``--split-train-fraction F``) is for users who want to train on BFCL's own scenarios: a fraction F of
BFCL's items goes to ``train.parquet`` (``data_source`` ``bfcl_split_train_<category>``) and the rest to
``val.parquet`` (``bfcl_split_eval_<category>``). An item is its number across the four categories
(``multi_turn_base_7``, ``multi_turn_miss_func_7``, ... are variants of one scenario), hashed with the seed, so all
variants of one item land on the same side. ``split.json`` lists the item numbers of each side. Scores on the eval
side are **not comparable to the BFCL leaderboard**: the model has trained on the same backends, scenarios, function
set and phrasing style (peers that train on half of BFCL multi-turn report inflated numbers this way). Label them
"BFCL multi-turn, split mode (train fraction F, seed S)".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from awpo.eval.bfcl_data import BFCLDataError
from awpo.eval.bfcl_summary import MULTI_TURN
from awpo.multiturn.bfcl_tasks import load_bfcl_tasks
from awpo.multiturn.task import MultiTurnTask, TaskError
from data_preprocess.augment import unit_draw
from data_preprocess.multiturn import write_task_rows
from data_preprocess.pipeline import ratio
from data_preprocess.writer import write_json_atomic

SPLIT_WARNING = (
    "split mode: training on BFCL multi-turn items; scores on the other items are not comparable to the BFCL "
    "leaderboard"
)


def item_number(task: MultiTurnTask) -> int:
    """The number BFCL's four multi-turn categories share for variants of one item (``multi_turn_base_7`` → 7)."""
    return int(task.task_id.rsplit("_", 1)[1])


def category_of(task: MultiTurnTask) -> str:
    """The BFCL category of a task from BFCL (``multi_turn_base_7`` → ``multi_turn_base``)."""
    return task.task_id.rsplit("_", 1)[0]


def trains_on(seed: int, fraction: float, item: int) -> bool:
    """Whether BFCL item ``item`` goes to the training side (hashing the seed and the item number)."""
    return unit_draw(seed, "bfcl_multiturn_split", item) < fraction


def convert(output_dir: Path, categories: Sequence[str], fraction: float | None, seed: int) -> dict[str, Any]:
    """Write the rows (and ``split.json`` in split mode); returns the counts.

    Raises:
        BFCLDataError: bfcl-eval or its data is missing.
        TaskError: a malformed BFCL entry.
    """
    tasks = [task for category in categories for task in load_bfcl_tasks(category)]
    if fraction is None:
        return write_task_rows(tasks, output_dir, lambda _: "val", lambda task: f"bfcl_{category_of(task)}", ("val",))

    def split_of(task: MultiTurnTask) -> str:
        return "train" if trains_on(seed, fraction, item_number(task)) else "val"

    def data_source(task: MultiTurnTask) -> str:
        side = "train" if split_of(task) == "train" else "eval"
        return f"bfcl_split_{side}_{category_of(task)}"

    counts = write_task_rows(tasks, output_dir, split_of, data_source)
    items = sorted({item_number(task) for task in tasks})
    write_json_atomic(
        output_dir / "split.json",
        {
            "warning": SPLIT_WARNING,
            "train_fraction": fraction,
            "seed": seed,
            "categories": list(categories),
            "train_items": [item for item in items if trains_on(seed, fraction, item)],
            "eval_items": [item for item in items if not trains_on(seed, fraction, item)],
        },
    )
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="BFCL multi-turn entries as awpo_multiturn_agent rows.")
    parser.add_argument("--output-dir", type=Path, required=True, help="writes val.parquet (and train.parquet)")
    parser.add_argument("--categories", nargs="+", default=list(MULTI_TURN), choices=list(MULTI_TURN))
    parser.add_argument(
        "--split-train-fraction",
        type=ratio,
        help="SPLIT MODE: train on this fraction of BFCL's items, validate on the rest (not leaderboard-comparable)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (0)")
    args = parser.parse_args(argv)
    try:
        counts = convert(args.output_dir, args.categories, args.split_train_fraction, args.seed)
    except (BFCLDataError, TaskError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.split_train_fraction is not None:
        print(f"[bfcl_multiturn] WARNING: {SPLIT_WARNING}", file=sys.stderr)
    write_json_atomic(args.output_dir / "stats.json", {**counts, "split_train_fraction": args.split_train_fraction})
    print(f"[bfcl_multiturn] wrote {counts['rows']} rows to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""MMLU-Pro with lm-evaluation-harness: local-data tasks and the summary (``scripts/eval_mmlu_pro.sh`` uses both).

    python -m awpo.eval.mmlu_pro tasks --lm-eval DIR --data DIR --output DIR
    python -m awpo.eval.mmlu_pro summary RESULTS [--group mmlu_pro] [--output summary.json]

``tasks`` copies lm-eval's own ``mmlu_pro`` task directory (``DIR`` is the installed ``lm_eval`` package) and
changes only where the data comes from: ``dataset_path: json`` with ``test.jsonl`` and ``validation.jsonl`` of
``--data``, in MMLU-Pro's format (one object per line: ``question_id``, ``question``, ``options``, ``answer``,
``answer_index``, ``cot_content``, ``category``, ``src``; the few-shot examples come from ``validation.jsonl``, as
from MMLU-Pro's validation split). The group and its tasks are renamed ``mmlu_pro_local`` and
``mmlu_pro_local_<subject>`` so that lm-eval's ``--include_path`` does not shadow the hub-backed originals; prompts,
answer extraction and metrics are lm-eval's, unchanged.

``summary`` reads lm-eval's results JSON (``RESULTS`` is the file or the ``--output_path`` directory, searched for
the newest ``results_*.json``) and prints the overall accuracy (the group's exact match after the
``custom-extract`` filter, weighted by subject size as lm-eval does) and each subject's accuracy and size.
Standard library only: it runs in any of the project's venvs.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TASK_DIR = "mmlu_pro"
LOCAL_GROUP = "mmlu_pro_local"
METRIC = "exact_match,custom-extract"
DATA_FILES = ("test.jsonl", "validation.jsonl")
_HUB_DATASET = re.compile(r"^dataset_path: .*$", re.MULTILINE)
_TASK_NAME = re.compile(r"\bmmlu_pro(?=\b|_)")


class MMLUProError(ValueError):
    """Missing data files, an lm-eval without the mmlu_pro task, or results without the group."""


@dataclass(frozen=True)
class SubjectScore:
    """One subject's accuracy (exact match after answer extraction) and number of questions."""

    subject: str
    accuracy: float
    questions: int


@dataclass(frozen=True)
class Summary:
    """Overall (size-weighted) accuracy and the per-subject scores of one MMLU-Pro run."""

    group: str
    accuracy: float
    questions: int
    subjects: list[SubjectScore]


def write_local_tasks(lm_eval_dir: Path, data_dir: Path, output_dir: Path) -> Path:
    """Copy lm-eval's mmlu_pro tasks into ``output_dir/mmlu_pro_local`` reading ``data_dir``; the new directory.

    Raises:
        MMLUProError: ``data_dir`` lacks ``test.jsonl`` or ``validation.jsonl``, or ``lm_eval_dir`` has no
            ``tasks/mmlu_pro``.
    """
    source = lm_eval_dir / "tasks" / TASK_DIR
    if not (source / "_default_template_yaml").is_file():
        raise MMLUProError(f"{source} is not lm-eval's mmlu_pro task directory")
    missing = [name for name in DATA_FILES if not (data_dir / name).is_file()]
    if missing:
        raise MMLUProError(f"{data_dir} lacks {', '.join(missing)} (MMLU-Pro's format, one JSON object per line)")
    target = output_dir / LOCAL_GROUP
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    data_files = (
        "dataset_path: json\n"
        "dataset_kwargs:\n"
        "  data_files:\n"
        f"    test: {json.dumps(str((data_dir / 'test.jsonl').resolve()))}\n"
        f"    validation: {json.dumps(str((data_dir / 'validation.jsonl').resolve()))}"
    )
    template = target / "_default_template_yaml"
    text, count = _HUB_DATASET.subn(lambda _: data_files, template.read_text(encoding="utf-8"))
    if count != 1:
        raise MMLUProError(f"{template}: expected one dataset_path line, found {count}")
    template.write_text(text, encoding="utf-8")
    for path in target.glob("*.yaml"):
        path.write_text(_TASK_NAME.sub(LOCAL_GROUP, path.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def find_results(path: Path) -> Path:
    """``path`` itself, or the newest ``results_*.json`` below it (lm-eval's ``--output_path`` layout)."""
    if path.is_file():
        return path
    candidates = sorted(path.rglob("results_*.json"), key=lambda item: item.stat().st_mtime)
    if not candidates:
        raise MMLUProError(f"no lm-eval results_*.json under {path}")
    return candidates[-1]


def summarize(results: dict[str, Any], group: str) -> Summary:
    """The group's accuracy and every subject's, from lm-eval's results JSON.

    Raises:
        MMLUProError: the results lack the group or its metric.
    """
    scores = results.get("results", {})
    if METRIC not in scores.get(group, {}):
        raise MMLUProError(f"the results have no {METRIC!r} for group {group!r} (tasks: {sorted(scores)})")
    sizes = results.get("n-samples", {})
    subjects = []
    for task, metrics in sorted(scores.items()):
        if not task.startswith(f"{group}_") or METRIC not in metrics:
            continue
        questions = int(sizes.get(task, {}).get("effective", 0))
        subject = task.removeprefix(f"{group}_").replace("_", " ")
        subjects.append(SubjectScore(subject, float(metrics[METRIC]), questions))
    total = sum(item.questions for item in subjects)
    return Summary(group, float(scores[group][METRIC]), total, subjects)


def format_summary(summary: Summary) -> str:
    """A plain-text table: overall accuracy, then one line per subject."""
    lines = [
        f"MMLU-Pro ({summary.group}): accuracy {summary.accuracy:.4f} over {summary.questions} questions",
        f"{'subject':<20} {'accuracy':>8} {'questions':>9}",
    ]
    lines += [f"{item.subject:<20} {item.accuracy:>8.4f} {item.questions:>9}" for item in summary.subjects]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    tasks = commands.add_parser("tasks", help="lm-eval tasks reading a local MMLU-Pro copy")
    tasks.add_argument("--lm-eval", type=Path, required=True, help="the installed lm_eval package directory")
    tasks.add_argument("--data", type=Path, required=True, help="directory with test.jsonl and validation.jsonl")
    tasks.add_argument("--output", type=Path, required=True, help="where the task directory goes")
    summary = commands.add_parser("summary", help="overall and per-subject accuracy of a run")
    summary.add_argument("results", type=Path, help="lm-eval's results JSON, or its --output_path directory")
    summary.add_argument("--group", default=TASK_DIR, help="the task group [mmlu_pro]")
    summary.add_argument("--output", type=Path, help="also write the summary as JSON here")
    args = parser.parse_args(argv)
    try:
        if args.command == "tasks":
            print(write_local_tasks(args.lm_eval, args.data, args.output))
            return 0
        results_file = find_results(args.results)
        result = summarize(json.loads(results_file.read_text(encoding="utf-8")), args.group)
    except (MMLUProError, OSError, ValueError) as error:
        print(f"mmlu_pro: {error}", file=sys.stderr)
        return 2
    print(format_summary(result))
    if args.output is not None:
        args.output.write_text(json.dumps(asdict(result), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

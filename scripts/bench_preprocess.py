"""Throughput and peak memory of the xLAM converter on synthetic xLAM-format data.

    .venv/bin/python scripts/bench_preprocess.py [--rows 20000 100000] [--seed 0]

For each size, writes that many realistic synthetic xLAM rows (1-3 tools with python-ish parameter types, 1-3 calls,
nested and list arguments, numbers given as strings) to a temporary JSONL file, runs
``python -m data_preprocess.xlam`` on it in a subprocess (with 15% irrelevance augmentation), and reports the
converter's own rows/s (its ``stats.json``: the streaming loop, reading to writing), the end-to-end rows/s (process
start to exit, imports included) and the subprocess's peak RSS (``os.wait4``). Memory must not grow with the row
count: the converter streams its input and writes parquet in batches. Targets: ≥ 5,000 rows/s, flat peak RSS.
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
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
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


def synthetic_row(index: int, rng: random.Random) -> dict[str, Any]:
    """One xLAM-format row (``tools`` and ``answers`` as JSON strings)."""
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
    answers = []
    for _ in range(rng.randint(1, 3)):
        tool = rng.choice(tools)
        arguments = {
            name: _value(spec["type"], rng)
            for name, spec in tool["parameters"].items()
            if not spec["type"].endswith("optional") or rng.random() < 0.5
        }
        answers.append({"name": tool["name"], "arguments": arguments})
    query = f"Please {' '.join(rng.choices(WORDS, k=12))} (request {index})."
    return {"id": index, "query": query, "tools": json.dumps(tools), "answers": json.dumps(answers)}


def write_rows(path: Path, rows: int, seed: int) -> None:
    """Write ``rows`` synthetic rows as JSON lines."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(rows):
            handle.write(json.dumps(synthetic_row(index, rng)) + "\n")


def run_converter(input_path: Path, output_dir: Path) -> tuple[float, int, dict[str, Any]]:
    """Run the xLAM converter in a subprocess: (wall seconds, peak RSS in bytes, its stats). Its ``datasets`` cache
    (lock files only, as it streams) goes to the scratch directory."""
    command = [
        sys.executable,
        "-m",
        "data_preprocess.xlam",
        "--input",
        str(input_path),
        "--output-dir",
        str(output_dir),
        "--irrelevance-ratio",
        "0.15",
    ]
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
    return wall, usage.ru_maxrss * 1024, stats


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000], help="sizes (20000 100000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data (0)")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_preprocess_") as scratch:
        for rows in args.rows:
            input_path = Path(scratch) / f"xlam_{rows}.jsonl"
            write_rows(input_path, rows, args.seed)
            wall, peak_rss, stats = run_converter(input_path, Path(scratch) / f"out_{rows}")
            written = stats["samples_written"]["total"]
            if written != rows:
                raise RuntimeError(f"{rows} rows in, {written} written: {stats['skipped_records']}")
            results.append((rows, stats["records_per_s"], rows / wall, wall, peak_rss))
    print(f"{'rows':>8} {'converter rows/s':>17} {'end-to-end rows/s':>18} {'wall s':>7} {'peak RSS MiB':>13}")
    for rows, loop_rate, total_rate, wall, peak_rss in results:
        print(f"{rows:>8} {loop_rate:>17,.0f} {total_rate:>18,.0f} {wall:>7.1f} {peak_rss / 2**20:>13.0f}")
    slowest = min(rate for _, rate, _, _, _ in results)
    growth = max(peak for *_, peak in results) / min(peak for *_, peak in results)
    print(f"slowest converter rate {slowest:,.0f} rows/s (target ≥ {TARGET_ROWS_PER_S:,}); peak RSS ratio {growth:.2f}")
    return 0 if slowest >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())

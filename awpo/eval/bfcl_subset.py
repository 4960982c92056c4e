"""A BFCL subset for quick checks: the first N entries of each category, as bfcl-eval's test-id file.

    python -m awpo.eval.bfcl_subset --categories single_turn,multi_turn --limit 3 --output ids.json

writes ``{"<category>": ["<id>", ...], ...}`` — the format of bfcl-eval's ``test_case_ids_to_generate.json``, which
``bfcl generate --run-ids`` reads from ``$BFCL_PROJECT_ROOT`` — and prints the categories it covers, comma-separated,
for ``bfcl evaluate --test-category ... --partial-eval``. Collections (``single_turn``, ``multi_turn``, ``live``,
``non_live``, ``python``, ``non_python``) are expanded with bfcl-eval's own mapping. The agentic categories (memory,
web search) and format_sensitivity are refused: their entries depend on prerequisite conversations or on every
other category, so a per-category prefix is not a meaningful subset of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from awpo.eval.bfcl_data import load_questions

UNSUPPORTED = ("memory", "web_search", "format_sensitivity")


class SubsetError(ValueError):
    """A category the subset cannot take (unknown, agentic or format_sensitivity)."""


def expand_categories(spec: str) -> list[str]:
    """The categories named by a comma-separated list of bfcl categories and collections, in order, deduplicated.

    Raises:
        SubsetError: an unknown name, or a category in :data:`UNSUPPORTED`.
        ModuleNotFoundError: bfcl-eval is not installed.
    """
    from bfcl_eval.constants.category_mapping import ALL_CATEGORIES, TEST_COLLECTION_MAPPING

    categories: list[str] = []
    for name in (item.strip() for item in spec.split(",")):
        if not name:
            continue
        if name in TEST_COLLECTION_MAPPING:
            members = list(TEST_COLLECTION_MAPPING[name])
        elif name in ALL_CATEGORIES:
            members = [name]
        else:
            raise SubsetError(f"unknown BFCL category or collection {name!r}")
        for category in members:
            if any(category.startswith(prefix) for prefix in UNSUPPORTED):
                raise SubsetError(f"{category}: a per-category subset is not supported for agentic categories")
            if category not in categories:
                categories.append(category)
    if not categories:
        raise SubsetError("no category given")
    return categories


def subset_ids(categories: Sequence[str], limit: int) -> dict[str, list[str]]:
    """The ids of the first ``limit`` entries of each category, in BFCL's file order."""
    if limit < 1:
        raise SubsetError(f"the limit must be at least 1, got {limit}")
    return {category: [entry["id"] for entry in load_questions(category)[:limit]] for category in categories}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--categories", required=True, help="comma-separated bfcl categories and collections")
    parser.add_argument("--limit", type=int, required=True, help="entries per category (the first ones)")
    parser.add_argument("--output", type=Path, required=True, help="the test-id file to write")
    args = parser.parse_args(argv)
    try:
        ids = subset_ids(expand_categories(args.categories), args.limit)
    except SubsetError as error:
        print(f"bfcl_subset: {error}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(ids, indent=1) + "\n", encoding="utf-8")
    print(",".join(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())

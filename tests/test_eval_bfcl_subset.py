"""``awpo.eval.bfcl_subset``: the first N entries of each BFCL category as bfcl-eval's test-id file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awpo.eval.bfcl_subset import SubsetError, expand_categories, main, subset_ids


def test_collections_expand_in_order_without_duplicates() -> None:
    categories = expand_categories("simple_python,single_turn,multi_turn")
    assert categories[0] == "simple_python" and categories.count("simple_python") == 1
    assert {"live_relevance", "irrelevance", "simple_java"} <= set(categories)
    assert categories[-4:] == [
        "multi_turn_base",
        "multi_turn_miss_func",
        "multi_turn_miss_param",
        "multi_turn_long_context",
    ]


@pytest.mark.parametrize("spec", ["nope", "agentic", "memory_kv", "format_sensitivity", " , "])
def test_unknown_agentic_and_empty_selections_are_refused(spec: str) -> None:
    with pytest.raises(SubsetError):
        expand_categories(spec)


def test_writes_bfcls_id_file_and_prints_the_categories(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert subset_ids(["multi_turn_base"], 2) == {"multi_turn_base": ["multi_turn_base_0", "multi_turn_base_1"]}
    with pytest.raises(SubsetError):
        subset_ids(["simple_python"], 0)
    output = tmp_path / "ids.json"
    assert main(["--categories", "live_simple,irrelevance", "--limit", "1", "--output", str(output)]) == 0
    assert json.loads(output.read_text()) == {"live_simple": ["live_simple_0-0-0"], "irrelevance": ["irrelevance_0"]}
    assert capsys.readouterr().out.strip() == "live_simple,irrelevance"
    assert main(["--categories", "web_search", "--limit", "1", "--output", str(output)]) == 2

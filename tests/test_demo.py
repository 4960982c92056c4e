"""The synthetic advantage demo (``python -m awpo.demo``) runs through verl's compute_advantage."""

from __future__ import annotations

import re

import pytest

from awpo.demo import main


def test_demo_prints_the_step_and_matches_verl_grpo(capsys: pytest.CaptureFixture[str], verl_registries: None) -> None:
    main(["algorithm.awpo.gate=binary"])
    output = capsys.readouterr().out
    assert "gate: binary" in output
    assert "awpo/reasoning_contrib_abs_mean" in output
    gap = float(re.search(r"max \|A\(outcome_only\) - A\(verl grpo\)\| over the batch = (\S+)", output).group(1))
    assert gap < 1e-6

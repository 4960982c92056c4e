"""Strict score parsing: the first ``<score>N</score>`` decides; out of range is clamped; the rest is missing."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awpo.rewards.judge import JudgeStatus, parse_score
from awpo.rewards.judge.parsing import score_regex


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("<score>7</score>", 0.7),
        ("Fine reasoning.\n<score>10</score>", 1.0),
        ("<score> 0 </score>", 0.0),
        ("<score>7.5</score>", 0.75),
        ("<SCORE>3</Score>", 0.3),
        ("< score >4</ score >", 0.4),
        ("<score>.5</score>", 0.05),
        ("<score>8</score> and later <score>1</score>", 0.8),
        ("<think>maybe <score>2</score>?</think>\nFinal: <score>9</score>", 0.9),
    ],
)
def test_valid_scores(reply: str, score: float) -> None:
    parsed = parse_score(reply)
    assert parsed.status is JudgeStatus.OK
    assert parsed.score == pytest.approx(score)
    assert not parsed.clamped


@pytest.mark.parametrize(("reply", "score"), [("<score>15</score>", 1.0), ("<score>-3</score>", 0.0)])
def test_out_of_range_scores_are_clamped_and_flagged(reply: str, score: float) -> None:
    parsed = parse_score(reply)
    assert (parsed.status, parsed.score, parsed.clamped) == (JudgeStatus.OK, score, True)


@pytest.mark.parametrize(
    "reply",
    [
        None,
        "",
        "I would give it a 7.",
        "score: 7",
        "<score></score>",
        "<score>seven</score>",
        "<score>7/10</score>",
        "<score>7 out of 10</score>",
        "<score>1e1</score>",
        "<score>nan</score>",
        "<score>inf</score>",
        "<score>7",
        "<score><score>7</score>",
        "<score>abc</score><score>7</score>",
        "<think>unfinished <score>7</score>",
        "<score>" + "9" * 40 + "</score>",
    ],
)
def test_anything_else_is_unparsable(reply: str | None) -> None:
    parsed = parse_score(reply)
    assert parsed.status is JudgeStatus.UNPARSABLE_SCORE
    assert math.isnan(parsed.score)
    assert not parsed.clamped


@given(
    explanation=st.text(
        alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="<"), max_size=40
    ),
    score=st.integers(0, 10),
    newline=st.booleans(),
)
def test_every_reply_the_score_regex_allows_parses(explanation: str, score: int, newline: bool) -> None:
    """What vLLM's structured outputs let the judge write (``structured_output=regex``) always has a valid score."""
    reply = f"{explanation}{chr(10) if newline else ''}<score>{score}</score>"
    assert re.fullmatch(score_regex(80), reply)
    assert parse_score(reply).score == score / 10 and parse_score(reply).status is JudgeStatus.OK


def test_the_score_regex_leaves_room_for_the_tag() -> None:
    assert re.fullmatch(score_regex(40), "x" * 8 + "<score>3</score>")
    assert not re.fullmatch(score_regex(40), "x" * 9 + "<score>3</score>")
    assert re.fullmatch(score_regex(1), "<score>10</score>") and not re.fullmatch(score_regex(1), "a<score>1</score>")
    assert not re.fullmatch(score_regex(512), "ok <b> <score>1</score>")

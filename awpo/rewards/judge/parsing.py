"""Strict parsing of the judge's reply: the first ``<score>N</score>`` decides, anything else is missing."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from awpo.rewards.judge.result import JudgeStatus

SCORE_MAX = 10.0
# Tokens kept for the score tag itself by :func:`score_regex` (``<score>10</score>`` is 17 characters, so at most 17
# tokens in any tokenizer), and the longest explanation it allows in any case.
_SCORE_TAG_TOKENS = 32
_MAX_EXPLANATION_CHARS = 600

_LEADING_THINK_OPEN = re.compile(r"\A\s*<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_SCORE_OPEN = re.compile(r"<\s*score\s*>", re.IGNORECASE)
_SCORE_CLOSE = re.compile(r"<\s*/\s*score\s*>", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d{1,16}(?:\.\d{0,16})?|\.\d{1,16})")


@dataclass(frozen=True)
class ParsedScore:
    """A parsed judge reply.

    Attributes:
        score: q = N / 10 in [0, 1], or NaN when the reply has no valid score.
        status: ``OK`` or ``UNPARSABLE_SCORE``.
        clamped: N was outside [0, 10] and was clamped.
    """

    score: float
    status: JudgeStatus
    clamped: bool


UNPARSABLE = ParsedScore(score=math.nan, status=JudgeStatus.UNPARSABLE_SCORE, clamped=False)


def score_regex(max_tokens: int) -> str:
    """The regular expression of a reply that :func:`parse_score` always accepts, for servers that constrain
    generation to it (vLLM's ``structured_outputs``): an explanation in printable ASCII without ``<`` (and
    newlines), then ``<score>N</score>`` with N an integer from 0 to 10 (the rubric's answer format).

    The explanation is at most ``max_tokens - 32`` characters (and at most 600). An ASCII character is one byte,
    and no tokenizer spends more than one token on one byte, so the score tag always fits in the completion budget
    and the reply is never cut before it.
    """
    explanation_chars = min(_MAX_EXPLANATION_CHARS, max(0, max_tokens - _SCORE_TAG_TOKENS))
    return f"[ -;=-~\\n]{{0,{explanation_chars}}}<score>(?:10|[0-9])</score>"


def parse_score(reply: str | None) -> ParsedScore:
    """Read q from the judge's reply.

    Rules, in order:

    1. A reply that starts with the judge's own ``<think>…</think>`` block (a reasoning judge served without a
       reasoning parser) is read after that block; one that starts with an unclosed ``<think>`` was truncated
       and is unparsable.
    2. Only the **first** ``<score>`` tag counts (tag names are case-insensitive, spaces inside the brackets are
       allowed); it must be closed by ``</score>``. Later tags are ignored, whatever they say.
    3. Between the tags: one plain decimal number (``7``, ``7.5``, ``+3``, ``.5``) and surrounding whitespace,
       nothing else (no ``7/10``, no exponent, no words).
    4. N outside [0, 10] is clamped into range and flagged; q = N / 10.

    Args:
        reply: the ``content`` of the judge's chat-completions message (None when the server sent null).

    Returns:
        The score, ``OK`` or ``UNPARSABLE_SCORE``, and the clamp flag.
    """
    if not isinstance(reply, str):
        return UNPARSABLE
    text = reply
    if _LEADING_THINK_OPEN.match(text):
        think_end = _THINK_CLOSE.search(text)
        if think_end is None:
            return UNPARSABLE
        text = text[think_end.end() :]
    opening = _SCORE_OPEN.search(text)
    if opening is None:
        return UNPARSABLE
    closing = _SCORE_CLOSE.search(text, opening.end())
    if closing is None:
        return UNPARSABLE
    body = text[opening.end() : closing.start()].strip()
    if not _NUMBER.fullmatch(body):
        return UNPARSABLE
    value = float(body)
    clamped = not 0.0 <= value <= SCORE_MAX
    value = min(max(value, 0.0), SCORE_MAX)
    return ParsedScore(score=value / SCORE_MAX, status=JudgeStatus.OK, clamped=clamped)

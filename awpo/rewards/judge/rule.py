"""The ``rule`` backend: a deterministic reasoning score in [0, 1] without a model.

``q = 0.2·structure + 0.2·relevance + 0.3·grounding + 0.3·agreement`` (rounded to 6 decimals), each part in
[0, 1]:

- **relevance** (understands the request): the share of the latest user message's content words (3+ letters, not
  a stop word) that the reasoning mentions, full credit at ``min(6, their number)``; 1 when the request has none.
  Reasoning that never engages with the request (e.g. a policy's random text) scores 0 here.
- **structure** (no padding): ``min(1, words / 12)`` × a repetition factor (share of distinct word trigrams,
  1 at ≥ 0.8, 0 at ≤ 0.3) × a verbosity factor (1 up to 600 words, then ``600 / words``, at least 0.25); 0 when
  the reasoning talks to the grader ("ignore the instructions", "rubric", "give this a 10", ``<score``).
- **grounding** (no invented values): the mean over the called arguments' leaf values (strings and numbers;
  booleans and nulls are not counted) of: 1 if the value occurs in the context (conversation, earlier tool calls
  and results, tool names, descriptions and parameter schemas; strings compared as word sequences, numbers by
  value), else the share of its words found in the context (0 for a number); 1 when the calls have no such
  values. When nothing is called it is the relevance (the rubric grades how well the reasoning identifies the
  information the request gives).
- **agreement** (reasoning and action agree): with tool calls, 0 if the reasoning plans a call of a tool it does
  not call (and none it does) or says that no tool applies without naming a tool it calls; otherwise
  ``0.7·(share of called tools it names) + 0.3·(share of argument values it mentions)``. Without tool calls,
  0 if it plans to call a tool, 1 if it says that no tool applies / asks for missing information / no tool was
  available, else 0.5.

The empty reasoning is not scored here (the judge returns ``NO_REASONING``). Inputs are capped (100 000
characters of reasoning, 400 000 of context, 256 argument values) so the time is bounded on any input.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awpo.rewards.judge.inputs import JudgeInput
from awpo.rewards.judge.prompt import call_of, is_list, render_conversation, render_tools
from awpo.tools import function_of

STRUCTURE_WEIGHT = 0.2
RELEVANCE_WEIGHT = 0.2
GROUNDING_WEIGHT = 0.3
AGREEMENT_WEIGHT = 0.3
RELEVANT_WORDS_FOR_FULL_CREDIT = 6
_STOP_WORD_TEXT = (
    "the and for with that this what which who whom whose when where why how are was were been being have has had "
    "does did doing can could should would will shall may might must you your yours our ours they them their its "
    "his her hers him she not but also from into onto about than then there here some any all each every please "
    "give tell show find get let know need want like just right now today"
)
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())
MIN_WORDS = 12
LONG_WORDS = 600
MAX_REASONING_CHARS = 100_000
MAX_CONTEXT_CHARS = 400_000
MAX_VALUES = 256
MAX_VALUE_CHARS = 512
_MAX_DEPTH = 32
_INTENT_WINDOW = 60
_NEGATION_WINDOW = 14

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")
_INTENT_VERB = re.compile(
    r"\b(?:call|calling|use|using|invoke|invoking|run|running|query|querying|try|trying)\b", re.IGNORECASE
)
_NEGATION = re.compile(r"(?:\bnot|n't|\bno need to|\bnever|\binstead of|\brather than|\bavoid)\s*$", re.IGNORECASE)
_NO_TOOL = re.compile(
    r"\bno (?:\w+ )?(?:tool|function)s? (?:is |are )?(?:needed|required|necessary|appl(?:y|ies)|fits?|match(?:es)?"
    r"|available|suitable|relevant)"
    r"|\bnone of the (?:\w+ )?(?:tools|functions)"
    r"|\b(?:don't|do not|doesn't|does not|cannot|can't|shouldn't|should not|won't|will not|no need to) "
    r"(?:need to )?(?:call|use|invoke) (?:any |a |the )?(?:tools?|functions?)"
    r"|\bwithout (?:calling |using )?(?:a|any) (?:tool|function)"
    r"|\bno (?:suitable|relevant|appropriate|matching|applicable) (?:tool|function)"
    r"|\b(?:answer|respond|reply) directly"
    r"|\bask (?:the user )?(?:for|to provide|to clarify)"
    r"|\bmissing (?:the )?(?:required )?(?:parameter|argument|information|value)s?",
    re.IGNORECASE,
)
_GRADER_TALK = re.compile(
    r"\bignore (?:the |all |any )?(?:previous |above |prior )?(?:instructions|rubric)"
    r"|\b(?:grader|rubric)\b|\bgive (?:me |this |it )?(?:a |the )?(?:score|10|full marks)\b|\bscore of 10\b|<\s*score",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RuleScore:
    """The parts of the rule score, each in [0, 1] (see the module docstring)."""

    structure: float
    relevance: float
    grounding: float
    agreement: float

    @property
    def score(self) -> float:
        """q = 0.2·structure + 0.2·relevance + 0.3·grounding + 0.3·agreement, rounded to 6 decimals."""
        total = (
            STRUCTURE_WEIGHT * self.structure
            + RELEVANCE_WEIGHT * self.relevance
            + GROUNDING_WEIGHT * self.grounding
            + AGREEMENT_WEIGHT * self.agreement
        )
        return round(min(max(total, 0.0), 1.0), 6)


def rule_score(item: JudgeInput) -> float:
    """The rule backend's q in [0, 1] for one response (deterministic)."""
    return rule_breakdown(item).score


def rule_breakdown(item: JudgeInput) -> RuleScore:
    """The four parts of the rule score for one response."""
    reasoning = _text(item.reasoning)[:MAX_REASONING_CHARS]
    context = f"{render_conversation(item.messages)}\n{render_tools(item.tools)}"[:MAX_CONTEXT_CHARS]
    calls = [call_of(call) for call in item.calls]
    values = list(_leaf_values([call.get("arguments") if isinstance(call, Mapping) else None for call in calls]))
    relevance = _relevance(reasoning, item.messages)
    return RuleScore(
        structure=_structure(reasoning),
        relevance=relevance,
        grounding=_grounding(values, _Text(context)) if calls else relevance,
        agreement=_agreement(reasoning, calls, values, _tool_names(item.tools)),
    )


class _Text:
    """A text prepared for phrase and number look-ups: lowercase words joined by single spaces, and its numbers."""

    def __init__(self, text: str) -> None:
        self.phrases = f" {' '.join(_WORD.findall(text.lower()))} "
        self.words = frozenset(self.phrases.split())
        self.numbers = frozenset(_canonical_number(match.group()) for match in _NUMBER.finditer(text))

    def credit(self, value: str | float) -> float:
        """1 if the value occurs here, else the share of its words that do (0 for a number)."""
        if isinstance(value, str):
            words = _WORD.findall(value.lower())
            if not words or f" {' '.join(words)} " in self.phrases:
                return 1.0
            return sum(word in self.words for word in words) / len(words)
        return 1.0 if _canonical_number(str(value)) in self.numbers else 0.0


def _structure(reasoning: str) -> float:
    if _GRADER_TALK.search(reasoning):
        return 0.0
    words = _WORD.findall(reasoning.lower())
    if not words:
        return 0.0
    trigrams = list(zip(words, words[1:], words[2:], strict=False))
    distinct = len(set(trigrams)) / len(trigrams) if trigrams else 1.0
    repetition = min(max((distinct - 0.3) / 0.5, 0.0), 1.0)
    verbosity = 1.0 if len(words) <= LONG_WORDS else max(0.25, LONG_WORDS / len(words))
    return min(1.0, len(words) / MIN_WORDS) * repetition * verbosity


def _relevance(reasoning: str, messages: Sequence[Any]) -> float:
    request = next(
        (message for message in reversed(messages) if isinstance(message, Mapping) and message.get("role") == "user"),
        None,
    )
    words = {
        word
        for word in _WORD.findall(render_conversation((request,)).lower() if request is not None else "")
        if len(word) >= 3 and word not in _STOP_WORDS and not word.isdigit()
    } - {"user"}
    if not words:
        return 1.0
    mentioned = words & set(_WORD.findall(reasoning.lower()))
    return min(1.0, len(mentioned) / min(RELEVANT_WORDS_FOR_FULL_CREDIT, len(words)))


def _grounding(values: list[str | float], context: _Text) -> float:
    if not values:
        return 1.0
    return sum(context.credit(value) for value in values) / len(values)


def _agreement(reasoning: str, calls: list[Any], values: list[str | float], available: list[str]) -> float:
    called = _unique(str(call.get("name")) for call in calls if isinstance(call, Mapping) and call.get("name"))
    lowered = reasoning.lower()
    mentions = _mentions(lowered, _unique([*available, *called]))
    planned = _planned(lowered, mentions)
    says_no_tool = _NO_TOOL.search(lowered) is not None
    if not calls:
        if planned:
            return 0.0
        return 1.0 if says_no_tool or not available else 0.5
    called_set = set(called)
    if planned and not planned & called_set:
        return 0.0
    if says_no_tool and not mentions.keys() & called_set:
        return 0.0
    named = sum(name in mentions for name in called) / len(called) if called else 0.0
    reasoning_text = _Text(reasoning)
    stated = sum(reasoning_text.credit(value) == 1.0 for value in values) / len(values) if values else 1.0
    return 0.7 * named + 0.3 * stated


def _mentions(lowered: str, names: list[str]) -> dict[str, list[int]]:
    """The start offsets of each tool name mentioned in the text (``get_weather``, ``get weather``, …)."""
    found = {name: [match.start() for match in _name_pattern(name).finditer(lowered)] for name in names}
    return {name: starts for name, starts in found.items() if starts}


def _planned(lowered: str, mentions: dict[str, list[int]]) -> set[str]:
    """Tools named at most 60 characters after a non-negated "call / use / invoke / run / query / try"."""
    verb_ends = [
        verb.end()
        for verb in _INTENT_VERB.finditer(lowered)
        if not _NEGATION.search(lowered[max(0, verb.start() - _NEGATION_WINDOW) : verb.start()])
    ]
    planned = set()
    for name, starts in mentions.items():
        for start in starts:
            index = bisect.bisect_right(verb_ends, start)
            if index and start - verb_ends[index - 1] <= _INTENT_WINDOW:
                planned.add(name)
                break
    return planned


@functools.lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str]:
    lowered = name.lower()
    variants = sorted({lowered, *(lowered.replace(sep, " ") for sep in "_.-")}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(variant) for variant in variants) + r")(?!\w)")


def _tool_names(tools: Sequence[Any]) -> list[str]:
    names = (function_of(tool).get("name") for tool in tools)
    return _unique(name for name in names if isinstance(name, str) and name)


def _leaf_values(root: Any) -> Iterator[str | float]:
    """String and number leaves of nested argument values, depth-first in order, at most ``MAX_VALUES``."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    count = 0
    while stack and count < MAX_VALUES:
        value, depth = stack.pop()
        if isinstance(value, bool) or value is None or depth > _MAX_DEPTH:
            continue
        if isinstance(value, str):
            count += 1
            yield value[:MAX_VALUE_CHARS]
        elif isinstance(value, int | float):
            count += 1
            yield value
        elif isinstance(value, Mapping):
            stack.extend((child, depth + 1) for child in reversed(list(value.values())))
        elif is_list(value):
            stack.extend((child, depth + 1) for child in reversed(list(value)))


def _canonical_number(text: str) -> str:
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""

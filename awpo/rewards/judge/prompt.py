"""The judge's request: the rubric template filled with delimited, sanitised data blocks.

Hardening (the reasoning is written by the policy being trained, so it is adversarial by construction):

- Every piece of untrusted text (conversation, tool schemas, reasoning, calls, answer, reference) goes through
  :func:`sanitize` before it is placed between the code's own block tags. :func:`sanitize` replaces every tag
  that could close or open a block or forge a score (``<reasoning>``, ``</action>``, ``<score>``, … in any case,
  with spaces, attributes, lookalike brackets such as ``＜`` or ``&lt;``, or zero-width characters inside) by
  ``[tag removed]``, and chat special tokens (``<|im_end|>``, ``<｜…｜>``, ``[INST]``, ``</s>``) by
  ``[special token removed]``. The judge therefore sees exactly one opening and one closing tag per block.
- Invalid unicode (lone surrogates) becomes U+FFFD, so the request is always valid UTF-8 JSON.
- The rubric tells the judge that the blocks are data, not instructions.
- Each block is cut in the middle to ``max_block_chars`` with a visible marker.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from awpo.rewards.judge.inputs import JudgeInput
from awpo.tools import function_of

BUILTIN_RUBRIC = "rubric_v1.md"
BLOCK_TAGS = ("tools", "conversation", "reference", "reasoning", "action")
REQUIRED_PLACEHOLDERS = ("tools", "conversation", "reasoning", "action")
TAG_REMOVED = "[tag removed]"
SPECIAL_TOKEN_REMOVED = "[special token removed]"

_ROLE_MARKER = re.compile(r"^<!--\s*role:\s*(system|user)\s*-->[ \t]*\n?", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}(\n\n)?")

_LOOKALIKE_LT = r"(?:<|＜|﹤|‹|〈|⟨|《|&lt;?|&#0*60;?|&#x0*3c;?)"
_LOOKALIKE_GT = r"(?:>|＞|﹥|›|〉|⟩|》|&gt;?|&#0*62;?|&#x0*3e;?)"
_LOOKALIKE_SLASH = r"(?:/|／|\\|&#0*47;?|&#x0*2f;?|&sol;?)?"
_TAG_NAMES = "|".join((*BLOCK_TAGS, "score"))
_TAG = re.compile(
    rf"{_LOOKALIKE_LT}\s{{0,8}}{_LOOKALIKE_SLASH}\s{{0,8}}(?:{_TAG_NAMES})(?![\w-])(?:[^<>\n]{{0,128}}?{_LOOKALIKE_GT})?",
    re.IGNORECASE,
)
_SPECIAL_TOKEN = re.compile(r"<\|[^|<>\n]{0,64}\|>|<｜[^｜<>\n]{0,64}｜>|\[/?INST\]|</?s>", re.IGNORECASE)
_INVISIBLE_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_NEEDS_WORK = re.compile(f"[{_INVISIBLE_CHARS}<＜﹤‹〈⟨《&]|\\[/?INST", re.IGNORECASE)


class RubricError(ValueError):
    """The rubric template cannot be used (missing file, missing part or placeholder, unknown placeholder)."""


@dataclass(frozen=True)
class RubricTemplate:
    """A rubric: a static system message and a user message with ``{{block}}`` placeholders.

    Attributes:
        system: the system message (the rubric itself).
        user: the user message; ``{{tools}}``, ``{{conversation}}``, ``{{reasoning}}``, ``{{action}}`` and
            optionally ``{{reference}}`` are replaced by the delimited blocks.
        source: where it was loaded from (the built-in file name or a path), for messages.
    """

    system: str
    user: str
    source: str

    @classmethod
    def load(cls, path: str | None = None) -> RubricTemplate:
        """Load the built-in rubric (``path=None``) or a rubric file in the same format.

        Raises:
            RubricError: the file cannot be read or is not a valid rubric.
        """
        if path is None:
            source = BUILTIN_RUBRIC
            text = resources.files("awpo.rewards.judge").joinpath("prompts", BUILTIN_RUBRIC).read_text("utf-8")
        else:
            source = path
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise RubricError(f"cannot read rubric file {path!r}: {error}") from error
        return cls.parse(text, source)

    @classmethod
    def parse(cls, text: str, source: str) -> RubricTemplate:
        """Split a rubric file into its two parts and check its placeholders.

        Raises:
            RubricError: a part is missing or duplicated, a required placeholder is missing, a placeholder is
                unknown, or the system part has placeholders.
        """
        markers = list(_ROLE_MARKER.finditer(text))
        roles = [marker.group(1) for marker in markers]
        if roles != ["system", "user"]:
            raise RubricError(
                f"rubric {source!r}: expected a '<!-- role: system -->' line followed by a '<!-- role: user -->' "
                f"line, found {roles}"
            )
        system = text[markers[0].end() : markers[1].start()].strip()
        user = text[markers[1].end() :].strip()
        if _PLACEHOLDER.search(system):
            raise RubricError(f"rubric {source!r}: the system part must be static (no {{{{…}}}} placeholders)")
        names = [match.group(1) for match in _PLACEHOLDER.finditer(user)]
        unknown = sorted(set(names) - set(BLOCK_TAGS))
        missing = [name for name in REQUIRED_PLACEHOLDERS if name not in names]
        if unknown or missing:
            raise RubricError(
                f"rubric {source!r}: unknown placeholders {unknown}, missing placeholders {missing}; "
                f"the user part takes {', '.join('{{' + name + '}}' for name in BLOCK_TAGS)}"
            )
        return cls(system=system, user=user, source=source)

    @property
    def has_reference(self) -> bool:
        """Whether the user part places a ``{{reference}}`` block."""
        return any(match.group(1) == "reference" for match in _PLACEHOLDER.finditer(self.user))


def sanitize(text: Any) -> str:
    """Make untrusted text safe to place inside a block (see the module docstring).

    Non-strings are JSON-encoded first. Never raises.
    """
    if not isinstance(text, str):
        text = _to_json(text)
    if not text.isascii():
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if _NEEDS_WORK.search(text) is None:  # fast path: no invisible character, nothing that could start markup
        return text
    text = _INVISIBLE.sub("", text)
    text = _SPECIAL_TOKEN.sub(SPECIAL_TOKEN_REMOVED, text)
    return _TAG.sub(TAG_REMOVED, text)


def truncate_middle(text: str, max_chars: int) -> str:
    """Keep the first third and the last two thirds of ``max_chars`` characters, with a marker in between."""
    if len(text) <= max_chars:
        return text
    head = max_chars // 3
    tail = max_chars - head
    return f"{text[:head]}\n[… {len(text) - max_chars} characters omitted …]\n{text[-tail:]}"


def render_user_message(
    item: JudgeInput, template: RubricTemplate, *, include_reference: bool, max_block_chars: int
) -> str:
    """The user message of the judge request for one response (the system message is ``template.system``).

    Args:
        item: the response and its context.
        template: the rubric.
        include_reference: show ``item.reference`` (when not None) in a ``<reference>`` block.
        max_block_chars: the longest content of one block, in characters, after sanitising.
    """
    bodies = {
        "tools": render_tools(item.tools),
        "conversation": render_conversation(item.messages),
        "reasoning": item.reasoning,
        "action": _render_action(item.calls, item.answer),
    }
    if include_reference and item.reference is not None:
        bodies["reference"] = _render_reference(item.reference)
    blocks = {name: f"<{name}>\n{_block_text(body, max_block_chars)}\n</{name}>" for name, body in bodies.items()}

    def fill(match: re.Match) -> str:
        block = blocks.get(match.group(1), "")
        return f"{block}{match.group(2) or ''}" if block else ""

    return _PLACEHOLDER.sub(fill, template.user)


def _block_text(body: Any, max_chars: int) -> str:
    """Cut, sanitise, cut again: sanitising only what can be shown bounds the time on huge inputs, and the second
    cut bounds the growth from replaced markup. A cut never joins two halves of a tag (the marker sits between)."""
    text = body if isinstance(body, str) else _to_json(body)
    return truncate_middle(sanitize(truncate_middle(text, max_chars)), max_chars)


def is_list(value: Any) -> bool:
    """Whether ``value`` is a list-like of items (a list, tuple or numpy array; not a string or a mapping)."""
    return hasattr(value, "__iter__") and not isinstance(value, str | bytes | bytearray | Mapping)


def _json_default(value: Any) -> Any:
    """numpy arrays and scalars (as they come out of parquet columns) as Python values; anything else as text."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)


_JSON = json.JSONEncoder(ensure_ascii=False, default=_json_default)


def _to_json(value: Any) -> str:
    try:
        return _JSON.encode(value)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def _text_of(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if is_list(content):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
            else:
                parts.append(_to_json(part))
        return "\n".join(parts)
    return _to_json(content)


def render_tools(tools: Sequence[Any]) -> str:
    """The tools as JSON lines ``{"name", "description", "parameters"}`` (unsanitised)."""
    lines = []
    for tool in tools:
        schema = function_of(tool)
        if schema:
            fields = {key: schema.get(key) for key in ("name", "description", "parameters") if key in schema}
            lines.append(_to_json(fields))
        else:
            lines.append(_to_json(tool))
    return "\n".join(lines) if lines else "(no tools were available)"


def render_conversation(messages: Sequence[Any]) -> str:
    """The conversation as ``[role]`` headed turns, with earlier assistant tool calls (unsanitised)."""
    turns = []
    for message in messages:
        if not isinstance(message, Mapping):
            turns.append(f"[message]\n{_text_of(message)}")
            continue
        role = str(message.get("role") or "message")
        label = f"{role} {message['name']}" if role == "tool" and message.get("name") else role
        lines = [f"[{label}]"]
        text = _text_of(message.get("content"))
        if text:
            lines.append(text)
        tool_calls = message.get("tool_calls")
        if is_list(tool_calls):
            lines.extend(f"tool call: {_to_json(call_of(call))}" for call in tool_calls)
        turns.append("\n".join(lines))
    return "\n\n".join(turns) if turns else "(empty conversation)"


def call_of(call: Any) -> Any:
    """An OpenAI ``tool_calls`` entry as ``{"name", "arguments"}`` (arguments decoded when they are a JSON string)."""
    if not isinstance(call, Mapping):
        return call
    function = call.get("function") if isinstance(call.get("function"), Mapping) else call
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError):
            arguments = json.loads(arguments)
    return {"name": function.get("name"), "arguments": arguments}


def _render_calls(calls: Sequence[Any]) -> list[str]:
    return [_to_json(call_of(call)) for call in calls]


def _render_action(calls: Sequence[Any], answer: Any) -> str:
    parts = []
    if calls:
        parts.append("tool calls:\n" + "\n".join(_render_calls(calls)))
    answer_text = _text_of(answer).strip()
    if answer_text:
        parts.append(f"text reply:\n{answer_text}")
    return "\n\n".join(parts) if parts else "(no tool call and no text reply)"


def _render_reference(reference: Sequence[Any]) -> str:
    if not reference:
        return "(no tool call is correct for this turn)"
    return "tool calls:\n" + "\n".join(_render_calls(reference))

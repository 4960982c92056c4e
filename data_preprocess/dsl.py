"""A parser for python-call syntax, without ``eval``: ToolACE's ``[Func Name(a="x", b=1), g(c=[1, 2])]`` and literals.

Grammar (whitespace allowed between tokens)::

    calls    := "[" [call ("," call)* [","]] "]"
    call     := name "(" [key "=" value ("," key "=" value)* [","]] ")"
    value    := string | number | True/False/None (or true/false/null) | list | tuple | dict | bareword
    list     := "[" [literal ("," literal)* [","]] "]"          tuple := "(" ... ")"
    dict     := "{" [literal ":" literal ("," literal ":" literal)* [","]] "}"

Function names may contain spaces, dots, dashes and other punctuation; when the caller knows the tool names, the
longest known name followed by ``(`` wins, so names like ``Stock Quote (Realtime)`` parse too. A bareword (an
unquoted token such as ``date=2023-01-01``) is accepted as a string for a top-level argument value only; inside
containers every element must be a literal. Tuples become lists; dict keys become strings.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_CONSTANTS = {"true": True, "false": False, "none": None, "null": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "\\": "\\", "'": "'", '"': '"', "/": "/"}
_HEX_WIDTHS = {"x": 2, "u": 4, "U": 8}
_HEX_DIGITS = set("0123456789abcdefABCDEF")
_TOKEN_END = frozenset("()[]{}=,\"'\n")  # characters that end a function or argument name


class DSLError(ValueError):
    """The text is not a well-formed call list or literal; the message says where."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, problem: str) -> DSLError:
        snippet = self.text[max(0, self.pos - 20) : self.pos + 20]
        return DSLError(f"{problem} at offset {self.pos} (near {snippet!r})")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def expect(self, char: str) -> None:
        self.skip_space()
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def separator(self, closing: str) -> bool:
        """After an item: consume ``,``; True when another item follows, False at ``closing`` (left unconsumed)."""
        self.skip_space()
        if self.peek() == ",":
            self.pos += 1
            self.skip_space()
            return self.peek() != closing
        if self.peek() == closing:
            return False
        raise self.error(f"expected ',' or {closing!r}")

    def name(self, known_names: Collection[str]) -> str:
        self.skip_space()
        rest = self.text[self.pos :]
        for candidate in sorted(known_names, key=len, reverse=True):
            if rest.startswith(candidate) and rest[len(candidate) :].lstrip().startswith("("):
                self.pos += len(candidate)
                return candidate
        return self.token("a function name")

    def key(self) -> str:
        self.skip_space()
        return self.token("an argument name")

    def token(self, what: str) -> str:
        """The name that starts here, up to the next bracket, quote, ``=``, ``,`` or newline, stripped; the
        position moves to its end.

        Raises:
            DSLError: the text is empty (``expected <what>``).
        """
        end = self.pos
        while end < len(self.text) and self.text[end] not in _TOKEN_END:
            end += 1
        token = self.text[self.pos : end].strip()
        if not token:
            raise self.error(f"expected {what}")
        self.pos = end
        return token

    def value(self, closing: str, allow_bareword: bool) -> Any:
        self.skip_space()
        char = self.peek()
        if char in ("'", '"'):
            return self.string(char)
        if char == "[":
            return self.sequence("]")
        if char == "(":
            return self.sequence(")")
        if char == "{":
            return self.mapping()
        return self.scalar(closing, allow_bareword)

    def string(self, quote: str) -> str:
        self.pos += 1
        parts: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated string")
            char = self.text[self.pos]
            if char == quote:
                self.pos += 1
                return "".join(parts)
            if char == "\\":
                parts.append(self.escape())
            else:
                parts.append(char)
                self.pos += 1

    def escape(self) -> str:
        code = self.text[self.pos + 1 : self.pos + 2]
        if code in _ESCAPES:
            self.pos += 2
            return _ESCAPES[code]
        width = _HEX_WIDTHS.get(code, 0)
        point = _hex(self.text[self.pos + 2 : self.pos + 2 + width], width)
        if point is None or point > 0x10FFFF:
            self.pos += 1 + len(code)
            return "\\" + code
        self.pos += 2 + width
        if 0xD800 <= point < 0xDC00 and self.text.startswith("\\u", self.pos):  # a JSON surrogate pair
            low = _hex(self.text[self.pos + 2 : self.pos + 6], 4)
            if low is not None and 0xDC00 <= low < 0xE000:
                self.pos += 6
                return chr(0x10000 + ((point - 0xD800) << 10) + (low - 0xDC00))
        return chr(point)

    def sequence(self, closing: str) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        self.skip_space()
        if self.peek() != closing:
            while True:
                items.append(self.value(closing, allow_bareword=False))
                if not self.separator(closing):
                    break
        self.expect(closing)
        return items

    def mapping(self) -> dict[str, Any]:
        self.pos += 1
        items: dict[str, Any] = {}
        self.skip_space()
        if self.peek() != "}":
            while True:
                key = self.value(":", allow_bareword=False)
                if isinstance(key, list | dict):
                    raise self.error("dict keys must be scalars")
                self.expect(":")
                items[key if isinstance(key, str) else _key_text(key)] = self.value("}", allow_bareword=False)
                if not self.separator("}"):
                    break
        self.expect("}")
        return items

    def scalar(self, closing: str, allow_bareword: bool) -> Any:
        end = self.pos
        while end < len(self.text) and self.text[end] not in f",{closing}\n":
            end += 1
        token = self.text[self.pos : end].strip()
        if _NUMBER.fullmatch(token):
            self.pos = end
            return int(token) if _INTEGER.fullmatch(token) else float(token)
        if token.lower() in _CONSTANTS:
            self.pos = end
            return _CONSTANTS[token.lower()]
        if allow_bareword and token and not any(char in token for char in "\"'[]{}()=:"):
            self.pos = end
            return token
        raise self.error("expected a value")


def _hex(digits: str, width: int) -> int | None:
    if width and len(digits) == width and all(char in _HEX_DIGITS for char in digits):
        return int(digits, 16)
    return None


def _key_text(key: Any) -> str:
    if isinstance(key, bool) or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    return str(key)


def parse_calls(text: str, known_names: Collection[str] = ()) -> list[dict[str, Any]]:
    """Parse ``[f(a=1), Name With Spaces(b="x")]`` into ``[{"name", "arguments"}]`` (``[]`` for ``"[]"``).

    Raises:
        DSLError: the text is not exactly one well-formed call list.
    """
    scanner = _Scanner(text)
    scanner.expect("[")
    calls: list[dict[str, Any]] = []
    scanner.skip_space()
    if scanner.peek() != "]":
        while True:
            name = scanner.name(known_names)
            scanner.expect("(")
            arguments: dict[str, Any] = {}
            scanner.skip_space()
            if scanner.peek() != ")":
                while True:
                    key = scanner.key()
                    if key in arguments:
                        raise scanner.error(f"argument {key!r} given twice")
                    scanner.expect("=")
                    arguments[key] = scanner.value(")", allow_bareword=True)
                    if not scanner.separator(")"):
                        break
            scanner.expect(")")
            calls.append({"name": name, "arguments": arguments})
            if not scanner.separator("]"):
                break
    scanner.expect("]")
    if not scanner.at_end():
        raise scanner.error("unexpected text after the call list")
    return calls


def parse_literal(text: str) -> Any:
    """Parse one python/JSON literal (string, number, constant, list, tuple, dict); tuples become lists.

    Raises:
        DSLError: the text is not exactly one literal.
    """
    scanner = _Scanner(text)
    value = scanner.value("", allow_bareword=False)
    if not scanner.at_end():
        raise scanner.error("unexpected text after the literal")
    return value


def looks_like_call_list(text: str) -> bool:
    """True when the text starts like a call list (``[`` then a name then ``(``), i.e. it is meant as calls."""
    return re.match(r"\s*\[\s*[^\[\]{}()=,\"'\n]+\(", text) is not None

"""Indented JSON text, the same as `json.dumps(value, indent=…)`, written mostly by C.

CPython's C encoder does not indent (an `indent` sends `json.dumps` to the pure-Python
encoder, slow on a large export). Here only the containers that hold non-empty containers are
laid out in Python; every other container (its values all scalars or empty containers) is
encoded whole by the C encoder, with the line break and indentation of its depth as the item
separator, and common scalars are written directly. The text is the same, byte for byte.
"""

from __future__ import annotations

import json
import math
from _json import make_encoder  # CPython's C JSON encoder, behind json.dumps
from collections.abc import Callable
from json import encoder as json_encoder
from typing import Any

_Container = dict[Any, Any] | list[Any] | tuple[Any, ...]


def dumps_indented(value: Any, *, indent: int = 2, ensure_ascii: bool = True) -> str:
    """`json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)`, the same text, faster."""
    return _Layout(indent, ensure_ascii).text(value, 0)


class _Layout:
    """One `dumps_indented` call: the encoders of each depth, the containers being laid out."""

    def __init__(self, indent: int, ensure_ascii: bool) -> None:
        self.indent = " " * indent
        self.string: Callable[[str], str] = (
            json_encoder.encode_basestring_ascii if ensure_ascii else json_encoder.encode_basestring
        )
        self.encoders: list[Callable[[Any], str]] = []
        self.open: set[int] = set()
        """The containers being laid out (`json.dumps`' check for circular references)."""

    def encoder(self, depth: int) -> Callable[[Any], str]:
        """Compact JSON of a value at `depth` whose items go on lines one level deeper."""
        while len(self.encoders) <= depth:
            separator = ",\n" + self.indent * (len(self.encoders) + 1)
            self.encoders.append(self._encoder(separator))
        return self.encoders[depth]

    def _encoder(self, separator: str) -> Callable[[Any], str]:
        # What `JSONEncoder.iterencode` builds for a one-shot encode, made once per depth. No
        # markers: a container the C encoder gets holds no non-empty container, so no cycle.
        encode = make_encoder(
            None,
            json.JSONEncoder().default,  # TypeError: not JSON serializable
            self.string,
            None,
            ": ",
            separator,
            False,
            False,
            True,
        )
        return lambda value: "".join(encode(value, 0))

    def text(self, value: Any, depth: int) -> str:
        """`value` at `depth`, its first line not indented (it follows a key or an indent)."""
        kind = type(value)
        if kind is str:
            return self.string(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if kind is int:
            return int.__repr__(value)
        if kind is float and math.isfinite(value):
            return float.__repr__(value)
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            return self.encoder(depth)(value)
        # The children's types first (a C loop): most containers hold only scalars.
        if any(issubclass(t, dict | list | tuple) for t in set(map(type, children))) and any(
            isinstance(child, dict | list | tuple) and child for child in children
        ):
            return self.nested(value, depth)
        return self.flat(value, depth)

    def flat(self, value: _Container, depth: int) -> str:
        """A container without non-empty containers inside, encoded whole by C."""
        compact = self.encoder(depth)(value)
        if not value:
            return compact
        # "[a,\n    b]" → "[\n    a,\n    b\n  ]": the C encoder wrote the separators.
        inner = "\n" + self.indent * (depth + 1)
        return f"{compact[0]}{inner}{compact[1:-1]}\n{self.indent * depth}{compact[-1]}"

    def nested(self, value: _Container, depth: int) -> str:
        """A container holding non-empty containers, laid out here one item a line."""
        if id(value) in self.open:
            raise ValueError("Circular reference detected")
        self.open.add(id(value))
        try:
            if isinstance(value, dict):
                brackets = "{}"
                lines = [
                    f"{self.string(_key(k))}: {self.text(v, depth + 1)}" for k, v in value.items()
                ]
            else:
                brackets = "[]"
                lines = [self.text(v, depth + 1) for v in value]
        finally:
            self.open.discard(id(value))
        inner = "\n" + self.indent * (depth + 1)
        return (
            f"{brackets[0]}{inner}{(',' + inner).join(lines)}\n{self.indent * depth}{brackets[1]}"
        )


def _key(key: Any) -> str:
    """A dict key as `json.dumps` turns it into text (`skipkeys` false)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return json.JSONEncoder().encode(key)  # repr, NaN, Infinity, -Infinity
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")

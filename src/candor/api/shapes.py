"""Results → Rekognition's response dicts, by walking the operation's output shape.

botocore's service model already says what every response holds; this module walks it instead of
mirroring it by hand. For each member of a structure shape the value is looked up on the result:

- a mapping is read by wire name (``{"StatusCode": 200}``);
- an object by the attribute whose :func:`candor.types.wire` metadata names the member, else by
  the member's name in snake case (``BoundingBox`` → ``bounding_box``, ``CollectionARN`` →
  ``collection_arn``);
  properties count, so a result can derive a member;
- a plain value given for a structure of one member fills that member (``Parents: ["Dog"]`` →
  ``[{"Name": "Dog"}]``).

A missing or None value leaves the member out, as Rekognition leaves out what it did not compute.
Scalars are coerced to the shape's type (so a numpy float cannot reach the JSON encoder), and a
mapping key that is not a member of its shape is a bug, raised as such.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from candor.api.model import operation_model
from candor.types import WIRE_NAMES

Wire = dict[str, Any]


def output(operation: str, result: object = None, **members: object) -> Wire:
    """The response dict of ``operation`` for ``result``; ``members`` add or replace top-level
    members by wire name (``StatusCode=200``)."""
    shape = operation_model(operation).output_shape
    if shape is None:
        return {}
    source: Mapping[str, object] | object = result if result is not None else {}
    if members:
        unknown = set(members) - set(shape.members)
        if unknown:
            raise KeyError(f"{operation}: {sorted(unknown)} not members of {shape.name}")
        source = _Overlay(source, members)
    out = _structure(shape, source, operation)
    assert isinstance(out, dict)
    return out


class _Overlay:
    """A result with some top-level members given by wire name."""

    def __init__(self, base: object, members: Mapping[str, object]) -> None:
        self.base = base
        self.members = members


def to_wire(shape: Any, value: object, path: str) -> object:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, value, path)
    if kind == "list":
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise TypeError(f"{path}: a list shape got {type(value).__name__}")
        return [to_wire(shape.member, v, f"{path}[]") for v in value]
    if kind == "map":
        if not isinstance(value, Mapping):
            raise TypeError(f"{path}: a map shape got {type(value).__name__}")
        return {str(k): to_wire(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    return _scalar(kind, value, path)


def _structure(shape: Any, value: object, path: str) -> Wire | object:
    members = shape.members
    if not isinstance(value, (Mapping, _Overlay)) and _is_plain(value):
        if len(members) != 1:
            raise TypeError(f"{path}: structure {shape.name} got a plain {type(value).__name__}")
        (name, member), = members.items()
        return {name: to_wire(member, value, f"{path}.{name}")}
    if isinstance(value, Mapping):
        unknown = set(value) - set(members)
        if unknown:
            raise KeyError(f"{path}: {sorted(unknown)} not members of {shape.name}")
    out: Wire = {}
    for name, member in members.items():
        found = _member(value, name)
        if found is not None:
            out[name] = to_wire(member, found, f"{path}.{name}")
    return out


def _member(value: object, name: str) -> object:
    if isinstance(value, _Overlay):
        if name in value.members:
            return value.members[name]
        return _member(value.base, name)
    if isinstance(value, Mapping):
        return value.get(name)
    cls: Any = type(value)
    attribute = _attributes(cls).get(name) or snake(name)
    return getattr(value, attribute, None)


@functools.cache
def _attributes(cls: Any) -> dict[str, str]:
    """Wire member name → field name, from the ``wire()`` metadata of a dataclass's fields."""
    if not dataclasses.is_dataclass(cls):
        return {}
    return {
        name: f.name for f in dataclasses.fields(cls) for name in f.metadata.get(WIRE_NAMES, ())
    }


def _is_plain(value: object) -> bool:
    return isinstance(value, (str, int, float, bool))


def _scalar(kind: str, value: object, path: str) -> object:
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(f"{path}: a string shape got {type(value).__name__}")
        return value
    if kind == "boolean":
        return bool(value)
    if kind in ("integer", "long"):
        return int(value)  # type: ignore[call-overload]
    if kind in ("float", "double"):
        return float(value)  # type: ignore[arg-type]
    return value  # timestamp (the JSON encoder writes epoch seconds), blob


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@functools.cache
def snake(name: str) -> str:
    """``FaceModelVersion`` → ``face_model_version``; ``CSSColor`` → ``css_color``."""
    return _CAMEL.sub("_", name).lower()

"""Request bodies checked against the SDK's own dataclasses, so a field the real API would not know is a 400."""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable
from typing import Any

from anthill_sandbox.databricks.errors import invalid


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _required(cls: type) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


SCALARS: dict[Any, tuple[Callable[[Any], bool], str]] = {
    bool: (lambda v: isinstance(v, bool), "a boolean"),
    int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    float: (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    str: (lambda v: isinstance(v, str), "a string"),
}


def check(value: Any, hint: Any, path: str) -> None:
    """Raise 400 INVALID_PARAMETER_VALUE where ``value`` does not fit the SDK type ``hint``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if value is None:
            return
        hint, origin = options[0], typing.get_origin(options[0])
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        _check_object(value, hint, path)
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = [member.value for member in hint]
        if value not in allowed:
            raise invalid(f"Invalid value for {path}: {value!r}; expected one of {', '.join(allowed)}")
    elif origin is list:
        if not isinstance(value, list):
            raise invalid(f"Invalid value for {path}: expected an array")
        for index, item in enumerate(value):
            check(item, typing.get_args(hint)[0], f"{path}[{index}]")
    elif origin is dict:
        if not isinstance(value, dict):
            raise invalid(f"Invalid value for {path}: expected an object")
        for key, item in value.items():
            check(item, typing.get_args(hint)[1], f"{path}.{key}")
    elif hint in SCALARS and not SCALARS[hint][0](value):
        raise invalid(f"Invalid value for {path}: expected {SCALARS[hint][1]}")


def _check_object(value: Any, cls: type, path: str) -> None:
    if not isinstance(value, dict):
        raise invalid(f"Invalid value for {path}: expected an object")
    hints = field_types(cls)
    for key in value:
        if key not in hints:
            raise invalid(f"Unknown field {_join(path, key)}")
    for name in _required(cls):
        if name not in value:
            raise invalid(f"Missing required field: {_join(path, name)}")
    for key, item in value.items():
        check(item, hints[key], _join(path, key))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key

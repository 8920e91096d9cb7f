"""What a 200 body of the API may be: JSON without the numbers JSON does not have, of the documented shape.

Pure (no I/O), so the transport checks every body with it and the record parsers name types the same way.
"""

from __future__ import annotations

import json
import math
from typing import Any

from anthill_ingest.errors import MalformedResponseError

ARRAY_BODIES = (
    "/v1/marketstatus/upcoming",
)  # the endpoints whose body is an array; every other is an object


def check_body(raw: bytes, path: str) -> None:
    """Refuse a 200 body the API never sends: not JSON, numbers JSON does not have, the wrong shape."""
    try:
        body = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except ValueError as exc:  # JSONDecodeError, and the refusals above
        raise MalformedResponseError(f"{path}: the response is not valid JSON ({exc})", path, raw) from exc
    if problem := shape_problem(path, body):
        raise MalformedResponseError(f"{path}: {problem}", path, raw)


def shape_problem(path: str, body: Any) -> str | None:
    """What is wrong with the shape of ``body`` for ``path``, or None."""
    if path in ARRAY_BODIES:
        return _array_of_objects("the body", body)
    if not isinstance(body, dict):
        return f"the body is {kind(body)}, not an object"
    return _array_of_objects("results", body["results"]) if "results" in body else None


def kind(value: Any) -> str:
    """A JSON value's type, as a reason names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _array_of_objects(name: str, value: Any) -> str | None:
    if not isinstance(value, list):
        return f"{name} is {kind(value)}, not an array"
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            return f"{name}[{index}] is {kind(item)}, not an object"
    return None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON has")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond what a double holds")
    return value

"""Validation errors as people read them: the field path first."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(error: ValidationError) -> str:
    """``spec.bars.multiplier: Input should be greater than or equal to 1; ...``"""
    parts = []
    for item in error.errors():
        path = ".".join(["spec", *(str(p) for p in item["loc"])])
        parts.append(f"{path}: {item['msg']}")
    return "; ".join(parts)

"""Workload file problems: where each is (file, segment, field, line) and how to fix it.

Validators of the workload models raise :func:`invalid` (a pydantic error that carries its
fix); :func:`problems_from_validation` turns pydantic's errors into :class:`Problem`
rows located by segment name and dotted field path, and :class:`WorkloadError` lists them all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from pricing.errors import Problem

DIST_KINDS = "uniform, triangular, normal, lognormal"
DIST_EXAMPLE = '{ dist = "triangular", low = <lowest>, mode = <likeliest>, high = <highest> }'


def invalid(message: str, fix: str) -> PydanticCustomError:
    """A validation error that carries its fix to the problem list."""
    return PydanticCustomError("workload", "{message}", {"message": message, "fix": fix})


def located(loc: tuple[str | int, ...], value: Any, message: str, fix: str) -> InitErrorDetails:
    return InitErrorDetails(type=invalid(message, fix), loc=loc, input=value)


def problems_from_validation(
    shown: str, raw: dict[str, Any], exc: ValidationError
) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        branch = next((str(k) for k in loc if k == "float" or str(k).startswith("tagged-")), None)
        # `Number` is float | distribution: report only the branch the editor meant.
        if branch == "float" and isinstance(err.get("input"), dict):
            continue
        if branch and branch != "float" and err["type"] == "model_attributes_type":
            continue
        segment, index, field = _locate(raw, loc)
        out.append(
            Problem(
                shown,
                _message(err),
                _fix(err, field),
                segment=segment,
                segment_index=index,
                field=field or None,
            )
        )
    return out


def _locate(raw: dict[str, Any], loc: list[Any]) -> tuple[str | None, int | None, str]:
    """Turn a pydantic location into (segment name, segment index, dotted field path)."""
    segment = index = None
    if len(loc) >= 2 and loc[0] == "segments" and isinstance(loc[1], int):
        index = loc[1]
        segs = raw.get("segments")
        item = segs[index] if isinstance(segs, list) and index < len(segs) else None
        segment = str(item.get("name", f"#{index + 1}")) if isinstance(item, dict) else None
        loc = loc[2:]
    parts: list[str] = []
    skip_tag = False
    for key in loc:
        text = str(key)
        if skip_tag:  # the distribution kind after a tagged-union marker
            skip_tag = False
            continue
        if text == "float" or text.startswith("function-"):
            continue
        if text.startswith("tagged-"):
            skip_tag = True
            continue
        if isinstance(key, int) and parts:
            parts[-1] += f"[{key}]"
        else:
            parts.append(text)
    return segment, index, ".".join(parts)


def _message(err: Any) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "union_tag_invalid":
        return f"unknown distribution {ctx.get('tag')!r}"
    value = err.get("input")
    text = repr(value)
    if isinstance(value, Decimal):  # TOML numbers arrive as exact decimals
        if value.is_finite() and -15 <= value.adjusted() <= 15:
            text = repr(int(value) if value == value.to_integral_value() else float(value))
        else:  # 1e999999999999999999 as an int would not fit in memory
            text = f"{value:.3e}"
    shown = "" if isinstance(value, dict | list) or err["type"] == "workload" else f" (got {text})"
    return f"{err['msg']}{shown}"


def _fix(err: Any, field: str) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    name = field.rsplit(".", 1)[-1] if field else "the value"
    if kind == "workload":
        return str(ctx["fix"])
    if kind == "missing":
        return f"add `{name}` (data/schema/workload.json describes it)"
    if kind == "extra_forbidden":
        return f"remove or rename `{name}`; data/schema/workload.json lists the allowed fields"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"set `dist` to one of {DIST_KINDS}"
    if kind.startswith("float"):
        return f"write a number, or a distribution such as {DIST_EXAMPLE}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"make `{name}` {err['msg'].removeprefix('Input should be ')}"
    if kind == "too_short":
        return f"give `{name}` at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"give `{name}` at most {ctx.get('max_length')} item(s)"
    if kind.startswith("int"):
        return f"write `{name}` as a whole number"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected', 'the listed values')}"
    if kind.startswith("date"):
        return f"write `{name}` as a TOML date, YYYY-MM-DD"
    return f"correct `{name}` as described"

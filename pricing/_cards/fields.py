"""The field types every data model shares: strict models, ids, sizes, money, operations.

Money is ``Decimal`` [the currency of the price version]; sizes are ``WIDTHxHEIGHT`` [px].
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Operation = Literal["generate", "edit", "inpaint", "upscale", "vectorize", "remove-background"]
OPERATIONS: tuple[str, ...] = Operation.__args__  # type: ignore[attr-defined]

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=80)]
OfferId = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$", max_length=120)
]
#: An API's id of a model: ``owner/name[/...]`` in lowercase (``openai/gpt-image-1``,
#: ``fal-ai/flux-pro/kontext``).
API_ID_PATTERN = r"^[a-z0-9][a-z0-9._:-]*(/[a-z0-9][a-z0-9._:-]*)+$"
ApiId = Annotated[str, Field(pattern=API_ID_PATTERN, max_length=200)]
Size = Annotated[str, Field(pattern=r"^[1-9][0-9]*x[1-9][0-9]*$", description="WIDTHxHEIGHT [px]")]
Money = Annotated[Decimal, Field(ge=0, description="amount [currency of the price version]")]
Fraction = Annotated[Decimal, Field(ge=0, le=1)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class Strict(BaseModel):
    """Base of every data model: unknown fields are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def require_unique(values: list[str], what: str) -> None:
    """Raise ``ValueError`` naming the first value of ``values`` that appears twice."""
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}; each must appear once")
        seen.add(v)

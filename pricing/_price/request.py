"""What is being priced: one image-generation request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pricing._cards.fields import OPERATIONS


class ImageRequest(BaseModel):
    """One call that makes ``count`` images of ``width`` x ``height`` pixels.

    Parameters
    ----------
    model : str
        Model id from ``data/models.toml`` (e.g. ``"flux-2-pro"``).
    operation : str
        ``generate``, ``edit``, ``inpaint``, ``upscale``, ``vectorize`` or ``remove-background``.
    width, height : int  [px]
        Output size.
    count : int  [images]
        Images made by the call.
    quality : str or None
        Quality level for offers that price by quality (``"low"``, ``"hd"``...); ``None`` uses the
        offer's default quality, if it has one.
    steps : int or None  [steps]
        Inference steps, for per-step offers; ``None`` uses the card's default.
    input_images : int or list of (width, height)
        Reference images sent with the call. An integer ``k`` means ``k`` images of the output size.
    seconds : Decimal or None  [s/image]
        Run time per image, for per-GPU-second offers; ``None`` uses the card's published estimate.
    prompt_tokens : int  [tokens]
        Text tokens of the prompt, charged once per call by token-priced offers.
    input_image_tokens : int or None  [tokens]
        Image-input tokens of the whole call, for token-priced edits.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    operation: str = "generate"
    width: int = Field(default=1024, gt=0, le=100_000)
    height: int = Field(default=1024, gt=0, le=100_000)
    count: int = Field(default=1, gt=0)
    quality: str | None = None
    steps: int | None = Field(default=None, gt=0)
    input_images: tuple[tuple[int, int], ...] = ()
    seconds: Decimal | None = Field(default=None, gt=0)
    prompt_tokens: int = Field(default=0, ge=0)
    input_image_tokens: int | None = Field(default=None, ge=0)

    @field_validator("operation")
    @classmethod
    def _known_operation(cls, value: str) -> str:
        if value not in OPERATIONS:
            raise ValueError(f"unknown operation {value!r}; use one of {', '.join(OPERATIONS)}")
        return value

    @field_validator("input_images", mode="before")
    @classmethod
    def _expand_inputs(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("input_images must be a count or a list of (width, height)")
        if isinstance(value, int):
            if value < 0:
                raise ValueError("input_images cannot be negative")
            w = info.data.get("width", 1024)
            h = info.data.get("height", 1024)
            return tuple((w, h) for _ in range(value))
        return value

    @field_validator("input_images")
    @classmethod
    def _positive_inputs(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        for w, h in value:
            if w <= 0 or h <= 0:
                raise ValueError(f"input image size {w}x{h} must be positive")
        return value

    @property
    def pixels(self) -> int:
        """Output pixels per image [px]."""
        return self.width * self.height

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

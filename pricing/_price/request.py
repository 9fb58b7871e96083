"""What is being priced: one image-generation request."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pricing._cards.fields import OPERATIONS
from pricing._price.bounds import BOUNDS, PX, check_number, out_of_range
from pricing.errors import RequestError

_NUMBERS = ("width", "height", "count", "steps", "seconds", "prompt_tokens", "input_image_tokens")


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
    width: int = Field(default=1024, ge=PX.least, le=PX.most)
    height: int = Field(default=1024, ge=PX.least, le=PX.most)
    count: int = Field(default=1, ge=BOUNDS["count"].least, le=BOUNDS["count"].most)
    quality: str | None = None
    steps: int | None = Field(default=None, ge=BOUNDS["steps"].least, le=BOUNDS["steps"].most)
    input_images: tuple[tuple[int, int], ...] = ()
    seconds: Decimal | None = Field(
        default=None, gt=BOUNDS["seconds"].least, le=BOUNDS["seconds"].most
    )
    prompt_tokens: int = Field(
        default=0, ge=BOUNDS["prompt_tokens"].least, le=BOUNDS["prompt_tokens"].most
    )
    input_image_tokens: int | None = Field(
        default=None,
        ge=BOUNDS["input_image_tokens"].least,
        le=BOUNDS["input_image_tokens"].most,
    )

    if not TYPE_CHECKING:  # the mypy plugin keeps checking the fields of each call

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise RequestError(_explain(exc)) from None

    @field_validator(*_NUMBERS, mode="before")
    @classmethod
    def _not_a_flag(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{info.field_name} must be a number, not {value}")
        return value

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
            message = out_of_range("input_images", value)
            if message is not None:
                raise ValueError(message)
            w = info.data.get("width", 1024)
            h = info.data.get("height", 1024)
            return tuple((w, h) for _ in range(value))
        return value

    @field_validator("input_images")
    @classmethod
    def _positive_inputs(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        most = BOUNDS["input_images"].most
        if len(value) > most:
            raise ValueError(f"{len(value):,} input images; a call takes at most {most:,}")
        for w, h in value:
            if PX.problem(w) or PX.problem(h):
                raise ValueError(f"input image size {w}x{h}: sides are {PX.describe()}")
        return value

    @property
    def pixels(self) -> int:
        """Output pixels per image [px]."""
        return self.width * self.height

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def _explain(exc: ValidationError) -> str:
    """``width: 100001 is out of range, ...; count: ...``: each wrong field, its value, the rule."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "request"
        value = repr(error.get("input"))
        value = value if len(value) <= 40 else value[:37] + "..."
        rule = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}={value}: {rule}")
    return f"invalid ImageRequest: {'; '.join(parts)}"


def check_numbers(request: ImageRequest) -> None:
    """Raise :class:`PricingError` naming the first number of ``request`` out of its range.

    ``ImageRequest`` validates its numbers when it is built; this checks them again where a
    request is priced, for a request made without validation (``model_construct``, or
    ``model_copy(update=...)``), so no path prices a number the others refuse.
    """
    for name in _NUMBERS:
        value = getattr(request, name)
        if value is None and name in ("steps", "seconds", "input_image_tokens"):
            continue
        check_number(name, value)
    check_number("input_images", len(request.input_images))
    for w, h in request.input_images:
        check_number("input_width", w)
        check_number("input_height", h)

"""LiteLLM's model names, and ``data/coverage.toml``: the models the catalog leaves out on purpose.

LiteLLM's price map (``model_prices_and_context_window.json``) keys each price by a model
name that may carry the provider's route, a quality, a size and a step count::

    [<route>/][<quality>/]<W>-x-<H>/[<steps>-steps/][<route>/]<model part>
    azure/high/1024-x-1024/gpt-image-1-mini      route azure, quality high, 1024x1024
    1024-x-1024/50-steps/bedrock/amazon.nova-canvas-v1:0          50 steps, route bedrock
    fal_ai/high/1024-x-1536/openai/gpt-image-2.5/sunburst/edit    model openai/gpt-image-2.5/...
    dashscope/qwen-image-2.0, gpt-image-2-2026-04-21              no route: the model part

:func:`split_key` takes a key apart; the **model part** is what is left (``gpt-image-1-mini``,
``amazon.nova-canvas-v1:0``, ``openai/gpt-image-2.5/sunburst/edit``). A quality word counts
only right before a size, and a route only when it names the entry's ``litellm_provider``
(``vertex_ai`` for ``vertex_ai-language-models``). :func:`api_id` turns a model part into the
id a model lists in ``api_ids`` (``data/models.toml``) to be matched: the model part itself
when it holds a ``/`` (``fal-ai/flux/dev``, ``openai/gpt-image-2``), else
``<provider here>/<model part>`` (``openai/gpt-image-1``, ``azure/gpt-image-1``,
``aws-bedrock/amazon.nova-canvas-v1:0``), lowercase; :data:`PROVIDERS` maps LiteLLM's
provider names to the providers of ``data/rate-cards``.

``data/coverage.toml`` lists the LiteLLM image models the catalog does not price on purpose,
so that ``pricing cards coverage --check`` fails only on models nobody has looked at::

    [[not_covered]]
    litellm = "gpt-image-2.5-flare"    # LiteLLM's model part (case does not matter)
    provider = "azure"                 # optional: LiteLLM's litellm_provider; omitted = any
    reason = "Azure resells OpenAI's model at OpenAI's prices; openai/gpt-image-2.5 covers it"
    checked = 2026-12-07               # the day someone checked the reason [YYYY-MM-DD]

Each (``litellm``, ``provider``) pair appears once; ``checked`` is not after today. The file
is optional (no file: nothing is excused). :func:`load_coverage` reports every problem as a
:class:`~pricing.errors.Problem` naming the file, the entry and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from pricing._cards.fields import API_ID_PATTERN, Strict
from pricing._cards.loader import (
    bundled_data_dir,
    load_model,
    relative_path,
    validation_fix,
    validation_message,
)
from pricing._cards.schema import ImageModel, Offer, RateCard
from pricing.errors import Problem, RateCardError

COVERAGE_FILE = "coverage.toml"
#: LiteLLM's quality words; one counts as a quality only right before a size.
QUALITIES = frozenset({"low", "medium", "high", "standard", "hd", "max", "xhigh", "auto"})
_SIZE = re.compile(r"^([1-9][0-9]*|max)-x-([1-9][0-9]*|max)$")
_STEPS = re.compile(r"^([1-9][0-9]*|max)-steps$")
_API_ID = re.compile(API_ID_PATTERN)
#: LiteLLM provider (``litellm_provider``) -> provider id of ``data/rate-cards``; any other
#: provider keeps its own name, lowercase, with ``-`` for every other character.
PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "azure": "azure",
    "azure_ai": "azure-ai",
    "bedrock": "aws-bedrock",
    "fal_ai": "fal",
    "black_forest_labs": "bfl",
    "stability": "stability",
    "gemini": "google",
    "vertex_ai": "vertex-ai",
    "vertex_ai-language-models": "vertex-ai",
    "recraft": "recraft",
    "ideogram": "ideogram",
    "fireworks_ai": "fireworks",
    "together_ai": "together",
    "deepinfra": "deepinfra",
    "replicate": "replicate",
    "runwayml": "runway",
}


@dataclass(frozen=True)
class LiteLLMKey:
    """One key of LiteLLM's map, taken apart (see the module)."""

    key: str
    provider: str  # litellm_provider
    model: str  # the model part, as written
    quality: str | None = None
    size: tuple[int, int] | None = None  # (width, height) [px]; None: no size, or "max"
    steps: str | None = None  # "50", "max"
    sized: bool = False  # the key names a size (possibly "max-x-max")


def our_provider(litellm_provider: str) -> str:
    """The provider id of ``data/rate-cards`` for one of LiteLLM's provider names."""
    known = PROVIDERS.get(litellm_provider)
    return known or re.sub(r"[^a-z0-9.]+", "-", litellm_provider.lower()).strip("-.")


def _is_route(segment: str, provider: str) -> bool:
    return segment == provider or provider.startswith(segment + "-")


def split_key(key: str, provider: str) -> LiteLLMKey:
    """``key`` of LiteLLM's map (an entry of ``provider``) as route, quality, size, steps and
    model part."""
    parts = key.split("/")
    found: dict[str, Any] = {}
    i = 0
    while i < len(parts) - 1:
        seg, after = parts[i], parts[i + 1]
        if "size" not in found and (size := _SIZE.match(seg)):
            w, h = size.groups()
            found["size"] = None if "max" in (w, h) else (int(w), int(h))
        elif "steps" not in found and (steps := _STEPS.match(seg)):
            found["steps"] = steps.group(1)
        elif "quality" not in found and seg in QUALITIES and _SIZE.match(after):
            found["quality"] = seg
        elif "route" not in found and _is_route(seg, provider):
            found["route"] = seg
        else:
            break
        i += 1
    return LiteLLMKey(
        key=key,
        provider=provider,
        model="/".join(parts[i:]),
        quality=found.get("quality"),
        size=found.get("size"),
        steps=found.get("steps"),
        sized="size" in found,
    )


def api_id(model: str, provider: str) -> str:
    """The id a model lists in ``api_ids`` to be matched to LiteLLM's ``model`` part of
    ``provider`` (see the module)."""
    model = model.lower()
    return model if "/" in model else f"{our_provider(provider)}/{model}"


def match_model(
    ident: str, models: Iterable[ImageModel], day: date, *, strict: bool = True
) -> tuple[ImageModel, str] | str:
    """The model LiteLLM's :func:`api_id` ``ident`` prices and how it was found: ``api_ids``
    (a model lists it), or, unless ``strict``, ``model id`` (its last segment is a model id);
    else why none, with the ``api_ids`` line to add. A retired model is no match."""
    if not _API_ID.match(ident):
        return f"its id {ident!r} cannot be listed in api_ids (not a lowercase owner/name path)"
    models = list(models)
    listed = [m for m in models if ident in m.api_ids]
    named = [m for m in models if m.id == ident.rsplit("/", 1)[-1]]
    if len(listed) > 1:
        return f"several models list {ident!r} in api_ids ({', '.join(m.id for m in listed)})"
    if not listed and (strict or not named):
        where = f'model "{named[0].id}"' if named else "the model it is (or add the model)"
        return (
            f'no model lists "{ident}" in api_ids; add api_ids = ["{ident}"] to {where} in '
            "data/models.toml"
        )
    model, how = (listed[0], "api_ids") if listed else (named[0], "model id")
    if model.retired is not None and day >= model.retired:
        return f"model {model.id!r} was retired on {model.retired} (data/models.toml)"
    return model, how


def match_offer(ident: str, model: ImageModel, card: RateCard | None) -> Offer | str | None:
    """The offer of ``card`` LiteLLM's ``ident`` prices: the one whose name starts with it,
    else the one offer of ``model`` whose name is no API id; None when there is none (a new
    offer), or why it is unclear."""
    names = {o.id: (o.name or "").split(" ", 1)[0] for o in card.offers} if card else {}
    for o in card.offers if card else []:
        if names[o.id] == ident:
            return o if o.model == model.id else f"{o.id} is named {ident} but serves {o.model}"
    mine = [o for o in card.offers if o.model == model.id] if card else []
    unnamed = [o for o in mine if not _API_ID.match(names[o.id])]
    exact = [o for o in unnamed if card and o.id == f"{card.provider}/{model.id}"]
    if len(unnamed) == 1 or exact:
        return (exact or unnamed)[0]
    if not unnamed:
        return None
    ids = ", ".join(o.id for o in unnamed)
    return f'several offers of {model.id} ({ids}); start the name of the one meant with "{ident}"'


# --------------------------------------------------------------------------- coverage.toml


class NotCovered(Strict):
    """A LiteLLM image model the catalog does not price, on purpose, and why."""

    litellm: str = Field(
        min_length=1, max_length=200, description="LiteLLM's model part, e.g. gpt-image-2.5-flare"
    )
    provider: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        description="LiteLLM's litellm_provider (e.g. azure); omitted: every provider",
    )
    reason: str = Field(min_length=1, description="why the catalog leaves it out")
    checked: date = Field(description="the day someone checked the reason")

    def matches(self, model: str, provider: str) -> bool:
        """Whether this entry excuses LiteLLM's ``model`` part of ``provider``."""
        same = self.litellm.lower() == model.lower()
        return same and (self.provider is None or self.provider == provider)


class CoverageFile(Strict):
    """``data/coverage.toml``."""

    not_covered: list[NotCovered] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> CoverageFile:
        seen: set[tuple[str, str | None]] = set()
        for entry in self.not_covered:
            pair = (entry.litellm.lower(), entry.provider)
            if pair in seen:
                raise ValueError(
                    f"{entry.litellm!r} (provider {entry.provider or 'any'}) is listed twice; "
                    "keep one entry"
                )
            seen.add(pair)
        return self

    def reason_for(self, model: str, provider: str) -> NotCovered | None:
        """The entry excusing ``model`` of ``provider``: one naming the provider first."""
        found = [e for e in self.not_covered if e.matches(model, provider)]
        return min(found, key=lambda e: e.provider is None, default=None)


def _explain(rel: str, raw: dict[str, Any], exc: ValidationError) -> list[Problem]:
    """Validation errors located by entry (``not_covered[i]`` and its ``litellm``) and field."""
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        entry = None
        if len(loc) >= 2 and loc[0] == "not_covered" and isinstance(loc[1], int):
            items = raw.get("not_covered")
            item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
            name = item.get("litellm") if isinstance(item, dict) else None
            entry = f"not_covered[{loc[1]}]" + (f" ({name})" if isinstance(name, str) else "")
            loc = loc[2:]
        field = ".".join(str(p) for p in loc) or None
        fix = validation_fix(err, field or "")
        if err["type"] == "value_error" and "listed twice" in str(err.get("msg")):
            fix = "remove the repeated [[not_covered]] entry"
        out.append(Problem(rel, validation_message(err), fix, offer=entry, field=field))
    return out


def load_coverage(root: str | Path | None = None, *, today: date | None = None) -> CoverageFile:
    """``<root>/coverage.toml`` (default: the bundled data), or an empty list when the file
    does not exist.

    Raises
    ------
    RateCardError
        Listing every problem: not TOML, an unknown or missing field, a repeated entry, a
        ``checked`` day after ``today`` (default: today, UTC).
    """
    base = Path(root) if root is not None else bundled_data_dir()
    path = base / COVERAGE_FILE
    if not path.exists() and not path.is_symlink():
        return CoverageFile()
    problems: list[Problem] = []
    loaded = load_model(path, CoverageFile, base, problems, explain=_explain)
    day = today or datetime.now(UTC).date()
    for i, entry in enumerate(loaded.not_covered if loaded else []):
        if entry.checked > day:
            problems.append(
                Problem(
                    relative_path(path, base),
                    f"checked {entry.checked} is after today ({day})",
                    "write the day the reason was checked",
                    offer=f"not_covered[{i}] ({entry.litellm})",
                    field="checked",
                )
            )
    if problems or loaded is None:
        raise RateCardError(problems)
    return loaded

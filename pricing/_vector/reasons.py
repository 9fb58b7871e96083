"""Why a row has no price: the reason codes, in the order ``quote()`` checks them, and their texts.

Every reason has a fixed code (:data:`CODE`) and a text per entity of its scope: one text for
a global reason, one per offer or per price version for the others. The texts are built once
per catalog (:func:`reason_texts`), so a row's reason costs one gather, not string building.
"""

from __future__ import annotations

from pricing._cards.catalog import Catalog
from pricing._cards.fields import OPERATIONS
from pricing._cards.schema import Offer, PriceVersion
from pricing._evidence.trust import narrowing_of
from pricing._price.bounds import BOUNDS, PX

# Codes of the grid of versions in force (negative: no version).
NO_VERSION = -1
OFFER_RETIRED = -2
MODEL_RETIRED = -3

# Reason codes, in the order ``quote()`` checks them. Scope says what the text is indexed by.
REASONS: tuple[tuple[str, str], ...] = (
    ("ok", "global"),
    ("missing_offer", "global"),
    ("unknown_offer", "global"),
    ("bad_timestamp", "global"),
    ("bad_operation", "global"),
    ("bad_size", "global"),
    ("bad_count", "global"),
    ("bad_input_images", "global"),
    ("bad_steps", "global"),
    ("bad_seconds", "global"),
    ("bad_prompt_tokens", "global"),
    ("bad_input_image_tokens", "global"),
    ("model_mismatch", "offer"),
    ("model_retired", "offer"),
    ("offer_retired", "offer"),
    ("no_version", "offer"),
    ("operation", "version"),
    ("sizes", "version"),
    ("max_mp", "version"),
    ("max_side", "version"),
    ("min_side", "version"),
    ("multiple_of", "version"),
    ("max_inputs", "version"),
    ("min_steps", "version"),
    ("max_steps", "version"),
    ("bracket", "version"),
    ("quality_required", "version"),
    ("quality_unknown", "version"),
    ("no_component", "version"),
    ("no_seconds", "version"),
    ("no_token_row", "version"),
    ("no_text_price", "version"),
    ("no_input_tokens", "version"),
    ("no_image_input_price", "version"),
    ("no_steps", "version"),
    ("no_overage", "version"),
    ("no_fx", "global"),
)
CODE: dict[str, int] = {name: i for i, (name, _) in enumerate(REASONS)}


def reason_texts(
    cat: Catalog, offers: list[Offer], pairs: list[tuple[Offer, PriceVersion]]
) -> tuple[list[int], list[str]]:
    """Per reason code, the first index of its texts; and the texts, in code order.

    A global reason has one text; an offer reason one per offer, and a version reason one per
    (offer, version) of ``pairs``, in their order.
    """
    offsets: list[int] = []
    texts: list[str] = []
    for name, scope in REASONS:
        offsets.append(len(texts))
        if scope == "global":
            texts.append(_GLOBAL_TEXT.get(name, name))
        elif scope == "offer":
            texts += [_offer_text(cat, name, o) for o in offers]
        else:
            texts += [_version_text(name, o, v) for o, v in pairs]
    return offsets, texts


#: The reason of a row whose offer_id is not in the catalog (priced on).
UNKNOWN_OFFER = "unknown offer_id; see `pricing cards list` for the offers in the catalog"

_GLOBAL_TEXT = {
    "ok": "",
    "missing_offer": "no offer_id: give the offer to price the row on (see `pricing cards list`)",
    "unknown_offer": UNKNOWN_OFFER,
    "bad_timestamp": "missing or unreadable timestamp; give an ISO 8601 time with a time zone",
    "bad_operation": (f"missing or unknown operation; use one of {', '.join(OPERATIONS)}"),
    "bad_size": (
        "missing, zero or negative width or height, or one out of range: sizes (input sizes "
        f"too) are each {PX.describe()}"
    ),
    "bad_count": (
        "missing, zero or negative count, or one out of range: count is the images made by "
        f"the call, {BOUNDS['count'].describe()}"
    ),
    **{
        f"bad_{name}": f"{name} out of range; give {BOUNDS[name].describe()}"
        for name in ("input_images", "steps", "seconds", "prompt_tokens", "input_image_tokens")
    },
    "no_fx": "no exchange rate for the currency on that day; run `pricing fx pull`",
}


def _offer_text(cat: Catalog, name: str, o: Offer) -> str:
    """The reason of an offer-wide code; on a catalog narrowed by a trust policy, the prices
    it took out of the offer follow (they may be why no price is in force)."""
    narrowing = narrowing_of(cat)
    if name not in ("offer_retired", "no_version") or narrowing is None:
        return _plain_offer_text(cat, name, o)
    why = narrowing.why_excluded(o.id)
    full = narrowing.full.offer(o.id)
    if why is None:
        return _plain_offer_text(cat, name, o)
    return f"{_plain_offer_text(narrowing.full, 'no_version', full)} ({why})"


def _plain_offer_text(cat: Catalog, name: str, o: Offer) -> str:
    model = cat.models.get(o.model)
    if name == "model_mismatch":
        return f"{o.id} serves model {o.model!r}, not the row's model"
    if name == "model_retired":
        day = model.retired.isoformat() if model and model.retired else "?"
        return f"model {o.model!r} was retired on {day}"
    if name == "offer_retired":
        last = max((v.effective_to for v in o.versions if v.effective_to), default=None)
        return f"{o.id} was retired on {last.isoformat() if last else '?'}"
    periods = ", ".join(
        f"{v.effective_from} to {v.effective_to or 'now'}"
        for v in sorted(o.versions, key=lambda v: v.effective_from)
    )
    return f"{o.id} has no price in force on that day; its prices cover {periods}"


def _version_text(name: str, o: Offer, v: PriceVersion) -> str:
    lim = v.limits or o.limits
    vid = f"{o.id} ({v.version_id})"
    if name == "operation":
        return f"{o.id} does not serve that operation; it serves {', '.join(o.operations)}"
    if name == "sizes":
        return f"{o.id} accepts only sizes {', '.join(lim.sizes or []) if lim else ''}"
    if name == "max_mp":
        return f"{o.id} allows at most {lim.max_megapixels if lim else '?'} MP"
    if name == "max_side":
        return f"{o.id} allows sides up to {lim.max_side if lim else '?'} px"
    if name == "min_side":
        return f"{o.id} needs sides of at least {lim.min_side if lim else '?'} px"
    if name == "multiple_of":
        return f"{o.id} needs width and height in multiples of {lim.multiple_of if lim else '?'} px"
    if name == "max_inputs":
        return f"{o.id} takes at most {lim.max_input_images if lim else '?'} input images"
    if name == "min_steps":
        return f"{o.id} needs at least {lim.min_steps if lim else '?'} steps"
    if name == "max_steps":
        return f"{o.id} allows at most {lim.max_steps if lim else '?'} steps"
    if name == "bracket":
        names = ", ".join(b.name for b in o.brackets)
        return f"the size is larger than every size bracket of {o.id} ({names})"
    if name == "quality_required":
        return f"{o.id} prices by quality; give a quality, one of {o.quality_words()}"
    if name == "quality_unknown":
        return f"{o.id} has no such quality; use one of {o.quality_words()}"
    if name == "no_component":
        return f"no price component of {vid} applies to that operation, size and quality"
    if name == "no_seconds":
        return f"{vid} is billed per GPU-second without a run-time estimate; give seconds"
    if name == "no_token_row":
        return f"{vid} has no output-token count for that size and quality"
    if name == "no_text_price":
        return f"{vid} has no text-input token price for the prompt tokens"
    if name == "no_input_tokens":
        return f"{vid} charges input images by tokens; give input_image_tokens"
    if name == "no_image_input_price":
        return f"{vid} has no image-input token price"
    if name == "no_steps":
        return f"{vid} prices per inference step; give steps"
    if name == "no_overage":
        return f"{vid} has no price for usage beyond the plan"
    return f"{vid}: {name}"  # pragma: no cover - every code has a text above

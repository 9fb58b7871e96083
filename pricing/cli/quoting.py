"""What ``pricing quote`` does: price one request on every offer, or one offer in detail.

The command's options are declared (for typer) in :mod:`pricing.cli.quote`; this module imports
no typer, so that :mod:`pricing.cli.quick` can run the quote without it."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from pricing._cards.fields import OPERATIONS
from pricing._price.bounds import BOUNDS, VOLUME
from pricing.cli._common import (
    evidence_or_fail,
    fail,
    load_catalog_or_fail,
    money,
    out,
    print_json,
    print_table,
    source_date,
)
from pricing.cli._currency import converter_or_fail, print_conversions
from pricing.errors import PricingError, RequestError

if TYPE_CHECKING:
    from pricing._cards.catalog import Catalog
    from pricing._evidence.grades import TrustPolicy
    from pricing._fx.convert import Conversion, Converter
    from pricing._price.bounds import Bound
    from pricing._price.request import ImageRequest
    from pricing._quote.quote import Quote

_SIZE = re.compile(r"^(\d+)x(\d+)$")
#: The model quoted when neither --model nor --offer names one.
DEFAULT_MODEL = "flux-2-pro"


def quote_run(
    *,
    model: str | None,
    size: str,
    count: int,
    operation: str,
    input_images: int,
    input_size: str | None,
    input_image_tokens: int | None,
    prompt_tokens: int,
    quality: str | None,
    steps: int | None,
    seconds: float | None,
    monthly_volume: int | None,
    offer: str | None,
    source: str | None,
    as_of: str | None,
    all_offers: bool,
    data: Path | None,
    evidence: str | None,
    currency: str | None,
    fx: list[str] | None,
    max_fx_age_days: int,
    as_json: bool,
) -> None:
    """``pricing quote`` with its options' values (see :mod:`pricing.cli.quote` for what
    each means): a comparison of every offer, or one offer in detail."""
    from pricing._base.dates import to_date
    from pricing._quote.compare import compare_rows
    from pricing._quote.quote import quote

    width, height = size_or_fail("--size", size)
    within("--count", count, "count")
    within("--input-images", input_images, "input_images")
    within("--prompt-tokens", prompt_tokens, "prompt_tokens")
    for option, value, name in (
        ("--steps", steps, "steps"),
        ("--seconds", seconds, "seconds"),
        ("--input-image-tokens", input_image_tokens, "input_image_tokens"),
    ):
        if value is not None:
            within(option, value, name)
    if monthly_volume is not None:
        within("--monthly-volume", monthly_volume, "monthly_volume", VOLUME)
    policy = evidence_or_fail(evidence)
    converter = _converter(currency, fx, max_fx_age_days, data)
    cat = load_catalog_or_fail(data)
    offer = None if offer is None else offer_id(offer)
    model = _model(cat, model, offer)
    check_words(cat, model, offer, quality, operation)
    fields = {
        "model": model, "operation": operation, "width": width, "height": height,
        "count": count, "quality": quality, "steps": steps,
        "input_images": _inputs(input_images, input_size, width, height),
        "input_image_tokens": input_image_tokens, "prompt_tokens": prompt_tokens,
        "seconds": None if seconds is None else Decimal(str(seconds)),
    }  # fmt: skip
    request = request_or_fail(fields, size)
    try:
        day = to_date(as_of)
        if offer is not None:
            q = quote(
                request, offer, as_of=day, source=source, monthly_volume=monthly_volume,
                catalog=cat, evidence=policy, fx=converter,
            )  # fmt: skip
            _show_quote(q, as_json=as_json)
            return
        rows = compare_rows(
            request, cat, as_of=day, monthly_volume=monthly_volume, include_unavailable=True,
            evidence=policy, fx=converter,
        )  # fmt: skip
    except (PricingError, ValueError) as exc:
        raise fail(str(exc)) from exc
    used = [] if converter is None else converter.used()
    _show_compare(request, day.isoformat(), rows, policy, used, as_json=as_json, every=all_offers)


def _show_compare(
    request: ImageRequest,
    day: str,
    rows: list[dict[str, object]],
    policy: TrustPolicy,
    used: list[Conversion],
    *,
    as_json: bool,
    every: bool,
) -> None:
    """The comparison: priced offers, unverified leads, offers that cannot price the request
    (``rows`` as :func:`pricing._quote.compare.compare_rows` gives them)."""
    priced = [r for r in rows if r["total"] is not None and r["lead"] is None]
    leads = [r for r in rows if r["lead"] is not None]
    skipped = [r for r in rows if r["total"] is None]
    if as_json:
        print_json(
            {
                "request": request.model_dump(mode="json"),
                "as_of": day,
                "evidence": f"{policy.name}: {policy.describe()}",
                "offers": [_json_row(r) for r in priced],
                "leads": [_json_row(r) for r in leads],
                "unavailable": [
                    {"offer_id": r["offer_id"], "reason": r["reason"]} for r in skipped
                ],
                "fx": [c.as_dict() for c in used],
            }
        )
        return
    _print_compare(request, day, priced, skipped, show_skipped=every)
    _print_leads(leads, policy)
    print_conversions(used)


# --------------------------------------------------------------------------- options


def offer_id(text: str) -> str:
    """An offer id as typed, with its provider in lower case: provider names are
    case-insensitive ("BFL/flux-2-pro" is bfl/flux-2-pro)."""
    provider, slash, rest = text.strip().partition("/")
    return f"{provider.lower()}{slash}{rest}"


def span(bound: Bound) -> str:
    """A number's range for an error: "1 to 100,000 px", "above 0 and at most 86,400 s"."""
    if bound.above:
        return f"above {bound.least:,} and at most {bound.most:,} {bound.unit}".strip()
    return f"{bound.least:,} to {bound.most:,} {bound.unit}".strip()


def within(option: str, value: float, name: str, bound: Bound | None = None) -> None:
    """Fail naming ``option`` and its range when ``value`` is out of the range of ``name``."""
    bound = bound or BOUNDS[name]
    if bound.problem(value) is not None:
        raise fail(f"{option} {value:g}: must be {span(bound)}")


def size_or_fail(option: str, text: str) -> tuple[int, int]:
    """Width and height of ``text`` (WIDTHxHEIGHT), or a clean exit naming the side out of
    range: "--size 0x1024: width must be 1 to 100,000 px"."""
    m = _SIZE.match(text.strip().lower())
    if m is None:
        raise fail(f"{option} {text!r} must look like 1024x1024 (WIDTHxHEIGHT in pixels)")
    width, height = int(m.group(1)), int(m.group(2))
    for side, value in (("width", width), ("height", height)):
        if BOUNDS["width"].problem(value) is not None:
            raise fail(f"{option} {text}: {side} must be {span(BOUNDS['width'])}")
    return width, height


def request_or_fail(fields: dict[str, object], size: str) -> ImageRequest:
    """The request of the options' ``fields``, or a clean exit naming the option at fault in
    command line words (``--steps 0: ...``), never the request's field syntax."""
    from pricing._price.request import ImageRequest

    try:
        return ImageRequest(**fields)
    except RequestError as exc:
        said = str(exc).removeprefix("invalid ImageRequest: ")
        said = re.sub(r"\b(width|height)=(\S+):", f"--size {size}: \\1 \\2", said)
        said = re.sub(r"\b([a-z_]+)=", lambda m: "--" + m[1].replace("_", "-") + " ", said)
        raise fail(said) from exc


def _model(cat: Catalog, model: str | None, offer: str | None) -> str:
    """The model to quote: --model, else the --offer's model, else :data:`DEFAULT_MODEL`."""
    if model is not None:
        return model.strip()
    if offer is None:
        return DEFAULT_MODEL
    try:
        return cat.offer(offer).model
    except PricingError as exc:
        raise fail(str(exc)) from exc


def check_words(
    cat: Catalog, model: str, offer: str | None, quality: str | None, operation: str
) -> None:
    """Refuse an --operation or --quality no offer of the request knows (naming the words it
    knows), rather than price as if it had not been given."""
    if operation not in OPERATIONS:
        raise fail(f"--operation {operation}: unknown; use one of {', '.join(OPERATIONS)}")
    if quality is None:
        return
    try:
        offers = [cat.offer(offer)] if offer is not None else None
    except PricingError as exc:
        raise fail(str(exc)) from exc
    if offers is None:
        offers = [o for _, o in cat.all_offers() if o.model == model]
    if not offers:
        return  # an unknown model: the quote says so, with the known ones
    known = list(dict.fromkeys(w for o in offers for w in (*o.qualities, *o.quality_scale)))
    whose = offer or f"the offers of {model}"
    if not known:
        raise fail(
            f"--quality {quality}: {whose} price no quality levels, so it would change "
            "nothing; drop --quality"
        )
    if quality not in known:
        raise fail(f"--quality {quality}: unknown for {whose}; use one of {', '.join(known)}")


def _show_quote(q: Quote, *, as_json: bool) -> None:
    """One offer's quote, then the exchange rate it was converted at (if it was)."""
    used = [] if q.fx is None else [q.fx]
    if as_json:
        print_json({**q.to_dict(), "fx": [c.as_dict() for c in used]})
        return
    _print_quote(q)
    print_conversions(used)


def _converter(
    currency: str | None, fx: list[str] | None, max_fx_age_days: int, data: Path | None
) -> Converter | None:
    """The converter --currency asks for (planning: a quote may be for a day after the ECB
    data), or None; --fx without --currency is an error."""
    if currency is None:
        if fx:
            raise fail(
                "--fx gives exchange rates, but no --currency to convert into; add e.g. "
                "--currency EUR"
            )
        return None
    return converter_or_fail(currency, fx, max_fx_age_days, data=data, planning=True)


def _sign(currency: str | None) -> str:
    """What a price is written after: "$" for USD (as ever), else the code and a space."""
    return "$" if currency in (None, "USD") else f"{currency} "


def _inputs(count: int, size: str | None, width: int, height: int) -> list[tuple[int, int]]:
    """``count`` reference images of ``size`` (default: the output's)."""
    if size is None:
        return [(width, height)] * count
    return [size_or_fail("--input-size", size)] * count


def _json_row(row: dict[str, object]) -> dict[str, object]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}


def _print_compare(
    request: ImageRequest,
    day: str,
    priced: list[dict[str, Any]],
    skipped: list[dict[str, Any]],
    *,
    show_skipped: bool,
) -> None:
    title = (
        f"{request.model} {request.operation} {request.size} x{request.count}"
        + (f" quality {request.quality}" if request.quality else "")
        + f" — prices on {day}, cheapest first"
    )
    table = Table(title=title)
    for col, justify, whole in (
        ("offer", "left", True),
        ("per image", "right", True),
        ("total", "right", True),
        ("range across sources", "right", False),
        ("source", "left", False),
        ("grade", "left", True),
        ("source date", "left", True),
    ):
        table.add_column(col, justify=justify, no_wrap=whole, overflow="fold")  # type: ignore[arg-type]
    for r in priced:
        spread = (
            f"{money(r['min_total'])} to {money(r['max_total'])} ({r['sources']})"
            if r["sources"] > 1 or r["min_total"] != r["max_total"]
            else ""
        )
        total = money(r["total"])
        if r["total_high"] is not None:
            total += f" to {money(r['total_high'])}"
        sign = _sign(r["currency"])
        table.add_row(
            escape(r["offer_id"]),
            f"{sign}{money(r['per_image'])}",
            f"{sign}{total}",
            spread,
            escape(r["source_id"]),
            r["grade"] + (" [yellow]*[/]" if r["flags"] else ""),
            source_date(r["published"], r["seen"]),
        )
    print_table(table, ("range across sources", "source date", "grade", "source"))
    if any(r["flags"] is not None for r in priced):
        out.print(
            "[dim]* flagged, but not excluded: `pricing cards show OFFER` says why[/]",
            highlight=False,
        )
    lines = [f"  [dim]{escape(r['offer_id'])}: {escape(r['reason'])}[/]" for r in skipped]
    if skipped and not show_skipped:
        lines = [f"[dim]{len(skipped)} offer(s) cannot price this request; --all lists why[/]"]
    for line in lines:
        out.print(line, highlight=False)
    if not priced:
        out.print("[yellow]no offer can price this request[/]", highlight=False)


def _print_leads(leads: list[dict[str, Any]], policy: TrustPolicy) -> None:
    """The offers only excluded prices can price: their figure and why they do not answer."""
    if not leads:
        return
    table = Table(title=f"Unverified leads: priced only by prices the {policy.name} evidence "
                  "policy excludes (never an answer; --evidence all admits them)")  # fmt: skip
    for col in ("offer", "per image", "source", "grade", "why excluded"):
        whole = col in ("offer", "per image")
        table.add_column(
            col, justify="right" if col == "per image" else "left", no_wrap=whole, overflow="fold"
        )
    for r in leads:
        table.add_row(
            escape(r["offer_id"]),
            f"{_sign(r['currency'])}{money(r['per_image'])}",
            escape(r["source_id"]),
            r["grade"],
            escape(r["lead"].removeprefix("unverified lead: ")),
        )
    print_table(table, ("source", "grade"), least=20)


def _print_quote(q: Quote) -> None:
    table = Table(title=f"{q.offer_id} — {q.request.size} x{q.request.count}, as of {q.as_of}")
    for col in ("line item", "quantity", "unit", "unit price", "amount"):
        left = col in ("line item", "unit")
        table.add_column(col, justify="left" if left else "right", no_wrap=not left)
    for i in q.line_items:
        table.add_row(
            escape(i.description),
            f"{i.quantity:,.6g}",
            i.unit,
            f"{i.unit_price:.8g}",
            money(i.amount, 6),
        )
    print_table(table)
    out.print(
        f"[bold]total {q.currency} {money(q.total, 6)}[/]"
        + (f" (up to {money(q.total_high, 6)})" if q.total_high is not None else "")
        + f"  = {money(q.per_image, 6)}/image"
    )
    out.print(
        f"price version {q.price_version} · source {q.source_id} ({q.source_kind}), "
        f"{source_date(q.published, q.seen)}: {escape(q.source_title)}",
        highlight=False,
    )
    out.print(f"evidence: graded {q.grade}; policy {escape(q.evidence)}", highlight=False)
    for flag in q.flags:
        out.print(f"[yellow]flag {escape(flag)}[/]", highlight=False)
    if q.spread.sources > 1:
        parts = ", ".join(f"{s.source_id} {money(s.total, 6)}" for s in q.spread.by_source)
        out.print(
            f"sources disagree: {money(q.spread.low, 6)} to {money(q.spread.high, 6)} ({parts})",
            highlight=False,
        )
    for note in q.notes:
        out.print(f"[dim]note: {escape(note)}[/]", highlight=False)
    if q.fx is not None and q.list_total is not None:
        out.print(
            f"listed as {q.list_currency} {money(q.list_total, 6)}, converted at the rate below",
            highlight=False,
        )

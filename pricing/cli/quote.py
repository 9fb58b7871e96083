"""``pricing quote``: price one request on every offer, or one offer in detail.

The command's options, as typer declares them; the work is
:func:`pricing.cli.quoting.quote_run`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pricing._cards.fields import OPERATIONS
from pricing.cli._options import (
    AsOfOption,
    CurrencyOption,
    DataOption,
    EvidenceOption,
    FxOption,
    JsonOption,
    MaxFxAgeOption,
)
from pricing.cli.quoting import DEFAULT_MODEL, quote_run


def quote_cmd(
    model: Annotated[
        str | None,
        typer.Option(
            help=f"Model id (see `pricing cards list`). Default: the --offer's model, else "
            f"{DEFAULT_MODEL}."
        ),
    ] = None,
    size: Annotated[
        str, typer.Option(help="Output size WIDTHxHEIGHT \\[px], each side 1 to 100,000.")
    ] = "1024x1024",
    count: Annotated[int, typer.Option(help="Images in the request \\[images].")] = 1,
    operation: Annotated[
        str, typer.Option(help=f"What the call does: {', '.join(OPERATIONS)}.")
    ] = "generate",
    input_images: Annotated[
        int,
        typer.Option(
            "--input-images",
            help="Reference images (of --input-size; an edit states at least one) \\[images].",
        ),
    ] = 0,
    input_size: Annotated[
        str | None,
        typer.Option("--input-size", help="Size of each reference image \\[px] (default: --size)."),
    ] = None,
    input_image_tokens: Annotated[
        int | None,
        typer.Option(
            "--input-image-tokens",
            help="Image-input tokens of the whole call, for token-priced edits (GPT Image) "
            "\\[tokens].",
        ),
    ] = None,
    prompt_tokens: Annotated[
        int,
        typer.Option(
            "--prompt-tokens", help="Text tokens of the prompt (token offers) \\[tokens]."
        ),
    ] = 0,
    quality: Annotated[
        str | None,
        typer.Option(help="Quality level the model's offers price by, e.g. low, hd."),
    ] = None,
    steps: Annotated[int | None, typer.Option(help="Inference steps \\[steps].")] = None,
    seconds: Annotated[
        float | None,
        typer.Option(help="GPU run time per image, for per-second offers \\[s/image]."),
    ] = None,
    monthly_volume: Annotated[
        int | None,
        typer.Option(
            "--monthly-volume", help="Images already billed this month, for tiers \\[images/month]."
        ),
    ] = None,
    offer: Annotated[
        str | None,
        typer.Option(
            help="Quote one offer in detail instead of comparing all, e.g. bfl/flux-2-pro."
        ),
    ] = None,
    source: Annotated[str | None, typer.Option(help="With --offer: price by this source.")] = None,
    as_of: AsOfOption = None,
    all_offers: Annotated[
        bool, typer.Option("--all", help="Also list offers that cannot price the request.")
    ] = False,
    data: DataOption = None,
    evidence: EvidenceOption = None,
    currency: CurrencyOption = None,
    fx: FxOption = None,
    max_fx_age_days: MaxFxAgeOption = 7,
    as_json: JsonOption = False,
) -> None:
    """Price a request on every provider, cheapest first; unverified leads follow."""
    quote_run(
        model=model,
        size=size,
        count=count,
        operation=operation,
        input_images=input_images,
        input_size=input_size,
        input_image_tokens=input_image_tokens,
        prompt_tokens=prompt_tokens,
        quality=quality,
        steps=steps,
        seconds=seconds,
        monthly_volume=monthly_volume,
        offer=offer,
        source=source,
        as_of=as_of,
        all_offers=all_offers,
        data=data,
        evidence=evidence,
        currency=currency,
        fx=fx,
        max_fx_age_days=max_fx_age_days,
        as_json=as_json,
    )

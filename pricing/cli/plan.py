"""Planning commands of the ``pricing`` CLI: ``simulate`` and ``breakeven``."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Annotated, Any

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table

from pricing._base.dates import to_date
from pricing.cli._common import (
    cli_words,
    evidence_or_fail,
    fail,
    load_data_or_fail,
    money_text,
    out,
    print_json,
    print_table,
    progress_task,
    records,
)
from pricing.cli._currency import converter_or_fail, print_conversions
from pricing.cli._options import (
    AsOfOption,
    CurrencyOption,
    DataOption,
    EvidenceOption,
    FxOption,
    JsonOption,
    MaxFxAgeOption,
)
from pricing.cli.quoting import offer_id, within
from pricing.errors import PricingError

if TYPE_CHECKING:
    from pricing._plan.breakeven import BreakEven
    from pricing._plan.simulate import Simulation

#: Money columns of the JSON tables [currency], written as exact decimal strings.
TOTAL_MONEY = ("horizon_cost", "idle", "per_image")
CHEAPEST_MONEY = ("cost", "hosted_cost", "self_hosted_cost")
BAND_MONEY = ("p10", "p50", "p90", "mean")
LEAD_MONEY = ("cost_per_image", "cost", "gpu_hour")
SENSITIVITY_MONEY = ("cost_at_low", "cost_at_high", "base_cost", "swing")


def _money(value: float | None, currency: str, places: int = 0) -> str:
    """Money for people: ``$1,234`` in USD, ``1,234 EUR`` in any other currency."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"${value:,.{places}f}" if currency == "USD" else f"{value:,.{places}f} {currency}"


def _number(value: float) -> str:
    """An input's value for people: 28,940 or 104.5 or 0.01894 (no exponent above 0.001)."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0 or abs(value) >= 0.001:
        return f"{value:.4g}"
    return f"{value:.3e}"


# --------------------------------------------------------------------------- simulate


def simulate_cmd(
    workload: Annotated[
        str,
        typer.Argument(help="Bundled workload name (see `pricing workloads list`) or a TOML file."),
    ] = "ecommerce",
    samples: Annotated[
        int, typer.Option("--samples", help="Monte Carlo samples (0 = none) \\[samples].")
    ] = 0,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the sampling.")] = None,
    gpu: Annotated[
        list[str] | None,
        typer.Option("--gpu", help="GPU type or GPU offer id to consider (repeatable)."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Options shown per segment.")] = 8,
    price_spread: Annotated[
        bool | None,
        typer.Option(
            "--price-spread/--no-price-spread",
            help="Sample hosted and GPU prices across their disagreeing sources "
            "(default: as the workload's `prices` says).",
        ),
    ] = None,
    as_of: AsOfOption = None,
    data: DataOption = None,
    evidence: EvidenceOption = None,
    currency: CurrencyOption = None,
    fx: FxOption = None,
    max_fx_age_days: MaxFxAgeOption = 7,
    as_json: JsonOption = False,
) -> None:
    """Cost of a workload on every hosted offer and self-hosted set-up, month by month.

    Money is in --currency (default: the workload's); every exchange rate used is printed.
    """
    from pricing._plan.simulate import simulate
    from pricing._plan.summary import option_totals, plan_notes

    dataset = load_data_or_fail(data)
    if evidence is not None:
        evidence_or_fail(evidence)
    converter_or_fail(currency or "USD", fx, max_fx_age_days, data=data, planning=True)

    try:
        day = to_date(as_of)
        with progress_task("simulating") as bar:
            result = simulate(
                workload,
                gpus=None if gpu is None else [offer_id(g) for g in gpu],
                as_of=day,
                samples=samples,
                seed=seed,
                price_spread=price_spread,
                progress=bar,
                data=dataset,
                evidence=evidence,
                currency=currency,
                fx=fx,
                max_fx_age_days=max_fx_age_days,
            )
    except PricingError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json(_simulation_json(result, plan_notes(result)))
        return
    out.print(
        f"[bold]{escape(result.workload)}[/]: {result.monthly['month'].n_unique()} months, "
        f"prices as of {result.as_of.isoformat()}"
        + (f", {result.samples:,} samples (seed {result.seed})" if result.samples else "")
    )
    out.print(f"[dim]prices: {escape(result.evidence)}[/]", highlight=False)
    totals = option_totals(result)
    for segment in totals["segment"].unique(maintain_order=True):
        _print_segment(result, totals.filter(pl.col("segment") == segment), segment, top)
    for note in [*result.notes, *plan_notes(result)]:
        out.print(f"[yellow]note:[/] {escape(cli_words(note))}")
    print_conversions(list(result.conversions))


def _simulation_json(result: Simulation, notes: list[str]) -> dict[str, object]:
    """The simulation for ``--json``: money as exact strings, in ``currency``; ``fx`` lists
    the exchange rates used (rate, day, source, kind)."""
    from pricing._plan.summary import option_totals

    return {
        "workload": result.workload,
        "currency": result.currency,
        "as_of": result.as_of.isoformat(),
        "seed": result.seed,
        "samples": result.samples,
        "evidence": result.evidence,
        "totals": records(option_totals(result), money=TOTAL_MONEY),
        "leads": records(result.leads, money=LEAD_MONEY),
        "no_self_hosting": records(result.no_self_hosting),
        "cheapest": records(result.cheapest, money=CHEAPEST_MONEY),
        "bands": None if result.bands is None else records(result.bands, money=BAND_MONEY),
        "self_hosting_cheaper": None
        if result.self_hosting_cheaper is None
        else records(result.self_hosting_cheaper),
        "sensitivity": None
        if result.sensitivity is None
        else records(result.sensitivity, money=SENSITIVITY_MONEY),
        "notes": list(result.notes) + notes,
        "fx": [c.as_dict() for c in result.conversions],
    }


def _print_segment(result: Any, totals: pl.DataFrame, segment: str, top: int) -> None:
    """The tables of one segment: cheapest options, bands, cheapest by month, sensitivity."""
    ok = totals.filter(pl.col("feasible"))
    cur = result.currency
    _print_options(ok, totals.height, segment, top, cur)
    why = result.self_hosting_reason(segment)
    if why is not None:
        out.print(f"[yellow]no self-hosted option evaluated:[/] {escape(why)}", highlight=False)
    if result.bands is not None:
        _print_bands(result, segment, top)
    _print_cheapest(result.cheapest.filter(pl.col("segment") == segment), cur)
    if result.sensitivity is not None:
        _print_sensitivity(result.sensitivity, ok, segment, cur)
    _print_leads(result.leads.filter(pl.col("segment") == segment), segment, cur)


def _print_leads(leads: pl.DataFrame, segment: str, cur: str) -> None:
    """Offers the evidence policy left without a price: figure and reason, never an answer."""
    if leads.height == 0:
        return
    table = Table(
        title=f"{segment}: unverified leads, not ranked (--evidence all admits them)",
        title_justify="left",
    )
    for col in ("offer", "grade", "price", "first month", "why excluded"):
        table.add_column(
            col,
            justify="right" if col in ("price", "first month") else "left",
            no_wrap=col != "why excluded",
            overflow="fold",
        )
    for r in leads.iter_rows(named=True):
        gpu = r["gpu_hour"] is not None
        table.add_row(
            escape(r["offer_id"]),
            r["grade"],
            f"{_money(r['gpu_hour'], cur, 2)}/GPU-h"
            if gpu
            else f"{_money(r['cost_per_image'], cur, 4)}/image",
            _money(r["cost"], cur),
            escape(cli_words(r["reason"] or "")),
        )
    print_table(table, ("grade", "first month"), least=20)


def _print_options(ok: pl.DataFrame, options: int, segment: str, top: int, cur: str) -> None:
    table = Table(
        title=f"{segment}: the {min(top, ok.height)} cheapest of {options} options "
        f"({ok.height} can serve every month)",
        title_justify="left",
    )
    for col, just in (
        ("option", "left"),
        ("kind", "left"),
        ("grade", "left"),
        ("total", "right"),
        ("$/image" if cur == "USD" else f"{cur}/image", "right"),
        ("peak GPUs", "right"),
        ("utilisation", "right"),
    ):
        table.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for r in ok.head(top).iter_rows(named=True):
        table.add_row(
            escape(r["option"]),
            r["kind"] if r["kind"] == "hosted" else f"{r['mode']}",
            r["grade"] or "-",
            _money(r["horizon_cost"], cur),
            _money(r["per_image"], cur, 4),
            _gpus_cell(r),
            "-" if r["utilisation"] is None else f"{r['utilisation']:.0%}",
        )
    print_table(table, ("kind", "utilisation", "peak GPUs", "grade"))
    for kind in ("hosted", "self-hosted"):
        best = ok.filter(pl.col("kind") == kind).head(1)
        if best.height and best["option"][0] not in ok["option"].head(top).to_list():
            r = best.row(0, named=True)
            out.print(
                f"  cheapest {kind}: {escape(r['option'])}, {_money(r['horizon_cost'], cur)} "
                f"({_money(r['per_image'], cur, 4)}/image)"
            )


def _gpus_cell(row: dict[str, Any]) -> str:
    """Peak GPUs, marked when the fleet also serves other segments (counted once)."""
    if row["peak_gpus"] is None:
        return "-"
    return f"{row['peak_gpus']} shared" if row.get("shared_with") else str(row["peak_gpus"])


def _print_bands(result: Any, segment: str, top: int) -> None:
    bands = (
        result.bands.filter(pl.col("segment") == segment)
        .group_by("option", "kind")
        .agg(pl.col("p10", "p50", "p90").sum())
        .sort("p50", nulls_last=True)
        .head(top)
    )
    band_table = Table(title=f"{segment}: horizon cost P10 / P50 / P90", title_justify="left")
    for col in ("option", "P10", "P50", "P90"):
        band_table.add_column(col, justify="left" if col == "option" else "right", no_wrap=True)
    for r in bands.iter_rows(named=True):
        band_table.add_row(
            escape(r["option"]), *(_money(r[p], result.currency) for p in ("p10", "p50", "p90"))
        )
    print_table(band_table)
    prob = result.self_hosting_cheaper.filter(pl.col("segment") == segment)
    first, last = (prob["probability"][0], prob["probability"][-1]) if prob.height else (None,) * 2
    if first is not None and last is not None:
        out.print(
            f"P(self-hosting is cheaper): {first:.0%} in the first month, {last:.0%} in the last"
        )


def _print_cheapest(cheapest: pl.DataFrame, cur: str) -> None:
    """When the cheapest option of a segment changes, month by month."""
    if not cheapest.height:
        return
    changes = cheapest.filter(pl.col("option").ne_missing(pl.col("option").shift(1)))
    if changes.height == 1:
        low, high = cheapest["cost"].min(), cheapest["cost"].max()
        spread = (
            _money(low, cur)  # type: ignore[arg-type]
            if low == high
            else f"{_money(low, cur)} to {_money(high, cur)}"  # type: ignore[arg-type]
        )
        out.print(
            f"  the cheapest in every month is {escape(changes['option'][0])} ({spread}/month)"
        )
        return
    for r in changes.iter_rows(named=True):
        out.print(
            f"  from {r['month'].isoformat()[:7]} the cheapest is {escape(r['option'])} "
            f"({_money(r['cost'], cur)}/month)"
        )


def _print_sensitivity(sensitivity: pl.DataFrame, ok: pl.DataFrame, segment: str, cur: str) -> None:
    """The inputs that move the cost of the segment's cheapest option most."""
    leader: list[str] = ok["option"].head(1).to_list()
    # the inputs that move it (self-hosting inputs do not move a hosted option's cost)
    sens = sensitivity.filter(
        (pl.col("segment") == segment)
        & pl.col("option").is_in(leader)
        & (pl.col("cost_at_low") != pl.col("cost_at_high"))
    ).head(5)
    if not sens.height:
        return
    sens_table = Table(
        title=f"what moves the cost of {leader[0]} most (P10 -> P90)", title_justify="left"
    )
    for col in ("input", "low", "high", "cost at low", "cost at high"):
        left = col == "input"
        sens_table.add_column(col, justify="left" if left else "right", no_wrap=not left)
    for r in sens.iter_rows(named=True):
        sens_table.add_row(
            escape(r["input"]),
            _number(r["low"]),
            _number(r["high"]),
            _money(r["cost_at_low"], cur),
            _money(r["cost_at_high"], cur),
        )
    print_table(sens_table, least=20)


# --------------------------------------------------------------------------- breakeven


def breakeven_cmd(
    model: Annotated[str, typer.Option("--model", help="Open-weights model, e.g. flux-1-dev.")],
    gpu: Annotated[
        str, typer.Option("--gpu", help="GPU offer id (runpod/h100-sxm-community) or GPU type.")
    ],
    hosted: Annotated[
        str,
        typer.Option(
            "--hosted", help="Hosted offer id, or a price per image like 0.025 [USD/image]."
        ),
    ],
    gpu_hour: Annotated[
        float | None,
        typer.Option("--gpu-hour", help="Price per GPU-hour, instead of the offer's [USD/GPU-h]."),
    ] = None,
    width: Annotated[int, typer.Option("--width", help="Image width \\[px].")] = 1024,
    height: Annotated[int, typer.Option("--height", help="Image height \\[px].")] = 1024,
    steps: Annotated[
        int | None, typer.Option("--steps", help="Inference steps (default: the model's).")
    ] = None,
    p95: Annotated[float | None, typer.Option("--p95", help="p95 latency target \\[s].")] = None,
    peak_to_mean: Annotated[
        float,
        typer.Option("--peak-to-mean", help="Peak hour's rate / the mean rate \\[ratio]."),
    ] = 1.0,
    licence: Annotated[
        float | None,
        typer.Option(
            "--licence",
            help="Licence fee [USD/month] (default: data/licences.toml; asked for when no "
            "source prices the model's licence).",
        ),
    ] = None,
    included_images: Annotated[
        float | None,
        typer.Option("--included-images", help="Images the licence fee covers \\[images/month]."),
    ] = None,
    overage: Annotated[
        float,
        typer.Option("--overage", help="Licence charge per image beyond the included [USD/image]."),
    ] = 0.0,
    max_utilisation: Annotated[
        float,
        typer.Option("--max-utilisation", help="Busiest fraction per GPU, (0, 1] \\[fraction]."),
    ] = 1.0,
    ops: Annotated[
        float, typer.Option("--ops", help="Operations cost (people, tooling) [USD/month].")
    ] = 0.0,
    margin: Annotated[
        float,
        typer.Option("--margin", help="Also where self-hosting is this much cheaper \\[fraction]."),
    ] = 0.0,
    data: DataOption = None,
    evidence: EvidenceOption = None,
    currency: CurrencyOption = None,
    fx: FxOption = None,
    max_fx_age_days: MaxFxAgeOption = 7,
    as_json: JsonOption = False,
) -> None:
    """Monthly volume at which a dedicated GPU fleet costs the same as a hosted offer.

    Money is in USD, or in --currency when given (catalog prices converted, yours taken in it).
    """
    from pricing._plan.breakeven import break_even, free_licence
    from pricing._price.request import ImageRequest
    from pricing._selfhost.terms import HostingTerms

    for option, value, name in (("--width", width, "width"), ("--height", height, "height")):
        within(option, value, name)
    if steps is not None:
        within("--steps", steps, "steps")
    converter_or_fail(currency or "USD", fx, max_fx_age_days, data=data, planning=True)
    gpu = offer_id(gpu)
    try:
        price: str | float = float(hosted)
    except ValueError:
        price = offer_id(hosted)
    try:
        request = ImageRequest(model=model, width=width, height=height, steps=steps)
        dataset = load_data_or_fail(data)
        if licence is None and included_images is None and not overage:
            licence = free_licence(model, dataset)  # raises: asks for --licence
        terms = HostingTerms(
            p95_latency_s=p95,
            peak_to_mean=peak_to_mean,
            max_utilisation=max_utilisation,
            licence_per_month=licence or 0.0,
            ops_per_month=ops,
            licence_included_images=included_images,
            licence_overage_per_image=overage,
        )
        result = break_even(
            request,
            gpu,
            price,
            gpu_hour=gpu_hour,
            hosting=terms,
            margin=margin,
            data=dataset,
            evidence=evidence_or_fail(evidence),
            currency=currency,
            fx=fx,
            max_fx_age_days=max_fx_age_days,
        )
    except (PricingError, KeyError, ValueError) as exc:
        raise fail(str(exc).strip('"')) from exc
    if as_json:
        print_json(_break_even_json(result))
    else:
        _print_break_even(result, f"{model} on {gpu}", str(price), margin)
        print_conversions(list(result.conversions))


def _break_even_json(result: BreakEven) -> dict[str, object]:
    """The break-even for ``--json``: volumes [images/month], money as exact strings."""
    return {
        "currency": result.currency,
        "volume": result.volume,
        "margin": result.margin,
        "margin_volume": result.margin_volume,
        "crossings": list(result.crossings),
        "self_cost": money_text(result.self_cost),
        "hosted_cost": money_text(result.hosted_cost),
        "gpus": result.gpus,
        "notes": list(result.notes),
        "hosting": {
            k: money_text(v) if k.endswith("_per_month") else v
            for k, v in dataclasses.asdict(result.hosting).items()
        },
        "fx": [c.as_dict() for c in result.conversions],
    }


def _print_break_even(result: BreakEven, setup: str, hosted: str, margin: float) -> None:
    """The break-even in words, then the assumptions it was computed under."""
    if result.volume is None:
        out.print(f"[yellow]{escape(cli_words(result.notes[0]))}[/]")
        for note in result.notes[1:]:
            out.print(escape(cli_words(note)), highlight=False)
        return
    out.print(
        f"Self-hosting {escape(setup)} costs the same as {escape(hosted)} at "
        f"[bold]{result.volume:,.0f} images/month[/] "
        f"({_money(result.self_cost, result.currency, 2)}/month, "
        f"{result.gpus} GPU(s)); above that it is cheaper."
    )
    if margin and result.margin_volume is not None:
        out.print(f"It is {margin:.0%} cheaper from {result.margin_volume:,.0f} images/month.")
    if len(result.crossings) > 1:
        out.print(
            "The curves cross more than once (fleet steps): "
            + ", ".join(f"{c:,.0f}" for c in result.crossings)
        )
    for note in result.notes:  # where the licence, GPU and hosted prices come from; the terms
        out.print(escape(cli_words(note)), highlight=False)

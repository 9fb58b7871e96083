"""Human labels for what charts and pages show: options, offers, providers, GPUs, inputs.

Every chart and the dashboard page name things through :class:`Labels`, built once from a
data set (:func:`labels_for`): model display names from ``models.toml``, provider names from
the rate cards (a GPU cloud's from ``gpus/offers.toml``), GPU names from ``gpus/gpus.toml``
and source publishers from the sources files. An id the data does not know is shown as
itself, never dropped. One option label reads like ``"FLUX.1 [dev] on RunPod H100 SXM,
community, autoscaled"`` or ``"FLUX.2 [pro] on Black Forest Labs, API"``;
:meth:`Labels.options` makes them unique within a simulation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from pricing._dataset import DataSet, load_data_set

#: GPU pricing categories in words.
CATEGORY_WORDS = {
    "reserved-1y": "1-year reserved",
    "reserved-3y": "3-year reserved",
    "capacity-block": "capacity block",
    "serverless-active": "serverless, active workers",
    "marketplace": "marketplace median",
}
#: The option id prefixes of :func:`pricing.simulate` (mode or kind, then ``:``).
OPTION_MODES = ("api", "dedicated", "autoscaled", "serverless", "deployment", "owned")
OPTION_ID = re.compile(
    r"\b(?P<mode>api|dedicated|autoscaled|serverless|deployment|owned|self-hosted):"
    r"(?P<offer>[A-Za-z0-9][A-Za-z0-9_./-]*?)(?::(?P<model><model>|[a-z0-9][a-z0-9._-]*?))?"
    r"(?:@(?P<precision>[a-z0-9-]+))?(?=[\s,;)]|$)"
)
OFFER_ID = re.compile(r"(?<![\w./-])[a-z0-9][a-z0-9-]*/[A-Za-z0-9._-]*[A-Za-z0-9](?![\w/-])")
#: Workload inputs in words (the path after the segment, as the sensitivity table names it).
INPUT_WORDS = {
    "volume.base": "Volume (base)",
    "volume.growth": "Volume growth per month",
    "p95_latency_s": "p95 latency target",
    "images_per_request": "Images per request",
    "traffic.peak_to_mean": "Peak-to-mean traffic",
    "traffic: peak_to_mean": "Peak-to-mean traffic",
    "self_hosting: ops_hours_per_month": "Ops hours per month",
    "self_hosting: ops_hourly_rate": "Ops hourly rate",
    "self_hosting: max_utilisation": "Utilisation cap",
    "self_hosting: storage_gb": "Storage [GB]",
    "self_hosting: storage_per_gb_month": "Storage price per GB-month",
    "self_hosting: egress_gb_per_month": "Egress per month [GB]",
    "self_hosting: egress_per_gb": "Egress price per GB",
    "self_hosting: owned_hosting_per_month": "Owned hosting per month",
    "self_hosting: serverless.cold_start_s": "Serverless cold start",
    "self_hosting: serverless.idle_s": "Serverless idle time billed",
    "self_hosting: autoscale.startup_s": "Autoscaling start-up time",
    "self_hosting: deployment.setup_s": "Deployment set-up time",
    "self_hosting: deployment.idle_s": "Deployment idle time billed",
    "self_hosting: licence.monthly_fee": "Licence fee per month",
    "self_hosting: licence.included_images": "Images the licence fee includes",
    "self_hosting: licence.overage_per_image": "Licence price per extra image",
}


def _short_provider(name: str) -> str:
    """``"RunPod (public endpoints)"`` -> ``"RunPod"``, ``"Black Forest Labs API"`` ->
    ``"Black Forest Labs"``: a card's name without its remarks."""
    text = re.sub(r"\s*\(.*?\)", "", name).strip()
    short = re.sub(r"\s+(API|APIs)$", "", text)
    return text if short.isupper() else short  # "LLM API" is a name, "Ideogram API" a card


def _short_gpus(names: Mapping[str, str]) -> dict[str, str]:
    """``"NVIDIA H100 SXM 80GB"`` -> ``"H100 SXM"``: no vendor or remark, and no trailing
    memory unless two GPUs would then read alike (``"A100 80GB"``, ``"A100 40GB"``)."""
    long = {}
    for gpu_id, name in names.items():
        text = re.sub(r"\s*\(.*?\)", "", name).strip()
        text = re.sub(r"^(NVIDIA|AMD)\s+", "", text)
        long[gpu_id] = re.sub(r"^GeForce\s+", "", text) or name
    short = {k: re.sub(r"\s+\d+\s?GB$", "", v) for k, v in long.items()}
    taken = list(short.values())
    return {k: v if taken.count(v) == 1 else long[k] for k, v in short.items()}


def _precision_words(precision: str) -> str:
    """``"fp8-compiled"`` -> ``"FP8, compiled"``."""
    head, _, rest = precision.partition("-")
    return head.upper() + (f", {rest.replace('-', ' ')}" if rest else "")


@dataclass(frozen=True)
class GpuOfferName:
    """What a GPU offer's label is made of."""

    provider: str
    gpu: str
    gpus: int
    category: str
    tag: str | None = None  # the publisher of a second source's figure (``.tag`` ids)


@dataclass(frozen=True)
class Labels:
    """Display names by id, and the labels made of them (see the module docstring)."""

    models: Mapping[str, str] = field(default_factory=dict)
    providers: Mapping[str, str] = field(default_factory=dict)
    gpus: Mapping[str, str] = field(default_factory=dict)
    gpu_offers: Mapping[str, GpuOfferName] = field(default_factory=dict)
    #: hosted offer id -> provider, model, and the offer's own name where the provider has
    #: more than one offer of the model
    offers: Mapping[str, tuple[str, str, str | None]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    def model(self, model_id: object) -> str:
        """A model's display name (``"FLUX.1 [dev]"``)."""
        text = str(model_id)
        return "a model" if text == "<model>" else self.models.get(text, text)

    def provider(self, provider_id: object) -> str:
        """A provider's name (``"RunPod"``)."""
        text = str(provider_id)
        return self.providers.get(text, text)

    def gpu(self, gpu_id: object) -> str:
        """A GPU's short name (``"H100 SXM"``)."""
        return self.gpus.get(str(gpu_id), str(gpu_id))

    def source(self, source_id: object) -> str:
        """Who published a source (``"Black Forest Labs"``); the id when unknown."""
        return self.sources.get(str(source_id), str(source_id))

    def seller(self, offer_id: str) -> str:
        """Who sells a hosted offer, with the offer's name where the seller has more than one
        offer of its model: ``"Replicate (flux-schnell-lora)"``."""
        provider, _, name = self.offers.get(offer_id, (offer_id.split("/")[0], "", None))
        return self.provider(provider) + (f" ({name})" if name else "")

    def hosted(self, offer_id: str, model: str | None = None) -> str:
        """``"FLUX.2 [pro] on Black Forest Labs, API"``."""
        known_model = self.offers.get(offer_id, ("", model or "", None))[1]
        seller = self.seller(offer_id)
        api = "" if seller.endswith(" API") else ", API"
        return f"{self.model(model or known_model)} on {seller}{api}"

    def gpu_offer(self, offer_id: str) -> str:
        """``"RunPod H100 SXM, community"`` (``"AWS 8x H100 SXM, on-demand"``)."""
        found = self.gpu_offers.get(offer_id)
        if found is None:
            return offer_id
        count = f"{found.gpus}x " if found.gpus > 1 else ""
        category = CATEGORY_WORDS.get(found.category, found.category)
        text = f"{self.provider(found.provider)} {count}{self.gpu(found.gpu)}, {category}"
        return text + (f", {found.tag}" if found.tag else "")

    def option(self, row: Mapping[str, object]) -> str:
        """An option of a simulation in words, from its ``mode``, ``model``, ``offer_id``,
        ``gpu`` (and ``provider``, ``category``) columns."""
        option = str(row.get("option") or "")
        mode = str(row.get("mode") or option.partition(":")[0] or "api")
        model, offer = row.get("model"), str(row.get("offer_id") or "")
        if mode == "api":
            return self.hosted(offer, None if model is None else str(model))
        if mode == "owned":
            return f"{self.model(model)} on owned {self.gpu(row.get('gpu'))}"
        where = self.gpu_offer(offer)
        if where == offer and row.get("gpu") is not None:  # an offer the data does not list
            where = f"{self.provider(row.get('provider'))} {self.gpu(row.get('gpu'))}"
        known = self.gpu_offers.get(offer)
        category = str(row.get("category") or (known.category if known else ""))
        said = "" if mode in ("self-hosted", category) else f", {mode}"
        return f"{self.model(model)} on {where}{said}"

    def options(self, options: pl.DataFrame) -> pl.DataFrame:
        """``option``, ``label``: one unique label per option id of an options frame (a
        simulation's ``options`` or ``leads``); two set-ups that read alike get their
        precision, then their id, added."""
        rows = options.unique("option", maintain_order=True).to_dicts()
        labels = [self.option(r) for r in rows]
        for extra in ("precision", "option"):
            seen: dict[str, int] = {}
            for text in labels:
                seen[text] = seen.get(text, 0) + 1
            for i, r in enumerate(rows):
                if seen[labels[i]] > 1 and r.get(extra):
                    value = str(r[extra])
                    labels[i] += f" ({_precision_words(value) if extra == 'precision' else value})"
        return pl.DataFrame(
            {"option": [str(r["option"]) for r in rows], "label": labels},
            schema={"option": pl.String, "label": pl.String},
        )

    def labelled(self, frame: pl.DataFrame, options: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the ``label`` of its ``option`` column (labels of ``options``)."""
        return frame.join(self.options(options), on="option", how="left").with_columns(
            label=pl.col("label").fill_null(pl.col("option"))
        )

    def words(self, text: str) -> str:
        """Free text (a note, a reason) with the option, offer and source ids it names
        replaced by their labels."""

        def option(match: re.Match[str]) -> str:
            offer = match["offer"]
            if match["mode"] == "api":
                return self.hosted(offer)
            row = {"mode": match["mode"], "offer_id": offer, "model": match["model"] or "?"}
            return self.option(row)

        text = OPTION_ID.sub(option, text)

        def offer(match: re.Match[str]) -> str:
            found = match[0]
            if found in self.offers:
                return self.hosted(found)
            return self.gpu_offer(found) if found in self.gpu_offers else found

        text = OFFER_ID.sub(offer, text)
        return re.sub(
            r"(?<![\w/.-])([a-z0-9][a-z0-9-]*[a-z0-9])(?![\w/-])",
            lambda m: self.sources.get(m[1], m[1]) if "-" in m[1] else m[1],
            text,
        )


def labels_for(data: DataSet | None = None) -> Labels:
    """The labels of a data set's ids (default: the bundled ``data/``)."""
    ds = data if data is not None else load_data_set()
    cat = ds.catalog
    # a GPU cloud's name (data/gpus/offers.toml), where it has no rate card of its own
    providers = dict(ds.gpus.providers)
    providers |= {c.provider: _short_provider(c.name) for c in cat.cards.values()}
    sources = {s.id: s.publisher for s in cat.sources.values()}
    sources |= {s.id: s.publisher for s in ds.gpus.sources.values()}
    gpus = _short_gpus({g.id: g.name for g in ds.gpus.gpus.values()})
    pairs = Counter((c.provider, o.model) for c, o in cat.all_offers())
    offers = {
        o.id: (
            c.provider,
            o.model,
            (o.name or o.id).split("/")[-1] if pairs[c.provider, o.model] > 1 else None,
        )
        for c, o in cat.all_offers()
    }
    gpu_offers = {}
    for o in ds.gpus.offers:
        tag = re.search(rf"-{re.escape(o.category)}\.([A-Za-z0-9-]+)$", o.id)
        said = None
        if tag is not None:  # a second figure of the same offer: whose, or of when
            dated = re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", tag[1])
            said = (
                f"price of {tag[1]}" if dated else f"as quoted by {sources.get(o.source, o.source)}"
            )
        gpu_offers[o.id] = GpuOfferName(o.provider, o.gpu, o.gpus, o.category, said)
    return Labels(
        models={m.id: m.name for m in cat.models.values()},
        providers=providers,
        gpus=gpus,
        gpu_offers=gpu_offers,
        offers=offers,
        sources=sources,
    )


def input_label(name: str, segment: str | None = None) -> str:
    """An uncertain input in words: ``"volume.base"`` -> ``"Volume (base)"``,
    ``"self_hosting: ops_hours_per_month"`` -> ``"Ops hours per month"``, ``"fx: EURUSD"`` ->
    ``"Exchange rate EUR/USD"``. A segment's own inputs lose their ``"<segment>: "`` prefix;
    another segment's keep its name (``"Volume (base) of key visuals"``)."""
    owner = None
    path = name
    head, sep, rest = name.partition(": ")
    if sep and head not in ("self_hosting", "fx", "traffic", "prices"):
        owner, path = (None if head == segment else head), rest
    series = re.fullmatch(r"volume\.series\[(\d+)\]", path)
    if path.startswith("fx: ") and len(path) == 10:
        text = f"Exchange rate {path[4:7]}/{path[7:]}"
    elif series:
        text = f"Volume in month {int(series[1]) + 1}"
    elif path in INPUT_WORDS:
        text = INPUT_WORDS[path]
    else:  # a field this table does not know: its words, units in brackets
        path = path.removeprefix("self_hosting: ")
        words = re.sub(r"_(s|gb|h)$", r" [\1]", path.replace(".", " ")).replace("_", " ")
        text = words[:1].upper() + words[1:]
    return f"{text} of {owner}" if owner else text

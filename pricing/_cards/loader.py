"""Read and validate ``data/``: TOML with exact decimals, pydantic models, cross-file checks.

Every problem is collected (not just the first) so that ``pricing cards validate`` can list
them all; each names the file, offer, version and field, and says what to change.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from pricing._cards.components import UNITS
from pricing._cards.files import read_text
from pricing._cards.fixes import rule_fix
from pricing._cards.plausible import oversized, price_issues
from pricing._cards.schema import ImageModel, ModelsFile, Offer, PriceVersion, RateCard, SourcesFile
from pricing.errors import Problem, RateCardError

SCHEMA_LINE = "#:schema ../schema/rate-card.json"
M = TypeVar("M", bound=BaseModel)


def bundled_data_dir() -> Path:
    """The ``data/`` directory shipped with the package (repository checkout or wheel)."""
    here = Path(__file__).resolve().parent.parent  # the package: pricing/
    for candidate in (here.parent / "data", here / "_bundled_data"):
        if (candidate / "sources.toml").is_file():
            return candidate
    raise FileNotFoundError(
        f"no bundled data found next to {here}; pass load_catalog(path=...) to a data directory"
    )


class LoadedData(NamedTuple):
    root: Path
    sources: SourcesFile
    models: ModelsFile
    cards: dict[str, RateCard]  # provider id -> card
    card_files: dict[str, Path]


def load_data(root: Path) -> LoadedData:
    """Load and check every file under ``root``; raise RateCardError listing all problems."""
    root = Path(root)
    if not root.is_dir():
        raise RateCardError(
            [Problem(str(root), "not a directory", "pass the path of a data/ directory")]
        )
    problems: list[Problem] = []
    sources = load_model(root / "sources.toml", SourcesFile, root, problems)
    models = load_model(root / "models.toml", ModelsFile, root, problems)
    cards: dict[str, RateCard] = {}
    card_files: dict[str, Path] = {}
    card_dir = root / "rate-cards"
    paths = sorted(card_dir.glob("*.toml")) if card_dir.is_dir() else []
    if not paths:
        problems.append(
            Problem(
                relative_path(card_dir, root),
                "no rate cards found",
                "add rate-cards/<provider>.toml",
            )
        )
    for path in paths:
        card = load_model(path, RateCard, root, problems, check_schema_line=True)
        if card is None:
            continue
        rel = relative_path(path, root)
        if card.provider != path.stem:
            problems.append(
                Problem(
                    rel,
                    f"provider {card.provider!r} does not match the file name",
                    f"rename the file to {card.provider}.toml or set provider = {path.stem!r}",
                    field="provider",
                )
            )
        cards[card.provider] = card
        card_files[card.provider] = path
    if sources is not None and models is not None:
        problems.extend(_cross_check(root, sources, models, cards, card_files))
    if problems:
        raise RateCardError(problems)
    if sources is None or models is None:  # pragma: no cover - a problem was recorded above
        raise RateCardError(problems)
    return LoadedData(root, sources, models, cards, card_files)


def relative_path(path: Path, root: Path) -> str:
    try:
        return str(Path("data") / path.relative_to(root))
    except ValueError:
        return str(path)


def load_model(
    path: Path,
    model: type[M],
    root: Path,
    problems: list[Problem],
    *,
    check_schema_line: bool = False,
    schema_line: str | None = None,
    explain: Callable[[str, dict[str, Any], ValidationError], list[Problem]] | None = None,
) -> M | None:
    """Read one TOML file into ``model``, recording every problem in ``problems``.

    ``schema_line`` is the line 1 the file must have (``check_schema_line`` means the rate
    card's); ``explain`` turns a validation error into located problems (default: by offer
    and version, as in rate cards).
    """
    rel = relative_path(path, root)
    text = read_text(path, rel, problems)
    if text is None:
        return None
    expected = SCHEMA_LINE if check_schema_line else schema_line
    if expected is not None and text.split("\n", 1)[0] != expected:
        problems.append(
            Problem(rel, "line 1 must point editors at the schema", f"make line 1 `{expected}`")
        )
    import tomllib  # here: a catalog read from the cache parses no TOML

    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(rel, f"not valid TOML: {exc}", "fix the TOML syntax at that line"))
        return None
    except RecursionError:
        problems.append(
            Problem(rel, "tables or arrays are nested too deep to read", "flatten the nesting")
        )
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend((explain or problems_from_validation)(rel, raw, exc))
        return None
    except RecursionError:  # pragma: no cover - pydantic-core guards its own recursion
        problems.append(Problem(rel, "values are nested too deep to check", "flatten them"))
        return None


def problems_from_validation(rel: str, raw: dict[str, Any], exc: ValidationError) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors():
        loc = list(err["loc"])
        offer, version, field_path = _locate(raw, loc)
        fix = validation_fix(err, field_path)
        rule = rule_fix(str(err.get("msg", ""))) if err["type"] == "value_error" else None
        if rule is not None:
            # A rule across fields fails on the whole table: name the field it is about.
            field_path = f"{field_path}.{rule[0]}" if field_path else rule[0]
            fix = rule[1]
        out.append(
            Problem(
                rel,
                validation_message(err),
                fix,
                offer=offer,
                version=version,
                field=field_path or None,
            )
        )
    return out


def _locate(raw: dict[str, Any], loc: list[Any]) -> tuple[str | None, str | None, str]:
    """Turn a pydantic error location into (offer id, version label, dotted field path)."""
    offer = version = None
    node: Any = raw
    parts: list[str] = []
    for i, key in enumerate(loc):
        prev = loc[i - 1] if i else None
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            item = node[key]
            if prev == "offers" and isinstance(item, dict):
                offer = str(item.get("id", f"#{key + 1}"))
            elif prev == "versions" and isinstance(item, dict):
                version = f"{item.get('effective_from', '?')}/{item.get('source', '?')}"
            elif prev in ("source", "model") and isinstance(item, dict):
                offer = str(item.get("id", f"#{key + 1}"))
            elif parts:
                parts[-1] += f"[{key}]"
            else:
                parts.append(f"[{key}]")
            node = item
            continue
        if isinstance(key, str) and key in UNITS and isinstance(node, dict):
            continue  # discriminated-union tag inserted by pydantic
        if isinstance(node, dict):
            node = node.get(key)
        if key in ("offers", "versions", "source", "model") and i < len(loc) - 1:
            continue
        parts.append(str(key))
    return offer, version, ".".join(p for p in parts if p not in ("offers", "versions"))


def validation_message(err: Any) -> str:
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
    return f"{err['msg']}{shown}"


def validation_fix(err: Any, field_path: str) -> str:
    kind = err["type"]
    name = field_path.rsplit(".", 1)[-1] if field_path else "the value"
    if kind == "extra_forbidden":
        return f"remove or rename `{name}`; the schema (data/schema) lists the allowed fields"
    if kind == "missing":
        return f"add `{name}`"
    if kind in ("greater_than_equal", "greater_than"):
        return f"make `{name}` non-negative (prices and counts cannot be below zero)"
    if kind.startswith("date") or kind == "date_from_datetime_parsing":
        return f"write `{name}` as a date, YYYY-MM-DD"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"set `unit` to one of: {', '.join(UNITS)}"
    if kind == "literal_error":
        return f"use one of the values the error lists for `{name}`"
    if kind == "string_pattern_mismatch":
        return f"write `{name}` in the form the pattern asks for"
    if kind in ("finite_number", "decimal_parsing", "decimal_type"):
        return f"write `{name}` as a finite decimal number (inf and nan are not prices)"
    return f"correct `{name}` as described"


def _cross_check(
    root: Path,
    sources: SourcesFile,
    models: ModelsFile,
    cards: dict[str, RateCard],
    card_files: dict[str, Path],
) -> Iterable[Problem]:
    source_ids = {s.id for s in sources.source}
    model_by_id = {m.id: m for m in models.model}
    yield from _check_model_sources(models, source_ids)
    yield from _check_evidence_links(root, sources, models, cards, card_files)
    offer_owner: dict[str, str] = {}
    for provider, card in cards.items():
        rel = relative_path(card_files[provider], root)
        for offer in card.offers:
            if offer.id in offer_owner:
                yield Problem(
                    rel,
                    f"offer id also defined in {offer_owner[offer.id]}",
                    "give each offer a unique id",
                    offer=offer.id,
                    field="id",
                )
            offer_owner[offer.id] = rel
            yield from _check_offer(rel, provider, offer, model_by_id, source_ids)
            yield from _check_versions(rel, offer, source_ids)


def _check_evidence_links(
    root: Path,
    sources: SourcesFile,
    models: ModelsFile,
    cards: dict[str, RateCard],
    card_files: dict[str, Path],
) -> Iterable[Problem]:
    """A source's ``provider`` and a card's ``vendor`` name things that exist: grades and the
    ``below-upstream`` check read them."""
    for src in sources.source:
        if src.provider is not None and src.provider not in cards:
            yield Problem(
                "data/sources.toml",
                f"source {src.id!r} names unknown provider {src.provider!r}",
                f"use a rate card's provider id ({', '.join(sorted(cards)[:6])}, ...)",
                field="provider",
            )
    vendors = sorted({m.vendor for m in models.model})
    for provider, card in cards.items():
        if card.vendor is not None and card.vendor not in vendors:
            yield Problem(
                relative_path(card_files[provider], root),
                f"vendor {card.vendor!r} is no model's vendor in models.toml",
                f"write it as models.toml does ({', '.join(vendors)})",
                field="vendor",
            )


def _check_model_sources(models: ModelsFile, source_ids: set[str]) -> Iterable[Problem]:
    """Every source a model cites is in ``sources.toml``."""
    for model in models.model:
        for sid in model.sources:
            if sid not in source_ids:
                yield Problem(
                    "data/models.toml",
                    f"model {model.id!r} cites unknown source {sid!r}",
                    "add the source to data/sources.toml or fix the id",
                    field="sources",
                )


def _check_offer(
    rel: str,
    provider: str,
    offer: Offer,
    model_by_id: dict[str, ImageModel],
    source_ids: set[str],
) -> Iterable[Problem]:
    """An offer's id, model, operations and rate-limit source against the other files."""
    if offer.id.split("/", 1)[0] != provider:
        yield Problem(
            rel,
            f"offer id must start with the provider id {provider!r}",
            f"rename it to {provider}/{offer.id.split('/', 1)[-1]}",
            offer=offer.id,
            field="id",
        )
    image_model = model_by_id.get(offer.model)
    if image_model is None:
        known = ", ".join(sorted(model_by_id)[:8])
        yield Problem(
            rel,
            f"unknown model {offer.model!r}",
            f"add it to data/models.toml or use a known id ({known}, ...)",
            offer=offer.id,
            field="model",
        )
    else:
        extra = sorted(set(offer.operations) - set(image_model.operations))
        if extra:
            yield Problem(
                rel,
                f"operations {extra} are not operations of model {image_model.id!r}",
                "add them to the model in data/models.toml or remove them here",
                offer=offer.id,
                field="operations",
            )
    if offer.rate_limit and offer.rate_limit.source not in (None, *source_ids):
        yield Problem(
            rel,
            f"unknown source {offer.rate_limit.source!r}",
            "add it to data/sources.toml or fix the id",
            offer=offer.id,
            field="rate_limit.source",
        )


def _check_versions(rel: str, offer: Offer, source_ids: set[str]) -> Iterable[Problem]:
    """Each version's source and components, then overlaps between versions of one source."""
    for v in offer.versions:
        if v.source not in source_ids:
            yield Problem(
                rel,
                f"unknown source {v.source!r}",
                "add it to data/sources.toml or cite an existing source id",
                offer=offer.id,
                version=v.version_id,
                field="source",
            )
        yield from _check_components(rel, offer, v, source_ids)
        yield from _check_figures(rel, offer, v)
    for field_path, value in oversized(offer.model_dump(exclude={"versions"})):
        yield Problem(
            rel,
            f"{value} is larger than any real figure",
            f"check `{field_path}`",
            offer=offer.id,
            field=field_path,
        )
    yield from _check_overlaps(rel, offer)


def _check_figures(rel: str, offer: Offer, v: PriceVersion) -> Iterable[Problem]:
    """Prices no provider would charge (0 outside a free version, outside the plausible
    range of the unit) and numbers too large to be real (see :mod:`pricing._cards.plausible`)."""
    issues = price_issues(v)
    for issue in issues:
        yield Problem(
            rel, issue.message, issue.fix, offer=offer.id, version=v.version_id, field=issue.field
        )
    said = {issue.field for issue in issues}
    for field_path, value in oversized(v.model_dump()):
        if field_path in said:
            continue
        yield Problem(
            rel,
            f"{value} is larger than any real figure",
            f"check `{field_path}`",
            offer=offer.id,
            version=v.version_id,
            field=field_path,
        )


def _check_components(
    rel: str, offer: Offer, v: PriceVersion, source_ids: set[str]
) -> Iterable[Problem]:
    """A version's conditions name the offer's brackets, qualities and operations, and its
    throughput estimates cite known sources."""
    brackets = {b.name for b in offer.brackets}
    qualities = set(offer.qualities)
    for i, comp in enumerate(v.components):
        where = f"components[{i}]"
        if comp.when.bracket is not None and comp.when.bracket not in brackets:
            yield Problem(
                rel,
                f"bracket {comp.when.bracket!r} is not defined on the offer",
                f"define it under [[offers.brackets]] (known: {sorted(brackets) or 'none'})",
                offer=offer.id,
                version=v.version_id,
                field=f"{where}.when.bracket",
            )
        if comp.when.quality is not None and comp.when.quality not in qualities:
            yield Problem(
                rel,
                f"quality {comp.when.quality!r} is not in the offer's `qualities`",
                f"add it to `qualities` (now {sorted(qualities)})",
                offer=offer.id,
                version=v.version_id,
                field=f"{where}.when.quality",
            )
        if comp.when.operation is not None and comp.when.operation not in offer.operations:
            yield Problem(
                rel,
                f"operation {comp.when.operation!r} is not served by the offer",
                f"add it to the offer's `operations` (now {offer.operations})",
                offer=offer.id,
                version=v.version_id,
                field=f"{where}.when.operation",
            )
        estimate = getattr(comp, "estimate", None)
        if estimate is not None and estimate.source not in source_ids:
            yield Problem(
                rel,
                f"unknown source {estimate.source!r}",
                "add it to data/sources.toml or fix the id",
                offer=offer.id,
                version=v.version_id,
                field=f"{where}.estimate.source",
            )


def _check_overlaps(rel: str, offer: Offer) -> Iterable[Problem]:
    """Versions from one source follow each other: each ends before the next takes effect."""
    by_source: dict[str, list[PriceVersion]] = {}
    for v in offer.versions:
        by_source.setdefault(v.source, []).append(v)
    for source, versions in by_source.items():
        ordered = sorted(versions, key=lambda v: v.effective_from)
        for a, b in itertools.pairwise(ordered):
            if a.effective_to is None or a.effective_to > b.effective_from:
                yield Problem(
                    rel,
                    f"versions from source {source!r} overlap: {a.version_id} is still in "
                    f"force on {b.effective_from}",
                    f"set effective_to = {b.effective_from} on version {a.version_id}",
                    offer=offer.id,
                    version=a.version_id,
                    field="effective_to",
                )

"""Licence terms for self-hosting open-weights models commercially (``data/licences.toml``).

Only as far as the collected sources state them: a fee that may apply but is not in the
sources makes the cost unknown (:class:`~pricing.errors.PriceNotFound`), never $0.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field, model_validator

from pricing._cards.fields import Currency, Id, Money, Strict
from pricing._cards.loader import bundled_data_dir, load_model, relative_path
from pricing._cards.schema import ModelsFile, SourcesFile
from pricing._gpus.entries import check_source, check_unique, read_entries
from pricing.errors import PriceNotFound, Problem, RateCardError


class ModelLicence(Strict):
    """Terms for self-hosting an open-weights model commercially, as far as the sources say.

    ``free_commercial_use``: True = commercial use needs no paid licence; False = it needs one;
    None = the sources do not say. ``fee_known`` is False whenever a fee may apply but is not in
    the sources: the cost is then unknown, never $0.
    """

    model: Id
    licence: str | None = Field(default=None, description="name as the sources give it")
    free_commercial_use: bool | None = None
    fee_known: bool
    currency: Currency = "USD"
    monthly_fee: Money | None = Field(default=None, description="[currency/month]")
    included_images: int | None = Field(default=None, ge=0, description="[images/month]")
    overage_per_image: Money | None = Field(default=None, description="[currency/image]")
    sources: list[Id] = Field(min_length=1)
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelLicence:
        fees = (self.monthly_fee, self.included_images, self.overage_per_image)
        if self.free_commercial_use is True and (not self.fee_known or any(fees)):
            raise ValueError("free commercial use means fee_known = true and no fee fields")
        if self.free_commercial_use is None and self.fee_known:
            raise ValueError("fee_known = true needs free_commercial_use = true or false")
        if not self.fee_known and any(f is not None for f in fees):
            raise ValueError("fee fields need fee_known = true")
        if self.free_commercial_use is False and self.fee_known and self.monthly_fee is None:
            raise ValueError("a known paid licence needs `monthly_fee`")
        return self

    def monthly_cost(self, images: int) -> Decimal:
        """Licence cost of a month with ``images`` commercial images [currency/month].

        Raises
        ------
        PriceNotFound
            The terms are not in the sources; ask the user for them (never priced as $0).
        """
        if images < 0:
            raise ValueError(f"images must not be negative, got {images}")
        if self.free_commercial_use is True:
            return Decimal(0)
        if not self.fee_known or self.monthly_fee is None:
            need = (
                "needs a paid commercial licence"
                if self.free_commercial_use is False
                else ("has commercial terms the sources do not state")
            )
            raise PriceNotFound(
                f"{self.model} {need}; its fee is not in data/licences.toml. Supply the licence "
                "terms (monthly fee, included images, overage) to price self-hosting"
            )
        extra = max(0, images - (self.included_images or 0))
        if extra and self.overage_per_image is None:
            raise PriceNotFound(
                f"{self.model}: {images} images exceed the {self.included_images} included and "
                "no overage price is in the sources"
            )
        return self.monthly_fee + extra * (self.overage_per_image or Decimal(0))


class LicencesFile(Strict):
    """``data/licences.toml``."""

    licence: list[ModelLicence]


def load_licences(root: Path | None = None) -> dict[str, ModelLicence]:
    """Load ``data/licences.toml``: model id -> licence terms (open-weights models only).

    A model missing from the file has unknown terms, like ``fee_known = false``.
    """
    root = bundled_data_dir() if root is None else Path(root)
    problems: list[Problem] = []
    sources = load_model(root / "sources.toml", SourcesFile, root, problems)
    models = load_model(root / "models.toml", ModelsFile, root, problems)
    data = read_entries(root / "licences.toml", LicencesFile, root, problems)
    if sources is None or models is None or data is None or problems:
        raise RateCardError(problems)
    rel = relative_path(root / "licences.toml", root)
    source_ids = {s.id for s in sources.source}
    by_id = {m.id: m for m in models.model}
    problems.extend(check_unique(rel, [x.model for x in data.licence], "licence model"))
    for x in data.licence:
        model = by_id.get(x.model)
        if model is None or not model.open_weights:
            what = "unknown model" if model is None else "model without open weights"
            problems.append(
                Problem(
                    rel,
                    f"{what} {x.model!r}",
                    "licences are for open-weights models in data/models.toml",
                    offer=x.model,
                    field="model",
                )
            )
        for i, sid in enumerate(x.sources):
            problems.extend(check_source(rel, x.model, f"sources[{i}]", sid, source_ids))
    if problems:
        raise RateCardError(problems)
    return {x.model: x for x in data.licence}

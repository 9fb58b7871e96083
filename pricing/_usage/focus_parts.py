"""The FOCUS dataset of a usage log built batch by batch, while ``replay`` prices it.

A FOCUS usage row is a sum per charge period x account x offer x SKU price, and a plan-fee or
top-up row a sum per account x offer x month (:func:`~pricing._usage.focus.focus_sums`).
Sums add up across batches, so each priced batch leaves only its sums; they are added up by
the same keys (:func:`~pricing._usage.focus.sum_keys`) and made into FOCUS rows once at the
end (:func:`~pricing._usage.focus.focus_dataset`). The dataset is the one
:func:`~pricing.to_focus` makes of the whole priced log, row for row, without the log in
memory. Under granularity "row" a usage row is one call: the batches' rows are concatenated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pricing._usage.aggregates import FOLD_EVERY, detached
from pricing._usage.focus import FocusSums, focus_dataset, focus_sums, sum_keys
from pricing._usage.focus_columns import Granularity, contract_counts, normalised, problem_message
from pricing.errors import FocusError

#: Usage-sum rows kept apart before they are added up, at least (see ``_usage_to_fold``).
_FOLD_ROWS = 100_000


@dataclass
class FocusParts:
    """The FOCUS sums of the batches priced so far, and the dataset they add up to."""

    granularity: Granularity
    usage: list[pl.DataFrame] = field(default_factory=list)
    fees: list[pl.DataFrame] = field(default_factory=list)
    top_ups: list[pl.DataFrame] = field(default_factory=list)
    problems: list[pl.DataFrame] = field(default_factory=list)

    def add(self, priced: pl.DataFrame) -> None:
        """Keep the FOCUS sums of one priced batch (``price_requests``' output)."""
        sums = focus_sums(normalised(priced), self.granularity)
        usage, fees, top_ups, problems = pl.collect_all(
            [sums.usage, sums.fees, sums.top_ups, contract_counts(priced)]
        )
        # Grouped sums hold fresh buffers, not the batch's; the small ones are copied anyway
        # (as the replay's other sums), the usage sums (a row per call under "row") are not.
        self.usage.append(usage)
        self.fees.append(detached(fees))
        self.top_ups.append(detached(top_ups))
        self.problems.append(detached(problems))
        if len(self.problems) >= FOLD_EVERY or self._usage_to_fold():
            self._fold()

    def dataset(self) -> pl.DataFrame:
        """The FOCUS dataset of every batch added (as :func:`~pricing.to_focus` of them all).

        ``replay`` adds at least one batch, perhaps empty, so the sums have their columns.

        Raises
        ------
        FocusError
            Priced rows that break ``to_focus``'s input contract (counted over all batches).
        """
        assert self.usage, "no batch added: the sums have no columns"
        self._fold()
        problems = self.problems[0].filter(pl.col("rows") > 0) if self.problems else None
        if problems is not None and problems.height:
            raise FocusError(problem_message(problems))
        sums = FocusSums(usage=_one(self.usage), fees=_one(self.fees), top_ups=_one(self.top_ups))
        return focus_dataset(sums).collect()

    def _usage_to_fold(self) -> bool:
        """Whether the usage sums kept since the last fold are as many rows as the folded
        ones (at least :data:`_FOLD_ROWS`): then adding them up halves what is kept, and each
        row is added up a few times at most. Under "row" a usage row is a call: never."""
        if self.granularity == "row" or len(self.usage) < 2:
            return False
        pending = sum(part.height for part in self.usage[1:])
        return pending >= max(self.usage[0].height, _FOLD_ROWS)

    def _fold(self) -> None:
        """Add the batches' sums up so far into one frame per kind."""
        keys = sum_keys(self.granularity)
        if self.granularity != "row":  # a usage row per call: nothing to add up
            self.usage = _summed(self.usage, keys.usage)
        self.fees = _summed(self.fees, keys.fees)
        self.top_ups = _summed(self.top_ups, keys.top_ups)
        self.problems = _summed(self.problems, ["problem"])


def _summed(parts: list[pl.DataFrame], keys: list[str]) -> list[pl.DataFrame]:
    """``parts`` added up by ``keys`` into one frame (in the order keys first appear)."""
    if len(parts) < 2:
        return parts
    frame = pl.concat(parts, how="vertical")
    return [frame.group_by(keys, maintain_order=True).agg(pl.all().sum())]


def _one(parts: list[pl.DataFrame]) -> pl.LazyFrame:
    return pl.concat(parts, how="vertical").lazy()

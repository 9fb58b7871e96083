"""Request logs for the benchmarks: realistic ones drawn from the bundled catalog, and a
synthetic mix of five hand-picked offers.

:func:`realistic_log` draws a log the way a busy account's calls look:

- every offer of the catalog that has a price in the window (122+ of them), with a skewed,
  Zipf-like popularity: the 10 most used hold about 61% of the rows;
- each call on one of its offer's usual sizes (the sizes its limits or token tables list, else
  common sizes it accepts; the square one most often), the offer's qualities where it has any,
  1 to 4 images;
- 17% of the rows are edits sending 1 to 3 input images (on offers that serve edits);
- about 4.5% of the rows are on subscription (monthly-priced) offers;
- ``model`` and ``provider`` columns, as a gateway's log has them, and 300 accounts;
- timestamps over a quarter (by default 2026-04-01 to 2026-06-30), so that prices change
  where the catalog has changes (new versions, retirements) and rows price on each version.

Which sizes, qualities and operations an offer prices on which days is found by pricing a
small probe table once (:func:`catalog_draws`), so every drawn row has a price on its day.

:func:`synthetic_log` is the log the README's first benchmark used: per-image, per-MP, token,
credit and volume-tiered offers (the tiered card is synthetic: :func:`synthetic_catalog` adds it
to a copy of the bundled data), over three months and 50 accounts.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

import pricing
from pricing._cards.components import SubscriptionPrice
from pricing._cards.loader import bundled_data_dir

#: The quarter realistic logs span by default.
START = date(2026, 4, 1)
DAYS = 91
#: Share of rows in the 10 most used offers, of edits, and on subscription offers.
TOP10_SHARE = 0.61
EDIT_SHARE = 0.17
SUBSCRIPTION_SHARE = 0.045
#: Sizes tried on an offer whose limits and price tables name none, most used first.
COMMON_SIZES = [
    (1024, 1024),
    (1024, 1536),
    (1536, 1024),
    (1024, 768),
    (768, 1024),
    (1344, 768),
    (768, 1344),
    (1536, 1536),
    (2048, 2048),
    (512, 512),
]
COUNTS, COUNT_P = [1, 2, 3, 4], [0.78, 0.08, 0.04, 0.10]
INPUTS, INPUT_P = [1, 2, 3], [0.70, 0.20, 0.10]
ACCOUNTS = 300


@dataclass(frozen=True)
class Draw:
    """What rows on one offer may be: its operations' sizes and qualities, the inputs an
    edit may send, and the days (positions in the window) it has a price."""

    offer_id: str
    model: str
    main_op: str
    #: operation -> (width, height, quality) priced on every day the offer prices
    sizes: dict[str, list[tuple[int, int, str | None]]]
    inputs: list[int]  # input images an edit may send (priced)
    days: np.ndarray  # Boolean per day of the window
    subscription: bool


def _candidate_sizes(offer: pricing.Offer) -> list[tuple[int, int]]:
    """The offer's usual sizes: those its limits or price tables list, else common ones."""
    named: set[str] = set()
    for v in offer.versions:
        lim = v.limits or offer.limits
        if lim and lim.sizes:
            named |= set(lim.sizes)
        for c in v.components:
            named |= c.named_sizes()
    if not named:
        return list(COMMON_SIZES)
    sizes = [(int(w), int(h)) for w, h in (s.split("x") for s in named)]
    return sorted(sizes, key=lambda wh: (wh != (1024, 1024), wh[0] * wh[1], wh))


def _probe(cat: pricing.Catalog, start: date, days: int) -> pl.DataFrame:
    """Every offer x operation x size x quality x inputs x day of the window, priced."""
    rows = []
    for _, o in cat.all_offers():
        for op in o.operations:
            for w, h in _candidate_sizes(o):
                for q in o.qualities or [None]:
                    for k in INPUTS if op == "edit" else [0]:
                        rows.append((o.id, op, w, h, q, k))
    combos = pl.DataFrame(
        rows,
        schema={
            "offer_id": pl.String,
            "operation": pl.String,
            "width": pl.Int64,
            "height": pl.Int64,
            "quality": pl.String,
            "input_images": pl.Int64,
        },
        orient="row",
    )
    noon = datetime(start.year, start.month, start.day, 12, tzinfo=UTC)
    stamps = pl.DataFrame({"timestamp": [noon + timedelta(days=i) for i in range(days)]})
    table = combos.join(stamps, how="cross").with_columns(day=pl.int_range(pl.len()) % days)
    priced = pricing.price_requests(table, cat, minimum_spend=False)
    return priced.select(
        "offer_id",
        "operation",
        "width",
        "height",
        "quality",
        "input_images",
        "day",
        ok=pl.col("cost").is_not_null(),
    )


def catalog_draws(cat: pricing.Catalog, start: date = START, days: int = DAYS) -> list[Draw]:
    """The offers a realistic log draws from, with what their rows may be (see :class:`Draw`)."""
    probe = _probe(cat, start, days)
    offers = {o.id: o for _, o in cat.all_offers()}
    draws = []
    for (offer_id,), rows in probe.group_by("offer_id", maintain_order=True):
        o = offers[str(offer_id)]
        qualities: list[str | None] = [*o.qualities] or [None]
        main_op = "generate" if "generate" in o.operations else o.operations[0]
        plain = rows.filter(pl.col("input_images") <= 1)
        on = plain.filter(operation=main_op).group_by("day").agg(pl.col("ok").any())
        open_days = np.zeros(days, dtype=bool)
        open_days[on.filter("ok")["day"].to_numpy()] = True
        if not open_days.any():
            continue
        live = rows.filter(pl.col("day").is_in(np.flatnonzero(open_days).tolist()))
        always = live.group_by("operation", "width", "height", "quality", "input_images").agg(
            pl.col("ok").all()
        )
        always = always.filter("ok")
        sizes: dict[str, list[tuple[int, int, str | None]]] = {}
        for op in (main_op, "edit"):
            fit = always.filter(operation=op, input_images=1 if op == "edit" else 0)
            have = set(fit.select("width", "height", "quality").iter_rows())
            sizes[op] = [
                (w, h, q) for w, h in _candidate_sizes(o) for q in qualities if (w, h, q) in have
            ]
        if not sizes[main_op]:
            continue
        inputs = sorted(set(always.filter(operation="edit")["input_images"].to_list()))
        plan = any(isinstance(c, SubscriptionPrice) for v in o.versions for c in v.components)
        draws.append(Draw(str(offer_id), o.model, main_op, sizes, inputs, open_days, plan))
    return draws


def _zipf_exponent(n: int, top: int, share: float) -> float:
    """The exponent s such that the ``top`` of ``n`` ranks weighted k^-s hold ``share``."""
    ranks = np.arange(1, n + 1, dtype=np.float64)
    lo, hi = 0.0, 5.0
    for _ in range(60):
        s = (lo + hi) / 2
        w = ranks**-s
        if w[:top].sum() / w.sum() < share:
            lo = s
        else:
            hi = s
    return (lo + hi) / 2


def popularity(draws: list[Draw], seed: int = 12345) -> np.ndarray:
    """Each offer's share of rows: subscription offers hold ``SUBSCRIPTION_SHARE`` between them,
    the others a Zipf-like law (offers priced the whole window ranked first, in a seeded
    shuffle) under which the 10 most used hold ``TOP10_SHARE`` of all rows."""
    rng = np.random.default_rng(seed)
    plans = np.array([d.subscription for d in draws])
    whole = np.array([d.days.all() for d in draws])
    others = np.flatnonzero(~plans)
    order = others[np.lexsort((rng.permutation(len(others)), ~whole[others]))]
    share = np.zeros(len(draws))
    top = TOP10_SHARE / (1 - SUBSCRIPTION_SHARE)
    s = _zipf_exponent(len(order), 10, top)
    weights = np.arange(1, len(order) + 1, dtype=np.float64) ** -s
    share[order] = (1 - SUBSCRIPTION_SHARE) * weights / weights.sum()
    plan_ids = rng.permutation(np.flatnonzero(plans))
    if len(plan_ids):
        w = np.arange(1, len(plan_ids) + 1, dtype=np.float64) ** -1.0
        share[plan_ids] = SUBSCRIPTION_SHARE * w / w.sum()
    else:
        share /= share.sum()
    return share


def _pick(rng: np.random.Generator, n: int, k: int, head: float = 0.5) -> np.ndarray:
    """``n`` picks among ``k`` choices: the first with probability ``head``, the rest Zipf."""
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    tail = np.arange(1, k, dtype=np.float64) ** -1.0
    p = np.concatenate([[head], (1 - head) * tail / tail.sum()])
    return rng.choice(k, size=n, p=p)


def realistic_log(
    n: int,
    seed: int = 0,
    *,
    catalog: pricing.Catalog | None = None,
    start: date = START,
    days: int = DAYS,
    draws: list[Draw] | None = None,
) -> pl.DataFrame:
    """``n`` calls drawn from the catalog over ``days`` days from ``start`` (see the module
    docstring), in timestamp order."""
    if draws is None:
        draws = catalog_draws(catalog or pricing.load_catalog(), start, days)
    rng = np.random.default_rng(seed)
    share = popularity(draws)
    micros = np.sort(rng.integers(0, days * 86_400_000_000, size=n))
    day = micros // 86_400_000_000
    offer = np.empty(n, dtype=np.int64)
    open_days = np.stack([d.days for d in draws])  # offers x days
    # one draw per stretch of days on which the same offers are open
    change = np.flatnonzero(np.any(open_days[:, 1:] != open_days[:, :-1], axis=0)) + 1
    bounds = np.searchsorted(day, np.concatenate([[0], change, [days]]))
    for i in range(len(bounds) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        if hi > lo:
            p = share * open_days[:, day[lo]]
            offer[lo:hi] = rng.choice(len(draws), size=hi - lo, p=p / p.sum())
    cols = _request_columns(rng, draws, offer, share)
    epoch = datetime(start.year, start.month, start.day, tzinfo=UTC)
    stamp = pl.Series(micros, dtype=pl.Int64)
    ids = pl.Series([d.offer_id for d in draws], dtype=pl.String)
    index = pl.Series(offer, dtype=pl.UInt32)
    accounts = pl.Series([f"acct-{i:04d}" for i in range(ACCOUNTS)], dtype=pl.String)
    return pl.DataFrame(
        {
            "timestamp": stamp.cast(pl.Datetime("us", "UTC"))
            + (epoch - datetime(1970, 1, 1, tzinfo=UTC)),
            "offer_id": ids.gather(index),
            "model": pl.Series([d.model for d in draws], dtype=pl.String).gather(index),
            "provider": ids.str.split("/").list.first().gather(index),
            "account": accounts.gather(pl.Series(_pick(rng, n, ACCOUNTS, 0.05), dtype=pl.UInt32)),
            **cols,
        }
    )


def _request_columns(
    rng: np.random.Generator, draws: list[Draw], offer: np.ndarray, share: np.ndarray
) -> dict[str, pl.Series]:
    """Operation, size, count, quality and input images of each row on its ``offer``."""
    n = len(offer)
    can_edit = np.array([bool(d.sizes.get("edit")) and bool(d.inputs) for d in draws])
    edit_rows = share[can_edit].sum()
    p_edit = min(1.0, EDIT_SHARE / edit_rows) if edit_rows else 0.0
    edit = can_edit[offer] & (rng.random(n) < p_edit)
    ops = sorted({d.main_op for d in draws} | {"edit"})
    words = sorted({q for d in draws for v in d.sizes.values() for _, _, q in v if q is not None})
    op = np.zeros(n, dtype=np.int64)
    quality = np.full(n, len(words), dtype=np.int64)  # len(words): no quality
    width = np.empty(n, dtype=np.int64)
    height = np.empty(n, dtype=np.int64)
    inputs = np.zeros(n, dtype=np.int64)
    order = np.argsort(offer, kind="stable")
    starts = np.searchsorted(offer[order], np.arange(len(draws) + 1))
    for k, d in enumerate(draws):
        rows = order[starts[k] : starts[k + 1]]
        for name, sel in ((d.main_op, ~edit[rows]), ("edit", edit[rows])):
            at = rows[sel]
            if not len(at):
                continue
            combos = d.sizes[name]
            sizes = np.array([(w, h, _code(words, q)) for w, h, q in combos], dtype=np.int64)
            pick = sizes[_pick(rng, len(at), len(sizes))]
            op[at] = ops.index(name)
            width[at], height[at], quality[at] = pick[:, 0], pick[:, 1], pick[:, 2]
            if name == "edit":
                p = np.array(INPUT_P[: len(d.inputs)])
                which = rng.choice(len(d.inputs), size=len(at), p=p / p.sum())
                inputs[at] = np.array(d.inputs)[which]
    return {
        "operation": pl.Series(ops, dtype=pl.String).gather(pl.Series(op, dtype=pl.UInt32)),
        "width": pl.Series(width),
        "height": pl.Series(height),
        "count": pl.Series(rng.choice(COUNTS, size=n, p=COUNT_P).astype(np.int64)),
        "quality": pl.Series([*words, None], dtype=pl.String).gather(
            pl.Series(quality, dtype=pl.UInt32)
        ),
        "input_images": pl.Series(inputs),
    }


def _code(words: list[str], quality: str | None) -> int:
    return words.index(quality) if quality is not None else len(words)


def write_parquet(log: pl.DataFrame, path: Path) -> Path:
    """Write ``log`` to Parquet (row groups as polars writes them) and return the path."""
    log.write_parquet(path)
    return path


# --------------------------------------------------------------------------- synthetic

TIER_CARD = """#:schema ../schema/rate-card.json
provider = "benchtier"
name = "Synthetic tiered provider (benchmark only)"

[[offers]]
id = "benchtier/flux-2-pro"
model = "flux-2-pro"
operations = ["generate"]

  [[offers.versions]]
  effective_from = 2025-01-01
  source = "bench-synthetic"
  components = [{ unit = "image", tiers = [
    { start = 0, price = 0.05 },
    { start = 100000, price = 0.04 },
    { start = 1000000, price = 0.03 },
  ] }]
"""
TIER_SOURCE = """
[[source]]
id = "bench-synthetic"
title = "Synthetic tiered prices for the benchmark"
publisher = "pricing benchmarks"
kind = "third-party"
seen = 2026-11-21
"""

#: (offer id, operation, sizes, quality, share): the mix of the synthetic log.
MIX = [
    ("bfl/flux-1-kontext-pro", "generate", [(1024, 1024)], None, 0.25),  # per image
    ("bfl/flux-2-pro", "generate", [(1024, 1024), (1536, 1024), (1536, 1536)], None, 0.25),  # MP
    ("openai/gpt-image-1", "generate", [(1024, 1024), (1024, 1536)], "medium", 0.15),  # tokens
    ("stability/sd3.5-large", "generate", [(1024, 1024)], None, 0.15),  # credits
    ("benchtier/flux-2-pro", "generate", [(1024, 1024)], None, 0.20),  # tiered
]


def synthetic_catalog(tmp: Path) -> pricing.Catalog:
    """A copy of the bundled data in ``tmp`` with the synthetic tiered card added."""
    root = tmp / "data"
    shutil.copytree(bundled_data_dir(), root)
    (root / "rate-cards" / "benchtier.toml").write_text(TIER_CARD, encoding="utf-8")
    with (root / "sources.toml").open("a", encoding="utf-8") as f:
        f.write(TIER_SOURCE)
    return pricing.load_catalog(root)


def synthetic_log(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` calls of the synthetic mix over three months from 2026-06-01 and 50 accounts."""
    rng = np.random.default_rng(seed)
    shares = np.array([m[4] for m in MIX])
    kind = rng.choice(len(MIX), size=n, p=shares / shares.sum())
    size_pick = rng.integers(0, 3, size=n)
    widths = np.empty(n, dtype=np.int64)
    heights = np.empty(n, dtype=np.int64)
    for k, (_, _, sizes, _, _) in enumerate(MIX):
        sel = kind == k
        idx = size_pick[sel] % len(sizes)
        widths[sel] = np.array([s[0] for s in sizes])[idx]
        heights[sel] = np.array([s[1] for s in sizes])[idx]
    start = datetime(2026, 6, 1, tzinfo=UTC)
    seconds = np.sort(rng.integers(0, 92 * 86400, size=n))
    return pl.DataFrame(
        {
            "timestamp": pl.Series(seconds * 1_000_000, dtype=pl.Int64).cast(
                pl.Datetime("us", "UTC")
            )
            + (start - datetime(1970, 1, 1, tzinfo=UTC)),
            "offer_id": pl.Series([m[0] for m in MIX]).gather(pl.Series(kind, dtype=pl.UInt32)),
            "account": pl.Series([f"acct-{i}" for i in range(50)]).gather(
                pl.Series(rng.integers(0, 50, size=n), dtype=pl.UInt32)
            ),
            "width": widths,
            "height": heights,
            "count": rng.integers(1, 5, size=n),
            "quality": pl.Series([m[3] for m in MIX], dtype=pl.String).gather(
                pl.Series(kind, dtype=pl.UInt32)
            ),
        }
    )

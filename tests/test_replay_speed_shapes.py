"""The local replay's shortcuts give the answers of the long way, exactly.

- A chunk priced by request shape (:mod:`pricing._usage.by_shape`) has the sums of the same
  chunk priced call by call: costs by day, unpriced calls, alternatives, to the last digit;
  the shapes of several chunks priced in one call replay as each chunk priced alone.
- A typed log tallied and read twice (:func:`pricing._usage.tally.tallied_requests`) replays
  as the same log checked once into a request table on disk.

The log is drawn from the bundled catalog: flat offers, subscription offers (running
volumes), unknown offers and bad rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pricing
from pricing._usage import sums, tally
from pricing._usage.by_shape import CALLS, by_shape
from pricing._usage.days import DAY_KEYS
from pricing._usage.offers import log_requests
from pricing._vector.requests import price_requests

#: Offers of the bundled catalog the log is drawn from; the midjourney ones run monthly volumes.
OFFERS = [
    "bfl/flux-1.1-pro-ultra-raw",
    "fal/nano-banana-2",
    "runpod/flux-1-schnell",
    "together/flux-1-kontext-pro",
    "google/gemini-3-pro-image",
    "midjourney/basic",
]
FLAT = OFFERS[:-1]


def _log(n: int, offers: list[str], seed: int = 0, bad: bool = False) -> pl.DataFrame:
    """``n`` calls on ``offers`` over two months; with ``bad``, some rows unreadable."""
    cat = pricing.load_catalog()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(offers), n)
    start = datetime(2026, 4, 1, tzinfo=UTC)
    log = pl.DataFrame(
        {
            "timestamp": [start + timedelta(minutes=int(m)) for m in rng.integers(0, 87_000, n)],
            "offer_id": [offers[i] for i in pick],
            "model": [cat.offer(offers[i]).model for i in pick],
            "account": [f"acct-{i}" for i in rng.integers(0, 7, n)],
            "operation": rng.choice(["generate", "generate", "edit"], n).tolist(),
            "width": rng.choice([1024, 1536], n).tolist(),
            "height": rng.choice([1024, 768], n).tolist(),
            "count": rng.choice([1, 1, 2, 4], n).tolist(),
            "input_images": rng.choice([0, 1], n).tolist(),
        }
    ).sort("timestamp")
    if bad:
        row = pl.int_range(pl.len())
        log = log.with_columns(
            offer_id=pl.when(row % 97 == 5).then(pl.lit("nope/nothing")).otherwise("offer_id"),
            count=pl.when(row % 89 == 3).then(-1).otherwise("count"),
            timestamp=pl.when(row % 83 == 7).then(None).otherwise("timestamp"),
        )
    return log


def _per_call(
    chunk: pl.DataFrame, cat: pricing.Catalog, pairs: pl.DataFrame | None, per_call: bool
) -> None:
    return None


@pytest.mark.parametrize("alternatives", [False, True])
@pytest.mark.parametrize("currency", [None, "EUR"])
def test_a_chunk_by_shape_sums_as_call_by_call(
    alternatives: bool, currency: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = pricing.load_catalog()
    chunk = log_requests(_log(4000, FLAT), catalog=cat).collect()
    counts = chunk.group_by("offer_id").agg(rows=pl.len())
    usage_fx = None
    if currency is not None:
        from pricing._quote.fx import converter_for
        from pricing._usage.fx_rows import UsageFx

        converter = converter_for(currency, None, 7, root=cat.root, planning=False)
        assert converter is not None
        usage_fx = UsageFx(converter)
    terms = sums.Terms(None, None, None, None, alternatives, 1_000_000, None, usage_fx)
    how, whole = sums.plan(cat, counts, terms)
    assert not whole
    shapes = by_shape(chunk, cat, how.pairs, per_call=False)
    assert shapes is not None
    assert shapes.height < chunk.height
    assert int(shapes[CALLS].sum()) == chunk.height
    fast = sums.price_chunk(chunk, how)
    monkeypatch.setattr(sums, "by_shape", _per_call)
    slow = sums.price_chunk(chunk, how)
    assert fast.rows == slow.rows == chunk.height
    assert fast.unpriced_fx == slow.unpriced_fx
    keys = DAY_KEYS
    assert_frame_equal(
        fast.days.sort(keys, nulls_last=True),
        slow.days.sort(keys, nulls_last=True),
        check_exact=True,
    )
    assert_frame_equal(fast.unpriced.sort("reason"), slow.unpriced.sort("reason"))
    if alternatives:
        assert fast.alternatives is not None
        assert slow.alternatives is not None
        alt_keys = ["month", "model", "offer_id", "provider", "currency"]
        fast_alt = fast.alternatives.sort(alt_keys, nulls_last=True)
        slow_alt = slow.alternatives.sort(alt_keys, nulls_last=True)
        assert_frame_equal(fast_alt, slow_alt, check_exact=True)


def test_chunks_that_need_calls_are_priced_call_by_call() -> None:
    cat = pricing.load_catalog()
    chunk = log_requests(_log(500, OFFERS), catalog=cat).collect()
    assert by_shape(chunk, cat, None, per_call=False) is None  # a subscription offer's calls
    flat = chunk.filter(pl.col("offer_id") != "midjourney/basic")
    assert by_shape(flat, cat, None, per_call=True) is None  # a FOCUS dataset's
    assert by_shape(flat.drop("count"), cat, None, per_call=False) is None
    billed = flat.with_columns(billed_cost=pl.lit(0.01))
    assert by_shape(billed, cat, None, per_call=False) is None
    pairs = pl.DataFrame({"_model": [cat.offer(FLAT[0]).model], "alt_offer": ["midjourney/basic"]})
    assert by_shape(flat, cat, pairs, per_call=False) is None  # re-priced with volumes
    assert by_shape(flat, cat, pairs.clear(), per_call=False) is not None


@pytest.mark.parametrize("alternatives", [False, True])
def test_shapes_of_several_chunks_priced_at_once_sum_as_each_chunk_alone(
    alternatives: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamed chunks' shapes are held and priced together (one call for many chunks): the
    replay is the same, frame for frame, as each chunk priced alone or call by call; a log
    with a subscription offer (whole months) and bad rows, in batches of 600 rows."""
    path = tmp_path / "log.parquet"
    _log(5000, OFFERS, seed=3, bad=True).write_parquet(path)
    cat = pricing.load_catalog()
    calls: list[int] = []

    def counted(table: pl.DataFrame, catalog: pricing.Catalog) -> pl.DataFrame:
        calls.append(table.height)
        return price_requests(table, catalog)

    monkeypatch.setattr(sums, "price_requests", counted)

    def run(at_once: int) -> tuple[tuple[object, ...], int]:
        monkeypatch.setattr(sums, "SHAPES_AT_ONCE", at_once)
        calls.clear()
        r = pricing.replay(path, catalog=cat, alternatives=alternatives, batch_rows=600)
        return _result(r), len(calls)

    held, few = run(400_000)  # every streamed chunk's shapes in one call
    every, many = run(1)  # a call per chunk, as before shapes were held
    some, between = run(700)  # a call each time the held shapes reach 700 rows
    monkeypatch.setattr(sums, "by_shape", _per_call)
    one_by_one, _ = run(400_000)
    streamed = 5000 // 600  # at least: the subscription offer's rows come as whole months
    assert few < between < many
    assert many >= streamed
    for other in (every, some, one_by_one):
        for a, b in zip(held, other, strict=True):
            if isinstance(a, pl.DataFrame):
                assert isinstance(b, pl.DataFrame)
                assert_frame_equal(a, b, check_exact=True)
            else:
                assert a == b


def _result(r: pricing.Replay) -> tuple[object, ...]:
    return (
        r.rows_read,
        r.rows_priced,
        r.rows_unpriced,
        r.total(),
        r.costs,
        r.days,
        r.alternatives,
        r.quarantine,
        r.unpriced,
        r.rows_default_size,
        r.rows_default_count,
    )


@pytest.mark.parametrize("alternatives", [False, True])
def test_a_typed_log_read_twice_replays_as_checked_once(
    alternatives: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _log(3000, OFFERS, seed=1, bad=True)
    path = tmp_path / "log.parquet"
    log.write_parquet(path)
    cat = pricing.load_catalog()
    twice = pricing.replay(path, catalog=cat, alternatives=alternatives, batch_rows=700)
    assert twice.rows_quarantined > 0
    monkeypatch.setattr(tally, "typed_log", lambda prepared: False)
    once = pricing.replay(path, catalog=cat, alternatives=alternatives, batch_rows=700)
    for a, b in zip(_result(twice), _result(once), strict=True):
        if isinstance(a, pl.DataFrame):
            assert isinstance(b, pl.DataFrame)
            assert_frame_equal(a, b, check_exact=True)
        else:
            assert a == b


def test_which_logs_are_read_twice(tmp_path: Path) -> None:
    from pricing._usage.offers import prepare_log

    cat = pricing.load_catalog()
    log = _log(50, FLAT)
    typed = prepare_log(log, cat, None, None, None)
    assert tally.typed_log(typed)
    text = prepare_log(log.with_columns(pl.col("timestamp").cast(pl.String)), cat, None, None, None)
    assert not tally.typed_log(text)
    sized = log.drop("width", "height").with_columns(size=pl.lit("1024x1024"))
    assert not tally.typed_log(prepare_log(sized, cat, None, None, None))


@pytest.mark.parametrize("layout", ["file", "directory"])
def test_a_log_written_to_during_the_replay_is_an_error(tmp_path: Path, layout: str) -> None:
    # a typed log is read twice (tallied, then priced): rows added in between would make
    # counts and costs of different logs, so the replay refuses to answer
    log = _log(2_000, FLAT, seed=5)
    path = tmp_path / "usage.parquet"
    if layout == "directory":
        (tmp_path / "usage").mkdir()
        path = tmp_path / "usage" / "part-0.parquet"
    log.write_parquet(path)
    given = path if layout == "file" else path.parent

    def another_writer(done: int, total: int, label: str) -> None:
        log.vstack(log.head(10)).write_parquet(path)  # another writer, mid-replay

    with pytest.raises(pricing.PricingError, match="changed while it was replayed"):
        pricing.replay(given, alternatives=False, progress=another_writer)
    assert pricing.replay(given, alternatives=False).rows_read == 2_010  # once it is complete


def test_alternatives_count_the_images_of_a_log_without_a_count_column() -> None:
    # six one-image calls: without a count column each call is one image, on every offer
    start = datetime(2026, 10, 1, tzinfo=UTC)
    log = pl.DataFrame(
        {
            "timestamp": [start + timedelta(hours=h) for h in range(6)],
            "offer_id": ["bfl/flux-2-pro"] * 6,
            "width": [1024] * 6,
            "height": [1024] * 6,
        }
    )
    alternatives = pricing.replay(log).alternatives
    assert alternatives.height > 0
    assert alternatives["requests"].to_list() == [6] * alternatives.height
    assert alternatives["images"].to_list() == [6] * alternatives.height
    with_count = pricing.replay(log.with_columns(count=pl.lit(1))).alternatives
    assert_frame_equal(alternatives, with_count)

"""Self-hosting answers say what they rest on: no probability without a self-hosted option,
licences from the model cards (issue 17)."""

from __future__ import annotations

import polars as pl

import pricing

AS_OF = "2026-12-07"


def test_a_segment_without_self_hosted_options_says_why_not_zero() -> None:
    # agency: FLUX.2 [pro]/[max], FLUX1.1 [pro] Ultra and GPT Image 1.5 are closed weights;
    # FLUX.2 [dev] has no throughput evidence at 2048x2048.
    sim = pricing.simulate("agency", samples=20, seed=1, as_of=AS_OF)
    reasons = dict(sim.no_self_hosting.iter_rows())
    assert set(reasons) == {"key visuals", "client revisions"}
    assert "flux-2-pro: closed weights" in reasons["key visuals"]
    assert "flux-2-dev" in reasons["key visuals"]
    assert sim.self_hosting_cheaper is not None
    assert sim.self_hosting_cheaper["probability"].null_count() == sim.self_hosting_cheaper.height
    row = pricing.plan_options(sim)  # the headline says why, never "0%"
    assert row.height == 2
    from pricing._plan.summary import headline

    head = headline(sim, {})
    assert head["p_self_hosting_cheaper"].null_count() == 2
    assert head.filter(pl.col("no_self_hosting").is_null()).height == 0


def test_a_segment_with_self_hosted_options_gets_a_probability() -> None:
    sim = pricing.simulate("small", samples=20, seed=1, as_of=AS_OF)
    assert sim.no_self_hosting.height == 0
    assert sim.self_hosting_cheaper is not None
    assert sim.self_hosting_cheaper["probability"].null_count() == 0
